"""Lowering: the generated forward of a graph module."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower


def test_optional_state_before_required_input():
    # Port order: Input, S0 (optional: it only feeds a recurrent state), X (required).
    g = NetInitialize(NetGraph(
        {"lstm": LongShortTermMemoryLayer(2), "last": SequenceLastLayer(), "add": Plus},
        [(NetPort("S0"), NetPort("lstm", "State")), ("lstm", "last"),
         (["last", NetPort("X")], "add")], Input=(3, 1), X=2))
    assert list(Information(g, "InputPorts")) == ["Input", "S0", "X"]
    one = g({"Input": np.ones((3, 1)), "X": [1, 2]})
    batch = g({"Input": np.ones((2, 3, 1)), "X": [[1, 2], [3, 4]]})
    np.testing.assert_allclose(batch[0], one, rtol=1e-6)
    m = lower(g)
    with pytest.raises(TypeError, match="missing input 'X'"):
        m(torch.ones(1, 3, 1))


def test_values_are_dropped_after_their_last_use():
    g = NetInitialize(NetChain([LinearLayer(3), Tanh, LinearLayer(2)], Input=4))
    code = lower(g).code
    assert "del v_1_Output" in code and "del v_2_Output" in code


def test_simple_layers_are_inlined():
    g = NetInitialize(NetChain([LinearLayer(3), Tanh], Input=4))
    code = lower(g).code
    assert "F.linear(" in code and "torch.tanh(" in code
