"""Architecture rules from DESIGN.md that a test can check."""
import subprocess
import sys


def _loads_torch(stmt: str) -> bool:
    code = f"import sys; {stmt}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def test_declaring_and_inferring_loads_no_torch():
    assert not _loads_torch("import netgraph.graph.infer")


def test_building_a_graph_loads_no_torch():
    stmt = ("from netgraph import NetGraph, LinearLayer, Tanh; "
            "NetGraph([LinearLayer(3), Tanh], [(1, 2)], Input=2)")
    assert not _loads_torch(stmt)
