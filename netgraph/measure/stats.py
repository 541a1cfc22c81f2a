"""Sufficient statistics of a pass over batches, collected on tensors.

A classification batch costs two tensor operations: the predicted class (argmax) and one
code per example, ``target * classes + prediction``, kept on the device. At the end of the
pass one ``bincount`` of all codes gives the confusion matrix, and the codes of each batch
give its hits: no host sync and no Python loop over examples until then. Top-k hits,
entropy and ROC counts (WL's 140 thresholds) add a few operations per batch, only when a
measurement needs them. :class:`RegressionStats` sums residuals the same way.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from .builtin import THRESHOLDS, ClassCounts, RegressionCounts


class ClassStats:
    """What to collect for a classification output with ``classes`` classes.

    ``binary``: the output is one probability per example (CrossEntropyLossLayer "Binary"),
    read as the two classes (False, True). Targets are 1-based class indices or probability
    vectors (one-hot) shaped as the output.
    """

    def __init__(self, classes: int, labels: list, ks: tuple[int, ...] = (),
                 entropy: bool = False, roc: bool = False, binary: bool = False) -> None:
        self.c, self.labels, self.ks, self.binary = classes, labels, ks, binary
        self.entropy, self.roc = entropy, roc

    def new(self) -> ClassPass:
        return ClassPass(self)

    def probabilities(self, pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """(probabilities (examples, classes), 1-based target classes (examples,))."""
        pred = pred.detach()
        if self.binary:
            p = pred.reshape(-1).to(torch.float64)
            probs = torch.stack([1 - p, p], dim=1)                    # (examples, 2)
            return probs, (target.reshape(-1) >= 0.5).long() + 1
        probs = pred.reshape(-1, self.c)                             # (examples, classes)
        if target.dim() == pred.dim() and target.shape[-1] == self.c and \
                target.is_floating_point():
            return probs, target.reshape(-1, self.c).argmax(-1) + 1  # one-hot / probabilities
        t = target.reshape(-1)
        return probs, t if t.dtype == torch.int64 else t.long()      # 1-based indices


class ClassPass:
    """The statistics of one pass (a round, a validation pass) of a classification output."""

    def __init__(self, spec: ClassStats) -> None:
        self.s = spec
        self.codes: list[Tensor] = []       # per batch: target * classes + prediction
        self.extra: list[Tensor] = []       # per batch: top-k hits and entropy, when asked
        self.roc: Tensor | None = None      # (2, classes, thresholds) summed
        self._thr: Tensor | None = None

    def add(self, pred: Tensor, target: Tensor) -> None:
        s = self.s
        probs, t = s.probabilities(pred, target)
        guess = probs.argmax(-1)                                     # (examples,)
        self.codes.append(torch.add(guess, t, alpha=s.c))            # (examples,)
        if s.ks or s.entropy:
            extra = [(probs.topk(min(k, s.c), dim=-1).indices == (t - 1)[:, None]).any(-1)
                     .sum().to(torch.float64) for k in s.ks]
            if s.entropy:
                extra.append(-torch.special.xlogy(probs, probs).sum().to(torch.float64))
            self.extra.append(torch.stack(extra))
        if s.roc:
            roc = self._roc(probs, t - 1)
            self.roc = roc if self.roc is None else self.roc + roc

    def _roc(self, probs: Tensor, t: Tensor) -> Tensor:
        if self._thr is None or self._thr.device != probs.device:
            self._thr = torch.as_tensor(THRESHOLDS, dtype=probs.dtype, device=probs.device)
        above = probs[:, :, None] >= self._thr                      # (examples, classes, T)
        actual = torch.nn.functional.one_hot(t, self.s.c).bool()[:, :, None]
        tp = (above & actual).sum(0)                                 # (classes, T)
        return torch.stack([tp, above.sum(0) - tp])

    # -- at the end of the pass (host) ----------------------------------------------------
    def counts(self, reduce: Callable[[Tensor], Tensor] | None = None) -> ClassCounts:
        """The pass's counts; ``reduce`` sums them over processes (the same tensors in every
        process, whatever each saw)."""
        s, n = self.s, self.s.c
        conf = (torch.bincount(torch.cat(self.codes), minlength=n * (n + 1))[n:]
                if self.codes else torch.zeros(n * n, dtype=torch.int64))
        extra = (torch.stack(self.extra).sum(0) if self.extra
                 else torch.zeros(len(s.ks) + int(s.entropy), dtype=torch.float64))
        roc = self.roc
        if s.roc and roc is None:
            roc = torch.zeros((2, n, len(THRESHOLDS)), dtype=torch.int64)
        if reduce is not None:
            conf, extra = reduce(conf), reduce(extra)
            roc = None if roc is None else reduce(roc)
        counts = self._counts(extra.cpu().numpy())
        counts.confusion = conf.reshape(n, n).cpu().numpy().astype(np.int64)
        if roc is not None:
            both = roc.cpu().numpy().astype(np.float64)
            counts.roc_tp, counts.roc_fp = both[0], both[1]
        return counts

    def batch_counts(self) -> list[ClassCounts]:
        """Each batch's counts (enough for the per-batch measurements)."""
        if not self.codes:
            return []
        n = self.s.c
        hits = ((torch.cat(self.codes) + 1) % (n + 1) == 0).cpu().numpy()
        sizes = [int(c.shape[0]) for c in self.codes]
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        per = np.add.reduceat(hits, starts) if hits.size else np.zeros(len(sizes))
        extra = (torch.stack(self.extra).cpu().numpy() if self.extra
                 else np.zeros((len(sizes), 0)))
        out = []
        for i, size in enumerate(sizes):
            c = self._counts(extra[i])
            c.examples, c.correct = float(size), float(per[i]) if size else 0.0
            out.append(c)
        return out

    def last_counts(self) -> ClassCounts | None:
        if not self.codes:
            return None
        n, codes = self.s.c, self.codes[-1]
        c = self._counts(self.extra[-1].cpu().numpy() if self.extra else np.zeros(0))
        c.examples = float(codes.shape[0])
        c.correct = float(((codes + 1) % (n + 1) == 0).sum())
        return c

    def _counts(self, extra: np.ndarray) -> ClassCounts:
        ks = self.s.ks
        topk = {k: float(extra[j]) for j, k in enumerate(ks)}
        ent = float(extra[len(ks)]) if self.s.entropy else 0.0
        return ClassCounts(np.zeros((0, 0), np.int64), self.s.labels, topk, ent)


class RegressionStats:
    """Residual sums of a regression output: count, sum r^2, sum |r|, sum y, sum y^2."""

    def new(self) -> RegressionPass:
        return RegressionPass()


class RegressionPass:
    def __init__(self) -> None:
        self.total: Tensor | None = None

    def add(self, pred: Tensor, target: Tensor) -> None:
        y = target.detach().to(torch.float64).reshape(-1)
        r = pred.detach().to(torch.float64).reshape(-1) - y
        v = torch.stack([y.new_tensor(float(y.numel())), (r * r).sum(), r.abs().sum(),
                         y.sum(), (y * y).sum()])
        self.total = v if self.total is None else self.total + v

    def counts(self, reduce: Callable[[Tensor], Tensor] | None = None) -> RegressionCounts:
        total = torch.zeros(5, dtype=torch.float64) if self.total is None else self.total
        if reduce is not None:
            total = reduce(total)
        return RegressionCounts(*(float(x) for x in total.cpu().numpy()))

    def batch_counts(self) -> list:
        return []

    def last_counts(self) -> None:
        return None
