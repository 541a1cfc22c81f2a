"""Large graphs (thousands of layers) and repeated lowering: no recursion per layer, no growth.

The timings and growth exponents are in benchmarks/graph_scale.py and benchmarks/
leak_check.py; these tests keep what can be checked quickly and reliably on a shared machine:
every stage works on 2,000-3,000 layers with the recursion limit far below the layer count,
the generated code drops each value once, and lowering a net many times leaves no source
text behind.
"""
import gc
import linecache
import sys
from contextlib import contextmanager

import numpy as np
import pytest

from netgraph import (
    CatenateLayer,
    Export,
    Import,
    Information,
    LinearLayer,
    NetChain,
    NetExtract,
    NetGraph,
    NetInitialize,
    NetPort,
    Plus,
    Tanh,
    ThreadingLayer,
)
from netgraph.backend.lower import generate_forward, lower
from netgraph.backend.plan import make_plan

W = 4


@contextmanager
def shallow_stack(extra: int = 150):
    """Allow only ``extra`` frames above the caller's: recursion per layer would fail."""
    depth, f = 0, sys._getframe()
    while f is not None:
        depth, f = depth + 1, f.f_back
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + extra)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def chain(n: int) -> NetChain:
    return NetChain([LinearLayer(W) if i % 2 == 0 else Tanh for i in range(n)], Input=W)


def dag(width: int, levels: int) -> NetGraph:
    """Columns of LinearLayer levels and neighbour-sum levels, joined by one CatenateLayer."""
    layers, conns = {}, []
    for lv in range(levels):
        for j in range(width):
            key = f"l{lv}c{j}"
            if lv == 0:
                layers[key] = LinearLayer(W)
                conns.append((NetPort("Input"), key))
            elif lv % 2:
                layers[key] = ThreadingLayer(Plus)
                conns.append(([f"l{lv - 1}c{j}", f"l{lv - 1}c{(j + 1) % width}"], key))
            else:
                layers[key] = LinearLayer(W)
                conns.append((f"l{lv - 1}c{j}", key))
    layers["cat"] = CatenateLayer()
    conns.append(([f"l{levels - 1}c{j}" for j in range(width)], "cat"))
    return NetGraph(layers, conns, Input=W)


def chain_by_hand(net: NetChain, x: np.ndarray) -> np.ndarray:
    for layer in net.nodes.values():
        if layer.arrays:
            x = layer.arrays["Weights"] @ x + layer.arrays["Biases"]
        else:
            x = np.tanh(x)
    return x


def assert_same_net(a, b) -> None:
    assert list(a.nodes) == list(b.nodes) and a.edges == b.edges
    for k, layer in b.nodes.items():
        for name, arr in layer.arrays.items():
            assert np.array_equal(a.nodes[k].arrays[name], arr)


def test_chain_of_2000_layers_every_stage_without_recursion(tmp_path):
    x = np.linspace(-1, 1, W).astype(np.float32)
    with shallow_stack():
        net = chain(2000)
        assert Information(net, "OutputPorts") == {"Output": W}
        net = NetInitialize(net, RandomSeeding=3)
        out = net(x)
        batch = net(np.stack([x, -x]))
        text = repr(net)
        count = Information(net, "ArraysTotalElementCount")
        middle = NetExtract(net, 1001)
        weights = NetExtract(net, (1999, "Weights"))
        back = Import(Export(str(tmp_path / "long.netgraph"), net))
    np.testing.assert_allclose(out, chain_by_hand(net, x.astype(np.float64)), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(batch[0], out, rtol=1e-6)
    assert_same_net(back, net)
    assert text.count("\n") < 60   # a long net shows its first and last layers
    assert count == 1000 * (W * W + W)
    assert middle.head == "LinearLayer" and weights.shape == (W, W)


def test_wide_dag_of_2000_layers_without_recursion():
    x = np.ones(W, np.float32)
    with shallow_stack():
        net = dag(20, 100)
        assert len(net.nodes) == 2001
        assert Information(net, "OutputPorts") == {"Output": 20 * W}
        net = NetInitialize(net, RandomSeeding=1)
        out = net(x)
        code = generate_forward(make_plan(net))
    assert out.shape == (20 * W,) and len(code.splitlines()) > 2000


def test_variadic_layers_in_a_large_graph_get_their_input_counts():
    net = dag(10, 41)
    plus = [v for v in net.nodes.values() if v.head == "ThreadingLayer"]
    assert len(plus) == 200 and all(v.params["n"] == 2 for v in plus)
    assert net.nodes["cat"].params["n"] == 10


def test_each_value_is_dropped_once_right_after_its_last_use():
    g = NetInitialize(dag(3, 6), RandomSeeding=1)
    plan = make_plan(g)
    last_use, keep = plan.last_use(), plan.keep()
    brute = {i: sorted(v for v, j in last_use.items() if j == i and v not in keep)
             for i in range(len(plan.steps))}
    assert plan.dead() == {i: vs for i, vs in brute.items() if vs}
    code = lower(g).code
    dropped = [v for line in code.splitlines() if line.strip().startswith("del ")
               for v in line.strip()[4:].split(", ")]
    assert sorted(dropped) == sorted(v for vs in plan.dead().values() for v in vs)
    assert len(dropped) == len(set(dropped))


def _generated_sources() -> set[str]:
    """Generated source still held (a released entry is emptied at once, removed later)."""
    return {k for k, v in linecache.cache.items() if k.startswith("<netgraph-")
            and len(v) > 2 and v[2]}


def test_lowering_many_times_leaves_no_source_behind():
    net = NetInitialize(NetChain([LinearLayer(3), Tanh], Input=2), RandomSeeding=1)
    lower(net)
    gc.collect()
    before = _generated_sources()
    for _ in range(40):
        m = lower(net)
        assert "def forward" in "".join(linecache.getlines(m.forward.__code__.co_filename))
    del m
    gc.collect()
    after = _generated_sources()
    assert len(after) <= len(before) + 2   # the live module's two entries at most


def test_generated_source_shows_in_tracebacks_while_the_module_lives():
    net = NetInitialize(NetChain([LinearLayer(3)], Input=2), RandomSeeding=1)
    m = lower(net)
    name = m.forward.__code__.co_filename
    assert name.startswith("<netgraph-forward") and "F.linear" in "".join(
        linecache.getlines(name))
    with pytest.raises(TypeError):
        m.forward()


def test_evaluating_new_net_values_does_not_keep_the_old_ones():
    import weakref
    x = np.ones(2, np.float32)
    base = NetChain([LinearLayer(3), Tanh], Input=2)
    refs = []
    for seed in range(5):
        net = NetInitialize(base, RandomSeeding=seed)
        net(x)
        refs.append(weakref.ref(net))
    del net
    gc.collect()
    assert all(r() is None for r in refs)
