"""NetFlatten: nested chains and graphs flattened into one net, n levels deep or all."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConnectionError_
from ..layers.base import Layer
from ..ports import PortRef
from ..symbols import All
from .net import Container, NetChain, NetGraph
from .parts import Parts, assemble


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
        return net.with_nodes(nodes)
    named = net.graph.named or any(s.graph.named for s in subs.values())
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
    p = Parts(cls, flat, edges, dict(net.in_types), dict(net.out_types), named, net.extra)
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
