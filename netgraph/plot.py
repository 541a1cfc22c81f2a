"""Information(net, "SummaryGraphic"): the graph drawn left to right with matplotlib.

networkx lays the ports and layers out in topological columns; boxes show each layer's key,
head and output shape, and arrows carry the port names where they are not the default
"Output" -> "Input". The figure is a bare ``matplotlib.figure.Figure`` (no pyplot state, no
backend switch): ``fig.savefig("net.png")`` works anywhere, and notebooks display it.
"""
from __future__ import annotations

from typing import Any

from .layers.base import Layer

COLORS = {"in": "#fdd49e", "node": "#c6dbef", "out": "#c7e9c0"}


def _graph(net: Layer) -> tuple[Any, dict[tuple, str]]:
    """The net as a networkx DiGraph of ("in"|"node"|"out", name) and a label for each node."""
    import networkx as nx

    from .graph.net import wrap
    from .graph.parts import label
    from .info import layer_call, port_text, shape_text
    g = wrap(net)
    G = nx.DiGraph()
    labels: dict[tuple, str] = {}
    for p in g.params["inputs"]:
        labels[("in", p)] = f"{p}\n{port_text(g, p)}".replace("  ", "\n")
    for k, layer in g.nodes.items():
        outs = ", ".join(shape_text(layer.out_types.get(q)) for q in layer.visible_outputs())
        labels[("node", k)] = f"{label(k)}  {layer_call(layer)}\n-> {outs}"
    for p in g.params["outputs"]:
        labels[("out", p)] = f"{p}\n{port_text(g, p)}".replace("  ", "\n")
    G.add_nodes_from(labels)
    for d, s in g.edges.items():
        a = ("in", s.port) if s.node is None else ("node", s.node)
        b = ("out", d.port) if d.node is None else ("node", d.node)
        names = [n for n in (s.port if s.node is not None else "",
                             d.port if d.node is not None else "")
                 if n not in ("", "Output", "Input")]
        G.add_edge(a, b, label="->".join(names))
    return G, labels


CHAR_IN, LINE_IN = 0.062, 0.16   # size of one monospace character / text line at 7 pt
GAP_X, GAP_Y = 0.9, 0.35         # inches between columns / between boxes in a column
ROW = 10                          # columns per row: a long chain wraps onto further rows


def _columns(G: Any, labels: dict[tuple, str]) -> list[tuple[list, float, list[float]]]:
    """Topological columns (nodes, width, box heights), each sorted by the mean height of its
    nodes' sources so that edges cross less."""
    import networkx as nx
    y: dict[tuple, float] = {}
    rank = {n: i for i, n in enumerate(labels)}
    out = []
    for column in nx.topological_generations(G):
        column = sorted(column, key=lambda n: (
            -sum(y[m] for m in G.predecessors(n)) / max(1, G.in_degree(n)), rank[n]))
        width = max(len(line) for n in column for line in labels[n].split("\n")) * CHAR_IN
        sizes = [(labels[n].count("\n") + 1) * LINE_IN + GAP_Y for n in column]
        top = sum(sizes) / 2
        for n, h in zip(column, sizes, strict=True):
            y[n], top = top - h / 2, top - h
        out.append((column, width, sizes))
    return out


def _layout(G: Any, labels: dict[tuple, str]) -> tuple[dict[tuple, tuple[float, float]],
                                                      float, float]:
    """Positions in inches (x right, y down from 0), and the drawing's width and height."""
    columns = _columns(G, labels)
    pos: dict[tuple, tuple[float, float]] = {}
    width, top = 0.0, 0.0
    for r in range(0, len(columns), ROW):
        row = columns[r:r + ROW]
        height = max(sum(sizes) for _, _, sizes in row)
        x = 0.0
        for column, w, sizes in row:
            y = top - (height - sum(sizes)) / 2
            for n, h in zip(column, sizes, strict=True):
                pos[n] = (x + w / 2, y - h / 2)
                y -= h
            x += w + GAP_X
        width, top = max(width, x - GAP_X), top - height - GAP_Y
    return pos, width, -top - GAP_Y


def summary_graphic(net: Layer) -> Any:
    """A matplotlib Figure drawing ``net``'s ports, layers and connections."""
    from matplotlib.figure import Figure
    G, labels = _graph(net)
    pos, width, height = _layout(G, labels)
    fig = Figure(figsize=(width + 0.6, height + 0.6))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-0.3, width + 0.3)
    ax.set_ylim(-height - 0.3, 0.3)
    ax.set_axis_off()
    boxes = {n: ax.text(x, y, labels[n], fontsize=7, ha="center", va="center",
                        family="monospace", bbox={"boxstyle": "round,pad=0.4",
                                                  "fc": COLORS[n[0]], "ec": "#666666"})
             for n, (x, y) in pos.items()}
    for a, b, data in G.edges(data=True):
        ya, yb = _anchor(G.out_edges(a), b, pos, 1), _anchor(G.in_edges(b), a, pos, 0)
        start, end = (1.0, ya), (0.0, yb)
        if pos[a][0] > pos[b][0]:  # onto the next row: from below the box to above the next
            start, end = (0.5, 0.0), (0.5, 1.0)
        ax.annotate("", xy=end, xycoords=boxes[b], xytext=start, textcoords=boxes[a],
                    arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 0.9,
                                "shrinkA": 2, "shrinkB": 2})
        if data["label"]:  # at the end where it does not crowd other labels
            at_src = G.in_degree(b) > 1 and G.out_degree(a) == 1
            ax.annotate(data["label"], xy=(1, ya) if at_src else (0, yb),
                        xycoords=boxes[a] if at_src else boxes[b],
                        xytext=(6 if at_src else -6, 2), textcoords="offset points",
                        fontsize=6, ha="left" if at_src else "right", va="bottom",
                        color="#333333")
    return fig


def _anchor(edges: Any, other: tuple, pos: dict, end: int) -> float:
    """Where on a box's edge (fraction of its height) the arrow to/from ``other`` attaches:
    several arrows spread out, ordered by the height of the box at their other end."""
    ends = sorted((e[end] for e in edges), key=lambda n: -pos[n][1])
    return 1 - (ends.index(other) + 1) / (len(ends) + 1)
