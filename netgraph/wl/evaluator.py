"""Evaluate a parsed WL tree: the data-building subset plus every netgraph head.

A netgraph head is called with WL's forms turned into the Python API's spelling
(:func:`to_python`): rules become tuples, associations dicts, trailing ``name -> value``
rules keyword options. Errors keep their class and message and gain the call's position.
"""
from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from ..coders.base import Coder
from ..errors import NetGraphError
from ..layers.base import Layer
from ..layers.levels import Span
from . import lists as L
from .errors import WLEvaluationError, WLUnsupportedError, at
from .parser import Atom, Expr, Node, Symbol
from .values import (
    Held,
    Missing,
    Quantity,
    Rule,
    Sym,
    WLFunction,
    elements,
    is_list,
    is_number,
    make_list,
    py_scalar,
    wl_repr,
)

CONSTANTS: dict[str, Any] = {
    "True": True, "False": False, "Null": None, "None": None, "Infinity": math.inf,
    "Pi": math.pi, "E": math.e,
}


class Delayed:
    """``x := body``: evaluated again each time ``x`` is read."""

    def __init__(self, body: Expr, scope: Scope) -> None:
        self.body, self.scope = body, scope

    def __repr__(self) -> str:
        return f"Delayed[{self.body.fullform()}]"


class Scope:
    """Local variables (Module, With, Function parameters, iterators) over the user's env."""

    def __init__(self, names: dict[str, Any], parent: Scope | None,
                 slots: tuple[Any, ...] | None = None, env: dict | None = None) -> None:
        self.names, self.parent, self.slots = names, parent, slots
        self.env: dict = env if env is not None else (parent.env if parent else {})

    def find(self, name: str) -> tuple[bool, Any]:
        s: Scope | None = self
        while s is not None:
            if name in s.names:
                return True, s.names[name]
            s = s.parent
        if name in self.env:
            return True, self.env[name]
        return False, None

    def assign(self, name: str, value: Any) -> None:
        s: Scope | None = self
        while s is not None:
            if name in s.names:
                s.names[name] = value
                return
            s = s.parent
        self.env[name] = value

    def slot_args(self) -> tuple[Any, ...] | None:
        s: Scope | None = self
        while s is not None:
            if s.slots is not None:
                return s.slots
            s = s.parent
        return None


def public_names() -> dict[str, Any]:
    """netgraph's heads and symbols by WL name (``netgraph.__all__`` and the layer registry:
    new heads join without edits here). Read at call time: this module sits below
    ``netgraph/__init__``."""
    from ..io.registry import layer_registry
    ng = importlib.import_module("netgraph")
    names = {n: getattr(ng, n) for n in ng.__all__ if hasattr(ng, n)}
    # every head a net file may hold (internal ones too, e.g. RecurrentStep), so that any net
    # to_wl writes reads back
    for head, cls in layer_registry().items():
        if "." not in head:
            names.setdefault(head, cls)
    return names


class Evaluator:
    def __init__(self, env: dict) -> None:
        self.env = env
        self.names = public_names()
        self.top = Scope({}, None, env=env)
        self.printer: Callable[[str], None] = print

    # -- errors -------------------------------------------------------------------------------
    def unsupported(self, name: str, e: Expr, what: str = "function") -> WLUnsupportedError:
        listed = ", ".join(sorted((set(FUNCTIONS) | set(SPECIAL)) - {"RuleDelayed"}))
        return WLUnsupportedError(
            name, f"Unsupported WL {what} {name} at {at(e.line, e.col)}; supported: the netgraph "
            f"heads and symbols (NetGraph, NetChain, LinearLayer, NetTrain, ...) and {listed}.",
            e.line, e.col)

    def fail(self, head: str, message: str, e: Expr) -> WLEvaluationError:
        return WLEvaluationError(head, message, e.line, e.col)

    # -- evaluation ---------------------------------------------------------------------------
    def run(self, e: Expr) -> Any:
        return self.eval(e, self.top)

    def eval(self, e: Expr, scope: Scope) -> Any:
        if isinstance(e, Atom):
            return e.value
        if isinstance(e, Symbol):
            return self.symbol(e, scope)
        name = e.name
        if name is not None:
            special = SPECIAL.get(name)
            if special is not None and not scope.find(name)[0]:
                return special(self, e, scope)
            fn = FUNCTIONS.get(name)
            if fn is not None and not scope.find(name)[0]:
                return self.builtin(name, fn, self.args(e, scope), e)
            if name not in self.names and not scope.find(name)[0]:
                raise self.unsupported(name, e)
        head = self.eval(e.head, scope)
        return self.apply(head, self.args(e, scope), e)

    def symbol(self, e: Symbol, scope: Scope) -> Any:
        found, v = scope.find(e.name)
        if found:
            return self.eval(v.body, v.scope) if isinstance(v, Delayed) else v
        if e.name in CONSTANTS:
            return CONSTANTS[e.name]
        if e.name in self.names:
            return self.names[e.name]
        return Sym(e.name)

    def args(self, e: Node, scope: Scope) -> list[Any]:
        out: list[Any] = []
        for a in e.args:
            if isinstance(a, Node) and a.name == "SlotSequence":
                slots = scope.slot_args() or ()
                out.extend(slots[int(a.args[0].value) - 1:])  # type: ignore[union-attr]
            else:
                out.append(self.eval(a, scope))
        return out

    def builtin(self, name: str, fn: Callable[..., Any], args: list[Any], e: Expr) -> Any:
        try:
            return fn(*args)
        except L.Refuse as err:
            raise self.fail(name, str(err), e) from None
        except TypeError as err:
            if "positional argument" in str(err) or "argument" in str(err):
                raise self.fail(name, f"called with {len(args)} arguments, which {name} does "
                                "not accept", e) from None
            raise self.fail(name, str(err), e) from None
        except ValueError as err:
            raise self.fail(name, f"{name}[...] failed: {err}", e) from None

    # -- applying values ----------------------------------------------------------------------
    def apply(self, f: Any, args: list[Any], e: Node) -> Any:
        name = e.name or _label(f)
        if isinstance(f, WLFunction):
            return f(*args)
        if isinstance(f, dict):
            if len(args) != 1:
                raise self.fail(name, "an association takes one key", e)
            key = py_scalar(args[0])
            return f.get(key, Missing("KeyAbsent", key))
        if isinstance(f, Sym):
            raise self.unsupported(f.name, e)
        builtin = FUNCTIONS.get(getattr(f, "name", None) or "")
        if builtin is not None and not isinstance(f, type) and not callable(f):
            return self.builtin(f.name, builtin, args, e)
        return self.call_python(f, name, args, e)

    def call_python(self, f: Any, name: str, args: list[Any], e: Node) -> Any:
        """A netgraph head or value called with WL arguments."""
        if _full_form_call(f, args):
            from .writer import from_full_form
            try:
                return from_full_form(name, args[0])
            except NetGraphError as err:
                raise self.locate(err, name, e) from None
        classy = isinstance(f, type)
        # evaluating a net or a coder: WL's options there are symbols (TargetDevice -> ...),
        # and a rule with a string name is a property, net[x, "TopProbabilities" -> 3]
        # (NetReplacePart[net, "Output" -> dec]: a rule with a string name is the part)
        pos, opts = split_options(args, symbols_only=isinstance(f, (Layer, Coder))
                                  or name in RULE_HEADS)
        try:
            py_args = [to_python(a, classy) for a in pos]
            if name in PATH_HEADS and len(py_args) > 1:
                py_args[1] = _path(py_args[1])
            py_opts = {k: to_python(v, classy) for k, v in opts.items()}
        except _Unknown as u:
            raise self.unsupported(u.name, e, "symbol") from None
        try:
            if callable(f):
                return f(*py_args, **py_opts)
            if hasattr(f, "__getitem__") and len(py_args) == 1 and not py_opts:
                return f[py_args[0]]
        except (WLEvaluationError, WLUnsupportedError):
            raise
        except NetGraphError as err:
            raise self.locate(err, name, e) from None
        except (TypeError, ValueError, KeyError, IndexError) as err:
            raise self.fail(name, f"{name}[...] failed: {type(err).__name__}: {err}", e) from err
        raise self.fail(name, f"{_short(f)} cannot be applied to arguments", e)

    def locate(self, err: NetGraphError, name: str, e: Expr) -> NetGraphError:
        """The netgraph error itself (same class and message), with the WL position added."""
        err.args = (f"{err.args[0] if err.args else err} (in the WL call {name}[...] at "
                    f"{at(e.line, e.col)})",)
        err.line, err.col = e.line, e.col  # type: ignore[attr-defined]
        return err

    # -- functions ----------------------------------------------------------------------------
    def run_function(self, f: WLFunction, args: tuple[Any, ...]) -> Any:
        if f.params is None:
            return self.eval(f.body, Scope({}, f.scope, slots=args))
        if len(args) < len(f.params):
            raise self.fail("Function", f"{f!r} expects {len(f.params)} arguments, but "
                            f"received {len(args)}", f.body)
        return self.eval(f.body, Scope(dict(zip(f.params, args, strict=False)), f.scope))

    def function(self, params: list[str] | None, body: Expr, scope: Scope) -> WLFunction:
        return WLFunction(params, body, scope, self.run_function)


def _full_form_call(f: Any, args: list[Any]) -> bool:
    """``Head[<|"Parameters" -> ..., ...|>]``: the full form WL's InputForm gives a layer."""
    from ..layers.base import Layer
    return (isinstance(f, type) and issubclass(f, Layer) and len(args) in (1, 2)
            and isinstance(args[0], dict) and "Parameters" in args[0])


def _numeric_array(data: Any, kind: Any = "Real32") -> np.ndarray:
    """``NumericArray[list, "Real32"]``: an array of the given machine type."""
    from .writer import FROM_DTYPES
    if kind not in FROM_DTYPES:
        raise L.Refuse(f"unknown type {wl_repr(kind)}; the types are "
                       f"{', '.join(sorted(FROM_DTYPES))}")
    try:
        return np.asarray(to_python(data, True), dtype=FROM_DTYPES[kind])
    except (TypeError, ValueError):
        raise L.Refuse(f"{_short(data)} is not a rectangular array of numbers") from None


def _quantity(n: Any, unit: Any) -> Quantity:
    if not (is_number(n) and isinstance(unit, str)):
        raise L.Refuse(f'expected Quantity[n, "unit"], but received {wl_repr(n)}, '
                       f"{wl_repr(unit)}")
    return Quantity(n, unit)


def _label(f: Any) -> str:
    return getattr(f, "head", None) or getattr(f, "__name__", None) or type(f).__name__


def _short(x: Any) -> str:
    s = wl_repr(x)
    return s if len(s) < 60 else s[:57] + "..."


# -- WL values -> the Python API ---------------------------------------------------------
class _Unknown(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


def split_options(args: list[Any], symbols_only: bool = False
                  ) -> tuple[list[Any], dict[str, Any]]:
    """Trailing ``name -> value`` rules (a string or symbol name; only a symbol with
    ``symbols_only``) are keyword options."""
    n = len(args)
    names = (Sym,) if symbols_only else (str, Sym)
    while n and isinstance(args[n - 1], Rule) and isinstance(args[n - 1].lhs, names):
        n -= 1
    opts = {}
    for r in args[n:]:
        opts[r.lhs.name if isinstance(r.lhs, Sym) else r.lhs] = r.rhs
    return args[:n], opts


def to_python(v: Any, classy: bool = False) -> Any:
    """A WL value as the Python API spells it (CONTRACT.md): rules -> tuples, ``{name, opts}``
    -> ``(name, {opts})``; numpy arrays stay arrays (data) except in a constructor's
    arguments (``classy``), where they are lists (sizes, shapes)."""
    if isinstance(v, Rule):
        items = [v.lhs]
        r = v.rhs
        while isinstance(r, Rule):
            items.append(r.lhs)
            r = r.rhs
        items.append(r)
        return tuple(to_python(x, classy) for x in items)
    if isinstance(v, dict):
        return {_py_key(k): to_python(x, classy) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        if len(v) > 1 and isinstance(v[0], str) and all(
                isinstance(r, Rule) and isinstance(r.lhs, (str, Sym)) for r in v[1:]):
            return (v[0], {_py_key(r.lhs): to_python(r.rhs, classy) for r in v[1:]})
        return [to_python(x, classy) for x in v]
    if isinstance(v, np.ndarray):
        return v.tolist() if classy else v
    if isinstance(v, Quantity):
        return (to_python(v.magnitude), v.unit)
    if isinstance(v, Sym):
        raise _Unknown(v.name)
    if isinstance(v, Fraction):
        return float(v)
    if isinstance(v, WLFunction):   # called by Python (a training generator): its WL result
        return _PythonCall(v)       # (rules, lists of rules) as the Python API spells it
    return v


class _PythonCall:
    """A WL function handed to a netgraph head: called by Python, its result is converted
    as arguments are (``{x -> "pos", ...}`` becomes ``[(x, "pos"), ...]``)."""

    def __init__(self, f: WLFunction) -> None:
        self.f = f
        self.__signature__ = f.__signature__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return to_python(self.f(*args, **kwargs))

    def __repr__(self) -> str:
        return repr(self.f)


# WL writes a path into a net as a list ({1, "Weights"}) and several paths as a list of
# lists; the Python API spells a path as a tuple and several as a list.
PATH_HEADS = {"NetExtract"}
RULE_HEADS = {"NetReplacePart"}   # heads whose trailing "name" -> value rules are arguments


def _path(spec: Any) -> Any:
    if isinstance(spec, list) and spec and all(isinstance(s, list) for s in spec):
        return [tuple(s) for s in spec]
    if isinstance(spec, (list, np.ndarray)):
        return tuple(spec.tolist() if isinstance(spec, np.ndarray) else spec)
    return spec


def _py_key(k: Any) -> Any:
    return k.name if isinstance(k, Sym) else k


# -- special forms (arguments held) ----------------------------------------------------------
def _set(ev: Evaluator, e: Node, scope: Scope) -> Any:
    if len(e.args) != 2:
        raise ev.fail("Set", "expected lhs = rhs", e)
    value = ev.eval(e.args[1], scope)
    _assign(ev, e.args[0], value, scope, e)
    return value


def _assign(ev: Evaluator, lhs: Expr, value: Any, scope: Scope, e: Expr) -> None:
    if isinstance(lhs, Symbol):
        if lhs.name in CONSTANTS or lhs.name in ev.names:
            raise ev.fail("Set", f"{lhs.name} is protected", lhs)
        scope.assign(lhs.name, value)
        return
    if isinstance(lhs, Node) and lhs.name == "List":
        try:
            items = elements(value) if not isinstance(value, tuple) else list(value)
        except TypeError:
            items = None
        if items is None or len(items) != len(lhs.args):
            raise ev.fail("Set", f"the lists {lhs.fullform()} and {_short(value)} are not the "
                          "same shape (Set::shape)", lhs)
        for part, v in zip(lhs.args, items, strict=True):
            _assign(ev, part, v, scope, e)
        return
    raise ev.unsupported(f"assignment to {lhs.fullform()}", lhs, "form")


def _set_delayed(ev: Evaluator, e: Node, scope: Scope) -> Any:
    lhs, body = e.args
    if isinstance(lhs, Symbol):
        scope.assign(lhs.name, Delayed(body, scope))
        return None
    params = _plain_patterns(lhs)
    if params is not None and isinstance(lhs, Node) and isinstance(lhs.head, Symbol):
        scope.assign(lhs.head.name, ev.function(params, body, scope))
        return None
    raise ev.unsupported(f"definition {lhs.fullform()} := ...", lhs, "form")


def _plain_patterns(lhs: Expr) -> list[str] | None:
    """The names of ``f[x_, y_]`` (plain blanks only), else None."""
    if not isinstance(lhs, Node):
        return None
    names = []
    for a in lhs.args:
        if not (isinstance(a, Node) and a.name == "Pattern" and isinstance(a.args[0], Symbol)
                and isinstance(a.args[1], Node) and not a.args[1].args):
            return None
        names.append(a.args[0].name)
    return names


def _compound(ev: Evaluator, e: Node, scope: Scope) -> Any:
    out = None
    for a in e.args:
        out = ev.eval(a, scope)
    return out


def _if(ev: Evaluator, e: Node, scope: Scope) -> Any:
    if not 2 <= len(e.args) <= 4:
        raise ev.fail("If", "expected If[cond, then] .. If[cond, then, else, neither]", e)
    c = ev.eval(e.args[0], scope)
    if isinstance(c, (bool, np.bool_)):
        branch = 1 if c else 2
        return ev.eval(e.args[branch], scope) if branch < len(e.args) else None
    if len(e.args) == 4:
        return ev.eval(e.args[3], scope)
    raise ev.fail("If", f"the condition {e.args[0].fullform()} gave {_short(c)}, neither True "
                  "nor False", e)


def _iterate(ev: Evaluator, spec: Expr, scope: Scope) -> tuple[str | None, list[Any]]:
    """An iterator spec: n, {n}, {i, n}, {i, a, b}, {i, a, b, d}, {i, {values}}."""
    if not (isinstance(spec, Node) and spec.name == "List"):
        n = ev.eval(spec, scope)
        return None, list(range(L._int(n, "the count")))
    first, rest = spec.args[0], spec.args[1:]
    if not isinstance(first, Symbol) or not rest:
        n = ev.eval(first, scope)
        return None, list(range(L._int(n, "the count")))
    bounds = [ev.eval(a, scope) for a in rest]
    if len(bounds) == 1 and is_list(bounds[0]):
        return first.name, elements(bounds[0])
    if len(bounds) == 1:
        bounds = [1, bounds[0]]
    r = L.range_(*bounds)
    return first.name, elements(r) if is_list(r) else []


def _loops(ev: Evaluator, specs: tuple[Expr, ...], scope: Scope) -> Iterator[Scope]:
    if not specs:
        yield scope
        return
    try:
        var, values = _iterate(ev, specs[0], scope)
    except L.Refuse as err:
        raise ev.fail("Table", f"bad iterator {specs[0].fullform()}: {err}", specs[0]) from None
    for v in values:
        inner = Scope({var: v} if var else {}, scope)
        yield from _loops(ev, specs[1:], inner)


def _table(ev: Evaluator, e: Node, scope: Scope) -> Any:
    if len(e.args) < 2:
        raise ev.fail("Table", "expected Table[expr, iterator, ...]", e)
    return _table_level(ev, e.args[0], e.args[1:], scope)


def _table_level(ev: Evaluator, body: Expr, specs: tuple[Expr, ...], scope: Scope) -> Any:
    try:
        var, values = _iterate(ev, specs[0], scope)
    except L.Refuse as err:
        raise ev.fail("Table", f"bad iterator {specs[0].fullform()}: {err}", specs[0]) from None
    out = []
    for v in values:
        inner = Scope({var: v} if var else {}, scope)
        out.append(ev.eval(body, inner) if len(specs) == 1
                   else _table_level(ev, body, specs[1:], inner))
    return make_list(out)


def _do(ev: Evaluator, e: Node, scope: Scope) -> Any:
    if len(e.args) < 2:
        raise ev.fail("Do", "expected Do[expr, iterator, ...]", e)
    for inner in _loops(ev, e.args[1:], scope):
        ev.eval(e.args[0], inner)
    return None


def _locals(ev: Evaluator, e: Node, scope: Scope, head: str) -> Scope:
    if len(e.args) != 2 or not (isinstance(e.args[0], Node) and e.args[0].name == "List"):
        raise ev.fail(head, f"expected {head}[{{vars...}}, body]", e)
    names: dict[str, Any] = {}
    for v in e.args[0].args:
        if isinstance(v, Symbol) and head == "Module":
            names[v.name] = Sym(f"{v.name}$")
        elif isinstance(v, Node) and v.name == "Set" and isinstance(v.args[0], Symbol):
            names[v.args[0].name] = ev.eval(v.args[1], scope)
        else:
            raise ev.fail(head, f"cannot localize {v.fullform()}", v)
    return Scope(names, scope)


def _module(ev: Evaluator, e: Node, scope: Scope) -> Any:
    return ev.eval(e.args[1], _locals(ev, e, scope, "Module"))


def _with(ev: Evaluator, e: Node, scope: Scope) -> Any:
    return ev.eval(e.args[1], _locals(ev, e, scope, "With"))


def _function(ev: Evaluator, e: Node, scope: Scope) -> Any:
    if len(e.args) == 1:
        return ev.function(None, e.args[0], scope)
    if len(e.args) != 2:
        raise ev.fail("Function", "expected Function[body] or Function[params, body]", e)
    p = e.args[0]
    if isinstance(p, Symbol):
        params = [p.name]
    elif isinstance(p, Node) and p.name == "List" and all(isinstance(a, Symbol) for a in p.args):
        params = [a.name for a in p.args if isinstance(a, Symbol)]
    else:
        raise ev.fail("Function", f"the parameters {p.fullform()} must be symbols", p)
    return ev.function(params, e.args[1], scope)


def _slot(ev: Evaluator, e: Node, scope: Scope) -> Any:
    args = scope.slot_args()
    k = e.args[0].value  # type: ignore[union-attr]
    if args is None:
        raise ev.fail("Slot", f"#{'' if k == 1 else k} appears outside a function (body &)", e)
    if isinstance(k, str):
        if not args or not isinstance(args[0], dict):
            raise ev.fail("Slot", f"#{k} needs an association argument", e)
        return args[0].get(k, Missing("KeyAbsent", k))
    if k == 0:
        raise ev.unsupported("#0", e, "form")
    if k > len(args):
        raise ev.fail("Slot", f"#{k} asks for argument {k}, but the function received "
                      f"{len(args)}", e)
    return args[k - 1]


def _hold(ev: Evaluator, e: Node, scope: Scope) -> Any:
    if len(e.args) != 1:
        raise ev.fail(e.name or "Hold", "expected one argument", e)
    return Held(e.args[0], scope)


def _and(ev: Evaluator, e: Node, scope: Scope) -> Any:
    for a in e.args:
        if not _truth(ev, a, scope, "And"):
            return False
    return True


def _or(ev: Evaluator, e: Node, scope: Scope) -> Any:
    return any(_truth(ev, a, scope, "Or") for a in e.args)


def _truth(ev: Evaluator, a: Expr, scope: Scope, head: str) -> bool:
    v = ev.eval(a, scope)
    if not isinstance(v, (bool, np.bool_)):
        raise ev.fail(head, f"{a.fullform()} gave {_short(v)}, neither True nor False", a)
    return bool(v)


def _update(op: Callable[[Any, Any], Any], post: bool = False) -> Callable[..., Any]:
    def f(ev: Evaluator, e: Node, scope: Scope) -> Any:
        target = e.args[0]
        if not isinstance(target, Symbol):
            raise ev.unsupported(f"update of {target.fullform()}", target, "form")
        old = ev.eval(target, scope)
        delta = ev.eval(e.args[1], scope) if len(e.args) > 1 else 1
        try:
            new = op(old, delta)
        except L.Refuse as err:
            raise ev.fail(e.name or "AddTo", str(err), e) from None
        scope.assign(target.name, new)
        return old if post else new
    return f


def _minus(a: Any, b: Any) -> Any:
    return L.plus2(a, L.times2(-1, b))


def _rule_delayed(ev: Evaluator, e: Node, scope: Scope) -> Any:
    raise ev.unsupported("RuleDelayed", e, "form (:>; write -> instead)")


def _thread(ev: Evaluator, e: Node, scope: Scope) -> Any:
    if len(e.args) != 1:
        raise ev.fail("Thread", "expected Thread[f[args]]", e)
    inner = e.args[0]
    value = ev.eval(inner, scope)
    if isinstance(value, Rule):
        parts = [value.lhs, value.rhs]
        make = Rule
    else:
        raise ev.unsupported(f"Thread of {inner.fullform()}", e, "form (Thread threads rules)")
    lists = [elements(p) for p in parts if is_list(p)]
    n = len(lists[0]) if lists else 0
    if any(len(x) != n for x in lists):
        raise ev.fail("Thread", f"the lists in {_short(value)} have different lengths "
                      "(Thread::tdlen)", e)
    cols = [elements(p) if is_list(p) else [p] * n for p in parts]
    return [make(*row) for row in zip(*cols, strict=True)]


def _span(ev: Evaluator, e: Node, scope: Scope) -> Any:
    args = ev.args(e, scope)
    try:
        return Span(*args)
    except NetGraphError as err:
        raise ev.fail("Span", str(err), e) from None


SPECIAL: dict[str, Callable[[Evaluator, Node, Scope], Any]] = {
    "Set": _set, "SetDelayed": _set_delayed, "CompoundExpression": _compound, "If": _if,
    "Table": _table, "Do": _do, "Module": _module, "With": _with, "Function": _function,
    "Slot": _slot, "Hold": _hold, "HoldForm": _hold, "And": _and, "Or": _or,
    "AddTo": _update(L.plus2), "SubtractFrom": _update(_minus), "TimesBy": _update(L.times2),
    "Increment": _update(L.plus2, post=True), "PreIncrement": _update(L.plus2),
    "Decrement": _update(_minus, post=True), "PreDecrement": _update(_minus),
    "RuleDelayed": _rule_delayed, "Thread": _thread, "Span": _span,
    "AppendTo": _update(lambda x, v: L.join(x, make_list([v]))),
}


# -- functions of evaluated arguments --------------------------------------------------------
def _plus(*xs: Any) -> Any:
    out: Any = 0
    for x in xs:
        out = L.plus2(out, x)
    return out


def _times(*xs: Any) -> Any:
    out: Any = 1
    for x in xs:
        out = L.times2(out, x)
    return out


def _compare(op: Callable[[Any, Any], bool]) -> Callable[..., Any]:
    def f(*xs: Any) -> bool:
        for a, b in zip(xs, xs[1:], strict=False):
            if not (is_number(a) and is_number(b)):
                raise L.Refuse(f"cannot compare {_short(a)} and {_short(b)}")
            if not op(a, b):
                return False
        return True
    return f


def _equal(*xs: Any) -> bool:
    return all(_same(a, b) for a, b in zip(xs, xs[1:], strict=False))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(np.asarray(a), np.asarray(b)))
    return bool(a == b)


def _inequality(*xs: Any) -> bool:
    ops = {"Less": _compare(lambda a, b: a < b), "Greater": _compare(lambda a, b: a > b),
           "LessEqual": _compare(lambda a, b: a <= b),
           "GreaterEqual": _compare(lambda a, b: a >= b), "Equal": _equal,
           "Unequal": lambda a, b: not _equal(a, b)}
    for i in range(1, len(xs) - 1, 2):
        op = getattr(xs[i], "name", None)
        if op not in ops:
            raise L.Refuse(f"{xs[i]!r} is not a comparison")
        if not ops[op](xs[i - 1], xs[i + 1]):
            return False
    return True


def _not(x: Any) -> bool:
    if not isinstance(x, (bool, np.bool_)):
        raise L.Refuse(f"expected True or False, but received {_short(x)}")
    return not x


def _map(f: Any, x: Any) -> Any:
    call = _caller(f)
    if isinstance(x, dict):
        return {k: call(v) for k, v in x.items()}
    return make_list([call(v) for v in elements(x)] if is_list(x) else _not_list(x))


def _not_list(x: Any) -> list:
    raise L.Refuse(f"expected a list or an association, but received {_short(x)}")


def _apply(f: Any, x: Any, level: Any = None) -> Any:
    call = _caller(f)
    if level is not None:
        return make_list([call(*_items(v)) for v in elements(x)])
    return call(*_items(x))


def _map_apply(f: Any, x: Any) -> Any:
    return _apply(f, x, 1)


def _items(x: Any) -> list[Any]:
    if isinstance(x, Rule):
        return [x.lhs, x.rhs]
    if isinstance(x, dict):
        return list(x.values())
    return elements(x)


def _caller(f: Any) -> Callable[..., Any]:
    """A WL function value (a Function, a builtin symbol, a netgraph head) as a Python call."""
    if isinstance(f, WLFunction):
        return f
    name = getattr(f, "name", None)
    if isinstance(name, str) and name in FUNCTIONS and not isinstance(f, type):
        return FUNCTIONS[name]
    if isinstance(f, Sym):
        if f.name in FUNCTIONS:
            return FUNCTIONS[f.name]
        raise L.Refuse(f"Unsupported WL function {f.name}")
    if callable(f):
        return lambda *a: f(*[to_python(v, isinstance(f, type)) for v in a])
    raise L.Refuse(f"{_short(f)} is not a function")


def _print(*xs: Any) -> None:
    print("".join(x if isinstance(x, str) else wl_repr(x) for x in xs))


def _echo(x: Any, label: Any = "") -> Any:
    print(f">> {label}{x if isinstance(x, str) else wl_repr(x)}")
    return x


def _normal(x: Any) -> Any:
    if isinstance(x, dict):
        return L.to_rules(x)
    from ..normal import Normal
    return Normal(x)


def _release(x: Any) -> Any:
    if isinstance(x, Held):
        return _EVALUATORS[-1].eval(x.expr, x.scope)
    return x


def _list(*xs: Any) -> Any:
    return make_list(list(xs))


def _rule(a: Any, b: Any) -> Rule:
    return Rule(a, b)


def _reverse(x: Any) -> Any:
    return x[::-1] if isinstance(x, np.ndarray) else make_list(elements(x)[::-1])


def _string_join(*xs: Any) -> str:
    parts = [y for x in xs for y in (elements(x) if is_list(x) else [x])]
    if not all(isinstance(p, str) for p in parts):
        raise L.Refuse("expected strings")
    return "".join(parts)


def _to_string(x: Any) -> str:
    return x if isinstance(x, str) else wl_repr(x)


def _dot(a: Any, b: Any) -> Any:
    return py_scalar(np.dot(np.asarray(a, dtype=float), np.asarray(b, dtype=float)))


def _subtract(a: Any, b: Any) -> Any:
    return _minus(a, b)


def _divide(a: Any, b: Any) -> Any:
    return L.times2(a, L.power(b, -1))


_EVALUATORS: list[Evaluator] = []

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "List": _list, "Rule": _rule, "Association": L.association, "Range": L.range_,
    "Accumulate": L.accumulate, "Partition": L.partition, "Part": lambda x, *s: L.part(x, list(s)),
    "Take": L.take, "Drop": L.drop, "First": L.first, "Last": L.last, "Rest": L.rest,
    "Most": L.most, "Join": L.join, "Flatten": L.flatten, "ConstantArray": L.constant_array,
    "Transpose": L.transpose, "Length": L.length, "Dimensions": L.dimensions, "Keys": L.keys,
    "Values": L.values, "Lookup": L.lookup, "Mean": L.mean, "Total": L.total_,
    "Max": L.extremum(max, -math.inf), "Min": L.extremum(min, math.inf),
    "Map": _map, "Apply": _apply, "MapApply": _map_apply, "Print": _print, "Echo": _echo,
    "Normal": _normal, "ReleaseHold": _release, "Reverse": _reverse, "UpTo": L.UpTo,
    "Plus": _plus, "Times": _times, "Power": L.power, "Subtract": _subtract, "Divide": _divide,
    "Minus": lambda x: L.times2(-1, x), "Dot": _dot,
    "Equal": _equal, "Unequal": lambda a, b: not _equal(a, b), "SameQ": _equal,
    "UnsameQ": lambda a, b: not _equal(a, b), "Not": _not, "Inequality": _inequality,
    "Less": _compare(lambda a, b: a < b), "Greater": _compare(lambda a, b: a > b),
    "LessEqual": _compare(lambda a, b: a <= b), "GreaterEqual": _compare(lambda a, b: a >= b),
    "RandomInteger": L.RANDOM.integer, "RandomReal": L.RANDOM.real, "SeedRandom": L.RANDOM.seed,
    "RandomSample": L.RANDOM.sample, "RandomVariate": L.RANDOM.variate,
    "Append": lambda x, e: L.join(x, make_list([e])),
    "StringJoin": _string_join, "ToString": _to_string, "NumericArray": _numeric_array,
    "Quantity": _quantity,
    **L.clip_ops(),
}
