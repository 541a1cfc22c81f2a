"""TrainingProgressMeasurements in NetTrain: values, properties, TrainedNet, stopping."""
import numpy as np
import pytest
from sklearn import metrics

from netgraph import *  # noqa: F403

RNG = np.random.default_rng(1)
X = RNG.normal(size=(96, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64) + 1 + (X[:, 1] > 0.5)          # classes 1..3
VX = RNG.normal(size=(40, 4)).astype(np.float32)
VY = (VX[:, 0] > 0).astype(np.int64) + 1 + (VX[:, 1] > 0.5)
NET = NetChain([LinearLayer(3), SoftmaxLayer()], Input=4)


def train(*props, **opts):
    opts = {"MaxTrainingRounds": 3, "BatchSize": 32, "TrainingProgressReporting": None,
            "RandomSeeding": 5, **opts}
    return NetTrain(NET, {"Input": X, "Output": Y}, All, **opts)


def probs(net, x):
    return np.asarray(net(x))


def test_validation_measurements_equal_sklearn_on_the_final_net():
    r = train(ValidationSet={"Input": VX, "Output": VY},
              TrainingProgressMeasurements=["Accuracy", "Precision", "ConfusionMatrix",
                                            {"Measurement": "F1Score",
                                             "ClassAveraging": "Macro"}])
    v = r["ValidationMeasurements"]
    assert list(v) == ["Loss", "Accuracy", "Precision", "ConfusionMatrix", "F1Score"]
    pred = probs(r["FinalNet"], VX).argmax(1) + 1
    assert v["Accuracy"] == pytest.approx(metrics.accuracy_score(VY, pred))
    assert np.array_equal(v["ConfusionMatrix"],
                          metrics.confusion_matrix(VY, pred, labels=[1, 2, 3]))
    ref = metrics.precision_score(VY, pred, labels=[1, 2, 3], average=None, zero_division=np.nan)
    assert [v["Precision"][c] for c in (1, 2, 3)] == pytest.approx(list(ref), nan_ok=True)
    assert v["F1Score"] == pytest.approx(  # Macro leaves out undefined classes, as sklearn
        metrics.f1_score(VY, pred, labels=[1, 2, 3], average="macro", zero_division=np.nan))
    assert v["Loss"] == r["ValidationLoss"]


def test_round_and_batch_lists():
    r = train(TrainingProgressMeasurements=["Accuracy", "Recall"])
    rounds, batches = r["RoundMeasurementsLists"], r["BatchMeasurementsLists"]
    assert list(rounds) == ["Loss", "Accuracy", "Recall"] and len(rounds["Accuracy"]) == 3
    assert rounds["Loss"] == r["RoundLossList"]
    assert list(batches) == ["Loss", "Accuracy"]      # per-class ones are per round only
    assert len(batches["Accuracy"]) == r["TotalBatches"] == 9
    # a round's accuracy is the example-weighted mean of its batches' (equal batches here)
    assert rounds["Accuracy"][0] == pytest.approx(np.mean(batches["Accuracy"][:3]))
    assert r["RoundMeasurements"]["Accuracy"] == rounds["Accuracy"][-1]


def test_automatic_measures_error_rate_with_one_cross_entropy_loss():
    r = train(ValidationSet={"Input": VX, "Output": VY})
    assert list(r["ValidationMeasurements"]) == ["Loss", "ErrorRate"]
    r = train(TrainingProgressMeasurements=None)
    assert list(r["RoundMeasurements"]) == ["Loss"]


def test_regression_measurements():
    net = NetChain([LinearLayer(1)], Input=4)
    y = X @ np.array([1.0, -2.0, 0.5, 0.0], np.float32)[:, None]
    r = NetTrain(net, {"Input": X, "Output": y}, All, MaxTrainingRounds=2, BatchSize=96,
                 TrainingProgressReporting=None, ValidationSet={"Input": X, "Output": y},
                 TrainingProgressMeasurements=["MeanSquare", "RSquared", "MeanDeviation"])
    pred = np.asarray(r["FinalNet"](X))
    v = r["ValidationMeasurements"]
    assert v["MeanSquare"] == pytest.approx(metrics.mean_squared_error(y, pred), rel=1e-5)
    assert v["RSquared"] == pytest.approx(metrics.r2_score(y, pred), rel=1e-5)
    assert v["MeanDeviation"] == pytest.approx(metrics.mean_absolute_error(y, pred), rel=1e-5)


def test_port_and_function_measurements():
    seen = []

    def f(info):
        seen.append(info["Round"])
        return 2.5

    r = train(TrainingProgressMeasurements=[
        {"Measurement": NetPort("Output"), "Aggregation": "Total"},
        {"Measurement": f, "Key": "two", "Interval": "Round"}])
    # the softmax output sums to 1 per example: its batch mean totals 1
    assert r["RoundMeasurements"]["Output"] == pytest.approx(1.0)
    assert r["RoundMeasurementsLists"]["two"] == [2.5, 2.5, 2.5] and len(seen) == 3
    bad = {"Measurement": lambda info: "x", "Key": "bad"}
    with pytest.raises(TrainingError, match='custom measurement "bad" gave .x., which is not a '
                                            'real number'):
        train(TrainingProgressMeasurements=bad)


def test_trained_net_has_the_lowest_validation_error_rate():
    r = train(MaxTrainingRounds=6, ValidationSet={"Input": VX, "Output": VY},
              TrainingProgressMeasurements="ErrorRate", LearningRate=0.3)
    errs = r["ValidationMeasurementsLists"]["ErrorRate"]
    losses = r["ValidationLossList"]
    best = min(range(len(errs)), key=lambda i: (errs[i], losses[i]))
    assert r["BestValidationRound"] == best + 1
    pred = probs(r["TrainedNet"], VX).argmax(1) + 1
    assert 1 - metrics.accuracy_score(VY, pred) == pytest.approx(errs[best])


def test_trained_net_by_the_stopping_criterion_measurement():
    r = train(MaxTrainingRounds=6, ValidationSet={"Input": VX, "Output": VY},
              TrainingProgressMeasurements=["Accuracy"], LearningRate=0.3,
              TrainingStoppingCriterion={"Criterion": "Accuracy", "Patience": 10})
    acc = r["ValidationMeasurementsLists"]["Accuracy"]
    losses = r["ValidationLossList"]
    best = min(range(len(acc)), key=lambda i: (-acc[i], losses[i]))
    assert r["BestValidationRound"] == best + 1


def test_stopping_on_a_measurement_with_patience():
    # An unreachable improvement: stop after 1 + Patience rounds without one.
    r = train(MaxTrainingRounds=20, ValidationSet={"Input": VX, "Output": VY},
              TrainingProgressMeasurements=["Accuracy"],
              TrainingStoppingCriterion={"Criterion": "Accuracy", "Patience": 2,
                                         "AbsoluteChange": 2.0})
    assert r["TotalRounds"] == 4 and r["ReasonTrainingStopped"] == "StoppingCriterionSatisfied"
    with pytest.raises(OptionError, match='TrainingStoppingCriterion "Acuracy" is not measured'
                                          '. Did you mean "Accuracy"'):
        train(TrainingProgressMeasurements=["Accuracy"], TrainingStoppingCriterion="Acuracy")
    with pytest.raises(OptionError, match='"Precision" is not a single number'):
        train(TrainingProgressMeasurements=["Precision"], TrainingStoppingCriterion="Precision")
    macro = {"Measurement": "Precision", "ClassAveraging": "Macro"}
    assert train(TrainingProgressMeasurements=[macro], TrainingStoppingCriterion="Precision")
    with pytest.raises(TrainingError, match='"Output" is not a single number'):
        train(TrainingProgressMeasurements=[NetPort("Output")],
              TrainingStoppingCriterion="Output")


def test_stopping_on_a_decreasing_measurement_without_validation():
    r = train(MaxTrainingRounds=20, TrainingProgressMeasurements=["ErrorRate"],
              TrainingStoppingCriterion={"Criterion": "ErrorRate", "Patience": 1,
                                         "AbsoluteChange": 2.0})
    assert r["TotalRounds"] == 3


def test_measurement_errors():
    with pytest.raises(OptionError, match='"MeanSquare" needs exactly one output trained with '
                                          'a MeanSquaredLossLayer'):
        train(TrainingProgressMeasurements="MeanSquare")
    with pytest.raises(OptionError, match='NetPort\\("Nope"\\) names no output'):
        train(TrainingProgressMeasurements=NetPort("Nope"))
    with pytest.raises(OptionError, match='"ConfusionMatrixPlot" is a plot'):
        train(TrainingProgressMeasurements="ConfusionMatrixPlot")
    with pytest.raises(OptionError, match="k below the number of classes \\(3 for the output "
                                          '"Output"\\), but k = 3'):
        train(TrainingProgressMeasurements=("Accuracy", 3))
    with pytest.raises(OptionError, match='"Source"'):
        train(TrainingProgressMeasurements={"Measurement": "Accuracy", "Source": "Input"})


def test_final_plots_and_print_report(capsys):
    r = train(ValidationSet={"Input": VX, "Output": VY},
              TrainingProgressMeasurements=["Accuracy", "Precision"],
              TrainingProgressReporting=("Print", {"Interval": (1, "Rounds")}))
    out = capsys.readouterr().out
    assert "Accuracy" in out and "Precision" in out
    plots = r["FinalPlots"]
    assert list(plots) == ["Loss", "Accuracy"]     # per-class Precision has no one line
    assert plots["Accuracy"].axes[0].get_ylabel() == "Accuracy"


def test_measuring_does_not_change_training():
    a = train(TrainingProgressMeasurements=None)["FinalNet"]
    b = train(TrainingProgressMeasurements=["Accuracy", "AUC", "Entropy"])["FinalNet"]
    for k in ("Weights", "Biases"):
        wa = NetExtract(NetExtract(a, 1), k)
        wb = NetExtract(NetExtract(b, 1), k)
        assert np.array_equal(np.asarray(wa), np.asarray(wb))


def test_file_log_csv_tsv_json(tmp_path):
    import csv
    import json
    path = tmp_path / "log.csv"
    r = train(ValidationSet={"Input": VX, "Output": VY},
              TrainingProgressMeasurements=["Accuracy", "Precision", "ConfusionMatrix"],
              TrainingProgressReporting=File(str(path)))
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert len(rows) == 3 and [int(x["Round"]) for x in rows] == [1, 2, 3]
    assert {"RoundLoss", "RoundAccuracy", "RoundPrecision", "ValidationLoss",
            "ValidationAccuracy", "CurrentLoss", "CurrentAccuracy", "LearningRate",
            "ExamplesProcessed"} <= set(rows[0])
    assert not any("ConfusionMatrix" in k for k in rows[0])      # not a number
    lists = r["RoundMeasurementsLists"]
    assert [float(x["RoundLoss"]) for x in rows] == pytest.approx(lists["Loss"])
    assert [float(x["ValidationAccuracy"]) for x in rows] == pytest.approx(
        r["ValidationMeasurementsLists"]["Accuracy"])
    macro = [np.nanmean(list(p.values())) for p in lists["Precision"]]
    assert [float(x["RoundPrecision"]) for x in rows] == pytest.approx(macro)
    tsv = tmp_path / "log.tsv"
    train(TrainingProgressReporting=File(tsv))
    assert tsv.read_text().splitlines()[0].split("\t")[:2] == ["ProgressFraction", "Round"]
    js = tmp_path / "log.json"
    train(TrainingProgressReporting=[File(str(js)), None])
    assert [rec["Round"] for rec in json.loads(js.read_text())] == [1, 2, 3]
    with pytest.raises(OptionError, match='File\\(path\\) with a .csv, .tsv or .json file'):
        train(TrainingProgressReporting=File(str(tmp_path / "log.xlsx")))
    assert repr(File("log.csv")) == 'File("log.csv")'


def test_tensorboard_log(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    r = train(ValidationSet={"Input": VX, "Output": VY},
              TrainingProgressMeasurements=["Accuracy", "Precision"],
              TrainingProgressReporting=("TensorBoard", str(tmp_path)))
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"batch/Loss", "batch/Accuracy", "round/Loss", "round/Accuracy", "round/Precision",
            "validation/Loss", "validation/Accuracy", "round/LearningRate"} <= tags
    batch = events.Scalars("batch/Loss")
    assert [e.step for e in batch] == list(range(1, 10))
    assert [e.value for e in batch] == pytest.approx(r["BatchLossList"], rel=1e-6)
    val = events.Scalars("validation/Accuracy")
    assert [e.step for e in val] == [1, 2, 3]
    assert [e.value for e in val] == pytest.approx(
        r["ValidationMeasurementsLists"]["Accuracy"], rel=1e-6)


def test_tensorboard_missing_is_a_clear_error(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(OptionError, match='"TensorBoard" needs the tensorboard package'):
        train(TrainingProgressReporting="TensorBoard")


def test_each_loss_port_is_measured_when_there_are_several():
    net = NetGraph({"a": LinearLayer(2), "b": LinearLayer(1)},
                   [(NetPort("Input"), "a", NetPort("A")), (NetPort("Input"), "b", NetPort("B"))],
                   Input=4)
    data = {"Input": X, "A": X[:, :2], "B": X[:, 2:3]}
    r = NetTrain(net, data, All, MaxTrainingRounds=2, BatchSize=32, TrainingProgressReporting=None,
                 ValidationSet=data)
    rounds, val = r["RoundMeasurementsLists"], r["ValidationMeasurements"]
    assert list(rounds) == ["Loss", "ALoss", "BLoss"]
    for i in range(2):      # the total is the sum of the ports' losses
        assert rounds["ALoss"][i] + rounds["BLoss"][i] == pytest.approx(rounds["Loss"][i],
                                                                        rel=1e-5)
    assert val["ALoss"] + val["BLoss"] == pytest.approx(val["Loss"], rel=1e-5)
    assert len(r["BatchMeasurementsLists"]["ALoss"]) == r["TotalBatches"]
