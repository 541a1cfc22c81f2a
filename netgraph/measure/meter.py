"""Measuring a pass over batches: a training round or a validation pass.

A :class:`Meter` is set up once per run with the parsed measurements and where each reads
its prediction and target (:class:`Source`). For each pass, :meth:`Meter.start` resets it,
:meth:`Meter.batch` adds one batch's statistics on the device (no host sync), and
:meth:`Meter.end` turns the sums into WL's values (one sync). Per-batch measurements
(Accuracy, ErrorRate, Entropy, Perplexity, NetPort and function measurements) also keep one
small record per batch, read by :meth:`Meter.batch_lists` and :meth:`Meter.latest`.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import TrainingError
from .spec import Measurement
from .stats import ClassStats, RegressionStats


@dataclass
class Source:
    """Where built-in measurements of one output read: the prediction's key in the forward's
    outputs, the target's key in the batch, and the statistics to collect."""

    port: str
    pred: str
    target: str
    stats: ClassStats | RegressionStats


def aggregate(x: np.ndarray, how: str | None) -> Any:
    """WL's "Aggregation" of an array-valued measurement (None keeps the array)."""
    if how is None:
        return float(x) if x.ndim == 0 else x
    x = x.astype(np.float64).reshape(-1)
    reducers: dict[str, Callable[[], Any]] = {
        "L1Norm": lambda: np.abs(x).sum(), "L2Norm": lambda: np.sqrt((x * x).sum()),
        "Total": x.sum, "Mean": x.mean, "RootMeanSquare": lambda: np.sqrt((x * x).mean()),
        "StandardDeviation": lambda: x.std(ddof=1) if x.size > 1 else 0.0,
        "Min": x.min, "Max": x.max}
    return float(reducers[how]())


class Meter:
    """The measurements of a run over one pass at a time.

    ``sources``: measurement key -> :class:`Source` for built-ins; ``ports``: NetPort key ->
    the port's key in the forward's outputs. ``per_batch``: keep per-batch records (training
    rounds; a validation pass needs only its totals).
    """

    def __init__(self, measurements: list[Measurement], sources: Mapping[str, Source],
                 ports: Mapping[str, str], per_batch: bool, head: str = "NetTrain",
                 reduce: Callable[[Tensor], Tensor] | None = None) -> None:
        self.ms, self.sources, self.ports, self.head = measurements, sources, ports, head
        self.reduce = reduce   # sums a pass's counts over processes (distributed training)
        self.keep = per_batch
        self.batch_keys = [m.key for m in measurements if per_batch and m.per_batch]
        self.unique = list({id(s): s for s in sources.values()}.values())
        self.others = [m for m in measurements if m.builtin is None and not m.is_loss]
        self.lists: dict[str, list[Any]] = {k: [] for k in self.batch_keys}
        self.start()

    def start(self) -> None:
        # The last pass still answers latest() until a batch of this pass comes.
        self.previous = getattr(self, "passes", {}), getattr(self, "records", {}), \
            getattr(self, "values", {})
        self.passes: dict[str, Any] = {}                  # source port -> its pass's stats
        self.totals: dict[str, Tensor] = {}               # NetPort key -> summed values
        self.records: dict[str, list[Tensor]] = {}        # NetPort key -> batch means
        self.values: dict[str, list[tuple[float, int]]] = {}   # function -> (value, n)
        self.examples = 0

    # -- per batch --------------------------------------------------------------------
    def batch(self, out: Mapping[str, Tensor], feeds: Mapping[str, Tensor],
              info: Callable[[], Any] | None = None, counts: bool = True) -> None:
        """Add one batch; ``counts=False``: a distributed process's empty share (one row that
        weighs nothing), which only fixes the shapes of the totals."""
        n = int(next(iter(feeds.values())).shape[0]) if counts else 0
        self.examples += n
        for src in self.unique:
            p = self.passes.get(src.port)
            if p is None:
                p = self.passes[src.port] = src.stats.new()
            if counts:
                p.add(out[src.pred], feeds[src.target])
        for m in self.others:
            if m.port is not None:
                x = out[self.ports[m.key]].detach().to(torch.float64)
                x = x if counts else x[:0]
                t = self.totals.get(m.key)
                self.totals[m.key] = x.sum(0) if t is None else t + x.sum(0)   # (port dims)
                if self.keep and m.per_batch and counts:
                    self.records.setdefault(m.key, []).append(x.mean(0))
            elif m.per_batch and info is not None and counts:
                self.values.setdefault(m.key, []).append((self._call(m, info), n))

    def _call(self, m: Measurement, info: Callable[[], Any]) -> float:
        value = m.function(info())  # type: ignore[misc]
        if isinstance(value, bool) or not isinstance(value, Real) or isinstance(value, complex):
            arr = np.asarray(value) if isinstance(value, (list, np.ndarray)) else None
            if arr is not None and arr.dtype.kind in "fiu":
                return aggregate(arr, m.aggregation)  # type: ignore[no-any-return]
            raise TrainingError(self.head, f'the custom measurement "{m.key}" gave {value!r}, '
                                "which is not a real number.")
        return float(value)

    # -- at the end of a pass -------------------------------------------------------------
    def end(self, info: Callable[[], Any] | None = None) -> dict[str, Any]:
        """The pass's value of every measurement (one host sync)."""
        r = self.reduce
        counts = {src.port: self.passes.get(src.port, src.stats.new()).counts(r)
                  for src in self.unique}
        examples = self.examples if r is None else int(r(torch.tensor(float(self.examples))))
        out: dict[str, Any] = {}
        for m in self.ms:
            if m.builtin is not None:
                out[m.key] = value_of(m, counts[self.sources[m.key].port])
            elif m.port is not None:
                total = self.totals.get(m.key)
                total = None if total is None else total if r is None else r(total)
                arr = np.array(math.nan) if total is None else total.cpu().numpy()
                out[m.key] = aggregate(arr / max(examples, 1), m.aggregation)
            elif m.key in self.values:
                vals = self.values[m.key]
                out[m.key] = sum(v * n for v, n in vals) / max(sum(n for _, n in vals), 1)
            elif info is not None:
                out[m.key] = self._call(m, info)
            else:
                out[m.key] = math.nan
        if self.keep:
            self._extend_lists()
        return out

    def _extend_lists(self) -> None:
        per_batch = {port: p.batch_counts() for port, p in self.passes.items()}
        for m in self.ms:
            if m.key not in self.lists:
                continue
            if m.builtin is not None:
                self.lists[m.key] += [value_of(m, c)
                                      for c in per_batch.get(self.sources[m.key].port, [])]
            elif m.port is not None:
                self.lists[m.key] += [aggregate(r.cpu().numpy(), m.aggregation)
                                      for r in self.records.get(m.key, [])]
            else:
                self.lists[m.key] += [v for v, _ in self.values.get(m.key, [])]

    def batch_lists(self) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in self.lists.items()}

    def latest(self) -> dict[str, Any]:
        """The per-batch measurements of the last batch (for progress reports)."""
        passes, records, values = ((self.passes, self.records, self.values) if self.examples
                                   else self.previous)
        found: dict[str, Any] = {}
        for m in self.ms:
            if m.key not in self.lists:
                continue
            if m.builtin is not None:
                p = passes.get(self.sources[m.key].port)
                c = None if p is None else p.last_counts()
                if c is not None:
                    found[m.key] = value_of(m, c)
            elif m.port is not None and records.get(m.key):
                found[m.key] = aggregate(records[m.key][-1].cpu().numpy(), m.aggregation)
            elif values.get(m.key):
                found[m.key] = values[m.key][-1][0]
        return found


def value_of(m: Measurement, counts: Any) -> Any:
    """A built-in measurement's value from the unpacked counts."""
    b = m.builtin
    if b is None or b.fn is None:
        raise TypeError(f"{m.key} is not a built-in measurement with a value")
    return b.fn(counts, m.param, m.averaging)
