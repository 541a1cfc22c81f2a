"""DropoutLayer, BatchNormalizationLayer and NormalizationLayer against hand-written torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def check_batch(net, xs, **tol):
    """Batch evaluation equals one-at-a-time evaluation."""
    batch = net(xs)
    for i, x in enumerate(xs):
        np.testing.assert_allclose(batch[i], net(x), rtol=1e-5, atol=1e-6, **tol)


def run_train(net, x):
    """Run the lowered module in training mode; returns (output, layer module)."""
    m = lower(net).train()
    out = m(Input=torch.as_tensor(x))["Output"]
    return out.detach().numpy(), m.layers["1"]


# -- DropoutLayer ---------------------------------------------------------------------------

def test_dropout_is_identity_in_evaluation():
    x = rand(3, 4)
    net = DropoutLayer(0.7, Input=(3, 4))
    np.testing.assert_array_equal(net(x), x)
    check_batch(net, rand(5, 3, 4))


def test_dropout_drops_in_training_mode():
    torch.manual_seed(0)
    x = np.ones((2000,), np.float32) * 3
    y, _ = run_train(DropoutLayer(0.25, Input=2000), x[None])
    kept = y[0] != 0
    assert 0.2 < 1 - kept.mean() < 0.3
    np.testing.assert_allclose(y[0][kept], 3 / 0.75, rtol=1e-6)


def test_dropout_default_and_alpha():
    assert DropoutLayer().params["p"] == 0.5
    torch.manual_seed(0)
    x = rand(1, 4000)
    y, _ = run_train(DropoutLayer(0.3, Method="AlphaDropout", Input=4000), x)
    torch.manual_seed(0)
    want = F.alpha_dropout(torch.tensor(x), 0.3, training=True).numpy()
    np.testing.assert_allclose(y, want, rtol=1e-6)
    assert not np.allclose(y, x)


def test_dropout_infers_both_ways():
    assert Information(DropoutLayer(Output=(2, 3)), "InputPorts") == {"Input": (2, 3)}
    assert Information(DropoutLayer(Input="Varying"), "OutputPorts") == {"Output": "Varying"}


def test_dropout_repr():
    assert repr(DropoutLayer()).startswith("DropoutLayer()")
    assert repr(DropoutLayer(0.2)).startswith("DropoutLayer(0.2)")


@pytest.mark.parametrize("p", [1.5, -0.1, "a", True])
def test_dropout_bad_probability(p):
    with pytest.raises(LayerError, match="DropoutLayer: expected the dropout probability"):
        DropoutLayer(p)


def test_dropout_bad_method():
    with pytest.raises(LayerError, match='DropoutLayer: expected Method to be "Dropout"'):
        DropoutLayer(Method="Gaussian")


# -- BatchNormalizationLayer ----------------------------------------------------------------

def bn_arrays(c):
    return {"Scaling": rand(c), "Biases": rand(c), "MovingMean": rand(c),
            "MovingVariance": np.abs(rand(c)) + 0.5}


def bn_reference(x, a, eps=1e-3, channel_axis=1):
    """Hand-written evaluation-mode batch norm on a batch x."""
    shape = [1] * x.ndim
    shape[channel_axis] = -1
    r = {k: torch.tensor(v).reshape(shape) for k, v in a.items()}
    t = torch.tensor(x)
    return ((t - r["MovingMean"]) / torch.sqrt(r["MovingVariance"] + eps) * r["Scaling"]
            + r["Biases"]).numpy()


@pytest.mark.parametrize("shape", [(3,), (3, 4), (2, 3, 4)])
def test_batchnorm_evaluation(shape):
    a = bn_arrays(shape[0])
    net = BatchNormalizationLayer(Input=shape, **a)
    xs = rand(4, *shape)
    np.testing.assert_allclose(net(xs), bn_reference(xs, a), rtol=1e-5, atol=1e-6)
    check_batch(net, xs)


def test_batchnorm_matches_torch_functional_in_evaluation():
    a = bn_arrays(2)
    xs = rand(3, 2, 5)
    net = BatchNormalizationLayer(Epsilon=0.01, Input=(2, 5), **a)
    want = F.batch_norm(torch.tensor(xs), torch.tensor(a["MovingMean"]),
                        torch.tensor(a["MovingVariance"]), torch.tensor(a["Scaling"]),
                        torch.tensor(a["Biases"]), training=False, eps=0.01)
    np.testing.assert_allclose(net(xs), want.numpy(), rtol=1e-5, atol=1e-6)


def test_batchnorm_interleaving_puts_channels_last():
    a = bn_arrays(3)
    net = BatchNormalizationLayer(Interleaving=True, Input=(4, 3), **a)
    xs = rand(2, 4, 3)
    np.testing.assert_allclose(net(xs), bn_reference(xs, a, channel_axis=2), rtol=1e-5,
                               atol=1e-6)


def test_batchnorm_training_uses_batch_stats_and_updates_moving_arrays():
    a = bn_arrays(2)
    xs = rand(5, 2, 3)
    y, mod = run_train(BatchNormalizationLayer(Momentum=0.8, Input=(2, 3), **a), xs)
    t = torch.tensor(xs)
    mean = t.mean(dim=(0, 2))
    var = t.var(dim=(0, 2), unbiased=False)          # WL/MXNet: the biased variance
    ref = {**a, "MovingMean": mean.numpy(), "MovingVariance": var.numpy()}
    np.testing.assert_allclose(y, bn_reference(xs, ref), rtol=1e-5, atol=1e-5)
    got = mod.get_arrays()
    np.testing.assert_allclose(got["MovingMean"], 0.8 * a["MovingMean"] + 0.2 * mean.numpy(),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["MovingVariance"],
                               0.8 * a["MovingVariance"] + 0.2 * var.numpy(), rtol=1e-5)
    assert not mod.MovingMean.requires_grad
    assert [p for p in mod.array_parameters()["MovingMean"]] == []


def test_batchnorm_initialization_and_extraction():
    net = NetInitialize(BatchNormalizationLayer(Input=(2, 3)))
    np.testing.assert_array_equal(NetExtract(net, "Scaling"), [1, 1])
    np.testing.assert_array_equal(NetExtract(net, "Biases"), [0, 0])
    np.testing.assert_array_equal(NetExtract(net, "MovingMean"), [0, 0])
    np.testing.assert_array_equal(NetExtract(net, "MovingVariance"), [1, 1])
    chain = NetInitialize(NetChain([LinearLayer(3), BatchNormalizationLayer()], Input=2))
    assert NetExtract(chain, (2, "MovingVariance")).shape == (3,)


def test_batchnorm_old_array_names_and_channels_from_arrays():
    net = BatchNormalizationLayer(Gamma=[1.0, 2.0], Beta=[0.0, 1.0])
    np.testing.assert_array_equal(NetExtract(net, "Scaling"), [1, 2])
    g = NetGraph([net], Input=(Automatic, 4))
    assert Information(g, "InputPorts") == {"Input": (2, 4)}


def test_batchnorm_infers_backwards_and_repr():
    assert Information(BatchNormalizationLayer(Output=(2, 3)), "InputPorts") == {"Input": (2, 3)}
    assert repr(BatchNormalizationLayer()).startswith("BatchNormalizationLayer()")
    assert repr(BatchNormalizationLayer(Momentum=0.5, Interleaving=True)).startswith(
        "BatchNormalizationLayer(Momentum=0.5, Interleaving=True)")


@pytest.mark.parametrize("opts, match", [
    ({"Input": "Real"}, 'port "Input" expects an array of rank at least 1, but received a real'),
    ({"Input": ("Varying", 3)}, 'port "Input" expects a fixed number of channels in its first '
     "dimension, but received a sequence of vectors of size 3"),
    ({"Input": (3, "Varying"), "Interleaving": True}, 'port "Input" .* last dimension'),
    ({"Input": (3, 4), "Scaling": [1.0, 2.0]},
     r'port "Input" expects 2 channels \(the length of its arrays\) in its first dimension, but '
     "received a 3.4 matrix"),
])
def test_batchnorm_shape_errors(opts, match):
    with pytest.raises(ShapeError, match="BatchNormalizationLayer: " + match):
        BatchNormalizationLayer(**opts)


@pytest.mark.parametrize("opts, match", [
    ({"Epsilon": 0}, "expected Epsilon to be a number > 0"),
    ({"Momentum": 1.5}, "expected Momentum to be a number >= 0 and <= 1"),
    ({"Interleaving": "yes"}, "expected Interleaving to be True or False"),
    ({"Scaling": [1.0], "Biases": [1.0, 2.0]}, "expected the arrays to have one length"),
    ({"Scaling": [[1.0]]}, 'expected array "Scaling" to be a vector'),
    ({"Biases": None}, 'array "Biases" cannot be None'),
])
def test_batchnorm_parameter_errors(opts, match):
    with pytest.raises(LayerError, match="BatchNormalizationLayer: " + match):
        BatchNormalizationLayer(**opts)


def test_batchnorm_unknown_option():
    with pytest.raises(OptionError, match="BatchNormalizationLayer: unknown option Epsilom"):
        BatchNormalizationLayer(Epsilom=0.1)


# -- NormalizationLayer ---------------------------------------------------------------------

def norm_reference(x, axes, eps=1e-3, correction=0):
    t = torch.tensor(x)
    var, mean = torch.var_mean(t, dim=axes, correction=correction, keepdim=True)
    return (t - mean) / torch.sqrt(var + eps)


def test_normalization_default_is_instance_normalization():
    s, b = rand(2), rand(2)
    net = NormalizationLayer(Input=(2, 3, 4), Scaling=s, Biases=b)
    xs = rand(3, 2, 3, 4)
    want = norm_reference(xs, (2, 3)) * torch.tensor(s).reshape(1, 2, 1, 1) \
        + torch.tensor(b).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(net(xs), want.numpy(), rtol=1e-5, atol=1e-5)
    check_batch(net, xs)


def test_normalization_layer_norm_matches_torch():
    s, b = rand(5), rand(5)
    net = NormalizationLayer(-1, "Same", Input=("Varying", 5), Scaling=s, Biases=b)
    x = rand(4, 5)
    want = F.layer_norm(torch.tensor(x), (5,), torch.tensor(s), torch.tensor(b), eps=1e-3)
    np.testing.assert_allclose(net(x), want.numpy(), rtol=1e-5, atol=1e-5)
    check_batch(net, [rand(3, 5), rand(2, 5), rand(3, 5)])


@pytest.mark.parametrize("agg", [slice(2, None), "2;;All", "2;;", [2, 3], slice(2, 3), -2])
def test_normalization_level_spellings(agg):
    xs = rand(2, 2, 3, 4)
    net = NetInitialize(NormalizationLayer(agg, Input=(2, 3, 4)))
    axes = (2,) if agg == -2 else (2, 3)
    np.testing.assert_allclose(net(xs), norm_reference(xs, axes).numpy(), rtol=1e-5, atol=1e-5)


def test_normalization_scaling_levels_shapes():
    assert NormalizationLayer(Input=(2, 3, 4)).array_specs()["Scaling"].shape == (2,)
    assert NormalizationLayer(1, Input=(2, 3, 4)).array_specs()["Biases"].shape == (3, 4)
    assert NormalizationLayer(slice(1, 2), "Same", Input=(2, 3)).array_specs()[
        "Scaling"].shape == (2, 3)
    assert NormalizationLayer(All, [1], Input=(2, 3)).array_specs()["Scaling"].shape == (2,)


def test_normalization_scaling_on_two_levels():
    s, b = rand(3, 4), rand(3, 4)
    net = NormalizationLayer(1, Input=(2, 3, 4), Scaling=s, Biases=b)
    xs = rand(2, 2, 3, 4)
    want = norm_reference(xs, (1,)) * torch.tensor(s) + torch.tensor(b)
    np.testing.assert_allclose(net(xs), want.numpy(), rtol=1e-5, atol=1e-5)


def test_normalization_rms_unbiased_and_disabled_arrays():
    xs = rand(2, 3, 4)
    net = NormalizationLayer(-1, "Same", Method="RMS", Scaling=None, Biases=None, Input=(3, 4))
    assert net.array_specs() == {} and net.is_initialized()
    t = torch.tensor(xs)
    want = t / torch.sqrt((t * t).mean(dim=-1, keepdim=True) + 1e-3)
    np.testing.assert_allclose(net(xs), want.numpy(), rtol=1e-5, atol=1e-6)
    net = NormalizationLayer(-1, "Same", Unbiased=True, Epsilon=0.1, Scaling=None, Biases=None,
                             Input=(3, 4))
    want = norm_reference(xs, (2,), eps=0.1, correction=1)
    np.testing.assert_allclose(net(xs), want.numpy(), rtol=1e-5, atol=1e-6)


def test_normalization_repr_and_backward_inference():
    assert repr(NormalizationLayer()).startswith("NormalizationLayer()")
    assert repr(NormalizationLayer(-1, "Same")).startswith('NormalizationLayer(-1, "Same")')
    assert Information(NormalizationLayer(Output=(2, 3)), "InputPorts") == {"Input": (2, 3)}


def test_normalization_rank_error():
    with pytest.raises(ShapeError, match=r'NormalizationLayer: port "Input" expects an array '
                       r"whose rank fits the aggregation levels \(the levels 2;;All exceed the "
                       r"rank of the input \(1\)\), but received a vector of size 3"):
        NormalizationLayer(Input=3)


def test_normalization_varying_scaling_level_error():
    with pytest.raises(ShapeError, match="Scaling and Biases cannot have a varying length"):
        NormalizationLayer(Input=("Varying", 5, 5))


@pytest.mark.parametrize("args, opts, match", [
    ((0,), {}, "expected the aggregation levels to be a nonzero level"),
    (("x",), {}, "expected the aggregation levels"),
    ((1, "Other"), {}, "expected the scaling levels"),
    ((), {"Method": "L1"}, 'expected Method to be "Standardize" or "RMS"'),
    ((), {"Epsilon": -1}, "expected Epsilon to be a number > 0"),
    ((), {"Unbiased": 1}, "expected Unbiased to be True or False"),
])
def test_normalization_parameter_errors(args, opts, match):
    with pytest.raises(LayerError, match="NormalizationLayer: " + match):
        NormalizationLayer(*args, **opts)
