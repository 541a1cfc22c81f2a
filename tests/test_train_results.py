"""NetTrainResultsObject: WL properties, legacy names, lists, repr and the loss plot."""
import numpy as np
import pytest

from netgraph import *  # noqa: F403

X = np.random.default_rng(0).normal(size=(16, 3))


@pytest.fixture(scope="module")
def results():
    net = NetChain([LinearLayer(3), Tanh, LinearLayer()], Input=3, Output="Real")
    return NetTrain(net, {"Input": X, "Output": X.sum(1)}, All, MaxTrainingRounds=3,
                    BatchSize=8, ValidationSet=Scaled(0.25), TrainingProgressReporting=None)


def test_properties(results):
    props = results["Properties"]
    for p in ("TrainedNet", "FinalNet", "RoundLossList", "BatchLossList", "ValidationLoss",
              "TotalTrainingTime", "MeanExamplesPerSecond", "LossPlot", "ResultsObject"):
        assert p in props
    assert results[All] is results and results["ResultsObject"] is results
    assert results["RoundLoss"] == results["RoundLossList"][-1]
    assert results["RoundPositions"] == [2, 4, 6]
    assert results["ValidationPositions"] == [1, 2, 3]
    assert results["ReasonTrainingStopped"] == "MaxTrainingRoundsReached"


def test_legacy_names_and_lists(results):
    assert results["FinalRoundLoss"] == results["RoundLoss"]
    assert results["FinalValidationLoss"] == results["ValidationLoss"]
    assert results["MeanInputsPerSecond"] == results["MeanExamplesPerSecond"]
    assert results["TotalInputs"] == results["ExamplesProcessed"] == 36
    a, b = results[["TotalRounds", "BatchSize"]]
    assert (a, b) == (3, 8)


def test_unknown_property(results):
    with pytest.raises(TrainingError, match='Did you mean "RoundLossList"'):
        results["RoundLossLis"]


def test_repr(results):
    text = repr(results)
    assert text.startswith("NetTrainResultsObject[TrainedNet: NetChain, TotalRounds: 3")
    assert "ValidationLoss" in text and "ADAM" in text


def test_loss_plot(results):
    from matplotlib.figure import Figure
    fig = results["LossPlot"]
    assert isinstance(fig, Figure)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["batch loss", "round loss", "validation loss"]
