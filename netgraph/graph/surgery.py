"""Net surgery, part 2: NetTake, NetDrop, NetAppend, NetPrepend, NetJoin, NetInsert, NetDelete
and NetFlatten, with WL's semantics. Each returns a new net; shapes of the layers that are kept
stay as they were (new connections must be compatible with them) and so do their arrays.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import Any

from ..errors import ConnectionError_, ShapeError
from ..layers.base import Layer
from ..ports import NetPort, PortRef
from ..symbols import All
from .build import EdgeBuilder
from .edit import Parts, assemble, extra_params, label, layer_key, rehead
from .net import Container, NetChain, NetGraph, wrap


def _container(head: str, net: Any, chain_only: bool = False) -> Container:
    want = NetChain if chain_only else Container
    if not isinstance(net, want):
        what = "a NetChain" if chain_only else "a NetChain or NetGraph"
        got = net.head if isinstance(net, Layer) else repr(net)
        raise ConnectionError_(head, f"expected {what}, but received {got}.")
    return net


def _fresh(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name`` numbered (Input1, lin_2, ...) where it is taken."""
    taken = set(taken)
    sep, i = ("", 1) if name.isalpha() else ("_", 2)
    fresh = name
    while fresh in taken:
        fresh, i = f"{name}{sep}{i}", i + 1
    return fresh


def chain_parts(head: str, items: list[tuple[str, Layer]], named: bool,
                extra: Mapping[str, Any] | None = None) -> Parts:
    """Parts of a NetChain of ``items`` (key, layer), each feeding the next."""
    nodes = dict(items)
    if len(nodes) != len(items):
        raise ConnectionError_(head, "the layers of a NetChain need distinct names.")
    b = EdgeBuilder(head, nodes)
    keys = list(nodes)
    for a, c in pairwise(keys):
        b.add(b.destinations(c, 1)[0], b.source(a))
    return Parts(NetChain, nodes, dict(b.edges), named=named,
                 extra=dict(extra or {"lrm": None})).renumbered()


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
                names[s] = _fresh(d.port, kept | set(names.values()))
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
    c = _container(head, net)
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
    c = _container(head, net, chain_only=True)
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
    p = chain_parts(head, items, bool(c.params["named"]), extra_params(c))
    old, new = list(c.nodes.values()), list(p.nodes.values())
    if new[0] is old[0]:  # the same first layer: the net's input keeps its shape
        p.ins = dict(c.in_types)
    if new[-1] is old[-1]:
        p.outs = dict(c.out_types)
    try:
        return assemble(head, p, ports)
    except ShapeError as e:
        raise rehead(head, e, hint) from None


# -- NetAppend, NetPrepend, NetJoin, NetInsert ----------------------------------------------
def _new_layers(head: str, layers: Any) -> Container:
    """What NetAppend/NetPrepend add: a layer, ("name", layer), a list of them or a dict."""
    if isinstance(layers, Mapping):
        return NetChain(dict(layers))
    items = layers if isinstance(layers, list) else [layers]
    named = [isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in items]
    if all(named):
        return NetChain(dict(items))
    if any(named):
        raise ConnectionError_(head, "give either all new layers a name, as (\"name\", layer), "
                               "or none.")
    return NetChain(list(items))


def _one_port(head: str, what: str, piece: Container, side: str) -> str:
    ports = piece.params["inputs" if side == "input" else "outputs"]
    if len(ports) != 1:
        raise ConnectionError_(head, f"{what} ({piece.head}) has {len(ports)} {side} ports "
                               f"({', '.join(ports) or 'none'}); the nets joined must have one "
                               f"{side} port where they meet.")
    return ports[0]


def merge(head: str, nets: list[Layer], ports: Mapping[str, Any] | None = None,
          names: list[str] | None = None) -> Layer:
    """Nets joined end to end: the one output of each feeds the one input of the next.

    Layers keep their names (a clash gets a number) and positional layers are numbered on;
    the result is a NetChain when every piece is a chain or a layer, else a NetGraph.
    """
    pieces = [wrap(n) if not isinstance(n, Container) else n for n in nets]
    named = any(p.params["named"] for p in pieces)
    nodes: dict[str, Layer] = {}
    edges: dict[PortRef, PortRef] = {}
    prev: PortRef | None = None
    names = names or [f"net {i + 1}" for i in range(len(pieces))]
    for i, piece in enumerate(pieces):
        keymap = {}
        for k, layer in piece.nodes.items():
            key = _fresh(k, nodes) if piece.params["named"] else _fresh(str(len(nodes) + 1), nodes)
            keymap[k], nodes[key] = key, layer
        own = {_mapped(d, keymap): _mapped(s, keymap) for d, s in piece.edges.items()}
        if prev is not None:
            feed = PortRef(None, _one_port(head, names[i], piece, "input"))
            own = {d: prev if s == feed else s for d, s in own.items()}
        if i < len(pieces) - 1:
            prev = own.pop(PortRef(None, _one_port(head, names[i], piece, "output")))
        edges.update(own)
    cls = NetChain if all(isinstance(p, NetChain) for p in pieces) else NetGraph
    p = Parts(cls, nodes, edges, dict(pieces[0].in_types), dict(pieces[-1].out_types), named)
    return assemble(head, p, ports)


def _mapped(r: PortRef, keymap: Mapping[str, str]) -> PortRef:
    return r if r.node is None else PortRef(keymap[r.node], r.port)


def NetAppend(net: Layer, layers: Any, **ports: Any) -> Layer:
    """NetAppend(net, layer) appends a layer (or ("name", layer), or a list) after the output.

    A NetGraph must have one output port. Keyword options set port shapes.

    >>> Information(NetAppend(NetChain([LinearLayer(3)], Input=2), [Tanh, 4]), "OutputPorts")
    {'Output': 4}
    """
    return merge("NetAppend", [net, _new_layers("NetAppend", layers)], ports,
                 ["the net", "the new layers"])


def NetPrepend(net: Layer, layers: Any, **ports: Any) -> Layer:
    """NetPrepend(net, layer) puts a layer (or ("name", layer), or a list) before the input.

    >>> Information(NetPrepend(NetChain([Tanh], Input=3), LinearLayer(3), Input=2), "InputPorts")
    {'Input': 2}
    """
    return merge("NetPrepend", [_new_layers("NetPrepend", layers), net], ports,
                 ["the new layers", "the net"])


def NetJoin(*nets: Layer, **ports: Any) -> Layer:
    """NetJoin(net1, net2, ...) connects the output of each net to the input of the next.

    Chains join into one flat NetChain; a duplicate layer name gets a number.

    >>> len(NetJoin(NetChain([LinearLayer(3), Tanh]), NetChain([LinearLayer(1)])))
    3
    """
    if not nets:
        raise ConnectionError_("NetJoin", "expected at least one net, but received none.")
    for n in nets:
        if not isinstance(n, Layer):
            raise ConnectionError_("NetJoin", f"expected nets, but received {n!r}.")
    return merge("NetJoin", list(nets), ports)


def NetInsert(net: Layer, layer: Any, pos: Any) -> Layer:
    """NetInsert(chain, layer, i) inserts a layer (or ("name", layer)) so that it is the i-th.

    ``pos`` may also name the layer before which to insert. The new layer must fit both ways.

    >>> [l.head for l in Normal(NetInsert(NetChain([LinearLayer(3), LinearLayer(1)]), Tanh, 2))]
    ['LinearLayer', 'ElementwiseLayer', 'LinearLayer']
    """
    head = "NetInsert"
    c = _container(head, net, chain_only=True)
    new = _new_layers(head, [layer])
    keys = list(c.nodes)
    if isinstance(pos, int) and not isinstance(pos, bool):
        at = pos - 1 if pos > 0 else len(keys) + pos + 1
        if not 0 <= at <= len(keys) or pos == 0:
            raise ConnectionError_(head, f"expected a position between 1 and {len(keys) + 1} "
                                   f"(or negative, from the end), but received {pos}.")
    else:
        at = keys.index(layer_key(head, c, pos))
    (key, inserted), = new.nodes.items()
    key = key if new.params["named"] else _fresh(str(at + 1), keys)
    if key in c.nodes:
        raise ConnectionError_(head, f"the {c.head} already has a layer {label(key)}.")
    items = [(k, c.nodes[k]) for k in keys]
    items.insert(at, (key, inserted))
    named = bool(c.params["named"] or new.params["named"])
    p = chain_parts(head, items, named, extra_params(c))
    p.ins, p.outs = (dict(c.in_types) if at else {}), (dict(c.out_types) if at < len(keys) else {})
    return assemble(head, p)


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
    c = _container(head, net)
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


# -- NetFlatten -----------------------------------------------------------------------------
def NetFlatten(net: Layer, level: Any = All) -> Layer:
    """NetFlatten(net) flattens nested chains and graphs into one; NetFlatten(net, n) n levels.

    Flattened layers are numbered on when every level is positional, else named
    ``"outer/inner"``. A chain stays a chain unless it contained a graph.

    >>> len(NetFlatten(NetChain([LinearLayer(3), [Tanh, LinearLayer(2)]])))
    3
    """
    if not isinstance(net, Container):
        return net
    depth = 10**6 if level is All else level
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ConnectionError_("NetFlatten", f"expected a level n >= 0 or All, but received "
                               f"{level!r}.")
    return _flatten(net, depth)


def _flatten(net: Container, depth: int) -> Layer:
    if depth == 0:
        return net
    nodes = {k: _flatten(v, depth - 1) if isinstance(v, Container) else v
             for k, v in net.nodes.items()}
    subs: dict[str, Container] = {k: v for k, v in nodes.items() if isinstance(v, Container)}
    if not subs:
        return net._replace(params={**net.params, "nodes": nodes})
    named = bool(net.params["named"]) or any(s.params["named"] for s in subs.values())
    keys: dict[tuple[str, ...], str] = {}  # (outer key, inner key) -> flat key
    flat: dict[str, Layer] = {}
    for k, v in nodes.items():
        for ik, layer in (subs[k].nodes.items() if k in subs else [("", v)]):
            path = (k, ik) if ik else (k,)
            keys[path] = "/".join(path) if named else str(len(keys) + 1)
            flat[keys[path]] = layer
    edges = _flat_edges(net, subs, keys)
    cls = NetChain if isinstance(net, NetChain) and all(
        isinstance(s, NetChain) for s in subs.values()) else NetGraph
    p = Parts(cls, flat, edges, dict(net.in_types), dict(net.out_types), named, extra_params(net))
    return assemble("NetFlatten", p)


def _flat_edges(net: Container, subs: Mapping[str, Container],
                keys: Mapping[tuple[str, ...], str]) -> dict[PortRef, PortRef]:
    def outer_src(s: PortRef) -> PortRef:
        if s.node is None:
            return s
        if s.node in subs:
            return inner_src(s.node, subs[s.node].edges[PortRef(None, s.port)])
        return PortRef(keys[(s.node,)], s.port)

    def inner_src(k: str, s: PortRef) -> PortRef:
        if s.node is None:  # an input of the nested net: whatever feeds it outside
            return outer_src(net.edges[PortRef(k, s.port)])
        return PortRef(keys[(k, s.node)], s.port)

    edges: dict[PortRef, PortRef] = {}
    for d, s in net.edges.items():
        if d.node not in subs:
            dst = d if d.node is None else PortRef(keys[(d.node,)], d.port)
            edges[dst] = outer_src(s)
    for k, sub in subs.items():
        for d, s in sub.edges.items():
            if d.node is not None:
                edges[PortRef(keys[(k, d.node)], d.port)] = inner_src(k, s)
    return edges
