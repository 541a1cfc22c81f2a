"""Structure layers that join or grow arrays: CatenateLayer, AppendLayer, PrependLayer,
ReplicateLayer, PaddingLayer.

Levels are WL levels of one example (the batch is not a level): 1-based, negative from the end.
"""
from __future__ import annotations

from typing import Any, TypeGuard

from ..errors import LayerError
from ..shapes import VARYING, Dim, PortType, UnifyError, unify_dim
from ..symbols import Automatic
from .base import Layer, PortMismatch, Types
from .levels import (
    check_count,
    dims_list,
    known,
    level_count_error,
    same,
    unify_dims,
    variadic_names,
    variadic_ports,
)


def _int(x: Any) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


def _grow(d: Dim, by: int) -> Dim:
    return d + by if _int(d) else d


class CatenateLayer(Layer):
    """CatenateLayer(n): catenates its inputs at level n (``CatenateLayer()`` is level 1).

    Inputs are "Input1", ..., "Inputn" (count from the connections ``([a, b], cat)`` or
    ``InputPorts=n`` / ``InputPorts=[shape1, shape2]``). As in WL, the level is relative to the
    first dimension of the lowest-rank input, and lower-rank inputs are replicated over the
    leading dimensions of the others: a 3x4 matrix and a vector of size 2 give a 3x6 matrix.
    All inputs have one element type (all reals or all integers).

    >>> CatenateLayer(InputPorts=[2, 3])({"Input1": [1, 2], "Input2": [3, 4, 5]})
    array([1., 2., 3., 4., 5.], dtype=float32)
    """

    variadic = True
    options = ("InputPorts",)

    def __init__(self, n: int = 1, **opts: Any) -> None:
        if not _int(n) or n == 0:
            raise LayerError("CatenateLayer", f"expected a nonzero level, but received {n!r}.")
        count, ports = variadic_ports("CatenateLayer", opts.pop("InputPorts", None))
        self._init({"level": n, "n": count}, {**ports, **opts})

    @classmethod
    def check_params(cls, params: Any) -> None:
        check_count("CatenateLayer", params.get("n"))  # no count yet: as variadic_names
        n = params["level"]
        if not _int(n) or n == 0:
            raise LayerError("CatenateLayer", f"expected a nonzero level, but received {n!r}.")

    @classmethod
    def input_ports_of(cls, params: Any) -> tuple[str, ...]:
        return variadic_names(params)

    @property
    def time(self) -> str:  # type: ignore[override]
        """Each step alone when the inputs are joined along a level other than time."""
        ranks = [len(self.in_types[p].dims or ()) if p in self.in_types else 0
                 for p in self.input_ports()]
        try:
            _, axis = self.geometry(ranks)
        except Exception:  # noqa: BLE001 - an unusual level: treat as needing whole sequences
            return "whole"
        return "pointwise" if axis != 0 else "whole"

    def geometry(self, ranks: list[int]) -> tuple[int, int]:
        """(output rank, 0-based catenation axis of the output) for these input ranks."""
        r, big = min(ranks), max(ranks)
        lv = self.params["level"]
        axis = lv - 1 if lv > 0 else r + lv
        if not 0 <= axis < r:
            port = self.input_ports()[ranks.index(r)]
            raise PortMismatch(port, f"an array of rank at least {abs(lv)} (the catenation "
                               "level)", f"an array of rank {r}")
        return big, big - r + axis

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        ports = self.input_ports()
        types = [ins.get(p, PortType()) for p in ports]
        out = outs.get("Output", PortType())
        kind = next((t.kind for t in (*types, out) if t.kind), None)  # one element type
        unknown = [i for i, t in enumerate(types) if t.rank is None]
        if len(unknown) == 1 and out.rank is not None and all(
                t.rank == out.rank for i, t in enumerate(types) if i != unknown[0]):
            # the one input of unknown rank is taken to have the common rank (not replicated)
            types[unknown[0]] = PortType((None,) * out.rank, types[unknown[0]].kind)
        if not ports or any(t.rank is None for t in types):
            return {p: PortType(None, kind) for p in ports}, {"Output": PortType(None, kind)}
        ranks = [t.rank for t in types]
        big, axis = self.geometry(ranks)  # type: ignore[arg-type]
        if out.rank is not None and out.rank != big:
            raise PortMismatch("Output", f"an array of rank {big}", out.describe())
        odims = dims_list(out, big)
        dims = [dims_list(t, 0) for t in types]
        shift = [big - r for r in ranks]  # type: ignore[operator]
        for p in range(big):
            if p == axis:
                continue
            holders = [i for i in range(len(ports)) if p >= shift[i]]
            for i in holders:  # every input that reaches this dimension shares it
                odims[p] = self._unify(ports[i], odims[p], dims[i][p - shift[i]], p - shift[i],
                                       types[i])
            for i in holders:
                dims[i][p - shift[i]] = odims[p]
        parts = [dims[i][axis - shift[i]] for i in range(len(ports))]
        odims[axis] = self._axis(ports, types, parts, odims[axis])
        for i in range(len(ports)):
            dims[i][axis - shift[i]] = parts[i]
        return ({p: PortType(tuple(d), kind) for p, d in zip(ports, dims, strict=False)},
                {"Output": PortType(tuple(odims), kind)})

    @staticmethod
    def _unify(port: str, a: Dim, b: Dim, level: int, t: PortType) -> Dim:
        try:
            return unify_dim(a, b)
        except UnifyError:
            raise PortMismatch(port, f"size {a} at level {level + 1}, as the other inputs (off "
                               "the catenation level)", t.describe()) from None

    @staticmethod
    def _axis(ports: tuple[str, ...], types: list[PortType], parts: list[Dim], total: Dim) -> Dim:
        """The catenated size; fills one unknown input size from a known total."""
        for p, t, d in zip(ports, types, parts, strict=False):
            if d is VARYING:
                raise PortMismatch(p, "an array that is not \"Varying\" at the catenation level",
                                   t.describe())
        if total is VARYING:
            raise PortMismatch("Output", "an array that is not \"Varying\" at the catenation "
                               "level", "a sequence")
        if known(parts):
            s = sum(parts)  # type: ignore[arg-type]
            if _int(total) and total != s:
                raise PortMismatch("Output", f"size {s} at the catenation level (the sum of "
                                   f"the inputs)", f"size {total}")
            return s
        missing = [i for i, d in enumerate(parts) if d is None]
        if _int(total) and len(missing) == 1:
            rest = sum(d for d in parts if d is not None)  # type: ignore[misc]
            if total - rest < 1:  # type: ignore[operator]
                raise PortMismatch("Output", f"size more than {rest} at the catenation level",
                                   f"size {total}")
            parts[missing[0]] = total - rest  # type: ignore[operator]
        return total

    def _param_repr(self) -> str:
        return "" if self.params["level"] == 1 else str(self.params["level"])


class AppendLayer(Layer):
    """AppendLayer(): appends the "Element" (rank n-1) to the "Input" (rank n), as WL Append.

    Works on sequences too: ``AppendLayer(Input="Varying", Element="Real")``.

    >>> AppendLayer(Input=3)({"Input": [1, 2, 3], "Element": 4})
    array([1., 2., 3., 4.], dtype=float32)
    """

    time = "whole"
    inputs = ("Input", "Element")
    at_end = True
    length_shift = 1  # a sequence gets one element longer

    def __init__(self, **opts: Any) -> None:
        self._init({}, opts)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, e, y = (ins.get("Input", PortType()), ins.get("Element", PortType()),
                   outs.get("Output", PortType()))
        kind = x.kind or e.kind or y.kind  # as WL Append, the element has the array's type
        for port, t in (("Input", x), ("Output", y)):
            if t.rank == 0:
                raise PortMismatch(port, "an array of rank 1 or more", t.describe())
        rest = x.dims[1:] if x.dims else (y.dims[1:] if y.dims else e.dims)
        if rest is not None:
            rest = tuple(unify_dims("Element", list(e.dims if e.dims is not None else rest),
                                    list(rest), e))
            if x.dims:
                rest = tuple(unify_dims("Input", list(x.dims[1:]), list(rest), x))
            if y.dims:
                rest = tuple(unify_dims("Output", list(y.dims[1:]), list(rest), y))
        first = x.dims[0] if x.dims else None
        if first is None and y.dims:
            first = _grow(y.dims[0], -1)
            if _int(first) and first < 1:
                raise PortMismatch("Output", "an array with at least 2 elements at level 1",
                                   y.describe())
        xi = None if rest is None else (first, *rest)
        yo = None if rest is None else (_grow(first, 1), *rest)
        return ({"Input": PortType(xi, kind), "Element": PortType(rest, kind)},
                {"Output": PortType(yo, kind)})


class PrependLayer(AppendLayer):
    """PrependLayer(): prepends the "Element" (rank n-1) to the "Input" (rank n), as WL Prepend.

    >>> PrependLayer(Input=("Varying", 2)).out_types["Output"]
    ('Varying', 2)
    """

    at_end = False


def _dims_arg(head: str, spec: Any) -> tuple[Dim, ...]:
    """ReplicateLayer's n or (n1, n2, ...), entries positive ints or Automatic."""
    items = list(spec) if isinstance(spec, (tuple, list)) else [spec]
    out: list[Dim] = []
    for d in items:
        if d is Automatic or d is None:
            out.append(None)
        elif _int(d) and d >= 1:
            out.append(d)
        else:
            raise LayerError(head, f"expected a positive integer or Automatic for each "
                             f"replication size, but received {d!r}.")
    if not out:
        raise LayerError(head, "expected at least one replication size, but received none.")
    return tuple(out)


class ReplicateLayer(Layer):
    """ReplicateLayer(n, m): replicates its input n times, the new dimension at level m.

    ``ReplicateLayer(n)`` turns dimensions {d1, d2, ...} into {n, d1, d2, ...};
    ``ReplicateLayer((n1, n2))`` adds several; ``ReplicateLayer(n, m)`` puts them at level m of
    the output (negative m counts from the end). A size may be Automatic (inferred).

    >>> ReplicateLayer(3, 2, Input=(2, 4)).out_types["Output"]
    (2, 3, 4)
    """

    def __init__(self, n: Any = Automatic, m: int = 1, **opts: Any) -> None:
        self._init({"dims": _dims_arg("ReplicateLayer", n), "level": m, "spec": n}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        dims, m = params["dims"], params["level"]
        if _dims_arg("ReplicateLayer", params["spec"]) != dims:  # spec: as the user wrote dims
            raise LayerError("ReplicateLayer", f"expected the dimensions {params['spec']!r} to "
                             f"give {dims!r}.")
        if not _int(m) or m == 0 or -len(dims) < m < 0:
            raise LayerError("ReplicateLayer", f"expected a level m >= 1 or <= -{len(dims)}, but "
                             f"received {m!r}.")

    @property
    def time(self) -> str:  # type: ignore[override]
        """A sequence keeps its time level when the new dimensions go after it."""
        try:
            pos = self.position(self.in_types.get("Input", PortType()).rank or 0)
        except PortMismatch:
            return "whole"
        return "pointwise" if pos > 0 else "whole"

    def position(self, rank: int) -> int:
        """0-based output position of the first new dimension for an input of this rank."""
        m, k = self.params["level"], len(self.params["dims"])
        pos = m - 1 if m > 0 else rank + k + m
        if not 0 <= pos <= rank:
            need = m - 1 if m > 0 else -m - k
            raise PortMismatch("Input", f"an array of rank at least {need} (to replicate at "
                               f"level {m})", f"an array of rank {rank}")
        return pos

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        new = self.params["dims"]
        k = len(new)
        if y.rank is not None and y.rank < k:
            raise PortMismatch("Output", f"an array of rank at least {k}", y.describe())
        rank = x.rank if x.rank is not None else (None if y.rank is None else y.rank - k)
        if rank is None:
            return {"Input": same(y, None)}, {"Output": same(x, None)}
        pos = self.position(rank)
        xd, yd = dims_list(x, rank), dims_list(y, rank + k)
        if len(yd) != rank + k:
            raise PortMismatch("Output", f"an array of rank {rank + k}", y.describe())
        both = unify_dims("Input", xd, yd[:pos] + yd[pos + k:], x)
        mid = unify_dims("Output", yd[pos:pos + k], list(new), y)
        return ({"Input": same(y, tuple(both))},
                {"Output": same(x, tuple(both[:pos] + mid + both[pos:]))})

    def _param_repr(self) -> str:
        dims = ["Automatic" if d is None else str(d) for d in self.params["dims"]]
        n = dims[0] if not isinstance(self.params["spec"], (tuple, list)) else (
            "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")")
        return n + ("" if self.params["level"] == 1 else f", {self.params['level']}")


PADDING_METHODS = ("Fixed", "Reflected")
FLOAT32_MAX = 3.4028234663852886e38


class PaddingLayer(Layer):
    """PaddingLayer([(m1, n1), (m2, n2), ...]): pads level i with mi elements before and ni after.

    Option ``Padding``: a number (0 by default), "Fixed" (repeat the boundary elements) or
    "Reflected" (reflect in the boundary, not repeating it). Levels past the list are unpadded.

    >>> PaddingLayer([(1, 2)], Input=3)([1, 2, 3])
    array([0., 1., 2., 3., 0., 0.], dtype=float32)
    """

    options = ("Padding",)

    def __init__(self, spec: Any, **opts: Any) -> None:
        params = {"pads": _padding_spec(spec), "padding": opts.pop("Padding", 0)}
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        """Pairs of nonnegative ints, and a padding value a float32 tensor can hold (F.pad
        fills in float32) or a method."""
        pads, pad = params["pads"], params["padding"]
        if _padding_spec(pads) != pads:
            raise LayerError("PaddingLayer", f"expected the padding as pairs (before, after), "
                             f"but received {pads!r}.")
        number = isinstance(pad, (int, float)) and not isinstance(pad, bool)
        if not ((isinstance(pad, str) and pad in PADDING_METHODS)
                or number and abs(pad) <= FLOAT32_MAX):
            raise LayerError("PaddingLayer", f"expected Padding to be a number (at most "
                             f"{FLOAT32_MAX:.4g} in size), \"Fixed\" or \"Reflected\", but "
                             f"received {pad!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        pads = self.params["pads"]
        rank = x.rank if x.rank is not None else y.rank
        kind = x.kind
        if isinstance(self.params["padding"], float) and x.kind == "Integer":
            kind = "Real"
        if rank is None:
            return {"Input": PortType(None, None)}, {"Output": PortType(None, kind)}
        if rank < max(1, len(pads)):
            port, t = ("Input", x) if x.rank is not None else ("Output", y)
            raise level_count_error(port, max(1, len(pads)), t)
        xd, yd = dims_list(x, rank), dims_list(y, rank)
        grow = [a + b for a, b in pads] + [0] * (rank - len(pads))
        back = unify_dims("Input", xd, [_grow(d, -g) for d, g in zip(yd, grow, strict=False)], x)
        if any(_int(d) and d < 1 for d in back):
            raise PortMismatch("Output", "an array larger than the padding", y.describe())
        fwd = unify_dims("Output", yd, [_grow(d, g) for d, g in zip(back, grow, strict=False)], y)
        self._check_reflect(back, x)
        return ({"Input": PortType(tuple(back), None)},
                {"Output": PortType(tuple(fwd), kind if x.kind else None)})

    @property
    def time(self) -> str:  # type: ignore[override]
        """Padding stays padding when the time level itself is not padded."""
        return "pointwise" if tuple(self.params["pads"][0]) == (0, 0) else "whole"

    @property
    def length_shift(self) -> int:  # type: ignore[override]
        """How much longer a sequence gets (the padding of level 1)."""
        return sum(self.params["pads"][0])

    def _check_reflect(self, dims: list[Dim], x: PortType) -> None:
        if self.params["padding"] != "Reflected":
            return
        for d, (a, b) in zip(dims, self.params["pads"], strict=False):
            if d == 1 and (a or b):
                raise PortMismatch("Input", "at least 2 elements at each padded level (to "
                                   "reflect in the boundary)", x.describe())

    def _param_repr(self) -> str:
        pad = self.params["padding"]
        return repr(list(self.params["pads"])) + ("" if pad == 0 else f", Padding={pad!r}")


def _padding_spec(spec: Any) -> tuple[tuple[int, int], ...]:
    ok = isinstance(spec, (list, tuple)) and len(spec) > 0 and all(
        isinstance(p, (list, tuple)) and len(p) == 2 and all(_int(v) and v >= 0 for v in p)
        for p in spec)
    if not ok:
        raise LayerError("PaddingLayer", "expected a list of pairs [(before, after), ...] of "
                         f"nonnegative integers, one per level, but received {spec!r}.")
    return tuple((int(a), int(b)) for a, b in spec)

