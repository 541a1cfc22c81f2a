"""An operator's inner nets: solved on one element (or step) of the operator's ports.

An operator's port types are those of its inner net with mapped leading dimensions added:
:func:`strip` takes them off an outer type, :func:`solve` infers the inner net on what is
left, and :func:`lift` puts them back on the result.
"""
from __future__ import annotations

from typing import Any

from ..errors import LayerError, ShapeError
from ..shapes import VARYING, Dim, PortType, UnifyError, unify, unify_dim
from .base import Layer, PortMismatch, Types

# What an operator needs of graphs for its inner nets: "Container" (the class of NetGraph and
# NetChain), "wrap" (a layer as a one-layer graph) and "to_layer" (a layer-list shorthand as a
# layer). Graphs sit a level up: netgraph.graph.net registers them when it loads (every
# import of netgraph loads it), so this level never imports graph.
GRAPHS: dict[str, Any] = {}


def register_graphs(**parts: Any) -> None:
    GRAPHS.update(parts)


def inner_ports(net: Layer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ports an operator sees on an inner net: its visible inputs and outputs."""
    return net.visible_inputs(), net.visible_outputs()


def solve(head: str, net: Layer, ins: Types, outs: Types) -> tuple[Layer, Types, Types]:
    """Infer an inner net given constraints on its visible ports; return it specialized with
    the types of those ports."""
    g = GRAPHS["wrap"](net)
    try:
        gi = {p: meet(p, g.in_types.get(p, PortType()), ins.get(p)) for p in g.input_ports()}
        go = {p: meet(p, g.out_types.get(p, PortType()), outs.get(p))
              for p in g.output_ports()}
        s = g.specialize(gi, go)
    except ShapeError as e:
        raise ShapeError(head, f"in its inner net, {str(e)}") from None
    new = s if isinstance(net, GRAPHS["Container"]) else s.nodes["1"]  # type: ignore[attr-defined]
    return new, dict(s.in_types), dict(s.out_types)


def meet(port: str, a: PortType, b: PortType | None) -> PortType:
    if b is None:
        return a
    try:
        return unify(a, b)
    except UnifyError:
        raise PortMismatch(port, a.describe(), b.describe()) from None


def strip(port: str, t: PortType | None, k: int) -> tuple[list[Dim], PortType]:
    """Split a type into its ``k`` leading (mapped) dims and the element type."""
    t = t or PortType()
    if t.dims is None:
        return [None] * k, PortType(None, t.kind, t.bound)
    if len(t.dims) < k:
        raise PortMismatch(port, f"an array of rank at least {k}", t.describe())
    return list(t.dims[:k]), PortType(t.dims[k:], t.kind, t.bound)


def lift(lead: list[Dim], t: PortType) -> PortType:
    """The type of an array of elements of type ``t`` with leading dims ``lead``."""
    return PortType(None if t.dims is None else (*lead, *t.dims), t.kind, t.bound)


def meet_dims(port: str, leads: list[list[Dim]], default: Dim = VARYING) -> list[Dim]:
    """Unify the mapped dims of several ports level by level (unknown ones: sequences)."""
    out: list[Dim] = []
    for level in zip(*leads, strict=False):
        d: Dim = None
        for v in level:
            try:
                d = unify_dim(d, v)
            except UnifyError:
                raise PortMismatch(port, f"mapped dimensions of equal length, but {level[0]}",
                                   f"{v}") from None
        out.append(default if d is None else d)
    return out


def short(net: Layer) -> str:
    if isinstance(net, GRAPHS["Container"]):
        return f"{net.head}[{len(net.nodes)} layers]"
    return f"{net.head}({net._param_repr()})"


def one_in_one_out(head: str, net: Layer) -> tuple[str, str]:
    ins, outs = inner_ports(net)
    if len(ins) != 1 or len(outs) != 1:
        raise LayerError(head, f"expected a net with one input and one output, but received a "
                         f"net with inputs {list(ins)} and outputs {list(outs)}.")
    return ins[0], outs[0]


def as_net(head: str, net: Any) -> Layer:
    return GRAPHS["to_layer"](head, net, "Net")
