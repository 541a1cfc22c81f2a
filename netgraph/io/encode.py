"""Export: a layer value as JSON metadata plus its arrays (see docs/file-format.md)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import NetExportError, NetGraphError
from ..layers.base import Layer
from ..ports import NetPort, PortRef
from ..shapes import VARYING, PortType, Restricted
from ..symbols import Scaled, Symbol
from ..version import __version__
from .registry import Path, dataclass_registry, layer_label, layer_registry, params_path


def _escape(segment: str) -> str:
    s = segment.replace("%", "%25").replace("/", "%2F")
    return "%24" + s[1:] if s.startswith("$") else s


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.shared: dict[str, str] = {}  # shared array name -> its key, stored once
        self.heads = {c: h for h, c in layer_registry().items()}
        self.dataclasses = {c: n for n, c in dataclass_registry().items()}

    def fail(self, where: str, message: str) -> NetExportError:
        return NetExportError("Export", f"{where}: {message}")

    def store(self, path: Path, array: np.ndarray) -> str:
        key = "/".join(_escape(s) for s in path)
        base, i = key, 1
        while key in self.arrays:
            i += 1
            key = f"{base}~{i}"
        self.arrays[key] = np.require(array, requirements="C")
        return key

    def layer(self, layer: Layer, path: Path) -> dict:
        where = layer_label(path, layer.head)
        params = {k: self.value(v, params_path(layer, path, k), where, k)
                  for k, v in layer.params.items()}
        head = self.heads.get(type(layer))
        if head is None:
            raise self.fail(where, f"{type(layer).__name__} is not one of netgraph's layer "
                            "classes, so a .netgraph file cannot hold it.")
        body = {"head": head, "params": self.mapping(params),
                "inputs": {p: encode_type(t) for p, t in layer.in_types.items()},
                "outputs": {p: encode_type(t) for p, t in layer.out_types.items()},
                "arrays": {k: self.array(layer, k, a, path) for k, a in layer.arrays.items()}}
        if layer.coders:
            body["coders"] = {p: self.coder(c, where, p) for p, c in layer.coders.items()}
        return body

    def coder(self, c: Any, where: str, port: str) -> dict:
        """A port's coder as JSON (its own ``to_json``); a "Function" coder holds code."""
        if c.kind == "Function":
            raise self.fail(where, f'port "{port}" has a "Function" coder ({c!r}), which holds '
                            "Python code; a .netgraph file never holds code. Remove it first "
                            f'(NetReplacePart(net, ("{port}", None))) and attach it again '
                            "after Import.")
        try:
            return c.to_json()  # type: ignore[no-any-return]
        except NetGraphError as e:
            raise self.fail(where, f'port "{port}": {str(e).split(": ", 1)[-1]}') from None

    def array(self, layer: Layer, k: str, a: np.ndarray | None, path: Path) -> Any:
        """A reference to the stored array; a shared array is stored once and each use is
        ``{"$shared": [name, key]}``."""
        name = layer.shared_names().get(k)
        if a is None or name is None:
            return None if a is None else self.store(path + (k,), a)
        if name not in self.shared:
            self.shared[name] = self.store(("$shared", name), a)
        return {"$shared": [name, self.shared[name]]}

    def mapping(self, items: dict) -> Any:
        if all(isinstance(k, str) and not k.startswith("$") for k in items):
            return items
        return {"$dict": [[k, v] for k, v in items.items()]}

    def value(self, v: Any, path: Path, where: str, param: str) -> Any:
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, Layer):
            return {"$layer": self.layer(v, path)}
        if isinstance(v, (tuple, list, set, frozenset)):
            items = [self.value(x, path + (str(i),), where, param) for i, x in enumerate(v)]
            return items if isinstance(v, tuple) else {
                "$list" if isinstance(v, list) else "$set": items}
        if isinstance(v, Mapping):
            if all(isinstance(k, str) for k in v):
                return self.mapping({k: self.value(x, path + (k,), where, param)
                                     for k, x in v.items()})
            return {"$dict": [[self.value(k, path, where, param),
                               self.value(x, path + (str(k),), where, param)]
                              for k, x in v.items()]}
        return self.atom(v, path, where, param)

    def atom(self, v: Any, path: Path, where: str, param: str) -> Any:
        if isinstance(v, Symbol):
            return {"$symbol": v.name}
        if v is VARYING:
            return {"$varying": True}
        if isinstance(v, PortType):
            return {"$type": encode_type(v)}
        if isinstance(v, PortRef):
            return {"$port": [v.node, v.port]}
        if isinstance(v, NetPort):
            return {"$netport": [self.value(p, path, where, param) for p in (*v.path, v.port)]}
        if isinstance(v, Scaled):
            return {"$scaled": v.value}
        if isinstance(v, Restricted):
            return {"$restricted": self.value(v.bound, path, where, param)}
        if isinstance(v, np.ndarray):
            return {"$array": self.store(("$params",) + path, v)}
        if isinstance(v, (np.bool_, np.integer, np.floating)):
            return v.item()
        if type(v) in self.dataclasses:
            fields = {f.name: self.value(getattr(v, f.name), path + (f.name,), where, param)
                      for f in dataclasses.fields(v)}
            return {"$dataclass": self.dataclasses[type(v)], "fields": fields}
        if callable(v):
            name = getattr(v, "__name__", type(v).__name__)
            raise self.fail(where, f'its parameter "{param}" holds Python code ({name}); a '
                            ".netgraph file never holds code, so this net cannot be exported "
                            'to it (Export("file.onnx", net) can export it).')
        raise self.fail(where, f'its parameter "{param}" holds a {type(v).__name__}, which '
                        ".netgraph files cannot hold.")


def encode_type(t: PortType) -> dict:
    """A port type as JSON: ``{"dims": [3, "Varying", null] | null, "kind", "bound"}``."""
    dims = None if t.dims is None else ["Varying" if d is VARYING else d for d in t.dims]
    return {"dims": dims, "kind": t.kind, "bound": None if t.bound is None else list(t.bound)}


def net_to_archive(net: Layer) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and arrays that represent ``net`` in a .netgraph file.

    >>> meta, arrays = net_to_archive(NetInitialize(LinearLayer(2, Input=3)))
    >>> meta["net"]["head"], sorted(arrays)
    ('LinearLayer', ['Biases', 'Weights'])
    """
    enc = _Encoder()
    body = enc.layer(net, ())
    return {"kind": "Net", "producer": f"netgraph {__version__}", "net": body}, enc.arrays
