"""Shape inference (stage three): a worklist fixpoint that runs both ways through a graph.

Every port of the :class:`~netgraph.graph.ir.GraphIR` is a :class:`~netgraph.graph.ir.PortId`
(a layer's input or output port, a graph input or output). Each edge ties its two ends to
one type; each layer's :meth:`Layer.infer` adds constraints among its own ports. Types only
ever get more specific, so the loop ends; it is linear in the graph's size. The result, an
:class:`InferredGraph`, is the graph with every layer specialized to its port types.
"""
from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ShapeError
from ..layers.base import Layer, PortMismatch
from ..ports import PortRef
from ..shapes import PortType, UnifyError, unify
from .ir import GraphIR, PortId


def describe_key(key: PortId, nodes: Mapping[str, Layer]) -> str:
    if key.node is None:
        return f'NetPort("{key.port}")'
    return f"{key.ref.wl()} ({nodes[key.node].head})"


@dataclass(frozen=True)
class InferredGraph:
    """The result: the layers with their types recorded, and every port's type."""

    nodes: dict[str, Layer]
    inputs: dict[str, PortType]
    outputs: dict[str, PortType]
    types: dict[PortId, PortType]


def declared(pid: PortId, nodes: Mapping[str, Layer], inputs: Mapping[str, PortType],
             outputs: Mapping[str, PortType]) -> PortType:
    """What is known of a port before inference: the graph's given port types, each layer's
    own."""
    if pid.node is None:
        return (outputs if pid.sink else inputs).get(pid.port, PortType())
    layer = nodes[pid.node]
    return (layer.in_types if pid.sink else layer.out_types).get(pid.port, PortType())


class _Solver:
    def __init__(self, head: str, graph: GraphIR, inputs: Mapping[str, PortType],
                 outputs: Mapping[str, PortType]) -> None:
        nodes, edges = graph.nodes, graph.edges
        self.head, self.nodes = head, nodes
        self.types: dict[PortId, PortType] = {}
        self.links: dict[PortId, list[PortId]] = defaultdict(list)
        self.dirty: deque[str] = deque(nodes)
        self.queued = set(nodes)
        # every PortId made once: {(sink, node): {port: PortId}} (the loop reads them often)
        self.ids: dict[tuple[bool, str | None], dict[str, PortId]] = {
            (sink, k): {} for k in (None, *nodes) for sink in (True, False)}
        for pid in graph.ports():
            self.ids[(pid.sink, pid.node)][pid.port] = pid
            self.types[pid] = declared(pid, nodes, inputs, outputs)
        ends = [(self.id(True, d.node, d.port), self.id(False, s.node, s.port))
                for d, s in edges.items()]
        for a, b in ends:
            self.links[a].append(b)
            self.links[b].append(a)
        for a, b in ends:
            self.tie(a, b)

    def id(self, sink: bool, node: str | None, port: str) -> PortId:
        """The PortId of a port (one made on the fly for a port the graph does not list)."""
        pid = self.ids[(sink, node)].get(port)
        return PortId(sink, node, port) if pid is None else pid

    def tie(self, a: PortId, b: PortId) -> None:
        """Unify the two ends of an edge (a is the destination)."""
        ta, tb = self.types.get(a, PortType()), self.types.get(b, PortType())
        try:
            t = unify(ta, tb)
        except UnifyError:
            raise ShapeError(self.head, f"{describe_key(a, self.nodes)} expects "
                             f"{ta.describe()}, but {describe_key(b, self.nodes)} gives "
                             f"{tb.describe()}.") from None
        self.assign(a, t)
        self.assign(b, t)

    def assign(self, key: PortId, t: PortType) -> None:
        stack = [(key, t)]
        while stack:
            k, t = stack.pop()
            if self.types.get(k) == t:
                continue
            self.types[k] = t
            if k.node is not None and k.node not in self.queued:
                self.queued.add(k.node)
                self.dirty.append(k.node)
            for other in self.links.get(k, ()):
                cur = self.types.get(other, PortType())
                try:
                    new = unify(cur, t)
                except UnifyError:
                    dst, src = (k, other) if k.sink else (other, k)
                    raise ShapeError(self.head, f"{describe_key(dst, self.nodes)} expects "
                                     f"{self.types.get(dst, t).describe()}, but "
                                     f"{describe_key(src, self.nodes)} gives "
                                     f"{self.types.get(src, t).describe()}.") from None
                if new != cur:
                    stack.append((other, new))

    def constrain(self, name: str, sink: bool, port: str, t: PortType) -> None:
        key = self.id(sink, name, port)
        cur = self.types.get(key, PortType())
        try:
            new = unify(cur, t)
        except UnifyError:
            self.fail(name, port, t.describe(), cur.describe(), key)
        self.assign(key, new)

    def fail(self, name: str, port: str, expected: str, received: str | None, key: PortId) -> Any:
        layer = self.nodes[name]
        where = PortRef(name, port).wl()
        src = [describe_key(o, self.nodes) for o in self.links.get(key, ())]
        frm = f" from {src[0]}" if src and key.sink else ""
        got = f", but it receives {received}{frm}" if received else ""
        raise ShapeError(self.head, f"{where} of {layer.head} expects {expected}{got}.")

    def port_types(self, name: str) -> tuple[dict[str, PortType], dict[str, PortType]]:
        """The current types of layer ``name``'s input and output ports."""
        types = self.types
        return ({p: types[i] for p, i in self.ids[(True, name)].items()},
                {p: types[i] for p, i in self.ids[(False, name)].items()})

    def run(self) -> None:
        while self.dirty:
            name = self.dirty.popleft()
            self.queued.discard(name)
            layer = self.nodes[name]
            ins, outs = self.port_types(name)
            try:
                cin, cout = layer.infer(ins, outs)
            except PortMismatch as e:
                key = self.id(e.port in ins, name, e.port)
                self.fail(name, e.port, e.expected, e.received, key)
            for p, t in cin.items():
                self.constrain(name, True, p, t)
            for p, t in cout.items():
                self.constrain(name, False, p, t)


def infer_graph(head: str, graph: GraphIR, inputs: Mapping[str, PortType],
                outputs: Mapping[str, PortType]) -> InferredGraph:
    """Infer every port type of a graph; layers come back specialized to their types."""
    s = _Solver(head, graph, inputs, outputs)
    s.run()
    out_nodes: dict[str, Layer] = {}
    for name, layer in graph.nodes.items():
        ins, outs = s.port_types(name)
        if ins != dict(layer.in_types) or outs != dict(layer.out_types):
            layer = layer.specialize(ins, outs)
        out_nodes[name] = layer
    return InferredGraph(out_nodes, {p: s.types[s.id(False, None, p)] for p in inputs},
                         {p: s.types[s.id(True, None, p)] for p in outputs}, s.types)
