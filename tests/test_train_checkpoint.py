"""TrainingProgressCheckpointing and ResumeFrom: atomic no-pickle files, exact resumption."""
import os

import numpy as np
import pytest

from netgraph import *  # noqa: F403
from netgraph.io.archive import read_archive

X = np.random.default_rng(0).normal(size=(16, 3))
DATA = {"Input": X, "Output": X.sum(1)}
QUIET = {"TrainingProgressReporting": None}


def net():
    return NetChain([LinearLayer(4), DropoutLayer(0.2), Tanh, LinearLayer()], Input=3,
                    Output="Real")


def arrays(n):
    return [np.asarray(a) for a in Information(n, "Arrays").values()]


def equal(a, b):
    return all(np.array_equal(x, y) for x, y in zip(arrays(a), arrays(b), strict=True))


def stop_after(k, unit="Round"):
    return lambda info: "StopTraining" if info["Absolute" + unit if unit == "Batch"
                                             else unit] >= k else None


@pytest.mark.parametrize("method", ["ADAM", "SGD"])
def test_resumed_run_ends_with_the_same_weights(tmp_path, method):
    opts = {"MaxTrainingRounds": 4, "BatchSize": 4, "Method": method, **QUIET}
    full = NetTrain(net(), DATA, **opts)
    d = str(tmp_path / "ck")
    NetTrain(net(), DATA, TrainingProgressCheckpointing=("Directory", d),
             TrainingProgressFunction=stop_after(2), **opts)         # interrupted
    files = sorted(os.listdir(d))
    assert len(files) == 2 and all(f.endswith(".netgraph") for f in files)
    resumed = NetTrain(net(), DATA, All, ResumeFrom=d, **opts)
    assert resumed["TotalRounds"] == 4 and len(resumed["BatchLossList"]) == 16
    assert equal(resumed["TrainedNet"], full)


def test_resume_mid_round_from_a_file(tmp_path):
    opts = {"MaxTrainingRounds": 2, "BatchSize": 4, "ValidationSet": Scaled(0.25), **QUIET}
    full = NetTrain(net(), DATA, All, **opts)
    f = str(tmp_path / "last.netgraph")
    NetTrain(net(), DATA, TrainingProgressCheckpointing=("File", f, {"Interval": (1, "Batches")}),
             TrainingProgressFunction=(lambda i: "StopTraining" if i["AbsoluteBatch"] == 5
                                       else None, {"Interval": (1, "Batches")}), **opts)
    resumed = NetTrain(net(), DATA, All, ResumeFrom=f, **opts)
    assert equal(resumed["FinalNet"], full["FinalNet"])
    assert equal(resumed["TrainedNet"], full["TrainedNet"])
    assert resumed["RoundLossList"] == pytest.approx(full["RoundLossList"])
    assert resumed["ValidationLossList"] == pytest.approx(full["ValidationLossList"])


def test_checkpoint_file_contents(tmp_path):
    f = str(tmp_path / "c.netgraph")
    r = NetTrain(net(), DATA, All, MaxTrainingRounds=1, BatchSize=8,
                 TrainingProgressCheckpointing=("File", f), **QUIET)
    assert r["CheckpointingFiles"] == [f]
    meta, arrs = read_archive(f)
    assert meta["kind"] == "TrainingCheckpoint" and meta["net"]["kind"] == "Net"
    assert any(k.startswith("optimizer/") for k in arrs)
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]   # atomic write


def test_checkpoint_errors(tmp_path):
    with pytest.raises(OptionError, match="TrainingProgressCheckpointing"):
        NetTrain(net(), DATA, MaxTrainingRounds=1, TrainingProgressCheckpointing="dir", **QUIET)
    with pytest.raises(TrainingError, match="holds no checkpoint"):
        NetTrain(net(), DATA, MaxTrainingRounds=1, ResumeFrom=str(tmp_path), **QUIET)
    f = str(tmp_path / "c.netgraph")
    NetTrain(net(), DATA, MaxTrainingRounds=1, BatchSize=8,
             TrainingProgressCheckpointing=("File", f), **QUIET)
    with pytest.raises(TrainingError, match="batches per round"):
        NetTrain(net(), DATA, MaxTrainingRounds=2, BatchSize=4, ResumeFrom=f, **QUIET)
    Export(str(tmp_path / "n.netgraph"), NetInitialize(LinearLayer(2, Input=3)))
    with pytest.raises(TrainingError, match="not a training checkpoint"):
        NetTrain(net(), DATA, ResumeFrom=str(tmp_path / "n.netgraph"), **QUIET)


def test_import_of_a_checkpoint_gives_its_net(tmp_path):
    # In WL a checkpoint is a net file: Import gives the net it was written with (was a
    # "layer is malformed" error); the optimizer state stays for ResumeFrom.
    from netgraph.io.netfile import CHECKPOINT_KIND
    from netgraph.train.checkpoint import KIND
    assert CHECKPOINT_KIND == KIND
    f = str(tmp_path / "c.netgraph")
    r = NetTrain(net(), DATA, All, MaxTrainingRounds=2, BatchSize=8,
                 TrainingProgressCheckpointing=("File", f), **QUIET)
    back = Import(f)
    assert equal(back, r["FinalNet"])
    assert np.allclose(back(X), r["FinalNet"](X))
    assert Import(f, "UninitializedNet").is_initialized() is False
    resumed = NetTrain(net(), DATA, All, ResumeFrom=f, MaxTrainingRounds=2, BatchSize=8, **QUIET)
    assert resumed["TotalRounds"] == 2


def test_a_resumed_run_keeps_its_measurement_history(tmp_path):
    """Round, validation and per-batch measurements of the rounds before the checkpoint
    are in the resumed run's results, as in the uninterrupted run (numbers, dicts by class,
    arrays)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(24, 2))
    labels = np.where(x[:, 0] > 0, "yes", "no")
    clf = NetChain([LinearLayer(2), SoftmaxLayer()], Input=2,
                   Output=NetDecoder(("Class", ["no", "yes"])))
    opts = {"MaxTrainingRounds": 4, "BatchSize": 6, "ValidationSet": Scaled(0.25),
            "TrainingProgressMeasurements": ["Accuracy", "Precision", "ConfusionMatrix"],
            **QUIET}
    data = {"Input": x, "Output": list(labels)}
    props = ["RoundMeasurementsLists", "ValidationMeasurementsLists", "BatchMeasurementsLists"]
    full = NetTrain(clf, data, props, **opts)
    d = str(tmp_path / "ck")
    NetTrain(clf, data, TrainingProgressCheckpointing=("Directory", d),
             TrainingProgressFunction=stop_after(2), **opts)
    resumed = NetTrain(clf, data, props, ResumeFrom=d, **opts)
    for a, b in zip(resumed, full, strict=True):
        assert a.keys() == b.keys()
        for k in a:
            assert len(a[k]) == len(b[k]) > 0, k
            for u, v in zip(a[k], b[k], strict=True):
                if isinstance(v, dict):
                    assert u.keys() == v.keys() and all(
                        u[c] == pytest.approx(v[c], nan_ok=True) for c in v), k
                else:
                    assert np.allclose(u, v, equal_nan=True), k


def test_measurement_values_round_trip_through_json():
    import json

    from netgraph.train.checkpoint import from_json, to_json

    class Opaque:
        pass
    value = [{"Loss": 0.5, "Accuracy": float("nan"), ("Precision", 2): {"a": 1.0, 3: -np.inf},
              "ConfusionMatrix": np.array([[3, 1], [0, 2]]), "flags": np.array([True, False]),
              "F": np.array([[np.nan, 1.5]], np.float32), "n": np.int64(7), "b": True,
              "t": (1, "x"), "none": None, "user": Opaque()}]
    back = from_json(json.loads(json.dumps(to_json(value))))
    (r,) = back
    assert list(r) == list(value[0]) and r["Loss"] == 0.5 and np.isnan(r["Accuracy"])
    assert r[("Precision", 2)] == {"a": 1.0, 3: -np.inf}
    assert r["ConfusionMatrix"].dtype == np.int64 and r["ConfusionMatrix"].tolist() == [[3, 1],
                                                                                       [0, 2]]
    assert r["flags"].dtype == bool and r["F"].dtype == np.float32 and np.isnan(r["F"][0, 0])
    assert type(r["n"]) is int and r["n"] == 7 and r["b"] is True and r["t"] == (1, "x")
    assert r["none"] is None and r["user"] is None       # an object JSON cannot hold
