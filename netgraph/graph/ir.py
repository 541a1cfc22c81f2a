"""The graph IR: a container's layers, connections and ports as one frozen, typed value.

Stage two of DESIGN.md's pipeline (declare -> **graph IR** -> infer -> lower -> run). Every
NetGraph and NetChain holds one :class:`GraphIR` (``net.graph``); construction, the net
edits, Import, inference and lowering all read it, and :func:`build_graph` is the one place
that makes one from layers and edges (variadic input counts, loose ports exposed as graph
ports, a topological order). ``net.params`` is the same graph in its stored form
(:meth:`GraphIR.params`, what a .netgraph file holds).

Ports inside a graph are named two ways:

- :class:`~netgraph.ports.PortRef` ``(node, port)``: ``node`` a layer key, or ``None`` for the
  graph's own port; edges map each destination PortRef to its one source PortRef;
- :class:`PortId` ``(sink, node, port)``: a PortRef with its side, so that every port of the
  graph is one key (a graph input and a graph output may share a name as PortRefs).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from ..layers.base import Layer
from ..ports import PortRef
from .build import expose_ports, resolve_variadic, topological_order

# The keys of a container's params that hold its graph; any other key is an option (lrm).
STRUCTURE = ("nodes", "edges", "inputs", "outputs", "order", "named")


class PortId(NamedTuple):
    """One port of a graph, with its side.

    ``sink`` is True for a port that receives a value (a layer's input port, a graph output)
    and False for one that gives a value (a layer's output port, a graph input).
    """

    sink: bool
    node: str | None
    port: str

    @staticmethod
    def of_dst(ref: PortRef) -> PortId:
        return PortId(True, ref.node, ref.port)

    @staticmethod
    def of_src(ref: PortRef) -> PortId:
        return PortId(False, ref.node, ref.port)

    @property
    def is_graph_port(self) -> bool:
        return self.node is None

    @property
    def ref(self) -> PortRef:
        return PortRef(self.node, self.port)


@dataclass(frozen=True, eq=False)
class GraphIR:
    """A graph of layers: what a NetGraph or NetChain is made of.

    Attributes:
        nodes: ``{key: Layer}`` in the user's order (keys "1", "2", ... or the user's names).
        edges: ``{destination: source}`` of :class:`PortRef`; a port has one source.
        inputs: the graph's input port names, in order.
        outputs: the graph's output port names, in order.
        order: the node keys in a topological order (each layer after its sources).
        named: whether the user named the layers (keys are names, not positions).
    """

    nodes: Mapping[str, Layer]
    edges: Mapping[PortRef, PortRef]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    order: tuple[str, ...]
    named: bool = False

    @classmethod
    def of_params(cls, params: Mapping[str, Any]) -> GraphIR:
        """The graph a container's stored params describe (Import checks them first)."""
        return cls(_frozen(params["nodes"]), _frozen(params["edges"]),
                   tuple(params["inputs"]), tuple(params["outputs"]),
                   tuple(params["order"]), bool(params["named"]))

    def params(self) -> dict[str, Any]:
        """The stored form: a container's params without its options (a file holds these)."""
        return {"nodes": self.nodes, "edges": self.edges, "inputs": self.inputs,
                "outputs": self.outputs, "order": self.order, "named": self.named}

    # -- reading ---------------------------------------------------------------------
    def input_sources(self, key: str) -> Iterator[tuple[str, PortRef | None]]:
        """Each input port of layer ``key`` with its source (None when unconnected)."""
        get = self.edges.get
        for p in self.nodes[key].input_ports():
            yield p, get(PortRef(key, p))

    def output_source(self, port: str) -> PortRef:
        """The source of graph output ``port``."""
        return self.edges[PortRef(None, port)]

    def ports(self) -> Iterator[PortId]:
        """Every port of the graph: its own inputs and outputs, then each layer's ports."""
        make = tuple.__new__  # PortId(...) without NamedTuple's slower __new__ (large graphs)
        for p in self.inputs:
            yield make(PortId, (False, None, p))
        for p in self.outputs:
            yield make(PortId, (True, None, p))
        for k, layer in self.nodes.items():
            for p in layer.input_ports():
                yield make(PortId, (True, k, p))
            for p in layer.output_ports():
                yield make(PortId, (False, k, p))

    # -- new graphs ------------------------------------------------------------------
    def with_nodes(self, nodes: Mapping[str, Layer]) -> GraphIR:
        """The same wiring with the layers replaced (same keys and ports: inferred, trained)."""
        return GraphIR(_frozen(nodes), self.edges, self.inputs, self.outputs, self.order,
                       self.named)

    def renamed(self, nodes: Mapping[str, Layer], edges: Mapping[PortRef, PortRef],
                keys: Mapping[str, str], ports: Mapping[str, str], named: bool) -> GraphIR:
        """The same graph with layer keys and graph ports renamed (NetRename): ``nodes`` and
        ``edges`` as renamed by the caller, ``keys``/``ports`` the renaming at this level."""
        return GraphIR(_frozen(nodes), _frozen(edges),
                       tuple(ports.get(q, q) for q in self.inputs),
                       tuple(ports.get(q, q) for q in self.outputs),
                       tuple(keys.get(k, k) for k in self.order), named)


def _frozen(m: Any) -> Any:
    return m if isinstance(m, MappingProxyType) else MappingProxyType(dict(m))


def build_graph(head: str, nodes: Mapping[str, Layer], edges: Mapping[PortRef, PortRef],
                named: bool, variadic: Mapping[str, int] | None = None) -> GraphIR:
    """The one way to make a graph: layers and edges -> a :class:`GraphIR`.

    Variadic layers get their input counts, unconnected layer ports become graph ports (WL
    naming, :func:`~netgraph.graph.build.expose_ports`) and the layers are put in a
    topological order (a cycle is an error naming it).
    """
    wired = dict(edges)
    layers = resolve_variadic(dict(nodes), variadic or {}, wired)
    inputs, outputs = expose_ports(layers, wired)
    order = topological_order(head, layers, wired)
    return GraphIR(MappingProxyType(layers), MappingProxyType(wired), tuple(inputs),
                   tuple(outputs), tuple(order), named)
