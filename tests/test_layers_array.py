"""Array layers (Total, Dot, Aggregation, Summation, NetArray) against hand-written torch,
batch vs one-at-a-time, inference both ways, and errors."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403

RNG = np.random.default_rng(1)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


def batch_equals_single(net, feeds):
    batch = net(feeds)
    n = len(next(iter(feeds.values())))
    for i in range(n):
        close(batch[i], net({k: v[i] for k, v in feeds.items()}))
    return batch


def t(x):
    return torch.tensor(x)


# -- TotalLayer --------------------------------------------------------------------------------

def test_total_matches_sum():
    a, b, c = rand(4, 2, 3), rand(4, 2, 3), rand(4, 2, 3)
    layer = TotalLayer(InputPorts=3, Input1=(2, 3))
    out = batch_equals_single(layer, {"Input1": a, "Input2": b, "Input3": c})
    close(out, t(a) + t(b) + t(c))


def test_total_in_graph_and_output_fixes_inputs():
    net = NetGraph([TotalLayer(), LinearLayer(2)],
                   [([NetPort("a"), NetPort("b")], 1, 2)], a=3)
    assert Information(net, "InputPorts") == {"a": 3, "b": 3}
    layer = TotalLayer(InputPorts=2, Output=(2, 2))
    assert layer.in_types["Input2"].spec() == (2, 2)


def test_total_errors():
    with pytest.raises(ShapeError, match=r'TotalLayer: port "Input2" expects a vector of size '
                                         r"2, but received a vector of size 3"):
        TotalLayer(InputPorts=[2, 3])
    with pytest.raises(LayerError, match="TotalLayer: expected at least 1 input port"):
        TotalLayer(InputPorts=0)
    with pytest.raises(ShapeError, match=r"NetPort\(1, \"Input\d\"\) of TotalLayer"):
        NetGraph([TotalLayer()], [([NetPort("a"), NetPort("b")], 1)], a=2, b=3)


# -- DotLayer ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shapes,out", [
    ([(3,), (3,)], "Real"),
    ([(2, 3), (3,)], 2),
    ([(3,), (3, 4)], 4),
    ([(2, 3), (3, 4)], (2, 4)),
    ([(2, 3), (3, 4), (4, 5)], (2, 5)),
    ([(2, 3, 4), (4, 5)], (2, 3, 5)),
    ([(2, 3), (3,), (2, 4)], 4),
])
def test_dot_matches_torch(shapes, out):
    xs = [rand(3, *s) for s in shapes]
    layer = DotLayer(InputPorts=[s for s in shapes])
    assert layer.out_types["Output"].spec() == out
    feeds = {f"Input{i + 1}": x for i, x in enumerate(xs)}
    got = batch_equals_single(layer, feeds)
    ref = t(xs[0])
    for x in xs[1:]:  # WL Dot: last level of the left with the first level of the right
        ref = torch.stack([torch.tensordot(r, y, dims=1) for r, y in zip(ref, t(x), strict=False)])
    close(got, ref)


def test_dot_with_transposes():
    a, b = rand(2, 3, 2), rand(2, 3, 4)
    layer = DotLayer([(1, 2), None], InputPorts=[(3, 2), (3, 4)])
    close(batch_equals_single(layer, {"Input1": a, "Input2": b}),
          torch.bmm(t(a).transpose(1, 2), t(b)))
    layer = DotLayer([None, [2, 1]], InputPorts=[(2, 3), (4, 3)])
    a, b = rand(2, 2, 3), rand(2, 4, 3)
    close(layer({"Input1": a, "Input2": b}), torch.bmm(t(a), t(b).transpose(1, 2)))


def test_dot_infers_backwards():
    layer = DotLayer(InputPorts=[(2, 3), None], Output=(2, 5))
    assert layer.in_types["Input2"].spec() == (3, 5)
    net = NetGraph([DotLayer()], [([NetPort("m"), NetPort("v")], 1)], m=(2, 3), Output=2)
    assert Information(net, "InputPorts") == {"m": (2, 3), "v": 3}


def test_dot_errors():
    with pytest.raises(ShapeError, match=r'DotLayer: port "Input2" expects size 3 at its first '
                                         r"level.*vector of size 4"):
        DotLayer(InputPorts=[(2, 3), 4])
    with pytest.raises(ShapeError, match="rank 1 or more"):
        DotLayer(InputPorts=["Real", 3])
    with pytest.raises(LayerError, match="at least 2 input port"):
        DotLayer(InputPorts=1)
    with pytest.raises(LayerError, match="expected 2 transpose specs"):
        DotLayer([None], InputPorts=2)
    with pytest.raises(LayerError, match="DotLayer: expected a pair of levels"):
        DotLayer(["x", None])
    with pytest.raises(ShapeError, match='"Output" expects an array of rank 2'):
        DotLayer(InputPorts=[(2, 3), (3, 4)], Output=5)


# -- AggregationLayer --------------------------------------------------------------------------

REDUCE = {"Max": lambda x, d: x.amax(d), "Min": lambda x, d: x.amin(d),
          "Total": lambda x, d: x.sum(d), "Mean": lambda x, d: x.mean(d),
          "Times": lambda x, d: torch.prod(x.flatten(d[0], d[-1]), d[0])}


@pytest.mark.parametrize("f", [Max, Min, Total, Mean, Times])
def test_aggregation_default_levels(f):
    x = rand(3, 2, 3, 4)
    layer = AggregationLayer(f, Input=(2, 3, 4))
    assert layer.out_types["Output"].spec() == 2
    close(batch_equals_single(layer, {"Input": x}), REDUCE[f.name](t(x), (2, 3)))


@pytest.mark.parametrize("levels,dims", [
    (1, (1,)), (-1, (3,)), ([1, 3], (1, 3)), (Span(1, 2), (1, 2)), (slice(2, 3), (2, 3)),
    (Span(2, All), (2, 3)), (All, (1, 2, 3)),
])
def test_aggregation_levels(levels, dims):
    x = rand(3, 2, 3, 4)
    layer = AggregationLayer(Mean, levels, Input=(2, 3, 4))
    close(batch_equals_single(layer, {"Input": x}), t(x).mean(dims))


def test_aggregation_over_sequences():
    layer = AggregationLayer(Max, 1, Input=("Varying", 3))
    assert layer.out_types["Output"].spec() == 3
    xs = [rand(2, 3), rand(5, 3)]
    for x, o in zip(xs, layer(xs), strict=False):
        close(o, x.max(0))


def test_aggregation_infers_backwards_and_repr():
    assert AggregationLayer(Min, 1, Output=4).in_types["Input"].spec() == ("Automatic", 4)
    assert AggregationLayer(Total, [1, 2], Output=4).in_types["Input"].rank == 3
    assert repr(AggregationLayer(Max)).startswith("AggregationLayer(Max)")
    assert repr(AggregationLayer(Mean, [1, 3])).startswith("AggregationLayer(Mean, [1, 3])")


def test_aggregation_errors():
    with pytest.raises(LayerError, match="AggregationLayer: unknown aggregation function"):
        AggregationLayer(Plus)
    with pytest.raises(LayerError, match="expected the levels"):
        AggregationLayer(Max, [1, 1])
    with pytest.raises(LayerError, match="expected the levels"):
        AggregationLayer(Max, 0)
    with pytest.raises(ShapeError, match='"Input" expects an array of rank at least 2.*vector'):
        AggregationLayer(Max, Input=3)
    with pytest.raises(ShapeError, match='"Input" expects an array of rank at least 4'):
        AggregationLayer(Max, [1, 4], Input=(2, 3))
    with pytest.raises(ShapeError, match='"Output" expects an array of rank 1'):
        AggregationLayer(Max, Input=(2, 3), Output=(2, 3))


# -- SummationLayer ----------------------------------------------------------------------------

def test_summation():
    x = rand(4, 2, 3, 1)
    layer = SummationLayer(Input=(2, 3, 1))
    assert layer.out_types["Output"].spec() == "Real"
    out = batch_equals_single(layer, {"Input": x})
    close(out, t(x).sum((1, 2, 3)))
    assert isinstance(layer(x[0]), float)
    close(SummationLayer(Input=(2, "Integer"))([1, 2]), 3.0)
    with pytest.raises(OptionError, match="SummationLayer: unknown option Inputs"):
        SummationLayer(Inputs=2)


# -- NetArrayLayer -----------------------------------------------------------------------------

def test_netarray_given_array():
    layer = NetArrayLayer(Array=[[1, 2], [3, 4]])
    close(layer(), [[1, 2], [3, 4]])
    close(layer({}), [[1, 2], [3, 4]])
    close(NetExtract(layer, "Array"), [[1, 2], [3, 4]])
    assert layer.out_types["Output"].spec() == (2, 2)
    assert NetArrayLayer(Array=3.5)() == 3.5


def test_netarray_initialized_from_output_shape():
    layer = NetInitialize(NetArrayLayer(Output=(2, 3)))
    arr = NetExtract(layer, "Array")
    assert arr.shape == (2, 3)
    close(layer(), arr)


def test_netarray_broadcasts_over_a_batch():
    net = NetInitialize(NetGraph({"w": NetArrayLayer(), "dot": DotLayer(),
                                  "b": NetArrayLayer(), "plus": TotalLayer()},
                                 [(["w", NetPort("Input")], "dot"), (["dot", "b"], "plus")],
                                 Input=3, Output=2))
    w, b = NetExtract(net, ("w", "Array")), NetExtract(net, ("b", "Array"))
    assert w.shape == (2, 3) and b.shape == (2,)
    x = rand(5, 3)
    out = batch_equals_single(net, {"Input": x})
    close(out, t(x) @ t(w).T + t(b))
    cat = NetInitialize(NetGraph([NetArrayLayer(Output=2), CatenateLayer()],
                                 [([NetPort("Input"), 1], 2)], Input=3))
    got = cat(x)
    close(got[:, 3:], np.broadcast_to(NetExtract(cat, (1, "Array")), (5, 2)))


def test_netarray_gradient_reaches_the_array():
    from netgraph.backend.lower import lower
    net = NetInitialize(NetGraph([NetArrayLayer(Output=2), TotalLayer()],
                                 [([NetPort("Input"), 1], 2)], Input=2))
    module = lower(net)
    out = module(Input=torch.ones(3, 2))["Output"]
    out.sum().backward()
    grads = [p.grad for p in module.parameters()]
    close(grads[0], [3, 3])


def test_netarray_errors():
    with pytest.raises(LayerError, match=r'NetArrayLayer: the "Array" has dimensions \[2\], but '
                                         r'"Output" is a vector of size 3'):
        NetArrayLayer(Array=[1, 2], Output=3)
    with pytest.raises(LayerError, match="numeric array"):
        NetArrayLayer(Array=[[1], [2, 3]])
    with pytest.raises(ShapeError, match='not "Varying"'):
        NetArrayLayer(Output="Varying")
    with pytest.raises(EvaluationError, match='array "Array" of .*NetArrayLayer.* is not '
                                              "initialized"):
        NetArrayLayer(Output=2)()
    with pytest.raises(EvaluationError, match="the net has no input ports"):
        NetInitialize(NetArrayLayer(Output=2))([1, 2])


def test_more_dot_errors():
    with pytest.raises(LayerError, match="DotLayer: expected a list of transpose specs"):
        DotLayer((1, 2))
    with pytest.raises(ShapeError, match='DotLayer: port "Input1" expects an array of rank at '
                                         "least 3"):
        DotLayer([(1, 3), None], InputPorts=[(2, 3), 3])
    with pytest.raises(ShapeError, match='"Output" expects an array of rank at least 2'):
        DotLayer(InputPorts=[(2, 3, 4), None], Output="Real")
    with pytest.raises(ShapeError, match='"Input3" expects no input: the product of the previous'
                                         " inputs is a scalar"):
        DotLayer(InputPorts=[3, 3, 3])
