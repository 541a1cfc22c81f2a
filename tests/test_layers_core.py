"""The core layers against hand-written torch on the same weights, and batch evaluation
against one-at-a-time evaluation."""
import math

import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.symbols import ELEMENTWISE

RNG = np.random.default_rng(3)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def T(a):
    return torch.tensor(np.asarray(a, dtype=np.float32))


def check_batch(net, data, port=None):
    """net(batch) equals [net(example) for each example]; data is an array or a dict."""
    if isinstance(data, dict):
        n = len(next(iter(data.values())))
        batch = net(data) if port is None else net(data, port)
        singles = [net({k: v[i] for k, v in data.items()}) if port is None
                   else net({k: v[i] for k, v in data.items()}, port) for i in range(n)]
    else:
        batch, singles = net(data), [net(x) for x in data]
    if isinstance(batch, dict):
        for k in batch:
            for i, s in enumerate(singles):
                np.testing.assert_allclose(batch[k][i], s[k], rtol=1e-5, atol=1e-6)
    else:
        for i, s in enumerate(singles):
            np.testing.assert_allclose(batch[i], s, rtol=1e-5, atol=1e-6)


# -- LinearLayer ----------------------------------------------------------------------------

def linear_ref(net, x):
    w, b = T(NetExtract(net, "Weights")), T(NetExtract(net, "Biases"))
    return (T(x).reshape(len(x), -1) @ w.T + b).numpy()


def test_linear_vector():
    net = NetInitialize(LinearLayer(3, Input=2))
    assert NetExtract(net, "Weights").shape == (3, 2)
    xs = rand(4, 2)
    np.testing.assert_allclose(net(xs), linear_ref(net, xs), rtol=1e-5, atol=1e-6)
    check_batch(net, xs)


def test_linear_scalar_output():
    net = NetInitialize(LinearLayer("Real", Input=3))
    assert NetExtract(net, "Weights").shape == (1, 3)
    xs = rand(4, 3)
    one = net(xs[0])
    assert isinstance(one, float)
    np.testing.assert_allclose(net(xs), linear_ref(net, xs)[:, 0], rtol=1e-5, atol=1e-6)
    check_batch(net, xs)


def test_linear_matrix_output():
    net = NetInitialize(LinearLayer((2, 3), Input=4))
    assert NetExtract(net, "Weights").shape == (6, 4)
    xs = rand(3, 4)
    np.testing.assert_allclose(net(xs), linear_ref(net, xs).reshape(3, 2, 3), rtol=1e-5,
                               atol=1e-6)
    check_batch(net, xs)


def test_linear_scalar_input():
    net = NetInitialize(LinearLayer(2, Input="Real"))
    assert NetExtract(net, "Weights").shape == (2, 1)
    xs = rand(5)
    np.testing.assert_allclose(net(xs), linear_ref(net, xs[:, None]), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net(float(xs[0])), linear_ref(net, xs[:1, None])[0], rtol=1e-5)
    check_batch(net, xs)


def test_linear_without_biases_and_with_given_weights():
    w = rand(2, 3)
    net = LinearLayer(2, Weights=w, Biases=None, Input=3)
    assert net.is_initialized() and list(net.arrays) == ["Weights"]
    x = rand(3)
    np.testing.assert_allclose(net(x), w @ x, rtol=1e-5, atol=1e-6)


def test_linear_infers_its_size_from_the_output():
    g = NetInitialize(NetChain([LinearLayer(), Tanh], Input=3, Output=2))
    assert NetExtract(g, (1, "Weights")).shape == (2, 3)


@pytest.mark.parametrize("n", [0, -2, "x", 2.5, (2, 0)])
def test_linear_bad_size(n):
    with pytest.raises(NetGraphError, match="LinearLayer"):
        LinearLayer(n)


# -- ElementwiseLayer -----------------------------------------------------------------------

def _erf(x):
    return np.vectorize(math.erf)(x)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


ELEMENTWISE_REF = {   # WL's definitions (ElementwiseLayer reference page)
    "Ramp": lambda x: np.maximum(x, 0), "Tanh": np.tanh, "LogisticSigmoid": _sigmoid,
    "Sin": np.sin, "Cos": np.cos, "Exp": np.exp, "Log": np.log, "Sqrt": np.sqrt,
    "Abs": np.abs, "Sign": np.sign, "Square": np.square, "Erf": _erf,
    "SoftRamp": lambda x: np.log(1 + np.exp(x)),
    "ELU": lambda x: np.where(x >= 0, x, np.exp(x) - 1),
    "SELU": lambda x: np.where(x >= 0, 1.0507009873554805 * x,
                               1.758099340847161 * (np.exp(x) - 1)),
    "GELU": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
    "Swish": lambda x: x * _sigmoid(x), "HardTanh": lambda x: np.clip(x, -1, 1),
    "HardSigmoid": lambda x: np.clip((x + 1) / 2, 0, 1), "Identity": lambda x: x,
}


def test_every_elementwise_function_has_a_reference():
    assert {s.name for s in ELEMENTWISE} == set(ELEMENTWISE_REF)


@pytest.mark.parametrize("name", sorted(ELEMENTWISE_REF))
def test_elementwise_functions(name):
    xs = rand(3, 5) * 2
    if name in ("Log", "Sqrt"):
        xs = np.abs(xs) + 0.1
    net = ElementwiseLayer(name, Input=5)
    np.testing.assert_allclose(net(xs), ELEMENTWISE_REF[name](xs.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)
    check_batch(net, xs)


def test_elementwise_symbol_and_callable():
    xs = rand(2, 3, 4)
    np.testing.assert_allclose(ElementwiseLayer(Tanh, Input=(3, 4))(xs), np.tanh(xs),
                               rtol=1e-6)
    net = ElementwiseLayer(lambda t: t * t + 1, Input=(3, 4))
    np.testing.assert_allclose(net(xs), xs * xs + 1, rtol=1e-6)
    check_batch(net, xs)
    chain = NetChain([LinearLayer(3), Ramp], Input=2)
    assert isinstance(chain[2], ElementwiseLayer)


def test_elementwise_errors():
    with pytest.raises(LayerError, match="ElementwiseLayer: unknown function Foo"):
        ElementwiseLayer("Foo")
    with pytest.raises(LayerError, match="ElementwiseLayer: expected a function"):
        ElementwiseLayer(3)


# -- ThreadingLayer -------------------------------------------------------------------------

THREADING_REF = {
    "Plus": lambda *xs: sum(xs), "Times": lambda *xs: math.prod(xs),
    "Subtract": lambda a, b: a - b, "Divide": lambda a, b: a / b,
    "Max": lambda *xs: np.maximum.reduce(xs), "Min": lambda *xs: np.minimum.reduce(xs),
}


@pytest.mark.parametrize("name", sorted(THREADING_REF))
def test_threading_functions(name):
    n = 2 if name in ("Subtract", "Divide") else 3
    ports = {f"Input{i}": 4 for i in range(1, n + 1)}
    net = ThreadingLayer(name, InputPorts=n, **ports)
    data = {p: rand(3, 4) + (3 if name == "Divide" else 0) for p in ports}
    want = THREADING_REF[name](*(data[p] for p in ports))
    np.testing.assert_allclose(net(data), want, rtol=1e-5, atol=1e-6)
    check_batch(net, data)


def test_threading_callable_in_a_graph():
    g = NetGraph([ThreadingLayer(lambda a, b: a * torch.sin(b))],
                 [([NetPort("a"), NetPort("b")], 1)], a=3, b=3)
    data = {"a": rand(2, 3), "b": rand(2, 3)}
    np.testing.assert_allclose(g(data), data["a"] * np.sin(data["b"]), rtol=1e-5, atol=1e-6)
    check_batch(g, data)


def test_threading_errors():
    with pytest.raises(LayerError, match="ThreadingLayer: unknown function Foo"):
        ThreadingLayer("Foo")
    with pytest.raises(ShapeError, match="ThreadingLayer"):
        ThreadingLayer(Plus, InputPorts=2, Input1=3, Input2=4)
    with pytest.raises(LayerError, match="ThreadingLayer: Subtract takes exactly 2 inputs, but "
                       "received 3"):
        ThreadingLayer(Subtract, InputPorts=3)
    with pytest.raises(ShapeError, match=r'NetGraph: NetPort\(1, "Input3"\) of ThreadingLayer '
                       r"expects no input \(Divide takes exactly 2 inputs\), but it receives 3 "
                       "inputs"):
        NetGraph([ThreadingLayer(Divide)], [([NetPort("a"), NetPort("b"), NetPort("c")], 1)])


# -- SoftmaxLayer ---------------------------------------------------------------------------

def test_softmax():
    xs = rand(3, 5)
    net = SoftmaxLayer(Input=5)
    np.testing.assert_allclose(net(xs), torch.softmax(T(xs), -1).numpy(), rtol=1e-5,
                               atol=1e-7)
    check_batch(net, xs)
    ms = rand(2, 3, 4)
    np.testing.assert_allclose(SoftmaxLayer(1, Input=(3, 4))(ms),
                               torch.softmax(T(ms), 1).numpy(), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(SoftmaxLayer(Input=(3, 4))(ms),
                               torch.softmax(T(ms), 2).numpy(), rtol=1e-5, atol=1e-7)


def test_softmax_errors():
    with pytest.raises(LayerError, match="SoftmaxLayer: expected a nonzero level"):
        SoftmaxLayer(0)
    with pytest.raises(ShapeError, match='SoftmaxLayer: port "Input" expects an array of rank '
                       "at least 1, but received a real number"):
        SoftmaxLayer(Input="Real")
    with pytest.raises(ShapeError, match=r'SoftmaxLayer: port "Input" expects an array of rank '
                       "at least 3"):
        SoftmaxLayer(3, Input=(2, 2))


# -- Sequence layers ------------------------------------------------------------------------

SEQUENCE_REF = {
    SequenceLastLayer: lambda s: s[-1], SequenceMostLayer: lambda s: s[:-1],
    SequenceRestLayer: lambda s: s[1:], SequenceReverseLayer: lambda s: s[::-1],
}


@pytest.mark.parametrize("cls", list(SEQUENCE_REF), ids=lambda c: c.__name__)
def test_sequence_layers(cls):
    net = cls(Input=("Varying", 2))
    s = rand(4, 2)
    np.testing.assert_allclose(net(s), SEQUENCE_REF[cls](s))
    check_batch(net, rand(3, 4, 2))
    ragged = [rand(3, 2), rand(5, 2), rand(3, 2)]
    for x, o in zip(ragged, net(ragged), strict=True):
        np.testing.assert_allclose(o, SEQUENCE_REF[cls](x))


def test_sequence_layers_on_integers_and_fixed_lengths():
    net = SequenceLastLayer(Input=("Varying", Restricted("Integer", 5)))
    assert Information(net, "OutputPorts") == {"Output": Restricted("Integer", 5)}
    assert Information(SequenceMostLayer(Input=(4, 3)), "OutputPorts") == {"Output": (3, 3)}
    assert Information(SequenceReverseLayer(Output=(4, 3)), "InputPorts") == {"Input": (4, 3)}
    with pytest.raises(ShapeError, match='SequenceRestLayer: port "Input" expects a sequence of '
                       "at least 2 elements"):
        SequenceRestLayer(Input=(1, 3))
    with pytest.raises(ShapeError, match='SequenceLastLayer: port "Input" expects a sequence'):
        SequenceLastLayer(Input="Real")


# -- Recurrent layers: WL's equations as step loops -----------------------------------------

def arrays_of(net):
    return {k: T(v) for k, v in net.arrays.items()}


def lstm_ref(a, xs, s, c):
    def gate(g, x, s):
        return x @ a[f"{g}GateInputWeights"].T + s @ a[f"{g}GateStateWeights"].T \
            + a[f"{g}GateBiases"]
    out = []
    for x in xs:                                            # one time step
        i, f, o = (torch.sigmoid(gate(g, x, s)) for g in ("Input", "Forget", "Output"))
        m = torch.tanh(gate("Memory", x, s))
        c = f * c + i * m
        s = o * torch.tanh(c)
        out.append(s)
    return torch.stack(out), s, c


def gru_ref(a, xs, s):
    def lin(g, x):
        return x @ a[f"{g}GateInputWeights"].T + a[f"{g}GateBiases"]
    out = []
    for x in xs:
        i = torch.sigmoid(lin("Input", x) + s @ a["InputGateStateWeights"].T)
        r = torch.sigmoid(lin("Reset", x) + s @ a["ResetGateStateWeights"].T)
        m = torch.tanh(lin("Memory", x) + r * (s @ a["MemoryGateStateWeights"].T))
        s = (1 - i) * m + i * s
        out.append(s)
    return torch.stack(out), s


def basic_ref(a, xs, s):
    out = []
    for x in xs:
        s = torch.tanh(x @ a["InputWeights"].T + s @ a["StateWeights"].T + a["Biases"])
        out.append(s)
    return torch.stack(out), s


def state_graph(layer, states):
    """layer with each state fed from a graph input "<S>In" and read as "<S>Out"."""
    conns = [(NetPort(f"{s}In"), NetPort(1, s)) for s in states]
    conns += [(NetPort(1, s), NetPort(f"{s}Out")) for s in states]
    return NetInitialize(NetGraph([layer], conns, Input=("Varying", 2)))


def test_lstm_equations_with_initial_and_final_states():
    g = state_graph(LongShortTermMemoryLayer(3), ("State", "CellState"))
    a = arrays_of(g[1])
    assert set(a) == {f"{gate}Gate{w}" for gate in ("Input", "Forget", "Output", "Memory")
                      for w in ("InputWeights", "StateWeights", "Biases")}
    xs, s0, c0 = rand(4, 2), rand(3), rand(3)
    out = g({"Input": xs, "StateIn": s0, "CellStateIn": c0})
    y, s, c = lstm_ref(a, T(xs), T(s0), T(c0))
    np.testing.assert_allclose(out["Output"], y.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["StateOut"], s.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["CellStateOut"], c.numpy(), rtol=1e-5, atol=1e-6)
    check_batch(g, {"Input": rand(3, 4, 2), "StateIn": rand(3, 3), "CellStateIn": rand(3, 3)})


def test_lstm_states_default_to_zero():
    net = NetInitialize(LongShortTermMemoryLayer(2, Input=("Varying", 3)))
    xs = rand(5, 3)
    y, _, _ = lstm_ref(arrays_of(net), T(xs), torch.zeros(2), torch.zeros(2))
    np.testing.assert_allclose(net(xs), y.numpy(), rtol=1e-5, atol=1e-6)
    ragged = [rand(3, 3), rand(5, 3), rand(2, 3)]
    for x, o in zip(ragged, net(ragged), strict=True):
        np.testing.assert_allclose(o, net(x), rtol=1e-5, atol=1e-6)


def test_gru_equations_with_initial_and_final_state():
    g = state_graph(GatedRecurrentLayer(3), ("State",))
    a = arrays_of(g[1])
    assert set(a) == {f"{gate}Gate{w}" for gate in ("Input", "Reset", "Memory")
                      for w in ("InputWeights", "StateWeights", "Biases")}
    xs, s0 = rand(4, 2), rand(3)
    out = g({"Input": xs, "StateIn": s0})
    y, s = gru_ref(a, T(xs), T(s0))
    np.testing.assert_allclose(out["Output"], y.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["StateOut"], s.numpy(), rtol=1e-5, atol=1e-6)
    check_batch(g, {"Input": rand(3, 4, 2), "StateIn": rand(3, 3)})


def test_basic_recurrent_equations_with_initial_and_final_state():
    g = state_graph(BasicRecurrentLayer(3), ("State",))
    a = arrays_of(g[1])
    assert set(a) == {"InputWeights", "StateWeights", "Biases"}
    xs, s0 = rand(4, 2), rand(3)
    out = g({"Input": xs, "StateIn": s0})
    y, s = basic_ref(a, T(xs), T(s0))
    np.testing.assert_allclose(out["Output"], y.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["StateOut"], s.numpy(), rtol=1e-5, atol=1e-6)
    check_batch(g, {"Input": rand(3, 4, 2), "StateIn": rand(3, 3)})


def test_recurrent_given_arrays_and_nonzero_biases():
    n, k = 2, 3
    a = {"InputWeights": rand(n, k), "StateWeights": rand(n, n), "Biases": rand(n)}
    net = BasicRecurrentLayer(n, Input=("Varying", k), **a)
    xs = rand(4, k)
    y, _ = basic_ref({q: T(v) for q, v in a.items()}, T(xs), torch.zeros(n))
    np.testing.assert_allclose(net(xs), y.numpy(), rtol=1e-5, atol=1e-6)


def test_recurrent_errors():
    with pytest.raises(LayerError, match="LongShortTermMemoryLayer: expected the state size n "
                       "to be a positive integer"):
        LongShortTermMemoryLayer(0)
    with pytest.raises(ShapeError, match='GatedRecurrentLayer: port "Input" expects a sequence '
                       "of vectors"):
        GatedRecurrentLayer(2, Input=3)


# -- Loss layers ----------------------------------------------------------------------------

def test_mean_squared_and_mean_absolute_loss():
    x, t = rand(4, 2, 3), rand(4, 2, 3)
    for layer, f in ((MeanSquaredLossLayer, np.square), (MeanAbsoluteLossLayer, np.abs)):
        net = layer(Input=(2, 3))
        np.testing.assert_allclose(net({"Input": x, "Target": t}),
                                   f(x - t).reshape(4, -1).mean(1), rtol=1e-5)
        assert isinstance(net({"Input": x[0], "Target": t[0]}), float)
        check_batch(net, {"Input": x, "Target": t})


def test_cross_entropy_index_with_one_based_targets():
    p = torch.softmax(T(rand(4, 5)), -1).numpy()
    t = np.array([1, 5, 3, 2])
    net = CrossEntropyLossLayer("Index", Input=5)
    np.testing.assert_allclose(net({"Input": p, "Target": t}),
                               -np.log(p[np.arange(4), t - 1]), rtol=1e-5)
    check_batch(net, {"Input": p, "Target": t})
    seq = torch.softmax(T(rand(2, 3, 4)), -1).numpy()
    ts = np.array([[1, 2, 4], [4, 4, 1]])
    want = -np.log(np.take_along_axis(seq, ts[..., None] - 1, -1)[..., 0]).mean(1)
    net = CrossEntropyLossLayer("Index", Input=("Varying", 4))
    np.testing.assert_allclose(net({"Input": seq, "Target": ts}), want, rtol=1e-5)
    assert Information(net, "InputPorts")["Target"] == ("Varying", Restricted("Integer", 4))


def test_cross_entropy_probabilities_and_binary():
    p = torch.softmax(T(rand(3, 4)), -1).numpy()
    q = torch.softmax(T(rand(3, 4)), -1).numpy()
    net = CrossEntropyLossLayer("Probabilities", Input=4)
    np.testing.assert_allclose(net({"Input": p, "Target": q}), -(q * np.log(p)).sum(1),
                               rtol=1e-5)
    check_batch(net, {"Input": p, "Target": q})
    x = 1 / (1 + np.exp(-rand(3, 2)))
    t = (rand(3, 2) > 0).astype(np.float32)
    net = CrossEntropyLossLayer("Binary", Input=2)
    want = -(t * np.log(x) + (1 - t) * np.log(1 - x)).mean(1)
    np.testing.assert_allclose(net({"Input": x, "Target": t}), want, rtol=1e-5)
    check_batch(net, {"Input": x, "Target": t})


def test_contrastive_loss_as_wl():
    # WL: Target True -> the distance should be maximized: loss max(margin - x, 0);
    # False -> minimized: loss x. The margin defaults to 0.5.
    x = np.array([0.2, 0.9, 0.3, 0.7], np.float32)
    t = np.array([1, 1, 0, 0], np.float32)
    net = ContrastiveLossLayer(Input="Real")
    np.testing.assert_allclose(net({"Input": x, "Target": t}), [0.3, 0.0, 0.3, 0.7], rtol=1e-5,
                               atol=1e-7)
    net = ContrastiveLossLayer(1.0, Input="Real")
    np.testing.assert_allclose(net({"Input": x, "Target": t}), [0.8, 0.1, 0.3, 0.7], rtol=1e-5)
    check_batch(net, {"Input": x, "Target": t})


def test_loss_errors():
    with pytest.raises(LayerError, match='CrossEntropyLossLayer: expected "Index"'):
        CrossEntropyLossLayer("Hinge")
    with pytest.raises(LayerError, match="ContrastiveLossLayer: expected a nonnegative margin"):
        ContrastiveLossLayer(-1)
    with pytest.raises(ShapeError, match='MeanSquaredLossLayer: port "Target" expects a vector '
                       "of size 3, but received a vector of size 4"):
        MeanSquaredLossLayer(Input=3, Target=4)
    with pytest.raises(ShapeError, match='CrossEntropyLossLayer: port "Input" expects a vector '
                       "of class probabilities"):
        CrossEntropyLossLayer("Index", Input="Real")
