"""LearningRateMultipliers and per-array settings: WL's rule specs, first match wins."""
import numpy as np
import pytest

from netgraph import *  # noqa: F403
from netgraph.train.arrays import ArrayRef, lookup, matches, parse_rules

QUIET = {"TrainingProgressReporting": None}
X = np.random.default_rng(0).normal(size=(16, 3))
DATA = {"Input": X, "Output": X.sum(1)}
KEYS = ("1", "2", "3")


def ref(path, name="Weights"):
    return ArrayRef(path, name, (), tuple(KEYS for _ in path) + (("Weights", "Biases"),))


def test_spec_matching():
    assert matches(All, ref(("2",)))
    assert matches(2, ref(("2",))) and not matches(2, ref(("3",)))
    assert matches(-1, ref(("3",)))
    assert matches(slice(2, 3), ref(("3",))) and not matches(slice(2, 3), ref(("1",)))
    assert matches(slice(None, -2), ref(("1",)))
    assert matches("2", ref(("2",)))
    assert matches((3, "Biases"), ref(("3",), "Biases"))
    assert not matches((3, "Biases"), ref(("3",), "Weights"))
    assert matches((All, "Weights"), ref(("1",)))
    nested = ArrayRef(("2", "1"), "Weights", (), (KEYS, ("1", "2"), ("Weights",)))
    assert matches((2, 1), nested) and not matches((2, 2), nested)


def test_first_match_wins():
    rules = parse_rules("LearningRateMultipliers", [(1, 0), (All, 2)], 1.0)
    assert lookup(rules, ref(("1",)), 1.0) == 0 and lookup(rules, ref(("2",)), 1.0) == 2
    rules = parse_rules("LearningRateMultipliers", [(All, 2), (1, 0)], 1.0)
    assert lookup(rules, ref(("1",)), 1.0) == 2
    assert parse_rules("LearningRateMultipliers", 0.5, 1.0)[0][1:] == (All, 0.5)
    assert lookup(parse_rules("X", {3: None}, 1.0), ref(("3",)), 1.0) is None


def test_bad_rules():
    with pytest.raises(OptionError, match="rules"):
        parse_rules("LearningRateMultipliers", "all", 1.0)
    with pytest.raises(OptionError, match="numbers or None"):
        parse_rules("LearningRateMultipliers", [(1, "fast")], 1.0)
    with pytest.raises(OptionError, match="array spec"):
        matches(2.5, ref(("1",)))


def mlp(**opts):
    return NetChain([LinearLayer(4), Tanh, LinearLayer()], Input=3, Output="Real", **opts)


def trained(net=None, **opts):
    kw = {"MaxTrainingRounds": 2, "BatchSize": 4, **QUIET, **opts}
    return NetTrain(mlp() if net is None else net, DATA, **kw)


def changed(a, b, layer):
    return not np.array_equal(NetExtract(a, (layer, "Weights")),
                              NetExtract(b, (layer, "Weights")))


def test_freezing_with_zero_or_none():
    init = NetInitialize(mlp())
    for value in (0, None):
        net = trained(LearningRateMultipliers=[(1, value)])
        assert not changed(net, init, 1) and changed(net, init, 3)
    net = trained(LearningRateMultipliers=[(All, 1), (1, 0)])   # All matches first
    assert changed(net, init, 1)


def test_graph_level_multipliers_apply_inside_the_graph():
    init = NetInitialize(mlp())
    net = trained(mlp(LearningRateMultipliers=[(3, None)]))
    assert changed(net, init, 1) and not changed(net, init, 3)
    net = trained(mlp(LearningRateMultipliers=[(3, None)]), LearningRateMultipliers=[(3, 1)])
    assert changed(net, init, 3)                                # NetTrain's rules come first


def test_negative_multiplier_ascends():
    down = NetTrain(mlp(), DATA, "RoundLossList", LearningRateMultipliers=1, BatchSize=16,
                    MaxTrainingRounds=4, Method=("SGD", {"Momentum": None}), **QUIET)
    up = NetTrain(mlp(), DATA, "RoundLossList", LearningRateMultipliers=-1, BatchSize=16,
                  MaxTrainingRounds=4, Method=("SGD", {"Momentum": None}), **QUIET)
    assert down[-1] < down[0] and up[-1] > up[0]


def test_multipliers_are_reported():
    r = trained(None, LearningRateMultipliers=[(1, 0.5)])
    assert NetTrain  # noqa: B018
    lrm = NetTrain(mlp(), DATA, "ArraysLearningRateMultipliers", MaxTrainingRounds=1,
                   LearningRateMultipliers=[(1, 0.5)], **QUIET)
    assert lrm[("1", "Weights")] == 0.5 and lrm[("3", "Biases")] == 1.0
    assert r.is_initialized()


def test_every_array_frozen_is_an_error():
    with pytest.raises(TrainingError, match="nothing to train"):
        trained(LearningRateMultipliers=0)


def test_arrays_sharing_a_parameter_must_agree():
    net = NetChain([LongShortTermMemoryLayer(2), SequenceLastLayer(), LinearLayer()],
                   Input=(2, 1), Output="Real")
    data = {"Input": np.zeros((4, 2, 1)), "Output": np.zeros(4)}
    with pytest.raises(TrainingError, match="one torch parameter"):
        NetTrain(net, data, MaxTrainingRounds=1, **QUIET,
                 LearningRateMultipliers=[((1, "ForgetGateBiases"), 0)])


def test_a_layers_own_learning_rate_multipliers_are_used(tmp_path):
    # LinearLayer(..., LearningRateMultipliers=0) used to be accepted and dropped
    data = {"Input": np.random.default_rng(0).normal(size=(16, 2)), "Output": np.ones(16)}
    frozen = NetInitialize(NetChain([LinearLayer(3, LearningRateMultipliers=0), Tanh,
                                     LinearLayer()], Input=2, Output="Real"))
    trained = NetTrain(frozen, data, MaxTrainingRounds=2, TrainingProgressReporting=None)
    assert np.array_equal(NetExtract(trained, (1, "Weights")), NetExtract(frozen, (1, "Weights")))
    assert not np.array_equal(NetExtract(trained, (3, "Weights")),
                              NetExtract(frozen, (3, "Weights")))
    rules = LinearLayer(3, LearningRateMultipliers=[("Biases", 0)], Input=2)
    path = Export(str(tmp_path / "l.netgraph"), rules)
    assert Import(path).params["lrm"] == [("Biases", 0)]
    with pytest.raises(LayerError, match=r"LinearLayer: expected LearningRateMultipliers to be "
                       r"a number, None, Automatic or rules"):
        LinearLayer(3, LearningRateMultipliers="fast")
