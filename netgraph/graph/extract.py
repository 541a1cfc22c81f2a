"""NetExtract: a layer, an array, a port shape or a parameter of a net, by its path."""
from __future__ import annotations

from typing import Any

from ..errors import ConnectionError_, nearest
from ..layers.base import Layer
from ..layers.shared import NetArray
from ..symbols import All, Automatic
from .net import Container
from .parts import children, layer_key, port_spec


def _param_key(layer: Layer, name: str) -> str | None:
    for k in layer.params:
        if k.lower() == name.lower():
            return k
    return None


def leaf_part(head: str, layer: Layer, name: Any) -> Any:
    if name in layer.arrays:
        a = layer.arrays[name]
        return Automatic if a is None else a
    if name in layer.coders:
        return layer.coders[name]   # WL: NetExtract(net, "Input") gives its encoder
    if name in layer.input_ports():
        return port_spec(layer.in_types.get(name))
    if name in layer.output_ports():
        return port_spec(layer.out_types.get(name))
    key = _param_key(layer, name) if isinstance(name, str) else None
    if key is not None:
        v = layer.params[key]
        return Automatic if v is None else v
    valid = [*layer.arrays, *layer.input_ports(), *layer.output_ports(),
             *(k[:1].upper() + k[1:] for k in layer.params)]
    hint = nearest(name, valid) if isinstance(name, str) else ""
    raise ConnectionError_(head, f"{layer.head} has no array, port or parameter {name!r}.{hint} "
                           f"Its parts are {', '.join(valid) or 'none'}.")


def _everything(net: Layer) -> Any:
    """NetExtract(net, All): a container's layers; a layer's ports, parameters and arrays."""
    if isinstance(net, Container):
        nodes = net.nodes  # type: ignore[attr-defined]
        return dict(nodes) if net.graph.named else list(nodes.values())
    out: dict[str, Any] = {p: port_spec(net.in_types.get(p)) for p in net.input_ports()}
    out.update({p: port_spec(net.out_types.get(p)) for p in net.output_ports()})
    for k, v in net.params.items():
        name = k[:1].upper() + k[1:]
        if k == "shared":  # shown on the arrays themselves: NetArray("W")
            continue
        if name not in net.arrays:
            out[name] = Automatic if v is None else v
    out.update({k: Automatic if a is None else a for k, a in net.arrays.items()})
    return out


def _extract(head: str, net: Layer, path: tuple) -> Any:
    if not path:
        return net
    part, rest = path[0], path[1:]
    if part is All:
        if not rest:
            return _everything(net)
        found = {}
        for k, child in children(net).items():
            try:
                found[k] = _extract(head, child, rest)
            except ConnectionError_:
                continue  # WL: (All, "Weights") gives the layers that have weights
        return found
    if isinstance(net, Container):
        if isinstance(part, str) and part not in net.nodes and not rest and (  # type: ignore
                part in net.input_ports() or part in net.output_ports()):
            return leaf_part(head, net, part)
        return _extract(head, net.nodes[layer_key(head, net, part)], rest)  # type: ignore
    inner = children(net)
    if part in inner:
        return _extract(head, inner[part], rest)
    if rest:
        raise ConnectionError_(head, f"{part!r} of {net.head} is not a layer; nothing can be "
                               f"extracted from inside it (asked for {rest!r}).")
    return leaf_part(head, net, part)


def NetExtract(net: Layer, spec: Any) -> Any:
    """NetExtract(net, layer) gives a layer; NetExtract(net, (layer, ..., "Array")) an array.

    A part is a 1-based position (negative from the end), a layer name, an array name
    ("Weights"), a port name ("Input" gives its shape) or a parameter name ("Function");
    a tuple is a path into nested nets, a list gives a list of results, and ``All`` gives
    every layer of a container (a list, or a dict for named layers) or every part of a
    layer. Arrays that are not initialized yet give ``Automatic``. ``NetArray("W")`` gives
    the shared array "W" and ``NetArray(All)`` a dict of every shared array.

    >>> chain = NetChain([LinearLayer(3), Tanh, [LinearLayer(2), Ramp]], Input=2)
    >>> NetExtract(chain, 2)
    ElementwiseLayer(Tanh)...
    >>> NetExtract(chain, (3, 1, "Weights"))
    Automatic
    >>> NetExtract(NetInitialize(chain), [(1, "Weights"), (1, "Biases")])[1]
    array([0., 0., 0.], dtype=float32)
    """
    if not isinstance(net, Layer) and hasattr(net, "net_extract"):
        return net.net_extract(spec)  # a NetStateObject: "States", "Net"
    if isinstance(spec, list):
        return [NetExtract(net, s) for s in spec]
    if isinstance(spec, NetArray):  # a shared array, once, however many layers use it
        from .shared import shared_part
        return shared_part("NetExtract", net, spec)
    return _extract("NetExtract", net, spec if isinstance(spec, tuple) else (spec,))
