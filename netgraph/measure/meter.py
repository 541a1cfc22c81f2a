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
from .builtin import ClassCounts
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
                 ports: Mapping[str, str], per_batch: bool, head: str = "NetTrain") -> None:
        self.ms, self.sources, self.ports, self.head = measurements, sources, ports, head
        self.keep = per_batch
        self.batch_keys = [m.key for m in measurements if per_batch and m.per_batch]
        self.lists: dict[str, list[Any]] = {k: [] for k in self.batch_keys}
        self.start()

    def start(self) -> None:
        # The last pass's records still answer latest() until a batch of this pass comes.
        self.previous = (getattr(self, "records", {}), getattr(self, "values", {}))
        self.totals: dict[str, Tensor] = {}
        self.records: dict[str, list[Tensor]] = {}
        self.values: dict[str, list[tuple[float, int]]] = {}
        self.examples = 0

    # -- per batch --------------------------------------------------------------------
    def batch(self, out: Mapping[str, Tensor], feeds: Mapping[str, Tensor],
              info: Callable[[], Any] | None = None) -> None:
        n = int(next(iter(feeds.values())).shape[0])
        self.examples += n
        done: dict[int, Tensor] = {}
        for m in self.ms:
            if m.builtin is not None:
                src = self.sources[m.key]
                v = done.get(id(src))
                if v is None:
                    v = done[id(src)] = src.stats.batch(out[src.pred], feeds[src.target])
                    self._add(_src(src), v)
                    if self.keep and isinstance(src.stats, ClassStats):
                        self.records.setdefault(_src(src), []).append(_small(src.stats, v))
            elif m.port is not None:
                x = out[self.ports[m.key]].detach().to(torch.float64)
                self._add(_port(m), x.sum(0))                         # (port dims...)
                if self.keep and m.per_batch:
                    self.records.setdefault(_port(m), []).append(x.mean(0))
            elif m.function is not None and m.per_batch and info is not None:
                self.values.setdefault(m.key, []).append((self._call(m, info), n))

    def _add(self, key: str, v: Tensor) -> None:
        t = self.totals.get(key)
        self.totals[key] = v if t is None else t + v

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
        totals = {k: v.cpu().numpy() for k, v in self.totals.items()}
        out: dict[str, Any] = {}
        for m in self.ms:
            if m.builtin is not None:
                src = self.sources[m.key]
                out[m.key] = value_of(m, src.stats.counts(totals[_src(src)]))
            elif m.port is not None:
                out[m.key] = aggregate(totals[_port(m)] / max(self.examples, 1), m.aggregation)
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
        host = {k: torch.stack(v).cpu().numpy() for k, v in self.records.items()}
        for m in self.ms:
            if m.key not in self.lists:
                continue
            if m.builtin is not None:
                src = self.sources[m.key]
                stats = src.stats
                self.lists[m.key] += [value_of(m, _unsmall(stats, r))  # type: ignore[arg-type]
                                      for r in host.get(_src(src), [])]
            elif m.port is not None:
                self.lists[m.key] += [aggregate(r, m.aggregation)
                                      for r in host.get(_port(m), [])]
            else:
                self.lists[m.key] += [v for v, _ in self.values.get(m.key, [])]

    def batch_lists(self) -> dict[str, list[Any]]:
        return {k: list(v) for k, v in self.lists.items()}

    def latest(self) -> dict[str, Any]:
        """The per-batch measurements of the last batch (for progress reports)."""
        found: dict[str, Any] = {}
        records, values = (self.records, self.values) if self.examples else self.previous
        for m in self.ms:
            if m.key not in self.lists:
                continue
            if m.builtin is not None:
                src = self.sources[m.key]
                rec = records.get(_src(src))
                if rec:
                    found[m.key] = value_of(m, _unsmall(src.stats, rec[-1].cpu().numpy()))  # type: ignore[arg-type]
            elif m.port is not None and records.get(_port(m)):
                found[m.key] = aggregate(records[_port(m)][-1].cpu().numpy(), m.aggregation)
            elif values.get(m.key):
                found[m.key] = values[m.key][-1][0]
        return found


def _src(src: Source) -> str:
    return "output:" + src.port     # the totals of a source's counts


def _port(m: Measurement) -> str:
    return "port:" + m.key          # the totals of a NetPort measurement


def value_of(m: Measurement, counts: Any) -> Any:
    """A built-in measurement's value from the unpacked counts."""
    b = m.builtin
    if b is None or b.fn is None:
        raise TypeError(f"{m.key} is not a built-in measurement with a value")
    return b.fn(counts, m.param, m.averaging)


def _small(stats: ClassStats, v: Tensor) -> Tensor:
    """A batch's record: examples, correct, top-k hits, entropy."""
    n = stats.c
    conf = v[:n * n].reshape(n, n)
    return torch.cat([conf.sum().reshape(1), torch.diagonal(conf).sum().reshape(1),
                      v[n * n:n * n + len(stats.ks) + 1]])


def _unsmall(stats: ClassStats, r: np.ndarray) -> ClassCounts:
    topk = {k: float(r[2 + j]) for j, k in enumerate(stats.ks)}
    return ClassCounts(np.zeros((0, 0)), stats.labels, topk, float(r[2 + len(stats.ks)]),
                       examples=float(r[0]), correct=float(r[1]))
