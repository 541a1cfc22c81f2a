"""docs/architecture.md stays true: the modules it names exist and hold the names it gives."""
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "architecture.md").read_text()

# (module, name) pairs the page presents as the stages' values and functions
NAMES = [
    ("netgraph.graph.ir", "GraphIR"), ("netgraph.graph.ir", "PortId"),
    ("netgraph.graph.ir", "build_graph"), ("netgraph.ports", "PortRef"),
    ("netgraph.graph.infer", "InferredGraph"), ("netgraph.graph.infer", "infer_graph"),
    ("netgraph.graph.walk", "run_through_graph"), ("netgraph.graph.walk", "children"),
    ("netgraph.graph.walk", "map_children"), ("netgraph.graph.parts", "Parts"),
    ("netgraph.graph.parts", "assemble"), ("netgraph.backend.plan", "Plan"),
    ("netgraph.backend.plan", "Step"), ("netgraph.backend.plan", "make_plan"),
    ("netgraph.backend.lower", "GraphModule"), ("netgraph.backend.lower", "lower"),
    ("netgraph.backend.lower", "generate_forward"), ("netgraph.backend.lower", "forward_lines"),
    ("netgraph.backend.extended", "generate_forward_ext"),
    ("netgraph.backend.mirror_plan", "mirrored_graph_class"),
    ("netgraph.backend.base", "lowers"), ("netgraph.train.options", "OPTIONS"),
    ("netgraph.coders.base", "Coder"), ("netgraph.runtime.evaluate", "Evaluator"),
    ("netgraph.runtime.boundary", "PortCodec"),
]


def test_every_module_the_page_names_exists():
    paths = set(re.findall(r"`((?:[a-z_]+/)+[a-z_]+\.py)`", PAGE))
    assert len(paths) > 15
    for p in paths:
        full = ROOT / p if p.startswith("netgraph/") or p.startswith("tests/") else (
            ROOT / "netgraph" / p)
        assert full.exists(), p


def test_the_stage_names_exist_where_the_page_says():
    for module, name in NAMES:
        assert any(f in PAGE for f in (f"`{name}", f"`@{name}", f"{name}(", f".{name}`")), name
        assert hasattr(importlib.import_module(module), name), (module, name)


def test_containers_carry_their_graph_ir():
    from netgraph import LinearLayer, NetChain
    from netgraph.graph.ir import GraphIR
    assert isinstance(NetChain([LinearLayer(2)], Input=3).graph, GraphIR)
