"""Custom layers: FunctionLayer (a Python function over torch tensors) and PlaceholderLayer
(a declared stand-in that computes nothing).

A FunctionLayer's output shapes come from running its function on torch's "meta" device
(``netgraph.backend.custom.shape_function``, reached through the "function_shapes" upcall that
``netgraph`` registers); torch is loaded for that only when a FunctionLayer's input shapes
are first known, as the evaluator is loaded by the first evaluation.
"""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from ..errors import LayerError, ShapeError
from ..shapes import PortType, parse
from ..symbols import Automatic
from .base import UPCALLS, ArraySpec, Layer, Types
from .levels import _is_int


def argument_ports(head: str, f: Any) -> tuple[str, ...]:
    """The input ports of a function argument: "Input" for a function of one argument, the
    argument names for several (WL names ports after a function's named slots)."""
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        raise LayerError(head, f"cannot read the arguments of {f!r}.") from None
    names = []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise LayerError(head, f"expected a function of named arguments, but {p.name!r} "
                             "takes any number of them (*args/**kwargs).")
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty:
            raise LayerError(head, f"expected positional arguments, but {p.name!r} is "
                             "keyword-only.")
        if p.kind is not p.KEYWORD_ONLY and p.default is p.empty:
            names.append(p.name)
    if not names:
        raise LayerError(head, "expected a function of at least one argument (an input port), "
                         "but it takes none.")
    return ("Input",) if len(names) == 1 else tuple(names)


def _shaper() -> Callable[[Any, tuple[str, ...], tuple[PortType, ...]], dict[str, PortType]]:
    return UPCALLS["function_shapes"]


@functools.lru_cache(maxsize=256)
def _shapes(f: Any, names: tuple[str, ...], types: tuple[PortType, ...]) -> dict[str, PortType]:
    return _shaper()(f, names, types)


def function_shapes(f: Any, names: tuple[str, ...], types: tuple[PortType, ...]
                    ) -> dict[str, PortType]:
    """The output ports and types of ``f`` on examples of ``types`` (cached by function and
    types); raises LayerError with the reason when ``f`` cannot run on them."""
    try:
        hash(f)
    except TypeError:  # an unhashable callable: shaped every time
        return _shaper()(f, names, types)
    return dict(_shapes(f, names, types))


class _ListedPorts(Layer):
    """A layer whose port names are listed in its params "inputs" and "outputs"."""

    @classmethod
    def input_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(params["inputs"])

    @classmethod
    def output_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(params["outputs"])

    @classmethod
    def check_names(cls, params: Mapping[str, Any], keys: tuple[str, ...]) -> None:
        """Raise LayerError unless each of ``keys`` holds distinct names, and no port is both
        an input and an output."""
        for key in keys:
            v = params[key]
            if not isinstance(v, tuple) or not all(isinstance(s, str) for s in v) or \
                    len(set(v)) != len(v):
                raise LayerError(cls.__name__, f"expected distinct {key} names, but "
                                 f"received {v!r}.")
        both = sorted(set(params["inputs"]) & set(params["outputs"]))
        if both:
            raise LayerError(cls.__name__, f"a port cannot be both an input and an output "
                             f"({', '.join(both)}).")


class FunctionLayer(_ListedPorts):
    """FunctionLayer(f): a layer that applies f, a Python function over torch tensors.

    f is written for one example (as in WL; netgraph maps it over the batch with
    ``torch.vmap``). A function of one argument has the input port "Input"; a function of
    several has one port per argument name (WL names ports after a function's named slots).
    f returns a tensor (port "Output") or a dict of tensors (one output port per key). Give
    the input shapes (``FunctionLayer(f, Input=3)``, or from a graph); the output shapes are
    found by running f on torch's "meta" device, so a function that cannot run on such
    inputs (data-dependent Python control flow, ``.item()``, numpy calls) is refused with
    the reason. The lowered net calls f directly, so it works with torch.compile and
    torch.export. A .netgraph file cannot hold Python code: Export it to ONNX instead.

    >>> import torch
    >>> FunctionLayer(lambda x: torch.sin(x) * 2, Input=2)([0.0, 0.5])
    array([0.       , 0.9588511], dtype=float32)
    """

    time = "whole"  # any function of the whole example

    def __init__(self, f: Any, **opts: Any) -> None:
        if not callable(f):
            raise LayerError("FunctionLayer", f"expected a function over torch tensors, but "
                             f"received {f!r}.")
        ins = argument_ports("FunctionLayer", f)
        shapes = {p: parse(opts[p], "FunctionLayer", f'port "{p}"') for p in ins
                  if opts.get(p) is not None}
        outs: tuple[str, ...] = ("Output",)
        if len(shapes) == len(ins) and all(t.dims is not None for t in shapes.values()):
            outs = tuple(function_shapes(f, ins, tuple(shapes[p] for p in ins)))
        self._init({"function": f, "inputs": ins, "outputs": outs}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        f = params.get("function")
        if not callable(f):
            raise LayerError("FunctionLayer", f"expected a function over torch tensors, but "
                             f"received {f!r}.")
        cls.check_names(params, ("inputs", "outputs"))
        if params["inputs"] != argument_ports("FunctionLayer", f) or not params["outputs"]:
            raise LayerError("FunctionLayer", f"expected the input ports named after the "
                             f"function's arguments {argument_ports('FunctionLayer', f)} and at "
                             f"least one output, but received {params['inputs']!r} and "
                             f"{params['outputs']!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        names = self.input_ports()
        types = tuple(ins.get(p, PortType()) for p in names)
        if any(t.dims is None for t in types) or not all(
                d is not None for t in types for d in t.dims or ()):
            return {}, {}
        found = function_shapes(self.params["function"], names, types)
        if tuple(found) != self.output_ports():
            raise ShapeError("FunctionLayer", f"the function gives the outputs "
                             f"{', '.join(found)}, but the layer has the output ports "
                             f"{', '.join(self.output_ports())} (they were fixed before the "
                             "input shapes were known); give the input shapes when "
                             "constructing it, e.g. FunctionLayer(f, Input=3).")
        return {}, found

    def _param_repr(self) -> str:
        f = self.params["function"]
        return getattr(f, "__name__", type(f).__name__)


def _ports(head: str, spec: Any, default: str, side: str) -> dict[str, PortType]:
    """PlaceholderLayer's InputPorts/OutputPorts: Automatic, n, names, shapes or a dict."""
    if spec is Automatic or spec is None:
        return {default: PortType()}
    if _is_int(spec) and spec >= 1:
        names = [default] if spec == 1 else [f"{default}{i}" for i in range(1, spec + 1)]
        return {n: PortType() for n in names}
    if isinstance(spec, Mapping) and spec and all(isinstance(k, str) for k in spec):
        return {k: parse(v, head, f'{side} port "{k}"') for k, v in spec.items()}
    if isinstance(spec, (list, tuple)) and spec:
        if all(isinstance(s, str) and s not in ("Real", "Integer", "Varying") for s in spec):
            if len(set(spec)) != len(spec):
                raise LayerError(head, f"expected distinct {side} port names, but received "
                                 f"{list(spec)!r}.")
            return {s: PortType() for s in spec}
        names = [default] if len(spec) == 1 else [f"{default}{i}"
                                                  for i in range(1, len(spec) + 1)]
        return {n: parse(s, head, f'{side} port "{n}"') for n, s in zip(names, spec,
                                                                         strict=True)}
    raise LayerError(head, f"expected {side.capitalize()}Ports to be Automatic, a number of "
                     f"ports, a list of names or shapes, or a dict of names and shapes, but "
                     f"received {spec!r}.")


class PlaceholderLayer(_ListedPorts):
    """PlaceholderLayer(tag, info): a declared stand-in for a layer netgraph cannot compute.

    It has the ports ``InputPorts``/``OutputPorts`` declare (Automatic: "Input" and
    "Output"; n; a list of names; a list of shapes; a dict of names and shapes) with the
    shapes given (``Input=3``...) or from its neighbours, and does no shape inference of its
    own. ``Arrays`` lists array names or gives a dict of arrays; they have no effect. A net
    that contains one can be edited, exported and inspected, but NetInitialize, evaluation
    and NetTrain refuse it, naming the placeholder: replace it with real layers
    (NetReplacePart).

    >>> PlaceholderLayer("MyOp", InputPorts=2, Output=3).input_ports()
    ('Input1', 'Input2')
    """

    time = "whole"  # computes nothing; refused before lowering

    options = ("Arrays", "InputPorts", "OutputPorts")
    stand_in: ClassVar[bool] = True   # initialization, lowering and training refuse it

    def __init__(self, tag: str | None = None, info: Mapping[str, Any] | None = None,
                 **opts: Any) -> None:
        head = "PlaceholderLayer"
        ins = _ports(head, opts.pop("InputPorts", Automatic), "Input", "input")
        outs = _ports(head, opts.pop("OutputPorts", Automatic), "Output", "output")
        arrays = opts.pop("Arrays", None)
        given: dict[str, Any] = {}
        if isinstance(arrays, Mapping):
            given = {str(k): np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
            names = tuple(given)
        elif arrays is None:
            names = ()
        elif isinstance(arrays, (list, tuple)) and all(isinstance(a, str) for a in arrays):
            names = tuple(arrays)
        else:
            raise LayerError(head, f'expected "Arrays" to be None, a list of array names or a '
                             f"dict of arrays, but received {arrays!r}.")
        params = {"tag": tag, "info": {} if info is None else (
                      dict(info) if isinstance(info, Mapping) else info), "inputs": tuple(ins),
                  "outputs": tuple(outs), "arrays": names}
        for p, t in list(ins.items()) + list(outs.items()):
            if t.dims is not None or t.kind is not None:
                opts.setdefault(p, t)
        self._init(params, opts, given)

    @classmethod
    def check_params(cls, params: Any) -> None:
        tag = params["tag"]
        if tag is not None and not isinstance(tag, str):
            raise LayerError("PlaceholderLayer", f"expected the tag to be a string, but "
                             f"received {tag!r}.")
        if not isinstance(params["info"], Mapping):
            raise LayerError("PlaceholderLayer", "expected the information to be a dict, but "
                             f"received {params['info']!r}.")
        cls.check_names(params, ("inputs", "outputs", "arrays"))

    def array_specs(self) -> dict[str, ArraySpec]:
        arrays = getattr(self, "arrays", {})
        return {k: ArraySpec(None if arrays.get(k) is None else tuple(arrays[k].shape))
                for k in self.params["arrays"]}

    def describe(self) -> str:
        """How errors name it: PlaceholderLayer("tag")."""
        tag = self.params["tag"]
        return "PlaceholderLayer" + ("" if tag is None else f'("{tag}")')

    def _param_repr(self) -> str:
        tag = self.params["tag"]
        return "" if tag is None else repr(tag)
