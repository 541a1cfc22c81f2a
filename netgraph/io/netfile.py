"""A generic JSON encoding of layer values, for .netgraph files (see docs/file-format.md).

A layer is ``{"head", "params", "inputs", "outputs", "arrays"}``: its class (looked up by
name in a registry of netgraph's own layer classes; a file never names a module to import),
its params (JSON with a few tagged forms for tuples, symbols, port types, nested layers ...),
its port types, and its arrays as references to entries of the safetensors part (``null``
for an uninitialized array). The encoding knows nothing about particular layers, so every
layer family round-trips without code of its own.

On import every layer is rebuilt and checked: known head, well-formed params, port types
re-inferred (containers through their normal ``specialize``), arrays exactly those the
layer expects with the shapes its :meth:`~netgraph.layers.base.Layer.array_specs` give.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

import numpy as np

from ..errors import NetExportError, NetGraphError, NetImportError, nearest
from ..graph.build import expose_ports, topological_order
from ..graph.net import Container
from ..layers.base import Layer
from ..ports import NetPort, PortRef
from ..shapes import VARYING, PortType, Restricted
from ..symbols import Scaled, Symbol

Path = tuple[str, ...]
LAYER_KEYS = {"head", "params", "inputs", "outputs", "arrays"}
KINDS = (None, "Real", "Integer")
_SCANNED = ("netgraph.shapes", "netgraph.symbols", "netgraph.ports", "netgraph.graph.net")


# -- registries ----------------------------------------------------------------------
def _scanned_modules() -> list[Any]:
    """netgraph's own layer modules: netgraph.layers.* and the containers (nothing else)."""
    import netgraph.layers as pkg
    mods = [importlib.import_module(f"netgraph.layers.{m.name}")
            for m in pkgutil.iter_modules(pkg.__path__)]
    return mods + [importlib.import_module(m) for m in _SCANNED]


def _by_name(classes: list[type]) -> dict[str, type]:
    """Classes by name; a name two modules share gets the module-qualified spelling."""
    counts: dict[str, int] = {}
    for c in classes:
        counts[c.__name__] = counts.get(c.__name__, 0) + 1
    return {(c.__name__ if counts[c.__name__] == 1 else f"{c.__module__}.{c.__name__}"): c
            for c in classes}


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def layer_registry() -> dict[str, type[Layer]]:
    """The layer classes files may name: public Layer subclasses in netgraph.layers.* and
    netgraph.graph.net, by head name."""
    import netgraph
    mods = {m.__name__ for m in _scanned_modules()}
    found = {c for c in _subclasses(Layer)
             if c.__module__ in mods and not c.__name__.startswith("_")}
    # Shared bases (Container, LossLayer, ...) are no heads: a class with subclasses counts
    # only when it is itself a public head.
    found = {c for c in found
             if c.__name__ in netgraph.__all__ or not any(s in found for s in _subclasses(c))}
    return _by_name(sorted(found, key=lambda c: (c.__module__, c.__name__)))


def dataclass_registry() -> dict[str, type]:
    """Frozen dataclasses defined in the scanned modules, for params that hold them."""
    special = {PortType, PortRef, Scaled, Restricted}
    found = []
    for m in _scanned_modules():
        for v in vars(m).values():
            if (isinstance(v, type) and dataclasses.is_dataclass(v) and v.__module__ == m.__name__
                    and v not in special and not issubclass(v, Layer)):
                found.append(v)
    return _by_name(found)


def _label(path: Path, head: str) -> str:
    if not path:
        return head
    return "layer " + " ".join(k if k.isdigit() else repr(k) for k in path) + f" ({head})"


def _escape(segment: str) -> str:
    s = segment.replace("%", "%25").replace("/", "%2F")
    return "%24" + s[1:] if s.startswith("$") else s


def _params_path(layer: Layer, path: Path, key: str) -> Path:
    """Where a param's nested layers live: a container's nodes sit right under it."""
    return path if isinstance(layer, Container) and key == "nodes" else path + (key,)


# -- export --------------------------------------------------------------------------
class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
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
        where = _label(path, layer.head)
        params = {k: self.value(v, _params_path(layer, path, k), where, k)
                  for k, v in layer.params.items()}
        head = self.heads.get(type(layer))
        if head is None:
            raise self.fail(where, f"{type(layer).__name__} is not one of netgraph's layer "
                            "classes, so a .netgraph file cannot hold it.")
        return {"head": head, "params": self.mapping(params),
                "inputs": {p: encode_type(t) for p, t in layer.in_types.items()},
                "outputs": {p: encode_type(t) for p, t in layer.out_types.items()},
                "arrays": {k: None if a is None else self.store(path + (k,), a)
                           for k, a in layer.arrays.items()}}

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
    from .. import __version__
    enc = _Encoder()
    body = enc.layer(net, ())
    return {"kind": "Net", "producer": f"netgraph {__version__}", "net": body}, enc.arrays


# -- import --------------------------------------------------------------------------
class _Refused(Exception):
    pass


class _Decoder:
    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.used: set[str] = set()
        self.registry = layer_registry()
        self.dataclasses = dataclass_registry()

    def take(self, key: Any, where: str) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise _Refused(f"{where} refers to an array {key!r} that the file does not hold")
        if key in self.used:
            raise _Refused(f"{where} refers to the array {key!r}, which another part of the "
                           "net already uses")
        self.used.add(key)
        a = np.array(self.arrays[key], copy=True)
        a.flags.writeable = False
        return a

    def layer(self, d: Any, path: Path) -> Layer:
        if not isinstance(d, dict) or set(d) != LAYER_KEYS:
            raise _Refused(f"{_label(path, 'a layer')} is malformed: expected the keys "
                           f"{', '.join(sorted(LAYER_KEYS))}")
        head = d["head"]
        cls: type[Layer] | None = self.registry.get(head) if isinstance(head, str) else None
        if cls is None:
            hint = nearest(head, self.registry) if isinstance(head, str) else ""
            raise _Refused(f"{_label(path, repr(head))} has an unknown head {head!r}.{hint}")
        where = _label(path, head)
        params = self.value(d["params"], where, path, cls)
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise _Refused(f"{where} has malformed parameters: expected an object")
        ins, outs = self.types(d["inputs"], where), self.types(d["outputs"], where)
        arrays = d["arrays"]
        if not isinstance(arrays, dict):
            raise _Refused(f"{where} has a malformed array list")
        arrs = {k: None if ref is None else self.take(ref, f'{where}, array "{k}",')
                for k, ref in arrays.items()}
        return _rebuild(cls, params, ins, outs, arrs, where)

    def types(self, d: Any, where: str) -> dict[str, PortType]:
        if not isinstance(d, dict):
            raise _Refused(f"{where} has malformed port types")
        return {p: decode_type(t, f'{where}, port "{p}"') for p, t in d.items()}

    def value(self, v: Any, where: str, path: Path, cls: type | None = None) -> Any:
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return tuple(self.value(x, where, path + (str(i),)) for i, x in enumerate(v))
        if not isinstance(v, dict):
            raise _Refused(f"{where} has a malformed parameter value {v!r}")
        tags = [k for k in v if k.startswith("$")]
        if not tags:
            return {k: self.value(x, where, _sub(cls, path, k)) for k, x in v.items()}
        if tags[0] == "$dataclass" and set(v) == {"$dataclass", "fields"}:
            return self.dataclass(v, where, path)
        if len(v) != 1:
            raise _Refused(f"{where} has a malformed tagged value with keys {sorted(v)}")
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
            raise _Refused(f"{where} has a malformed {tag} value ({e})") from None

    def dict_items(self, x: Any, where: str, path: Path, cls: type | None) -> dict:
        out: dict = {}
        for e in _list(x):
            k = self.value(_pair(e)[0], where, path)
            if k in out:
                raise _Refused(f"{where} has the key {k!r} twice in one dict")
            out[k] = self.value(e[1], where, _sub(cls, path, str(e[0])))
        return out

    def dataclass(self, v: dict, where: str, path: Path) -> Any:
        cls = self.dataclasses.get(v["$dataclass"]) if isinstance(v["$dataclass"], str) else None
        fields = v["fields"]
        if cls is None or not isinstance(fields, dict):
            raise _Refused(f"{where} has an unknown value type {v['$dataclass']!r}")
        try:
            return cls(**{k: self.value(x, where, path + (k,)) for k, x in fields.items()})
        except (NetGraphError, TypeError, ValueError) as e:
            raise _Refused(f"{where} has a malformed {cls.__name__} value ({e})") from None


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
    raise _Refused(f"{where} has an unknown or malformed tagged value {tag!r}")


def decode_type(t: Any, where: str) -> PortType:
    """A port type from its JSON form, refusing anything a PortType cannot hold."""
    if not isinstance(t, dict) or set(t) != {"dims", "kind", "bound"}:
        raise _Refused(f"{where} has a malformed port type")
    dims, kind, bound = t["dims"], t["kind"], t["bound"]
    ok_dims = dims is None or isinstance(dims, list) and all(
        d is None or d == "Varying" or (isinstance(d, int) and not isinstance(d, bool) and d >= 1)
        for d in dims)
    ok_bound = bound is None or (kind == "Integer" and isinstance(bound, list) and len(bound) == 2
                                 and all(isinstance(b, int) and not isinstance(b, bool)
                                         for b in bound) and bound[0] <= bound[1])
    if not ok_dims or kind not in KINDS or not ok_bound:
        raise _Refused(f"{where} has an invalid port type {t!r}")
    return PortType(None if dims is None else tuple(VARYING if d == "Varying" else d for d in dims),
                    kind, None if bound is None else (bound[0], bound[1]))


def _rebuild(cls: type[Layer], params: dict, ins: dict, outs: dict, arrays: dict,
             where: str) -> Layer:
    """The layer value, with its port types re-inferred (a tampered type cannot stick)."""
    try:
        valid_in, valid_out = cls.input_ports_of(params), cls.output_ports_of(params)
        for side, types, valid in (("input", ins, valid_in), ("output", outs, valid_out)):
            extra = [p for p in types if p not in valid]
            if extra:
                raise _Refused(f'{where} has no {side} port "{extra[0]}"')
        layer = cls._make(params, ins, outs, arrays)
        if isinstance(layer, Container):
            return _rebuild_container(layer, where)
        layer._self_infer()
        layer = layer.specialize(dict(layer.in_types), dict(layer.out_types))
        layer.array_specs()
        return layer
    except _Refused:
        raise
    except NetGraphError as e:
        raise _Refused(f"{where} is inconsistent: {str(e).rstrip('.')}") from None
    except Exception as e:  # noqa: BLE001 - a tampered file must not crash Import
        raise _Refused(f"{where} has malformed parameters ({type(e).__name__}: {e})") from None


def _rebuild_container(net: Container, where: str) -> Layer:
    p = net.params
    nodes, edges = p.get("nodes"), p.get("edges")
    inputs, outputs = p.get("inputs"), p.get("outputs")
    if not (isinstance(nodes, dict) and all(isinstance(v, Layer) for v in nodes.values())
            and isinstance(edges, dict) and all(isinstance(k, PortRef) and isinstance(v, PortRef)
                                                 for k, v in edges.items())
            and _names(inputs) and _names(outputs)):
        raise _Refused(f"{where} has malformed layers, connections or ports")
    for dst, src in edges.items():
        _check_edge(nodes, inputs, outputs, dst, src, where)
    check = dict(edges)
    ins, outs = expose_ports(nodes, check)
    if check != edges or set(ins) != set(inputs) or set(outs) != set(outputs):
        raise _Refused(f"{where} has ports that do not match its connections")
    order = topological_order(net.head, nodes, edges)
    rebuilt = type(net)._make({**p, "order": tuple(order)}, {}, {}, {})
    return rebuilt.specialize({q: net.in_types.get(q, PortType()) for q in inputs},
                              {q: net.out_types.get(q, PortType()) for q in outputs})


def _names(x: Any) -> TypeGuard[tuple[str, ...]]:
    return isinstance(x, tuple) and all(isinstance(n, str) for n in x) and len(set(x)) == len(x)


def _check_edge(nodes: dict, inputs: tuple, outputs: tuple, dst: PortRef, src: PortRef,
                where: str) -> None:
    ok_dst = (dst.port in outputs if dst.node is None
              else dst.node in nodes and dst.port in nodes[dst.node].input_ports())
    ok_src = (src.port in inputs if src.node is None
              else src.node in nodes and src.port in nodes[src.node].output_ports())
    if not (ok_dst and ok_src):
        raise _Refused(f"{where} has an invalid connection {src.wl()} -> {dst.wl()}")


def all_layers(net: Layer, path: Path = ()) -> Iterator[tuple[Path, Layer]]:
    """Every layer value in ``net`` (itself, container nodes, layers held in params)."""
    yield path, net
    for k, v in net.params.items():
        yield from _layers_in(v, _params_path(net, path, k))


def _layers_in(v: Any, path: Path) -> Iterator[tuple[Path, Layer]]:
    if isinstance(v, Layer):
        yield from all_layers(v, path)
    elif isinstance(v, Mapping):
        for k, x in v.items():
            yield from _layers_in(x, path + (str(k),))
    elif isinstance(v, (tuple, list, set, frozenset)):
        for i, x in enumerate(v):
            yield from _layers_in(x, path + (str(i),))


def _check_arrays(net: Layer) -> None:
    """Each layer holds exactly the arrays it expects, with the expected dimensions."""
    for path, layer in all_layers(net):
        where, specs = _label(path, layer.head), layer.array_specs()
        missing = [k for k in specs if k not in layer.arrays]
        extra = [k for k in layer.arrays if k not in specs]
        if missing or extra:
            what = f'lacks the array "{missing[0]}"' if missing else \
                f'has an unexpected array "{extra[0]}"'
            raise _Refused(f"{where} {what}; its arrays are {', '.join(specs) or 'none'}")
        for k, a in layer.arrays.items():
            want = specs[k].shape
            if a is not None and (want is None or tuple(a.shape) != tuple(want)):
                raise _Refused(f'{where}: array "{k}" has dimensions {_dims(a.shape)}, but the '
                               f"layer expects {_dims(want)}")


def _dims(shape: Any) -> str:
    if shape is None:
        return "unknown dimensions"
    return "{" + ", ".join("?" if d is None else str(d) for d in shape) + "}"


def sentence(text: str) -> str:
    """``text`` ending with one full stop (messages nest other messages), kept short."""
    if len(text) > 600:  # a hostile file's values can be huge; the start says enough
        text = text[:600] + " ..."
    return text if text.endswith((".", "?", "!")) else text + "."


def net_from_archive(meta: dict, arrays: dict[str, np.ndarray], head: str = "Import") -> Layer:
    """The layer value ``meta``/``arrays`` represent (as :func:`read_archive` returns them).

    Raises :class:`NetImportError` when anything is malformed or inconsistent.

    >>> net = NetInitialize(LinearLayer(2, Input=3))
    >>> back = net_from_archive(*net_to_archive(net))
    >>> bool((NetExtract(back, "Weights") == NetExtract(net, "Weights")).all())
    True
    """
    try:
        if not isinstance(meta, dict) or "net" not in meta:
            raise _Refused('the metadata has no "net" entry')
        dec = _Decoder(arrays)
        net = dec.layer(meta["net"], ())
        _check_arrays(net)
        unused = sorted(set(arrays) - dec.used)
        if unused:
            raise _Refused(f'it holds the array "{unused[0]}", which no layer uses')
    except _Refused as e:
        raise NetImportError(head, f"invalid net data: {sentence(str(e))}") from None
    except RecursionError:
        raise NetImportError(head, "invalid net data: it is nested too deeply.") from None
    return net
