"""Built-in measurements against scikit-learn on the same predictions (the rest by hand)."""
import math

import numpy as np
import pytest
import torch
from sklearn import metrics

from netgraph import NetPort, OptionError
from netgraph.measure.builtin import THRESHOLDS
from netgraph.measure.meter import value_of
from netgraph.measure.spec import parse_measurements, parse_one
from netgraph.measure.stats import ClassStats, RegressionStats

C = 4
RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(300, C)) * 2
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
TRUE = RNG.integers(0, C, 300)
TRUE[:40] = PROBS[:40].argmax(1)   # some signal
PRED = PROBS.argmax(1)


def measure(spec, probs=PROBS, true=TRUE, batches=3, binary=False, classes=C):
    """The measurement over the examples given in several batches (sums of batch stats)."""
    m = parse_one(spec, "Test")
    ks = (int(m.param),) if m.builtin.name in ("Accuracy", "ErrorRate") and m.param else ()
    stats = ClassStats(classes, list(range(1, classes + 1)) if not binary else [False, True],
                       ks, entropy=True, roc=True, binary=binary)
    acc = stats.new()
    for p, t in zip(np.array_split(probs, batches), np.array_split(true, batches), strict=True):
        acc.add(torch.as_tensor(p), torch.as_tensor(t if binary else t + 1))
    return value_of(m, acc.counts())


def test_accuracy_error_rate_and_top_k():
    assert measure("Accuracy") == pytest.approx(metrics.accuracy_score(TRUE, PRED))
    assert measure("ErrorRate") == pytest.approx(1 - metrics.accuracy_score(TRUE, PRED))
    for k in (2, 3):
        ref = metrics.top_k_accuracy_score(TRUE, PROBS, k=k)
        assert measure(("Accuracy", k)) == pytest.approx(ref)
        assert measure(("ErrorRate", k)) == pytest.approx(1 - ref)


def test_confusion_matrix_and_kappa():
    assert np.array_equal(measure("ConfusionMatrix"), metrics.confusion_matrix(TRUE, PRED))
    assert measure("CohenKappa") == pytest.approx(metrics.cohen_kappa_score(TRUE, PRED))
    assert measure("Kappa") == measure("CohenKappa")


@pytest.mark.parametrize("name,fn", [
    ("Precision", metrics.precision_score), ("Recall", metrics.recall_score),
    ("F1Score", metrics.f1_score), ("FMeasure", metrics.f1_score),
])
def test_per_class_with_averaging(name, fn):
    per = measure(name)
    assert list(per) == [1, 2, 3, 4]
    assert list(per.values()) == pytest.approx(list(fn(TRUE, PRED, average=None)))
    for avg in ("Macro", "Micro"):
        got = measure({"Measurement": name, "ClassAveraging": avg})
        assert got == pytest.approx(fn(TRUE, PRED, average=avg.lower()))


def test_fscore_beta():
    ref = metrics.fbeta_score(TRUE, PRED, beta=0.5, average=None)
    assert list(measure(("FScore", 0.5)).values()) == pytest.approx(list(ref))
    assert list(measure("FScore").values()) == pytest.approx(
        list(metrics.f1_score(TRUE, PRED, average=None)))


def test_one_vs_rest_rates_and_mcc():
    for c in range(C):
        t, p = TRUE == c, PRED == c
        tn, fp, fn, tp = metrics.confusion_matrix(t, p).ravel()
        assert measure("MatthewsCorrelationCoefficient")[c + 1] == pytest.approx(
            metrics.matthews_corrcoef(t, p))
        assert measure("Specificity")[c + 1] == pytest.approx(tn / (tn + fp))
        assert measure("FPR")[c + 1] == pytest.approx(fp / (fp + tn))
        assert measure("FalseNegativeRate")[c + 1] == pytest.approx(fn / (fn + tp))
        assert measure("FalseDiscoveryRate")[c + 1] == pytest.approx(fp / (fp + tp))
        assert measure("FalseOmissionRate")[c + 1] == pytest.approx(fn / (fn + tn))
        assert measure("NPV")[c + 1] == pytest.approx(tn / (tn + fn))
        assert measure("Informedness")[c + 1] == pytest.approx(
            tp / (tp + fn) + tn / (tn + fp) - 1)
        assert measure("Markedness")[c + 1] == pytest.approx(
            tp / (tp + fp) + tn / (tn + fn) - 1)
        assert measure("BalancedAccuracy")[c + 1] == pytest.approx(
            metrics.balanced_accuracy_score(t, p))
        assert measure("PPCR")[c + 1] == pytest.approx((tp + fp) / len(t))
        assert measure("TruePositiveNumber")[c + 1] == tp
        assert measure("FalsePositiveNumber")[c + 1] == fp
        assert measure("FalseNegativeNumber")[c + 1] == fn
        assert measure("TrueNegativeNumber")[c + 1] == tn


def test_scott_pi_entropy_perplexity_by_hand():
    m = metrics.confusion_matrix(TRUE, PRED) / len(TRUE)
    po, pe = np.trace(m), (((m.sum(0) + m.sum(1)) / 2) ** 2).sum()
    assert measure("ScottPi") == pytest.approx((po - pe) / (1 - pe))
    ent = -(PROBS * np.log(PROBS)).sum(1).mean()
    assert measure("Entropy") == pytest.approx(ent)
    assert measure("Perplexity") == pytest.approx(math.exp(ent))


def test_auc_equals_sklearn_on_scores_at_the_thresholds():
    """WL computes the ROC at 140 thresholds; on scores that lie on them it is exact."""
    scores = RNG.choice(THRESHOLDS, size=(300, C))
    true = RNG.integers(0, C, 300)
    got = measure("AreaUnderROCCurve", scores, true)
    for c in range(C):
        assert got[c + 1] == pytest.approx(metrics.roc_auc_score(true == c, scores[:, c]))
    macro = measure({"Measurement": "AUC", "ClassAveraging": "Macro"}, scores, true)
    assert macro == pytest.approx(np.mean([got[c + 1] for c in range(C)]))
    micro = measure({"Measurement": "AUC", "ClassAveraging": "Micro"}, scores, true)
    onehot = np.eye(C)[true]
    assert micro == pytest.approx(metrics.roc_auc_score(onehot.ravel(), scores.ravel()))
    fpr, tpr = measure("ROCCurve", scores, true)[1]
    assert fpr[0] == 0 and tpr[-1] == 1 and np.all(np.diff(fpr) >= 0)


def test_binary_outputs():
    p = RNG.random(200)
    t = (RNG.random(200) < p).astype(np.float64)
    pred = p >= 0.5
    assert measure("Accuracy", p, t, binary=True, classes=2) == pytest.approx(
        metrics.accuracy_score(t, pred))
    assert np.array_equal(measure("ConfusionMatrix", p, t, binary=True, classes=2),
                          metrics.confusion_matrix(t, pred))
    assert measure("Precision", p, t, binary=True, classes=2)[True] == pytest.approx(
        metrics.precision_score(t, pred))
    ent = -(p * np.log(p) + (1 - p) * np.log(1 - p)).mean()
    assert measure("Entropy", p, t, binary=True, classes=2) == pytest.approx(ent)


def test_one_hot_targets_equal_index_targets():
    stats = ClassStats(C, [1, 2, 3, 4])
    a, b = stats.new(), stats.new()
    a.add(torch.as_tensor(PROBS), torch.as_tensor(TRUE + 1))
    b.add(torch.as_tensor(PROBS), torch.as_tensor(np.eye(C)[TRUE]))
    assert np.array_equal(a.counts().confusion, b.counts().confusion)


def test_per_batch_counts():
    stats = ClassStats(C, [1, 2, 3, 4], ks=(2,), entropy=True)
    acc = stats.new()
    parts = list(zip(np.array_split(PROBS, 4), np.array_split(TRUE, 4), strict=True))
    for p, t in parts:
        acc.add(torch.as_tensor(p), torch.as_tensor(t + 1))
    batches = acc.batch_counts()
    assert [c.n for c in batches] == [len(t) for _, t in parts]
    for c, (p, t) in zip(batches, parts, strict=True):
        assert c.hits == (p.argmax(1) == t).sum()
        assert c.topk[2] == metrics.top_k_accuracy_score(t, p, k=2, labels=range(C)) * len(t)
        assert c.entropy == pytest.approx(-(p * np.log(p)).sum())
    last = acc.last_counts()
    assert (last.n, last.hits) == (batches[-1].n, batches[-1].hits)


def regression(spec, y, yhat, batches=3):
    m = parse_one(spec, "Test")
    acc = RegressionStats().new()
    for a, b in zip(np.array_split(yhat, batches), np.array_split(y, batches), strict=True):
        acc.add(torch.as_tensor(a), torch.as_tensor(b))
    return value_of(m, acc.counts())


def test_regression_against_sklearn():
    y = RNG.normal(size=100)
    yhat = y + RNG.normal(size=100) * 0.3
    assert regression("MeanSquare", y, yhat) == pytest.approx(metrics.mean_squared_error(y, yhat))
    assert regression("StandardDeviation", y, yhat) == pytest.approx(
        math.sqrt(metrics.mean_squared_error(y, yhat)))
    assert regression("MeanDeviation", y, yhat) == pytest.approx(
        metrics.mean_absolute_error(y, yhat))
    assert regression("RSquared", y, yhat) == pytest.approx(metrics.r2_score(y, yhat))
    assert regression("R2", y, yhat) == regression("RSquared", y, yhat)
    assert regression("FVU", y, yhat) == pytest.approx(1 - metrics.r2_score(y, yhat))


def test_regression_on_vectors_pools_the_elements():
    y = RNG.normal(size=(50, 3))
    yhat = y + 0.1
    assert regression("MeanSquare", y, yhat) == pytest.approx(0.01)
    assert regression("MeanDeviation", y, yhat) == pytest.approx(0.1)


def test_spec_forms_and_keys():
    ms = parse_measurements(["Loss", "Accuracy", ("Accuracy", 2), ("FScore", 0.5),
                             {"Measurement": "Recall", "ClassAveraging": "Macro",
                              "Key": "R"}, NetPort("Aux"),
                             {"Measurement": lambda info: 1.0, "Key": "one"}], "NetTrain")
    assert [m.key for m in ms] == ["Accuracy", "Accuracy2", "FScore0.5", "R", "Aux", "one"]
    assert ms[0].direction == "Increasing" and ms[0].per_batch
    assert ms[3].scalar and not parse_one("Recall", "T").scalar
    assert parse_one({"Measurement": "Accuracy", "Interval": "Round"}, "T").per_batch is False


@pytest.mark.parametrize("spec,fragment", [
    ("Acuracy", '"Acuracy" is not a supported measurement. Did you mean "Accuracy"'),
    ("Precison", 'Did you mean "Precision"'),
    (("Accuracy", 0), 'expected \\("Accuracy", k\\) with a positive integer k'),
    (("Recall", 2), "takes no parameter"),
    ({"Measurement": "Recall", "ClassAveraging": "Mean"}, '"ClassAveraging" to be None'),
    ({"Measurement": "Recall", "Keyy": "a"}, 'unknown measurement suboption "Keyy"'),
    ({"Measurement": lambda i: 1}, 'needs a "Key"'),
    (lambda i: 1, "needs a name"),
    ({"Measurement": NetPort("x"), "Aggregation": "Median"}, '"Aggregation" to be None'),
    ("IntersectionOverUnion", "not available yet"),
    ({"Measurement": "Accuracy", "Interval": "Epoch"}, 'NetTrain: expected the "Interval"'),
    (3, "expected a measurement"),
])
def test_bad_specs(spec, fragment):
    with pytest.raises(OptionError, match=fragment):
        parse_measurements(spec, "NetTrain")


def test_duplicate_keys():
    with pytest.raises(OptionError, match='key "Accuracy" is given twice'):
        parse_measurements(["Accuracy", "Accuracy"], "NetTrain")
