"""arrays_from_module: a new net value from a lowered module's current parameters."""
import numpy as np
import torch

from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower
from netgraph.backend.sync import arrays_from_module


def test_graph_with_nested_chain_and_lstm():
    net = NetInitialize(NetGraph(
        {"rnn": LongShortTermMemoryLayer(2), "last": SequenceLastLayer(),
         "head": NetChain([LinearLayer(3), Tanh, LinearLayer()])},
        [("rnn", "last", "head")], Input=(2, 1), Output="Real"))
    m = lower(net)
    with torch.no_grad():
        for p in m.parameters():
            if p.requires_grad:           # the LSTM's torch-only hidden bias stays zero
                p.add_(1.0)
    new = arrays_from_module(net, m)
    for path in (("head", 1, "Weights"), ("head", 3, "Biases"), ("rnn", "ForgetGateBiases"),
                 ("rnn", "InputGateStateWeights")):
        old = NetExtract(net, path)
        got = NetExtract(new, path)
        assert got.dtype == np.float32 and not got.flags.writeable
        np.testing.assert_allclose(got, old + 1.0, rtol=1e-6)
    x = np.ones((2, 1))
    assert np.allclose(new(x), m(Input=torch.ones(1, 2, 1))["Output"].item(), atol=1e-5)
    assert NetExtract(net, ("head", 1, "Weights")).max() < NetExtract(new, (
        "head", 1, "Weights")).max()                      # the net itself never changes


def test_standalone_layer():
    layer = NetInitialize(LinearLayer(2, Input=3))
    m = lower(layer)
    with torch.no_grad():
        m.layers["1"].Weights.zero_()
    new = arrays_from_module(layer, m)
    assert new.head == "LinearLayer" and not NetExtract(new, "Weights").any()
    assert arrays_from_module(layer, m.layers["1"]).head == "LinearLayer"
