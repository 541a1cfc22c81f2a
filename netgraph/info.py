"""REPL and notebook introspection: ``repr(net)``, ``net._repr_html_()`` and Information.

A container's repr is a table that fits a 100-column terminal: the graph's input ports, one
line per layer (nested nets indented beneath their line) with its output shapes and, in a
NetGraph, where its inputs come from, then the output ports. Long nets show their first and
last layers.
"""
from __future__ import annotations

import html
from typing import Any

import numpy as np

from .coders import Coder
from .errors import OptionError, nearest
from .graph.net import Container, NetGraph
from .graph.parts import label, port_spec
from .graph.walk import array_items, leaves, path_keys
from .layers.base import Layer
from .layers.shared import NetArray
from .ports import PortRef
from .shapes import PortType
from .symbols import Automatic

WIDTH = 100
HEAD_LINES, TAIL_LINES = 12, 6  # layer lines shown around the cut in a long net


def shape_text(t: PortType | None) -> str:
    """A port shape as the user would write it: 3, (2, 3), "Real", ("Varying", 2)."""
    return _spec_text(port_spec(t))


def _spec_text(spec: Any) -> str:
    if isinstance(spec, str):
        return f'"{spec}"'
    if isinstance(spec, tuple):
        return "(" + ", ".join(_spec_text(d) for d in spec) + ")"
    return repr(spec)


def _fit(s: str, width: int = WIDTH) -> str:
    return s if len(s) <= width else s[:width - 3] + "..."


def layer_call(layer: Layer) -> str:
    """The layer as a call: LinearLayer(3); a nested net as NetChain[2 layers]."""
    if isinstance(layer, Container):
        n = len(layer.nodes)  # type: ignore[attr-defined]
        return f"{layer.head}[{n} layer{'s' if n != 1 else ''}]"
    args = layer._param_repr()
    names = layer.shared_names()
    shared = ", ".join(f"{k}={NetArray(n)!r}" for k, n in names.items()) if len(names) <= 2 \
        else f"{len(names)} shared arrays"
    return f"{layer.head}({args}{', ' if args and shared else ''}{shared})"


def _count_text(net: Layer) -> str:
    total = Information(net, "ArraysTotalElementCount")
    if total is None or not array_items(net):
        return ""
    return f"{total:,} parameter{'s' if total != 1 else ''}, "


def _status(net: Layer) -> str:
    arrays = [a for _, leaf in leaves(net) for a in leaf.arrays.values()]
    if not arrays:
        return "no learned arrays"
    done = sum(a is not None for a in arrays)
    return ("initialized" if done == len(arrays)
            else "uninitialized" if done == 0 else f"{done} of {len(arrays)} arrays initialized")


def layer_repr(layer: Layer) -> str:
    """``repr`` of any layer value; containers get the multi-line summary."""
    if isinstance(layer, Container):
        return container_repr(layer)
    ins = [f"{p}: {port_text(layer, p)}" for p in layer.visible_inputs()]
    outs = [f"{p}: {port_text(layer, p)}" for p in layer.visible_outputs()]
    known = any(port_spec(t) is not Automatic for t in (*layer.in_types.values(),
                                                         *layer.out_types.values()))
    if not known and not array_items(layer):
        return layer_call(layer)
    extra = ""
    if array_items(layer):  # its own arrays, or those of the nets inside an operator
        extra = ", " + _count_text(layer) + _status(layer)
    text = f"{layer_call(layer)}  <{', '.join(ins)} -> {', '.join(outs)}{extra}>"
    if len(text) > WIDTH and len(ins) == len(outs) == 1:  # drop the port names to fit
        text = f"{layer_call(layer)}  <{ins[0].split(': ', 1)[1]} -> " \
               f"{outs[0].split(': ', 1)[1]}{extra}>"
    return _fit(text)


def _source_text(s: PortRef) -> str:
    if s.node is None:
        return s.port
    return label(s.node) if s.port == "Output" else f"{label(s.node)}.{s.port}"


def _layer_rows(net: Any, indent: int = 0) -> list[tuple[str, str, str, str]]:
    """(key, call, outputs, sources) for each layer, nested nets' layers after their row."""
    rows = []
    for k, layer in net.nodes.items():
        outs = [shape_text(layer.out_types.get(p)) for p in layer.visible_outputs()]
        if len(outs) > 1:
            outs = [f"{p}: {o}" for p, o in zip(layer.visible_outputs(), outs, strict=True)]
        srcs = ""
        if isinstance(net, NetGraph):
            feeds = [net.edges.get(PortRef(k, p)) for p in layer.input_ports()]
            srcs = "<- " + ", ".join(_source_text(s) for s in feeds if s is not None)
        rows.append((" " * indent + label(k), layer_call(layer), ", ".join(outs), srcs))
        if isinstance(layer, Container) and indent < 6:
            rows += _layer_rows(layer, indent + 3)
    return rows


def container_repr(net: Any) -> str:
    """The summary of a NetGraph or NetChain (see the module docstring)."""
    n = len(net.nodes)
    lines = [f"{net.head}[{n} layer{'s' if n != 1 else ''}, {_count_text(net)}{_status(net)}]"]
    names = [*net.params["inputs"], *net.params["outputs"]]
    w = max([len(p) + 2 for p in names] + [8])
    for p in net.params["inputs"]:
        lines.append(_fit(f"  Input   {_q(p):<{w}}  {port_text(net, p)}"))
    rows = _layer_rows(net)
    kw = max([len(r[0]) for r in rows] + [5])
    cw = min(max([len(r[1]) for r in rows] + [10]), 44)
    ow = min(max([len(r[2]) for r in rows] + [4]), 24)
    shown: list[Any] = list(rows)
    if len(rows) > HEAD_LINES + TAIL_LINES + 1:
        shown = rows[:HEAD_LINES] + [len(rows) - HEAD_LINES - TAIL_LINES] + rows[-TAIL_LINES:]
    for r in shown:
        if isinstance(r, int):
            lines.append(f"  {'':>{kw}}  ... {r} more layers ...")
            continue
        key, call, outs, srcs = r
        line = f"  {key:<{kw}}  {_fit(call, cw):<{cw}}  -> {outs:<{ow}}  {srcs}"
        lines.append(_fit(line.rstrip()))
    for p in net.params["outputs"]:
        src = net.edges.get(PortRef(None, p))
        frm = f"  <- {_source_text(src)}" if src is not None and net.head == "NetGraph" else ""
        lines.append(_fit(f"  Output  {_q(p):<{w}}  {port_text(net, p)}{frm}"))
    return "\n".join(lines)


def _q(p: str) -> str:
    return f'"{p}"'


def html_repr(layer: Layer) -> str:
    """An HTML table for notebooks: ports and layers with their shapes."""
    e = html.escape
    if not isinstance(layer, Container):
        return f"<pre>{e(repr(layer))}</pre>"
    net: Any = layer
    n = len(net.nodes)
    title = f"{net.head}: {n} layer{'s' if n != 1 else ''}, {_count_text(net)}{_status(net)}"
    cells = ["<tr><th></th><th>name</th><th>layer</th><th>shape</th><th>from</th></tr>"]
    for p in net.params["inputs"]:
        cells.append(f"<tr><td>Input</td><td>{e(p)}</td><td></td>"
                     f"<td>{e(port_text(net, p))}</td><td></td></tr>")
    for key, call, outs, srcs in _layer_rows(net):
        pad = "&nbsp;" * (len(key) - len(key.lstrip()))
        cells.append(f"<tr><td>{pad}{e(key.strip())}</td><td></td><td>{e(call)}</td>"
                     f"<td>{e(outs)}</td><td>{e(srcs[3:])}</td></tr>")
    for p in net.params["outputs"]:
        src = net.edges.get(PortRef(None, p))
        cells.append(f"<tr><td>Output</td><td>{e(p)}</td><td></td>"
                     f"<td>{e(port_text(net, p))}</td>"
                     f"<td>{e(_source_text(src)) if src is not None else ''}</td></tr>")
    return (f"<table class=\"netgraph\"><caption style=\"text-align:left\"><b>{e(title)}</b>"
            f"</caption>{''.join(cells)}</table>")


# -- Information ----------------------------------------------------------------------------
PROPERTIES = ("InputPorts", "OutputPorts", "InputPortNames", "OutputPortNames", "Layers",
              "LayersList", "LayersCount", "LayerTypeCounts", "Arrays", "ArraysCount",
              "ArraysTotalElementCount", "ArraysElementCounts", "ArraysDimensions",
              "ArraysPositionList", "ArraysByteCount", "ArraysTotalSize", "SummaryGraphic",
              "Properties")


def _total(net: Layer, per_element: int = 1) -> int | None:
    total = 0
    for _, a, shape in array_items(net):
        if shape is None:
            return None
        total += a.nbytes if a is not None and per_element > 1 else (
            int(np.prod(shape)) * per_element)
    return total


def _ports(net: Layer, side: str) -> dict[str, Any]:
    """Each port's shape, or its coder where one is attached (as WL shows it)."""
    if side == "in":
        return {p: net.coders.get(p) or port_spec(net.in_types.get(p))
                for p in net.visible_inputs()}
    return {p: net.coders.get(p) or port_spec(net.out_types.get(p))
            for p in net.visible_outputs()}


def port_text(net: Layer, p: str) -> str:
    """A port's shape as the user writes it, followed by its coder when one is attached."""
    t = net.in_types.get(p) if p in net.in_types else net.out_types.get(p)
    c = net.coders.get(p)
    return shape_text(t) if c is None else f"{shape_text(t)}  {c!r}"


_PROPS: dict[str, Any] = {
    "InputPorts": lambda net: _ports(net, "in"),
    "OutputPorts": lambda net: _ports(net, "out"),
    "InputPortNames": lambda net: list(net.visible_inputs()),
    "OutputPortNames": lambda net: list(net.visible_outputs()),
    "Layers": lambda net: {path_keys(p): layer for p, layer in leaves(net)},
    "LayersList": lambda net: [layer for _, layer in leaves(net)],
    "LayersCount": lambda net: sum(1 for _ in leaves(net)),
    "Arrays": lambda net: {k: Automatic if a is None else a for k, a, _ in array_items(net)},
    "ArraysCount": lambda net: len(array_items(net)),
    "ArraysPositionList": lambda net: [k for k, _, _ in array_items(net)],
    "ArraysDimensions": lambda net: {k: s for k, _, s in array_items(net)},
    "ArraysElementCounts": lambda net: {k: None if s is None else int(np.prod(s))
                                        for k, _, s in array_items(net)},
    "ArraysTotalElementCount": _total,
    "ArraysByteCount": lambda net: _total(net, 4),
    "ArraysTotalSize": lambda net: _total(net, 4),
}


def register_property(name: str, fn: Any) -> None:
    """Add an Information property computed by a higher level (netgraph.wl adds
    "WLInputForm"); it is listed in "Properties" but left out of ``Information(net)``."""
    global PROPERTIES
    _PROPS[name] = fn
    _REGISTERED.add(name)
    if name not in PROPERTIES:
        PROPERTIES = PROPERTIES + (name,)  # type: ignore[assignment]


_REGISTERED: set[str] = set()


def _layer_type_counts(net: Layer) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _, layer in leaves(net):
        counts[layer.head] = counts.get(layer.head, 0) + 1
    return counts


def Information(net: Layer | Coder, prop: str | None = None) -> Any:
    """Information(net, "prop") gives a property of a net: "InputPorts", "Layers", "ArraysCount" ...

    ``Information(coder, prop)`` gives a property of a NetEncoder or NetDecoder: "Type", one
    of its parameters, "Output" (an encoder's encoded shape) or "Input" (a decoder's).

    ``Information(net)`` gives a dict of the main properties and ``Information(net,
    "Properties")`` the list of property names. Ports map to shapes as the user writes them
    (``Automatic`` while unknown); "Layers" and "Arrays" are keyed by position tuples such as
    ``(3, 1)`` and ``(3, 1, "Weights")``, which NetExtract accepts. Array shapes or counts that
    are not known yet are None; uninitialized arrays are ``Automatic``. "SummaryGraphic"
    draws the graph (a matplotlib Figure).

    >>> Information(LinearLayer(3, Input=2), "ArraysTotalElementCount")
    9
    >>> Information(NetChain([LinearLayer(3), Tanh], Input=2), "ArraysDimensions")
    {(1, 'Weights'): (3, 2), (1, 'Biases'): (3,)}
    """
    if isinstance(net, Coder) or (not isinstance(net, Layer) and hasattr(net, "information")):
        return net.information(prop)  # a coder, a NetExternalObject
    if prop is None:
        return {p: Information(net, p) for p in PROPERTIES
                if p not in ("SummaryGraphic", "Properties", "Arrays", "ArraysByteCount")
                and p not in _REGISTERED}
    if not isinstance(prop, str) or (prop not in _PROPS and prop not in PROPERTIES):
        raise OptionError("Information", f"unknown property {prop!r}."
                          f"{nearest(str(prop), PROPERTIES)} Valid properties are: "
                          f"{', '.join(PROPERTIES)}.")
    if prop == "Properties":
        return list(PROPERTIES)
    if prop == "LayerTypeCounts":
        return _layer_type_counts(net)
    if prop == "SummaryGraphic":
        from .plot import summary_graphic
        return summary_graphic(net)
    return _PROPS[prop](net)
