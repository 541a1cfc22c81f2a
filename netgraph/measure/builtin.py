"""WL's built-in measurements: each one's formula on the counts of :mod:`.stats`.

Classification measurements read a :class:`ClassCounts` (a confusion matrix with rows the
actual and columns the predicted class, top-k hits, summed entropy, ROC counts at WL's 140
thresholds); regression measurements read a :class:`RegressionCounts` (residual and target
sums). Per-class measurements are formulas of the one-vs-rest counts TP, FP, FN, TN (arrays
over classes): WL's ``ClassAveraging`` None gives ``{class: value}``, "Macro" the mean over
classes of the defined values, "Micro" the formula on counts summed over classes. 0/0 is
Indeterminate in WL and ``nan`` here.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# WL's ROC thresholds: LogisticSigmoid of -7, -6.9, ..., 6.9.
THRESHOLDS = 1.0 / (1.0 + np.exp(-np.round(np.arange(-70, 70) / 10.0, 1)))
EPSILON = 1e-12   # in FractionVarianceUnexplained's denominator, as WL adds one


@dataclass
class ClassCounts:
    """The sufficient statistics of a classification output over some examples."""

    confusion: np.ndarray                      # (classes, classes): actual x predicted
    labels: list
    topk: dict[int, float] = field(default_factory=dict)   # k -> examples in the top k
    entropy: float = 0.0                       # summed entropy of the predictions (nats)
    roc_tp: np.ndarray | None = None           # (classes, thresholds) positives >= threshold
    roc_fp: np.ndarray | None = None           # (classes, thresholds) negatives >= threshold
    examples: float | None = None              # given instead of a confusion matrix (a
    correct: float | None = None               # batch's record keeps only these)

    @property
    def n(self) -> float:
        return float(self.confusion.sum()) if self.examples is None else self.examples

    @property
    def hits(self) -> float:
        return float(np.trace(self.confusion)) if self.correct is None else self.correct

    def one_vs_rest(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """TP, FP, FN, TN per class."""
        c = self.confusion.astype(np.float64)
        tp = np.diag(c)
        fp = c.sum(0) - tp
        fn = c.sum(1) - tp
        return tp, fp, fn, c.sum() - tp - fp - fn


@dataclass
class RegressionCounts:
    """Sums over the output elements: count, squared and absolute residuals, y and y^2."""

    n: float
    sse: float
    sae: float
    sy: float
    syy: float


@dataclass(frozen=True)
class Builtin:
    """One built-in measurement.

    ``shape``: "scalar", "class" (one value per class), "matrix", "curve" or "plot".
    ``needs``: the optional counts it reads ("topk", "entropy", "roc").
    ``refused``: why it is not available (empty when it is).
    """

    name: str
    task: str                       # "classification" or "regression"
    shape: str
    fn: Callable[..., Any]
    per_batch: bool = False
    direction: str = "Decreasing"
    needs: frozenset[str] = frozenset()
    refused: str = ""


def _div(a: Any, b: Any) -> Any:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(b) == 0, np.nan, np.asarray(a, float) / np.where(
            np.asarray(b) == 0, 1, b))


# -- per-class formulas of (tp, fp, fn, tn, param) ------------------------------------------
def _fscore(tp: Any, fp: Any, fn: Any, tn: Any, beta: float | None = 1.0) -> Any:
    b2 = 1.0 if beta is None else beta * beta
    return _div((1 + b2) * tp, (1 + b2) * tp + fp + b2 * fn)


def _mcc(tp: Any, fp: Any, fn: Any, tn: Any, _: Any = None) -> Any:
    return _div(tp * tn - fp * fn, np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)))


PER_CLASS: dict[str, Callable[..., Any]] = {
    "Precision": lambda tp, fp, fn, tn, _=None: _div(tp, tp + fp),
    "Recall": lambda tp, fp, fn, tn, _=None: _div(tp, tp + fn),
    "Specificity": lambda tp, fp, fn, tn, _=None: _div(tn, tn + fp),
    "F1Score": _fscore,
    "FScore": _fscore,
    "FalsePositiveRate": lambda tp, fp, fn, tn, _=None: _div(fp, fp + tn),
    "FalseNegativeRate": lambda tp, fp, fn, tn, _=None: _div(fn, fn + tp),
    "FalseDiscoveryRate": lambda tp, fp, fn, tn, _=None: _div(fp, fp + tp),
    "FalseOmissionRate": lambda tp, fp, fn, tn, _=None: _div(fn, fn + tn),
    "NegativePredictiveValue": lambda tp, fp, fn, tn, _=None: _div(tn, tn + fn),
    "MatthewsCorrelationCoefficient": _mcc,
    "Informedness": lambda tp, fp, fn, tn, _=None: _div(
        tp * tn - fn * fp, (tp + fn) * (tn + fp)),
    "Markedness": lambda tp, fp, fn, tn, _=None: _div(
        tp * tn - fn * fp, (tp + fp) * (tn + fn)),
    "BalancedAccuracy": lambda tp, fp, fn, tn, _=None: (
        _div(tp, tp + fn) + _div(tn, tn + fp)) / 2,
    "PredictedPositiveConditionRate": lambda tp, fp, fn, tn, _=None: _div(
        tp + fp, tp + fp + fn + tn),
    "TruePositiveNumber": lambda tp, fp, fn, tn, _=None: tp,
    "FalsePositiveNumber": lambda tp, fp, fn, tn, _=None: fp,
    "FalseNegativeNumber": lambda tp, fp, fn, tn, _=None: fn,
    "TrueNegativeNumber": lambda tp, fp, fn, tn, _=None: tn,
}
INCREASING = {"Precision", "Recall", "Specificity", "F1Score", "FScore",
              "NegativePredictiveValue", "MatthewsCorrelationCoefficient", "Informedness",
              "Markedness", "BalancedAccuracy", "IntersectionOverUnion", "TruePositiveNumber",
              "TrueNegativeNumber", "Accuracy", "CohenKappa", "ScottPi", "AreaUnderROCCurve",
              "RSquared"}


def per_class(name: str, c: ClassCounts, param: Any, averaging: str | None) -> Any:
    """A per-class measurement: ``{label: value}``, or its "Macro"/"Micro" average."""
    f = PER_CLASS[name]
    counts = c.one_vs_rest()
    if averaging == "Micro":
        return float(f(*(x.sum() for x in counts), param))
    values = np.asarray(f(*counts, param), dtype=np.float64)
    if averaging == "Macro":
        defined = values[~np.isnan(values)]
        return float(defined.mean()) if defined.size else math.nan
    return {lab: float(v) for lab, v in zip(c.labels, values, strict=True)}


# -- whole-output formulas ------------------------------------------------------------------
def accuracy(c: ClassCounts, k: int | None = None) -> float:
    hits = c.hits if k is None else c.topk[k]
    return hits / c.n if c.n else math.nan


def error_rate(c: ClassCounts, k: int | None = None) -> float:
    return 1.0 - accuracy(c, k)


def _agreement(c: ClassCounts, scott: bool) -> float:
    m = c.confusion.astype(np.float64)
    n = m.sum()
    if not n:
        return math.nan
    po = np.trace(m) / n
    rows, cols = m.sum(1) / n, m.sum(0) / n
    pe = float((((rows + cols) / 2) ** 2).sum()) if scott else float((rows * cols).sum())
    if po == 1 and pe == 1:
        pe = 0.0
    return float((po - pe) / (1 - pe))


def roc_curves(c: ClassCounts) -> dict:
    """``{label: (false positive rates, true positive rates)}`` at WL's thresholds, with the
    end points (0, 0) and (1, 1), in increasing false positive rate."""
    if c.roc_tp is None or c.roc_fp is None:
        raise ValueError("ROC counts were not collected")
    pos = c.confusion.sum(1).astype(np.float64)
    return {lab: _curve(c.roc_tp[i], c.roc_fp[i], pos[i], c.n - pos[i])
            for i, lab in enumerate(c.labels)}


def _curve(tp: np.ndarray, fp: np.ndarray, pos: float, neg: float
           ) -> tuple[np.ndarray, np.ndarray]:
    tpr = tp / pos if pos else np.full(len(tp), np.nan)
    fpr = fp / neg if neg else np.full(len(fp), np.nan)
    pts = sorted({(0.0, 0.0), (1.0, 1.0), *zip(fpr.tolist(), tpr.tolist(), strict=True)})
    return np.array([p[0] for p in pts]), np.array([p[1] for p in pts])


def auc(c: ClassCounts, averaging: str | None) -> Any:
    """Area under each class's ROC curve (trapezoids); 0.5 where it is Indeterminate.
    "Micro" pools the one-vs-rest counts of every class into one curve."""
    if averaging == "Micro":
        if c.roc_tp is None or c.roc_fp is None:
            raise ValueError("ROC counts were not collected")
        return _area(*_curve(c.roc_tp.sum(0), c.roc_fp.sum(0), c.n,
                             c.n * (len(c.labels) - 1)))
    values = [_area(fpr, tpr) for fpr, tpr in roc_curves(c).values()]
    if averaging == "Macro":
        return float(np.mean(values))
    return dict(zip(c.labels, values, strict=True))


def _area(fpr: np.ndarray, tpr: np.ndarray) -> float:
    if np.isnan(fpr).any() or np.isnan(tpr).any():
        return 0.5
    return float(np.trapezoid(tpr, fpr))


def entropy(c: ClassCounts) -> float:
    return c.entropy / c.n if c.n else math.nan


def _regression(f: Callable[[RegressionCounts], float]) -> Callable[..., float]:
    return lambda r, *_: f(r) if r.n else math.nan


def _fvu(r: RegressionCounts) -> float:
    return r.sse / (r.syy - r.sy * r.sy / r.n + EPSILON)


def _pc(name: str) -> Callable[..., Any]:
    return lambda c, param, averaging: per_class(name, c, param, averaging)


def _b(name: str, shape: str, fn: Callable[..., Any], **kw: Any) -> Builtin:
    task = kw.pop("task", "classification")
    return Builtin(name, task, shape, fn,
                   direction="Increasing" if name in INCREASING else "Decreasing", **kw)


_NOT_YET = "intersection over union of boxes needs the box format WL uses"
BUILTINS: dict[str, Builtin] = {b.name: b for b in (
    _b("Accuracy", "scalar", lambda c, k, a: accuracy(c, k), per_batch=True,
       needs=frozenset({"topk"})),
    _b("ErrorRate", "scalar", lambda c, k, a: error_rate(c, k), per_batch=True,
       needs=frozenset({"topk"})),
    _b("CohenKappa", "scalar", lambda c, p, a: _agreement(c, False)),
    _b("ScottPi", "scalar", lambda c, p, a: _agreement(c, True)),
    _b("Entropy", "scalar", lambda c, p, a: entropy(c), per_batch=True,
       needs=frozenset({"entropy"})),
    _b("Perplexity", "scalar", lambda c, p, a: math.exp(entropy(c)), per_batch=True,
       needs=frozenset({"entropy"})),
    _b("ConfusionMatrix", "matrix", lambda c, p, a: c.confusion.astype(np.int64)),
    _b("AreaUnderROCCurve", "class", lambda c, p, a: auc(c, a), needs=frozenset({"roc"})),
    _b("ROCCurve", "curve", lambda c, p, a: roc_curves(c), needs=frozenset({"roc"})),
    _b("ConfusionMatrixPlot", "plot", None),  # type: ignore[arg-type]  # drawn by plots.py
    _b("ROCCurvePlot", "plot", None, needs=frozenset({"roc"})),  # type: ignore[arg-type]
    *(_b(name, "class", _pc(name)) for name in PER_CLASS),
    _b("MeanSquare", "scalar", _regression(lambda r: r.sse / r.n), task="regression"),
    _b("StandardDeviation", "scalar", _regression(lambda r: math.sqrt(r.sse / r.n)),
       task="regression"),
    _b("MeanDeviation", "scalar", _regression(lambda r: r.sae / r.n), task="regression"),
    _b("FractionVarianceUnexplained", "scalar", _regression(_fvu), task="regression"),
    _b("RSquared", "scalar", _regression(lambda r: 1.0 - _fvu(r)), task="regression"),
    _b("IntersectionOverUnion", "scalar", None, task="regression",  # type: ignore[arg-type]
       refused=_NOT_YET),
    _b("AttentionWeights", "scalar", None, refused="it needs an AttentionLayer"),  # type: ignore[arg-type]
)}

SYNONYMS = {
    **dict.fromkeys(("Sensitivity", "HitRate", "ClassAccuracy", "TPR", "TruePositiveRate"),
                    "Recall"),
    **dict.fromkeys(("PPV", "PositivePredictiveValue", "Confidence", "TruePositiveAccuracy"),
                    "Precision"),
    **dict.fromkeys(("Selectivity", "TNR", "TrueNegativeRate", "InverseRecall"),
                    "Specificity"),
    **dict.fromkeys(("NPV", "InversePrecision", "TrueNegativeAccuracy"),
                    "NegativePredictiveValue"),
    "FPR": "FalsePositiveRate", "FallOut": "FalsePositiveRate",
    "FNR": "FalseNegativeRate", "MissRate": "FalseNegativeRate",
    "FDR": "FalseDiscoveryRate", "FOR": "FalseOmissionRate",
    "MCC": "MatthewsCorrelationCoefficient", "FMeasure": "FScore",
    "R2": "RSquared", "CoefficientOfDetermination": "RSquared",
    "FVU": "FractionVarianceUnexplained", "AUC": "AreaUnderROCCurve", "ROC": "ROCCurve",
    **dict.fromkeys(("IOU", "JaccardIndex", "JaccardSimilarityCoefficient"),
                    "IntersectionOverUnion"),
    **dict.fromkeys(("YoudenIndex", "YoudenJStatistic", "BookmakerInformedness", "BM"),
                    "Informedness"),
    "MK": "Markedness", "Kappa": "CohenKappa", "Pi": "ScottPi",
    "PPCR": "PredictedPositiveConditionRate",
}
