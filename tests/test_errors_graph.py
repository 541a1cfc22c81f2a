"""Every error a user can cause while building or evaluating a net names the head, the layer
and port, what was expected and what was received."""
import numpy as np
import pytest

from netgraph import *  # noqa: F403


def two_inputs():
    return NetInitialize(NetGraph([ThreadingLayer(Plus)], [([NetPort("a"), NetPort("b")], 1)],
                                  a=2, b=2))


def small():
    return NetInitialize(NetChain([LinearLayer(3)], Input=2))


# -- incompatible shapes ----------------------------------------------------------------------
def test_incompatible_shapes_in_a_chain():
    with pytest.raises(ShapeError, match=r'^NetChain: NetPort\(2, "Input"\) \(LinearLayer\) '
                       r"expects a vector of size 4, but NetPort\(1, \"Output\"\) "
                       r"\(LinearLayer\) gives a vector of size 3\.$"):
        NetChain([LinearLayer(3, Input=2), LinearLayer(2, Input=4)])


def test_incompatible_shapes_in_a_graph():
    with pytest.raises(ShapeError, match=r'^NetGraph: NetPort\("b", "Input"\) \(LinearLayer\) '
                       r'expects a vector of size 4, but NetPort\("a", "Output"\) '
                       r"\(LinearLayer\) gives a vector of size 3\.$"):
        NetGraph({"a": LinearLayer(3, Input=2), "b": LinearLayer(2, Input=4)}, [("a", "b")])


def test_graph_port_shape_conflicts_with_its_layer():
    with pytest.raises(ShapeError, match=r'NetChain: NetPort\("Output"\) expects a vector of '
                       r'size 4, but NetPort\(1, "Output"\) \(LinearLayer\) gives a vector of '
                       "size 3"):
        NetChain([LinearLayer(3)], Input=2, Output=4)


def test_kind_and_rank_mismatches():
    with pytest.raises(ShapeError, match=r'NetPort\(1, "Input"\) \(LinearLayer\) expects an '
                       r'array of real numbers, but NetPort\("Input"\) gives an integer'):
        NetChain([LinearLayer(3)], Input="Integer")
    with pytest.raises(ShapeError, match=r"\(LongShortTermMemoryLayer\) expects a sequence of "
                       r'vectors, but NetPort\("Input"\) gives a vector of size 3'):
        NetChain([LongShortTermMemoryLayer(2)], Input=3)
    with pytest.raises(ShapeError, match=r'NetPort\(1, "Input"\) of SequenceLastLayer expects '
                       "a sequence, but it receives a real number"):
        NetChain([SequenceLastLayer(), LinearLayer(3)], Input="Real")


def test_layer_internal_mismatches():
    with pytest.raises(ShapeError, match=r'NetPort\(1, "Target"\) of MeanSquaredLossLayer '
                       "expects a vector of size 3, but it receives a vector of size 4"):
        NetGraph([MeanSquaredLossLayer()], [], Input=3, Target=4)
    with pytest.raises(ShapeError, match=r'NetPort\(1, "Target"\) \(CrossEntropyLossLayer\) '
                       r'expects integers, but NetPort\("Target"\) gives a '
                       "real number"):
        NetGraph([CrossEntropyLossLayer("Index")], [], Input=3, Target="Real")
    with pytest.raises(ShapeError, match=r'NetPort\(1, "Input"\) of CrossEntropyLossLayer '
                       r"expects an array of rank 2 .* but it receives a vector of size 3"):
        NetGraph([CrossEntropyLossLayer("Index")], [], Input=3, Target=(2,))
    with pytest.raises(ShapeError, match='^LinearLayer: port "Output" expects a vector of size '
                       "3, but received a vector of size 4"):
        LinearLayer(3, Output=4)


# -- cycles, references, fed twice --------------------------------------------------------------
def test_cycles_name_the_layers_on_them():
    with pytest.raises(ConnectionError_, match=r"NetGraph: the connections form a cycle "
                       r"through layers 1 -> 2 -> 3 -> 1; a NetGraph must be acyclic"):
        NetGraph([LinearLayer(3), Tanh, Ramp], [(1, 2, 3, 1)])
    with pytest.raises(ConnectionError_, match=r'cycle through layers "a" -> "b" -> "a"'):
        NetGraph({"a": Tanh, "b": Ramp, "c": Tanh}, [("a", "b", "a"), ("b", "c")])
    with pytest.raises(ConnectionError_, match=r"cycle through layer 1 \(LinearLayer\)"):
        NetGraph([LinearLayer(3), Tanh], [(1, 1)])


def test_unknown_layer_references():
    with pytest.raises(ConnectionError_, match="NetGraph: unknown layer 5 in a connection. "
                       "The layers are 1, 2"):
        NetGraph([LinearLayer(3), Tanh], [(1, 5)])
    with pytest.raises(ConnectionError_, match='unknown layer "lni" in a connection. Did you '
                       'mean "lin"\\? The layers are "lin", "act"'):
        NetGraph({"lin": LinearLayer(3), "act": Tanh}, [("lni", "act")])
    with pytest.raises(ConnectionError_, match="unknown layer 3 in a connection"):
        NetGraph([Tanh, Ramp], [(NetPort(3, "Output"), 1)])


def test_unknown_port_names():
    with pytest.raises(ConnectionError_, match=r'NetPort\(1, "Foo"\): layer 1 \(LinearLayer\) '
                       'has no output port "Foo"; its output ports are Output'):
        NetGraph([LinearLayer(3), Tanh], [(NetPort(1, "Foo"), 2)])
    with pytest.raises(ConnectionError_, match=r'layer 1 \(LongShortTermMemoryLayer\) has no '
                       'output port "Stat"; its output ports are Output, State, CellState'):
        NetGraph([LongShortTermMemoryLayer(2)], [(NetPort(1, "Stat"), NetPort("x"))])
    with pytest.raises(ConnectionError_, match=r'NetPort\(2, "Foo"\): layer 2 '
                       r'\(ElementwiseLayer\) has no input port "Foo"; its input ports are Input'):
        NetGraph([LinearLayer(3), Tanh], [(1, NetPort(2, "Foo"))])
    with pytest.raises(ConnectionError_, match=r'NetPort\(All, "States"\) cannot be used in a '
                       "connection here"):
        NetGraph([Tanh], [(NetPort(All, "States"), 1)])


def test_a_port_fed_twice():
    with pytest.raises(ConnectionError_, match=r'NetGraph: NetPort\(3, "Input"\) is fed twice: '
                       r'by NetPort\(1, "Output"\) and by NetPort\(2, "Output"\); a port takes '
                       "one source"):
        NetGraph([LinearLayer(3), LinearLayer(3), Tanh], [(1, 3), (2, 3)])
    with pytest.raises(ConnectionError_, match=r'NetPort\(1, "Input"\) is fed twice: by '
                       r'NetPort\("x"\) and by NetPort\("y"\)'):
        NetGraph([Tanh], [(NetPort("x"), NetPort(1, "Input")), (NetPort("y"), NetPort(1, "Input"))])
    with pytest.raises(ConnectionError_, match=r"layer 3 \(LinearLayer\) takes 1 input\(s\) "
                       r"\(Input\), but 2 sources are connected to it at once"):
        NetGraph([LinearLayer(2), LinearLayer(2), LinearLayer(2)], [([1, 2], 3)])


def test_graph_ports_must_exist_and_be_distinct():
    # An output port only exists as the end of a connection, so it always has a source; an
    # option naming a port that no connection made is refused.
    with pytest.raises(OptionError, match="NetGraph: unknown option or port Output2. Did you "
                       'mean "Output"\\? The graph\'s ports are Input, Output'):
        NetGraph([Tanh], [], Output2=3)
    with pytest.raises(ConnectionError_, match='"x" names both an input and an output port'):
        NetGraph([Tanh], [(NetPort("x"), 1, NetPort("x"))], x=3)


# -- shapes that cannot be inferred, uninitialized nets ------------------------------------
def test_uninferable_shapes_name_the_port_to_specify():
    with pytest.raises(ShapeError, match=r'NetInitialize: the shape of array "Weights" of layer '
                       r'1 \(LinearLayer\) is not known: the shape of its input port "Input" '
                       "could not be inferred; specify it"):
        NetInitialize(NetChain([LinearLayer(3)]))
    with pytest.raises(ShapeError, match='of its output port "Output" could not be inferred'):
        NetInitialize(NetChain([LinearLayer()], Input=2))
    # Evaluation takes open input shapes from the data, as WL does, when the net has no
    # arrays that depend on them (tests/test_core_smoke.py has more).
    np.testing.assert_allclose(NetChain([Tanh])([1.0, 2.0]), np.tanh([1.0, 2.0]), rtol=1e-6)
    out = NetGraph([Tanh], [(NetPort("x"), NetPort("y"))], Input=2)({"Input": [1, 2], "x": 1})
    assert out["y"] == 1.0


def test_uninitialized_net_evaluated():
    with pytest.raises(EvaluationError, match=r'^NetChain: array "Weights" of layer 1 '
                       r"\(LinearLayer\) is not initialized; use NetInitialize\(net\) or "
                       "NetTrain first"):
        NetChain([LinearLayer(3)], Input=2)([1.0, 2.0])
    with pytest.raises(EvaluationError, match='^LinearLayer: array "Weights" of LinearLayer is '
                       "not initialized"):
        LinearLayer(3, Input=2)([1.0, 2.0])


# -- evaluation inputs -----------------------------------------------------------------------
def test_missing_and_unknown_inputs():
    with pytest.raises(EvaluationError, match='NetGraph: no data was given for input port "b"; '
                       "the net's input ports are a, b"):
        two_inputs()({"a": [1, 2]})
    with pytest.raises(EvaluationError, match='the net has no input port "bb". Did you mean '
                       '"b"\\? Its input ports are a, b'):
        two_inputs()({"a": [1, 2], "bb": [1, 2]})
    with pytest.raises(EvaluationError, match=r"the net has several input ports \(a, b\); give "
                       r"a dict \{port: data\}"):
        two_inputs()([1, 2])


def test_misshapen_inputs():
    with pytest.raises(EvaluationError, match=r'NetChain: port "Input" expects a vector of size '
                       r"2 \(or a batch of them\), but received an array of dimensions \{3\}"):
        small()([1, 2, 3])
    with pytest.raises(EvaluationError, match=r"but received an array of dimensions \{1, 1, 3\}"):
        small()([[[1, 2, 3]]])
    with pytest.raises(EvaluationError, match=r'port "Input" expects numeric data, but received '
                       r"the string 'a' at position \{1\}"):
        small()(["a", "b"])
    with pytest.raises(EvaluationError, match='some inputs are single examples and others '
                       'batches: "a" batch, "b" example'):
        two_inputs()({"a": [[1, 2]], "b": [1, 2]})
    with pytest.raises(EvaluationError, match='the input batches have different lengths: "a" 1, '
                       '"b" 2'):
        two_inputs()({"a": [[1, 2]], "b": [[1, 2], [3, 4]]})
    seq = NetInitialize(NetChain([LongShortTermMemoryLayer(2)], Input=("Varying", 1)))
    with pytest.raises(EvaluationError, match='must have non-zero length; port "Input"'):
        seq(np.zeros((0, 1)))


def test_unknown_output_port():
    with pytest.raises(EvaluationError, match='NetChain: the net has no output port "Outptu". '
                       'Did you mean "Output"\\? Its output ports are Output'):
        small()([1, 2], "Outptu")


# -- options -----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, fragment", [
    (lambda: NetChain([LinearLayer(3)], Inptu=2),
     'NetChain: unknown option or port Inptu. Did you mean "Input"'),
    (lambda: NetGraph([Tanh], [], Ouptut=2),
     'NetGraph: unknown option or port Ouptut. Did you mean "Output"'),
    (lambda: LinearLayer(3, Inptu=2), 'LinearLayer: unknown option Inptu. Did you mean "Input"'),
    (lambda: small()([1, 2], BachSize=3), 'NetChain: unknown option BachSize. Did you mean '
     '"BatchSize"'),
    (lambda: NetInitialize(small(), Methd="Xavier"),
     'NetInitialize: unknown option Methd. Did you mean "Method"'),
    (lambda: NetInitialize(small(), Method="Kaimig"),
     'NetInitialize: unknown Method \'Kaimig\'. Did you mean "Kaiming"'),
    (lambda: Information(small(), "Layer"),
     'Information: unknown property \'Layer\'. Did you mean "Layers"'),
    (lambda: NetAppend(small(), Tanh, Ouptut=3),
     'NetAppend: unknown option or port Ouptut. Did you mean "Output"'),
])
def test_unknown_options_suggest_the_nearest(call, fragment):
    with pytest.raises(OptionError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        call()


# -- bad layer specs and connections -----------------------------------------------------------
@pytest.mark.parametrize("layers, error, fragment", [
    ([LinearLayer(3), "foo"], ConnectionError_, "NetChain: layer 2 is not a layer: received "
     "'foo'; expected a layer such as LinearLayer(3)"),
    ([2.5], ConnectionError_, "NetChain: layer 1 is not a layer: received 2.5"),
    ([None], ConnectionError_, "NetChain: layer 1 is not a layer: received None"),
    ([LinearLayer, Tanh], ConnectionError_, "NetChain: layer 1 is not a layer: received "
     "LinearLayer (the class itself: call it, as in LinearLayer(...))"),
    ([LinearLayer(2), Plus], ConnectionError_, "NetChain: layer 2 is not a layer: received Plus "
     "(Plus combines several inputs, which a NetChain cannot give; use a NetGraph)"),
    ([3, 0], LayerError, "NetChain: layer 2 (0) is not a valid size: expected a positive "
     "integer, but received 0"),
    ({"a": Tanh, "b": "x"}, ConnectionError_, 'NetChain: layer "b" is not a layer: received \'x\''),
    (5, ConnectionError_, "NetChain: expected a list or dict of layers, but received int"),
])
def test_bad_layer_specs(layers, error, fragment):
    with pytest.raises(error, match="^" + fragment.replace("(", r"\(").replace(")", r"\)")):
        NetChain(layers)


def test_bad_layer_names_and_connections():
    with pytest.raises(ConnectionError_, match="NetGraph: expected layer names to be nonempty "
                       "strings, but received 1"):
        NetGraph({1: Tanh}, [])
    with pytest.raises(ConnectionError_, match=r"expected a connection as a tuple such as "
                       r"\(1, 2\) or \(NetPort\(\"x\"\), 1, 2\), but received 1"):
        NetGraph([Tanh, Ramp], [1])
    with pytest.raises(ConnectionError_, match="NetGraph: expected a list of connections, but "
                       "received 5"):
        NetGraph([Tanh, Ramp], 5)
    with pytest.raises(ConnectionError_, match=r"cannot connect the list \[1, 2\] to the list "
                       r"\[3, 4\]"):
        NetGraph([Tanh, Ramp, Tanh, Ramp], [([1, 2], [3, 4])])
    with pytest.raises(ConnectionError_, match="NetPort: expected a layer position"):
        NetPort(1.5, "x")


@pytest.mark.parametrize("spec, fragment", [
    ("Foo", "port \"Input\" has an unknown shape 'Foo'; expected \"Real\", \"Integer\""),
    (0, 'port "Input" has an invalid size 0; sizes are positive'),
    ((2, -1), 'port "Input" has an invalid dimension -1 in (2, -1)'),
])
def test_bad_port_shapes(spec, fragment):
    with pytest.raises(ShapeError, match="^NetChain: " + fragment.replace("(", r"\(").replace(
            ")", r"\)")):
        NetChain([LinearLayer(3)], Input=spec)
