"""Layers that rearrange or select elements: ReshapeLayer, FlattenLayer, TransposeLayer, PartLayer.

All of them keep the element type (integers stay integers) and infer shapes both ways where the
spec allows it. Levels are WL levels of one example: 1-based, negative from the end.
"""
from __future__ import annotations

import math
from typing import Any, TypeGuard

from ..errors import LayerError
from ..shapes import VARYING, Dim, PortType, unify_dim
from ..symbols import All, Automatic, Inherited
from .base import Layer, PortMismatch, Types
from .levels import (
    UNTIED_LENGTH,
    Span,
    as_span,
    check_transposition,
    dims_list,
    level_count_error,
    parse_transposition,
    product,
    same,
    transposition_rank,
    transposition_repr,
    transposition_source,
    unify_dims,
)

Entry = tuple  # ("int", n) | ("in", i) | ("auto",): how one output dimension is made


def _int(x: Any) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


def _pass(x: PortType, y: PortType) -> tuple[Types, Types]:
    """Nothing but the element type can be said yet."""
    return {"Input": same(y, None)}, {"Output": same(x, None)}


def _check_rank(port: str, t: PortType, rank: int) -> None:
    if t.rank is not None and t.rank != rank:
        raise PortMismatch(port, f"an array of rank {rank}", t.describe())


def _reshape_spec(dims: Any) -> tuple:
    if dims == "ReferenceShape":
        raise LayerError("ReshapeLayer", 'the "ReferenceShape" spec is not supported; give the '
                         "dimensions (n1, n2, ...).")
    if dims in ("Real", "Scalar"):
        return ()
    items = list(dims) if isinstance(dims, (tuple, list)) else [dims]
    for d in items:
        if not ((_int(d) and d >= 1) or d in (Inherited, Automatic, All)):
            raise LayerError("ReshapeLayer", f"expected each dimension to be a positive integer, "
                             f"Inherited, Automatic or All, but received {d!r}.")
    for sym in (Automatic, All):
        if items.count(sym) > 1:
            raise LayerError("ReshapeLayer", f"expected at most one {sym} in the dimensions, but "
                             f"received {dims!r}.")
    return tuple(items)


class ReshapeLayer(Layer):
    """ReshapeLayer(dims): reshapes its input to dimensions dims (same elements, same order).

    Each entry of dims is a size, ``Inherited`` (the input's size at that level), ``Automatic``
    (inferred from the element count) or ``All`` (the input's remaining dimensions, in the manner
    of an ellipsis: entries after ``All`` align with the input's last levels).
    ``ReshapeLayer(())`` makes a one-element input a "Real".

    >>> ReshapeLayer((2, Automatic), Input=6)([1, 2, 3, 4, 5, 6])
    array([[1., 2., 3.],
           [4., 5., 6.]], dtype=float32)
    """

    def __init__(self, dims: Any, **opts: Any) -> None:
        self._init({"dims": _reshape_spec(dims)}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        dims = params["dims"]
        if not isinstance(dims, tuple):
            raise LayerError("ReshapeLayer", f"expected the dimensions {{n1, n2, ...}}, but "
                             f"received {dims!r}.")
        _reshape_spec(dims)

    def layout(self, rank: int | None) -> list[Entry] | None:
        """How each output dimension is made, for an input of this rank (None if not known)."""
        spec = self.params["dims"]
        if All in spec and rank is None:
            return None
        cut = spec.index(All) if All in spec else len(spec)
        pre, post = spec[:cut], spec[cut + 1:]
        need = len(pre) + len(post) if All in spec else _last(spec, Inherited) + 1
        if rank is not None and rank < need:
            raise PortMismatch("Input", f"an array of rank at least {need}",
                               f"an array of rank {rank}")
        lay = [_entry(d, i) for i, d in enumerate(pre)]
        if All in spec:
            lay += [("in", i) for i in range(len(pre), rank - len(post))]  # type: ignore[operator]
            lay += [_entry(d, rank - len(post) + j) for j, d in enumerate(post)]  # type: ignore
        return lay

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        lay = self.layout(x.rank)
        if lay is None:
            return _pass(x, y)
        _check_rank("Output", y, len(lay))
        yd = dims_list(y, len(lay))
        for j, e in enumerate(lay):
            if e[0] == "int":
                yd[j] = unify_dims("Output", [yd[j]], [e[1]], y)[0]
        if x.dims is None:
            return {"Input": PortType(None, y.kind, y.bound)}, {"Output": same(x, tuple(yd))}
        xd = list(x.dims)
        for j, e in enumerate(lay):
            if e[0] == "in":
                yd[j] = xd[e[1]] = unify_dims("Input", [xd[e[1]]], [yd[j]], x)[0]
        self._count(lay, xd, yd, x)
        return {"Input": same(y, tuple(xd))}, {"Output": same(x, tuple(yd))}

    @property
    def time(self) -> str:  # type: ignore[override]
        """Each step reshaped alone when the time level is copied (Inherited first)."""
        return "pointwise" if self.length_shift == 0 else "whole"

    @property
    def length_shift(self) -> int:  # type: ignore[override]
        """0 when a sequence keeps its time level (Inherited first), else untied."""
        try:
            lay = self.layout(self.in_types.get("Input", PortType()).rank)
        except PortMismatch:
            lay = None
        return 0 if lay and lay[0] == ("in", 0) else UNTIED_LENGTH

    def _count(self, lay: list[Entry], xd: list[Dim], yd: list[Dim], x: PortType) -> None:
        """Match the element counts of the levels that are not copied from the input."""
        copied = {e[1] for e in lay if e[0] == "in"}
        free_in = [d for i, d in enumerate(xd) if i not in copied]
        auto = [j for j, e in enumerate(lay) if e[0] == "auto"]
        made = [yd[j] for j, e in enumerate(lay) if e[0] == "int"]
        p = math.prod(made)  # type: ignore[arg-type]
        n = product(free_in)
        want = f"(to reshape to {self._param_repr()})"
        if _int(n) and auto:
            if n % p:  # type: ignore[operator]
                raise PortMismatch("Input", f"a number of elements divisible by {p} {want}",
                                   x.describe())
            yd[auto[0]] = unify_dims("Output", [yd[auto[0]]], [n // p], x)[0]  # type: ignore
        elif _int(n) and n != p:
            extra = "" if not copied else " besides the inherited levels"
            raise PortMismatch("Input", f"an array of {p} elements{extra} {want}", x.describe())
        elif n is VARYING and auto:
            yd[auto[0]] = unify_dim(yd[auto[0]], VARYING)
        elif n is None and not auto and free_in.count(None) == 1:
            rest = product([d for d in free_in if d is not None])
            if _int(rest) and p % rest == 0:  # type: ignore[operator]
                xd[[i for i, d in enumerate(xd) if i not in copied and d is None][0]] = p // rest

    def _param_repr(self) -> str:
        return repr(tuple(self.params["dims"]))


def _last(spec: tuple, sym: Any) -> int:
    return max([i for i, d in enumerate(spec) if d is sym], default=-1)


def _entry(d: Any, i: int) -> Entry:
    if d is Inherited:
        return ("in", i)
    return ("auto",) if d is Automatic else ("int", d)


def _flatten_spec(n: Any) -> Any:
    if n is None or (isinstance(n, float) and math.isinf(n) and n > 0):
        return math.inf
    if _int(n):
        return n
    if isinstance(n, list) and n and all(isinstance(g, list) and g and all(
            _int(v) and v >= 1 for v in g) for g in n):
        flat = [v for g in n for v in g]
        if len(set(flat)) == len(flat):
            return tuple(tuple(g) for g in n)
    raise LayerError("FlattenLayer", "expected an integer n, math.inf, or a list of lists of "
                     f"levels [[s11, s12, ...], [s21, ...], ...], but received {n!r}.")


class FlattenLayer(Layer):
    """FlattenLayer(n): flattens levels of its input together (``FlattenLayer()`` flattens all).

    ``FlattenLayer(n)`` flattens the first n+1 levels together, ``FlattenLayer(-n)`` the last
    n+1; ``FlattenLayer([[s11, s12, ...], [s21, ...], ...])`` combines the levels sij into level i
    of the result (levels not named follow in order), as WL Flatten.

    >>> FlattenLayer(1, Input=(2, 3, 4)).out_types["Output"]
    (6, 4)
    """

    def __init__(self, n: Any = None, **opts: Any) -> None:
        self._init({"n": _flatten_spec(n)}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        n = params["n"]   # as _flatten_spec stores it: math.inf, an int or tuples of levels
        if isinstance(n, tuple) and all(isinstance(g, tuple) for g in n):
            _flatten_spec([list(g) for g in n])
        elif not (_int(n) or (isinstance(n, float) and n == math.inf)):
            raise LayerError("FlattenLayer", "expected an integer n, Infinity, or levels "
                             f"{{{{s11, s12, ...}}, {{s21, ...}}, ...}}, but received {n!r}.")

    def groups(self, rank: int) -> list[list[int]]:
        """The input levels (0-based) that make each output level."""
        n = self.params["n"]
        if isinstance(n, tuple):
            named = [v - 1 for g in n for v in g]
            need = max(named) + 1
            rest = [[k] for k in range(rank) if k not in named]
            groups = [[v - 1 for v in g] for g in n] + rest
        elif n == math.inf:
            need, groups = 1, [list(range(rank))]
        else:
            need = abs(n) + 1
            if rank < need:  # before the groups: FlattenLayer(10**9) must not build huge lists
                raise level_count_error("Input", need, PortType((None,) * rank))
            cut = n + 1 if n >= 0 else rank + n - 1
            groups = ([list(range(cut))] + [[k] for k in range(cut, rank)] if n >= 0 else
                      [[k] for k in range(cut)] + [list(range(cut, rank))])
        if rank < need:
            raise level_count_error("Input", need, PortType((None,) * rank))
        return groups

    @property
    def time(self) -> str:  # type: ignore[override]
        """Each step flattened alone when the time level is not merged with others."""
        rank = self.in_types.get("Input", PortType()).rank
        try:
            first = self.groups(rank)[0] if rank else None
        except PortMismatch:
            first = None
        return "pointwise" if first == [0] else "whole"

    @property
    def length_shift(self) -> int:  # type: ignore[override]
        """0 when the time level of a sequence is not flattened with others, else untied."""
        rank = self.in_types.get("Input", PortType()).rank
        try:
            first = self.groups(rank)[0] if rank else None
        except PortMismatch:
            first = None
        return 0 if first == [0] else UNTIED_LENGTH

    def input_rank(self, out_rank: int | None) -> int | None:
        n = self.params["n"]
        if out_rank is None or n == math.inf:
            return None
        if isinstance(n, tuple):
            return sum(len(g) for g in n) + out_rank - len(n)
        return out_rank + abs(n)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        rank = x.rank if x.rank is not None else self.input_rank(y.rank)
        if rank is None:
            return _pass(x, y)
        groups = self.groups(rank)
        _check_rank("Output", y, len(groups))
        xd, yd = dims_list(x, rank), dims_list(y, len(groups))
        for j, g in enumerate(groups):
            if len(g) == 1:
                yd[j] = xd[g[0]] = unify_dims("Input", [xd[g[0]]], [yd[j]], x)[0]
                continue
            yd[j] = unify_dims("Output", [yd[j]], [product([xd[k] for k in g])], y)[0]
            _fill_factor(xd, g, yd[j])
        return {"Input": same(y, tuple(xd))}, {"Output": same(x, tuple(yd))}

    def _param_repr(self) -> str:
        n = self.params["n"]
        if n == math.inf:
            return ""
        return repr([list(g) for g in n]) if isinstance(n, tuple) else str(n)


def _fill_factor(xd: list[Dim], group: list[int], total: Dim) -> None:
    """One unknown size in a flattened group follows from the total and the others."""
    missing = [k for k in group if xd[k] is None]
    rest = product([xd[k] for k in group if xd[k] is not None])
    if _int(total) and len(missing) == 1 and _int(rest) and total % rest == 0:  # type: ignore
        xd[missing[0]] = total // rest  # type: ignore[operator]


class TransposeLayer(Layer):
    """TransposeLayer(spec): transposes levels of its input (``TransposeLayer()`` swaps 1 and 2).

    spec is a pair ``(m, n)`` (WL ``m<->n``), a list of pairs ``[(m1, n1), (m2, n2)]`` applied in
    turn, or a permutation list ``[n1, n2, ...]``: level k of the input is level nk of the output.

    >>> TransposeLayer((1, 3), Input=(1, 2, 3)).out_types["Output"]
    (3, 2, 1)
    """

    def __init__(self, spec: Any = None, **opts: Any) -> None:
        self._init({"spec": parse_transposition("TransposeLayer", spec)}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        check_transposition("TransposeLayer", params["spec"])

    @property
    def time(self) -> str:  # type: ignore[override]
        """Each step transposed alone when the time level stays first."""
        src = transposition_source(self.params["spec"],
                                   self.in_types.get("Input", PortType()).rank or 0) or []
        return "pointwise" if src[:1] == [0] else "whole"

    @property
    def length_shift(self) -> int:  # type: ignore[override]
        """0 while the time level stays first; untied when another level comes first (the
        output's length is then not its input's)."""
        return 0 if self.time == "pointwise" else UNTIED_LENGTH

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        rank = x.rank if x.rank is not None else y.rank
        if rank is None:
            return _pass(x, y)
        src = transposition_source(self.params["spec"], rank)
        if src is None:
            port, t = ("Input", x) if x.rank is not None else ("Output", y)
            raise level_count_error(port, transposition_rank(self.params["spec"]), t)
        _check_rank("Output", y, rank)
        xd, yd = dims_list(x, rank), dims_list(y, rank)
        for j, i in enumerate(src):
            yd[j] = xd[i] = unify_dims("Input", [xd[i]], [yd[j]], x)[0]
        return {"Input": same(y, tuple(xd))}, {"Output": same(x, tuple(yd))}

    def _param_repr(self) -> str:
        spec = self.params["spec"]
        return "" if spec == ("swaps", ((1, 2),)) else transposition_repr(spec)


def _part_spec(spec: Any) -> tuple:
    items = [as_span(s) for s in (spec if isinstance(spec, list) else [spec])]
    for s in items:
        if not ((_int(s) and s != 0) or s is All or isinstance(s, Span)):
            raise LayerError("PartLayer", "expected a nonzero integer, a Span(i, j, k), All, or "
                             f"a list of them (one per level), but received {spec!r}.")
    if not items:
        raise LayerError("PartLayer", "expected at least one part spec, but received [].")
    return tuple(items)


class PartLayer(Layer):
    """PartLayer(spec): takes part of its input, as WL Part.

    spec is an index i (1-based, negative from the end; the level disappears), a
    ``Span(i, j, k)`` (WL ``i;;j;;k``, inclusive; the level stays; ``slice(i, j, k)`` is read the
    same way), ``All``, or a list ``[spec1, spec2, ...]`` applying speci at level i.

    >>> PartLayer([All, 1], Input=(2, 3))([[1, 2, 3], [4, 5, 6]])
    array([1., 4.], dtype=float32)
    >>> PartLayer(Span(2, -1), Input=5)([1, 2, 3, 4, 5])
    array([2., 3., 4., 5.], dtype=float32)
    """

    def __init__(self, spec: Any, **opts: Any) -> None:
        self._init({"spec": _part_spec(spec), "list": isinstance(spec, list)}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        spec = params["spec"]
        if not isinstance(spec, tuple) or _part_spec(list(spec)) != spec:
            raise LayerError("PartLayer", f"expected part specs, but received {spec!r}.")
        if not isinstance(params["list"], bool):
            raise LayerError("PartLayer", f"expected the list switch to be True or False, but "
                             f"received {params['list']!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        spec = self.params["spec"]
        drops = sum(1 for s in spec if _int(s))
        rank = x.rank if x.rank is not None else (None if y.rank is None else y.rank + drops)
        if rank is None:
            return _pass(x, y)
        if rank < len(spec):
            port, t = ("Input", x) if x.rank is not None else ("Output", y)
            raise level_count_error(port, len(spec), t)
        _check_rank("Output", y, rank - drops)
        xd, yd = dims_list(x, rank), dims_list(y, rank - drops)
        j = 0
        for k, s in enumerate(spec):
            if _int(s):
                self._check_index(s, k, xd[k], x)
                continue
            if s is All:
                yd[j] = xd[k] = unify_dims("Input", [xd[k]], [yd[j]], x)[0]
            else:
                yd[j] = unify_dims("Output", [yd[j]], [self._span_count(s, k, xd[k], x)], y)[0]
            j += 1
        for k in range(len(spec), rank):
            yd[j] = xd[k] = unify_dims("Input", [xd[k]], [yd[j]], x)[0]
            j += 1
        return {"Input": same(y, tuple(xd))}, {"Output": same(x, tuple(yd))}

    @property
    def time(self) -> str:  # type: ignore[override]
        """Each step indexed alone when every step is kept (All first)."""
        return "pointwise" if self.params["spec"][0] is All else "whole"

    @property
    def length_shift(self) -> int:  # type: ignore[override]
        """How a sequence's length changes: a span such as Span(2) shortens it by one."""
        s = self.params["spec"][0]
        if not isinstance(s, Span):
            return 0
        off = s.length_offset()
        return UNTIED_LENGTH if off is None else off

    @staticmethod
    def _check_index(i: int, k: int, d: Dim, x: PortType) -> None:
        if _int(d) and abs(i) > d:  # type: ignore[operator]
            raise PortMismatch("Input", f"at least {abs(i)} elements at level {k + 1} (for part "
                               f"{i})", x.describe())

    @staticmethod
    def _span_count(s: Span, k: int, d: Dim, x: PortType) -> Dim:
        c = s.count(d)
        if c == 0:
            raise PortMismatch("Input", f"enough elements at level {k + 1} for {s!r} (an empty "
                               "part is not allowed in a net)", x.describe())
        return c

    def _param_repr(self) -> str:
        spec = self.params["spec"]
        return repr(list(spec)) if self.params["list"] else repr(spec[0])

