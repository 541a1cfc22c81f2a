"""Walking nets: the nets inside a net, its leaves, and values run through a graph.

Two kinds of layer hold nets: a container (its layers, ``net.nodes``) and an operator (its
inner nets, ``inner_nets()``/``map_inner(fn)``). :func:`children` and :func:`map_children`
are the one place that knows both; :func:`leaves` and :func:`map_leaves` build on them.

:func:`run_through_graph` is the one walk over a graph's wiring (Keras 3's
``_run_through_graph``): values flow from the graph inputs through each layer in
topological order, and a function of the layer computes its outputs. It serves any kind of
value: lowering names variables with it, length tracking propagates length variables.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import numpy as np

from ..layers.base import Layer
from ..layers.shared import NetArray
from ..ports import PortRef
from .ir import GraphIR
from .net import Container

Path = tuple[str, ...]
V = TypeVar("V")


def children(net: Layer) -> dict[str, Layer]:
    """The nets directly inside ``net``, by key: a container's layers, an operator's nets."""
    if isinstance(net, Container):
        return dict(net.nodes)
    inner = getattr(net, "inner_nets", None)
    return dict(inner()) if inner is not None else {}


def has_children(net: Layer) -> bool:
    return isinstance(net, Container) or hasattr(net, "inner_nets")


def map_children(net: Layer, fn: Callable[[str, Layer], Layer]) -> Layer:
    """``net`` with each net inside it replaced by ``fn(key, child)``; unchanged: ``net``."""
    if isinstance(net, Container):
        new = {k: fn(k, layer) for k, layer in net.nodes.items()}
        if all(new[k] is net.nodes[k] for k in new):
            return net
        return net.with_nodes(new)
    mapper = getattr(net, "map_inner", None)
    return net if mapper is None else mapper(fn)  # type: ignore[no-any-return]


def leaves(net: Layer, path: Path = ()) -> Iterator[tuple[Path, Layer]]:
    """Every non-container layer with its path of node keys, in the user's order.

    An operator is a leaf when it holds arrays of its own; its inner nets' leaves come first.
    """
    for k, sub in children(net).items():
        yield from leaves(sub, path + (k,))
    if not isinstance(net, Container) and (net.array_specs() or not has_children(net)):
        yield path, net


def path_keys(path: Path) -> tuple:
    """A path of node keys as the user writes it: chain positions as ints."""
    return tuple(int(k) if k.isdigit() else k for k in path)


def array_items(net: Layer) -> list[tuple[Any, np.ndarray | None, Any]]:
    """(position, array or None, known shape or None) for every learned array, keyed as
    ``Information(net, "Arrays")`` keys them: ``(*path, name)``, a shared array once, at its
    first use, keyed ``NetArray(name)`` (as NetExtract takes it)."""
    out: list[tuple[Any, np.ndarray | None, Any]] = []
    seen: set[str] = set()
    for path, layer in leaves(net):
        specs, names = layer.array_specs(), layer.shared_names()
        for name, a in layer.arrays.items():
            shape = tuple(a.shape) if a is not None else (specs[name].shape if name in specs
                                                          else None)
            if shape is not None and any(not isinstance(d, int) for d in shape):
                shape = None
            if name in names:
                if names[name] in seen:
                    continue
                seen.add(names[name])
                out.append((NetArray(names[name]), a, shape))
                continue
            out.append(((*path_keys(path), name), a, shape))
    return out


def map_leaves(net: Layer, fn: Callable[[Path, Layer], Layer], path: Path = ()) -> Layer:
    """A new net with each leaf replaced by ``fn(path, leaf)``; unchanged parts are shared."""
    net = map_children(net, lambda k, sub: map_leaves(sub, fn, path + (k,)))
    return net if isinstance(net, Container) else fn(path, net)


def run_through_graph(graph: GraphIR, inputs: Mapping[str, V],
                      step: Callable[[str, Layer, dict[str, V | None]], Mapping[str, V]]
                      ) -> dict[PortRef, V]:
    """The value of every source of ``graph`` (graph inputs, layer outputs).

    ``inputs`` gives the graph inputs' values; ``step(key, layer, {input port: value})`` a
    layer's output values (an unconnected input port gets None). Layers run in the graph's
    topological order, so every value a layer reads is there.
    """
    values: dict[PortRef, V] = {PortRef(None, p): inputs[p] for p in graph.inputs}
    get = values.get
    for k in graph.order:
        ins = {p: None if s is None else get(s) for p, s in graph.input_sources(k)}
        for p, v in step(k, graph.nodes[k], ins).items():
            values[PortRef(k, p)] = v
    return values


def path_label(path: Path) -> str:
    return " ".join(k if k.isdigit() else repr(k) for k in path)
