"""NetReplacePart: a net with some of its layers, arrays or port shapes replaced.

Layers without learned arrays adapt to their new neighbours (they are re-inferred); the
graph's ports keep their shapes unless they are replaced too, as in WL.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConnectionError_, LayerError, OptionError, ShapeError
from ..layers.base import Layer, PortMismatch, _freeze_array
from ..layers.coding import as_coder, attach
from ..ports import PortRef
from ..shapes import PortType, parse
from ..symbols import Automatic
from .extract import leaf_part
from .net import Container
from .parts import (
    Parts,
    assemble,
    check_arrays,
    children,
    dims_str,
    label,
    layer_key,
    rehead,
    where,
)
from .shared import expand_rules
from .walk import map_children


def rules_of(head: str, rules: Any) -> list[tuple[Any, Any]]:
    """WL rules as (part, value) pairs: ``(part, value)``, a list of them, or a dict."""
    if isinstance(rules, Mapping):
        return list(rules.items())
    if isinstance(rules, tuple) and len(rules) == 2:
        return [rules]
    if isinstance(rules, list) and all(isinstance(r, tuple) and len(r) == 2 for r in rules):
        return list(rules)
    raise OptionError(head, f"expected a rule (part, value), a list of rules or a dict "
                      f"{{part: value}}, but received {rules!r}.")


def NetReplacePart(net: Layer, rules: Any) -> Layer:
    """NetReplacePart(net, (part, value)) gives a net with one part replaced.

    A part is addressed as in :func:`NetExtract`: ``(2, LinearLayer(4))`` replaces a layer,
    ``((2, "Weights"), w)`` an array (same dimensions), ``("Input", 3)`` a port's shape
    (WL ``"Input" -> 3``; ``Automatic`` lets it be inferred again). Several replacements
    are a list of pairs or a dict ``{"Input": 3, (2, "Weights"): w}``. The result is
    re-inferred: layers without learned arrays adapt to their new neighbours, while the
    graph's ports keep their shapes unless replaced too (as in WL). A shared array,
    ``(NetArray("W"), w)`` or the path of any one of its uses, is replaced at every use.

    >>> net = NetReplacePart(LinearLayer(2), ("Input", 3))
    >>> Information(net, "InputPorts")
    {'Input': 3}
    >>> chain = NetChain([LinearLayer(3), SoftmaxLayer()], Input=2)
    >>> new = NetReplacePart(chain, {1: LinearLayer(5), "Output": Automatic})
    >>> Information(new, "OutputPorts")
    {'Output': 5}
    """
    items = [(p if isinstance(p, tuple) else (p,), v)
             for p, v in rules_of("NetReplacePart", rules)]
    items = expand_rules("NetReplacePart", net, items)  # a shared array at every use
    return replace_parts("NetReplacePart", net, items, ())[0]


def replace_parts(head: str, net: Layer, items: list[tuple[tuple, Any]],
                  path: tuple[str, ...]) -> tuple[Layer, bool]:
    """``net`` with the parts replaced, and whether shapes may have changed (not only arrays)."""
    if isinstance(net, Container):
        return _replace_in_container(head, net, items, path)
    inner = children(net)
    if any(part[0] in inner for part, _ in items):
        return _replace_in_operator(head, net, items, path)
    arrays, ports, coders = dict(net.arrays), {}, dict(net.coders)
    for part, value in items:
        name = part[0]
        if len(part) != 1 or not (name in net.arrays or name in net.input_ports()
                                  or name in net.output_ports()):
            leaf_part(head, net, name)  # raises for an unknown part, with the valid ones
            raise ConnectionError_(head, f"{where(path, net)}: only its arrays and port shapes "
                                   f"can be replaced, not {part!r}.")
        if name in net.arrays:
            arrays[name] = _checked_array(head, net, name, value, path)
        elif not _coder_rule(head, coders, name, value, name in net.input_ports()):
            ports[name] = parse(value, head, f'port "{name}"')
            coders.pop(name, None)
    new = net._replace(arrays=arrays, coders=coders)
    if ports or coders != dict(net.coders):
        new = _retyped(head, new, ports)
        check_arrays(head, new)
    return new, bool(ports) or coders != dict(net.coders)


def _coder_rule(head: str, coders: dict[str, Any], port: str, value: Any, is_input: bool
                ) -> bool:
    """A rule that attaches a coder to ``port`` (or, with None, removes its coder): applied
    to ``coders``; False for a rule that sets the port's shape."""
    if value is None and port in coders:
        del coders[port]
        return True
    c = as_coder(head, port, value, is_input)
    if c is None:
        return False
    coders[port] = c
    return True


def _replace_in_operator(head: str, net: Layer, items: list[tuple[tuple, Any]],
                         path: tuple[str, ...]) -> tuple[Layer, bool]:
    """Replace parts of the nets inside an operator (NetMapOperator, NetFoldOperator, ...)."""
    from .specs import to_layer
    inner = children(net)
    new, reshaped = dict(inner), False
    for part, value in items:
        if part[0] not in inner:
            raise ConnectionError_(head, f"{where(path, net)}: only the nets inside it can be "
                                   f"replaced, not {part!r}; they are {', '.join(inner)}.")
        if len(part) == 1:
            new[part[0]], reshaped = to_layer(head, value, part[0]), True
        else:
            new[part[0]], r = replace_parts(head, new[part[0]], [(part[1:], value)],
                                            path + (part[0],))
            reshaped = reshaped or r
    out = map_children(net, lambda k, sub: new[k])
    if reshaped:  # the outputs follow the new inner nets; the inputs keep their shapes
        try:
            out = out.specialize(dict(net.in_types), {p: PortType() for p in net.output_ports()})
        except ShapeError as e:
            raise rehead(head, e) from None
        except PortMismatch as e:
            raise ShapeError(head, f'{where(path, net)}: port "{e.port}" expects {e.expected}'
                             + (f", but received {e.received}." if e.received else ".")) from None
    return out, reshaped


def _checked_array(head: str, layer: Layer, name: str, value: Any, path: tuple) -> Any:
    if value is None or value is Automatic:
        return None  # the array is uninitialized again
    try:
        arr = np.asarray(_freeze_array(value))
    except (TypeError, ValueError):
        raise LayerError(head, f'array "{name}" of {where(path, layer)} takes numbers, but '
                         f"received {str(value)[:60]}.") from None
    old = layer.arrays[name]
    want = old.shape if old is not None else layer.array_specs()[name].shape
    if want is None or any(not isinstance(d, int) for d in want):
        raise ShapeError(head, f'the dimensions of array "{name}" of {where(path, layer)} are '
                         "not known yet; give its port shapes first (e.g. Input=...).")
    if tuple(arr.shape) != tuple(want):
        raise ShapeError(head, f'array "{name}" of {where(path, layer)} has dimensions '
                         f"{dims_str(want)}, but the new value has dimensions "
                         f"{dims_str(arr.shape)}.")
    return arr


def _retyped(head: str, layer: Layer, ports: Mapping[str, PortType]) -> Layer:
    """A layer with some port types set; its other ports are re-inferred where they must be."""
    def attempt(base: Layer) -> Layer:
        ins = {**base.in_types, **{p: t for p, t in ports.items() if p in layer.input_ports()}}
        outs = {**base.out_types,
                **{p: t for p, t in ports.items() if p in layer.output_ports()}}
        return attach(head, lambda i, o: _inferred(type(layer)._make(
            layer.params, i, o, layer.arrays, layer.coders)), ins, outs, layer.coders)
    try:
        return attempt(layer)
    except ShapeError:
        pass
    try:
        return attempt(type(layer)._make(layer.params, {}, {}, layer.arrays))
    except ShapeError as e:
        raise rehead(head, e) from None


def _inferred(layer: Layer) -> Layer:
    layer._self_infer()
    return layer


def _replace_in_container(head: str, net: Container, items: list[tuple[tuple, Any]],
                          path: tuple[str, ...]) -> tuple[Layer, bool]:
    from .specs import to_layer
    p = Parts.of(net)
    changed: set[str] = set()
    nested: dict[str, list[tuple[tuple, Any]]] = {}
    for part, value in items:
        first, rest = part[0], part[1:]
        if (not rest and isinstance(first, str) and first not in p.nodes
                and (first in net.input_ports() or first in net.output_ports())):
            if not _coder_rule(head, p.coders, first, value, first in net.input_ports()):
                t = parse(value, head, f'port "{first}"')
                (p.ins if first in net.input_ports() else p.outs)[first] = t
                p.coders.pop(first, None)   # a new shape replaces the port's coder (WL)
            changed.add("")  # a port: shapes may change
        elif not rest:
            key = layer_key(head, net, first)
            p.nodes[key] = to_layer(head, value, key)
            changed.add(key)
        else:
            nested.setdefault(layer_key(head, net, first), []).append((rest, value))
    for key, sub in nested.items():
        p.nodes[key], reshaped = replace_parts(head, p.nodes[key], sub, path + (key,))
        if reshaped:
            changed.add(key)
    if not changed:  # arrays only: every shape stays as it is
        return net.with_nodes(p.nodes), False
    p.nodes = {k: v if k in changed else relax(v) for k, v in p.nodes.items()}
    p.edges = _fit_edges(head, net, p.nodes, changed)
    try:
        return assemble(head, p), True
    except ShapeError as e:
        raise rehead(head, e, " To change the shape of a port of the net as well, replace it "
                     'too, e.g. [(part, value), ("Output", Automatic)].') from None


def relax(layer: Layer) -> Layer:
    """``layer`` with the port types it got from its old context forgotten.

    A layer holding learned arrays keeps its types (the arrays pin them); any other layer
    goes back to what its own parameters say, so that re-inference can give it new shapes.
    """
    if isinstance(layer, Container):
        nodes = {k: relax(v) for k, v in layer.nodes.items()}  # type: ignore[attr-defined]
        unknown = {p: PortType() for p in layer.input_ports()}
        out_unknown = {p: PortType() for p in layer.output_ports()}
        return layer.with_nodes(nodes).specialize(
            unknown, out_unknown)
    if any(a is not None for a in layer.arrays.values()):
        return layer
    fresh = type(layer)._make(layer.params, {}, {}, layer.arrays)
    fresh._self_infer()
    return fresh


def _fit_edges(head: str, net: Layer, nodes: Mapping[str, Layer], changed: set[str]
               ) -> dict[PortRef, PortRef]:
    """The old edges, minus graph ports of replaced layers' ports that no longer exist."""
    edges: dict[PortRef, PortRef] = {}
    for d, s in net.edges.items():  # type: ignore[attr-defined]
        if d.node in changed and d.port not in nodes[d.node].input_ports() and not getattr(
                nodes[d.node], "variadic", False):
            if s.node is None:
                continue
            raise ConnectionError_(head, f"the new layer {label(d.node)} "
                                   f"({nodes[d.node].head}) has no input port \"{d.port}\", "
                                   f"which {s.wl()} feeds; its input ports are "
                                   f"{', '.join(nodes[d.node].input_ports()) or 'none'}.")
        if s.node in changed and s.port not in nodes[s.node].output_ports():
            if d.node is None:
                continue
            raise ConnectionError_(head, f"the new layer {label(s.node)} "
                                   f"({nodes[s.node].head}) has no output port \"{s.port}\", "
                                   f"which feeds {d.wl()}; its output ports are "
                                   f"{', '.join(nodes[s.node].output_ports()) or 'none'}.")
        edges[d] = s
    return edges
