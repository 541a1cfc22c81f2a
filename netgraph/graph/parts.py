"""What every net edit shares: a container taken apart into :class:`Parts` and put back.

An edit takes a container apart into layers, edges and port types, changes them and puts
them back together with :func:`assemble`, which re-exposes loose ports, re-orders the
layers and re-infers every shape. Edits return new nets and never change their argument;
layers an edit does not touch are carried over as they are, learned arrays included.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np

from ..errors import ConnectionError_, NetGraphError, OptionError, ShapeError, nearest
from ..layers.base import Layer
from ..layers.coding import attach, inherited, split_ports
from ..ports import PortRef
from ..shapes import PortType, parse
from ..symbols import Automatic
from . import walk
from .build import EdgeBuilder
from .ir import build_graph
from .net import Container, NetChain
from .walk import leaves, path_label


def label(key: str) -> str:
    """A layer key as the user writes it: 3 or "name"."""
    return key if key.isdigit() else f'"{key}"'


def port_spec(t: PortType | None) -> Any:
    """A port type in the user's spelling; ``Automatic`` where it is not known yet."""
    if t is None or t.dims is None:
        return Automatic
    spec = t.spec()
    if isinstance(spec, tuple):
        return tuple(Automatic if d == "Automatic" else d for d in spec)
    return spec


def rehead(head: str, e: NetGraphError, hint: str = "") -> NetGraphError:
    """The same error, reported under ``head`` (the function the user called)."""
    message = e.message
    return type(e)(head, message + hint)


# -- taking a container apart and putting it back together -------------------------------
@dataclass
class Parts:
    """A container taken apart: what an edit changes before :func:`assemble` rebuilds it."""

    cls: type[Container]
    nodes: dict[str, Layer]
    edges: dict[PortRef, PortRef]
    ins: dict[str, PortType] = field(default_factory=dict)
    outs: dict[str, PortType] = field(default_factory=dict)
    named: bool = False
    extra: dict[str, Any] = field(default_factory=lambda: {"lrm": None})
    coders: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, net: Container) -> Parts:
        g = net.graph
        return cls(type(net), dict(g.nodes), dict(g.edges), dict(net.in_types),
                   dict(net.out_types), g.named, net.extra, dict(net.coders))

    def renumbered(self) -> Parts:
        """Positional layers numbered 1, 2, ... again after some were added or removed."""
        if self.named:
            return self
        keymap = {k: str(i + 1) for i, k in enumerate(self.nodes)}
        return replace(self, nodes={keymap[k]: v for k, v in self.nodes.items()},
                       edges=remap_edges(self.edges, keymap))


def remap_edges(edges: Mapping[PortRef, PortRef], keymap: Mapping[str, str]
                ) -> dict[PortRef, PortRef]:
    def m(r: PortRef) -> PortRef:
        return r if r.node is None else PortRef(keymap.get(r.node, r.node), r.port)
    return {m(d): m(s) for d, s in edges.items()}


def assemble(head: str, p: Parts, user_ports: Mapping[str, Any] | None = None) -> Layer:
    """Rebuild a container from its parts: expose loose ports, order, infer, check arrays.

    ``user_ports`` are port shapes the user gave to the edit (``Input=3``); they must name a
    port of the result.
    """
    graph = build_graph(head, p.nodes, p.edges, p.named)
    ports = [*graph.inputs, *graph.outputs]
    ins = {q: p.ins.get(q, PortType()) for q in graph.inputs}
    outs = {q: p.outs.get(q, PortType()) for q in graph.outputs}
    for q in user_ports or {}:
        if q not in ins and q not in outs:
            raise OptionError(head, f"unknown option or port {q}.{nearest(q, ports)} "
                              f"The result's ports are {', '.join(ports)}.")
    shapes, given = split_ports(head, user_ports or {}, graph.inputs, graph.outputs)
    for q, v in shapes.items():
        (ins if q in ins else outs)[q] = parse(v, head, f'port "{q}"')
    coders = {q: c for q, c in {**inherited(graph.nodes, graph.edges, graph.inputs,
                                            graph.outputs), **p.coders, **given}.items()
              if q in ins or q in outs}
    try:
        net = attach(head, lambda i, o: p.cls.from_graph(graph, i, o, p.extra, coders)
                     .specialize(i, o), ins, outs, coders)
    except ShapeError as e:
        raise rehead(head, e) from None
    check_arrays(head, net)
    return net


def check_arrays(head: str, net: Layer) -> None:
    """Every learned array still has as many elements as its (re-inferred) shape needs."""
    for path, layer in leaves(net):
        specs = layer.array_specs()
        for name, a in layer.arrays.items():
            shape = specs[name].shape if name in specs else None
            if a is None or shape is None or any(not isinstance(d, int) for d in shape):
                continue
            if a.size != int(np.prod(shape)):
                raise ShapeError(head, f'array "{name}" of {where(path, layer)} has dimensions '
                                 f"{dims_str(a.shape)}, but its ports now need "
                                 f"{dims_str(shape)}; replace the array or the layer too.")


def where(path: tuple[str, ...], layer: Layer) -> str:
    return f"layer {path_label(path)} ({layer.head})" if path else layer.head


def dims_str(shape: Any) -> str:
    return "{" + ", ".join(str(d) for d in shape) + "}"


def as_container(head: str, net: Any, chain_only: bool = False) -> Container:
    want = NetChain if chain_only else Container
    if not isinstance(net, want):
        what = "a NetChain" if chain_only else "a NetChain or NetGraph"
        got = net.head if isinstance(net, Layer) else repr(net)
        raise ConnectionError_(head, f"expected {what}, but received {got}.")
    return net


def fresh_name(name: str, taken: Iterable[str]) -> str:
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


# -- addressing parts ----------------------------------------------------------------------
def layer_key(head: str, net: Layer, part: Any) -> str:
    """The key of the layer ``part`` names: a 1-based position (negative from the end) or a name."""
    keys = list(net.nodes)  # type: ignore[attr-defined]
    if isinstance(part, int) and not isinstance(part, bool):
        if 1 <= part <= len(keys):
            return keys[part - 1]
        if -len(keys) <= part <= -1:
            return keys[part]
    elif isinstance(part, str) and part in net.nodes:  # type: ignore[attr-defined]
        return part
    raise unknown_part(head, net, part)


def unknown_part(head: str, net: Layer, part: Any) -> ConnectionError_:
    keys = list(net.nodes) if isinstance(net, Container) else []  # type: ignore
    ports = [*net.input_ports(), *net.output_ports()]
    hint = nearest(part, [*keys, *ports]) if isinstance(part, str) else ""
    layers = (f"its layers are {', '.join(label(k) for k in keys)} (positions 1 to "
              f"{len(keys)})" if keys else "it has no layers")
    return ConnectionError_(head, f"the {net.head} has no layer or port {part!r}.{hint} "
                            f"{layers[0].upper() + layers[1:]}; its ports are "
                            f"{', '.join(ports) or 'none'}.")


def children(net: Layer) -> dict[Any, Layer]:
    """The nets inside ``net`` keyed as the user addresses them (positions as ints)."""
    subs = walk.children(net)
    if isinstance(net, Container):
        return {int(k) if k.isdigit() else k: v for k, v in subs.items()}
    return subs
