"""Information(net, "SummaryGraphic"): the graph drawn with networkx and matplotlib."""
from __future__ import annotations

from typing import Any

from .layers.base import Layer


def summary_graphic(net: Layer) -> Any:
    import matplotlib
    if matplotlib.get_backend().lower() not in ("agg",) and not _interactive():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    from .graph.net import wrap
    g = wrap(net)
    G = nx.DiGraph()
    labels = {}
    for p in g.params["inputs"]:
        G.add_node(("in", p))
        labels[("in", p)] = p
    for k, layer in g.nodes.items():
        G.add_node(("node", k))
        labels[("node", k)] = f"{k}\n{layer.head.replace('Layer', '')}"
    for p in g.params["outputs"]:
        G.add_node(("out", p))
        labels[("out", p)] = p
    for d, s in g.edges.items():
        a = ("in", s.port) if s.node is None else ("node", s.node)
        b = ("out", d.port) if d.node is None else ("node", d.node)
        G.add_edge(a, b)
    for i, layer_nodes in enumerate(nx.topological_generations(G)):
        for n in layer_nodes:
            G.nodes[n]["layer"] = i
    pos = nx.multipartite_layout(G, subset_key="layer")
    fig, ax = plt.subplots(figsize=(max(4, 1.6 * len(set(nx.get_node_attributes(G, "layer").values()))), 3.5))
    colors = ["#9ecae1" if n[0] == "node" else "#fdd49e" for n in G.nodes]
    nx.draw_networkx(G, pos, ax=ax, labels=labels, node_color=colors, node_size=1400,
                     font_size=7, arrows=True)
    ax.set_axis_off()
    fig.tight_layout()
    plt.close(fig)
    return fig


def _interactive() -> bool:
    import sys
    return "ipykernel" in sys.modules
