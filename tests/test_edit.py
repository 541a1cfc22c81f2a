"""Net surgery: NetExtract, NetReplacePart, NetTake, NetDrop, NetAppend, NetPrepend, NetJoin,
NetFlatten, NetRename, NetInsert, NetDelete (graph/edit.py, graph/surgery.py)."""
import numpy as np
import pytest
from seed_nets import seed_graph

from netgraph import *  # noqa: F403

X = np.array([[0.5, -1.0], [2.0, 0.25], [-0.3, 0.7]])


def chain():
    return NetChain([LinearLayer(3), Tanh, [LinearLayer(4), Ramp], LinearLayer(2)], Input=2)


def branch():
    return NetGraph({"a": LinearLayer(3), "b": LinearLayer(3), "t": ThreadingLayer(Plus),
                     "o": Tanh},
                    [(NetPort("x"), "a"), (NetPort("y"), "b"), (["a", "b"], "t", "o")],
                    x=2, y=4)


def heads(net):
    layers = Normal(net)
    return [v.head for v in (layers.values() if isinstance(layers, dict) else layers)]


def weights(net, path):
    return np.asarray(NetExtract(net, path + ("Weights",)))


# -- NetExtract ---------------------------------------------------------------------------
def test_extract_layer_by_position_name_and_negative_position():
    c = chain()
    assert NetExtract(c, 2).head == "ElementwiseLayer"
    assert NetExtract(c, -1).params["size"] == (2,)
    named = NetChain({"lin": LinearLayer(3), "act": Ramp}, Input=2)
    assert NetExtract(named, "act").head == "ElementwiseLayer"
    assert NetExtract(named, 1) is NetExtract(named, "lin")
    assert c[2] is NetExtract(c, 2)


def test_extract_nested_paths_arrays_and_automatic():
    c = chain()
    assert NetExtract(c, (3, 1, "Weights")) is Automatic
    init = NetInitialize(c)
    w = NetExtract(init, (3, 1, "Weights"))
    assert w.shape == (4, 3)
    assert NetExtract(init, (3, 2)).head == "ElementwiseLayer"
    assert NetExtract(NetExtract(init, 3), (1, "Weights")) is w


def test_extract_all_and_lists():
    c = NetInitialize(chain())
    assert heads(c) == ["LinearLayer", "ElementwiseLayer", "NetChain", "LinearLayer"]
    assert [layer.head for layer in NetExtract(c, All)] == heads(c)
    named = NetChain({"lin": LinearLayer(3), "act": Ramp}, Input=2)
    assert list(NetExtract(named, All)) == ["lin", "act"]
    ws = NetExtract(c, (All, "Weights"))
    assert set(ws) == {1, 4} and ws[4].shape == (2, 4)
    parts = NetExtract(NetExtract(c, 1), All)
    assert parts["Input"] == 2 and parts["Output"] == 3 and parts["Weights"].shape == (3, 2)
    b1, b2 = NetExtract(c, [(1, "Biases"), (4, "Biases")])
    assert b1.shape == (3,) and b2.shape == (2,)


def test_extract_ports_and_parameters():
    c = chain()
    assert NetExtract(c, "Input") == 2 and NetExtract(c, "Output") == 2
    assert NetExtract(c, (2, "Function")) == Tanh
    assert NetExtract(LinearLayer(3), "Input") is Automatic
    assert NetExtract(LinearLayer(), "Size") is Automatic


def test_extract_errors():
    with pytest.raises(ConnectionError_, match=r"no layer or port 'lni'. Did you mean \"lin\""):
        NetExtract(NetChain({"lin": LinearLayer(3)}), "lni")
    with pytest.raises(ConnectionError_, match="positions 1 to 4"):
        NetExtract(chain(), 7)
    with pytest.raises(ConnectionError_, match="LinearLayer has no array, port or parameter "
                       "'Wieghts'. Did you mean \"Weights\""):
        NetExtract(chain(), (1, "Wieghts"))
    with pytest.raises(ConnectionError_, match="is not a layer; nothing can be extracted"):
        NetExtract(chain(), (1, "Weights", 1))


# -- NetReplacePart ------------------------------------------------------------------------
def test_replace_array_same_dims_checked():
    c = NetInitialize(chain())
    new = NetReplacePart(c, ((1, "Weights"), np.ones((3, 2))))
    assert np.all(weights(new, (1,)) == 1)
    np.testing.assert_array_equal(weights(new, (4,)), weights(c, (4,)))
    assert new.is_initialized()
    with pytest.raises(ShapeError, match=r'array "Weights" of layer 1 \(LinearLayer\) has '
                       r"dimensions \{3, 2\}, but the new value has dimensions \{2, 3\}"):
        NetReplacePart(c, ((1, "Weights"), np.ones((2, 3))))
    with pytest.raises(LayerError, match=r'array "Biases" of layer 1 \(LinearLayer\) takes '
                       "numbers, but received abc"):
        NetReplacePart(c, ((1, "Biases"), "abc"))
    nested = NetReplacePart(c, ((3, 1, "Biases"), [1, 2, 3, 4]))
    np.testing.assert_array_equal(NetExtract(nested, (3, 1, "Biases")), [1, 2, 3, 4])


def test_replace_array_of_a_standalone_layer_and_evaluate():
    layer = NetInitialize(LinearLayer(2, Input=3))
    new = NetReplacePart(layer, {"Weights": np.eye(2, 3), "Biases": [1.0, -1.0]})
    np.testing.assert_allclose(new([1.0, 2.0, 3.0]), [2.0, 1.0])


def test_replace_port_type_both_spellings():
    a = NetReplacePart(LinearLayer(2), ("Input", 3))
    b = NetReplacePart(LinearLayer(2), {"Input": 3})
    assert Information(a, "InputPorts") == Information(b, "InputPorts") == {"Input": 3}
    assert NetExtract(a, "Weights") is Automatic
    assert a.array_specs()["Weights"].shape == (2, 3)
    c = NetReplacePart(NetChain([LinearLayer(3), Tanh]), ("Input", (2, 5)))
    assert Information(c, "InputPorts") == {"Input": (2, 5)}


def test_replace_port_of_initialized_layer_conflicts_with_its_arrays():
    layer = NetInitialize(LinearLayer(2, Input=3))
    with pytest.raises(ShapeError, match=r'array "Weights" of LinearLayer has dimensions '
                       r"\{2, 3\}, but its ports now need \{2, 5\}"):
        NetReplacePart(layer, ("Input", 5))


def test_replace_layer_relaxes_neighbours_and_keeps_other_arrays():
    c = NetInitialize(NetChain([LinearLayer(3), Tanh, LinearLayer(5), SoftmaxLayer()], Input=2))
    new = NetReplacePart(c, [(3, LinearLayer(4)), ("Output", Automatic)])
    assert Information(new, "OutputPorts") == {"Output": 4}
    assert NetExtract(new, 4).out_types["Output"].dims == (4,)
    np.testing.assert_array_equal(weights(new, (1,)), weights(c, (1,)))
    assert not new.is_initialized() and NetExtract(new, (1, "Weights")) is not Automatic
    init = NetInitialize(new)
    assert init(X).shape == (3, 4)
    np.testing.assert_allclose(init(X).sum(axis=1), 1, rtol=1e-5)


def test_replace_layer_keeps_graph_ports_unless_replaced():
    c = NetChain([LinearLayer(3), Tanh], Input=2)
    with pytest.raises(ShapeError, match="replace it too"):
        NetReplacePart(c, (1, LinearLayer(4)))
    assert Information(NetReplacePart(c, {1: LinearLayer(4), "Output": 4}),
                       "OutputPorts") == {"Output": 4}
    assert Information(NetReplacePart(c, {"Input": 5, 1: LinearLayer(3)}),
                       "InputPorts") == {"Input": 5}


def test_replace_layer_with_different_ports_in_graph():
    g = NetInitialize(seed_graph())
    new = NetReplacePart(g, (1, GatedRecurrentLayer(2)))
    assert Information(new, "InputPortNames") == ["Input", "InitialState"]
    assert Information(new, "OutputPortNames") == ["FinalState", "Output"]
    np.testing.assert_array_equal(weights(new, (3,)), weights(g, (3,)))
    out = NetInitialize(new)({"Input": [[1.0]]})
    assert np.shape(out["FinalState"]) == (2,)


def test_replace_rule_spelling_errors():
    with pytest.raises(OptionError, match=r"expected a rule \(part, value\), a list of rules "
                       "or a dict"):
        NetReplacePart(chain(), (1, 2, 3))
    with pytest.raises(ConnectionError_, match="layer 2 is not a layer: received 'x'"):
        NetReplacePart(chain(), (2, "x"))
    with pytest.raises(ShapeError, match='port "Input" has an unknown shape'):
        NetReplacePart(chain(), ("Input", "Vector"))


def test_replace_inside_an_operator():
    m = NetInitialize(NetMapOperator(LinearLayer(3), Input=("Varying", 2)))
    assert NetExtract(m, ("Net", "Weights")).shape == (3, 2)
    r = NetReplacePart(m, (("Net", "Weights"), np.arange(6.0).reshape(3, 2)))
    np.testing.assert_allclose(r(np.ones((4, 2)))[0], [1, 5, 9])
    bigger = NetReplacePart(m, ("Net", LinearLayer(4)))
    assert Information(bigger, "OutputPorts") == {"Output": ("Varying", 4)}
    with pytest.raises(ShapeError, match='NetReplacePart: NetMapOperator: port "Input" expects '
                       "a vector of size 3, but received a vector of size 2"):
        NetReplacePart(m, ("Net", LinearLayer(4, Input=3)))


# -- NetTake, NetDrop ------------------------------------------------------------------------
def test_take_and_drop_chain_compose_back():
    c = NetInitialize(chain())
    first, rest = NetTake(c, 2), NetDrop(c, 2)
    assert len(first) == 2 and len(rest) == 2
    assert Information(first, "OutputPorts") == {"Output": 3}
    assert Information(rest, "InputPorts") == {"Input": 3}
    np.testing.assert_allclose(NetJoin(first, rest)(X), c(X), rtol=1e-6)
    np.testing.assert_allclose(rest(first(X)), c(X), rtol=1e-6)
    assert heads(NetTake(c, -1)) == ["LinearLayer"]
    assert heads(NetTake(c, (2, 3))) == ["ElementwiseLayer", "NetChain"]
    assert heads(NetDrop(c, -2)) == ["LinearLayer", "ElementwiseLayer"]


def test_take_named_and_graph_ranges():
    named = NetChain({"a": LinearLayer(3), "b": Tanh, "c": LinearLayer(1)}, Input=2)
    assert list(Normal(NetTake(named, ("b", "c")))) == ["b", "c"]
    g = NetInitialize(branch())
    tail = NetTake(g, ("t", "o"))
    assert Information(tail, "InputPorts") == {"Input1": 3, "Input2": 3}
    left = NetTake(g, (NetPort("x"), All))
    assert list(Normal(left)) == ["a", "t", "o"]
    assert Information(left, "InputPortNames") == ["x", "Input2"]
    upto = NetTake(g, "a")
    assert Information(upto, "OutputPorts") == {"Output": 3}
    np.testing.assert_array_equal(weights(upto, ("a",)), weights(g, ("a",)))


def test_take_seed_graph_keeps_states():
    g = NetInitialize(seed_graph())
    t = NetTake(g, 2)
    assert Information(t, "OutputPortNames") == ["FinalState", "FinalCellState", "Output"]
    assert Information(t, "OutputPorts")["Output"] == 2


def test_drop_interior_needs_fitting_neighbours():
    c = NetChain([LinearLayer(3), Tanh, Ramp, LinearLayer(2)], Input=4)
    assert heads(NetDrop(c, (2, 3))) == ["LinearLayer", "LinearLayer"]
    with pytest.raises(ShapeError, match=r"NetDrop: NetPort\(2, \"Input\"\) \(LinearLayer\) "
                       r"expects a vector of size 5, but NetPort\(1, \"Output\"\)"):
        NetDrop(NetChain([LinearLayer(3), LinearLayer(5), LinearLayer(2)], Input=4), (2, 2))
    with pytest.raises(ConnectionError_, match="NetDrop: expected a NetChain, but received "
                       "NetGraph"):
        NetDrop(branch(), 1)
    with pytest.raises(ConnectionError_, match="no layers would be left"):
        NetDrop(c, 4)


# -- NetAppend, NetPrepend, NetJoin, NetInsert -----------------------------------------------
def test_append_prepend_chain():
    c = NetInitialize(NetChain([LinearLayer(3)], Input=2))
    a = NetAppend(c, [Tanh, 4])
    assert heads(a) == ["LinearLayer", "ElementwiseLayer", "LinearLayer"]
    assert Information(a, "OutputPorts") == {"Output": 4}
    np.testing.assert_array_equal(weights(a, (1,)), weights(c, (1,)))
    p = NetPrepend(c, ("pre", LinearLayer(2)), Input=7)
    assert list(Normal(p)) == ["pre", "2"]
    assert Information(p, "InputPorts") == {"Input": 7}
    named = NetAppend(NetChain({"a": Tanh}), {"a": Ramp})
    assert list(Normal(named)) == ["a", "a1"]


def test_append_to_graph_with_one_output():
    g = NetInitialize(branch())
    a = NetAppend(g, LinearLayer(1))
    assert a.head == "NetGraph" and Information(a, "OutputPorts") == {"Output": 1}
    a = NetInitialize(a)
    x = {"x": [1.0, 2.0], "y": [0.5, 0.1, -1.0, 2.0]}
    w, b = NetExtract(a, (5, "Weights")), NetExtract(a, (5, "Biases"))
    np.testing.assert_allclose(a(x), w @ g(x) + b, rtol=1e-5)
    with pytest.raises(ConnectionError_, match=r"NetAppend: the net \(NetGraph\) has 3 output "
                       r"ports \(FinalState, FinalCellState, Output\)"):
        NetAppend(seed_graph(), Tanh)
    with pytest.raises(ConnectionError_, match="all new layers a name"):
        NetAppend(NetChain([Tanh]), [("a", Tanh), Ramp])


def test_join_chains_flat_and_graphs():
    j = NetJoin(NetChain({"lin": LinearLayer(3)}, Input=2), NetChain({"lin": LinearLayer(1)}))
    assert j.head == "NetChain" and list(Normal(j)) == ["lin", "lin1"]
    g = NetJoin(NetChain([LinearLayer(3)], Input=2), branch().__class__(
        [Tanh, Ramp], [(NetPort("Input"), 1, 2)]))
    assert g.head == "NetGraph" and heads(g) == ["LinearLayer", "ElementwiseLayer",
                                                 "ElementwiseLayer"]
    with pytest.raises(ShapeError, match="NetJoin: NetPort.*expects a vector of size 5"):
        NetJoin(NetChain([LinearLayer(3)]), NetChain([LinearLayer(2, Input=5)]))


def test_insert():
    c = NetInitialize(NetChain([LinearLayer(3), LinearLayer(1)], Input=2))
    assert heads(NetInsert(c, Tanh, 2)) == ["LinearLayer", "ElementwiseLayer", "LinearLayer"]
    assert heads(NetInsert(c, Tanh, -1)) == ["LinearLayer", "LinearLayer", "ElementwiseLayer"]
    named = NetChain({"a": LinearLayer(3), "b": LinearLayer(1)}, Input=2)
    assert list(Normal(NetInsert(named, ("act", Ramp), "b"))) == ["a", "act", "b"]
    ins = NetInsert(c, LinearLayer(2, Input=5), 1)
    assert Information(ins, "InputPorts") == {"Input": 5}
    with pytest.raises(ShapeError, match="NetInsert: .*expects a vector of size 4"):
        NetInsert(c, LinearLayer(4, Input=4), 2)
    with pytest.raises(ConnectionError_, match="expected a position between 1 and 3"):
        NetInsert(c, Tanh, 9)


# -- NetDelete -----------------------------------------------------------------------------
def test_delete_chain_layers():
    c = NetInitialize(NetChain([LinearLayer(3), Tanh, LinearLayer(1)], Input=2))
    assert heads(NetDelete(c, 2)) == ["LinearLayer", "LinearLayer"]
    assert Information(NetDelete(c, 1), "InputPorts") == {"Input": 3}
    assert Information(NetDelete(c, [2, 3]), "OutputPorts") == {"Output": 3}
    with pytest.raises(ShapeError, match="NetDelete: .*Deleting interior layers needs their "
                       "neighbours to fit"):
        NetDelete(NetChain([LinearLayer(3), LinearLayer(4), LinearLayer(1)], Input=2), 2)


def test_delete_in_graph():
    g = NetInitialize(branch())
    bypass = NetDelete(NetAppend(g, Ramp), "o")
    x = {"x": [1.0, 2.0], "y": [0.5, 0.1, -1.0, 2.0]}
    assert list(Normal(bypass)) == ["a", "b", "t", "5"]
    first = NetDelete(g, "a")
    assert Information(first, "InputPortNames") == ["y", "Input1"]
    np.testing.assert_allclose(first({"y": x["y"], "Input1": [0.0, 0.0, 0.0]}),
                               np.tanh(NetExtract(g, "b")(x["y"])), rtol=1e-5)
    sink = NetDelete(g, "o")
    assert Information(sink, "OutputPorts") == {"Output": 3}
    with pytest.raises(ShapeError, match=r'layer "t" \(ThreadingLayer\) cannot be deleted: '
                       "it is interior"):
        NetDelete(g, "t")


def test_delete_ports():
    g = seed_graph()
    assert "FinalState" not in Information(NetDelete(g, NetPort("FinalState")), "OutputPorts")
    assert Information(NetDelete(g, NetPort("InitialState")),
                       "InputPortNames") == ["Input", "InitialCellState"]
    with pytest.raises(ConnectionError_, match='output port "Output" is the only use of '
                       r'NetPort\(3, "Output"\); delete layer 3 instead'):
        NetDelete(g, NetPort("Output"))
    with pytest.raises(ConnectionError_, match='input port "Input" feeds more than recurrent'):
        NetDelete(g, NetPort("Input"))
    with pytest.raises(ConnectionError_, match=r'NetPort\("Nope"\) is not a port'):
        NetDelete(g, NetPort("Nope"))


# -- NetFlatten, NetRename -------------------------------------------------------------------
def test_flatten_evaluates_the_same():
    c = NetInitialize(chain())
    f = NetFlatten(c)
    assert f.head == "NetChain" and len(f) == 5
    np.testing.assert_allclose(f(X), c(X), rtol=1e-6)
    deep = NetChain([LinearLayer(2), [Tanh, [Ramp, LinearLayer(1)]]], Input=2)
    assert len(NetFlatten(deep, 1)) == 3 and len(NetFlatten(deep)) == 4
    assert NetFlatten(LinearLayer(3)).head == "LinearLayer"


def test_flatten_graph_in_chain_names_layers():
    x = {"x": np.ones(2), "y": np.ones(4)}
    net = NetInitialize(NetChain({"g": branch(), "lin": LinearLayer(1)}))
    f = NetFlatten(net)
    assert f.head == "NetGraph"
    assert list(Normal(f)) == ["g/a", "g/b", "g/t", "g/o", "lin"]
    np.testing.assert_allclose(f(x), net(x), rtol=1e-6)


def test_rename_layers_ports_functions_and_levels():
    c = NetChain([LinearLayer(3), Tanh], Input=2)
    r = NetRename(c, [(1, "lin"), (NetPort("Output"), NetPort("y"))])
    assert list(Normal(r)) == ["lin", "2"] and Information(r, "OutputPorts") == {"y": 3}
    assert list(Normal(NetRename(c, lambda k: "L" + k))) == ["L1", "L2"]
    nested = NetChain({"outer": NetChain({"inner": Tanh})})
    assert list(Normal(NetExtract(NetRename(nested, ("inner", "x"), 2), "outer"))) == ["x"]
    r2 = NetRename(nested, ("inner", "x"), [2])
    assert list(Normal(r2)) == ["outer"]
    ported = NetRename(nested, (NetPort("Input"), NetPort("z")), All)
    assert Information(ported, "InputPortNames") == ["z"]
    assert Information(NetExtract(ported, "outer"), "InputPortNames") == ["z"]
    with pytest.raises(ConnectionError_, match="NetRename: nothing named 'inner' to rename"):
        NetRename(nested, ("inner", "x"))
    with pytest.raises(ConnectionError_, match="unique layer names, but 'a' would name both"):
        NetRename(NetChain({"a": Tanh, "b": Ramp}), ("b", "a"))
    with pytest.raises(ConnectionError_, match='"Input" would name both an input and an output'):
        NetRename(c, (NetPort("Output"), NetPort("Input")))


def test_rename_keeps_evaluation():
    c = NetInitialize(NetChain([LinearLayer(3), Tanh], Input=2))
    r = NetRename(c, {1: "lin", NetPort("Input"): NetPort("x")})
    np.testing.assert_allclose(r({"x": X}), c(X), rtol=1e-6)


# -- nets are values -------------------------------------------------------------------------
def _snapshot(net):
    arrays = Information(net, "Arrays")
    return (repr(net), {k: (None if v is Automatic else np.array(v)) for k, v in arrays.items()},
            dict(net.params), dict(net.in_types), dict(net.out_types))


EDITS = [
    lambda n: NetReplacePart(n, ((1, "Weights"), np.zeros((3, 2)))),
    lambda n: NetReplacePart(n, {1: LinearLayer(3), "Input": 5}),
    lambda n: NetTake(n, 2), lambda n: NetDrop(n, 1), lambda n: NetAppend(n, Tanh),
    lambda n: NetPrepend(n, LinearLayer(2)), lambda n: NetJoin(n, NetChain([Tanh])),
    lambda n: NetFlatten(n), lambda n: NetRename(n, (1, "first")),
    lambda n: NetInsert(n, Ramp, 2), lambda n: NetDelete(n, 2),
]


@pytest.mark.parametrize("edit", EDITS)
def test_edits_never_mutate_their_argument(edit):
    net = NetInitialize(chain())
    before = _snapshot(net)
    edit(net)
    after = _snapshot(net)
    assert before[0] == after[0] and before[2:] == after[2:]
    for k, v in before[1].items():
        np.testing.assert_array_equal(v, after[1][k])
