"""Level and span specifications shared by the structure and array layers (no layers here).

WL counts levels (dimensions of one example, the batch excluded) from 1, and negative levels
from the end. ``Span(i, j, k)`` is the Python spelling of WL's ``i;;j;;k``: inclusive, 1-based,
negative positions count from the end, and ``All`` as an end means "to the end".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from ..errors import LayerError
from ..shapes import VARYING, Dim, PortType, UnifyError, unify_dim
from ..symbols import All
from .base import PortMismatch

# ``length_shift`` of a layer whose output sequence is not its input's length plus an offset
# (a flattened or reshaped time level). Ragged batches cut each output to its input's length
# plus the shift (backend/lengths.py); such a layer is not mask-safe, so its batches are never
# padded, and this shift leaves its outputs uncut.
UNTIED_LENGTH = 1 << 40


def _is_int(x: Any) -> TypeGuard[int]:
    return isinstance(x, int) and not isinstance(x, bool)


@dataclass(frozen=True, repr=False)
class Span:
    """Span(i, j, k): WL's ``i;;j;;k``, parts i through j in steps of k (1-based, inclusive).

    ``Span(i)`` is ``i;;All`` (from i to the end), ``Span(1, j)`` is ``;;j``. Negative i and j
    count from the end; ``All`` as i or j means the first or last part. Where a span is
    accepted, a Python ``slice(i, j, k)`` means the same (1-based, j included; None = the end).

    >>> Span(2), Span(1, -2, 2)
    (Span(2, All), Span(1, -2, 2))
    """

    start: Any = 1
    stop: Any = All
    step: int = 1

    def __post_init__(self) -> None:
        for name, v in (("start", self.start), ("stop", self.stop)):
            if v is not All and (not _is_int(v) or v == 0):
                raise LayerError("Span", f"expected the {name} to be a nonzero integer or All, "
                                 f"but received {v!r}.")
        if not _is_int(self.step) or self.step == 0:
            raise LayerError("Span", f"expected the step to be a nonzero integer, but received "
                             f"{self.step!r}.")

    def __repr__(self) -> str:
        args = [repr(self.start), repr(self.stop)] + ([] if self.step == 1 else [str(self.step)])
        return f"Span({', '.join(args)})"

    def _range(self, n: int) -> range | None:
        """1-based positions this span takes from a dimension of size ``n``; None if out of
        range."""
        first = _position(self.start, n, 1 if self.step > 0 else n)
        last = _position(self.stop, n, n if self.step > 0 else 1)
        if first is None or last is None:
            return None
        return range(first, last + (1 if self.step > 0 else -1), self.step)

    def indices(self, n: int) -> list[int] | None:
        """0-based positions this span takes from a dimension of size ``n``; None if empty
        or out of range."""
        r = self._range(n)
        return None if r is None else [i - 1 for i in r] or None

    def count(self, n: Dim) -> Dim:
        """Size of the result on a dimension of size ``n`` (VARYING/None when not known)."""
        if isinstance(n, int):  # counted, not listed: a dimension may be declared huge
            r = self._range(n)
            return 0 if r is None else len(r)
        if _is_int(self.start) and _is_int(self.stop) and (self.start > 0) == (self.stop > 0):
            return max(0, (self.stop - self.start) // self.step + 1)
        return n

    def length_offset(self) -> int | None:
        """The result's size minus n on a dimension of any size n, when it is one."""
        a = 1 if self.start is All else self.start
        b = -1 if self.stop is All else self.stop
        if self.step == 1 and a > 0 > b:
            return b - a + 2
        return None


def as_span(x: Any) -> Any:
    """A Python ``slice(a, b, c)`` read as ``Span(a, b, c)`` (1-based, b included; None is the
    default end), as other netgraph level specs read it; anything else unchanged."""
    if isinstance(x, slice):
        return Span(1 if x.start is None else x.start, All if x.stop is None else x.stop,
                    1 if x.step is None else x.step)
    return x


def _position(v: Any, n: int, default: int) -> int | None:
    """A 1-based position in 1..n from a WL part index (negative from the end, All)."""
    if v is All:
        return default
    p = v if v > 0 else n + v + 1
    return p if 1 <= p <= n else None


def resolve_level(level: int, rank: int) -> int | None:
    """0-based level index for a 1-based (or negative) WL level, None when out of range."""
    i = level - 1 if level > 0 else rank + level
    return i if 0 <= i < rank else None


def level_count_error(port: str, need: int, t: PortType) -> PortMismatch:
    return PortMismatch(port, f"an array of rank at least {need}", t.describe())


def same(t: PortType, dims: tuple[Dim, ...] | None) -> PortType:
    """A type with ``t``'s element kind and bound and the given dimensions."""
    return PortType(dims, t.kind, t.bound)


def unify_dims(port: str, a: list[Dim], b: list[Dim], t: PortType, why: str = "") -> list[Dim]:
    """Unify two dimension lists of one port (a: the port's, b: the constraint), naming the
    port on a conflict."""
    try:
        if len(a) != len(b):
            raise UnifyError
        return [unify_dim(x, y) for x, y in zip(a, b, strict=False)]
    except UnifyError:
        want = PortType(tuple(b), t.kind).describe()
        raise PortMismatch(port, want + why, t.describe()) from None


def dims_list(t: PortType, rank: int) -> list[Dim]:
    """A port's dimensions as a list, all unknown when its rank is not known yet."""
    return list(t.dims) if t.dims is not None else [None] * rank


def known(dims: list[Dim]) -> bool:
    return all(_is_int(d) for d in dims)


def product(dims: list[Dim]) -> Dim:
    """Product of sizes: VARYING if any is, None if any is unknown."""
    if any(d is VARYING for d in dims):
        return VARYING
    if any(d is None for d in dims):
        return None
    n = 1
    for d in dims:
        n *= d  # type: ignore[operator]
    return n


# -- transposition specs (TransposeLayer, DotLayer) ---------------------------------------

def parse_transposition(head: str, spec: Any) -> tuple[str, tuple]:
    """``None`` (levels 1 and 2), a pair ``(m, n)``, a list of pairs, or a permutation list.

    Returns ``("swaps", ((m, n), ...))`` or ``("perm", (n1, n2, ...))``.
    """
    if spec is None or spec == ():
        return "swaps", ((1, 2),)
    if _is_pair(spec):
        return "swaps", (tuple(spec),)
    if isinstance(spec, list) and spec and all(_is_pair(p) for p in spec):
        return "swaps", tuple(tuple(p) for p in spec)
    if isinstance(spec, list) and spec and all(_is_int(v) for v in spec):
        if sorted(spec) != list(range(1, len(spec) + 1)):
            raise LayerError(head, f"expected a permutation of 1, ..., {len(spec)}, but "
                             f"received {spec!r}.")
        return "perm", tuple(spec)
    raise LayerError(head, "expected a pair of levels (m, n), a list of pairs [(m1, n1), ...] "
                     f"or a permutation list [n1, n2, ...], but received {spec!r}.")


def check_transposition(head: str, spec: Any) -> None:
    """Raise LayerError unless ``spec`` is what :func:`parse_transposition` returns."""
    ok = bool(isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], tuple)
              and spec[1])
    if ok and spec[0] == "swaps":
        ok = all(_is_pair(p) for p in spec[1])
    elif ok and spec[0] == "perm":
        ok = all(_is_int(v) for v in spec[1]) and sorted(spec[1]) == list(
            range(1, len(spec[1]) + 1))
    else:
        ok = False
    if not ok:
        raise LayerError(head, "expected a transposition (a pair of levels m <-> n, a list "
                         "of pairs or a permutation {n1, n2, ...}), but received "
                         f"{spec!r}.")


def _is_pair(p: Any) -> bool:
    return isinstance(p, tuple) and len(p) == 2 and all(_is_int(v) and v != 0 for v in p)


def transposition_rank(spec: tuple[str, tuple]) -> int:
    """The smallest input rank the transposition applies to."""
    kind, val = spec
    if kind == "perm":
        return len(val)
    return max(abs(v) for pair in val for v in pair)


def transposition_source(spec: tuple[str, tuple], rank: int) -> list[int] | None:
    """``src`` with output level j = input level src[j] (0-based); None if rank is too small."""
    kind, val = spec
    src = list(range(rank))
    if kind == "perm":
        if len(val) > rank:
            return None
        for k, n in enumerate(val):
            src[n - 1] = k
        return src
    for m, n in val:
        i, j = resolve_level(m, rank), resolve_level(n, rank)
        if i is None or j is None:
            return None
        src[i], src[j] = src[j], src[i]
    return src


def transposition_repr(spec: tuple[str, tuple]) -> str:
    kind, val = spec
    if kind == "perm":
        return repr(list(val))
    return repr(val[0]) if len(val) == 1 else repr(list(val))


# -- variadic inputs --------------------------------------------------------------------------

def variadic_ports(head: str, spec: Any, least: int = 1) -> tuple[int | None, dict[str, Any]]:
    """``InputPorts``: None, a count n, or a list of shapes -> (n, {"Input1": shape, ...})."""
    if spec is None:
        return None, {}
    if isinstance(spec, (list, tuple)) and spec and not any(isinstance(s, str) and s not in (
            "Real", "Integer", "Scalar", "Varying") for s in spec):
        n, ports = len(spec), {f"Input{i + 1}": s for i, s in enumerate(spec)}
    elif _is_int(spec):
        n, ports = spec, {}
    else:
        raise LayerError(head, f"expected InputPorts to be a number of ports or a list of port "
                         f"shapes, but received {spec!r}; the ports are named \"Input1\", ...")
    if n < least:
        raise LayerError(head, f"expected at least {least} input port(s), but InputPorts "
                         f"gives {n}.")
    return n, ports


def check_count(head: str, n: Any) -> None:
    """A variadic layer's stored input count: None (not known yet) or an int >= 0 (a graph
    that connects none of its inputs stores 0)."""
    if n is not None and (not _is_int(n) or n < 0):
        raise LayerError(head, f"expected an input count, but received {n!r}.")


def variadic_names(params: Any) -> tuple[str, ...]:
    n = params.get("n") or 0
    return tuple(f"Input{i}" for i in range(1, n + 1))
