"""TrainingProgressReporting, TrainingProgressFunction and TrainingStoppingCriterion."""
import numpy as np
import pytest

from netgraph import *  # noqa: F403
from netgraph.train.progress import Interval, StoppingCriterion, parse_interval
from netgraph.train.results import History

X = np.random.default_rng(0).normal(size=(16, 3))
DATA = {"Input": X, "Output": X.sum(1)}


def train(*args, **opts):
    kw = {"MaxTrainingRounds": 3, "BatchSize": 4, **opts}
    net = NetChain([LinearLayer(4), Tanh, LinearLayer()], Input=3, Output="Real")
    return NetTrain(net, DATA, *args, **kw)


def test_none_is_silent(capsys):
    train(TrainingProgressReporting=None)
    assert capsys.readouterr() == ("", "")


def test_automatic_off_a_terminal_prints_one_final_line(capsys):
    train()
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("NetTrain: 3 round(s), 12 batch(es)")


def test_print_lines(capsys):
    train(TrainingProgressReporting=("Print", {"Interval": (1, "Rounds")}))
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split(",")[0] for ln in lines[:3]] == ["Round 1/3", "Round 2/3", "Round 3/3"]
    assert "loss" in lines[0] and "examples/s" in lines[0]
    assert lines[-1].startswith("NetTrain:")


def test_progress_bar_form(capsys):
    train(TrainingProgressReporting="ProgressIndicator")
    err = capsys.readouterr().err
    assert "12/12" in err and "loss" in err
    # the bar's last state names the last round, not one past it (was round=4/3)
    assert "round=3/3" in err and "round=4/3" not in err


def test_training_complete_info_names_the_last_round():
    h = History(total_rounds=2, batches_per_round=1, batch_size=1)
    for _ in range(2):
        h.record_batch(1.0, 1)
        h.finish_round()
    info = h.info(lambda: None, "TrainingComplete")
    assert info["Round"] == 2 and info["Batch"] == 1


def test_reporting_function_and_bad_forms():
    seen = []
    train(TrainingProgressReporting=seen.append)
    assert [i["Round"] for i in seen] == [1, 2, 3]
    with pytest.raises(OptionError, match="TrainingProgressReporting"):
        train(TrainingProgressReporting="Panelz")


def test_progress_function_keys():
    seen = []
    train(TrainingProgressReporting=None, TrainingProgressFunction=seen.append,
          ValidationSet=Scaled(0.25))
    info = seen[-1]
    for key in ("Round", "Batch", "BatchLoss", "RoundLoss", "ValidationLoss", "Net",
                "ExamplesProcessed", "TimeElapsed", "BatchesPerRound", "TotalBatches",
                "LearningRate", "RoundLossList", "ProgressFraction"):
        assert key in info
    assert info["Round"] == 3 and info["Batch"] == 3 and info["ExamplesProcessed"] == 36
    assert info["Net"].is_initialized() and info["ProgressFraction"] == 1.0


def test_stop_training_and_intervals():
    calls = []

    def f(info):
        calls.append(info["AbsoluteBatch"])
        return "StopTraining" if len(calls) == 2 else None
    r = train(All, TrainingProgressReporting=None,
              TrainingProgressFunction=(f, {"Interval": (1, "Batches")}))
    assert calls == [1, 2] and r["TotalBatches"] == 2
    assert r["ReasonTrainingStopped"] == "StopTraining"
    r = train(All, TrainingProgressReporting=None,
              TrainingProgressFunction=lambda info: "StopTraining")
    assert r["TotalRounds"] == 1
    with pytest.raises(OptionError, match="function"):
        train(TrainingProgressFunction=3)


def test_parse_interval():
    assert parse_interval(2, "x") == Interval("round", 2.0)
    assert parse_interval((3, "Batches"), "x") == Interval("batch", 3.0)
    assert parse_interval((1, "Minutes"), "x") == Interval("second", 60.0)
    with pytest.raises(OptionError, match="Interval"):
        parse_interval((1, "Weeks"), "x")


def history(losses):
    h = History(1, 10, 4)
    for v in losses:
        h.record_batch(v, 4)
        h.finish_round()
    return h


def stops(spec, losses):
    s = StoppingCriterion(spec)
    out = []
    for i in range(1, len(losses) + 1):
        out.append(s.stop(history(losses[:i]), lambda: {}))
    return out


def test_stopping_criterion():
    assert stops(None, [3, 2, 2.5]) == [False] * 3
    assert stops("Loss", [3, 2, 2.5]) == [False, False, True]
    assert stops({"Criterion": "Loss", "Patience": 1}, [3, 2, 2.5, 2.4, 2.6]) == [
        False, False, False, True, True]
    assert stops({"Criterion": "Loss", "Improvement": {"AbsoluteChange": 0.5}},
                 [3, 2.8, 2]) == [False, True, False]
    assert stops({"Criterion": "Loss", "Improvement": {"RelativeChange": 0.1}},
                 [3, 2.8]) == [False, True]
    assert stops({"Criterion": "Loss", "InitialPatience": 3}, [3, 4, 5, 6]) == [
        False, False, False, True]
    with pytest.raises(OptionError, match="TrainingStoppingCriterion"):
        StoppingCriterion({"Criteria": "Loss"})


def test_stopping_in_netTrain():
    r = train(All, TrainingProgressReporting=None, MaxTrainingRounds=30,
              ValidationSet=Scaled(0.25), Method=("ADAM", {"LearningRate": 0.5}),
              TrainingStoppingCriterion={"Criterion": lambda info: info["Round"] >= 2})
    assert r["TotalRounds"] == 2 and r["ReasonTrainingStopped"] == "StoppingCriterionSatisfied"


def test_a_progress_function_may_return_anything():
    # an array used to raise "truth value of an array is ambiguous"; only "StopTraining" stops
    r = train(TrainingProgressReporting=None, TrainingProgressFunction=lambda i: np.ones(3))
    assert r.is_initialized()
    seen = []
    train(TrainingProgressReporting=lambda i: seen.append(i["Round"]) or np.zeros(2))
    assert seen == [1, 2, 3]
