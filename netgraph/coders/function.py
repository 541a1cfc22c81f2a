"""The "Function" encoder and decoder: a Python function does the (de)coding.

They hold Python code, so they are never written as JSON (``to_json`` refuses them; so does
Export), and they compare equal only when they hold the same function object.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ..errors import NetExportError, ShapeError
from ..shapes import UNKNOWN, VARYING, PortType, parse
from .base import REQUIRED, CoderError, show
from .values import NetDecoder, NetEncoder


def _function(cls: Any, f: Any) -> Callable:
    if not callable(f):
        raise cls.bad("its function", "a Python callable", f)
    return f


def _name(f: Any) -> str:
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)


class FunctionCoder:
    """JSON refusal shared by both sides."""

    side: str
    params: Any

    def to_json(self) -> dict[str, Any]:
        raise NetExportError(self.side, f'a "Function" coder holds Python code '
                             f"({_name(self.params['Function'])}), which is never written "
                             "as JSON; rebuild it in Python after loading.")


def _matches(pattern: Any, x: Any) -> bool:
    if isinstance(pattern, type) or (isinstance(pattern, tuple) and all(
            isinstance(t, type) for t in pattern)):
        return isinstance(x, pattern)
    return bool(pattern(x))


class FunctionEncoder(FunctionCoder, NetEncoder, kind="Function"):  # type: ignore[misc]
    """``["Function", f, dims]``: ``f(example)`` gives an array of dimensions ``dims`` (a
    list of sizes, "Varying" for a length of any size, an element type "Integer" last).

    Options "Pattern" (None, a type or tuple of types, or a predicate: what one example is;
    a list that is not one is a batch) and "Batched" (False; True: ``f`` gets the whole list
    of examples at once and returns one array for all of them).
    """

    PARAMS: ClassVar[dict[str, Any]] = {"Function": REQUIRED, "Dimensions": REQUIRED,
                                        "Pattern": None, "Batched": False}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Function", "Dimensions")

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["Function"] = _function(cls, p["Function"])
        dims = p["Dimensions"]
        dims = [dims] if isinstance(dims, int) and not isinstance(dims, bool) else dims
        if not isinstance(dims, (list, tuple)):
            raise cls.bad("the output dimensions", "a list of sizes", dims)
        dims = tuple("Varying" if d is VARYING else d for d in dims)
        try:
            parse(dims, "NetEncoder", '"Function" output')
        except ShapeError:
            raise cls.bad("the output dimensions", "a list of positive sizes, \"Varying\" and "
                          "an optional element type", list(dims)) from None
        p["Dimensions"] = dims
        pat = p["Pattern"]
        if pat is not None and not (callable(pat) or (isinstance(pat, tuple) and all(
                isinstance(t, type) for t in pat))):
            raise cls.bad('"Pattern"', "None, a type, a tuple of types or a predicate", pat)
        if not isinstance(p["Batched"], bool):
            raise cls.bad('"Batched"', "True or False", p["Batched"])
        return p

    @property
    def port_type(self) -> PortType:
        t = parse(self.params["Dimensions"], "NetEncoder")
        return PortType(t.dims, t.kind or "Real", t.bound)

    def is_batch(self, x: Any) -> bool:
        pat = self.params["Pattern"]
        if pat is not None and _matches(pat, x):
            return False
        return isinstance(x, (list, tuple))

    def _encode(self, items: list[Any]) -> Any:
        f, pat = self.params["Function"], self.params["Pattern"]
        if pat is not None:
            for i, x in enumerate(items):
                if not _matches(pat, x):
                    raise CoderError(self.side, f"{show(x)} does not match the encoder's "
                                     f'"Pattern" {show(pat)}.', index=i)
        if self.params["Batched"]:
            out = self._array(f(items), None, batch=len(items))
            return list(out) if isinstance(out, list) else out
        arrays = [self._array(self._call(f, x, i), i) for i, x in enumerate(items)]
        if len({a.shape for a in arrays}) == 1:
            return np.stack(arrays)
        return arrays if arrays else np.zeros((0,), np.float32)

    def _call(self, f: Callable, x: Any, i: int) -> Any:
        try:
            return f(x)
        except Exception as e:  # the user's function failed on this example
            raise CoderError(self.side, f"the function {_name(f)} failed on {show(x)}: "
                             f"{type(e).__name__}: {e}", index=i) from e

    def _array(self, y: Any, i: int | None, batch: int | None = None) -> Any:
        t = self.port_type
        dtype = np.int64 if t.kind == "Integer" else np.float32
        try:
            a = np.asarray(y, dtype=dtype)
        except (TypeError, ValueError):
            raise CoderError(self.side, f"the function {_name(self.params['Function'])} gave "
                             f"{show(y)}, which is not a numeric array.", index=i) from None
        shape = a.shape if batch is None else a.shape[1:]
        dims = t.dims or ()
        if (batch is not None and (a.ndim < 1 or a.shape[0] != batch)) or len(shape) != len(
                dims) or any(d is not None and d is not VARYING and d != s
                             for d, s in zip(dims, shape, strict=False)):
            what = "a batch of " + str(batch) + " arrays of " if batch is not None else ""
            raise CoderError(self.side, f"the function {_name(self.params['Function'])} "
                             f"should give {what}{t.describe()}, but gave an array of "
                             f"dimensions {list(a.shape)}.", index=i)
        return a


class FunctionDecoder(FunctionCoder, NetDecoder, kind="Function"):  # type: ignore[misc]
    """``["Function", f]``: ``f(array)`` decodes one output array (a numpy array).

    With ``{"Properties": ["p1", "p2"]}``, ``f(array, prop)`` computes a property; "p1" is the
    default.
    """

    PARAMS: ClassVar[dict[str, Any]] = {"Function": REQUIRED, "Properties": ()}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Function",)

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["Function"] = _function(cls, p["Function"])
        props = p["Properties"]
        if not isinstance(props, (list, tuple)) or not all(isinstance(s, str) for s in props):
            raise cls.bad('"Properties"', "a list of property names", props)
        p["Properties"] = tuple(props)
        return p

    @property
    def PROPERTIES(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.params["Properties"]

    @property
    def port_type(self) -> PortType:
        return UNKNOWN

    def as_batch(self, x: Any) -> tuple[Any, bool]:
        return [np.asarray(x)], False  # no fixed depth: one example, as WL

    def _decode(self, batch: Any, name: str, arg: Any) -> list[Any]:
        f = self.params["Function"]
        rows = batch if isinstance(batch, list) else list(np.asarray(batch))
        if not self.params["Properties"]:
            return [f(np.asarray(r)) for r in rows]
        return [f(np.asarray(r), name) for r in rows]
