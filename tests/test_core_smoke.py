"""The seed graph end to end: construction, inference, initialization, evaluation."""
import math

import numpy as np
import pytest
from seed_nets import seed_graph

from netgraph import *  # noqa: F403


def test_ports_inferred():
    net = seed_graph()
    assert Information(net, "InputPorts") == {"Input": (1, 1), "InitialState": 2,
                                              "InitialCellState": 2}
    assert Information(net, "OutputPorts") == {"FinalState": 2, "FinalCellState": 2,
                                               "Output": "Real"}


def test_evaluate_single_and_batch():
    net = NetInitialize(seed_graph())
    one = net({"Input": [[1]], "InitialState": [0, 0], "InitialCellState": [0, 0]})
    assert isinstance(one["Output"], float) and math.isfinite(one["Output"])
    batch = net({"Input": [[[1]], [[2]]]})
    assert batch["Output"].shape == (2,)
    assert batch["Output"][0] == pytest.approx(one["Output"], abs=1e-6)


def test_initialize_is_deterministic():
    a, b = NetInitialize(seed_graph()), NetInitialize(seed_graph())
    np.testing.assert_array_equal(NetExtract(a, (3, "Weights")), NetExtract(b, (3, "Weights")))


def test_nets_are_values():
    net = seed_graph()
    init = NetInitialize(net)
    assert not net.is_initialized() and init.is_initialized()
    with pytest.raises(AttributeError):
        init.params = {}


def test_open_input_shapes_come_from_the_data():
    # WL: ElementwiseLayer[Tanh][{0.5, 1}] infers the input shape from the data.
    np.testing.assert_allclose(ElementwiseLayer(Tanh)([0.5, 1.0]), np.tanh([0.5, 1.0]),
                               rtol=1e-6)
    assert ElementwiseLayer(Tanh)(0.5) == pytest.approx(np.tanh(0.5), rel=1e-6)
    np.testing.assert_allclose(NetChain([Ramp, Tanh])([[-1, 2], [3, -4]]),
                               np.tanh(np.maximum([[-1, 2], [3, -4]], 0)), rtol=1e-6)
    # A port whose rank is known reads a batch as a batch.
    seq = NetChain([SequenceLastLayer()], Input=("Varying", None))
    np.testing.assert_array_equal(seq([[[1, 2], [3, 4]]]), [[3, 4]])
    # Arrays still need their shapes before initialization: the layer's own error.
    with pytest.raises(EvaluationError, match='^LinearLayer: array "Weights"'):
        LinearLayer(3)([1, 2])
