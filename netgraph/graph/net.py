"""NetGraph and NetChain: immutable containers of layers wired into a DAG."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConnectionError_, OptionError, nearest
from ..layers.base import ArraySpec, Layer, Types
from ..ports import PortRef
from ..shapes import PortType, parse
from .build import EdgeBuilder, expose_ports, normalize_layers, resolve_variadic, topological_order
from .infer import Inferred, infer_graph

GRAPH_OPTIONS = ("LearningRateMultipliers",)


class Container(Layer):
    """A graph of layers (NetGraph, NetChain). Its ports are the graph's own ports.

    ``params``: ``nodes`` ({key: Layer}, in the user's order), ``edges`` ({dst: src} of
    :class:`PortRef`), ``inputs``/``outputs`` (graph port names in order), ``order`` (a
    topological order of the node keys) and ``named`` (whether the user named the layers).
    """

    states = ()

    @classmethod
    def input_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(params["inputs"])

    @classmethod
    def output_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(params["outputs"])

    @property
    def nodes(self) -> Mapping[str, Layer]:
        return self.params["nodes"]

    @property
    def edges(self) -> Mapping[PortRef, PortRef]:
        return self.params["edges"]

    def _solve(self, ins: Types, outs: Types) -> Inferred:
        return infer_graph(self.head, self.nodes, self.edges, ins, outs)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        r = self._solve(ins, outs)
        return r.inputs, r.outputs

    def specialize(self, ins: Types, outs: Types) -> Layer:
        r = self._solve(ins, outs)
        return self._replace(params={**self.params, "nodes": r.nodes},
                             in_types=r.inputs, out_types=r.outputs)

    def array_specs(self) -> dict[str, ArraySpec]:
        return {}

    def is_initialized(self) -> bool:
        return all(layer.is_initialized() for layer in self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    def __getitem__(self, spec: Any) -> Any:
        from .extract import NetExtract
        return NetExtract(self, spec)


def _finish(cls: type[Container], head: str, nodes: dict[str, Layer], edges: dict[PortRef, PortRef],
            named: bool, ports: Mapping[str, Any], extra: Mapping[str, Any]) -> Container:
    """Expose loose ports, check options, order the layers and infer all shapes."""
    inputs, outputs = expose_ports(nodes, edges)
    both = [p for p in inputs if p in outputs]
    if both:
        raise ConnectionError_(head, f'"{both[0]}" names both an input and an output port of '
                               "the graph; give them different names.")
    order = topological_order(head, nodes, edges)
    for k in ports:
        if k not in inputs and k not in outputs:
            valid = inputs + outputs + list(GRAPH_OPTIONS)
            raise OptionError(head, f"unknown option or port {k}.{nearest(k, valid)} The "
                              f"graph's ports are {', '.join(inputs + outputs)}.")
    ins = {p: parse(ports[p], head, f'port "{p}"') if p in ports else PortType() for p in inputs}
    outs = {p: parse(ports[p], head, f'port "{p}"') if p in ports else PortType()
            for p in outputs}
    params = {"nodes": nodes, "edges": edges, "inputs": tuple(inputs), "outputs": tuple(outputs),
              "order": tuple(order), "named": named, **extra}
    net = cls._make(params, ins, outs, {})
    return net.specialize(ins, outs)  # type: ignore[return-value]


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
        nodes = resolve_variadic(nodes, b.variadic, b.edges)
        extra = {"lrm": ports.pop("LearningRateMultipliers", None)}
        net = _finish(NetGraph, head, nodes, dict(b.edges), isinstance(layers, Mapping), ports,
                      extra)
        self._set(net.params, net.in_types, net.out_types, {})


class NetChain(Container):
    """NetChain([l1, l2, ...], **ports): layers applied one after another.

    Also ``NetChain({"name": layer, ...})``. Sizes (``3``), elementwise functions (``Ramp``)
    and lists (a nested chain) are accepted as layers.

    >>> NetChain([LinearLayer(3), Ramp, LinearLayer(1)], Input=2)["Output"] if False else 0
    0
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
        extra = {"lrm": ports.pop("LearningRateMultipliers", None)}
        net = _finish(NetChain, head, nodes, dict(b.edges), isinstance(layers, Mapping), ports,
                      extra)
        self._set(net.params, net.in_types, net.out_types, {})


def wrap(layer: Layer) -> Container:
    """A standalone layer as a one-layer graph (how it is lowered and evaluated)."""
    if isinstance(layer, Container):
        return layer
    cached = layer._cache.get("wrapped")  # type: ignore[attr-defined]
    if cached is None:
        nodes = {"1": layer}
        edges: dict[PortRef, PortRef] = {}
        inputs, outputs = expose_ports(nodes, edges)
        ins = {p: layer.in_types.get(p, PortType()) for p in inputs}
        outs = {p: layer.out_types.get(p, PortType()) for p in outputs}
        params = {"nodes": nodes, "edges": edges, "inputs": tuple(inputs),
                  "outputs": tuple(outputs), "order": ("1",), "named": False, "lrm": None}
        cached = NetChain._make(params, ins, outs, {})
        layer._cache["wrapped"] = cached  # type: ignore[attr-defined]
    return cached
