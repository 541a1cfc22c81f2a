"""NetPortGradient (runtime/gradients.py): gradients at input ports and of learned arrays,
checked against finite differences and hand-written torch; batch == one at a time."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403

R64 = {"WorkingPrecision": "Real64"}
RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 4))


def mlp():
    return NetInitialize(NetChain([LinearLayer(3), Tanh, LinearLayer(2)], Input=4))


# An array passes through float32 on its way into a module (its stored type), so finite
# differences in an array use a larger step and tolerance than those in an input.
AFD = {"rtol": 1e-3, "atol": 1e-4}


def fd(f, x, eps=1e-6):
    """Central finite differences of the scalar f at x."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


def test_input_gradient_is_the_gradient_of_the_sum_of_the_outputs():
    net = mlp()
    grad = net(X[0], NetPortGradient("Input"), **R64)
    np.testing.assert_allclose(grad, fd(lambda x: net(x, **R64).sum(), X[0]), rtol=1e-6,
                               atol=1e-8)
    assert grad.shape == (4,)


def test_batch_equals_one_at_a_time():
    net = mlp()
    batch = net(X, NetPortGradient("Input"), **R64)
    assert batch.shape == (5, 4)
    for i in range(5):
        np.testing.assert_allclose(batch[i], net(X[i], NetPortGradient("Input"), **R64),
                                   rtol=1e-10)
    w = net(X, NetPortGradient((1, "Weights")), **R64)  # arrays: summed over the batch
    one = sum(net(X[i], NetPortGradient((1, "Weights")), **R64) for i in range(5))
    np.testing.assert_allclose(w, one, rtol=1e-10)


def test_array_gradient_against_finite_differences():
    net = mlp()
    w = NetExtract(net, (3, "Weights")).astype(np.float64)
    grad = net(X[:2], NetPortGradient((3, "Weights")), **R64)

    def f(m):
        return net_with(net, (3, "Weights"), m)(X[:2], **R64).sum()
    np.testing.assert_allclose(grad, fd(f, w, 1e-3), **AFD)
    b = net(X[:2], NetPortGradient([1, "Biases"]), **R64)
    np.testing.assert_allclose(b, fd(lambda v: net_with(net, (1, "Biases"), v)(X[:2], **R64)
                                     .sum(), NetExtract(net, (1, "Biases")), 1e-3), **AFD)


def net_with(net, part, value):
    return NetReplacePart(net, (part, value))


def test_output_gradient_gives_a_vector_jacobian_product():
    net = mlp()
    seed = np.array([0.5, -2.0])
    got = net({"Input": X[0], NetPortGradient("Output"): seed}, NetPortGradient("Input"), **R64)
    np.testing.assert_allclose(got, fd(lambda x: net(x, **R64) @ seed, X[0]), rtol=1e-6,
                               atol=1e-8)
    seeds = RNG.normal(size=(5, 2))
    batch = net({"Input": X, NetPortGradient("Output"): seeds}, NetPortGradient("Input"), **R64)
    np.testing.assert_allclose(batch[3], net({"Input": X[3], NetPortGradient("Output"):
                                              seeds[3]}, NetPortGradient("Input"), **R64),
                               rtol=1e-10)


def test_standalone_layer_all_and_lists():
    layer = NetInitialize(LinearLayer(2, Input=3))
    x = np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(layer(x, NetPortGradient("Weights")), np.tile(x, (2, 1)))
    np.testing.assert_allclose(layer(x, NetPortGradient("Biases")), [1.0, 1.0])
    np.testing.assert_allclose(layer(x, NetPortGradient("Input")),
                               NetExtract(layer, "Weights").sum(0), rtol=1e-6)
    everything = layer(x, NetPortGradient(All))
    assert list(everything) == [NetPortGradient("Input"), NetPortGradient("Weights"),
                                NetPortGradient("Biases")]
    both = layer(x, ["Output", NetPortGradient("Input")])
    np.testing.assert_allclose(both["Output"], layer(x), rtol=1e-6)
    t = layer(torch.tensor(x, dtype=torch.float32), NetPortGradient("Input"))
    assert isinstance(t, torch.Tensor)


def test_lstm_gradients_against_torch():
    net = NetInitialize(NetChain([LongShortTermMemoryLayer(3), SequenceLastLayer(),
                                  LinearLayer(1)], Input=(4, 2)))
    x = RNG.normal(size=(4, 2))
    got = net(x, NetPortGradient(All), **R64)
    want = fd(lambda v: float(np.sum(net(v, **R64))), x)
    np.testing.assert_allclose(got[NetPortGradient("Input")], want, rtol=1e-5, atol=1e-7)
    gates = NetExtract(net, (1, "ForgetGateStateWeights")).astype(np.float64)
    want = fd(lambda m: float(np.sum(net_with(net, (1, "ForgetGateStateWeights"), m)(x, **R64))),
              gates, 1e-3)
    np.testing.assert_allclose(got[NetPortGradient((1, "ForgetGateStateWeights"))], want, **AFD)
    bias = NetExtract(net, (1, "InputGateBiases")).astype(np.float64)
    want = fd(lambda b: float(np.sum(net_with(net, (1, "InputGateBiases"), b)(x, **R64))), bias,
              1e-3)
    np.testing.assert_allclose(got[NetPortGradient((1, "InputGateBiases"))], want, **AFD)


def test_shared_array_gradient_is_summed_over_its_uses():
    w = NetArray("W")
    net = NetInitialize(NetChain([LinearLayer(3, Weights=w, Input=3), Tanh,
                                  LinearLayer(3, Weights=w)]))
    x = RNG.normal(size=3)
    got = net(x, NetPortGradient(NetArray("W")), **R64)
    want = fd(lambda m: net_with(net, (NetArray("W")), m)(x, **R64).sum(),
              NetExtract(net, NetArray("W")), 1e-3)
    np.testing.assert_allclose(got, want, **AFD)
    np.testing.assert_allclose(net(x, NetPortGradient((3, "Weights")), **R64), got)
    assert NetPortGradient(NetArray("W")) in net(x, NetPortGradient(All))


def test_errors():
    net = mlp()
    with pytest.raises(EvaluationError, match=r'NetPortGradient\(\(2, "Weights"\)\) does not '
                       "correspond to an input or an array of the net"):
        net(X[0], NetPortGradient((2, "Weights")))
    with pytest.raises(EvaluationError, match="has no layer 7"):
        net(X[0], NetPortGradient((7, "Weights")))
    with pytest.raises(EvaluationError, match='the gradient given for output port "Output" has '
                       r"dimensions \[3\], but the port gives \[2\]"):
        net({"Input": X[0], NetPortGradient("Output"): [1, 2, 3]}, NetPortGradient("Input"))
    with pytest.raises(EvaluationError, match="must name an output port of the net"):
        net({"Input": X[0], NetPortGradient("Nope"): [1, 2]}, NetPortGradient("Input"))
    with pytest.raises(EvaluationError, match="need a gradient to compute"):
        net({"Input": X[0], NetPortGradient("Output"): [1, 2]})
    emb = NetInitialize(NetChain([EmbeddingLayer(2, 5), LinearLayer(1)], Input=3))
    with pytest.raises(EvaluationError, match='not available for the integer-valued input port '
                       '"Input"'):
        emb([1, 2, 3], NetPortGradient("Input"))
    assert emb([1, 2, 3], NetPortGradient((1, "Weights"))).shape == (5, 2)
    bn = NetInitialize(NetChain([BatchNormalizationLayer()], Input=3))
    with pytest.raises(EvaluationError, match='auxiliary array "MovingMean"'):
        bn([1.0, 2.0, 3.0], NetPortGradient((1, "MovingMean")))
    assert NetPortGradient((1, "MovingMean")) not in bn([1.0, 2, 3], NetPortGradient(All))
    with pytest.raises(ConnectionError_, match="expected a port name, a path"):
        NetPortGradient(3)
    with pytest.raises(OptionError, match="BatchSize"):
        net(X, NetPortGradient("Input"), BatchSize=2)
    with pytest.raises(EvaluationError, match="no shared array 'V'"):
        net(X[0], NetPortGradient(NetArray("V")))


def test_sequences_of_several_lengths_one_example_at_a_time():
    net = NetInitialize(NetChain([GatedRecurrentLayer(2), SequenceLastLayer(), LinearLayer(1)],
                                 Input=("Varying", 2)))
    xs = [RNG.normal(size=(3, 2)), RNG.normal(size=(5, 2))]
    got = net(xs, NetPortGradient(All))
    for i, x in enumerate(xs):
        np.testing.assert_allclose(got[NetPortGradient("Input")][i],
                                   net(x, NetPortGradient("Input")), rtol=1e-5)
    w = NetPortGradient((3, "Weights"))
    np.testing.assert_allclose(got[w], sum(net(x, w) for x in xs), rtol=1e-5)
    both = net(xs, ["Output", w])
    assert len(both["Output"]) == 2 and both[w].shape == (1, 2)


def test_dropout_is_off_unless_train_mode_is_asked():
    net = NetInitialize(NetChain([LinearLayer(50), DropoutLayer(0.5), LinearLayer(1)], Input=3))
    x = np.ones(3)
    a = net(x, NetPortGradient("Input"))
    np.testing.assert_allclose(a, net(x, NetPortGradient("Input")))
    b = net(x, NetPortGradient("Input"), NetEvaluationMode="Train")
    assert not np.allclose(a, b)
