"""The fast paths of convolutional nets: 2-D convolutions and poolings channels-last on the CPU
(backend/conv.py) and max pooling moved before the Ramp it reads (backend/plan.py). Values
and gradients equal hand-written torch in the default layout with Ramp then pooling, ties
included (integer inputs and weights: every sum is exact, so equal means bit for bit)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from netgraph import *  # noqa: F403
from netgraph.backend.conv import channels_last
from netgraph.backend.lower import lower

RNG = np.random.default_rng(0)
W1 = RNG.integers(-1, 2, (4, 2, 3, 3)).astype(np.float32)
W2 = RNG.integers(-1, 2, (3, 4, 3, 3)).astype(np.float32)
X = RNG.integers(-2, 3, (5, 2, 14, 14)).astype(np.float32)      # many equal values


def net():
    """Conv, Ramp, pool, twice (the second pooling padded), then flattened."""
    return NetInitialize(NetChain([
        ConvolutionLayer(4, 3, Weights=W1, Biases=np.zeros(4, np.float32)), Ramp,
        PoolingLayer(2, 2),
        ConvolutionLayer(3, 3, Weights=W2, Biases=np.ones(3, np.float32)), Ramp,
        PoolingLayer(3, 2, PaddingSize=1), FlattenLayer()], Input=(2, 14, 14)))


def hand(x, w1, w2, b1=None, b2=None):
    """The same net by hand: default layout, Ramp then max pooling."""
    b1 = torch.zeros(4, dtype=x.dtype) if b1 is None else b1
    b2 = torch.ones(3, dtype=x.dtype) if b2 is None else b2
    h = F.max_pool2d(torch.relu(F.conv2d(x, w1, b1)), 2)
    h = F.conv2d(h, w2, b2)
    h = F.max_pool2d(F.pad(torch.relu(h), [1, 1, 1, 1], value=-np.inf), 3, 2)
    return h.flatten(1)


def hand_gradients(dtype):
    x = torch.tensor(X, dtype=dtype, requires_grad=True)
    w1 = torch.tensor(W1, dtype=dtype, requires_grad=True)
    w2 = torch.tensor(W2, dtype=dtype, requires_grad=True)
    y = hand(x, w1, w2)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy(), w1.grad.numpy(), w2.grad.numpy()


def first_pooling_ties():
    """The share of the first pooling's windows whose maximum is there more than once."""
    h = torch.relu(F.conv2d(torch.tensor(X), torch.tensor(W1)))          # (5, 4, 12, 12)
    win = h.unflatten(-1, (6, 2)).unflatten(-3, (6, 2))                  # (5, 4, 6, 2, 6, 2)
    top = win.amax(dim=(-1, -3), keepdim=True)
    return ((win == top).sum(dim=(-1, -3)) > 1).float().mean().item()


@pytest.mark.parametrize("precision", ["Real32", "Real64"])
def test_values_and_gradients_equal_hand_torch_ties_included(precision):
    dtype = {"Real32": torch.float32, "Real64": torch.float64}[precision]
    x = X.astype({"Real32": np.float32, "Real64": np.float64}[precision])
    n, opts = net(), {"WorkingPrecision": precision}
    y, gx, g1, g2 = hand_gradients(dtype)
    assert first_pooling_ties() > 0.15
    np.testing.assert_array_equal(n(x, **opts), y)
    np.testing.assert_array_equal(n(x, NetPortGradient("Input"), **opts), gx)
    np.testing.assert_array_equal(n(x, NetPortGradient((1, "Weights")), **opts), g1)
    np.testing.assert_array_equal(n(x, NetPortGradient((4, "Weights")), **opts), g2)


def test_batch_equals_one_at_a_time():
    n = net()
    batch = n(X)
    for i in range(len(X)):
        np.testing.assert_array_equal(n(X[i]), batch[i])
        np.testing.assert_array_equal(n(X[i], NetPortGradient("Input")),
                                      n(X[i:i + 1], NetPortGradient("Input"))[0])


def test_pooling_runs_before_the_ramp_only_where_that_is_exact():
    code = lower(net()).code
    assert code.index("self.layers['3']") < code.index("torch.relu")   # pooled, then Ramp
    assert code.count("torch.relu") == 2
    kept = {  # each keeps Ramp, then pooling
        "read elsewhere": NetGraph({"r": Ramp, "p": PoolingLayer(2, 2), "t": TotalLayer()},
                                   [("r", "p"), ("r", "t")], Input=(1, 4, 4)),
        "a graph output": NetGraph({"r": Ramp, "p": PoolingLayer(2, 2)},
                                   [("r", "p", NetPort("Pooled")), ("r", NetPort("Ramped"))],
                                   Input=(1, 4, 4)),
        "mean pooling": NetChain([Ramp, PoolingLayer(2, 2, Function=Mean)], Input=(1, 4, 4)),
        "not Ramp": NetChain([Tanh, PoolingLayer(2, 2)], Input=(1, 4, 4)),
    }
    for why, g in kept.items():
        lines = [ln for ln in lower(g).code.splitlines() if "self.layers" in ln or "torch." in ln]
        assert "relu" in lines[0] or "tanh" in lines[0], why


def test_outputs_are_contiguous_and_the_layout_stays_inside():
    conv = NetInitialize(ConvolutionLayer(3, 2, Input=(2, 5, 5)))
    m = lower(conv)
    x = torch.tensor(X[:, :, :5, :5])
    y = m(x)["Output"]
    assert y.is_contiguous()
    assert m.layers["1"].channels_last
    np.testing.assert_allclose(y.detach().numpy(), F.conv2d(
        x, torch.tensor(NetExtract(conv, "Weights")), torch.tensor(NetExtract(conv, "Biases"))
    ).numpy(), rtol=1e-5, atol=1e-5)
    assert conv(X[:, :, :5, :5]).flags["C_CONTIGUOUS"]


def test_one_channel_input_is_laid_out_channels_last():
    x = torch.zeros(4, 1, 6, 6)          # both layouts at once: torch would pick channel-first
    y = channels_last(x)
    assert y.stride(1) == 1 and torch.equal(y, x)
    w = torch.zeros(2, 1, 3, 3)
    assert F.conv2d(y, w).is_contiguous(memory_format=torch.channels_last)
    assert channels_last(y) is y


def test_export_import_and_onnx_give_the_same_numbers(tmp_path):
    n = net()
    back = Import(Export(tmp_path / "conv.netgraph", n))
    np.testing.assert_array_equal(back(X), n(X))
    np.testing.assert_array_equal(NetExtract(back, (1, "Weights")), W1)
    ort = pytest.importorskip("onnxruntime")
    from netgraph.io.onnx_export import export_onnx
    path = tmp_path / "conv.onnx"
    export_onnx(str(path), n, dynamo=False)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(session.run(None, {"Input": X})[0], n(X))


def test_training_equals_hand_torch_losses():
    x = RNG.normal(size=(16, 2, 14, 14)).astype(np.float32)
    t = RNG.normal(size=(16, 12)).astype(np.float32)
    start = net()
    r = NetTrain(start, {"Input": x, "Output": t}, All, LossFunction=MeanSquaredLossLayer(),
                 BatchSize=16, MaxTrainingRounds=3, LearningRate=1e-2,
                 Method=("SGD", {"Momentum": None, "LearningRateSchedule": None}),
                 TrainingProgressReporting=None)
    arrays = [torch.tensor(a, requires_grad=True) for a in
              (W1, W2, np.zeros(4, np.float32), np.ones(3, np.float32))]
    opt = torch.optim.SGD(arrays, lr=1e-2)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = ((hand(torch.tensor(x), *arrays) - torch.tensor(t)) ** 2).mean(1).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    np.testing.assert_allclose(r["BatchLossList"], losses, rtol=1e-5)
    np.testing.assert_allclose(NetExtract(r["TrainedNet"], (1, "Weights")),
                               arrays[0].detach().numpy(), rtol=1e-5, atol=1e-6)
