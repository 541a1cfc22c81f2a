"""Per-batch sufficient statistics on tensors, summed over a round.

A :class:`ClassStats` turns one batch of predicted probabilities and targets into one flat
float64 vector on the batch's device (the confusion matrix, top-k hits, summed entropy, ROC
counts): a few vectorized torch operations, no host sync and no Python loop over examples.
Vectors add up over batches; :meth:`ClassStats.counts` unpacks a sum into
:class:`~.builtin.ClassCounts` at the end of a round. :class:`RegressionStats` does the same
with residual sums.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .builtin import THRESHOLDS, ClassCounts, RegressionCounts


class ClassStats:
    """Statistics of a classification output with ``classes`` classes.

    ``binary``: the output is one probability per example (CrossEntropyLossLayer "Binary"),
    read as the two classes (False, True). Targets are 1-based class indices or probability
    vectors (one-hot) shaped as the output.
    """

    def __init__(self, classes: int, labels: list, ks: tuple[int, ...] = (),
                 entropy: bool = False, roc: bool = False, binary: bool = False) -> None:
        self.c, self.labels, self.ks, self.binary = classes, labels, ks, binary
        self.entropy, self.roc = entropy, roc
        n = classes
        self.size = n * n + len(ks) + 1 + (2 * n * len(THRESHOLDS) if roc else 0)
        self._thr: Tensor | None = None

    def probabilities(self, pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """(probabilities (examples, classes), 0-based target classes (examples,))."""
        pred = pred.detach()
        if self.binary:
            p = pred.reshape(-1).to(torch.float64)
            probs = torch.stack([1 - p, p], dim=1)                    # (examples, 2)
            return probs, (target.reshape(-1) >= 0.5).long()
        probs = pred.reshape(-1, self.c)                             # (examples, classes)
        if target.dim() == pred.dim() and target.shape[-1] == self.c and \
                target.is_floating_point():
            return probs, target.reshape(-1, self.c).argmax(-1)      # one-hot / probabilities
        return probs, target.reshape(-1).long() - 1                  # 1-based indices

    def batch(self, pred: Tensor, target: Tensor) -> Tensor:
        """The statistics vector of one batch (float64, on the batch's device)."""
        probs, t = self.probabilities(pred, target)
        n = self.c
        guess = probs.argmax(-1)                                     # (examples,)
        parts = [torch.bincount(t * n + guess, minlength=n * n).to(torch.float64)]
        for k in self.ks:
            top = probs.topk(min(k, n), dim=-1).indices              # (examples, k)
            parts.append((top == t[:, None]).any(-1).sum().reshape(1).to(torch.float64))
        if self.entropy:
            ent = -torch.special.xlogy(probs, probs).sum().to(torch.float64)
        else:
            ent = probs.new_zeros((), dtype=torch.float64)
        parts.append(ent.reshape(1))
        if self.roc:
            parts += self._roc(probs, t)
        return torch.cat(parts)

    def _roc(self, probs: Tensor, t: Tensor) -> list[Tensor]:
        if self._thr is None or self._thr.device != probs.device:
            self._thr = torch.as_tensor(THRESHOLDS, dtype=probs.dtype, device=probs.device)
        above = probs[:, :, None] >= self._thr                      # (examples, classes, T)
        actual = torch.nn.functional.one_hot(t, self.c).bool()[:, :, None]
        tp = (above & actual).sum(0)                                 # (classes, T)
        fp = above.sum(0) - tp
        return [tp.reshape(-1).to(torch.float64), fp.reshape(-1).to(torch.float64)]

    def counts(self, total: np.ndarray) -> ClassCounts:
        """Unpack a (summed) statistics vector."""
        n, i = self.c, self.c * self.c
        conf = total[:i].reshape(n, n).round().astype(np.int64)
        topk = {k: float(total[i + j]) for j, k in enumerate(self.ks)}
        i += len(self.ks)
        counts = ClassCounts(conf, self.labels, topk, float(total[i]))
        i += 1
        if self.roc:
            m = n * len(THRESHOLDS)
            counts.roc_tp = total[i:i + m].reshape(n, -1)
            counts.roc_fp = total[i + m:i + 2 * m].reshape(n, -1)
        return counts


class RegressionStats:
    """Residual sums of a regression output: count, sum r^2, sum |r|, sum y, sum y^2."""

    size = 5

    def batch(self, pred: Tensor, target: Tensor) -> Tensor:
        y = target.detach().to(torch.float64).reshape(-1)
        r = pred.detach().to(torch.float64).reshape(-1) - y
        return torch.stack([y.new_tensor(float(y.numel())), (r * r).sum(), r.abs().sum(),
                            y.sum(), (y * y).sum()])

    def counts(self, total: np.ndarray) -> RegressionCounts:
        return RegressionCounts(*(float(x) for x in total))
