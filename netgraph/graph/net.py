"""NetGraph and NetChain: immutable containers of layers wired into a DAG."""
from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from ..errors import ConnectionError_, OptionError, nearest
from ..layers.base import ArraySpec, Layer, Types
from ..layers.coding import attach, inherited, split_ports
from ..layers.inner import register_graphs
from ..ports import PortRef
from ..shapes import PortType, parse
from .build import EdgeBuilder, normalize_layers
from .infer import InferredGraph, infer_graph
from .ir import STRUCTURE, GraphIR, build_graph
from .specs import to_layer

GRAPH_OPTIONS = ("LearningRateMultipliers",)


class Container(Layer):
    """A graph of layers (NetGraph, NetChain). Its ports are the graph's own ports.

    Its graph is ``net.graph``, a frozen :class:`~netgraph.graph.ir.GraphIR`; ``params``
    hold the same graph in stored form (:meth:`GraphIR.params`) plus the container's options
    (``lrm``: its LearningRateMultipliers).
    """

    states = ()
    time = "inner"  # as its layers: the lowered graph knows (backend/lengths.py)

    @classmethod
    def input_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(params["inputs"])

    @classmethod
    def output_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(params["outputs"])

    @classmethod
    def from_graph(cls, graph: GraphIR, ins: Mapping[str, PortType],
                   outs: Mapping[str, PortType], extra: Mapping[str, Any],
                   coders: Mapping[str, Any] | None = None) -> Container:
        """A container of ``graph`` with port types ``ins``/``outs`` (nothing re-inferred)
        and ``coders`` on its ports."""
        net = cls._make({**graph.params(), **extra}, ins, outs, {}, coders)
        net.__dict__["graph"] = graph  # the value it was made from (no second copy)
        return net  # type: ignore[return-value]

    @cached_property
    def graph(self) -> GraphIR:
        """The typed graph (read from params once: Import checks them before it is read)."""
        return GraphIR.of_params(self.params)

    @property
    def extra(self) -> dict[str, Any]:
        """The params besides the graph (e.g. its LearningRateMultipliers, ``lrm``)."""
        return {k: v for k, v in self.params.items() if k not in STRUCTURE}

    @property
    def nodes(self) -> Mapping[str, Layer]:
        return self.graph.nodes

    @property
    def edges(self) -> Mapping[PortRef, PortRef]:
        return self.graph.edges

    def with_nodes(self, nodes: Mapping[str, Layer]) -> Container:
        """The same net with its layers replaced (same keys, ports and types)."""
        return self.from_graph(self.graph.with_nodes(nodes), self.in_types, self.out_types,
                               self.extra, self.coders)

    def _solve(self, ins: Types, outs: Types) -> InferredGraph:
        return infer_graph(self.head, self.graph, ins, outs)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        r = self._solve(ins, outs)
        return r.inputs, r.outputs

    def specialize(self, ins: Types, outs: Types) -> Layer:
        r = self._solve(ins, outs)
        return self.from_graph(self.graph.with_nodes(r.nodes), r.inputs, r.outputs,
                               self.extra, self.coders)

    def array_specs(self) -> dict[str, ArraySpec]:
        return {}

    def is_initialized(self) -> bool:
        return all(layer.is_initialized() for layer in self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, spec: Any) -> Any:
        from .extract import NetExtract
        return NetExtract(self, spec)


def typed_ports(head: str, graph: GraphIR, given: Mapping[str, Any]
                ) -> tuple[dict[str, PortType], dict[str, PortType]]:
    """The graph's port types from the user's port options (unknown where not given)."""
    for k in given:
        if k not in graph.inputs and k not in graph.outputs:
            valid = [*graph.inputs, *graph.outputs, *GRAPH_OPTIONS]
            raise OptionError(head, f"unknown option or port {k}.{nearest(k, valid)} The "
                              f"graph's ports are {', '.join(graph.inputs + graph.outputs)}.")
    ins = {p: parse(given[p], head, f'port "{p}"') if p in given else PortType()
           for p in graph.inputs}
    outs = {p: parse(given[p], head, f'port "{p}"') if p in given else PortType()
            for p in graph.outputs}
    return ins, outs


def _finish(cls: type[Container], head: str, nodes: dict[str, Layer], b: EdgeBuilder,
            named: bool, ports: dict[str, Any]) -> Container:
    """Build the graph, check options, infer all shapes."""
    extra = {"lrm": ports.pop("LearningRateMultipliers", None)}
    graph = build_graph(head, nodes, b.edges, named, b.variadic)
    both = [p for p in graph.inputs if p in graph.outputs]
    if both:
        raise ConnectionError_(head, f'"{both[0]}" names both an input and an output port of '
                               "the graph; give them different names.")
    for k in ports:
        if k not in graph.inputs and k not in graph.outputs:
            typed_ports(head, graph, {k: None})   # raises: an unknown option or port
    shapes, given = split_ports(head, ports, graph.inputs, graph.outputs)
    coders = {**inherited(graph.nodes, graph.edges, graph.inputs, graph.outputs), **given}
    ins, outs = typed_ports(head, graph, shapes)
    return attach(head, lambda i, o: cls.from_graph(graph, i, o, extra, coders).specialize(i, o),
                  ins, outs, coders)


class NetGraph(Container):
    """NetGraph(layers, connections, **ports): a net of layers wired by connections.

    ``layers`` is a list (layers referred to by 1-based position) or a dict (by name);
    ``connections`` is a list of tuples ``(a, b, c)`` meaning a -> b -> c, where each element is
    a layer, ``NetPort(...)``, or a list of sources. Keyword options give port shapes
    (``Input=3``, ``Output="Real"``). Unconnected layer ports become the graph's ports.

    >>> g = NetGraph([LinearLayer(3), Tanh], [(1, 2)], Input=2)
    >>> Information(g, "OutputPorts")
    {'Output': 3}
    """

    def __init__(self, layers: Any, connections: Any = (), **ports: Any) -> None:
        head = "NetGraph"
        if isinstance(layers, Layer):
            layers = [layers]
        nodes = normalize_layers(head, layers)
        if isinstance(connections, tuple) and connections and not isinstance(connections[0], tuple):
            connections = [connections]
        if not isinstance(connections, (list, tuple)):
            raise ConnectionError_(head, f"expected a list of connections, but received "
                                   f"{connections!r}.")
        b = EdgeBuilder(head, nodes)
        for c in connections:
            b.connect(c)
        net = _finish(NetGraph, head, nodes, b, isinstance(layers, Mapping), ports)
        self._set(net.params, net.in_types, net.out_types, {}, net.coders)
        self.__dict__["graph"] = net.graph


class NetChain(Container):
    """NetChain([l1, l2, ...], **ports): layers applied one after another.

    Also ``NetChain({"name": layer, ...})``. Sizes (``3``), elementwise functions (``Ramp``)
    and lists (a nested chain) are accepted as layers.

    >>> Information(NetChain([LinearLayer(3), Ramp, LinearLayer(1)], Input=2), "OutputPorts")
    {'Output': 1}
    """

    def __init__(self, layers: Any, **ports: Any) -> None:
        head = "NetChain"
        if isinstance(layers, Layer):
            layers = [layers]
        nodes = normalize_layers(head, layers, allow_threading=False)
        b = EdgeBuilder(head, nodes)
        keys = list(nodes)
        for a, c in zip(keys, keys[1:], strict=False):  # consecutive pairs
            b.add(b.destinations(c, 1)[0], b.source(a))
        net = _finish(NetChain, head, nodes, b, isinstance(layers, Mapping), ports)
        self._set(net.params, net.in_types, net.out_types, {}, net.coders)
        self.__dict__["graph"] = net.graph


def wrap(layer: Layer) -> Container:
    """A standalone layer as a one-layer graph (how it is lowered and evaluated)."""
    if isinstance(layer, Container):
        return layer
    graph = build_graph("NetChain", {"1": layer}, {}, False)
    ins = {p: layer.in_types.get(p, PortType()) for p in graph.inputs}
    outs = {p: layer.out_types.get(p, PortType()) for p in graph.outputs}
    return NetChain.from_graph(graph, ins, outs, {"lrm": None}, layer.coders)


register_graphs(Container=Container, wrap=wrap, to_layer=to_layer)  # for operators' inner nets
