"""Array operation layers: TotalLayer, DotLayer, AggregationLayer, SummationLayer, NetArrayLayer."""
from __future__ import annotations

import math
from typing import Any, TypeGuard

from ..errors import LayerError
from ..shapes import REAL, Dim, PortType, UnifyError, parse, unify_dim
from ..symbols import All, Max, Mean, Min, Symbol, Times, Total
from .base import ArraySpec, Layer, PortMismatch, Types
from .basic import _same_shape_all
from .levels import (
    Span,
    as_span,
    check_count,
    check_transposition,
    dims_list,
    level_count_error,
    parse_transposition,
    resolve_level,
    transposition_rank,
    transposition_repr,
    transposition_source,
    unify_dims,
    variadic_names,
    variadic_ports,
)


def _int(x: Any) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


class TotalLayer(Layer):
    """TotalLayer(): adds its inputs elementwise (all of the same shape).

    Inputs are "Input1", ..., "Inputn", from the connections ``([a, b], total)`` or
    ``InputPorts=n``; ``Output=dims`` fixes the shape of the output and of every input.

    >>> TotalLayer(InputPorts=3, Output=2).in_types["Input3"]
    2
    """

    time = "pointwise"

    variadic = True
    options = ("InputPorts",)

    def __init__(self, **opts: Any) -> None:
        count, ports = variadic_ports("TotalLayer", opts.pop("InputPorts", None))
        self._init({"n": count}, {**ports, **opts})

    @classmethod
    def check_params(cls, params: Any) -> None:
        check_count("TotalLayer", params.get("n"))  # no count yet: as variadic_names

    @classmethod
    def input_ports_of(cls, params: Any) -> tuple[str, ...]:
        return variadic_names(params)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        return _same_shape_all(self, ins, outs)


class DotLayer(Layer):
    """DotLayer(): the dot product of its inputs, as WL Dot (``a.b`` contracts the last level of
    a with the first level of b).

    Inputs are "Input1", ..., "Inputn" (n >= 2). ``DotLayer([spec1, spec2, ...])`` first
    transposes input i by speci (None, a pair ``(m, n)``, a list of pairs or a permutation list,
    as in TransposeLayer).

    >>> DotLayer(InputPorts=[(2, 3), 3])({"Input1": [[1, 0, 0], [0, 1, 0]], "Input2": [5, 6, 7]})
    array([5., 6.], dtype=float32)
    """

    time = "whole"

    variadic = True
    options = ("InputPorts",)

    def __init__(self, specs: Any = None, **opts: Any) -> None:
        count, ports = variadic_ports("DotLayer", opts.pop("InputPorts", None), least=2)
        if specs is not None and not (isinstance(specs, list) and specs):
            raise LayerError("DotLayer", f"expected a list of transpose specs, one per input, "
                             f"but received {specs!r}.")
        parsed = None if specs is None else tuple(
            None if s is None else parse_transposition("DotLayer", s) for s in specs)
        if parsed is not None and count is not None and len(parsed) != count:
            raise LayerError("DotLayer", f"expected {count} transpose specs (one per input), "
                             f"but received {len(parsed)}.")
        self._init({"n": count if count is not None else (len(parsed) if parsed else None),
                    "specs": parsed}, {**ports, **opts})

    @classmethod
    def check_params(cls, params: Any) -> None:
        check_count("DotLayer", params.get("n"))  # no count yet: as variadic_names
        specs, n = params["specs"], params.get("n")
        if specs is None:
            return
        if not (isinstance(specs, tuple) and specs and (n is None or len(specs) == n)):
            raise LayerError("DotLayer", f"expected a list of transpose specs, one per input, "
                             f"but received {specs!r}.")
        for s in specs:
            if s is not None:
                check_transposition("DotLayer", s)

    @classmethod
    def input_ports_of(cls, params: Any) -> tuple[str, ...]:
        return variadic_names(params)

    def source(self, i: int, rank: int) -> list[int]:
        """Input i's level for each level of its transposed form (identity without a spec)."""
        specs = self.params["specs"]
        spec = specs[i] if specs is not None and i < len(specs) else None
        if spec is None:
            return list(range(rank))
        src = transposition_source(spec, rank)
        if src is None:
            raise PortMismatch(self.input_ports()[i], f"an array of rank at least "
                               f"{transposition_rank(spec)}", f"an array of rank {rank}")
        return src

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        ports = self.input_ports()
        types = [ins.get(p, PortType()) for p in ports]
        y = outs.get("Output", PortType())
        if len(ports) < 2:
            return {}, {}
        ranks = self._ranks(ports, types, y)
        if ranks is None:
            return {}, {"Output": PortType(None, "Real")}
        srcs = [self.source(i, r) for i, r in enumerate(ranks)]
        eff: list[list[Dim]] = [[t.dims[s] if t.dims is not None else None for s in src]
               for t, src in zip(types, srcs, strict=False)]
        refs, pairs = self._fold(ports, types, ranks)
        if y.rank is not None and y.rank != len(refs):
            raise PortMismatch("Output", f"an array of rank {len(refs)}", y.describe())
        yd = dims_list(y, len(refs))
        for j, (i, k) in enumerate(refs):
            yd[j] = eff[i][k] = unify_dims(ports[i], [eff[i][k]], [yd[j]], types[i])[0]
        for (i, k), (m, _) in pairs:
            try:
                eff[i][k] = eff[m][0] = unify_dim(eff[i][k], eff[m][0])
            except UnifyError:
                raise PortMismatch(ports[m], f"size {eff[i][k]} at its first level (contracted "
                                   f"with the last level of {ports[i]})",
                                   types[m].describe()) from None
        back = {}
        for p, e, src in zip(ports, eff, srcs, strict=False):
            dims: list[Dim] = [None] * len(src)
            for j, s_ in enumerate(src):
                dims[s_] = e[j]
            back[p] = PortType(tuple(dims), None)
        return back, {"Output": PortType(tuple(yd), "Real")}

    @staticmethod
    def _fold(ports: tuple[str, ...], types: list[PortType], ranks: list[int]) -> tuple[
            list[tuple[int, int]], list[tuple[tuple[int, int], tuple[int, int]]]]:
        """Fold ((in1 . in2) . in3) ...: the output's levels as (input, level) references, and
        the contracted pairs of levels."""
        acc = [(0, k) for k in range(ranks[0])]
        pairs = []
        for i in range(1, len(ranks)):
            if not acc:
                raise PortMismatch(ports[i], "no input: the product of the previous inputs is "
                                   "a scalar", types[i].describe())
            pairs.append((acc[-1], (i, 0)))
            acc = acc[:-1] + [(i, k) for k in range(1, ranks[i])]
        return acc, pairs

    @staticmethod
    def _ranks(ports: tuple[str, ...], types: list[PortType], y: PortType) -> list[int] | None:
        """Every input's rank; one unknown rank follows from the output's."""
        for p, t in zip(ports, types, strict=False):
            if t.rank == 0:
                raise PortMismatch(p, "an array of rank 1 or more", t.describe())
        ranks = [t.rank for t in types]
        missing = [i for i, r in enumerate(ranks) if r is None]
        if len(missing) == 1 and y.rank is not None:
            r = y.rank + 2 * (len(ports) - 1) - sum(r for r in ranks if r is not None)
            if r < 1:
                raise PortMismatch("Output", f"an array of rank at least "
                                   f"{y.rank - r + 1}", y.describe())
            ranks[missing[0]] = r
        return None if None in ranks else ranks  # type: ignore[return-value]

    def _param_repr(self) -> str:
        specs = self.params["specs"]
        if specs is None:
            return ""
        return "[" + ", ".join("None" if s is None else transposition_repr(s) for s in specs) + "]"


AGGREGATORS = (Max, Min, Total, Mean, Times)


def _levels_spec(levels: Any) -> Any:
    levels = as_span(levels)
    if levels is All or isinstance(levels, Span):
        return levels
    if _int(levels) and levels != 0:
        return (levels,)
    if isinstance(levels, list) and levels and all(_int(v) and v != 0 for v in levels) \
            and len(set(levels)) == len(levels):
        return tuple(levels)
    raise LayerError("AggregationLayer", "expected the levels to be a nonzero integer, a "
                     "Span(n1, n2), a list of distinct levels or All, but received "
                     f"{levels!r}.")


# The identity of each aggregation: what fills the padding of a sequence before reducing.
REDUCTION_FILL = {"Total": 0.0, "Mean": 0.0, "Max": -math.inf, "Min": math.inf, "Times": 1.0}


class AggregationLayer(Layer):
    """AggregationLayer(f, levels): aggregates its input with f over the given levels.

    f is Max, Min, Total, Mean or Times. levels is a level n, ``Span(n1, n2)`` (WL ``n1;;n2``),
    a list ``[n1, n2, ...]`` or All; negative levels count from the end. As in WL,
    ``AggregationLayer(f)`` is ``AggregationLayer(f, Span(2, All))``: an array of dimensions
    {d1, ..., dn} gives a vector of size d1.

    >>> AggregationLayer(Max, Input=(2, 3))([[1, 5, 2], [7, 0, 3]])
    array([5., 7.], dtype=float32)
    """

    function_params = ("function",)

    def __init__(self, f: Any, levels: Any = None, **opts: Any) -> None:
        if isinstance(f, str):
            f = Symbol(f)
        spec = Span(2, All) if levels is None else _levels_spec(levels)
        self._init({"function": f, "levels": spec, "default": levels is None}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        f, spec, default = params["function"], params["levels"], params["default"]
        if f not in AGGREGATORS:
            raise LayerError("AggregationLayer", f"unknown aggregation function {f!r}; expected "
                             f"one of {', '.join(map(repr, AGGREGATORS))}.")
        if not (spec is All or isinstance(spec, Span)
                or (isinstance(spec, tuple) and _levels_spec(list(spec)) == spec)):
            raise LayerError("AggregationLayer", f"expected levels, but received {spec!r}.")
        if not isinstance(default, bool):
            raise LayerError("AggregationLayer", "expected the default-levels switch to be True "
                             f"or False, but received {default!r}.")

    @property
    def time(self) -> str:  # type: ignore[override]
        """A reduction over time when level 1 (the time level of a sequence) is aggregated."""
        x = self.in_types.get("Input")
        try:
            levels = self.aggregated(len(x.dims or ()) if x is not None else 0)
        except Exception:  # noqa: BLE001 - an unusual level spec: treat as needing whole ones
            return "whole"
        return "reduce" if 0 in levels else "pointwise"

    def time_fill(self) -> tuple[float, bool]:
        f = self.params["function"].name
        return REDUCTION_FILL[f], f == "Mean"

    def aggregated(self, rank: int) -> list[int]:
        """The 0-based levels aggregated for an input of this rank."""
        spec = self.params["levels"]
        if spec is All:
            return list(range(rank))
        if isinstance(spec, Span):
            idx = spec.indices(rank)
            need = max(abs(v) for v in (spec.start, spec.stop) if _int(v))
            if idx is None:
                raise level_count_error("Input", need, PortType((None,) * rank))
            return sorted(idx)
        out = [resolve_level(v, rank) for v in spec]
        if None in out:
            raise level_count_error("Input", max(abs(v) for v in spec), PortType((None,) * rank))
        return sorted(out)  # type: ignore[arg-type]

    def input_rank(self, out_rank: int | None) -> int | None:
        """The input rank from the output's, when the levels do not depend on it."""
        spec = self.params["levels"]
        if out_rank is None or spec is All:
            return None
        if isinstance(spec, Span):
            ends = (spec.start, spec.stop)
            if all(_int(v) and v > 0 for v in ends) and spec.step == 1:
                return out_rank + abs(spec.stop - spec.start) + 1
            return None
        return out_rank + len(spec) if all(v > 0 for v in spec) else None

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        rank = x.rank if x.rank is not None else self.input_rank(y.rank)
        if rank is None:
            return {"Input": PortType(None, None)}, {"Output": PortType(None, "Real")}
        try:
            agg = self.aggregated(rank)
        except PortMismatch as e:
            raise PortMismatch(e.port, e.expected, x.describe() if x.rank is not None
                               else f"an array of rank {rank}") from None
        keep = [k for k in range(rank) if k not in agg]
        if y.rank is not None and y.rank != len(keep):
            raise PortMismatch("Output", f"an array of rank {len(keep)}", y.describe())
        xd, yd = dims_list(x, rank), dims_list(y, len(keep))
        kept = unify_dims("Input", [xd[k] for k in keep], yd, x)
        for k, d in zip(keep, kept, strict=False):
            xd[k] = d
        return {"Input": PortType(tuple(xd), None)}, {"Output": PortType(tuple(kept), "Real")}

    def _param_repr(self) -> str:
        f = self.params["function"].name
        if self.params["default"]:
            return f
        spec = self.params["levels"]
        if isinstance(spec, tuple):
            return f"{f}, {spec[0] if len(spec) == 1 else list(spec)}"
        return f"{f}, {spec!r}"


class SummationLayer(Layer):
    """SummationLayer(): the sum of all elements of its input, a "Real".

    It is ``AggregationLayer(Total, All)``.

    >>> SummationLayer(Input=(2, 2))([[1, 2], [3, 4]])
    10.0
    """

    time = "reduce"  # over every level: time included

    def __init__(self, **opts: Any) -> None:
        self._init({}, opts)

    def time_fill(self) -> tuple[float, bool]:
        return 0.0, False

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        return {}, {"Output": REAL}


class NetArrayLayer(Layer):
    """NetArrayLayer(): a layer with no input whose output is a learned array "Array".

    ``NetArrayLayer(Array=values)`` gives its value; ``NetArrayLayer(Output=dims)`` its shape
    (else inferred from where the output goes). Evaluate it with ``layer()``. In a batch, its
    output has batch size 1 and broadcasts against the other inputs of the next layer.

    >>> NetArrayLayer(Array=[[1, 2], [3, 4]])()
    array([[1., 2.],
           [3., 4.]], dtype=float32)
    """

    time = "pointwise"  # it has no inputs

    inputs = ()
    options = ("Array", "LearningRateMultipliers")

    def __init__(self, **opts: Any) -> None:
        arr = opts.pop("Array", None)
        if arr is not None:
            arr = self._check_array(arr, opts.get("Output"))
            opts.setdefault("Output", arr.shape if arr.ndim else "Real")
        self._init({}, opts, {} if arr is None else {"Array": arr})

    @staticmethod
    def _check_array(arr: Any, out: Any) -> Any:
        import numpy as np
        try:
            a = np.asarray(arr, dtype=np.float32)
        except (TypeError, ValueError):
            raise LayerError("NetArrayLayer", f"expected \"Array\" to be a numeric array, but "
                             f"received {arr!r}.") from None
        if out is not None:
            want = parse(out, "NetArrayLayer", 'port "Output"')
            if want.dims is not None and (len(want.dims) != a.ndim or any(
                    _int(d) and d != s for d, s in zip(want.dims, a.shape, strict=False))):
                raise LayerError("NetArrayLayer", f"the \"Array\" has dimensions "
                                 f"{list(a.shape)}, but \"Output\" is {want.describe()}.")
        return a

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        arr = getattr(self, "arrays", {}).get("Array")
        if arr is not None:
            return {}, {"Output": PortType(tuple(arr.shape), "Real")}
        y = outs.get("Output", PortType())
        for d in y.dims or ():
            if not (_int(d) or d is None):
                raise PortMismatch("Output", "an array of fixed dimensions (not \"Varying\")",
                                   y.describe())
        return {}, {"Output": PortType(y.dims, "Real")}

    def array_specs(self) -> dict[str, ArraySpec]:
        dims = self.out_types.get("Output", PortType()).dims
        shape = None if dims is None or not all(_int(d) for d in dims) else tuple(dims)
        return {"Array": ArraySpec(shape, "weights")}  # type: ignore[arg-type]
