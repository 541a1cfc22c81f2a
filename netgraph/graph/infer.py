"""Shape inference: a worklist fixpoint that runs both ways through a graph.

Every port is a key: ``("i", node, port)`` a layer input, ``("o", node, port)`` a layer output,
``("gi", port)`` a graph input and ``("go", port)`` a graph output. Each edge ties its two
ends to one type; each layer's :meth:`Layer.infer` adds constraints among its own ports.
Types only ever get more specific, so the loop ends; it is linear in the graph's size.
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

Key = tuple


def key_of_dst(ref: PortRef) -> Key:
    return ("go", ref.port) if ref.node is None else ("i", ref.node, ref.port)


def key_of_src(ref: PortRef) -> Key:
    return ("gi", ref.port) if ref.node is None else ("o", ref.node, ref.port)


def describe_key(key: Key, nodes: Mapping[str, Layer]) -> str:
    if key[0] in ("gi", "go"):
        return f'NetPort("{key[1]}")'
    ref = PortRef(key[1], key[2])
    return f"{ref.wl()} ({nodes[key[1]].head})"


@dataclass(frozen=True)
class Inferred:
    """The result: every port's type, and the layers with their types recorded."""

    nodes: dict[str, Layer]
    inputs: dict[str, PortType]
    outputs: dict[str, PortType]
    types: dict[Key, PortType]


class _Solver:
    def __init__(self, head: str, nodes: Mapping[str, Layer], edges: Mapping[PortRef, PortRef],
                 inputs: Mapping[str, PortType], outputs: Mapping[str, PortType]) -> None:
        self.head, self.nodes = head, nodes
        self.types: dict[Key, PortType] = {}
        self.links: dict[Key, list[Key]] = defaultdict(list)
        self.dirty: deque[str] = deque(nodes)
        self.queued = set(nodes)
        for dst, src in edges.items():
            a, b = key_of_dst(dst), key_of_src(src)
            self.links[a].append(b)
            self.links[b].append(a)
        for name, layer in nodes.items():
            for p in layer.input_ports():
                self.types[("i", name, p)] = layer.in_types.get(p, PortType())
            for p in layer.output_ports():
                self.types[("o", name, p)] = layer.out_types.get(p, PortType())
        for p, t in inputs.items():
            self.types[("gi", p)] = t
        for p, t in outputs.items():
            self.types[("go", p)] = t
        for dst, src in edges.items():
            self.tie(key_of_dst(dst), key_of_src(src))

    def tie(self, a: Key, b: Key) -> None:
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

    def assign(self, key: Key, t: PortType) -> None:
        stack = [(key, t)]
        while stack:
            k, t = stack.pop()
            if self.types.get(k) == t:
                continue
            self.types[k] = t
            if k[0] in ("i", "o") and k[1] not in self.queued:
                self.queued.add(k[1])
                self.dirty.append(k[1])
            for other in self.links.get(k, ()):
                cur = self.types.get(other, PortType())
                try:
                    new = unify(cur, t)
                except UnifyError:
                    dst, src = (k, other) if k[0] in ("i", "go") else (other, k)
                    raise ShapeError(self.head, f"{describe_key(dst, self.nodes)} expects "
                                     f"{self.types.get(dst, t).describe()}, but "
                                     f"{describe_key(src, self.nodes)} gives "
                                     f"{self.types.get(src, t).describe()}.") from None
                if new != cur:
                    stack.append((other, new))

    def constrain(self, name: str, side: str, port: str, t: PortType) -> None:
        key = (side, name, port)
        cur = self.types.get(key, PortType())
        try:
            new = unify(cur, t)
        except UnifyError:
            self.fail(name, port, t.describe(), cur.describe(), key)
        self.assign(key, new)

    def fail(self, name: str, port: str, expected: str, received: str | None, key: Key) -> Any:
        layer = self.nodes[name]
        where = PortRef(name, port).wl()
        src = [describe_key(o, self.nodes) for o in self.links.get(key, ())]
        frm = f" from {src[0]}" if src and key[0] == "i" else ""
        got = f", but it receives {received}{frm}" if received else ""
        raise ShapeError(self.head, f"{where} of {layer.head} expects {expected}{got}.")

    def run(self) -> None:
        while self.dirty:
            name = self.dirty.popleft()
            self.queued.discard(name)
            layer = self.nodes[name]
            ins = {p: self.types[("i", name, p)] for p in layer.input_ports()}
            outs = {p: self.types[("o", name, p)] for p in layer.output_ports()}
            try:
                cin, cout = layer.infer(ins, outs)
            except PortMismatch as e:
                side = "i" if e.port in ins else "o"
                self.fail(name, e.port, e.expected, e.received, (side, name, e.port))
            for p, t in cin.items():
                self.constrain(name, "i", p, t)
            for p, t in cout.items():
                self.constrain(name, "o", p, t)


def infer_graph(head: str, nodes: Mapping[str, Layer], edges: Mapping[PortRef, PortRef],
                inputs: Mapping[str, PortType], outputs: Mapping[str, PortType]) -> Inferred:
    """Infer every port type of a graph; layers come back specialized to their types."""
    s = _Solver(head, nodes, edges, inputs, outputs)
    s.run()
    out_nodes: dict[str, Layer] = {}
    for name, layer in nodes.items():
        ins = {p: s.types[("i", name, p)] for p in layer.input_ports()}
        outs = {p: s.types[("o", name, p)] for p in layer.output_ports()}
        if ins != dict(layer.in_types) or outs != dict(layer.out_types):
            layer = layer.specialize(ins, outs)
        out_nodes[name] = layer
    return Inferred(out_nodes, {p: s.types[("gi", p)] for p in inputs},
                    {p: s.types[("go", p)] for p in outputs}, s.types)
