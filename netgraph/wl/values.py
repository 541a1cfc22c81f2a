"""The values WL text evaluates to, and their conversion to the Python API's spelling.

WL lists are numpy arrays when numeric and rectangular, Python lists otherwise; rules are
:class:`Rule` values until they reach a netgraph head, where they become tuples
(``a -> b -> c`` is ``(a, b, c)``, CONTRACT.md principle 2); associations are dicts;
``Null`` and ``None`` are Python ``None``; a symbol with no value is a :class:`Sym`.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ..coders.base import Coder


@dataclass(frozen=True)
class Sym:
    """A symbol with no value (WL evaluates it to itself): option names, unknown names."""

    name: str

    def __repr__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Rule:
    """``lhs -> rhs``."""

    lhs: Any
    rhs: Any

    def __repr__(self) -> str:
        return f"{wl_repr(self.lhs)} -> {wl_repr(self.rhs)}"


@dataclass(frozen=True)
class Missing:
    """``Missing["KeyAbsent", key]``."""

    reason: str
    key: Any

    def __repr__(self) -> str:
        return f'Missing["{self.reason}", {wl_repr(self.key)}]'


@dataclass(frozen=True)
class Quantity:
    """``Quantity[n, "unit"]`` (TimeGoal -> Quantity[5, "Minutes"]): ``(n, "unit")`` in Python."""

    magnitude: Any
    unit: str

    def __repr__(self) -> str:
        return f'Quantity[{wl_repr(self.magnitude)}, {wl_repr(self.unit)}]'


@dataclass(frozen=True)
class Held:
    """``Hold[expr]``: the unevaluated tree and the scope it was written in."""

    expr: Any
    scope: Any

    def __repr__(self) -> str:
        return f"Hold[{self.expr.fullform()}]"


class WLFunction:
    """``body &``, ``Function[x, body]``, ``Function[{x, y}, body]``: a Python callable.

    Calling it from Python (a TrainingProgressFunction, a training generator) evaluates the
    body with the arguments bound, in the scope where the function was written.
    """

    def __init__(self, params: list[str] | None, body: Any, scope: Any, run: Callable) -> None:
        self.params, self.body, self.scope, self._run = params, body, scope, run
        self.__signature__ = self._signature()

    def _signature(self) -> inspect.Signature:
        """What Python sees (FunctionLayer names its ports after it): the named parameters;
        for ``body &`` the named slots (``#a``, called with keywords, as WL passes an
        association) or ``#1 .. #n``."""
        self._named: list[str] = []
        if self.params is not None:
            names = list(self.params)
        else:
            named, n = _slots(self.body)
            self._named = sorted(named)
            names = self._named or [f"x{i}" for i in range(1, n + 1)]
        return inspect.Signature([inspect.Parameter(v, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                  for v in names])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._named and not (len(args) == 1 and isinstance(args[0], dict)):
            # #a, #b: Python passes the ports by name or position; WL gives an association
            args = ({**dict(zip(self._named, args, strict=False)), **kwargs},)
        elif kwargs:
            if self.params is None:
                args = (*args, dict(kwargs))
            else:
                args = (*args, *(kwargs[p] for p in self.params[len(args):]))
        return self._run(self, args)

    def __repr__(self) -> str:
        if self.params is None:
            return f"Function[{self.body.fullform()}]"
        return f"Function[{{{', '.join(self.params)}}}, {self.body.fullform()}]"


def _slots(body: Any) -> tuple[set[str], int]:
    """Named slots and the highest numbered slot of a ``body &`` (not inside inner ``&``)."""
    named: set[str] = set()
    top = 0
    stack = [body]
    while stack:
        e = stack.pop()
        args = getattr(e, "args", None)
        if args is None:
            continue
        name = getattr(e, "name", None)
        if name == "Function":
            continue
        if name in ("Slot", "SlotSequence") and args and hasattr(args[0], "value"):
            v = args[0].value
            if isinstance(v, str):
                named.add(v)
            else:
                top = max(top, int(v))
            continue
        stack.extend(args)
        stack.append(e.head)
    return named, top


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float, Fraction, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_))


def make_list(items: list[Any]) -> Any:
    """A WL list: a numpy array when numeric and rectangular, else a Python list."""
    if items and all(is_number(x) for x in items):
        # WL packs a list only when its numbers are all integers or all reals
        if all(isinstance(x, (float, np.floating)) for x in items):
            return np.array([float(x) for x in items])
        if all(isinstance(x, (int, np.integer)) for x in items):
            return np.array(items, dtype=np.int64)
        return list(items)  # mixed, or exact rationals (which stay exact)
    if items and all(isinstance(x, np.ndarray) for x in items):
        if len({(x.shape, x.dtype) for x in items}) == 1:
            return np.stack(items)
    return list(items)


def py_scalar(x: Any) -> Any:
    """numpy scalars as Python numbers (WL Part of an array gives a number)."""
    if isinstance(x, np.generic):
        return x.item()
    return x


def elements(x: Any) -> list[Any]:
    """The top-level elements of a WL list value."""
    if isinstance(x, np.ndarray):
        return [py_scalar(e) for e in x] if x.ndim == 1 else list(x)
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, dict):
        return list(x.values())
    raise TypeError(f"{wl_repr(x)} is not a list")


def is_list(x: Any) -> bool:
    return isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim >= 1)


# -- WL text of a value (for messages and the CLI) -------------------------------------------
def wl_repr(x: Any) -> str:
    """A value as WL InputForm-like text (lists as {...}, dicts as <|...|>)."""
    if x is None:
        return "Null"
    if isinstance(x, (bool, np.bool_)):
        return "True" if x else "False"
    if isinstance(x, str):
        return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(x, Fraction):
        return f"{x.numerator}/{x.denominator}"
    if isinstance(x, (float, np.floating)):
        return _real(float(x))
    if isinstance(x, np.ndarray):
        if x.ndim == 0:
            return wl_repr(x.item())
        return "{" + ", ".join(wl_repr(py_scalar(e)) for e in x) + "}"
    if isinstance(x, (list, tuple)):
        return "{" + ", ".join(wl_repr(e) for e in x) + "}"
    if isinstance(x, dict):
        return "<|" + ", ".join(f"{wl_repr(k)} -> {wl_repr(v)}" for k, v in x.items()) + "|>"
    if hasattr(x, "numpy") and hasattr(x, "detach"):  # a torch tensor (OutputArrays)
        return wl_repr(x.detach().cpu().numpy())
    if isinstance(x, Coder):   # NetEncoder[{...}] as WL writes it, not the Python call
        from .writer import coder_wl
        return coder_wl(x)
    return repr(x)


def _real(v: float) -> str:
    if v != v:
        return "Indeterminate"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    r = repr(v)
    if "e" in r:
        mant, exp = r.split("e")
        return f"{mant if '.' in mant else mant + '.'}*^{int(exp)}"
    return r[:-1] if r.endswith(".0") else r
