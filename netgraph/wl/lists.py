"""The data-building WL functions on evaluated values, with WL's semantics.

Sources: /work/shared/reference/wolfram-syntax.md section 2 (1-based and negative parts,
spans, Partition drops leftovers, Take refuses positions that do not exist, ...).
Each function takes evaluated arguments and raises :class:`Refuse` with a WL-worded message
when the arguments are outside what WL accepts; the evaluator adds the head and position.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from ..layers.levels import Span
from ..layers.random import Distribution
from ..symbols import All
from .values import Missing, Rule, Sym, elements, is_list, is_number, make_list, py_scalar, wl_repr


class Refuse(Exception):
    """Arguments a WL function does not accept; the message is WL-worded."""


def _int(x: Any, what: str) -> int:
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return int(x)
    raise Refuse(f"expected {what} to be an integer, but received {wl_repr(x)}")


def _seq(x: Any, head: str) -> list[Any]:
    if isinstance(x, dict):
        return list(x.values())
    try:
        return elements(x)
    except TypeError:
        raise Refuse(f"expected a list, but received {wl_repr(x)}") from None


def _rebuild(x: Any, items: list[Any]) -> Any:
    return make_list(items)


# -- positions -------------------------------------------------------------------------------
def _position(i: int, n: int, x: Any) -> int:
    """A WL part number (1-based, negative from the end) as a 0-based index."""
    if i == 0:
        raise Refuse("part 0 (the head) is not supported")
    k = i - 1 if i > 0 else n + i
    if not 0 <= k < n:
        raise Refuse(f"part {i} of {_short(x)} does not exist")
    return k


def _short(x: Any) -> str:
    s = wl_repr(x)
    return s if len(s) <= 60 else s[:57] + "..."


def span_indices(s: Span, n: int, x: Any) -> list[int]:
    """0-based indices of ``i ;; j ;; k`` in a list of length n."""
    a = 1 if s.start is All else s.start
    b = -1 if s.stop is All else s.stop
    if s.step < 0 and s.stop is All:  # ;; ;; -1 runs from the end back to the start
        a, b = (-1 if a == 1 else a), 1
    a0 = a - 1 if a > 0 else n + a
    b0 = b - 1 if b > 0 else n + b
    k = s.step
    if not (0 <= a0 <= n and -1 <= b0 < n):
        raise Refuse(f"cannot take {wl_repr(s.start)} ;; {wl_repr(s.stop)} of {_short(x)}")
    return list(range(a0, b0 + 1, k) if k > 0 else range(a0, b0 - 1, k))


def part(x: Any, specs: list[Any]) -> Any:
    """``x[[specs...]]``."""
    if not specs:
        return x
    s, rest = specs[0], specs[1:]
    if isinstance(x, dict):
        if isinstance(s, (str, Sym)) or not is_number(s):
            if s not in x:
                raise Refuse(f"the key {wl_repr(s)} is not in {_short(x)}")
            return part(x[s], rest)
        x = list(x.values())
    if not is_list(x):
        raise Refuse(f"{_short(x)} has no part {wl_repr(s)}")
    n = len(x)
    if is_number(s):
        return part(py_scalar(x[_position(_int(s, "a part"), n, x)]), rest)
    if s is All:
        idx = list(range(n))
    elif isinstance(s, Span):
        idx = span_indices(s, n, x)
    elif is_list(s):
        idx = [_position(_int(i, "a part"), n, x) for i in elements(s)]
    else:
        raise Refuse(f"{wl_repr(s)} is not a part specification")
    if isinstance(x, np.ndarray) and all(not isinstance(r, dict) for r in rest):
        sub = x[idx]
        return part_each(sub, rest)
    return make_list([part(py_scalar(x[i]), rest) for i in idx])


def part_each(sub: Any, rest: list[Any]) -> Any:
    if not rest:
        return sub
    return make_list([part(py_scalar(e), rest) for e in sub])


# -- sequence specs (Take, Drop) -------------------------------------------------------------
def seq_indices(spec: Any, n: int, x: Any, head: str) -> list[int]:
    """0-based indices of a standard sequence spec: n, -n, {n}, {m, n}, {m, n, s}, All, None."""
    if spec is All:
        return list(range(n))
    if spec is None:
        return []
    if isinstance(spec, UpTo):
        return list(range(min(spec.n, n)))
    if is_number(spec):
        k = _int(spec, "a count")
        if abs(k) > n:
            where = f"1 through {k}" if k > 0 else f"{k} through -1"
            raise Refuse(f"cannot {head.lower()} positions {where} in {_short(x)}")
        return list(range(k)) if k >= 0 else list(range(n + k, n))
    items = [_int(i, "a position") for i in elements(spec)]
    if len(items) == 1:
        return [_position(items[0], n, x)]
    if len(items) in (2, 3):
        step = items[2] if len(items) == 3 else 1
        return span_indices(Span(items[0], items[1], step), n, x)
    raise Refuse(f"{wl_repr(spec)} is not a sequence specification")


class UpTo:
    """``UpTo[n]``."""

    def __init__(self, n: int) -> None:
        self.n = _int(n, "UpTo's argument")

    def __repr__(self) -> str:
        return f"UpTo[{self.n}]"


def take(x: Any, *specs: Any) -> Any:
    if not specs:
        raise Refuse("expected a sequence specification")
    items = _seq(x, "Take")
    idx = seq_indices(specs[0], len(items), x, "Take")
    if isinstance(x, np.ndarray):
        out = x[idx]
    elif isinstance(x, dict):
        keys = list(x)
        return {keys[i]: x[keys[i]] for i in idx}
    else:
        out = make_list([items[i] for i in idx])
    if len(specs) > 1:
        return make_list([take(e, *specs[1:]) for e in _seq(out, "Take")])
    return out


def drop(x: Any, spec: Any) -> Any:
    items = _seq(x, "Drop")
    gone = set(seq_indices(spec, len(items), x, "Drop"))
    keep = [i for i in range(len(items)) if i not in gone]
    if isinstance(x, np.ndarray):
        return x[keep]
    if isinstance(x, dict):
        keys = list(x)
        return {keys[i]: x[keys[i]] for i in keep}
    return make_list([items[i] for i in keep])


def first(x: Any, *default: Any) -> Any:
    items = _seq(x, "First")
    if not items:
        if default:
            return default[0]
        raise Refuse(f"{_short(x)} has zero length and no first element")
    return items[0]


def last(x: Any, *default: Any) -> Any:
    items = _seq(x, "Last")
    if not items:
        if default:
            return default[0]
        raise Refuse(f"{_short(x)} has zero length and no last element")
    return items[-1]


def rest(x: Any) -> Any:
    if not _seq(x, "Rest"):
        raise Refuse(f"cannot take Rest of {_short(x)}: it has length zero")
    return drop(x, 1)


def most(x: Any) -> Any:
    if not _seq(x, "Most"):
        raise Refuse(f"cannot take Most of {_short(x)}: it has length zero")
    return drop(x, -1)


# -- construction ----------------------------------------------------------------------------
def range_(*args: Any) -> Any:
    if not 1 <= len(args) <= 3 or not all(is_number(a) for a in args):
        raise Refuse(f"expected Range[n], Range[a, b] or Range[a, b, d] with numbers, but "
                     f"received {len(args)} arguments")
    a, b, d = (1, args[0], 1) if len(args) == 1 else (*args, 1)[:3]
    if d == 0:
        raise Refuse("the step must not be zero")
    inexact = any(isinstance(v, (float, np.floating)) for v in (a, b, d))
    count = int(np.floor((b - a) / d + 1e-12 * inexact)) + 1
    values = [a + i * d for i in range(max(count, 0))]
    return make_list([float(v) for v in values] if inexact else values) if values else []


def constant_array(c: Any, dims: Any) -> Any:
    shape = ([_int(dims, "the size")] if is_number(dims)
             else [_int(d, "a size") for d in elements(dims)])
    if is_number(c):
        return np.full(shape, c, dtype=np.float64 if isinstance(c, float) else np.int64)
    out: Any = c
    for n in reversed(shape):
        out = make_list([out] * n)
    return out


def accumulate(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return np.cumsum(x, axis=0)
    return make_list(list(itertools.accumulate(_seq(x, "Accumulate"), plus2)))


def partition(x: Any, n: Any, d: Any = None) -> Any:
    items = _seq(x, "Partition")
    if isinstance(n, UpTo):
        size, upto = n.n, True
    else:
        size, upto = _int(n, "the block size"), False
    step = size if d is None else _int(d, "the offset")
    if size < 1 or step < 1:
        raise Refuse("the block size and offset must be positive")
    starts = range(0, len(items) if upto else len(items) - size + 1, step)
    blocks = [items[s:s + size] for s in starts]
    if isinstance(x, np.ndarray):
        return make_list([x[s:s + size] for s in starts]) if blocks else []
    return make_list([make_list(b) for b in blocks])


def join(*xs: Any) -> Any:
    if all(isinstance(x, dict) for x in xs):
        out: dict = {}
        for x in xs:
            out.update(x)
        return out
    items: list[Any] = []
    for x in xs:
        if not is_list(x):
            raise Refuse(f"expected lists, but received {_short(x)}")
        items.extend(elements(x))
    return make_list(items)


def flatten(x: Any, levels: Any = None) -> Any:
    depth = None if levels is None or levels == float("inf") else _int(levels, "the level")
    return make_list(_flat(x, depth))


def _flat(x: Any, depth: int | None) -> list[Any]:
    out: list[Any] = []
    for e in elements(x):
        if is_list(e) and (depth is None or depth > 0):
            out.extend(_flat(e, None if depth is None else depth - 1))
        else:
            out.append(e)
    return out


def transpose(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x if x.ndim < 2 else np.swapaxes(x, 0, 1)
    rows = [elements(r) for r in _seq(x, "Transpose")]
    if rows and not all(len(r) == len(rows[0]) for r in rows):
        raise Refuse(f"the rows of {_short(x)} have different lengths")
    return make_list([make_list(list(c)) for c in zip(*rows, strict=True)])


def length(x: Any) -> int:
    if isinstance(x, Rule):
        return 2
    if isinstance(x, (dict, list, tuple)):
        return len(x)
    if isinstance(x, np.ndarray):
        return int(x.shape[0]) if x.ndim else 0
    return 0


def dimensions(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return np.array(x.shape, dtype=np.int64)
    dims: list[int] = []
    level = [x]
    while level and all(is_list(e) for e in level):
        sizes = {length(e) for e in level}
        if len(sizes) != 1:
            break
        dims.append(sizes.pop())
        level = [c for e in level for c in elements(e)]
    return make_list(dims)


def keys(x: Any) -> Any:
    if isinstance(x, dict):
        return make_list(list(x))
    if isinstance(x, Rule):
        return x.lhs
    return make_list([keys(e) for e in _seq(x, "Keys")])


def values(x: Any) -> Any:
    if isinstance(x, dict):
        return make_list(list(x.values()))
    if isinstance(x, Rule):
        return x.rhs
    return make_list([values(e) for e in _seq(x, "Values")])


def lookup(x: Any, key: Any, *default: Any) -> Any:
    table = x if isinstance(x, dict) else {r.lhs: r.rhs for r in _seq(x, "Lookup")
                                           if isinstance(r, Rule)}
    if is_list(key):
        return make_list([lookup(table, k, *default) for k in elements(key)])
    if key in table:
        return table[key]
    return default[0] if default else Missing("KeyAbsent", key)


def association(*items: Any) -> dict:
    out: dict = {}
    for it in items:
        if isinstance(it, Rule):
            out[_key(it.lhs)] = it.rhs
        elif isinstance(it, dict):
            out.update(it)
        elif is_list(it):
            out.update(association(*elements(it)))
        else:
            raise Refuse(f"expected rules, but received {_short(it)}")
    return out


def _key(k: Any) -> Any:
    if isinstance(k, np.ndarray):
        return tuple(k.tolist())
    return py_scalar(k)


# -- numbers ---------------------------------------------------------------------------------
def is_tensor(x: Any) -> bool:
    """A torch tensor (a WL function given to a layer is called on tensors)."""
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _exact(v: Any) -> Any:
    if isinstance(v, Fraction) and v.denominator == 1:
        return int(v.numerator)
    return v


def _arr(x: Any) -> Any:
    if isinstance(x, Fraction):
        return float(x)
    if isinstance(x, list):
        return np.array([_arr(e) for e in x], dtype=float)
    return x


def listable(op: Callable[[Any, Any], Any], name: str) -> Callable[[Any, Any], Any]:
    def f(a: Any, b: Any) -> Any:
        if is_tensor(a) or is_tensor(b):  # a WL function traced by FunctionLayer/Elementwise
            return op(_arr(a), _arr(b))
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            a2, b2 = _arr(a), _arr(b)
            if not all(isinstance(v, np.ndarray) or is_number(v) for v in (a2, b2)):
                raise Refuse(f"cannot combine {_short(a)} and {_short(b)}")
            try:
                return op(a2, b2)
            except ValueError:
                raise Refuse(f"{_short(a)} and {_short(b)} have incompatible shapes") from None
        if isinstance(a, list) or isinstance(b, list):
            la = elements(a) if isinstance(a, list) else None
            lb = elements(b) if isinstance(b, list) else None
            if la is not None and lb is not None and len(la) != len(lb):
                raise Refuse(f"{_short(a)} and {_short(b)} have different lengths")
            n = len(la if la is not None else lb)  # type: ignore[arg-type]
            return make_list([f(la[i] if la is not None else a, lb[i] if lb is not None else b)
                              for i in range(n)])
        if not (is_number(a) and is_number(b)):
            raise Refuse(f"{name} of {_short(a)} and {_short(b)}: symbolic arithmetic is not "
                         "supported (only numbers and lists of numbers)")
        return _exact(op(py_scalar(a), py_scalar(b)))
    return f


def _power(a: Any, b: Any) -> Any:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        exact = np.asarray(a).dtype.kind == "i" and np.asarray(b).dtype.kind == "i" and \
            bool(np.all(np.asarray(b) >= 0))
        return np.power(a, b) if exact else np.power(np.asarray(a, dtype=float), b)
    if isinstance(a, int) and isinstance(b, int) and b < 0:
        if a == 0:
            raise Refuse("1/0 is infinite (Power::infy)")
        return Fraction(1, a ** -b)
    return a ** b


def _times(a: Any, b: Any) -> Any:
    return a * b


def _plus(a: Any, b: Any) -> Any:
    return a + b


plus2 = listable(_plus, "Plus")
times2 = listable(_times, "Times")
power = listable(_power, "Power")


def mean(x: Any) -> Any:
    items = _seq(x, "Mean")
    if not items:
        raise Refuse("the list is empty")
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return py_scalar(np.mean(x, axis=0))
    total = total_(x)
    return times2(total, Fraction(1, len(items)))


def total_(x: Any, level: Any = 1) -> Any:
    if isinstance(x, dict):
        x = list(x.values())
    if level == float("inf") or level is All:
        return total_(flatten(x))
    n = _int(level, "the level")
    out: Any = 0
    for e in _seq(x, "Total"):
        out = plus2(out, e) if n == 1 else plus2(out, total_(e, n - 1) if is_list(e) else e)
    return out


def clip_ops() -> dict[str, Callable[..., Any]]:
    """Elementwise numeric functions: numbers or arrays in, numbers or arrays out."""
    def unary(fn: Callable[[Any], Any], torch_name: str | None = None
              ) -> Callable[[Any], Any]:
        def f(x: Any) -> Any:
            if is_tensor(x) and torch_name is not None:
                import torch
                return getattr(torch, torch_name)(x)
            if isinstance(x, list):
                return make_list([f(e) for e in x])
            if not (is_number(x) or isinstance(x, np.ndarray)):
                raise Refuse(f"expected a number or a list of numbers, but received {_short(x)}")
            return py_scalar(fn(_arr(x)))
        return f

    def rnd(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def g(x: Any) -> Any:
            v = fn(x)
            return v.astype(np.int64) if isinstance(v, np.ndarray) else int(v)
        return g

    return {
        "Sqrt": unary(np.sqrt, "sqrt"), "Exp": unary(np.exp, "exp"),
        "Log": unary(np.log, "log"), "Sin": unary(np.sin, "sin"), "Cos": unary(np.cos, "cos"),
        "Tan": unary(np.tan, "tan"), "Tanh": unary(np.tanh, "tanh"),
        "Abs": unary(np.abs, "abs"), "Ramp": unary(lambda v: np.maximum(v, 0), "relu"),
        "LogisticSigmoid": unary(lambda v: 1 / (1 + np.exp(-np.asarray(v, dtype=float))),
                                 "sigmoid"),
        "Round": unary(rnd(np.round)), "Floor": unary(rnd(np.floor)),
        "Ceiling": unary(rnd(np.ceil)), "N": unary(lambda v: np.asarray(v, dtype=float)),
        "Sign": unary(rnd(np.sign)),
    }


def extremum(pick: Callable[..., Any], empty: float) -> Callable[..., Any]:
    def f(*xs: Any) -> Any:
        flat: list[Any] = []
        for x in xs:
            flat.extend(_flat(x, None) if is_list(x) else [x])
        if not flat:
            return empty
        if not all(is_number(v) for v in flat):
            raise Refuse("expected numbers")
        return py_scalar(pick(flat))
    return f


# -- random numbers --------------------------------------------------------------------------
class Random:
    """The kernel's generator: SeedRandom[s] resets it (numpy's PCG64, not WL's ExtendedCA, so a
    seeded stream differs from WL's numbers; the distributions are WL's)."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng()

    def seed(self, s: Any = None) -> None:
        if isinstance(s, str):
            s = int.from_bytes(s.encode(), "little")
        self.rng = np.random.default_rng(None if s is None else _int(s, "the seed"))

    def _dims(self, spec: Any) -> tuple[int, ...] | None:
        if spec is None:
            return None
        if is_number(spec):
            return (_int(spec, "the count"),)
        return tuple(_int(d, "a dimension") for d in elements(spec))

    def integer(self, spec: Any = None, n: Any = None) -> Any:
        if spec is None:
            lo, hi = 0, 1
        elif is_number(spec):
            lo, hi = 0, _int(spec, "the maximum")
        else:
            lo, hi = (_int(v, "a bound") for v in elements(spec))
        out = self.rng.integers(lo, hi + 1, size=self._dims(n))
        return py_scalar(out) if n is None else out

    def real(self, spec: Any = None, n: Any = None) -> Any:
        if isinstance(spec, Distribution):
            return self.variate(spec, n)
        if spec is None:
            lo, hi = 0.0, 1.0
        elif is_number(spec):
            lo, hi = 0.0, float(spec)
        else:
            lo, hi = (float(v) for v in elements(spec))
        out = self.rng.uniform(lo, hi, size=self._dims(n))
        return py_scalar(out) if n is None else out


    def variate(self, dist: Any, n: Any = None) -> Any:
        """``RandomVariate[dist, n]`` (and ``RandomReal[dist, n]``) for the distributions
        data-building code samples: normal and uniform."""
        if not isinstance(dist, Distribution) or dist.name not in _SAMPLERS:
            raise Refuse(f"expected NormalDistribution[mu, sigma] or UniformDistribution[{{min, "
                         f"max}}], but received {wl_repr(dist)}")
        out = _SAMPLERS[dist.name](self.rng, *dist.args, size=self._dims(n))
        return py_scalar(out) if n is None else out

    def sample(self, x: Any, n: Any = None) -> Any:
        """``RandomSample[list]`` (a random order), ``RandomSample[list, n]``."""
        items = _seq(x, "RandomSample")
        k = len(items) if n is None else _int(n, "the count")
        if not 0 <= k <= len(items):
            raise Refuse(f"cannot sample {k} elements of a list of {len(items)}")
        order = self.rng.permutation(len(items))[:k]
        if isinstance(x, np.ndarray):
            return x[order]
        return make_list([items[i] for i in order])


_SAMPLERS: dict[str, Callable[..., Any]] = {
    "NormalDistribution": lambda rng, mu, sigma, size: rng.normal(mu, sigma, size),
    "UniformDistribution": lambda rng, lo, hi, size: rng.uniform(lo, hi, size),
}
RANDOM = Random()


def to_rules(x: Any) -> list[Rule]:
    """Normal of an association: its rules."""
    return [Rule(k, v) for k, v in x.items()]
