"""Net surgery, part 1: NetExtract, NetReplacePart, NetRename, and what every edit shares.

An edit takes a container apart into :class:`Parts` (layers, edges, port types), changes them
and puts them back together with :func:`assemble`, which re-exposes loose ports, re-orders the
layers and re-infers every shape. Edits return new nets and never change their argument;
layers an edit does not touch are carried over as they are, learned arrays included.
The structural edits (NetTake, NetDrop, NetJoin, ...) are in :mod:`netgraph.graph.surgery`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import ConnectionError_, LayerError, NetGraphError, OptionError, ShapeError, nearest
from ..layers.base import Layer, PortMismatch, _freeze_array
from ..ports import NetPort, PortRef
from ..shapes import PortType, parse
from ..symbols import All, Automatic
from .build import expose_ports, resolve_variadic, topological_order
from .net import Container
from .walk import leaves, path_label


def label(key: str) -> str:
    """A layer key as the user writes it: 3 or "name"."""
    return key if key.isdigit() else f'"{key}"'


def port_spec(t: PortType | None) -> Any:
    """A port type in the user's spelling; ``Automatic`` where it is not known yet."""
    if t is None or t.dims is None:
        return Automatic
    spec = t.spec()
    if isinstance(spec, tuple):
        return tuple(Automatic if d == "Automatic" else d for d in spec)
    return spec


def rehead(head: str, e: NetGraphError, hint: str = "") -> NetGraphError:
    """The same error, reported under ``head`` (the function the user called)."""
    message = str(e).split(": ", 1)[1] if str(e).startswith(e.head + ": ") else str(e)
    return type(e)(head, message + hint)


# -- taking a container apart and putting it back together -------------------------------
@dataclass
class Parts:
    """A container taken apart: what an edit changes before :func:`assemble` rebuilds it."""

    cls: type[Container]
    nodes: dict[str, Layer]
    edges: dict[PortRef, PortRef]
    ins: dict[str, PortType] = field(default_factory=dict)
    outs: dict[str, PortType] = field(default_factory=dict)
    named: bool = False
    extra: dict[str, Any] = field(default_factory=lambda: {"lrm": None})

    @classmethod
    def of(cls, net: Layer) -> Parts:
        return cls(type(net), dict(net.nodes), dict(net.edges),  # type: ignore[arg-type, attr-defined]
                   dict(net.in_types), dict(net.out_types), bool(net.params["named"]),
                   extra_params(net))

    def renumbered(self) -> Parts:
        """Positional layers numbered 1, 2, ... again after some were added or removed."""
        if self.named:
            return self
        keymap = {k: str(i + 1) for i, k in enumerate(self.nodes)}
        return replace(self, nodes={keymap[k]: v for k, v in self.nodes.items()},
                       edges=remap_edges(self.edges, keymap))


def extra_params(net: Layer) -> dict[str, Any]:
    """A container's parameters besides its structure (e.g. its LearningRateMultipliers)."""
    return {k: v for k, v in net.params.items()
            if k not in ("nodes", "edges", "inputs", "outputs", "order", "named")}


def remap_edges(edges: Mapping[PortRef, PortRef], keymap: Mapping[str, str]
                ) -> dict[PortRef, PortRef]:
    def m(r: PortRef) -> PortRef:
        return r if r.node is None else PortRef(keymap.get(r.node, r.node), r.port)
    return {m(d): m(s) for d, s in edges.items()}


def assemble(head: str, p: Parts, user_ports: Mapping[str, Any] | None = None) -> Layer:
    """Rebuild a container from its parts: expose loose ports, order, infer, check arrays.

    ``user_ports`` are port shapes the user gave to the edit (``Input=3``); they must name a
    port of the result.
    """
    edges = dict(p.edges)
    nodes = resolve_variadic(p.nodes, {}, edges)
    inputs, outputs = expose_ports(nodes, edges)
    order = topological_order(head, nodes, edges)
    ins = {q: p.ins.get(q, PortType()) for q in inputs}
    outs = {q: p.outs.get(q, PortType()) for q in outputs}
    for q, v in (user_ports or {}).items():
        if q not in ins and q not in outs:
            raise OptionError(head, f"unknown option or port {q}.{nearest(q, inputs + outputs)} "
                              f"The result's ports are {', '.join(inputs + outputs)}.")
        (ins if q in ins else outs)[q] = parse(v, head, f'port "{q}"')
    params = {"nodes": nodes, "edges": edges, "inputs": tuple(inputs),
              "outputs": tuple(outputs), "order": tuple(order), "named": p.named, **p.extra}
    try:
        net = p.cls._make(params, ins, outs, {}).specialize(ins, outs)
    except ShapeError as e:
        raise rehead(head, e) from None
    check_arrays(head, net)
    return net


def check_arrays(head: str, net: Layer) -> None:
    """Every learned array still has as many elements as its (re-inferred) shape needs."""
    for path, layer in leaves(net):
        specs = layer.array_specs()
        for name, a in layer.arrays.items():
            shape = specs[name].shape if name in specs else None
            if a is None or shape is None or any(not isinstance(d, int) for d in shape):
                continue
            if a.size != int(np.prod(shape)):
                raise ShapeError(head, f'array "{name}" of {where(path, layer)} has dimensions '
                                 f"{dims_str(a.shape)}, but its ports now need "
                                 f"{dims_str(shape)}; replace the array or the layer too.")


def where(path: tuple[str, ...], layer: Layer) -> str:
    return f"layer {path_label(path)} ({layer.head})" if path else layer.head


def dims_str(shape: Any) -> str:
    return "{" + ", ".join(str(d) for d in shape) + "}"


def relax(layer: Layer) -> Layer:
    """``layer`` with the port types it got from its old context forgotten.

    A layer holding learned arrays keeps its types (the arrays pin them); any other layer
    goes back to what its own parameters say, so that re-inference can give it new shapes.
    """
    if isinstance(layer, Container):
        nodes = {k: relax(v) for k, v in layer.nodes.items()}  # type: ignore[attr-defined]
        unknown = {p: PortType() for p in layer.input_ports()}
        out_unknown = {p: PortType() for p in layer.output_ports()}
        return layer._replace(params={**layer.params, "nodes": nodes}).specialize(
            unknown, out_unknown)
    if any(a is not None for a in layer.arrays.values()):
        return layer
    fresh = type(layer)._make(layer.params, {}, {}, layer.arrays)
    fresh._self_infer()
    return fresh


# -- addressing parts ----------------------------------------------------------------------
def layer_key(head: str, net: Layer, part: Any) -> str:
    """The key of the layer ``part`` names: a 1-based position (negative from the end) or a name."""
    keys = list(net.nodes)  # type: ignore[attr-defined]
    if isinstance(part, int) and not isinstance(part, bool):
        if 1 <= part <= len(keys):
            return keys[part - 1]
        if -len(keys) <= part <= -1:
            return keys[part]
    elif isinstance(part, str) and part in net.nodes:  # type: ignore[attr-defined]
        return part
    raise unknown_part(head, net, part)


def unknown_part(head: str, net: Layer, part: Any) -> ConnectionError_:
    keys = list(net.nodes) if isinstance(net, Container) else []  # type: ignore
    ports = [*net.input_ports(), *net.output_ports()]
    hint = nearest(part, [*keys, *ports]) if isinstance(part, str) else ""
    layers = (f"its layers are {', '.join(label(k) for k in keys)} (positions 1 to "
              f"{len(keys)})" if keys else "it has no layers")
    return ConnectionError_(head, f"the {net.head} has no layer or port {part!r}.{hint} "
                            f"{layers[0].upper() + layers[1:]}; its ports are "
                            f"{', '.join(ports) or 'none'}.")


def _param_key(layer: Layer, name: str) -> str | None:
    for k in layer.params:
        if k.lower() == name.lower():
            return k
    return None


def _leaf_part(head: str, layer: Layer, name: Any) -> Any:
    if name in layer.arrays:
        a = layer.arrays[name]
        return Automatic if a is None else a
    if name in layer.input_ports():
        return port_spec(layer.in_types.get(name))
    if name in layer.output_ports():
        return port_spec(layer.out_types.get(name))
    key = _param_key(layer, name) if isinstance(name, str) else None
    if key is not None:
        v = layer.params[key]
        return Automatic if v is None else v
    valid = [*layer.arrays, *layer.input_ports(), *layer.output_ports(),
             *(k[:1].upper() + k[1:] for k in layer.params)]
    hint = nearest(name, valid) if isinstance(name, str) else ""
    raise ConnectionError_(head, f"{layer.head} has no array, port or parameter {name!r}.{hint} "
                           f"Its parts are {', '.join(valid) or 'none'}.")


def _everything(net: Layer) -> Any:
    """NetExtract(net, All): a container's layers; a layer's ports, parameters and arrays."""
    if isinstance(net, Container):
        nodes = net.nodes  # type: ignore[attr-defined]
        return dict(nodes) if net.params["named"] else list(nodes.values())
    out: dict[str, Any] = {p: port_spec(net.in_types.get(p)) for p in net.input_ports()}
    out.update({p: port_spec(net.out_types.get(p)) for p in net.output_ports()})
    for k, v in net.params.items():
        name = k[:1].upper() + k[1:]
        if name not in net.arrays:
            out[name] = Automatic if v is None else v
    out.update({k: Automatic if a is None else a for k, a in net.arrays.items()})
    return out


def _children(net: Layer) -> dict[Any, Layer]:
    if isinstance(net, Container):
        return {int(k) if k.isdigit() else k: v for k, v in net.nodes.items()}  # type: ignore
    inner = getattr(net, "inner_nets", None)
    return dict(inner()) if inner is not None else {}


def _extract(head: str, net: Layer, path: tuple) -> Any:
    if not path:
        return net
    part, rest = path[0], path[1:]
    if part is All:
        if not rest:
            return _everything(net)
        found = {}
        for k, child in _children(net).items():
            try:
                found[k] = _extract(head, child, rest)
            except ConnectionError_:
                continue  # WL: (All, "Weights") gives the layers that have weights
        return found
    if isinstance(net, Container):
        if isinstance(part, str) and part not in net.nodes and not rest and (  # type: ignore
                part in net.input_ports() or part in net.output_ports()):
            return _leaf_part(head, net, part)
        return _extract(head, net.nodes[layer_key(head, net, part)], rest)  # type: ignore
    inner = _children(net)
    if part in inner:
        return _extract(head, inner[part], rest)
    if rest:
        raise ConnectionError_(head, f"{part!r} of {net.head} is not a layer; nothing can be "
                               f"extracted from inside it (asked for {rest!r}).")
    return _leaf_part(head, net, part)


def NetExtract(net: Layer, spec: Any) -> Any:
    """NetExtract(net, layer) gives a layer; NetExtract(net, (layer, ..., "Array")) an array.

    A part is a 1-based position (negative from the end), a layer name, an array name
    ("Weights"), a port name ("Input" gives its shape) or a parameter name ("Function");
    a tuple is a path into nested nets, a list gives a list of results, and ``All`` gives
    every layer of a container (a list, or a dict for named layers) or every part of a
    layer. Arrays that are not initialized yet give ``Automatic``.

    >>> chain = NetChain([LinearLayer(3), Tanh, [LinearLayer(2), Ramp]], Input=2)
    >>> NetExtract(chain, 2)
    ElementwiseLayer(Tanh)...
    >>> NetExtract(chain, (3, 1, "Weights"))
    Automatic
    >>> NetExtract(NetInitialize(chain), [(1, "Weights"), (1, "Biases")])[1]
    array([0., 0., 0.], dtype=float32)
    """
    if not isinstance(net, Layer) and hasattr(net, "net_extract"):
        return net.net_extract(spec)  # a NetStateObject: "States", "Net"
    if isinstance(spec, list):
        return [NetExtract(net, s) for s in spec]
    return _extract("NetExtract", net, spec if isinstance(spec, tuple) else (spec,))


# -- NetReplacePart -------------------------------------------------------------------------
def rules_of(head: str, rules: Any) -> list[tuple[Any, Any]]:
    """WL rules as (part, value) pairs: ``(part, value)``, a list of them, or a dict."""
    if isinstance(rules, Mapping):
        return list(rules.items())
    if isinstance(rules, tuple) and len(rules) == 2:
        return [rules]
    if isinstance(rules, list) and all(isinstance(r, tuple) and len(r) == 2 for r in rules):
        return list(rules)
    raise OptionError(head, f"expected a rule (part, value), a list of rules or a dict "
                      f"{{part: value}}, but received {rules!r}.")


def NetReplacePart(net: Layer, rules: Any) -> Layer:
    """NetReplacePart(net, (part, value)) gives a net with one part replaced.

    A part is addressed as in :func:`NetExtract`: ``(2, LinearLayer(4))`` replaces a layer,
    ``((2, "Weights"), w)`` an array (same dimensions), ``("Input", 3)`` a port's shape
    (WL ``"Input" -> 3``; ``Automatic`` lets it be inferred again). Several replacements
    are a list of pairs or a dict ``{"Input": 3, (2, "Weights"): w}``. The result is
    re-inferred: layers without learned arrays adapt to their new neighbours, while the
    graph's ports keep their shapes unless replaced too (as in WL).

    >>> net = NetReplacePart(LinearLayer(2), ("Input", 3))
    >>> Information(net, "InputPorts")
    {'Input': 3}
    >>> chain = NetChain([LinearLayer(3), SoftmaxLayer()], Input=2)
    >>> new = NetReplacePart(chain, {1: LinearLayer(5), "Output": Automatic})
    >>> Information(new, "OutputPorts")
    {'Output': 5}
    """
    items = [(p if isinstance(p, tuple) else (p,), v)
             for p, v in rules_of("NetReplacePart", rules)]
    return replace_parts("NetReplacePart", net, items, ())[0]


def replace_parts(head: str, net: Layer, items: list[tuple[tuple, Any]],
                  path: tuple[str, ...]) -> tuple[Layer, bool]:
    """``net`` with the parts replaced, and whether shapes may have changed (not only arrays)."""
    if isinstance(net, Container):
        return _replace_in_container(head, net, items, path)
    inner = _children(net)
    if any(part[0] in inner for part, _ in items):
        return _replace_in_operator(head, net, items, path)
    arrays, ports = dict(net.arrays), {}
    for part, value in items:
        name = part[0]
        if len(part) != 1 or not (name in net.arrays or name in net.input_ports()
                                  or name in net.output_ports()):
            _leaf_part(head, net, name)  # raises for an unknown part, with the valid ones
            raise ConnectionError_(head, f"{where(path, net)}: only its arrays and port shapes "
                                   f"can be replaced, not {part!r}.")
        if name in net.arrays:
            arrays[name] = _checked_array(head, net, name, value, path)
        else:
            ports[name] = parse(value, head, f'port "{name}"')
    new = net._replace(arrays=arrays)
    if ports:
        new = _retyped(head, new, ports)
        check_arrays(head, new)
    return new, bool(ports)


def _replace_in_operator(head: str, net: Layer, items: list[tuple[tuple, Any]],
                         path: tuple[str, ...]) -> tuple[Layer, bool]:
    """Replace parts of the nets inside an operator (NetMapOperator, NetFoldOperator, ...)."""
    from .specs import to_layer
    inner = _children(net)
    new, reshaped = dict(inner), False
    for part, value in items:
        if part[0] not in inner:
            raise ConnectionError_(head, f"{where(path, net)}: only the nets inside it can be "
                                   f"replaced, not {part!r}; they are {', '.join(inner)}.")
        if len(part) == 1:
            new[part[0]], reshaped = to_layer(head, value, part[0]), True
        else:
            new[part[0]], r = replace_parts(head, new[part[0]], [(part[1:], value)],
                                            path + (part[0],))
            reshaped = reshaped or r
    out = net.map_inner(lambda k, sub: new[k])  # type: ignore[attr-defined]
    if reshaped:  # the outputs follow the new inner nets; the inputs keep their shapes
        try:
            out = out.specialize(dict(net.in_types), {p: PortType() for p in net.output_ports()})
        except ShapeError as e:
            raise rehead(head, e) from None
        except PortMismatch as e:
            raise ShapeError(head, f'{where(path, net)}: port "{e.port}" expects {e.expected}'
                             + (f", but received {e.received}." if e.received else ".")) from None
    return out, reshaped


def _checked_array(head: str, layer: Layer, name: str, value: Any, path: tuple) -> Any:
    if value is None or value is Automatic:
        return None  # the array is uninitialized again
    try:
        arr = np.asarray(_freeze_array(value))
    except (TypeError, ValueError):
        raise LayerError(head, f'array "{name}" of {where(path, layer)} takes numbers, but '
                         f"received {str(value)[:60]}.") from None
    old = layer.arrays[name]
    want = old.shape if old is not None else layer.array_specs()[name].shape
    if want is None or any(not isinstance(d, int) for d in want):
        raise ShapeError(head, f'the dimensions of array "{name}" of {where(path, layer)} are '
                         "not known yet; give its port shapes first (e.g. Input=...).")
    if tuple(arr.shape) != tuple(want):
        raise ShapeError(head, f'array "{name}" of {where(path, layer)} has dimensions '
                         f"{dims_str(want)}, but the new value has dimensions "
                         f"{dims_str(arr.shape)}.")
    return arr


def _retyped(head: str, layer: Layer, ports: Mapping[str, PortType]) -> Layer:
    """A layer with some port types set; its other ports are re-inferred where they must be."""
    def attempt(base: Layer) -> Layer:
        ins = {**base.in_types, **{p: t for p, t in ports.items() if p in layer.input_ports()}}
        outs = {**base.out_types,
                **{p: t for p, t in ports.items() if p in layer.output_ports()}}
        new = type(layer)._make(layer.params, ins, outs, layer.arrays)
        new._self_infer()
        return new
    try:
        return attempt(layer)
    except ShapeError:
        pass
    try:
        return attempt(type(layer)._make(layer.params, {}, {}, layer.arrays))
    except ShapeError as e:
        raise rehead(head, e) from None


def _replace_in_container(head: str, net: Layer, items: list[tuple[tuple, Any]],
                          path: tuple[str, ...]) -> tuple[Layer, bool]:
    from .specs import to_layer
    p = Parts.of(net)
    changed: set[str] = set()
    nested: dict[str, list[tuple[tuple, Any]]] = {}
    for part, value in items:
        first, rest = part[0], part[1:]
        if (not rest and isinstance(first, str) and first not in p.nodes
                and (first in net.input_ports() or first in net.output_ports())):
            t = parse(value, head, f'port "{first}"')
            (p.ins if first in net.input_ports() else p.outs)[first] = t
            changed.add("")  # a port: shapes may change
        elif not rest:
            key = layer_key(head, net, first)
            p.nodes[key] = to_layer(head, value, key)
            changed.add(key)
        else:
            nested.setdefault(layer_key(head, net, first), []).append((rest, value))
    for key, sub in nested.items():
        p.nodes[key], reshaped = replace_parts(head, p.nodes[key], sub, path + (key,))
        if reshaped:
            changed.add(key)
    if not changed:  # arrays only: every shape stays as it is
        return net._replace(params={**net.params, "nodes": p.nodes}), False
    p.nodes = {k: v if k in changed else relax(v) for k, v in p.nodes.items()}
    p.edges = _fit_edges(head, net, p.nodes, changed)
    try:
        return assemble(head, p), True
    except ShapeError as e:
        raise rehead(head, e, " To change the shape of a port of the net as well, replace it "
                     'too, e.g. [(part, value), ("Output", Automatic)].') from None


def _fit_edges(head: str, net: Layer, nodes: Mapping[str, Layer], changed: set[str]
               ) -> dict[PortRef, PortRef]:
    """The old edges, minus graph ports of replaced layers' ports that no longer exist."""
    edges: dict[PortRef, PortRef] = {}
    for d, s in net.edges.items():  # type: ignore[attr-defined]
        if d.node in changed and d.port not in nodes[d.node].input_ports() and not getattr(
                nodes[d.node], "variadic", False):
            if s.node is None:
                continue
            raise ConnectionError_(head, f"the new layer {label(d.node)} "
                                   f"({nodes[d.node].head}) has no input port \"{d.port}\", "
                                   f"which {s.wl()} feeds; its input ports are "
                                   f"{', '.join(nodes[d.node].input_ports()) or 'none'}.")
        if s.node in changed and s.port not in nodes[s.node].output_ports():
            if d.node is None:
                continue
            raise ConnectionError_(head, f"the new layer {label(s.node)} "
                                   f"({nodes[s.node].head}) has no output port \"{s.port}\", "
                                   f"which feeds {d.wl()}; its output ports are "
                                   f"{', '.join(nodes[s.node].output_ports()) or 'none'}.")
        edges[d] = s
    return edges


# -- NetRename ------------------------------------------------------------------------------
def _levels(level: Any) -> Callable[[int], bool]:
    if level is None:
        return lambda d: d == 1
    if level is All:
        return lambda d: True
    if isinstance(level, int) and not isinstance(level, bool) and level >= 1:
        return lambda d: d <= level
    if isinstance(level, list) and len(level) in (1, 2) and all(
            isinstance(v, int) and v >= 1 for v in level):
        lo, hi = level[0], level[-1]
        return lambda d: lo <= d <= hi
    raise OptionError("NetRename", f"expected a level n, [n], [n1, n2] or All, but received "
                      f"{level!r}.")


def NetRename(net: Layer, rules: Any, level: Any = None) -> Layer:
    """NetRename(net, ("old", "new")) renames a layer; (NetPort("old"), NetPort("new")) a port.

    ``rules`` is one such pair, a list of them, a dict, or a function of the old layer name
    giving the new one. By default only the outermost level is renamed; ``level`` is n
    (levels 1 to n), ``[n]`` (level n only), ``[n1, n2]`` or ``All``.

    >>> rules = [(1, "lin"), (NetPort("Output"), NetPort("y"))]
    >>> net = NetRename(NetChain([LinearLayer(3), Tanh]), rules)
    >>> list(Normal(net)), Information(net, "OutputPortNames")
    (['lin', '2'], ['y'])
    """
    if not isinstance(net, Container):
        raise ConnectionError_("NetRename", f"expected a NetChain or NetGraph, but received a "
                               f"{net.head}.")
    pairs = None if callable(rules) else rules_of("NetRename", rules)
    used: set[int] = set()
    new, _ = _rename(net, rules if pairs is None else pairs, _levels(level), 1, used)
    for i, (old, _new) in enumerate(pairs or []):
        if i not in used:
            raise ConnectionError_("NetRename", f"nothing named {old!r} to rename at the given "
                                   "levels.")
    return new


def _rename(net: Layer, rules: Any, at: Callable[[int], bool], depth: int, used: set[int]
            ) -> tuple[Layer, dict[str, str]]:
    """``net`` renamed, and its graph ports' renaming (for the edges of the parent)."""
    p = Parts.of(net)
    portmaps: dict[str, dict[str, str]] = {}
    for k, v in p.nodes.items():
        if isinstance(v, Container) and depth < 64:
            p.nodes[k], portmaps[k] = _rename(v, rules, at, depth + 1, used)
    p.edges = {PortRef(d.node, portmaps.get(d.node or "", {}).get(d.port, d.port)):
               PortRef(s.node, portmaps.get(s.node or "", {}).get(s.port, s.port))
               for d, s in p.edges.items()}
    if not at(depth):
        return _rebuilt(net, p), {}
    keymap, portmap = _rename_maps(net, rules, used)
    if any(v != k for k, v in keymap.items()):
        p.named = True
    p.nodes = {keymap.get(k, k): v for k, v in p.nodes.items()}
    p.edges = {_renamed(d, keymap, portmap): _renamed(s, keymap, portmap)
               for d, s in p.edges.items()}
    p.ins = {portmap.get(q, q): t for q, t in p.ins.items()}
    p.outs = {portmap.get(q, q): t for q, t in p.outs.items()}
    return _rebuilt(net, p, keymap, portmap), portmap


def _renamed(r: PortRef, keymap: Mapping[str, str], portmap: Mapping[str, str]) -> PortRef:
    if r.node is None:
        return PortRef(None, portmap.get(r.port, r.port))
    return PortRef(keymap.get(r.node, r.node), r.port)


def _rename_maps(net: Layer, rules: Any, used: set[int]
                 ) -> tuple[dict[str, str], dict[str, str]]:
    keys = list(net.nodes)  # type: ignore[attr-defined]
    ports = {*net.input_ports(), *net.output_ports()}
    keymap: dict[str, str] = {}
    portmap: dict[str, str] = {}
    if callable(rules):
        keymap = {k: _new_name(rules(k)) for k in keys}
    else:
        for i, (old, new) in enumerate(rules):
            if isinstance(old, NetPort):
                if old.is_graph_port and old.port in ports:
                    if not (isinstance(new, NetPort) and new.is_graph_port):
                        raise ConnectionError_("NetRename", f"expected {old!r} to be renamed to "
                                               f"a NetPort(\"name\"), but received {new!r}.")
                    portmap[old.port] = new.port
                    used.add(i)
            elif (isinstance(old, str) and old in keys) or (
                    isinstance(old, int) and not isinstance(old, bool) and -len(keys) <= old
                    <= len(keys) and old != 0):
                keymap[layer_key("NetRename", net, old)] = _new_name(new)
                used.add(i)
    _check_unique(keys, keymap, "layer")
    _check_unique(list(net.input_ports()), portmap, "input port")
    _check_unique(list(net.output_ports()), portmap, "output port")
    both = {portmap.get(q, q) for q in net.input_ports()} & {
        portmap.get(q, q) for q in net.output_ports()}
    if both:
        raise ConnectionError_("NetRename", f'"{min(both)}" would name both an input and an '
                               "output port; give them different names.")
    return keymap, portmap


def _new_name(new: Any) -> str:
    if isinstance(new, int) and not isinstance(new, bool):
        new = str(new)
    if not isinstance(new, str) or not new:
        raise ConnectionError_("NetRename", f"expected a new name to be a nonempty string, but "
                               f"received {new!r}.")
    return new


def _check_unique(names: list[str], mapping: Mapping[str, str], what: str) -> None:
    seen: dict[str, str] = {}
    for old in names:
        new = mapping.get(old, old)
        if new in seen:
            raise ConnectionError_("NetRename", f"renaming must give unique {what} names, but "
                                   f"{new!r} would name both {label(seen[new])} and "
                                   f"{label(old)}.")
        seen[new] = old


def _rebuilt(net: Layer, p: Parts, keymap: Mapping[str, str] | None = None,
             portmap: Mapping[str, str] | None = None) -> Layer:
    """The renamed container (shapes are unchanged, so nothing is re-inferred)."""
    km, pm = keymap or {}, portmap or {}
    params = {**net.params, "nodes": p.nodes, "edges": p.edges, "named": p.named,
              "inputs": tuple(pm.get(q, q) for q in net.params["inputs"]),
              "outputs": tuple(pm.get(q, q) for q in net.params["outputs"]),
              "order": tuple(km.get(k, k) for k in net.params["order"])}
    return type(net)._make(params, p.ins, p.outs, {})
