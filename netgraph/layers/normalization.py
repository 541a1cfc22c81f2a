"""Regularization and normalization layers: DropoutLayer, BatchNormalizationLayer,
NormalizationLayer.

WL arrays are channel-first: the channel dimension of BatchNormalizationLayer is the first
dimension of one example (the last with ``Interleaving=True``). Level specifications of
NormalizationLayer count the dimensions of one example from 1 (negative levels from the end).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import LayerError
from ..shapes import VARYING, PortType
from ..symbols import All
from .base import ArraySpec, Layer, PortMismatch, Types


def same_shape(ins: Types, outs: Types) -> tuple[Types, Types]:
    """"Input" and "Output" are real arrays of one shape (both directions)."""
    x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
    return {"Input": PortType(y.dims, "Real")}, {"Output": PortType(x.dims, "Real")}


def _number(head: str, name: str, value: Any, lo: float, hi: float | None = None,
            open_lo: bool = False) -> float:
    ok = isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = (v > lo if open_lo else v >= lo) and (hi is None or v <= hi)
    if not ok:
        span = f"{'>' if open_lo else '>='} {lo:g}" + ("" if hi is None else f" and <= {hi:g}")
        raise LayerError(head, f"expected {name} to be a number {span}, but received {value!r}.")
    return float(value)


def _given_arrays(opts: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Pop the array options; ``None`` (disabled array) is kept."""
    return {k: opts.pop(k) for k in names if k in opts}


def _vector_size(head: str, arrays: dict[str, Any]) -> int | None:
    """The common length of the given vector arrays (None when none is given)."""
    sizes = {k: np.shape(v) for k, v in arrays.items() if v is not None}
    for k, s in sizes.items():
        if len(s) != 1:
            raise LayerError(head, f'expected array "{k}" to be a vector, but received an array '
                             f"of dimensions {list(s)}.")
    lengths = {s[0] for s in sizes.values()}
    if len(lengths) > 1:
        raise LayerError(head, "expected the arrays to have one length, but received "
                         + ", ".join(f'"{k}" of length {s[0]}' for k, s in sizes.items()) + ".")
    return lengths.pop() if lengths else None


class DropoutLayer(Layer):
    """DropoutLayer(p): sets input elements to zero with probability p during training.

    ``DropoutLayer()`` uses p = 0.5. The kept elements are multiplied by 1/(1-p), so that
    evaluation (where the layer is the identity) needs no rescaling. ``Method="AlphaDropout"``
    keeps the mean and variance (for use with SELU).

    >>> DropoutLayer(0.2, Input=3)(np.array([1.0, 2.0, 3.0]))
    array([1., 2., 3.], dtype=float32)
    """

    time = "pointwise"

    options = ("Method",)

    def __init__(self, p: float = 0.5, **opts: Any) -> None:
        p = _number("DropoutLayer", "the dropout probability", p, 0.0, 1.0)
        self._init({"p": p, "method": opts.pop("Method", "Dropout")}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        _number("DropoutLayer", "the dropout probability", params["p"], 0.0, 1.0)
        method = params["method"]
        if method not in ("Dropout", "AlphaDropout"):
            raise LayerError("DropoutLayer", f'expected Method to be "Dropout" or "AlphaDropout", '
                             f"but received {method!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        return same_shape(ins, outs)

    def _param_repr(self) -> str:
        p = "" if self.params["p"] == 0.5 else f"{self.params['p']:g}"
        m = "" if self.params["method"] == "Dropout" else 'Method="AlphaDropout"'
        return ", ".join(s for s in (p, m) if s)


BN_ARRAYS = ("Scaling", "Biases", "MovingMean", "MovingVariance")
BN_ALIASES = {"Gamma": "Scaling", "Beta": "Biases"}   # WL's names before 11.3


class BatchNormalizationLayer(Layer):
    """BatchNormalizationLayer(): normalizes each channel with the batch mean and variance.

    The channel dimension is the first dimension of the input (the last with
    ``Interleaving=True``). In training the batch statistics are used and the moving
    estimates "MovingMean" and "MovingVariance" are updated (new = Momentum * old +
    (1 - Momentum) * batch); in evaluation the moving estimates are used. Learned arrays
    "Scaling" and "Biases" (WL's older names "Gamma" and "Beta" are accepted).
    Options "Epsilon" (0.001) and "Momentum" (0.9).

    >>> bn = NetInitialize(BatchNormalizationLayer(Input=(2, 3)))
    >>> sorted(bn.arrays)
    ['Biases', 'MovingMean', 'MovingVariance', 'Scaling']
    """

    time = "whole"  # statistics over every step

    options = ("Epsilon", "Momentum", "Interleaving") + BN_ARRAYS + tuple(BN_ALIASES)

    def __init__(self, **opts: Any) -> None:
        head = "BatchNormalizationLayer"
        for old, new in BN_ALIASES.items():
            if old in opts:
                opts[new] = opts.pop(old)
        eps = _number(head, "Epsilon", opts.pop("Epsilon", 0.001), 0.0, open_lo=True)
        momentum = _number(head, "Momentum", opts.pop("Momentum", 0.9), 0.0, 1.0)
        inter = opts.pop("Interleaving", False)
        arrays = _given_arrays(opts, BN_ARRAYS)
        for k, v in arrays.items():
            if v is None:
                raise LayerError(head, f'array "{k}" cannot be None.')
        self._init({"epsilon": eps, "momentum": momentum, "interleaving": inter,
                    "channels": _vector_size(head, arrays)}, opts, arrays)

    @classmethod
    def check_params(cls, params: Any) -> None:
        head = "BatchNormalizationLayer"
        _number(head, "Epsilon", params["epsilon"], 0.0, open_lo=True)
        _number(head, "Momentum", params["momentum"], 0.0, 1.0)
        if not isinstance(params["interleaving"], bool):
            raise LayerError(head, f"expected Interleaving to be True or False, but received "
                             f"{params['interleaving']!r}.")
        c = params["channels"]
        if c is not None and (isinstance(c, bool) or not isinstance(c, int) or c < 1):
            raise LayerError(head, f"expected a channel count, but received {c!r}.")

    def _param_repr(self) -> str:
        p, parts = self.params, []
        if p["epsilon"] != 0.001:
            parts.append(f'Epsilon={p["epsilon"]:g}')
        if p["momentum"] != 0.9:
            parts.append(f'Momentum={p["momentum"]:g}')
        return ", ".join(parts + (["Interleaving=True"] if p["interleaving"] else []))

    def channel_axis(self) -> int:
        """Axis of the channels in one example: 0, or -1 with Interleaving."""
        return -1 if self.params["interleaving"] else 0

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        cin, cout = same_shape(ins, outs)
        t = cin["Input"] if cin["Input"].dims is not None else cout["Output"]
        if t.dims is not None and len(t.dims) == 0:
            raise PortMismatch("Input", "an array of rank at least 1", t.describe())
        c = self.params["channels"]
        if t.dims is None:
            if c is None:
                return cin, cout
            return {"Input": PortType(None, "Real")}, {"Output": PortType(None, "Real")}
        dims = list(t.dims)
        ax = self.channel_axis()
        if dims[ax] is VARYING:
            raise PortMismatch("Input", "a fixed number of channels in its "
                               f"{'last' if ax else 'first'} dimension", t.describe())
        if c is not None and dims[ax] is not None and dims[ax] != c:
            raise PortMismatch("Input", f"{c} channels (the length of its arrays) in its "
                               f"{'last' if ax else 'first'} dimension", t.describe())
        if c is not None:
            dims[ax] = c
        full = PortType(tuple(dims), "Real")
        return {"Input": full}, {"Output": full}

    def array_specs(self) -> dict[str, ArraySpec]:
        t = self.in_types.get("Input", PortType())
        c = self.params["channels"]
        if c is None and t.dims:
            c = t.dims[self.channel_axis()]
        shape = (c,) if isinstance(c, int) else None
        return {"Scaling": ArraySpec(shape, "ones"), "Biases": ArraySpec(shape, "biases"),
                "MovingMean": ArraySpec(shape, "zeros", auxiliary=True),
                "MovingVariance": ArraySpec(shape, "ones", auxiliary=True)}


# -- NormalizationLayer ------------------------------------------------------------------

LevelSpec = Any


def parse_levels(head: str, spec: LevelSpec, what: str, allow_names: bool = False) -> Any:
    """Normalize a WL level spec: an int, a list of ints, a span, All (or a name).

    A span is ``Span(a, b)`` or ``slice(a, b)``, both meaning WL's ``a;;b`` (b included, as in
    WL; ``slice(2, None)`` is ``2;;All``), or the string ``"a;;b"``.
    """
    if allow_names and spec in ("Complement", "Same"):
        return spec
    if spec is All or spec == "All":
        return ("span", 1, -1)
    if isinstance(spec, str) and ";;" in spec:
        a, _, b = spec.partition(";;")
        try:
            return ("span", int(a or 1), -1 if b.strip() in ("", "All") else int(b))
        except ValueError:
            pass
    if hasattr(spec, "start") and hasattr(spec, "stop") and getattr(spec, "step", 1) in (None, 1):
        a, b = spec.start, spec.stop  # a slice, or a Span (WL's a;;b)
        if (a is None or _level_int(a)) and (b is None or b is All or _level_int(b)):
            return ("span", 1 if a is None else a, -1 if b is None or b is All else b)
    if _level_int(spec):
        return ("list", (spec,))
    if isinstance(spec, (list, tuple)) and all(_level_int(v) for v in spec):
        return ("list", tuple(spec))
    names = ', "Complement", "Same"' if allow_names else ""
    raise LayerError(head, f"expected the {what} to be a nonzero level, a list of levels, a "
                     f"span such as slice(2, None) (WL 2;;All) or \"2;;All\", or All{names}, "
                     f"but received {spec!r}.")


def check_levels(head: str, spec: Any, what: str, allow_names: bool = False) -> None:
    """Raise LayerError unless ``spec`` is what :func:`parse_levels` returns."""
    if allow_names and isinstance(spec, str) and spec in ("Complement", "Same"):
        return
    if isinstance(spec, tuple) and len(spec) == 3 and spec[0] == "span" and all(
            _level_int(v) for v in spec[1:]):
        return
    if isinstance(spec, tuple) and len(spec) == 2 and spec[0] == "list" and isinstance(
            spec[1], tuple) and all(_level_int(v) for v in spec[1]):
        return
    parse_levels(head, spec, what, allow_names)  # raises, naming what it expects
    raise LayerError(head, f"expected the {what} as a level spec, but received {spec!r}.")


def _level_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v != 0


def level_set(spec: Any, rank: int) -> tuple[int, ...] | str:
    """The 0-based axes of one example named by a parsed level spec, or an error message."""
    def axis(level: int) -> int | None:
        a = level - 1 if level > 0 else rank + level
        return a if 0 <= a < rank else None
    if spec[0] == "span":
        lo, hi = axis(spec[1]), axis(spec[2])
        if lo is None or hi is None:
            return f"the levels {_span_str(spec)} exceed the rank of the input ({rank})"
        return tuple(range(lo, hi + 1))
    axes = [axis(v) for v in spec[1]]
    if any(a is None for a in axes):
        return f"the levels {list(spec[1])} exceed the rank of the input ({rank})"
    return tuple(sorted(set(axes)))  # type: ignore[arg-type]


def _span_str(spec: Any) -> str:
    return f"{spec[1]};;{'All' if spec[2] == -1 else spec[2]}"


def levels_repr(spec: Any) -> str:
    if spec in ("Complement", "Same"):
        return f'"{spec}"'
    if spec[0] == "span":
        return f'"{_span_str(spec)}"'
    return str(spec[1][0]) if len(spec[1]) == 1 else str(list(spec[1]))


class NormalizationLayer(Layer):
    """NormalizationLayer(aggregation, scaling): normalizes over levels, then scales and shifts.

    ``NormalizationLayer()`` normalizes over levels 2;;All (every dimension but the first)
    and applies learned "Scaling" and "Biases" per component of the first dimension.
    ``NormalizationLayer(-1, "Same")`` is the usual layer normalization of sequences of
    vectors. Levels: an int (negative from the end), a list, ``slice(a, b)`` or ``"a;;b"``
    for WL's span ``a;;b`` (b included), All; scaling levels also "Complement" (the default)
    and "Same". Options "Epsilon" (0.001), Method ("Standardize" or "RMS"), "Unbiased"
    (False); ``Scaling=None``/``Biases=None`` disable the affine part.

    >>> NormalizationLayer(Input=(2, 3)).array_specs()["Scaling"].shape
    (2,)
    """

    time = "whole"

    options = ("Epsilon", "Method", "Unbiased", "Scaling", "Biases", "AggregationLevels",
               "ScalingLevels")

    def __init__(self, aggregation: LevelSpec = "2;;All", scaling: LevelSpec = "Complement",
                 **opts: Any) -> None:
        head = "NormalizationLayer"
        agg = parse_levels(head, opts.pop("AggregationLevels", aggregation), "aggregation levels")
        sc = parse_levels(head, opts.pop("ScalingLevels", scaling), "scaling levels", True)
        eps = _number(head, "Epsilon", opts.pop("Epsilon", 0.001), 0.0, open_lo=True)
        method = opts.pop("Method", "Standardize")
        unbiased = opts.pop("Unbiased", False)
        arrays = _given_arrays(opts, ("Scaling", "Biases"))
        params = {"aggregation": agg, "scaling": sc, "epsilon": eps, "method": method,
                  "unbiased": unbiased, "use": {k: arrays.get(k, 0) is not None
                                               for k in ("Scaling", "Biases")}}
        self._init(params, opts, {k: v for k, v in arrays.items() if v is not None})

    @classmethod
    def check_params(cls, params: Any) -> None:
        """Epsilon, Method, Unbiased and the array switches as the constructor stores them."""
        head = "NormalizationLayer"
        check_levels(head, params["aggregation"], "aggregation levels")
        check_levels(head, params["scaling"], "scaling levels", True)
        eps = params["epsilon"]
        if not isinstance(eps, float) or not math.isfinite(eps):
            raise LayerError(head, f"expected Epsilon to be a finite number, but received {eps!r}.")
        _number(head, "Epsilon", eps, 0.0, open_lo=True)
        if params["method"] not in ("Standardize", "RMS"):
            raise LayerError(head, f'expected Method to be "Standardize" or "RMS", but '
                             f"received {params['method']!r}.")
        if not isinstance(params["unbiased"], bool):
            raise LayerError(head, f"expected Unbiased to be True or False, but received "
                             f"{params['unbiased']!r}.")
        use = params["use"]
        if not (isinstance(use, dict) and set(use) == {"Scaling", "Biases"}
                and all(isinstance(v, bool) for v in use.values())):
            raise LayerError(head, f"expected the Scaling and Biases switches, but received "
                             f"{use!r}.")

    def axes(self, rank: int, received: str | None = None
             ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(aggregation axes, scaling axes) of one example of the given rank (0-based)."""
        agg = level_set(self.params["aggregation"], rank)
        if isinstance(agg, str):
            raise PortMismatch("Input", f"an array whose rank fits the aggregation levels "
                               f"({agg})", received)
        sc = self.params["scaling"]
        if sc == "Complement":
            return agg, tuple(a for a in range(rank) if a not in agg)
        if sc == "Same":
            return agg, agg
        scal = level_set(sc, rank)
        if isinstance(scal, str):
            raise PortMismatch("Input", f"an array whose rank fits the scaling levels ({scal})",
                               received)
        return agg, scal

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        cin, cout = same_shape(ins, outs)
        t = cin["Input"] if cin["Input"].dims is not None else cout["Output"]
        if t.dims is not None:
            _, sc = self.axes(len(t.dims), t.describe())
            if any(t.dims[a] is VARYING for a in sc):
                raise PortMismatch("Input", "fixed dimensions at the scaling levels (Scaling "
                                   "and Biases cannot have a varying length)", t.describe())
        return cin, cout

    def array_specs(self) -> dict[str, ArraySpec]:
        t = self.in_types.get("Input", PortType())
        shape = None
        if t.dims is not None:
            _, sc = self.axes(len(t.dims))
            dims = tuple(t.dims[a] for a in sc)
            if all(isinstance(d, int) for d in dims):
                shape = tuple(int(d) for d in dims)  # type: ignore[arg-type]
        specs = {"Scaling": ArraySpec(shape, "ones"), "Biases": ArraySpec(shape, "biases")}
        return {k: s for k, s in specs.items() if self.params["use"][k]}

    def _param_repr(self) -> str:
        agg, sc = self.params["aggregation"], self.params["scaling"]
        if sc == "Complement":
            return "" if agg == ("span", 2, -1) else levels_repr(agg)
        return f"{levels_repr(agg)}, {levels_repr(sc)}"
