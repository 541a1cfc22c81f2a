"""Import: a layer value from JSON metadata and arrays, refusing anything malformed."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..coders import NetDecoder, NetEncoder
from ..errors import NetGraphError, nearest
from ..graph.net import Container
from ..layers.base import Layer
from ..ports import NetPort, PortRef
from ..shapes import VARYING, PortType, Restricted
from ..symbols import Scaled, Symbol
from .checks import Refused, rebuild
from .registry import Path, dataclass_registry, layer_label, layer_registry

LAYER_KEYS = {"head", "params", "inputs", "outputs", "arrays"}

KINDS = (None, "Real", "Integer")


class Decoder:
    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.used: set[str] = set()
        self.shared: dict[str, tuple[str, np.ndarray]] = {}  # name -> (key, array)
        self.registry = layer_registry()
        self.dataclasses = dataclass_registry()

    def take(self, key: Any, where: str) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise Refused(f"{where} refers to an array {key!r} that the file does not hold")
        if key in self.used:
            raise Refused(f"{where} refers to the array {key!r}, which another part of the "
                           "net already uses")
        self.used.add(key)
        a = np.array(self.arrays[key], copy=True)
        a.flags.writeable = False
        return a

    def layer(self, d: Any, path: Path) -> Layer:
        if not isinstance(d, dict) or set(d) - {"coders"} != LAYER_KEYS:
            raise Refused(f"{layer_label(path, 'a layer')} is malformed: expected the keys "
                           f"{', '.join(sorted(LAYER_KEYS))}")
        head = d["head"]
        cls: type[Layer] | None = self.registry.get(head) if isinstance(head, str) else None
        if cls is None:
            hint = nearest(head, self.registry) if isinstance(head, str) else ""
            raise Refused(f"{layer_label(path, repr(head))} has an unknown head {head!r}.{hint}")
        where = layer_label(path, head)
        params = self.value(d["params"], where, path, cls)
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise Refused(f"{where} has malformed parameters: expected an object")
        ins, outs = self.types(d["inputs"], where), self.types(d["outputs"], where)
        arrays = d["arrays"]
        if not isinstance(arrays, dict):
            raise Refused(f"{where} has a malformed array list")
        names = params.get("shared") or {}
        arrs = {k: None if ref is None else self.array(ref, names, f'{where}, array "{k}",', k)
                for k, ref in arrays.items()}
        coders = self.coders(d.get("coders", {}), where)
        return rebuild(cls, params, ins, outs, arrs, where, coders)

    def coders(self, d: Any, where: str) -> dict[str, Any]:
        """The ports' coders (``NetEncoder``/``NetDecoder`` JSON), refused when malformed."""
        if not isinstance(d, dict):
            raise Refused(f"{where} has a malformed coder list")
        out = {}
        for p, c in d.items():
            base = NetDecoder if isinstance(c, dict) and c.get("Coder") == "NetDecoder" \
                else NetEncoder
            try:
                out[p] = base.from_json(c)
            except NetGraphError as e:
                raise Refused(f'{where}, port "{p}", has a malformed coder: '
                              f"{str(e).split(': ', 1)[-1].rstrip('.')}") from None
        return out

    def array(self, ref: Any, names: Any, where: str, k: str) -> np.ndarray:
        """A layer's array: a key of the file's arrays, or ``{"$shared": [name, key]}`` for
        a shared array (one stored array, given to every use of that name)."""
        if not isinstance(ref, dict):
            return self.take(ref, where)
        pair = ref.get("$shared") if set(ref) == {"$shared"} else None
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str)
                                                                  for x in pair)):
            raise Refused(f"{where} has a malformed array reference")
        name, key = pair
        if not isinstance(names, dict) or names.get(k) != name:
            raise Refused(f"{where} refers to the shared array {name!r}, but the layer does "
                          "not declare it shared")
        if name not in self.shared:
            self.shared[name] = (key, self.take(key, where))
        if self.shared[name][0] != key:
            raise Refused(f"{where} gives the shared array {name!r} a second stored array")
        return self.shared[name][1]

    def types(self, d: Any, where: str) -> dict[str, PortType]:
        if not isinstance(d, dict):
            raise Refused(f"{where} has malformed port types")
        return {p: decode_type(t, f'{where}, port "{p}"') for p, t in d.items()}

    def value(self, v: Any, where: str, path: Path, cls: type | None = None) -> Any:
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):  # scalars directly: a hostile file's lists can be long
            return tuple(x if x is None or isinstance(x, (bool, int, float, str))
                         else self.value(x, where, path + (str(i),)) for i, x in enumerate(v))
        if not isinstance(v, dict):
            raise Refused(f"{where} has a malformed parameter value {v!r}")
        tags = [k for k in v if k.startswith("$")]
        if not tags:
            return {k: self.value(x, where, _sub(cls, path, k)) for k, x in v.items()}
        if tags[0] == "$dataclass" and set(v) == {"$dataclass", "fields"}:
            return self.dataclass(v, where, path)
        if len(v) != 1:
            raise Refused(f"{where} has a malformed tagged value with keys {sorted(v)}")
        return self.tagged(tags[0], v[tags[0]], where, path, cls)

    def tagged(self, tag: str, x: Any, where: str, path: Path, cls: type | None) -> Any:
        try:
            if tag == "$layer":
                return self.layer(x, path)
            if tag in ("$list", "$set"):
                items = [self.value(e, where, path + (str(i),)) for i, e in enumerate(_list(x))]
                return items if tag == "$list" else frozenset(items)
            if tag == "$dict":
                return self.dict_items(x, where, path, cls)
            if tag == "$array":
                return self.take(x, f"{where}, a parameter,")
            if tag == "$netport":
                return NetPort(*[self.value(e, where, path) for e in _list(x)])
            return decode_atom(tag, x, where)
        except (NetGraphError, TypeError) as e:
            raise Refused(f"{where} has a malformed {tag} value ({e})") from None

    def dict_items(self, x: Any, where: str, path: Path, cls: type | None) -> dict:
        out: dict = {}
        for e in _list(x):
            k = self.value(_pair(e)[0], where, path)
            if k in out:
                raise Refused(f"{where} has the key {k!r} twice in one dict")
            out[k] = self.value(e[1], where, _sub(cls, path, str(e[0])))
        return out

    def dataclass(self, v: dict, where: str, path: Path) -> Any:
        cls = self.dataclasses.get(v["$dataclass"]) if isinstance(v["$dataclass"], str) else None
        fields = v["fields"]
        if cls is None or not isinstance(fields, dict):
            raise Refused(f"{where} has an unknown value type {v['$dataclass']!r}")
        try:
            return cls(**{k: self.value(x, where, path + (k,)) for k, x in fields.items()})
        except (NetGraphError, TypeError, ValueError) as e:
            raise Refused(f"{where} has a malformed {cls.__name__} value ({e})") from None


def _sub(cls: type | None, path: Path, key: str) -> Path:
    return path if cls is not None and issubclass(cls, Container) and key == "nodes" else (
        path + (key,))


def _list(x: Any) -> list:
    if not isinstance(x, list):
        raise TypeError(f"expected a list, but received {type(x).__name__}")
    return x


def _pair(e: Any) -> list:
    if not isinstance(e, list) or len(e) != 2:
        raise TypeError("expected [key, value] pairs")
    return e


def decode_atom(tag: str, x: Any, where: str) -> Any:
    """The simple tagged values: symbols, port types and references, Scaled, Restricted."""
    if tag == "$symbol" and isinstance(x, str) and x.isidentifier():
        import netgraph.symbols as symbols
        known = getattr(symbols, x, None)
        return known if isinstance(known, Symbol) and known.name == x else Symbol(x)
    if tag == "$varying" and x is True:
        return VARYING
    if tag == "$type":
        return decode_type(x, where)
    if tag == "$port" and isinstance(x, list) and len(x) == 2 and (
            x[0] is None or isinstance(x[0], str)) and isinstance(x[1], str):
        return PortRef(x[0], x[1])
    if tag == "$scaled":
        return Scaled(x)
    if tag == "$restricted":
        return Restricted("Integer", tuple(x) if isinstance(x, list) else x)
    raise Refused(f"{where} has an unknown or malformed tagged value {tag!r}")


def decode_type(t: Any, where: str) -> PortType:
    """A port type from its JSON form, refusing anything a PortType cannot hold."""
    if not isinstance(t, dict) or set(t) != {"dims", "kind", "bound"}:
        raise Refused(f"{where} has a malformed port type")
    dims, kind, bound = t["dims"], t["kind"], t["bound"]
    ok_dims = dims is None or isinstance(dims, list) and all(
        d is None or d == "Varying" or (isinstance(d, int) and not isinstance(d, bool) and d >= 1)
        for d in dims)
    ok_bound = bound is None or (kind == "Integer" and isinstance(bound, list) and len(bound) == 2
                                 and all(isinstance(b, int) and not isinstance(b, bool)
                                         for b in bound) and bound[0] <= bound[1])
    if not ok_dims or kind not in KINDS or not ok_bound:
        raise Refused(f"{where} has an invalid port type {t!r}")
    return PortType(None if dims is None else tuple(VARYING if d == "Varying" else d for d in dims),
                    kind, None if bound is None else (bound[0], bound[1]))
