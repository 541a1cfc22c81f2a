"""Per-layer facts live on the layer spec (netgraph.layers.base.Layer) and every registered
head declares them; a head is added through the public extension path (docs/guide/extending.md).
"""
import inspect

import numpy as np
import pytest

import netgraph.backend.lower  # noqa: F401 - loads every family's registrations
import netgraph.io.torch_interop  # noqa: F401 - TorchModuleLayer's (loaded by its constructor)
from netgraph import (
    AggregationLayer,
    CatenateLayer,
    ElementwiseLayer,
    FlattenLayer,
    LayerError,
    LinearLayer,
    NetChain,
    PaddingLayer,
    PartLayer,
    ReplicateLayer,
    ReshapeLayer,
    SoftmaxLayer,
    Span,
    ThreadingLayer,
    TorchModuleLayer,
    TransposeLayer,
)
from netgraph.backend.base import LayerModule, builder_for, lowers, registered
from netgraph.backend.lower import lower
from netgraph.graph.net import Container
from netgraph.io.registry import layer_registry
from netgraph.layers.base import TIME_HANDLING, Layer, fact_problems
from netgraph.layers.levels import UNTIED_LENGTH
from netgraph.shapes import PortType
from netgraph.symbols import All, Inherited, Max, Mean, Symbol, Total


def heads():
    return sorted({*layer_registry().values(), *registered(), TorchModuleLayer},
                  key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", heads(), ids=lambda c: c.__name__)
def test_every_registered_head_declares_its_facts(cls):
    assert fact_problems(cls) == []
    if issubclass(cls, Container):
        return
    assert any(c in registered() for c in cls.__mro__), f"{cls.__name__} has no torch module"
    if cls.time == "lengths":   # its module must take the lengths it is promised
        builder = next(registered()[c] for c in cls.__mro__ if c in registered())
        assert "lengths" in inspect.signature(builder.forward).parameters


def test_a_head_lacking_a_fact_cannot_register():
    class NoTimeLayer(Layer):
        pass

    class BadShiftLayer(Layer):
        time = "pointwise"
        length_shift = "one"

    with pytest.raises(TypeError, match='NoTimeLayer declares no "time" fact'):
        lowers(NoTimeLayer)(LayerModule)
    with pytest.raises(TypeError, match="BadShiftLayer.length_shift is 'one', not an int"):
        lowers(BadShiftLayer)(LayerModule)
    assert NoTimeLayer not in registered() and BadShiftLayer not in registered()


@pytest.mark.parametrize("layer, time, shift", [
    (ReshapeLayer((Inherited, 6), Input=("Varying", 2, 3)), "pointwise", 0),
    (ReshapeLayer((6,), Input=(2, 3)), "whole", None),
    (FlattenLayer(Input=("Varying", 2, 3)), "whole", None),
    (FlattenLayer(-1, Input=("Varying", 2, 3)), "pointwise", 0),
    (TransposeLayer((2, 3), Input=("Varying", 2, 3)), "pointwise", 0),
    (TransposeLayer(Input=("Varying", 2)), "whole", UNTIED_LENGTH),
    (PartLayer([All, 1], Input=("Varying", 2)), "pointwise", 0),
    (PartLayer(Span(2, All), Input=("Varying", 2)), "whole", -1),
    (PaddingLayer([[0, 0], [1, 1]], Input=("Varying", 2)), "pointwise", 0),
    (PaddingLayer([[1, 0]], Input=("Varying",)), "whole", 1),
    (ReplicateLayer(3, 2, Input=("Varying",)), "pointwise", 0),
    (ReplicateLayer(3, Input=2), "whole", 0),
    (CatenateLayer(2, InputPorts=[("Varying", 2), ("Varying", 3)]), "pointwise", 0),
    (CatenateLayer(InputPorts=[(2, 2), (3, 2)]), "whole", 0),
    (SoftmaxLayer(1, Input=("Varying", 2)), "reduce", 0),
    (SoftmaxLayer(Input=("Varying", 2)), "pointwise", 0),
    (AggregationLayer(Max, 1, Input=("Varying", 2)), "reduce", 0),
    (AggregationLayer(Mean, Input=("Varying", 2)), "pointwise", 0),
])
def test_facts_that_depend_on_the_params(layer, time, shift):
    assert layer.time == time and layer.time in TIME_HANDLING
    if shift is not None:
        assert layer.length_shift == shift


def test_reductions_over_time_say_how_to_fill_the_padding():
    assert AggregationLayer(Max, 1, Input=("Varying", 2)).time_fill() == (-np.inf, False)
    assert AggregationLayer(Mean, 1, Input=("Varying", 2)).time_fill() == (0.0, True)
    assert AggregationLayer(Total, 1, Input=("Varying", 2)).time_fill() == (0.0, False)
    assert SoftmaxLayer(1, Input=("Varying", 2)).time_fill() == (-np.inf, False)


def test_param_checks_run_on_every_construction_path():
    """_make (edits, inference, Import) checks as the constructor does, with no hand call."""
    good = ElementwiseLayer("Tanh", Input=2)
    with pytest.raises(LayerError, match="unknown function Banana"):
        ElementwiseLayer._make({"function": Symbol("Banana")}, {}, {}, {})
    with pytest.raises(LayerError, match="unknown function Banana"):
        good._replace(params={"function": Symbol("Banana")})
    with pytest.raises(LayerError, match="expected a function, but received 'Tanh'"):
        ElementwiseLayer._make({"function": "Tanh"}, {}, {}, {})
    with pytest.raises(LayerError, match="ThreadingLayer: expected an input count"):
        ThreadingLayer._make({"function": Symbol("Plus"), "n": -1}, {}, {}, {})
    with pytest.raises(LayerError, match="unknown aggregation function"):
        AggregationLayer._make({"function": Symbol("Tanh"), "levels": All, "default": False},
                               {}, {}, {})
    with pytest.raises(LayerError, match="LinearLayer: expected an output size"):
        LinearLayer._make({"size": (0,), "biases": True}, {}, {}, {})


def test_the_function_params_are_declared():
    assert ElementwiseLayer.function_params == ("function",)
    assert AggregationLayer.function_params == ("function",)
    assert LinearLayer.function_params == ()


# -- a toy head, added through the public extension path (under 40 lines) -----------------------
class TwiceLayer(Layer):
    """TwiceLayer(): 2 x, elementwise."""

    time = "pointwise"   # each step alone: sequences of several lengths batch together

    def __init__(self, **opts):
        self._init({}, opts)

    def infer(self, ins, outs):
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        return {"Input": PortType(y.dims, "Real")}, {"Output": PortType(x.dims, "Real")}


@lowers(TwiceLayer)
class TwiceModule(LayerModule):
    def __init__(self, layer):
        super().__init__()

    def forward(self, x):       # (batch, ...) -> (batch, ...)
        return 2 * x


def test_a_toy_head_added_through_the_extension_path():
    w, b = np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([0.5, 0.0])
    net = NetChain([LinearLayer(2, Weights=w, Biases=b), TwiceLayer()], Input=2)
    assert net.out_types["Output"] == PortType((2,), "Real")
    np.testing.assert_allclose(net([1.0, 3.0]), 2 * (w @ [1.0, 3.0] + b), rtol=1e-6)
    assert builder_for(TwiceLayer()) is TwiceModule
    seq = NetChain([TwiceLayer()], Input=("Varying", 2))
    assert lower(seq).mask_safe   # its time fact is read by bucketing
    out = seq([[[1.0, 2.0]], [[1.0, 2.0], [3.0, 4.0]]])
    np.testing.assert_allclose(out[1], [[2.0, 4.0], [6.0, 8.0]])


def _samples():
    import test_io_netfile  # tests/ is on sys.path: one valid value of every head
    return test_io_netfile.SAMPLES


@pytest.mark.parametrize("head, key, bad", [
    ("DropoutLayer", "p", "banana"), ("DropoutLayer", "method", "Banana"),
    ("BatchNormalizationLayer", "epsilon", -1.0), ("BatchNormalizationLayer", "momentum", 2.0),
    ("BatchNormalizationLayer", "interleaving", "yes"), ("BatchNormalizationLayer", "channels", 0),
    ("CrossEntropyLossLayer", "form", "Banana"), ("EmbeddingLayer", "size", 0),
    ("EmbeddingLayer", "n", -3), ("AttentionLayer", "net", "Banana"),
    ("AttentionLayer", "rescaling", "x"), ("AttentionLayer", "dropout", 1.5),
    ("AttentionLayer", "mask", "x"), ("AttentionLayer", "weights", "x"),
    ("CatenateLayer", "n", -1), ("DotLayer", "n", 2.5), ("TotalLayer", "n", "three"),
    ("PartLayer", "spec", "x"), ("PartLayer", "list", "x"),
    ("NetBidirectionalOperator", "aggregation", "x"), ("NetBidirectionalOperator", "copies", 1),
    ("ReplicateLayer", "spec", "x"), ("ReplicateLayer", "level", 0),
    ("ThreadingLayer", "n", -1), ("LinearLayer", "biases", "yes"),
    ("LongShortTermMemoryLayer", "dropout", 0.5), ("SoftmaxLayer", "level", 0),
    ("AggregationLayer", "levels", "x"), ("AggregationLayer", "default", "x"),
])
def test_a_bad_param_is_refused_on_every_construction_path(head, key, bad):
    layer = _samples()[head]()
    assert key in layer.params
    with pytest.raises(LayerError, match=f"^{head}: "):
        type(layer)._make({**layer.params, key: bad}, dict(layer.in_types),
                          dict(layer.out_types), dict(layer.arrays))


def test_a_transpose_that_moves_the_time_level_unties_the_length():
    """TransposeLayer's output length is its input's only while the time level stays first;
    evaluation of ragged examples is exact either way (such a layer runs on equal lengths)."""
    from netgraph.backend.lengths import node_lengths
    moved = TransposeLayer((1, 2), Input=("Varying", "Varying"))
    assert moved.length_shift == UNTIED_LENGTH
    assert node_lengths(moved, {"Input": ("Input", 0)})["Output"] == ("Input", UNTIED_LENGTH)
    x = [np.arange(6.0).reshape(2, 3), np.arange(4.0).reshape(4, 1)]
    assert [o.shape for o in moved(x)] == [(3, 2), (1, 4)]
    np.testing.assert_array_equal(moved(x)[0], x[0].T)
