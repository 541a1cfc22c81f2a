"""Basic and elementwise layers: LinearLayer, ElementwiseLayer, ThreadingLayer, SoftmaxLayer."""
from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from ..errors import LayerError
from ..shapes import REAL_ANY, PortType, parse, real
from ..symbols import ELEMENTWISE, THREADING, Divide, Power, Subtract, Symbol
from .base import ArraySpec, Layer, PortMismatch, Types


def _size_spec(head: str, n: Any) -> tuple[int, ...] | None:
    """LinearLayer's n: None (inferred), an int, a tuple of ints, or "Real"/() for a scalar."""
    if n is None:
        return None
    if n in ("Real", "Scalar") or n == ():
        return ()
    t = parse(n, head, "the output size")
    if t.dims is None or not all(isinstance(d, int) for d in t.dims):
        raise LayerError(head, f"expected an output size (a positive int or a tuple of them), "
                         f"but received {n!r}.")
    return tuple(int(d) for d in t.dims)  # type: ignore[arg-type]


class LinearLayer(Layer):
    """LinearLayer(n): a trainable fully connected layer computing w . x + b.

    ``LinearLayer()`` infers its size from what it feeds; ``LinearLayer((m, n))`` outputs an
    array; ``LinearLayer("Real")`` a scalar. Arrays "Weights" (n x m) and "Biases" (n).

    >>> LinearLayer(3, Input=2).array_specs()["Weights"].shape
    (3, 2)
    """

    time = "pointwise"

    options = ("Weights", "Biases", "LearningRateMultipliers")

    def __init__(self, n: Any = None, **opts: Any) -> None:
        arrays = {k: opts.pop(k) for k in ("Weights", "Biases") if k in opts}
        params = {"size": _size_spec("LinearLayer", n),
                  "biases": not (arrays.get("Biases", 0) is None and "Biases" in arrays)}
        self._init(params, opts, {k: v for k, v in arrays.items() if v is not None})

    @classmethod
    def check_params(cls, params: Any) -> None:
        size, biases = params["size"], params["biases"]
        if size is not None and (not isinstance(size, tuple) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in size)):
            raise LayerError("LinearLayer", f"expected an output size (a tuple of positive "
                             f"ints), but received {size!r}.")
        if not isinstance(biases, bool):
            raise LayerError("LinearLayer", f"expected the biases switch to be True or False, "
                             f"but received {biases!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        size = self.params["size"]
        out = REAL_ANY if size is None else real(*size)
        return {"Input": REAL_ANY}, {"Output": out}

    def array_specs(self) -> dict[str, ArraySpec]:
        n = self.out_types.get("Output", REAL_ANY).size()
        m = self.in_types.get("Input", REAL_ANY).size()
        shape = None if n is None or m is None else (n, m)
        specs = {"Weights": ArraySpec(shape, "weights", m, n)}
        if self.params["biases"]:
            specs["Biases"] = ArraySpec(None if n is None else (n,), "biases")
        return specs

    def _param_repr(self) -> str:
        size = self.params["size"]
        if size is None:
            return ""
        return '"Real"' if size == () else (str(size[0]) if len(size) == 1 else str(size))


def _function(head: str, f: Any, known: Collection[Symbol]) -> Any:
    """A layer's function argument: one of the ``known`` symbols (or its name) or a callable."""
    if isinstance(f, str):
        f = Symbol(f)
    check_function(head, f, known)
    return f


def check_function(head: str, f: Any, known: Collection[Symbol]) -> None:
    """Raise unless ``f`` is one of the ``known`` symbols or a callable (not a name)."""
    if isinstance(f, Symbol) and f not in known:
        raise LayerError(head, f"unknown function {f}; expected one of "
                         f"{', '.join(sorted(s.name for s in known))} or a callable.")
    if not isinstance(f, Symbol) and (isinstance(f, str) or not callable(f)):
        raise LayerError(head, f"expected a function, but received {f!r}.")


def _function_name(f: Any) -> str:
    if isinstance(f, Symbol):
        return f.name
    return getattr(f, "__name__", repr(f))


class ElementwiseLayer(Layer):
    """ElementwiseLayer(f): applies f to every element; f is Ramp, Tanh, ... or a callable.

    The callable receives a torch tensor and must return one of the same shape.

    >>> ElementwiseLayer(Tanh)
    ElementwiseLayer(Tanh)...
    """

    time = "pointwise"
    function_params = ("function",)

    def __init__(self, f: Any, **opts: Any) -> None:
        self._init({"function": _function("ElementwiseLayer", f, ELEMENTWISE)}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        check_function("ElementwiseLayer", params["function"], ELEMENTWISE)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        t = ins.get("Input", REAL_ANY)
        o = outs.get("Output", REAL_ANY)
        return {"Input": PortType(o.dims, "Real")}, {"Output": PortType(t.dims, "Real")}

    @property
    def commutes_with_max(self) -> bool:  # type: ignore[override]
        """Ramp only: it keeps the order of positive values, maps the rest to 0 with
        gradient 0, so max then Ramp routes the same gradient to the same element as Ramp
        then max (the first maximum of a window). A function that is merely nondecreasing
        (Tanh saturating to 1.0 in floats) may tie where its input does not, and move it."""
        f = self.params["function"]
        return isinstance(f, Symbol) and f.name == "Ramp"

    def _param_repr(self) -> str:
        return _function_name(self.params["function"])


class ThreadingLayer(Layer):
    """ThreadingLayer(f): combines several inputs of the same shape elementwise with f.

    f is Plus, Times, Subtract, Divide, Max, Min, Power or a callable of n tensors. Inputs are
    "Input1", ..., "Inputn"; the count comes from the connections (``[a, b] -> layer``) or
    ``InputPorts=n``.
    """

    time = "pointwise"
    variadic = True
    options = ("InputPorts",)
    function_params = ("function",)

    def __init__(self, f: Any, **opts: Any) -> None:
        f = _function("ThreadingLayer", f, THREADING)
        n = _input_count("ThreadingLayer", opts.pop("InputPorts", None))
        if f in BINARY and n is not None and n != 2:
            raise LayerError("ThreadingLayer", f"{f} takes exactly 2 inputs, but received {n}.")
        self._init({"function": f, "n": n}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        # the input count may be any positive count here: connections set it later, and
        # inference names the port a binary function cannot take
        check_function("ThreadingLayer", params["function"], THREADING)
        n = params["n"]  # 0 in a graph that connects none of its inputs
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise LayerError("ThreadingLayer", f"expected an input count, but received {n!r}.")

    @classmethod
    def input_ports_of(cls, params: Any) -> tuple[str, ...]:
        n = params.get("n") or 0
        return tuple(f"Input{i}" for i in range(1, n + 1))

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        f, n = self.params["function"], self.params.get("n") or 0
        if f in BINARY and n > 2:
            raise PortMismatch(f"Input{n}", f"no input ({f} takes exactly 2 inputs)",
                               f"{n} inputs")
        return _same_shape_all(self, ins, outs)

    def _param_repr(self) -> str:
        return _function_name(self.params["function"])


BINARY = frozenset({Subtract, Divide, Power})  # ThreadingLayer functions of exactly 2 inputs


def _input_count(head: str, n: Any) -> int | None:
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise LayerError(head, f"expected InputPorts to be a positive integer, but received {n!r}.")
    return n


def _same_shape_all(layer: Layer, ins: Types, outs: Types) -> tuple[Types, Types]:
    """All inputs and the output share one type (ThreadingLayer, TotalLayer)."""
    from ..shapes import UnifyError, unify
    t = outs.get("Output", REAL_ANY)
    for p in layer.input_ports():
        try:
            t = unify(t, ins.get(p, REAL_ANY))
        except UnifyError:
            raise PortMismatch(p, t.describe(), ins[p].describe()) from None
    return {p: t for p in layer.input_ports()}, {"Output": t}


class SoftmaxLayer(Layer):
    """SoftmaxLayer(): normalizes the last dimension to probabilities.

    ``SoftmaxLayer(level)`` normalizes another level (negative counts from the end).
    """

    def __init__(self, level: int = -1, **opts: Any) -> None:
        self._init({"level": level}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        level = params["level"]
        if isinstance(level, bool) or not isinstance(level, int) or level == 0:
            raise LayerError("SoftmaxLayer", f"expected a nonzero level, but received {level!r}.")

    @property
    def time(self) -> str:  # type: ignore[override]
        """A reduction over time when it normalizes level 1 (the time level of a sequence)."""
        lv = self.params["level"]
        return "reduce" if (lv if lv > 0 else self._rank() + lv + 1) == 1 else "pointwise"

    def time_fill(self) -> tuple[float, bool]:
        return -math.inf, False  # exp(-inf) = 0: padding takes no probability

    def _rank(self) -> int:
        x = self.in_types.get("Input")
        return len(x.dims or ()) if x is not None else 0

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        t = ins.get("Input", REAL_ANY)
        o = outs.get("Output", REAL_ANY)
        rank = len(t.dims) if t.dims is not None else None
        need = abs(self.params["level"])
        if rank is not None and rank < need:  # a scalar would be normalized across the batch
            raise PortMismatch("Input", f"an array of rank at least {need}", t.describe())
        return {"Input": PortType(o.dims, "Real")}, {"Output": PortType(t.dims, "Real")}

    def _param_repr(self) -> str:
        return "" if self.params["level"] == -1 else str(self.params["level"])

