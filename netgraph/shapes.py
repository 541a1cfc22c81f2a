"""Port types: what a port carries, in WL's shape language, and their unification.

A :class:`PortType` has ``dims`` (a tuple of sizes, ``None`` when the rank is not
known yet; a size is an int, :data:`VARYING` for a sequence dimension of any
length, or ``None`` when unknown), a ``kind`` (``"Real"``, ``"Integer"`` or
``None``) and, for integers, an optional inclusive ``bound`` ``(lo, hi)``.

User spellings (:func:`parse`): ``"Real"``/``"Scalar"``, ``"Integer"``,
``Restricted("Integer", n)``, ``n``, ``(n1, n2, ...)``, ``"Varying"``,
``("Varying", n, ...)``, and tuples whose last element is an element type such as
``("Varying", Restricted("Integer", 10))``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class _Varying:
    __slots__ = ()

    def __repr__(self) -> str:
        return '"Varying"'

    def __reduce__(self) -> str:  # pragma: no cover
        return "VARYING"


VARYING = _Varying()
Dim = int | _Varying | None


class UnifyError(Exception):
    """Two port types cannot describe the same value (internal; callers word it)."""


@dataclass(frozen=True, repr=False)
class Restricted:
    """``Restricted("Integer", n)`` or ``Restricted("Integer", (lo, hi))``: bounded integers."""

    kind: str
    bound: Any

    def __post_init__(self) -> None:
        from .errors import ShapeError
        if self.kind != "Integer":
            raise ShapeError("Restricted", f'expected "Integer", but received {self.kind!r}.')
        b = self.bound
        ok = (isinstance(b, int) and b >= 1) or (
            isinstance(b, (tuple, list)) and len(b) == 2 and all(isinstance(v, int) for v in b)
            and b[0] <= b[1])
        if not ok:
            raise ShapeError("Restricted", f"expected a positive integer n or a pair (lo, hi), "
                             f"but received {b!r}.")

    def __repr__(self) -> str:
        return f'Restricted("Integer", {self.bound!r})'

    @property
    def range(self) -> tuple[int, int]:
        return (1, self.bound) if isinstance(self.bound, int) else tuple(self.bound)  # type: ignore


@dataclass(frozen=True)
class PortType:
    """The type of a port: dimensions, element kind and integer bound."""

    dims: tuple[Dim, ...] | None = None
    kind: str | None = None
    bound: tuple[int, int] | None = None

    # -- queries ---------------------------------------------------------
    @property
    def rank(self) -> int | None:
        return None if self.dims is None else len(self.dims)

    def is_known(self) -> bool:
        """True when the rank and every non-sequence size are known.

        The element kind may stay open ("Varying", 3 or (2, 3) say nothing about it); an open
        kind is evaluated as "Real".
        """
        return self.dims is not None and all(d is not None for d in self.dims)

    def is_sequence(self) -> bool:
        return bool(self.dims) and self.dims[0] is VARYING  # type: ignore[index]

    def fixed_shape(self) -> tuple[int, ...]:
        """Sizes with sequence dims as -1 (for checks and zero-filled defaults)."""
        return tuple(-1 if isinstance(d, _Varying) or d is None else int(d)
                     for d in (self.dims or ()))

    def size(self) -> int | None:
        """Number of elements, or None when some dimension is not a known int."""
        n = 1
        for d in self.dims or ():
            if not isinstance(d, int):
                return None
            n *= d
        return n if self.dims is not None else None

    # -- conversions -----------------------------------------------------
    def spec(self) -> Any:
        """The user-facing spelling: "Real", 3, (2, 3), ("Varying", 2), Restricted(...)."""
        if self.dims is None:
            return "Automatic" if self.kind is None else self.kind
        elem: Any = self.kind or "Real"
        if self.bound is not None:
            lo, hi = self.bound
            elem = Restricted("Integer", hi if lo == 1 else (lo, hi))
        dims = tuple("Varying" if d is VARYING else ("Automatic" if d is None else d)
                     for d in self.dims)
        if not dims:
            return elem
        if self.kind == "Integer":
            return dims + (elem,)
        if len(dims) == 1 and dims[0] == "Varying":
            return "Varying"
        return dims[0] if len(dims) == 1 and isinstance(dims[0], int) else dims

    def describe(self) -> str:
        """WL-style words: "a vector of size 3", "a sequence of vectors of size 2"."""
        if self.dims is None:
            return {"Integer": "integers", "Real": "an array of real numbers"}.get(
                self.kind or "", "an array of unknown shape")
        elem = _elem_words(self)
        dims = self.dims
        if dims and dims[0] is VARYING:
            inner = PortType(dims[1:], self.kind, self.bound)
            return "a sequence of " + _plural(inner.describe())
        if not dims:
            return elem
        if all(d is None for d in dims) and len(dims) <= 2:
            return ("a vector", "a matrix")[len(dims) - 1]
        if any(d is None for d in dims):
            return f"an array of rank {len(dims)} with dimensions " + _dims_str(dims)
        if len(dims) == 1:
            of = "" if self.kind != "Integer" else " of integers"
            return f"a vector of size {dims[0]}" + of
        if len(dims) == 2:
            return f"a {dims[0]}\u00d7{dims[1]} matrix"
        return "an array of dimensions " + _dims_str(dims)

    def __repr__(self) -> str:
        return repr(self.spec()) if not isinstance(self.spec(), str) else f'"{self.spec()}"'


def _dims_str(dims: tuple[Dim, ...]) -> str:
    return "{" + ", ".join("n" if d is VARYING else ("?" if d is None else str(d))
                           for d in dims) + "}"


def _elem_words(t: PortType) -> str:
    if t.kind == "Integer":
        if t.bound is not None:
            return f"an integer between {t.bound[0]} and {t.bound[1]}"
        return "an integer"
    return "a real number" if t.kind == "Real" else "a number"


def _plural(words: str) -> str:
    """"a vector of size 3" -> "vectors of size 3" (the words describe() makes)."""
    words = words.split(" ", 1)[1] if words.startswith(("a ", "an ")) else words
    if words.endswith(" matrix"):
        return words[:-len("matrix")] + "matrices"
    head, _, rest = words.partition(" ")
    head = head[:-2] + "ices" if head.endswith("ix") else head + "s"
    if head == "reals":  # "real number"
        return "real numbers"
    return head + (" " + rest if rest else "")


UNKNOWN = PortType()
REAL = PortType((), "Real")
INTEGER = PortType((), "Integer")
REAL_ANY = PortType(None, "Real")


def real(*dims: Dim) -> PortType:
    return PortType(tuple(dims), "Real")


def parse(spec: Any, head: str = "NetGraph", what: str = "port") -> PortType:
    """Turn a user's shape spec into a :class:`PortType` (see module docstring)."""
    from .errors import ShapeError
    from .symbols import Automatic
    if isinstance(spec, PortType):
        return spec
    if spec is None or spec is Automatic or spec == "Automatic":
        return UNKNOWN
    if isinstance(spec, str):
        if spec in ("Real", "Scalar"):
            return REAL
        if spec == "Integer":
            return INTEGER
        if spec == "Varying":
            return PortType((VARYING,), None)
        raise ShapeError(head, f"{what} has an unknown shape {spec!r}; expected \"Real\", "
                         "\"Integer\", Restricted(\"Integer\", n), a size, a tuple of sizes "
                         "or (\"Varying\", ...).")
    if isinstance(spec, Restricted):
        return PortType((), "Integer", spec.range)
    if isinstance(spec, bool):
        raise ShapeError(head, f"{what} has an invalid shape {spec!r}.")
    if isinstance(spec, int):
        if spec < 1:
            raise ShapeError(head, f"{what} has an invalid size {spec}; sizes are positive.")
        return PortType((spec,), None)
    if isinstance(spec, (tuple, list)):
        return _parse_tuple(tuple(spec), head, what)
    raise ShapeError(head, f"{what} has an invalid shape {spec!r}.")


def _parse_tuple(spec: tuple, head: str, what: str) -> PortType:
    from .errors import ShapeError
    from .symbols import Automatic
    kind, bound = None, None
    if spec and (isinstance(spec[-1], Restricted) or spec[-1] in ("Real", "Integer", "Scalar")):
        elem = parse(spec[-1], head, what)
        kind, bound, spec = elem.kind or "Real", elem.bound, spec[:-1]
    dims: list[Dim] = []
    for d in spec:
        if d == "Varying":
            dims.append(VARYING)
        elif d is None or d is Automatic:
            dims.append(None)
        elif isinstance(d, int) and not isinstance(d, bool) and d >= 1:
            dims.append(d)
        else:
            raise ShapeError(head, f"{what} has an invalid dimension {d!r} in {spec!r}; "
                             "expected a positive int, \"Varying\" or Automatic.")
    return PortType(tuple(dims), kind, bound)


def unify_dim(a: Dim, b: Dim) -> Dim:
    if a is None:
        return b
    if b is None or a == b:
        return a
    if a is VARYING:
        return b
    if b is VARYING:
        return a
    raise UnifyError


def unify(a: PortType, b: PortType) -> PortType:
    """The most specific type that both describe; raises :class:`UnifyError`."""
    if a == b:
        return a
    if a.kind is not None and b.kind is not None and a.kind != b.kind:
        raise UnifyError
    kind = a.kind if a.kind is not None else b.kind
    if a.dims is None:
        dims = b.dims
    elif b.dims is None:
        dims = a.dims
    else:
        if len(a.dims) != len(b.dims):
            raise UnifyError
        dims = tuple(unify_dim(x, y) for x, y in zip(a.dims, b.dims, strict=True))
    bound = a.bound if b.bound is None else b.bound
    if a.bound is not None and b.bound is not None and a.bound != b.bound:
        raise UnifyError
    return PortType(dims, kind, bound if kind == "Integer" else None)


def compatible(a: PortType, b: PortType) -> bool:
    try:
        unify(a, b)
        return True
    except UnifyError:
        return False
