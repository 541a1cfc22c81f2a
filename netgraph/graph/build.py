"""From WL-style connections (tuples of layers and NetPorts) to edges of the graph IR.

Edges map each destination port to its one source: a layer's input port or a graph output
(the destination) to a layer's output port or a graph input (the source), all as
:class:`PortRef`. A port fed twice is an error by construction; fan-out is free.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConnectionError_, nearest
from ..layers.base import Layer
from ..ports import NetPort, PortRef
from ..symbols import All


def _node_label(key: str) -> str:
    return key if key.isdigit() else f'"{key}"'


class EdgeBuilder:
    """Collects edges for one graph, resolving layer references and variadic inputs."""

    def __init__(self, head: str, nodes: dict[str, Layer]) -> None:
        self.head, self.nodes = head, nodes
        self.edges: dict[PortRef, PortRef] = {}
        self.variadic: Counter[str] = Counter()

    # -- references -------------------------------------------------------------
    def node_key(self, ref: Any) -> str:
        if isinstance(ref, bool) or not isinstance(ref, (int, str)):
            raise ConnectionError_(self.head, f"expected a layer (its position or name) or a "
                                   f"NetPort in a connection, but received {ref!r}.")
        key = str(ref)
        if key not in self.nodes:
            names = ", ".join(_node_label(k) for k in self.nodes)
            hint = nearest(ref, self.nodes) if isinstance(ref, str) else ""
            raise ConnectionError_(self.head, f"unknown layer {_node_label(key)} in a "
                                   f"connection.{hint} The layers are {names or 'none'}.")
        return key

    def _port_key(self, p: NetPort) -> str:
        if len(p.path) != 1 or p.path[0] is All:
            raise ConnectionError_(self.head, f"{p!r} cannot be used in a connection here; "
                                   "name a port of one layer of this graph.")
        return self.node_key(p.path[0])

    def source(self, x: Any) -> PortRef:
        if isinstance(x, NetPort):
            if x.is_graph_port:
                return PortRef(None, x.port)
            key = self._port_key(x)
            outs = self.nodes[key].output_ports()
            if x.port not in outs:
                raise ConnectionError_(self.head, f"{PortRef(key, x.port).wl()}: layer "
                                       f"{_node_label(key)} ({self.nodes[key].head}) has no output "
                                       f'port "{x.port}"; its output ports are '
                                       f"{', '.join(outs) or 'none'}.")
            return PortRef(key, x.port)
        key = self.node_key(x)
        outs = self.nodes[key].visible_outputs()
        if len(outs) != 1:
            has = f"several outputs ({', '.join(outs)})" if outs else "no outputs"
            raise ConnectionError_(self.head, f"layer {_node_label(key)} "
                                   f"({self.nodes[key].head}) has {has}; "
                                   f'name one with NetPort({_node_label(key)}, "port").')
        return PortRef(key, outs[0])

    def destinations(self, x: Any, count: int) -> list[PortRef]:
        """Where ``count`` sources flowing into ``x`` land, in order."""
        if isinstance(x, NetPort):
            if count != 1:
                raise ConnectionError_(self.head, f"{count} sources cannot all feed {x!r}; a "
                                       "port takes one source.")
            if x.is_graph_port:
                return [PortRef(None, x.port)]
            key = self._port_key(x)
            ins = self.nodes[key].input_ports()
            if x.port not in ins and not getattr(self.nodes[key], "variadic", False):
                raise ConnectionError_(self.head, f"{PortRef(key, x.port).wl()}: layer "
                                       f"{_node_label(key)} ({self.nodes[key].head}) has no input "
                                       f'port "{x.port}"; its input ports are '
                                       f"{', '.join(ins) or 'none'}.")
            return [PortRef(key, x.port)]
        key = self.node_key(x)
        layer = self.nodes[key]
        if getattr(layer, "variadic", False):
            start = self.variadic[key]
            self.variadic[key] += count
            return [PortRef(key, f"Input{start + i + 1}") for i in range(count)]
        ins = layer.visible_inputs()
        if count > len(ins):
            raise ConnectionError_(self.head, f"layer {_node_label(key)} ({layer.head}) takes "
                                   f"{len(ins)} input(s) ({', '.join(ins) or 'none'}), but "
                                   f"{count} sources are connected to it at once.")
        # past the free ports a source lands on a fed one, which add() reports as fed twice
        free = [p for p in ins if PortRef(key, p) not in self.edges]
        return [PortRef(key, p) for p in (free + [p for p in ins if p not in free])[:count]]

    # -- edges ------------------------------------------------------------------
    def add(self, dst: PortRef, src: PortRef) -> None:
        if dst in self.edges:
            raise ConnectionError_(self.head, f"{dst.wl()} is fed twice: by "
                                   f"{self.edges[dst].wl()} and by {src.wl()}; a port takes "
                                   "one source.")
        if dst.node is not None and dst.node == src.node:
            raise ConnectionError_(self.head, f"the connections form a cycle through layer "
                                   f"{_node_label(dst.node)} ({self.nodes[dst.node].head}); a "
                                   "NetGraph must be acyclic.")
        self.edges[dst] = src

    def connect(self, chain: Any) -> None:
        if not isinstance(chain, tuple) or len(chain) < 2:
            raise ConnectionError_(self.head, f"expected a connection as a tuple such as "
                                   f"(1, 2) or (NetPort(\"x\"), 1, 2), but received {chain!r}.")
        for a, b in zip(chain, chain[1:], strict=False):  # consecutive pairs
            srcs = [self.source(s) for s in (a if isinstance(a, list) else [a])]
            if isinstance(b, list):
                if len(srcs) != 1:
                    raise ConnectionError_(self.head, f"cannot connect the list {a!r} to the "
                                           f"list {b!r}; connect one source to many instead.")
                for d in b:
                    self.add(self.destinations(d, 1)[0], srcs[0])
            else:
                for dst, src in zip(self.destinations(b, len(srcs)), srcs, strict=True):
                    self.add(dst, src)


def resolve_variadic(nodes: dict[str, Layer], counts: Mapping[str, int],
                     edges: Mapping[PortRef, PortRef]) -> dict[str, Layer]:
    """Give each variadic layer (ThreadingLayer, CatenateLayer, ...) its input count."""
    out = dict(nodes)
    used: dict[str, int] = {}  # highest "InputN" fed per layer, in one pass (large graphs)
    for d in edges:
        if d.node is not None and d.port[5:].isdigit():
            used[d.node] = max(used.get(d.node, 0), int(d.port[5:]))
    for key, layer in nodes.items():
        if not getattr(layer, "variadic", False):
            continue
        n = max(counts.get(key, 0), used.get(key, 0), layer.params.get("n") or 0)
        if n != layer.params.get("n"):
            out[key] = layer._replace(params={**layer.params, "n": n})
    return out


def expose_ports(nodes: Mapping[str, Layer], edges: dict[PortRef, PortRef]
                 ) -> tuple[list[str], list[str]]:
    """Make unconnected layer ports graph ports (WL naming) and list the graph's ports in order.

    Unconnected inputs of the same name share one graph input; several unconnected outputs of
    the same name become "Output1", "Output2", ...
    """
    inputs = _expose_inputs(nodes, edges)
    return inputs, _expose_outputs(nodes, edges)


def _expose_inputs(nodes: Mapping[str, Layer], edges: dict[PortRef, PortRef]) -> list[str]:
    """Feed unconnected visible inputs from graph inputs of their name; list the inputs."""
    fed_by_graph = {d: s for d, s in edges.items() if s.node is None}
    inputs: list[str] = []
    for key, layer in nodes.items():
        for p in layer.input_ports():
            dst = PortRef(key, p)
            if dst in fed_by_graph:
                name = fed_by_graph[dst].port
            elif dst not in edges and p in layer.visible_inputs():
                name = p
                edges[dst] = PortRef(None, p)
            else:
                continue
            if name not in inputs:
                inputs.append(name)
    for s in edges.values():
        if s.node is None and s.port not in inputs:
            inputs.append(s.port)
    return inputs


def _expose_outputs(nodes: Mapping[str, Layer], edges: dict[PortRef, PortRef]) -> list[str]:
    """Make unused outputs graph outputs (numbered where names clash); list the outputs."""
    used_sources = set(edges.values())
    explicit_outs = {d.port for d in edges if d.node is None}
    loose = [(k, p) for k, layer in nodes.items() for p in layer.visible_outputs()
             if PortRef(k, p) not in used_sources]
    counts = Counter(p for _, p in loose)
    seen: Counter[str] = Counter()
    outputs: list[str] = []
    by_src: dict[PortRef, list[str]] = {}
    for d, s in edges.items():
        if d.node is None:
            by_src.setdefault(s, []).append(d.port)
    for key, layer in nodes.items():
        for p in layer.output_ports():
            for name in by_src.get(PortRef(key, p), []):
                if name not in outputs:
                    outputs.append(name)
            if (key, p) in loose:
                name = p
                if counts[p] > 1 or p in explicit_outs:
                    seen[p] += 1
                    name = f"{p}{seen[p]}"
                    while name in explicit_outs:
                        seen[p] += 1
                        name = f"{p}{seen[p]}"
                edges[PortRef(None, name)] = PortRef(key, p)
                outputs.append(name)
    for d in edges:
        if d.node is None and d.port not in outputs:
            outputs.append(d.port)
    return outputs


def topological_order(head: str, nodes: Mapping[str, Layer],
                      edges: Mapping[PortRef, PortRef]) -> list[str]:
    """Layer keys in an order where every layer follows its sources; names a cycle if any."""
    deps: dict[str, set[str]] = {k: set() for k in nodes}
    for d, s in edges.items():
        if d.node is not None and s.node is not None:
            deps[d.node].add(s.node)
    users: dict[str, list[str]] = {k: [] for k in nodes}
    for k, ds in deps.items():
        for dep in ds:
            users[dep].append(k)
    indeg = {k: len(ds) for k, ds in deps.items()}
    ready = [k for k in nodes if indeg[k] == 0]
    order: list[str] = []
    while ready:
        k = ready.pop()
        order.append(k)
        for u in users[k]:
            indeg[u] -= 1
            if indeg[u] == 0:
                ready.append(u)
    if len(order) != len(nodes):
        raise ConnectionError_(head, "the connections form a cycle through layers "
                               f"{_describe_cycle(deps, set(nodes) - set(order))}; a NetGraph "
                               "must be acyclic.")
    pos = {k: i for i, k in enumerate(nodes)}
    return _stable(order, deps, pos)


def _stable(order: list[str], deps: Mapping[str, set[str]], pos: Mapping[str, int]) -> list[str]:
    """A topological order that keeps the user's layer order where it can (readable plans)."""
    import heapq
    indeg = {k: len(deps[k]) for k in order}
    users: dict[str, list[str]] = {k: [] for k in order}
    for k in order:
        for s in deps[k]:
            users[s].append(k)
    heap = [(pos[k], k) for k in order if indeg[k] == 0]
    heapq.heapify(heap)
    out: list[str] = []
    while heap:
        _, k = heapq.heappop(heap)
        out.append(k)
        for u in users[k]:
            indeg[u] -= 1
            if indeg[u] == 0:
                heapq.heappush(heap, (pos[u], u))
    return out


def _describe_cycle(deps: Mapping[str, set[str]], stuck: set[str]) -> str:
    start = min(stuck, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
    path, seen = [start], {start}
    cur = start
    while True:
        nxt = sorted(d for d in deps[cur] if d in stuck)[0]
        if nxt in seen:
            cyc = path[path.index(nxt):] + [nxt]
            return " -> ".join(_node_label(k) for k in reversed(cyc))
        path.append(nxt)
        seen.add(nxt)
        cur = nxt


def normalize_layers(head: str, layers: Any, allow_threading: bool = True) -> dict[str, Layer]:
    """The layer list or dict as ``{key: Layer}`` (keys "1", "2", ... for a list)."""
    from .specs import to_layer
    if isinstance(layers, Mapping):
        items = list(layers.items())
        for k, _ in items:
            if not isinstance(k, str) or not k:
                raise ConnectionError_(head, f"expected layer names to be nonempty strings, "
                                       f"but received {k!r}.")
    elif isinstance(layers, Sequence) and not isinstance(layers, str):
        items = [(str(i + 1), v) for i, v in enumerate(layers)]
    else:
        raise ConnectionError_(head, f"expected a list or dict of layers, but received "
                               f"{type(layers).__name__}.")
    return {k: to_layer(head, v, k, allow_threading) for k, v in items}
