"""NetRename: a net with layers or ports renamed, at one or more levels of nesting."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConnectionError_, OptionError
from ..layers.base import Layer
from ..ports import NetPort, PortRef
from ..symbols import All
from .net import Container
from .parts import Parts, label, layer_key
from .replace import rules_of


def _levels(level: Any) -> Callable[[int], bool]:
    if level is None:
        return lambda d: d == 1
    if level is All:
        return lambda d: True
    if isinstance(level, int) and not isinstance(level, bool) and level >= 1:
        return lambda d: d <= level
    if isinstance(level, list) and len(level) in (1, 2) and all(
            isinstance(v, int) and v >= 1 for v in level):
        lo, hi = level[0], level[-1]
        return lambda d: lo <= d <= hi
    raise OptionError("NetRename", f"expected a level n, [n], [n1, n2] or All, but received "
                      f"{level!r}.")


def NetRename(net: Layer, rules: Any, level: Any = None) -> Layer:
    """NetRename(net, ("old", "new")) renames a layer; (NetPort("old"), NetPort("new")) a port.

    ``rules`` is one such pair, a list of them, a dict, or a function of the old layer name
    giving the new one. By default only the outermost level is renamed; ``level`` is n
    (levels 1 to n), ``[n]`` (level n only), ``[n1, n2]`` or ``All``.

    >>> rules = [(1, "lin"), (NetPort("Output"), NetPort("y"))]
    >>> net = NetRename(NetChain([LinearLayer(3), Tanh]), rules)
    >>> list(Normal(net)), Information(net, "OutputPortNames")
    (['lin', '2'], ['y'])
    """
    if not isinstance(net, Container):
        raise ConnectionError_("NetRename", f"expected a NetChain or NetGraph, but received a "
                               f"{net.head}.")
    pairs = None if callable(rules) else rules_of("NetRename", rules)
    used: set[int] = set()
    new, _ = _rename(net, rules if pairs is None else pairs, _levels(level), 1, used)
    for i, (old, _new) in enumerate(pairs or []):
        if i not in used:
            raise ConnectionError_("NetRename", f"nothing named {old!r} to rename at the given "
                                   "levels.")
    return new


def _rename(net: Container, rules: Any, at: Callable[[int], bool], depth: int, used: set[int]
            ) -> tuple[Layer, dict[str, str]]:
    """``net`` renamed, and its graph ports' renaming (for the edges of the parent)."""
    p = Parts.of(net)
    portmaps: dict[str, dict[str, str]] = {}
    for k, v in p.nodes.items():
        if isinstance(v, Container) and depth < 64:
            p.nodes[k], portmaps[k] = _rename(v, rules, at, depth + 1, used)
    p.edges = {PortRef(d.node, portmaps.get(d.node or "", {}).get(d.port, d.port)):
               PortRef(s.node, portmaps.get(s.node or "", {}).get(s.port, s.port))
               for d, s in p.edges.items()}
    if not at(depth):
        return _rebuilt(net, p), {}
    keymap, portmap = _rename_maps(net, rules, used)
    if any(v != k for k, v in keymap.items()):
        p.named = True
    p.nodes = {keymap.get(k, k): v for k, v in p.nodes.items()}
    p.edges = {_renamed(d, keymap, portmap): _renamed(s, keymap, portmap)
               for d, s in p.edges.items()}
    p.ins = {portmap.get(q, q): t for q, t in p.ins.items()}
    p.outs = {portmap.get(q, q): t for q, t in p.outs.items()}
    return _rebuilt(net, p, keymap, portmap), portmap


def _renamed(r: PortRef, keymap: Mapping[str, str], portmap: Mapping[str, str]) -> PortRef:
    if r.node is None:
        return PortRef(None, portmap.get(r.port, r.port))
    return PortRef(keymap.get(r.node, r.node), r.port)


def _rename_maps(net: Layer, rules: Any, used: set[int]
                 ) -> tuple[dict[str, str], dict[str, str]]:
    keys = list(net.nodes)  # type: ignore[attr-defined]
    ports = {*net.input_ports(), *net.output_ports()}
    keymap: dict[str, str] = {}
    portmap: dict[str, str] = {}
    if callable(rules):
        keymap = {k: _new_name(rules(k)) for k in keys}
    else:
        for i, (old, new) in enumerate(rules):
            if isinstance(old, NetPort):
                if old.is_graph_port and old.port in ports:
                    if not (isinstance(new, NetPort) and new.is_graph_port):
                        raise ConnectionError_("NetRename", f"expected {old!r} to be renamed to "
                                               f"a NetPort(\"name\"), but received {new!r}.")
                    portmap[old.port] = new.port
                    used.add(i)
            elif (isinstance(old, str) and old in keys) or (
                    isinstance(old, int) and not isinstance(old, bool) and -len(keys) <= old
                    <= len(keys) and old != 0):
                keymap[layer_key("NetRename", net, old)] = _new_name(new)
                used.add(i)
    _check_unique(keys, keymap, "layer")
    _check_unique(list(net.input_ports()), portmap, "input port")
    _check_unique(list(net.output_ports()), portmap, "output port")
    both = {portmap.get(q, q) for q in net.input_ports()} & {
        portmap.get(q, q) for q in net.output_ports()}
    if both:
        raise ConnectionError_("NetRename", f'"{min(both)}" would name both an input and an '
                               "output port; give them different names.")
    return keymap, portmap


def _new_name(new: Any) -> str:
    if isinstance(new, int) and not isinstance(new, bool):
        new = str(new)
    if not isinstance(new, str) or not new:
        raise ConnectionError_("NetRename", f"expected a new name to be a nonempty string, but "
                               f"received {new!r}.")
    return new


def _check_unique(names: list[str], mapping: Mapping[str, str], what: str) -> None:
    seen: dict[str, str] = {}
    for old in names:
        new = mapping.get(old, old)
        if new in seen:
            raise ConnectionError_("NetRename", f"renaming must give unique {what} names, but "
                                   f"{new!r} would name both {label(seen[new])} and "
                                   f"{label(old)}.")
        seen[new] = old


def _rebuilt(net: Container, p: Parts, keymap: Mapping[str, str] | None = None,
             portmap: Mapping[str, str] | None = None) -> Layer:
    """The renamed container (shapes are unchanged, so nothing is re-inferred)."""
    graph = net.graph.renamed(p.nodes, p.edges, keymap or {}, portmap or {}, p.named)
    return net.from_graph(graph, p.ins, p.outs, net.extra)
