"""Structure layers (Catenate, Append, Prepend, Replicate, Padding, Reshape, Flatten, Transpose,
Part) against hand-written torch, batch vs one-at-a-time, inference both ways, and errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from netgraph import *  # noqa: F403

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)


def batch_equals_single(net, feeds):
    """Evaluating a batch gives the same as evaluating each example alone."""
    batch = net(feeds)
    n = len(next(iter(feeds.values())))
    for i in range(n):
        close(batch[i], net({k: v[i] for k, v in feeds.items()}))
    return batch


def out_spec(layer):
    return layer.out_types["Output"].spec()


def in_spec(layer, port="Input"):
    return layer.in_types[port].spec()


# -- CatenateLayer -----------------------------------------------------------------------------

def test_catenate_vectors_and_batch():
    layer = CatenateLayer(InputPorts=[2, 3])
    a, b = rand(4, 2), rand(4, 3)
    out = batch_equals_single(layer, {"Input1": a, "Input2": b})
    close(out, torch.cat([torch.tensor(a), torch.tensor(b)], dim=1))
    assert out_spec(layer) == 5


def test_catenate_replicates_lower_rank_inputs():
    layer = CatenateLayer(InputPorts=[(3, 4), 2])
    m, v = rand(5, 3, 4), rand(5, 2)
    out = batch_equals_single(layer, {"Input1": m, "Input2": v})
    ref = torch.cat([torch.tensor(m), torch.tensor(v)[:, None, :].expand(5, 3, 2)], dim=2)
    close(out, ref)
    assert out_spec(layer) == (3, 6)


@pytest.mark.parametrize("level,dim", [(1, 1), (2, 2), (-1, 2)])
def test_catenate_levels(level, dim):
    a, b = rand(3, 2, 4), rand(3, 2, 4)
    layer = CatenateLayer(level, InputPorts=[(2, 4), (2, 4)])
    close(layer({"Input1": a, "Input2": b}),
          torch.cat([torch.tensor(a), torch.tensor(b)], dim=dim))


def test_catenate_in_graph_counts_inputs_and_infers_backwards():
    net = NetGraph([CatenateLayer()], [([NetPort("x"), NetPort("y")], 1)],
                   x=2, Output=5)
    assert Information(net, "InputPorts") == {"x": 2, "y": 3}
    close(net({"x": [1, 2], "y": [3, 4, 5]}), [1, 2, 3, 4, 5])
    chain = NetChain([LinearLayer(3), CatenateLayer(InputPorts=1)], Input=2)
    assert Information(chain, "OutputPorts") == {"Output": 3}


def test_catenate_sequences_off_level():
    layer = CatenateLayer(2, InputPorts=[("Varying", 2), ("Varying", 3)])
    a, b = rand(4, 2), rand(4, 3)
    close(layer({"Input1": a, "Input2": b}), np.concatenate([a, b], axis=1))
    assert out_spec(layer) == ("Varying", 5)


def test_catenate_errors():
    with pytest.raises(LayerError, match="CatenateLayer: expected a nonzero level"):
        CatenateLayer(0)
    with pytest.raises(LayerError, match="InputPorts"):
        CatenateLayer(InputPorts="two")
    with pytest.raises(ShapeError, match=r'"Input2" expects size 4 at level 2.*2×5 matrix'):
        CatenateLayer(InputPorts=[(3, 4), (2, 5)])
    with pytest.raises(ShapeError, match='not "Varying" at the catenation level'):
        CatenateLayer(InputPorts=["Varying", "Varying"])
    with pytest.raises(ShapeError, match="rank at least 3"):
        CatenateLayer(3, InputPorts=[(2, 2), 2])
    with pytest.raises(ShapeError, match=r'"Output" expects size 5.*size 6'):
        CatenateLayer(InputPorts=[2, 3], Output=6)
    with pytest.raises(ShapeError, match=r"NetPort\(1, \"Input2\"\).*CatenateLayer"):
        NetGraph([CatenateLayer()], [([NetPort("x"), NetPort("y")], 1)], x=(2, 3), y=(2, 4))


# -- AppendLayer, PrependLayer -----------------------------------------------------------------

def test_append_prepend_vectors():
    x, e = rand(3, 4), rand(3)
    app = AppendLayer(Input=4)
    out = batch_equals_single(app, {"Input": x, "Element": e})
    close(out, torch.cat([torch.tensor(x), torch.tensor(e)[:, None]], 1))
    pre = PrependLayer(Input=4)
    close(pre({"Input": x, "Element": e}), torch.cat([torch.tensor(e)[:, None],
                                                      torch.tensor(x)], 1))
    assert out_spec(app) == 5 and in_spec(app, "Element") == "Real"


def test_append_sequences_of_different_lengths():
    layer = AppendLayer(Input=("Varying", 2))
    xs = [rand(3, 2), rand(5, 2)]
    es = [rand(2), rand(2)]
    outs = layer({"Input": xs, "Element": es})
    for x, e, o in zip(xs, es, outs, strict=False):
        close(o, np.concatenate([x, e[None]], 0))
    assert out_spec(layer) == ("Varying", 2)


def test_append_infers_backwards():
    layer = PrependLayer(Output=(4, 2))
    assert in_spec(layer) == (3, 2) and in_spec(layer, "Element") == 2


def test_append_errors():
    with pytest.raises(ShapeError, match=r'"Element" expects a vector of size 2.*real number'):
        AppendLayer(Input=(3, 2), Element="Real")
    with pytest.raises(ShapeError, match='"Input" expects an array of rank 1 or more'):
        AppendLayer(Input="Real")
    with pytest.raises(ShapeError, match="at least 2 elements"):
        AppendLayer(Output=(1, 2))
    with pytest.raises(OptionError, match="AppendLayer: unknown option Elements"):
        AppendLayer(Elements=2)


# -- ReplicateLayer ----------------------------------------------------------------------------

def test_replicate_default_and_dims():
    x = rand(2, 3)
    layer = ReplicateLayer(4, Input=3)
    out = batch_equals_single(layer, {"Input": x})
    close(out, torch.tensor(x)[:, None, :].expand(2, 4, 3))
    layer = ReplicateLayer((2, 5), Input=3)
    close(layer(x), torch.tensor(x)[:, None, None, :].expand(2, 2, 5, 3))
    assert out_spec(layer) == (2, 5, 3)


@pytest.mark.parametrize("m,ref", [(2, lambda t: t[:, :, None, :].expand(2, 3, 4, 5)),
                                   (3, lambda t: t[:, :, :, None].expand(2, 3, 5, 4)),
                                   (-1, lambda t: t[:, :, :, None].expand(2, 3, 5, 4))])
def test_replicate_levels(m, ref):
    x = rand(2, 3, 5)
    layer = ReplicateLayer(4, m, Input=(3, 5))
    close(batch_equals_single(layer, {"Input": x}), ref(torch.tensor(x)))


def test_replicate_scalar_and_automatic():
    layer = ReplicateLayer(3, Input="Real")
    close(layer(2.0), [2, 2, 2])
    auto = ReplicateLayer(Automatic, Output=(4, 3))
    assert in_spec(auto) == 3 and auto.params["dims"] == (None,)
    chain = NetChain([ReplicateLayer(), LinearLayer()], Input=2)
    assert Information(chain, "InputPorts") == {"Input": 2}


def test_replicate_errors():
    with pytest.raises(LayerError, match="ReplicateLayer: expected a positive integer or "
                                         "Automatic"):
        ReplicateLayer(0)
    with pytest.raises(LayerError, match="expected a level m"):
        ReplicateLayer((2, 3), -1)
    with pytest.raises(ShapeError, match='"Input" expects an array of rank at least 2'):
        ReplicateLayer(2, 3, Input=3)
    with pytest.raises(ShapeError, match='"Output" expects'):
        ReplicateLayer(2, Input=3, Output=(3, 3))


# -- PaddingLayer ------------------------------------------------------------------------------

def test_padding_constant_matches_torch():
    x = rand(2, 3, 4)
    layer = PaddingLayer([(1, 2), (0, 1)], Input=(3, 4), Padding=-999)
    out = batch_equals_single(layer, {"Input": x})
    close(out, F.pad(torch.tensor(x), (0, 1, 1, 2), value=-999))
    assert out_spec(layer) == (6, 5)


@pytest.mark.parametrize("method,mode", [("Fixed", "edge"), ("Reflected", "reflect")])
def test_padding_methods(method, mode):
    x = rand(2, 3, 4)
    layer = PaddingLayer([(2, 1), (3, 3)], Input=(3, 4), Padding=method)
    out = batch_equals_single(layer, {"Input": x})
    close(out, np.pad(x, [(0, 0), (2, 1), (3, 3)], mode=mode))
    if method == "Reflected":  # torch's reflect is the same thing, on the last two levels
        close(out, F.pad(torch.tensor(x)[None], (3, 3, 2, 1), mode="reflect")[0])


def test_padding_sequences_and_backwards():
    layer = PaddingLayer([(1, 1)], Input="Varying")
    close(layer([1, 2, 3]), [0, 1, 2, 3, 0])
    assert in_spec(PaddingLayer([(1, 2), (0, 1)], Output=(6, 3))) == (3, 2)


def test_padding_errors():
    with pytest.raises(LayerError, match="PaddingLayer: expected a list of pairs"):
        PaddingLayer([(1, -1)])
    with pytest.raises(LayerError, match="expected Padding to be a number"):
        PaddingLayer([(1, 1)], Padding="Periodic")
    with pytest.raises(ShapeError, match="at least 2 elements at each padded level"):
        PaddingLayer([(1, 1)], Input=1, Padding="Reflected")
    with pytest.raises(ShapeError, match="larger than the padding"):
        PaddingLayer([(2, 2)], Output=3)
    with pytest.raises(ShapeError, match="rank at least 2"):
        PaddingLayer([(1, 1), (1, 1)], Input=3)


# -- ReshapeLayer ------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,shape,want", [
    ((2, 3), (6,), (2, 3)),
    ((2, Automatic), (3, 2), (2, 3)),
    ((Inherited, Automatic), (3, 2, 2), (3, 4)),
    ((2, All, 20), (4, 3, 7, 10), (2, 3, 7, 20)),
    ((), (1, 1), ()),
])
def test_reshape_matches_torch(spec, shape, want):
    x = rand(2, *shape)
    layer = ReshapeLayer(spec, Input=shape)
    assert layer.out_types["Output"].dims == want
    close(batch_equals_single(layer, {"Input": x}), torch.tensor(x).reshape(2, *want))


def test_reshape_sequences():
    layer = ReshapeLayer((Inherited, 2, Automatic), Input=("Varying", 6))
    assert out_spec(layer) == ("Varying", 2, 3)
    xs = [rand(2, 6), rand(4, 6)]
    for x, o in zip(xs, layer(xs), strict=False):
        close(o, x.reshape(-1, 2, 3))


def test_reshape_infers_backwards():
    assert in_spec(ReshapeLayer((2, 3), Input=(3, None))) == (3, 2)
    assert in_spec(ReshapeLayer((Inherited, 4), Input=(5, None), Output=(5, 4))) == (5, 4)


def test_reshape_errors():
    with pytest.raises(LayerError, match="ReshapeLayer: expected each dimension"):
        ReshapeLayer((2, -1))
    with pytest.raises(LayerError, match="at most one Automatic"):
        ReshapeLayer((Automatic, Automatic))
    with pytest.raises(LayerError, match="ReferenceShape"):
        ReshapeLayer("ReferenceShape")
    with pytest.raises(ShapeError, match=r'"Input" expects an array of 6 elements.*vector of '
                                         r"size 5"):
        ReshapeLayer((2, 3), Input=5)
    with pytest.raises(ShapeError, match="divisible by 4"):
        ReshapeLayer((4, Automatic), Input=6)
    with pytest.raises(ShapeError, match=r"NetPort\(2, \"Input\"\) of ReshapeLayer expects"):
        NetChain([LinearLayer(5), ReshapeLayer((2, 3))], Input=2)


# -- FlattenLayer ------------------------------------------------------------------------------

@pytest.mark.parametrize("n,ref", [
    (None, lambda t: t.reshape(2, -1)),
    (1, lambda t: t.flatten(1, 2)),
    (-1, lambda t: t.flatten(2, 3)),
    (2, lambda t: t.flatten(1, 3)),
    (0, lambda t: t),
    ([[2, 3]], lambda t: t.permute(0, 2, 3, 1).reshape(2, 12, 2)),
    ([[3], [1, 2]], lambda t: t.permute(0, 3, 1, 2).reshape(2, 4, 6)),
])
def test_flatten_matches_torch(n, ref):
    x = rand(2, 2, 3, 4)
    layer = FlattenLayer(n, Input=(2, 3, 4))
    close(batch_equals_single(layer, {"Input": x}), ref(torch.tensor(x)))


def test_flatten_backwards_and_sequences():
    assert in_spec(FlattenLayer(1, Output=(6, 4), Input=(2, None, None))) == (2, 3, 4)
    assert in_spec(FlattenLayer(-1, Output=(5, 6), Input=(None, 2, 3))) == (5, 2, 3)
    layer = FlattenLayer(-1, Input=("Varying", 2, 3))
    assert out_spec(layer) == ("Varying", 6)
    close(layer(np.ones((4, 2, 3))), np.ones((4, 6)))


def test_flatten_errors():
    with pytest.raises(LayerError, match="FlattenLayer: expected an integer n"):
        FlattenLayer("all")
    with pytest.raises(LayerError, match="FlattenLayer"):
        FlattenLayer([[1, 1]])
    with pytest.raises(ShapeError, match='"Input" expects an array of rank at least 3'):
        FlattenLayer(2, Input=(2, 3))
    with pytest.raises(ShapeError, match='"Output" expects'):
        FlattenLayer(Input=(2, 3), Output=5)


# -- TransposeLayer ----------------------------------------------------------------------------

@pytest.mark.parametrize("spec,perm", [
    (None, (0, 2, 1, 3)),
    ((1, 3), (0, 3, 2, 1)),
    ((-1, 1), (0, 3, 2, 1)),
    ([(1, 3), (2, 3)], (0, 3, 1, 2)),
    ([2, 3, 1], (0, 3, 1, 2)),
    ([2, 1], (0, 2, 1, 3)),
])
def test_transpose_matches_torch(spec, perm):
    x = rand(2, 2, 3, 4)
    layer = TransposeLayer(spec, Input=(2, 3, 4))
    close(batch_equals_single(layer, {"Input": x}), torch.tensor(x).permute(perm))


def test_transpose_backwards_and_repr():
    assert in_spec(TransposeLayer(Output=(2, 3))) == (3, 2)
    assert in_spec(TransposeLayer([2, 3, 1], Output=(4, 2, 3))) == (2, 3, 4)
    assert repr(TransposeLayer((1, 3))).startswith("TransposeLayer((1, 3))")


def test_transpose_errors():
    with pytest.raises(LayerError, match="TransposeLayer: expected a pair of levels"):
        TransposeLayer("1<->2")
    with pytest.raises(LayerError, match="expected a permutation of 1, ..., 3"):
        TransposeLayer([1, 1, 3])
    with pytest.raises(ShapeError, match='"Input" expects an array of rank at least 3'):
        TransposeLayer((1, 3), Input=(2, 3))


# -- PartLayer ---------------------------------------------------------------------------------

@pytest.mark.parametrize("spec,ref", [
    (2, lambda t: t[:, 1]),
    (-1, lambda t: t[:, -1]),
    (Span(2), lambda t: t[:, 1:]),
    (Span(1, -2), lambda t: t[:, :-1]),
    (Span(1, 4, 2), lambda t: t[:, 0:4:2]),
    (Span(-1, 1, -2), lambda t: t[:, [3, 1]]),
    ([All, 2], lambda t: t[:, :, 1]),
    ([Span(2, 3), -1], lambda t: t[:, 1:3, -1]),
    (slice(2, 3), lambda t: t[:, 1:3]),
])
def test_part_matches_torch(spec, ref):
    x = rand(3, 4, 5)
    layer = PartLayer(spec, Input=(4, 5))
    close(batch_equals_single(layer, {"Input": x}), ref(torch.tensor(x)))


def test_part_sequences_and_backwards():
    layer = PartLayer(Span(2), Input=("Varying", 2))
    xs = [rand(3, 2), rand(5, 2)]
    for x, o in zip(xs, layer(xs), strict=False):
        close(o, x[1:])
    assert out_spec(PartLayer(-1, Input="Varying")) == "Real"
    assert in_spec(PartLayer([All, 2], Output=(3, 4))) == (3, "Automatic", 4)
    assert repr(PartLayer(Span(2))).startswith("PartLayer(Span(2, All))")


def test_part_errors():
    with pytest.raises(LayerError, match="PartLayer: expected a nonzero integer, a Span"):
        PartLayer(0)
    with pytest.raises(LayerError, match="Span: expected the start to be a nonzero integer"):
        Span(0, 2)
    with pytest.raises(ShapeError, match=r'"Input" expects at least 5 elements at level 1.*'
                                         r"vector of size 3"):
        PartLayer(5, Input=3)
    with pytest.raises(ShapeError, match="an empty part is not allowed"):
        PartLayer(Span(3, 2), Input=4)
    with pytest.raises(ShapeError, match="rank at least 2"):
        PartLayer([1, 1], Input=3)


# -- element types -----------------------------------------------------------------------------

def test_integers_keep_their_type():
    part = PartLayer(Span(1, 2), Input=(3, Restricted("Integer", 5)))
    assert part.out_types["Output"].kind == "Integer"
    assert part.out_types["Output"].bound == (1, 5)
    close(part([4, 5, 1]), [4, 5])
    cat = CatenateLayer(InputPorts=[(2, "Integer"), (1, "Integer")])
    assert cat.out_types["Output"].kind == "Integer"
    assert cat({"Input1": [1, 2], "Input2": [3]}).dtype == np.int64
    with pytest.raises(ShapeError, match=r'CatenateLayer: port "Input2" expects'):
        CatenateLayer(InputPorts=[(2, "Integer"), (2, "Real")])


# -- padded batches of sequences ---------------------------------------------------------------

@pytest.mark.parametrize("layer,safe", [
    (FlattenLayer(-1, Input=("Varying", 2, 3)), True),
    (TransposeLayer((2, 3), Input=("Varying", 2, 3)), True),
    (ReshapeLayer((Inherited, 3, 2), Input=("Varying", 2, 3)), True),
    (PartLayer([All, 2], Input=("Varying", 2, 3)), True),
    (PaddingLayer([(0, 0), (1, 1)], Input=("Varying", 2, 3)), True),
    (ReplicateLayer(2, 2, Input=("Varying", 2, 3)), True),
    (TransposeLayer(Input=("Varying", 2, 3)), False),
    (PaddingLayer([(1, 0)], Input=("Varying", 2, 3)), False),
    (AppendLayer(Input=("Varying", 2, 3)), False),
])
def test_sequences_of_several_lengths(layer, safe):
    from netgraph.backend.lower import lower
    assert lower(layer).mask_safe is safe
    xs = [rand(2, 2, 3), rand(4, 2, 3), rand(3, 2, 3)]
    feeds = {"Input": xs}
    if "Element" in layer.input_ports():
        feeds["Element"] = [rand(2, 3) for _ in xs]
    outs = layer(feeds)
    for i, o in enumerate(outs):
        close(o, layer({k: v[i] for k, v in feeds.items()}))


@pytest.mark.parametrize("layer", [
    FlattenLayer(Input=("Varying", 2)),
    FlattenLayer(1, Input=("Varying", 2, 3)),
    ReshapeLayer((Automatic, 3), Input=("Varying", 6)),
    PartLayer(Span(2), Input=("Varying", 2)),
    PartLayer(Span(2, -2), Input=("Varying", 2)),
    PartLayer(Span(1, -1, 2), Input=("Varying", 2)),
    PartLayer(Span(-2, -1), Input=("Varying", 2)),
    PrependLayer(Input=("Varying", 2)),
    PaddingLayer([(2, 1)], Input=("Varying", 2)),
])
def test_sequence_lengths_change(layer):
    rest = layer.in_types["Input"].dims[1:]
    xs = [rand(n, *rest) for n in (4, 6, 5)]
    feeds = {"Input": xs}
    if "Element" in layer.input_ports():
        feeds["Element"] = [rand(*rest) for _ in xs]
    outs = layer(feeds)
    for i, o in enumerate(outs):
        close(o, layer({k: v[i] for k, v in feeds.items()}))


def test_more_construction_errors():
    with pytest.raises(LayerError, match="Span: expected the step to be a nonzero integer"):
        Span(1, 2, 0)
    with pytest.raises(ShapeError, match='CatenateLayer: port "Output" expects an array of '
                                         "rank 1"):
        CatenateLayer(InputPorts=[2, 3], Output=(5, 1))
    with pytest.raises(ShapeError, match='"Output" expects size more than 3'):
        CatenateLayer(InputPorts=[3, None], Output=3)
    with pytest.raises(ShapeError, match='"Output" expects an array that is not "Varying"'):
        CatenateLayer(InputPorts=[2, None], Output="Varying")
    with pytest.raises(ShapeError, match='AppendLayer: port "Output" expects an array of rank 1'):
        AppendLayer(Output="Real")
    with pytest.raises(LayerError, match="expected at least one replication size"):
        ReplicateLayer(())
    with pytest.raises(ShapeError, match='"Output" expects an array of rank at least 2'):
        ReplicateLayer((2, 3), Output=2)
    with pytest.raises(ShapeError, match='"Output" expects an array of rank 2'):
        ReplicateLayer(2, Input=3, Output=(2, 3, 3))
    with pytest.raises(ShapeError, match='ReshapeLayer: port "Input" expects an array of rank '
                                         "at least 2"):
        ReshapeLayer((Inherited, Inherited, 2), Input=3)
    with pytest.raises(ShapeError, match='"Output" expects an array of rank 2'):
        ReshapeLayer((2, 3), Output=6)
    with pytest.raises(LayerError, match="PartLayer: expected at least one part spec"):
        PartLayer([])


def test_reprs_read_like_the_call():
    assert repr(ReplicateLayer((2, Automatic), 2)).startswith("ReplicateLayer((2, Automatic), 2)")
    assert repr(CatenateLayer(-1)) == "CatenateLayer(-1)"
    assert repr(FlattenLayer(-2)) == "FlattenLayer(-2)"
    assert repr(ReshapeLayer((Inherited, Automatic))).startswith(
        "ReshapeLayer((Inherited, Automatic))")
    assert repr(PaddingLayer([(1, 2)], Padding="Fixed")) == \
        "PaddingLayer([(1, 2)], Padding='Fixed')"
