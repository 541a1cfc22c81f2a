"""Shape inference through graphs, both ways (graph/infer.py), port exposure with WL naming
(graph/build.py), and the algebra of shapes.unify (a hypothesis property test)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netgraph import *  # noqa: F403
from netgraph.shapes import VARYING, PortType, UnifyError, unify


def ports(net):
    return Information(net, "InputPorts"), Information(net, "OutputPorts")


# -- both directions -------------------------------------------------------------------------
def test_linear_layer_learns_its_size_from_what_it_feeds():
    net = NetChain([LinearLayer(), LinearLayer(2, Input=5)], Input=3)
    assert NetExtract(net, 1).out_types["Output"].dims == (5,)
    assert Information(net, "ArraysDimensions")[(1, "Weights")] == (5, 3)


def test_linear_layer_learns_a_scalar_output_from_the_graph_port():
    net = NetChain([LinearLayer()], Input=2, Output="Real")
    assert ports(net) == ({"Input": 2}, {"Output": "Real"})
    assert Information(net, "ArraysDimensions")[(1, "Weights")] == (1, 2)
    out = NetInitialize(net)([1.0, 2.0])
    assert isinstance(out, float)


def test_chain_input_learned_from_a_later_layer():
    net = NetChain([Tanh, Ramp, LinearLayer(2, Input=4)])
    assert ports(net) == ({"Input": 4}, {"Output": 2})
    assert all(NetExtract(net, i).in_types["Input"].dims == (4,) for i in (1, 2))


def test_graph_infers_backwards_through_several_branches():
    g = NetGraph({"a": Tanh, "b": Ramp, "sum": ThreadingLayer(Plus), "lin": LinearLayer(1)},
                 [(NetPort("x"), "a"), (NetPort("y"), "b"), (["a", "b"], "sum", "lin")],
                 y=(2, 3))
    assert ports(g) == ({"x": (2, 3), "y": (2, 3)}, {"Output": 1})


def test_sequences_of_any_and_of_fixed_length():
    net = NetChain([LongShortTermMemoryLayer(3), SequenceLastLayer()], Input=("Varying", 2))
    assert ports(net) == ({"Input": ("Varying", 2)}, {"Output": 3})
    assert Information(NetExtract(net, 1), "OutputPorts")["Output"] == ("Varying", 3)
    fixed = NetChain([SequenceMostLayer(), LinearLayer(2)], Input=(5, 3))
    assert Information(NetExtract(fixed, 1), "OutputPorts")["Output"] == (4, 3)
    backward = NetChain([SequenceMostLayer()], Output=(4, 3))
    assert Information(backward, "InputPorts") == {"Input": (5, 3)}
    varying = NetChain([SequenceReverseLayer(), Tanh], Input="Varying")
    assert ports(varying) == ({"Input": "Varying"}, {"Output": "Varying"})


def test_integer_and_restricted_ports():
    g = NetGraph([SoftmaxLayer(), CrossEntropyLossLayer("Index")],
                 [(1, NetPort(2, "Input"))], Input=4)
    assert Information(g, "InputPorts") == {"Input": 4, "Target": Restricted("Integer", 4)}
    seq = NetChain([EmbeddingLayer(3), LongShortTermMemoryLayer(2)],
                   Input=("Varying", Restricted("Integer", 10)))
    assert Information(seq, "ArraysDimensions")[(1, "Weights")] == (10, 3)
    ce = NetGraph([CrossEntropyLossLayer("Index")], [], Target=("Varying", Restricted(
        "Integer", (0, 4))))
    assert Information(ce, "InputPorts")["Target"] == ("Varying", Restricted("Integer", (0, 4)))


def test_unconnected_outputs_are_numbered_and_same_named_inputs_shared():
    g = NetInitialize(NetGraph([LinearLayer(2), LinearLayer(3)], [], Input=2))
    assert ports(g) == ({"Input": 2}, {"Output1": 2, "Output2": 3})
    x = [1.0, -2.0]
    out = g(x)
    for i, key in ((1, "Output1"), (2, "Output2")):
        w, b = NetExtract(g, (i, "Weights")), NetExtract(g, (i, "Biases"))
        np.testing.assert_allclose(out[key], w @ x + b, rtol=1e-6)


def test_numbering_skips_explicit_names():
    g = NetGraph([Tanh, Ramp, Tanh], [(1, NetPort("Output1"))], Input=2)
    assert Information(g, "OutputPortNames") == ["Output1", "Output2", "Output3"]
    assert NetExtract(g, "Output1") == 2


def test_state_ports_stay_hidden_unless_connected():
    lstm = NetChain([LongShortTermMemoryLayer(2)], Input=("Varying", 1))
    assert Information(lstm, "InputPortNames") == ["Input"]
    g = NetGraph([LongShortTermMemoryLayer(2)], [(NetPort(1, "State"), NetPort("Final"))],
                 Input=("Varying", 1))
    assert Information(g, "OutputPorts") == {"Output": ("Varying", 2), "Final": 2}


def test_nested_nets_infer_through_their_boundary():
    inner = NetChain([LinearLayer(), Tanh])
    outer = NetChain([LinearLayer(4), inner, LinearLayer(1, Input=6)], Input=3)
    assert ports(NetExtract(outer, 2)) == ({"Input": 4}, {"Output": 6})
    assert Information(outer, "ArraysDimensions")[(2, 1, "Weights")] == (6, 4)


def test_conflicts_found_late_still_name_both_ends():
    with pytest.raises(ShapeError, match=r'NetChain: NetPort\(2, "Input"\) of ElementwiseLayer '
                       "expects a vector of size 5, but it receives a vector of size 4 from "
                       r'NetPort\(1, "Output"\) \(LinearLayer\)'):
        NetChain([LinearLayer(4), Tanh, LinearLayer(1, Input=5)])


# -- shapes.unify: a property test ---------------------------------------------------------
dims = st.one_of(st.none(), st.just(VARYING), st.integers(1, 4))
kinds = st.sampled_from([None, "Real", "Integer"])


@st.composite
def port_types(draw):
    kind = draw(kinds)
    shape = draw(st.one_of(st.none(), st.lists(dims, max_size=3).map(tuple)))
    bound = None
    if kind == "Integer" and draw(st.booleans()):
        bound = (1, draw(st.integers(1, 3)))
    return PortType(shape, kind, bound)


def _unify(a, b):
    try:
        return unify(a, b)
    except UnifyError:
        return UnifyError


@settings(max_examples=150, deadline=None)
@given(port_types(), port_types())
def test_unify_is_commutative_and_its_result_fits_both(a, b):
    r = _unify(a, b)
    assert r == _unify(b, a)
    if r is not UnifyError:
        assert unify(r, a) == r and unify(r, b) == r


@settings(max_examples=100, deadline=None)
@given(port_types())
def test_unify_is_idempotent(a):
    assert unify(a, a) == a
    assert unify(a, PortType()) == a


@settings(max_examples=100, deadline=None)
@given(port_types(), port_types(), port_types())
def test_unify_order_does_not_matter_for_three(a, b, c):
    left = _unify(a, b)
    left = UnifyError if left is UnifyError else _unify(left, c)
    right = _unify(b, c)
    right = UnifyError if right is UnifyError else _unify(a, right)
    assert left == right
