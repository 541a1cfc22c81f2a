"""Walking the layers of a net: leaves with their paths, and rebuilding with new leaves."""
from __future__ import annotations

from collections.abc import Callable, Iterator

from ..layers.base import Layer

Path = tuple[str, ...]


def leaves(net: Layer, path: Path = ()) -> Iterator[tuple[Path, Layer]]:
    """Every non-container layer with its path of node keys, in the user's order."""
    from .net import Container
    if isinstance(net, Container):
        for k, layer in net.nodes.items():
            yield from leaves(layer, path + (k,))
    else:
        inner = getattr(net, "inner_nets", None)
        if inner is not None:
            for k, sub in inner().items():
                yield from leaves(sub, path + (k,))
        if net.array_specs() or not inner:
            yield path, net


def map_leaves(net: Layer, fn: Callable[[Path, Layer], Layer], path: Path = ()) -> Layer:
    """A new net with each leaf replaced by ``fn(path, leaf)``; unchanged parts are shared."""
    from .net import Container
    if isinstance(net, Container):
        new = {k: map_leaves(layer, fn, path + (k,)) for k, layer in net.nodes.items()}
        if all(new[k] is net.nodes[k] for k in new):
            return net
        return net._replace(params={**net.params, "nodes": new})
    mapper = getattr(net, "map_inner", None)
    if mapper is not None:
        net = mapper(lambda k, sub: map_leaves(sub, fn, path + (k,)))
    return fn(path, net)


def path_label(path: Path) -> str:
    return " ".join(k if k.isdigit() else repr(k) for k in path)
