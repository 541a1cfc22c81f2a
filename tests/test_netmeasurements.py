"""NetMeasurements: a net's measurements on data, against scikit-learn on its predictions."""
import numpy as np
import pytest
from sklearn import metrics

from netgraph import *  # noqa: F403

RNG = np.random.default_rng(2)
X = RNG.normal(size=(50, 3)).astype(np.float32)
Y = RNG.integers(1, 4, 50)
NET = NetInitialize(NetChain([LinearLayer(3), SoftmaxLayer()], Input=3), RandomSeeding=3)
P = np.asarray(NET(X))
PRED = P.argmax(1) + 1


def test_values_equal_sklearn():
    acc, kappa, cm, f1, auc = NetMeasurements(
        NET, {"Input": X, "Output": Y},
        ["Accuracy", "CohenKappa", "ConfusionMatrix",
         {"Measurement": "F1Score", "ClassAveraging": "Micro"}, ("Accuracy", 2)],
        BatchSize=16)
    assert acc == pytest.approx(metrics.accuracy_score(Y, PRED))
    assert kappa == pytest.approx(metrics.cohen_kappa_score(Y, PRED))
    assert np.array_equal(cm, metrics.confusion_matrix(Y, PRED, labels=[1, 2, 3]))
    assert f1 == pytest.approx(metrics.f1_score(Y, PRED, average="micro"))
    assert auc == pytest.approx(metrics.top_k_accuracy_score(Y - 1, P, k=2))


def test_single_measurement_and_loss():
    loss = NetMeasurements(NET, {"Input": X, "Output": Y}, "Loss")
    assert loss == pytest.approx(-np.log(P[np.arange(50), Y - 1]).mean(), rel=1e-5)
    assert NetMeasurements(NET, [(x, y) for x, y in zip(X, Y, strict=True)], "ErrorRate") == \
        pytest.approx(1 - metrics.accuracy_score(Y, PRED))


def test_regression_and_port():
    net = NetInitialize(NetChain([LinearLayer(2)], Input=3), RandomSeeding=1)
    y = RNG.normal(size=(50, 2)).astype(np.float32)
    pred = np.asarray(net(X))
    ms, r2, out = NetMeasurements(net, {"Input": X, "Output": y},
                                  ["MeanSquare", "RSquared",
                                   {"Measurement": NetPort("Output"), "Aggregation": "Mean"}])
    assert ms == pytest.approx(((pred - y) ** 2).mean(), rel=1e-5)
    flat = 1 - ((pred - y) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert r2 == pytest.approx(flat, rel=1e-5)
    assert out == pytest.approx(pred.mean(), rel=1e-5, abs=1e-6)


def test_plots():
    cm, roc = NetMeasurements(NET, {"Input": X, "Output": Y},
                              ["ConfusionMatrixPlot", "ROCCurvePlot"])
    ax = cm.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    counts = metrics.confusion_matrix(Y, PRED, labels=[1, 2, 3])
    assert sorted(int(t.get_text()) for t in ax.texts) == sorted(counts.ravel().tolist())
    assert len(roc.axes[0].lines) == 4          # three classes and the diagonal


def test_errors():
    with pytest.raises(OptionError, match='NetMeasurements: "Acuracy" is not a supported '
                                          'measurement. Did you mean "Accuracy"'):
        NetMeasurements(NET, {"Input": X, "Output": Y}, "Acuracy")
    with pytest.raises(EvaluationError, match="NetMeasurements: the net is not initialized"):
        NetMeasurements(NetChain([LinearLayer(3), SoftmaxLayer()], Input=3),
                        {"Input": X, "Output": Y}, "Accuracy")
    with pytest.raises(OptionError, match='NetMeasurements: unknown option BatchSise. Did you '
                                          'mean "BatchSize"'):
        NetMeasurements(NET, {"Input": X, "Output": Y}, "Accuracy", BatchSise=3)
    with pytest.raises(NetGraphError, match="^NetMeasurements: "):
        NetMeasurements(NET, {"Input": X}, "Accuracy")


def test_class_labels_come_from_the_decoder():
    labels = np.where(X[:, 0] > 0, "pos", "neg")
    net = NetInitialize(NetChain([LinearLayer(2), SoftmaxLayer()], Input=3,
                                 Output=NetDecoder(["Class", ["neg", "pos"]])), RandomSeeding=4)
    pred = np.asarray(net(X, None)).argmax(1)
    got = NetMeasurements(net, {"Input": X, "Output": list(labels)}, "Precision")
    ref = metrics.precision_score(labels, np.array(["neg", "pos"])[pred], average=None,
                                  labels=["neg", "pos"], zero_division=np.nan)
    assert list(got) == ["neg", "pos"]
    assert list(got.values()) == pytest.approx(list(ref), nan_ok=True)
    r = NetTrain(net, {"Input": X, "Output": list(labels)}, All, MaxTrainingRounds=1,
                 TrainingProgressReporting=None, TrainingProgressMeasurements="Recall")
    assert list(r["RoundMeasurements"]["Recall"]) == ["neg", "pos"]
