"""Nets end to end: NetAppend, NetPrepend, NetJoin and NetInsert, with WL's semantics.

The layers of the nets joined keep their shapes and arrays; where two nets meet, the one
output of the first must fit the one input of the next.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConnectionError_
from ..layers.base import Layer
from ..ports import PortRef
from .net import Container, NetChain, NetGraph, wrap
from .parts import (
    Parts,
    as_container,
    assemble,
    chain_parts,
    fresh_name,
    label,
    layer_key,
)


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
    named = any(p.graph.named for p in pieces)
    nodes: dict[str, Layer] = {}
    edges: dict[PortRef, PortRef] = {}
    prev: PortRef | None = None
    names = names or [f"net {i + 1}" for i in range(len(pieces))]
    for i, piece in enumerate(pieces):
        keymap = {}
        for k, layer in piece.nodes.items():
            key = fresh_name(k if piece.graph.named else str(len(nodes) + 1), nodes)
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
    # WL: the coders at the ends stay; a decoder (encoder) where nets meet goes
    p.coders = {**{q: c for q, c in pieces[0].coders.items() if q in pieces[0].in_types},
                **{q: c for q, c in pieces[-1].coders.items() if q in pieces[-1].out_types}}
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
    c = as_container(head, net, chain_only=True)
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
    key = key if new.graph.named else fresh_name(str(at + 1), keys)
    if key in c.nodes:
        raise ConnectionError_(head, f"the {c.head} already has a layer {label(key)}.")
    items = [(k, c.nodes[k]) for k in keys]
    items.insert(at, (key, inserted))
    named = bool(c.graph.named or new.graph.named)
    p = chain_parts(head, items, named, c.extra)
    p.ins, p.outs = (dict(c.in_types) if at else {}), (dict(c.out_types) if at < len(keys) else {})
    return assemble(head, p)
