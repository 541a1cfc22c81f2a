"""Plots of measurements (matplotlib, imported when a plot is asked for)."""
from __future__ import annotations

from typing import Any

import numpy as np


def confusion_matrix_plot(matrix: np.ndarray, labels: list) -> Any:
    """WL's "ConfusionMatrixPlot": the counts, actual classes as rows, predicted as columns,
    with each row's accuracy in its label."""
    from matplotlib.figure import Figure
    m = np.asarray(matrix)
    n = len(labels)
    fig = Figure(figsize=(1.2 + 0.55 * n, 1.0 + 0.5 * n))
    ax = fig.add_subplot()
    ax.imshow(m, cmap="Blues")
    top = m.max() if m.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if top and m[i, j] > top / 2 else "black")
    ax.set_xticks(range(n), [str(x) for x in labels])
    ax.set_yticks(range(n), [str(x) for x in labels])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("actual class")
    total = m.sum()
    ax.set_title(f"accuracy {np.trace(m) / total:.3g}" if total else "no examples",
                 fontsize=9)
    fig.tight_layout()
    return fig


def roc_curve_plot(curves: dict) -> Any:
    """WL's "ROCCurvePlot": each class's ROC curve (false against true positive rate)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=(4.5, 4))
    ax = fig.add_subplot()
    for label, (fpr, tpr) in curves.items():
        ax.plot(fpr, tpr, lw=1, label=str(label))
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=0.8, ls="--")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
