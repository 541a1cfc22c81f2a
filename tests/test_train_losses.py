"""Loss specs -> the training net: automatic losses, spec forms, weights, typing from data."""
import numpy as np
import pytest

from netgraph import *  # noqa: F403
from netgraph.train.losses import NODE, automatic_loss, loss_terms, training_net, typed

X = np.random.default_rng(0).normal(size=(6, 3))
QUIET = {"TrainingProgressReporting": None}


def chain(*layers):
    return NetChain([LinearLayer(4), *layers], Input=3)


def terms(net, spec, columns):
    return [(t.name, t.port, t.weight, None if t.layer is None else t.layer.head)
            for t in loss_terms(net, spec, columns)]


def test_automatic_loss_follows_the_last_layer():
    idx = np.array([1, 2, 3])
    assert automatic_loss(chain(SoftmaxLayer()), "Output", idx).params["form"] == "Index"
    probs = np.full((3, 4), 0.25)
    assert automatic_loss(chain(SoftmaxLayer()), "Output", probs).params["form"] == \
        "Probabilities"
    assert automatic_loss(chain(LogisticSigmoid), "Output", None).params["form"] == "Binary"
    assert automatic_loss(chain(Tanh), "Output", None).head == "MeanSquaredLossLayer"


def test_automatic_uses_the_nets_own_losses():
    net = NetGraph({"l": LinearLayer(), "loss": MeanSquaredLossLayer()},
                   [("l", NetPort("loss", "Input"))], Input=3)
    assert terms(net, Automatic, {"Input": X, "Target": X[:, 0]}) == [
        ("Loss", "Loss", 1.0, None)]


def test_automatic_attaches_a_loss_to_each_output_with_a_target():
    net = NetGraph({"a": LinearLayer(2), "b": LinearLayer(3)}, [], Input=3)
    got = terms(net, Automatic, {"Input": X, "Output2": np.zeros((6, 3))})
    assert got == [("Output2Loss", "Output2", 1.0, "MeanSquaredLossLayer")]


def test_spec_forms():
    net = chain(Tanh, LinearLayer(2))
    c = {"Input": X, "Output": np.zeros((6, 2))}
    mse = [("OutputLoss", "Output", 1.0, "MeanSquaredLossLayer")]
    assert terms(net, "Output", c) == mse
    assert terms(net, ["Output"], c) == mse
    assert terms(net, {"Output": Scaled(2)}, c) == [("OutputLoss", "Output", 2.0,
                                                     "MeanSquaredLossLayer")]
    assert terms(net, ("Output", Scaled(0.5)), c)[0][2] == 0.5
    assert terms(net, MeanAbsoluteLossLayer(), c)[0][3] == "MeanAbsoluteLossLayer"
    assert terms(net, ("Output", MeanAbsoluteLossLayer(), Scaled(3)), c)[0][2:] == (
        3.0, "MeanAbsoluteLossLayer")
    # a port without target data is used as a loss itself (summed)
    assert terms(net, {"Output": Scaled(1)}, {"Input": X}) == [("Output", "Output", 1.0, None)]


def test_spec_errors():
    net = chain(Tanh)
    c = {"Input": X, "Output": np.zeros((6, 4))}
    with pytest.raises(OptionError, match='Did you mean "Output"'):
        loss_terms(net, "Outptu", c)
    with pytest.raises(OptionError, match="given twice"):
        loss_terms(net, ["Output", "Output"], c)
    with pytest.raises(OptionError, match="expected LossFunction"):
        loss_terms(net, 3.5, c)
    with pytest.raises(OptionError, match="loss layer, Scaled"):
        loss_terms(net, {"Output": "mean"}, c)


def test_training_net_structure():
    net = NetGraph({"a": LinearLayer(2), "b": LinearLayer(3)}, [], Input=3)
    c = {"Input": X, "Output1": np.zeros((6, 2))}
    ob = typed(training_net(net, loss_terms(net, Automatic, c)), c)
    g = ob.net
    assert set(g.params["inputs"]) == {"Input", "Output1"}       # target named after port
    assert set(g.params["outputs"]) == {"Output1Loss", "Output2"}  # other outputs stay
    assert ob.targets == ("Output1",)
    assert g.nodes[NODE] is not None


def test_typed_infers_shapes_from_data():
    c = {"Input": np.zeros((5, 2)), "Output": np.zeros(5)}
    net = LinearLayer()
    ob = typed(training_net(net, loss_terms(net, Automatic, c)), c)
    inner = ob.net.nodes[NODE]
    assert Information(inner, "InputPorts") == {"Input": 2}
    assert Information(inner, "OutputPorts") == {"Output": "Real"}
    with pytest.raises(ShapeError, match="the training data"):
        typed(training_net(LinearLayer(3), loss_terms(LinearLayer(3), Automatic, c)), c)


def test_weights_scale_the_objective():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 3))
    d = {"Input": x, "Output": x.sum(1)}
    opts = {"MaxTrainingRounds": 1, "BatchSize": 16, **QUIET}
    net = NetChain([LinearLayer()], Input=3, Output="Real")
    one = NetTrain(net, d, {"Output": Scaled(1)}, "BatchLossList", **opts)
    two = NetTrain(net, d, {"Output": Scaled(2)}, "BatchLossList", **opts)
    assert two[0] == pytest.approx(2 * one[0], rel=1e-6)


def test_several_losses_are_summed_with_their_weights():
    net = NetGraph({"a": LinearLayer(), "b": LinearLayer()}, [], Input=3)
    d = {"Input": X, "Output1": np.ones(6), "Output2": np.zeros(6)}
    opts = {"MaxTrainingRounds": 1, "BatchSize": 6, **QUIET}
    trainer = NetTrain(net, d, {"Output1": Scaled(1), "Output2": Scaled(3)}, "$Trainer",
                       **opts)
    parts = trainer["CurrentLoss"]
    total = NetTrain(net, d, {"Output1": Scaled(1), "Output2": Scaled(3)}, "BatchLossList",
                     **opts)[0]
    assert total == pytest.approx(parts["Output1Loss"] + 3 * parts["Output2Loss"], rel=1e-5)


def test_array_valued_loss_port_is_summed():
    net = NetGraph({"l": LinearLayer(2)}, [], Input=3)
    trainer = NetTrain(net, {"Input": X}, {"Output": Scaled(1)}, "$Trainer",
                       MaxTrainingRounds=1, BatchSize=6, **QUIET)
    out = trainer["OutputArrays"]["Output"]
    assert trainer["CurrentLoss"]["Output"] == pytest.approx(float(out.sum(1).mean()))


def test_a_zero_weighted_port_changes_nothing():
    g = NetGraph({"a": LinearLayer(4), "b": Tanh, "c": LinearLayer()},
                 [("a", "b", "c"), ("b", NetPort("Aux"))], Input=3, Output="Real")
    d = {"Input": X, "Output": X.sum(1)}
    opts = {"MaxTrainingRounds": 3, "BatchSize": 2, **QUIET}
    plain = NetTrain(g, d, {"Output": Scaled(1)}, **opts)
    extra = NetTrain(g, d, {"Output": Scaled(1), "Aux": Scaled(0)}, **opts)
    for k in ("a", "c"):
        assert np.array_equal(NetExtract(plain, (k, "Weights")),
                              NetExtract(extra, (k, "Weights")))
        assert np.array_equal(NetExtract(plain, (k, "Biases")),
                              NetExtract(extra, (k, "Biases")))
