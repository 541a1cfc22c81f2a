"""Parts of a net: NetTake, NetDrop and NetDelete, with WL's semantics.

Each returns a new net; the layers that are kept keep their shapes and arrays, and the new
connections (neighbours that meet after a cut) must be compatible with them.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConnectionError_, ShapeError
from ..layers.base import Layer
from ..ports import NetPort, PortRef
from ..symbols import All
from .net import Container, NetChain
from .parts import (
    Parts,
    as_container,
    assemble,
    chain_parts,
    fresh_name,
    label,
    layer_key,
    rehead,
)


def _cut(p: Parts, keep: set[str]) -> Parts:
    """The parts restricted to the layers in ``keep``.

    An input fed by a dropped layer becomes a new graph input, one per dropped source, named
    after the port it feeds ("Input", or "Input1", ... where that name is taken).
    """
    edges: dict[PortRef, PortRef] = {}
    names: dict[PortRef, str] = {}
    kept = {s.port for d, s in p.edges.items() if s.node is None and d.node in keep}
    for d, s in p.edges.items():
        if d.node is not None and d.node not in keep:
            continue  # it fed a dropped layer
        dropped_source = s.node is not None and s.node not in keep
        if d.node is None and dropped_source:
            continue  # an output of the net that a dropped layer computed
        if dropped_source:
            if s not in names:
                names[s] = fresh_name(d.port, kept | set(names.values()))
            s = PortRef(None, names[s])
        edges[d] = s
    nodes = {k: v for k, v in p.nodes.items() if k in keep}
    ins = {q: t for q, t in p.ins.items() if q in kept}
    outs = {q: t for q, t in p.outs.items() if PortRef(None, q) in edges}
    return Parts(p.cls, nodes, edges, ins, outs, p.named, p.extra)


# -- NetTake, NetDrop -----------------------------------------------------------------------
def _reach(edges: Mapping[PortRef, PortRef], start: set[str], forward: bool) -> set[str]:
    step: dict[str, set[str]] = {}
    for d, s in edges.items():
        if d.node is not None and s.node is not None:
            a, b = (s.node, d.node) if forward else (d.node, s.node)
            step.setdefault(a, set()).add(b)
    seen, todo = set(start), list(start)
    while todo:
        for n in step.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def _ends(head: str, net: Container, spec: Any, is_start: bool) -> set[str]:
    """The layers a NetTake start (or end) spec names; NetPorts step past the port."""
    if spec is All:
        return set(net.nodes)
    if isinstance(spec, list):
        return set().union(*(_ends(head, net, s, is_start) for s in spec)) if spec else set()
    if isinstance(spec, NetPort):
        if spec.is_graph_port:
            ports = net.input_ports() if is_start else net.output_ports()
            if spec.port not in ports:
                raise ConnectionError_(head, f"the net has no {'input' if is_start else 'output'}"
                                       f" port {spec.port!r}; its ports are {', '.join(ports)}.")
            if is_start:
                return {d.node for d, s in net.edges.items()
                        if s == PortRef(None, spec.port) and d.node is not None}
            src = net.edges[PortRef(None, spec.port)]
            return set() if src.node is None else {src.node}
        key = layer_key(head, net, spec.path[0])
        if not is_start:
            return {key}
        return {d.node for d, s in net.edges.items() if s == PortRef(key, spec.port)
                and d.node is not None}
    return {layer_key(head, net, spec)}


def NetTake(net: Layer, spec: Any, **ports: Any) -> Layer:
    """NetTake(net, n) gives the first n layers; NetTake(net, (start, end)) those from start to end.

    ``-n`` gives the last n layers. In a graph, start and end are a layer (position or name),
    ``NetPort("port")`` (a port of the net), ``NetPort(layer, "port")``, ``All``, or a list of
    these; the result holds every layer reachable from start that leads to end. Inputs of
    the result that were fed by dropped layers become its input ports. Keyword options set
    port shapes.

    >>> chain = NetChain([LinearLayer(3), Tanh, LinearLayer(2)], Input=4)
    >>> Information(NetTake(chain, 2), "OutputPorts"), len(NetTake(chain, -1))
    ({'Output': 3}, 1)
    """
    head = "NetTake"
    c = as_container(head, net)
    start, end = _take_range(head, c, spec)
    keep = (_reach(c.edges, _ends(head, c, start, True), True)
            & _reach(c.edges, _ends(head, c, end, False), False))
    if not keep:
        raise ConnectionError_(head, f"no layers lie between {start!r} and {end!r}.")
    if isinstance(c, NetChain):
        return _rechain(head, c, [(k, v) for k, v in c.nodes.items() if k in keep], ports)
    return assemble(head, _cut(Parts.of(c), keep).renumbered(), ports)


def _take_range(head: str, net: Container, spec: Any) -> tuple[Any, Any]:
    if isinstance(spec, int) and not isinstance(spec, bool):
        n = len(net.nodes)
        if spec == 0 or abs(spec) > n:
            raise ConnectionError_(head, f"cannot take {spec} layers of a {net.head} with {n} "
                                   "layers.")
        return (All, spec) if spec > 0 else (n + spec + 1, All)
    if isinstance(spec, tuple) and len(spec) == 2:
        return spec
    return All, spec


def NetDrop(net: Layer, spec: Any, **ports: Any) -> Layer:
    """NetDrop(chain, n) drops the first n layers; -n the last n; (m, n) layers m through n.

    When interior layers are dropped, the layers that become neighbours must fit.

    >>> chain = NetChain([LinearLayer(3), Tanh, Ramp, LinearLayer(2)], Input=4)
    >>> [layer.head for layer in Normal(NetDrop(chain, (2, 3)))]
    ['LinearLayer', 'LinearLayer']
    """
    head = "NetDrop"
    c = as_container(head, net, chain_only=True)
    keys = list(c.nodes)
    n = len(keys)
    if isinstance(spec, int) and not isinstance(spec, bool) and 0 < abs(spec) <= n:
        lo, hi = (1, spec) if spec > 0 else (n + spec + 1, n)
    elif isinstance(spec, tuple) and len(spec) == 2:
        lo, hi = (keys.index(layer_key(head, c, s)) + 1 for s in spec)
    else:
        raise ConnectionError_(head, f"expected n, -n or (m, n) with positions between 1 and "
                               f"{n}, but received {spec!r}.")
    dropped = set(keys[lo - 1:hi])
    return _rechain(head, c, [(k, c.nodes[k]) for k in keys if k not in dropped], ports)


def _rechain(head: str, c: Container, items: list[tuple[str, Layer]],
             ports: Mapping[str, Any], hint: str = "") -> Layer:
    if not items:
        raise ConnectionError_(head, "no layers would be left.")
    p = chain_parts(head, items, c.graph.named, c.extra)
    old, new = list(c.nodes.values()), list(p.nodes.values())
    if new[0] is old[0]:  # the same first layer: the net's input keeps its shape
        p.ins = dict(c.in_types)
    if new[-1] is old[-1]:
        p.outs = dict(c.out_types)
    try:
        return assemble(head, p, ports)
    except ShapeError as e:
        raise rehead(head, e, hint) from None


# -- NetDelete ------------------------------------------------------------------------------
def NetDelete(net: Layer, spec: Any) -> Layer:
    """NetDelete(net, layer) removes a layer; NetDelete(net, NetPort("port")) an output port.

    ``spec`` is a position, a name, a NetPort or a list of these. A layer inside a graph can
    be removed when its one input and one output have the same shape (its source then feeds
    its consumers); layers at the start or end can always be removed. A port that can be
    removed is an output that another layer also uses, or an input that feeds only
    recurrent states.

    >>> chain = NetChain([LinearLayer(3), Tanh, LinearLayer(1)], Input=2)
    >>> [layer.head for layer in Normal(NetDelete(chain, 2))]
    ['LinearLayer', 'LinearLayer']
    """
    head = "NetDelete"
    c = as_container(head, net)
    specs = spec if isinstance(spec, list) else [spec]
    port_specs = [s for s in specs if isinstance(s, NetPort)]
    keys = {layer_key(head, c, s) for s in specs if not isinstance(s, NetPort)}
    if isinstance(c, NetChain) and not port_specs:
        return _rechain(head, c, [(k, v) for k, v in c.nodes.items() if k not in keys], {},
                        " Deleting interior layers needs their neighbours to fit.")
    p = Parts.of(c)
    for s in port_specs:
        _delete_port(head, c, p, s)
    for k in [k for k in c.nodes if k in keys]:  # in the net's order: deterministic
        _delete_layer(head, c, p, k)
    p = _cut(p, set(p.nodes) - keys)
    return assemble(head, p.renumbered())


def _delete_port(head: str, c: Container, p: Parts, port: NetPort) -> None:
    name = port.port
    if not port.is_graph_port or (name not in c.input_ports() and name not in c.output_ports()):
        raise ConnectionError_(head, f"{port!r} is not a port of the {c.head}; its ports are "
                               f"{', '.join([*c.input_ports(), *c.output_ports()])}.")
    if name in c.output_ports():
        src = p.edges.pop(PortRef(None, name))
        others = [d for d, s in p.edges.items() if s == src]
        if src.node is not None and not others and src.port not in c.nodes[src.node].states:
            raise ConnectionError_(head, f"output port \"{name}\" is the only use of {src.wl()};"
                                   f" delete layer {label(src.node)} instead.")
        return
    fed = [d for d, s in p.edges.items() if s == PortRef(None, name)]
    if any(d.node is None or d.port not in c.nodes[d.node].states for d in fed):
        raise ConnectionError_(head, f"input port \"{name}\" feeds more than recurrent states; "
                               "only such optional inputs can be deleted.")
    for d in fed:
        del p.edges[d]


def _delete_layer(head: str, c: Container, p: Parts, key: str) -> None:
    """Reconnect around layer ``key`` before it is cut out (when it is interior)."""
    layer = c.nodes[key]
    uses = [d for d, s in p.edges.items() if s.node == key and d.node is not None]
    if not uses:
        for d in [d for d, s in p.edges.items() if s.node == key]:
            del p.edges[d]  # its outputs were only ports of the graph: they go too
        return
    feeds = [p.edges.get(PortRef(key, q)) for q in layer.input_ports()]
    if all(s is None or s.node is None for s in feeds):
        return  # a first layer: its consumers' ports become inputs of the graph
    ins, outs = layer.visible_inputs(), layer.visible_outputs()
    if (len(ins), len(outs)) != (1, 1) or layer.in_types.get(ins[0]) != layer.out_types.get(
            outs[0]) or any(s.port in layer.states for s in p.edges.values() if s.node == key):
        t_in = layer.in_types[ins[0]].describe() if len(ins) == 1 else f"{len(ins)} inputs"
        t_out = (layer.out_types[outs[0]].describe() if len(outs) == 1
                 else f"{len(outs)} outputs")
        raise ShapeError(head, f"layer {label(key)} ({layer.head}) cannot be deleted: it is "
                         f"interior and takes {t_in} but gives {t_out}; only a layer with one "
                         "input and one output of the same shape can be deleted from inside.")
    src = p.edges[PortRef(key, ins[0])]
    for d, s in list(p.edges.items()):
        if s == PortRef(key, outs[0]):
            p.edges[d] = src
