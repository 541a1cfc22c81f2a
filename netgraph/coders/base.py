"""The coder value: what NetEncoder and NetDecoder share.

A coder is an immutable value built from a WL-style spec: ``["Class", ["a", "b"]]`` is WL's
``{"Class", {"a", "b"}}``. The first element names the type, the next ones are the type's
positional parameters, and options come as a dict, as ``(name, value)`` rules or as keyword
arguments: ``NetEncoder(["Image", [28, 28], {"ColorSpace": "Grayscale"}])`` is
``NetEncoder(["Image", [28, 28]], ColorSpace="Grayscale")``.

Each type is a subclass that declares its parameters (``PARAMS``: name -> default, in WL's
order; ``POSITIONAL``: the ones that may be given by position) and normalises them in
:meth:`Coder._normalize`. The facts the data boundary needs (``port_type``, ``encode``,
``decode`` ...) live on the type's class.
"""
from __future__ import annotations

import difflib
import json
import sys
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from ..errors import EvaluationError, OptionError, ShapeError, nearest
from ..shapes import PortType, UnifyError, unify
from ..symbols import Symbol

REQUIRED = Symbol("Required")  # a parameter without a default
_UNSET = Symbol("Unset")


class CoderError(EvaluationError):
    """Bad data given to a coder: a label not in the class list, an unreadable image file ...

    ``reason`` is the message without its head, so that the data boundary can re-head it with
    the port and the example (:meth:`rehead`). ``index`` is the 0-based position of the bad
    example in the list given to ``encode``/``decode`` (None for a single example); ``label``
    and ``suggestion`` are set for an unknown class label, ``path`` for an image file.
    """

    def __init__(self, head: str, reason: str, *, index: int | None = None, label: Any = None,
                 suggestion: Any = None, path: str | None = None) -> None:
        super().__init__(head, reason)
        self.reason, self.index, self.label = reason, index, label
        self.suggestion, self.path = suggestion, path

    def rehead(self, head: str, where: str = "") -> CoderError:
        """The same error as raised by ``head`` at ``where`` (e.g. 'port "Input", example 3')."""
        reason = f"{where}: {self.reason}" if where else self.reason
        return CoderError(head, reason, index=self.index, label=self.label,
                          suggestion=self.suggestion, path=self.path)

    def at(self, index: int) -> CoderError:
        """This error for the example at 0-based ``index`` of a batch."""
        return CoderError(self.head, self.reason, index=index, label=self.label,
                          suggestion=self.suggestion, path=self.path)


# -- WL-ish text of values ------------------------------------------------------------------
def show(value: Any, limit: int = 8) -> str:
    """A value as Python code with double-quoted strings; long lists shortened with '...'."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        items = list(value)
        parts = [show(v, limit) for v in items[:limit]]
        if len(items) > limit:
            parts = [show(v, limit) for v in items[:limit - 2]] + ["...", show(items[-1])]
        return "[" + ", ".join(parts) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{show(k)}: {show(v, limit)}" for k, v in value.items()) + "}"
    if isinstance(value, np.ndarray):
        return f"<array {'x'.join(map(str, value.shape))}>"
    if callable(value) and not isinstance(value, Symbol):
        return getattr(value, "__name__", "<function>")
    return repr(value)


def suggest(x: Any, choices: list[Any]) -> Any:
    """The choice nearest to ``x`` (a close spelling, or the nearest number), or None."""
    if isinstance(x, str):
        strs = [c for c in choices if isinstance(c, str)]
        close = difflib.get_close_matches(x, strs, n=1, cutoff=0.5)
        if close:
            return close[0]
        low = [c for c in strs if c.lower() == x.lower()]
        return low[0] if low else None
    if isinstance(x, (int, float, np.number)) and not isinstance(x, bool):
        nums = [c for c in choices if isinstance(c, (int, float)) and not isinstance(c, bool)]
        return min(nums, key=lambda c: abs(c - x)) if nums else None
    return None


def is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_))


def hashable_key(value: Any) -> Any:
    """A hashable stand-in for a parameter value (lists -> tuples, arrays -> bytes)."""
    if isinstance(value, (list, tuple)):
        return tuple(hashable_key(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), hashable_key(v)) for k, v in value.items()))
    if isinstance(value, np.ndarray):
        return ("array", value.shape, str(value.dtype), value.tobytes())
    if isinstance(value, (bool, np.bool_)):
        return ("Boolean", bool(value))  # True is not the label 1
    return value


# -- the value ------------------------------------------------------------------------------
class Coder:
    """Base of :class:`NetEncoder` and :class:`NetDecoder` (see the module docstring)."""

    side: ClassVar[str] = "Coder"  # "NetEncoder" or "NetDecoder"
    kind: ClassVar[str] = ""
    PARAMS: ClassVar[dict[str, Any]] = {}
    POSITIONAL: ClassVar[tuple[str, ...]] = ()
    _types: ClassVar[dict[str, type[Coder]]]

    params: Mapping[str, Any]

    def __init_subclass__(cls, kind: str = "", **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if kind:
            cls.kind = kind
            cls._types[kind] = cls

    def __new__(cls, spec: Any = _UNSET, **options: Any) -> Any:
        if spec is _UNSET:
            raise OptionError(cls.side, 'expected a type such as "Class" or a list such as '
                              '["Class", ["a", "b"]], but received nothing.')
        if isinstance(spec, Coder):
            if not options and isinstance(spec, cls):
                return spec
            return cls._convert(spec, options)
        kind, args, opts = _split(cls.side, spec, cls._types)
        return cls._types[kind]._build(args, {**opts, **options})

    def __init__(self, *args: Any, **kw: Any) -> None:
        pass  # built by __new__

    @classmethod
    def _build(cls, args: list[Any], opts: dict[str, Any]) -> Any:
        if len(args) > len(cls.POSITIONAL):
            raise OptionError(cls.side, f'"{cls.kind}" takes at most {len(cls.POSITIONAL)} '
                              f"positional parameter{'s' if len(cls.POSITIONAL) != 1 else ''} "
                              f"({', '.join(cls.POSITIONAL) or 'none'}), but received "
                              f"{len(args)}: {show(args)}.")
        params = dict(zip(cls.POSITIONAL, args, strict=False))
        for k, v in opts.items():
            if k not in cls.PARAMS:
                raise OptionError(cls.side, f'"{cls.kind}" has no parameter {show(k)}.'
                                  f"{nearest(str(k), cls.PARAMS)} Its parameters are: "
                                  f"{', '.join(cls.PARAMS)}.")
            if k in params:
                raise OptionError(cls.side, f'"{cls.kind}": parameter "{k}" is given twice.')
            params[k] = v
        for k, default in cls.PARAMS.items():
            if k not in params:
                if default is REQUIRED:
                    raise OptionError(cls.side, f'"{cls.kind}" needs its parameter "{k}", '
                                      "but none was given.")
                params[k] = default
        obj = object.__new__(cls)
        normal = cls._normalize(params)
        object.__setattr__(obj, "params", MappingProxyType(
            {k: normal[k] for k in cls.PARAMS}))
        obj._setup()
        return obj

    @classmethod
    def _convert(cls, other: Coder, options: dict[str, Any]) -> Any:
        """NetEncoder(decoder) / NetDecoder(encoder), or a coder with some parameters changed."""
        if isinstance(other, cls):
            sub = type(other)
            return sub._build([], {**dict(other.params), **options})
        target = cls._types.get(other.kind)
        if target is None or not hasattr(other, "counterpart_params"):
            raise OptionError(cls.side, f'cannot make a {cls.side} from {other!r}.')
        return target._build([], {**other.counterpart_params(), **options})  # type: ignore

    # -- per-type hooks ---------------------------------------------------------------------
    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise the parameters (raise :class:`OptionError` naming them)."""
        return p

    def _setup(self) -> None:
        """Compute derived, private fields (lookup tables) once, at construction."""

    @classmethod
    def bad(cls, what: str, expected: str, received: Any) -> OptionError:
        """An OptionError for a bad parameter value."""
        return OptionError(cls.side, f'"{cls.kind}" expects {what} to be {expected}, but '
                           f"received {show(received)}.")

    def fail(self, reason: str, **fields: Any) -> CoderError:
        return CoderError(self.side, reason, **fields)

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    @property
    def port_type(self) -> PortType:
        """The type of one encoded example (encoder) or of one decoder input (decoder)."""
        raise NotImplementedError

    def check_port(self, port_type: PortType, where: str) -> PortType:
        """The port type unified with this coder's; a ShapeError naming ``where`` if they clash."""
        from .. import shapes
        try:
            return unify(self.port_type, port_type)
        except UnifyError:
            pass
        if self.port_type.kind == "Integer" and port_type.kind in (None, "Real"):
            try:  # an index encoder may feed a real port of the same shape
                return unify(shapes.PortType(self.port_type.dims, None), port_type)
            except UnifyError:
                pass
        verb = "gives" if self.side == "NetEncoder" else "expects"
        raise ShapeError(self.side, f"{self!r} {verb} {self.port_type.describe()}, but {where} "
                         f"holds {port_type.describe()}.")

    # -- value semantics --------------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"{self.side} values are immutable; make a new one instead")

    def _key(self) -> Any:
        return (self.side, self.kind, hashable_key(dict(self.params)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Coder) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __copy__(self) -> Coder:
        return self

    def __deepcopy__(self, memo: dict) -> Coder:
        return self

    def __reduce__(self) -> Any:
        return (_rebuild, (self.side, self.kind, dict(self.params)))

    def spec(self) -> list[Any]:
        """The WL-style spec that builds this coder: type, positional parameters, options."""
        defaults = self.PARAMS
        pos = list(self.POSITIONAL)
        while pos and _same(self.params[pos[-1]], defaults[pos[-1]]):
            pos.pop()
        out: list[Any] = [self.kind, *(self.params[k] for k in pos)]
        opts = {k: v for k, v in self.params.items()
                if k not in pos and not _same(v, defaults[k])}
        return out + ([opts] if opts else [])

    def __repr__(self) -> str:
        return self.code()

    def code(self, limit: int = 8) -> str:
        """The constructor call as Python code; lists longer than ``limit`` are shortened
        with '...' (the display); ``code(limit=0)`` writes them in full."""
        spec, n = self.spec(), limit or sys.maxsize
        inner = show(spec[0], n) if len(spec) == 1 else show(spec, n)
        return f"{self.side}({inner})"

    def __getitem__(self, name: str) -> Any:
        """``coder["param"]``: a parameter, as WL's ``coder[["param"]]``."""
        info = self.information()
        if name not in info:
            raise OptionError(self.side, f"{show(name)} is not a property of {self!r}."
                              f"{nearest(str(name), info)} Properties: {', '.join(info)}.")
        return info[name]

    # -- Information and JSON ---------------------------------------------------------------
    def information(self, prop: str | None = None) -> Any:
        """Information(coder, prop): "Type", each parameter, the encoded shape, "Properties"."""
        port = "Output" if self.side == "NetEncoder" else "Input"
        info: dict[str, Any] = {"Type": self.kind, **self.params, port: self.port_type.spec()}
        info.update(self._extra_information())
        if prop is None:
            return info
        if prop == "Properties":
            return list(info)
        if prop not in info:
            raise OptionError("Information", f"unknown property {show(prop)} of {self!r}."
                              f"{nearest(str(prop), info)} Valid properties are: "
                              f"{', '.join(info)}.")
        return info[prop]

    def _extra_information(self) -> dict[str, Any]:
        return {}

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON dict that :meth:`from_json` turns back into an equal coder."""
        params = {k: self._param_to_json(k, v) for k, v in self.params.items()}
        data = {"Coder": self.side, "Type": self.kind, "Parameters": params}
        try:
            json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise OptionError(self.side, f"{self!r} cannot be written as JSON ({e}).") from None
        return data

    def _param_to_json(self, name: str, value: Any) -> Any:
        if isinstance(value, Symbol):
            return {"Symbol": value.name}
        if isinstance(value, np.ndarray):
            return {"Array": value.tolist(), "Shape": list(value.shape)}
        if isinstance(value, tuple):
            return [self._param_to_json(name, v) for v in value]
        return value

    @classmethod
    def from_json(cls, data: Any) -> Any:
        """A coder from :meth:`to_json`'s dict (or its JSON text)."""
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, Mapping) or not {"Coder", "Type", "Parameters"} <= set(data):
            raise OptionError(cls.side, "from_json expects a dict with keys \"Coder\", "
                              f"\"Type\" and \"Parameters\", but received {show(data)}.")
        side = data["Coder"]
        base = cls if cls.side == side else next(
            (c for c in Coder.__subclasses__() if c.side == side), None)
        if base is None or data["Type"] not in base._types:
            raise OptionError(cls.side, f"from_json: unknown coder {show(side)} of type "
                              f"{show(data['Type'])}.")
        sub = base._types[data["Type"]]
        params = {k: _from_json_value(v) for k, v in data["Parameters"].items()}
        return sub._build([], params)


def _from_json_value(v: Any) -> Any:
    if isinstance(v, Mapping) and set(v) == {"Symbol"}:
        from .. import symbols
        sym = getattr(symbols, str(v["Symbol"]), None)
        return sym if isinstance(sym, Symbol) else Symbol(str(v["Symbol"]))
    if isinstance(v, Mapping) and set(v) == {"Array", "Shape"}:
        return np.asarray(v["Array"], dtype=np.float32).reshape(v["Shape"])
    if isinstance(v, list):
        return [_from_json_value(x) for x in v]
    return v


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return False
    try:
        return bool(hashable_key(a) == hashable_key(b)) and type(a) is type(b)
    except TypeError:
        return a is b


def _rebuild(side: str, kind: str, params: dict[str, Any]) -> Coder:
    base = next(c for c in Coder.__subclasses__() if c.side == side)
    return base._types[kind]._build([], params)  # type: ignore[attr-defined]


def _is_rule(x: Any, types: dict[str, type[Coder]], kind: str) -> bool:
    return (isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str)
            and x[0] in types[kind].PARAMS)


def _split(side: str, spec: Any, types: dict[str, type[Coder]]
           ) -> tuple[str, list[Any], dict[str, Any]]:
    """(type name, positional parameters, options) of a user's spec."""
    if isinstance(spec, str):
        kind, rest = spec, []
    elif isinstance(spec, (list, tuple)) and spec and isinstance(spec[0], str):
        kind, rest = spec[0], list(spec[1:])
    else:
        raise OptionError(side, 'expected a type such as "Class" or a list such as '
                          f'["Class", ["a", "b"]], but received {show(spec)}.')
    if kind not in types:
        raise OptionError(side, f"unknown type {show(kind)}.{nearest(kind, types)} Known types "
                          f"are: {', '.join(show(t) for t in types)}.")
    args: list[Any] = []
    opts: dict[str, Any] = {}
    for x in rest:
        if isinstance(x, Mapping):
            opts.update(x)
        elif _is_rule(x, types, kind):
            opts[x[0]] = x[1]
        elif opts:
            raise OptionError(side, f'"{kind}": positional parameter {show(x)} after the '
                              "options; options come last.")
        else:
            args.append(x)
    return kind, args, opts


def check_callable(side: str, kind: str, f: Any) -> Callable:
    if not callable(f):
        raise OptionError(side, f'"{kind}" expects a Python function, but received {show(f)}.')
    return f

