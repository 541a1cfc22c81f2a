"""Training data: WL data forms -> columns of examples -> batches of tensors.

Forms (as NetTrain accepts them): a dict ``{input: output}``, a list of ``(input, output)``
pairs, a pair of lists ``([in1, ...], [out1, ...])``, a dict of columns ``{port: [...]}``, a
list of dicts ``[{port: value}, ...]``, or a generator function ``f`` (also
``(f, {"RoundLength": n})``) called with ``{"BatchSize": n, "Round": r, "Batch": b,
"AbsoluteBatch": k}`` and returning one batch in any of the other forms.

A round's examples become tensors once; :meth:`ExampleData.round` gathers them in the round's
order with one indexing operation and hands out contiguous slices. That order is the
shuffled order under the run's seed, or, with StateTransfer, the *stream* layout: the N
examples are cut into BatchSize contiguous streams of L = N // BatchSize examples, and row i
of batch k is example i*L + k, so row i of batch k+1 continues row i of batch k. Data given
as a list of series (``[{port: column}, ...]``, one dict per series) is laid out in lanes
instead: each row runs through whole series one after another, and ``SERIES_START`` marks
the rows where a new series begins (the trainer resets their states there).

Sequences of several lengths on a ``"Varying"`` port (a *ragged* column, held as a 1-D
object array of per-example arrays) are stored flat on the device. Each round, their
examples are grouped into length buckets (runtime/buckets.py: shuffled within each bucket,
batches in shuffled order, both drawn from (seed, round)); a batch is gathered padded to its
own longest example, with ``LENGTHS_ARG`` (the forward's ``_lengths=``) holding each
example's length per ragged port. The "$TrainingGenerator" shows that entry as
``"$Lengths"``. See docs/sequences.md.

The conversion of checked columns and batches to tensors and back (``PortFeed``,
``RaggedColumn``, ``BatchTensors``) is the boundary's: ``runtime/boundary/batches.py``.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import NetGraphError, TrainingError, nearest
from ..ports import NetPort
from ..runtime.boundary.batches import (
    LENGTHS_ARG,
    SERIES_START,
    BatchTensors,
    PortFeed,
    RaggedColumn,
    short,
)
from ..runtime.boundary.codec import Deferred, encoded_column
from ..runtime.boundary.columns import (
    column,
    is_ragged,
    ragged_column,
    to_device,
)
from ..runtime.boundary.values import PortCodec
from ..runtime.buckets import bucket_batches, exact_length, round_bucket

HEAD = "NetTrain"
DEFAULT_BATCH_SIZE = 64
Columns = dict[str, Any]   # port -> np.ndarray (a ragged one: 1-D object) or Deferred


@dataclass(frozen=True)
class Generator:
    """A generator-function data source; ``round_length`` examples per round (None: 1 batch)."""

    f: Callable[[dict], Any]
    round_length: int | None = None


def data_columns(data: Any, inputs: Sequence[str], outputs: Sequence[str],
                 head: str = HEAD, codecs: Mapping[str, PortCodec] | None = None,
                 defer: bool = False) -> Columns | Generator:
    """Any data form -> ``{port: array of examples}`` (or a :class:`Generator`).

    ``inputs`` are the net's required inputs and ``outputs`` its outputs: the rules forms
    (``{in: out}``, pairs) need exactly one of each and name the target after the output.
    ``codecs`` are the coded ports: their columns go through the port's encoder (inputs) or
    decoder (targets: labels -> class indices ...) first; with ``defer``, a large input
    column is encoded later, while training runs (a :class:`Deferred` column).

    >>> cols = data_columns({1: 1.9, 2: 4.1}, ["Input"], ["Output"])
    >>> cols["Input"].tolist(), cols["Output"].tolist()
    ([1, 2], [1.9, 4.1])
    """
    if callable(data) and not isinstance(data, Mapping):
        return Generator(data)
    if (isinstance(data, tuple) and len(data) == 2 and callable(data[0])
            and isinstance(data[1], Mapping)):
        return Generator(data[0], _round_length(head, data[1]))
    if isinstance(data, (list, tuple, Mapping)) and not data:
        raise TrainingError(head, "the training data is empty.")
    if isinstance(data, Mapping) and data and all(isinstance(k, (str, NetPort)) for k in data):
        cols = {_port(k): v for k, v in data.items()}
    elif isinstance(data, Mapping):
        cols = _rules(head, list(data.keys()), list(data.values()), inputs, outputs)
    elif _is_pair_of_lists(data):
        cols = _rules(head, list(data[0]), list(data[1]), inputs, outputs)
    elif isinstance(data, (list, tuple)) and data and all(isinstance(e, Mapping) for e in data):
        keys = list(data[0])
        for i, e in enumerate(data):
            if set(e) != set(keys):
                raise TrainingError(head, f"example {i + 1} has the ports "
                                    f"{', '.join(map(str, e)) or 'none'}, but example 1 has "
                                    f"{', '.join(map(str, keys))}.")
        cols = {_port(k): [e[k] for e in data] for k in keys}
    elif isinstance(data, (list, tuple)) and data and all(
            isinstance(e, tuple) and len(e) == 2 for e in data):
        cols = _rules(head, [e[0] for e in data], [e[1] for e in data], inputs, outputs)
    else:
        raise TrainingError(head, "expected training data as a dict {input: output}, a list of "
                            "(input, output) pairs, a dict of columns {port: [...]}, a list of "
                            f"dicts or a generator function, but received {short(data)}.")
    codecs = codecs or {}
    out = {k: encoded_column(head, codecs.get(k), v, TrainingError, defer)
           for k, v in cols.items()}
    return {k: v if isinstance(v, Deferred) else column(head, k, v) for k, v in out.items()}


def _port(k: Any) -> str:
    return k.port if isinstance(k, NetPort) else k  # type: ignore[attr-defined,no-any-return]


def _is_pair_of_lists(data: Any) -> bool:
    return (isinstance(data, tuple) and len(data) == 2 and all(
        isinstance(d, (list, np.ndarray, torch.Tensor)) for d in data)
        and len(data[0]) == len(data[1]) and not all(isinstance(d, tuple) for d in data))


def _rules(head: str, ins: list, outs: list, inputs: Sequence[str],
           outputs: Sequence[str]) -> dict[str, Any]:
    if len(inputs) != 1 or len(outputs) != 1:
        raise TrainingError(head, "data given as input -> output rules needs a net with one "
                            f"input and one output, but the net has inputs "
                            f"{', '.join(inputs) or 'none'} and outputs "
                            f"{', '.join(outputs) or 'none'}; give a dict of columns "
                            "{port: [...]} instead.")
    return {inputs[0]: ins, outputs[0]: outs}


def _round_length(head: str, opts: Mapping[str, Any]) -> int | None:
    for k in opts:
        if k != "RoundLength":
            raise TrainingError(head, f'unknown generator option "{k}".'
                                f'{nearest(str(k), ["RoundLength"])} The generator accepts '
                                '{"RoundLength": n}.')
    n = opts.get("RoundLength")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise TrainingError(head, f"expected RoundLength to be a positive integer, but "
                            f"received {n!r}.")
    return n


def typing_sample(cols: Any) -> Any:
    """The columns as shape inference sees them: a ragged column becomes its first example
    (a batch of one, in the column's common dtype); a :class:`Generator` passes through."""
    if not isinstance(cols, Mapping):
        return cols
    return {p: v.first if isinstance(v, Deferred) else
            np.asarray(v[0], dtype=np.result_type(*{e.dtype for e in v}))[None]
            if is_ragged(v) else v for p, v in cols.items()}


def column_count(head: str, cols: Columns) -> int:
    """The number of examples; every column must have the same count."""
    counts = {k: len(v) if v.ndim else 0 for k, v in cols.items()}
    if len(set(counts.values())) > 1:
        raise TrainingError(head, "the data columns have different lengths: " + ", ".join(
            f'"{k}" {n}' for k, n in counts.items()) + ".")
    n = next(iter(counts.values()), 0)
    if n == 0:
        raise TrainingError(head, "the training data is empty.")
    return n


def split_validation(cols: Columns, fraction: float, seed: int, keep_order: bool
                     ) -> tuple[Columns, Columns]:
    """(training, validation): a random ``fraction`` of the examples (the last ones when
    ``keep_order``, as StateTransfer needs contiguous data)."""
    tr, va = split_rows(len(next(iter(cols.values()))), fraction, seed, keep_order)
    return {p: v[tr] for p, v in cols.items()}, {p: v[va] for p, v in cols.items()}


def split_rows(n: int, fraction: float, seed: int, keep_order: bool
               ) -> tuple[np.ndarray, np.ndarray]:
    """The example indices (sorted) :func:`split_validation` keeps for training and for
    validation."""
    k = max(1, min(n - 1, int(round(fraction * n))))
    if keep_order:
        idx = np.arange(n)
    else:
        idx = np.random.default_rng([seed, 7]).permutation(n)
    return np.sort(idx[:n - k]), np.sort(idx[n - k:])


def stream_order(n: int, batch_size: int) -> np.ndarray:
    """Example indices in stream layout: row i of batch k is example i*L + k, L = n // b.

    >>> stream_order(7, 2).tolist()   # streams [0, 1, 2] and [3, 4, 5]; example 6 dropped
    [0, 3, 1, 4, 2, 5]
    """
    length = n // batch_size
    return np.arange(batch_size * length).reshape(batch_size, length).T.ravel()


def series_columns(data: Any, ranks: Mapping[str, int | None]) -> tuple[Columns, list[int]] | None:
    """A list of series (one dict of columns per series) -> (concatenated columns, series
    lengths); None unless ``data`` is such a list (judged by the rank of a port's values)."""
    if not isinstance(data, (list, tuple)) or not data or not all(
            isinstance(d, Mapping) for d in data):
        return None
    first = {_port(k): v for k, v in data[0].items()}
    known = [p for p in first if ranks.get(p) is not None]
    if not known or np.ndim(first[known[0]]) != ranks[known[0]] + 1:  # type: ignore[operator]
        return None
    parts = [{_port(k): column(HEAD, _port(k), v) for k, v in d.items()}
             for d in data]
    for i, part in enumerate(parts):
        if set(part) != set(parts[0]):
            raise TrainingError(HEAD, f"series {i + 1} has the columns {', '.join(part)}, but "
                                f"series 1 has {', '.join(parts[0])}.")
    lengths = [column_count(HEAD, part) for part in parts]
    return {p: _concat([part[p] for part in parts]) for p in parts[0]}, lengths


def _concat(parts: list[np.ndarray]) -> np.ndarray:
    """Columns joined end to end; ragged when the parts are, or when their shapes differ."""
    if not any(is_ragged(c) for c in parts) and len({c.shape[1:] for c in parts}) == 1:
        return np.concatenate(parts)
    examples = [e for c in parts for e in c]
    out = ragged_column(examples)
    if out is None:
        raise TrainingError(HEAD, "the series have examples of different shapes.")
    return out


def lane_order(lengths: Sequence[int], lanes: int) -> tuple[np.ndarray, np.ndarray]:
    """Series laid out in ``lanes`` rows: each series goes, in order, to the lane with the
    fewest examples so far; lanes are cut to the shortest. Returns (order, series starts).

    >>> order, starts = lane_order([3, 2, 2], 2)   # lanes: series 1 | series 2, series 3
    >>> order.tolist(), starts.tolist()
    ([0, 3, 1, 4, 2, 5], [True, True, False, False, False, True])
    """
    rows: list[list[int]] = [[] for _ in range(lanes)]
    first: set[int] = set()
    offset = 0
    for n in lengths:
        lane = min(range(lanes), key=lambda i: (len(rows[i]), i))
        rows[lane].extend(range(offset, offset + n))
        first.add(offset)
        offset += n
    length = min(len(r) for r in rows)
    if length == 0:
        raise TrainingError(HEAD, f"StateTransfer runs BatchSize = {lanes} lanes, but there are "
                            f"only {len(lengths)} series; use a smaller BatchSize.")
    order = np.array([rows[i][k] for k in range(length) for i in range(lanes)])
    return order, np.isin(order, sorted(first))


def round_order(n: int, batch_size: int, seed: int, rnd: int, streams: bool) -> np.ndarray:
    """The example order of round ``rnd`` (1-based): a permutation drawn from (seed, round)
    alone, so any round can be reproduced without replaying the earlier ones."""
    if streams:
        return stream_order(n, batch_size)
    return np.random.default_rng([seed, rnd]).permutation(n)


class ExampleData:
    """Examples held as tensors on the training device, cut into batches per round.

    With ragged columns (sequences of several lengths), batches are length buckets, or
    groups of exactly one length when ``exact`` (a net that cannot mask padding); each batch
    carries ``LENGTHS_ARG``, ``{port: (batch,) lengths}`` for every ragged port, last.
    """

    def __init__(self, cols: Columns, feeds: Mapping[str, PortFeed], batch_size: int,
                 seed: int, streams: bool, shuffle: bool, dtype: torch.dtype,
                 device: str, series: Sequence[int] | None = None, exact: bool = False) -> None:
        self.n = column_count(HEAD, cols)
        self.batch_size, self.seed, self.streams, self.shuffle = batch_size, seed, streams, shuffle
        self.device, self.exact = device, exact
        self.tensors = {feeds[p].key: to_device(v, feeds[p].integer, dtype, device)
                        for p, v in cols.items() if not is_ragged(v)
                        and not isinstance(v, Deferred)}
        self.pending = {feeds[p].key: v for p, v in cols.items() if isinstance(v, Deferred)}
        if self.pending and (streams or series is not None or any(
                is_ragged(v) for v in cols.values())):   # batches not in one order: now
            self.tensors.update({k: to_device(v.encode(np.arange(len(v))), False, dtype,
                                              device) for k, v in self.pending.items()})
            self.pending = {}
        self.ragged = {p: (feeds[p].key, RaggedColumn(v, feeds[p].integer, dtype, device))
                       for p, v in cols.items() if is_ragged(v)}
        self.series = None if series is None else lane_order(series, batch_size)
        if streams and self.n < batch_size and self.series is None:
            raise TrainingError(HEAD, f"StateTransfer splits the data into BatchSize = "
                                f"{batch_size} streams, but there are only {self.n} examples; "
                                "use a smaller BatchSize.")
        if streams and exact and self.ragged:
            raise TrainingError(HEAD, "StateTransfer keeps the data's order, so its batches mix "
                                "sequence lengths, but the net cannot mask padding; give "
                                "sequences of one length.")
        rows = (self.n // batch_size) * batch_size if streams else self.n
        if self.series is not None:
            rows = len(self.series[0])
        self.batches_per_round = -(-rows // batch_size)
        self._cached: dict[str, torch.Tensor] | None = None
        self._plan: list[np.ndarray] | None = None
        if self.ragged and not streams:
            self.batches_per_round = len(self._index_batches(1))
        self.ahead = None
        if self.pending:   # encoded on a worker thread, in round 1's order, while it trains
            order = (round_order(self.n, batch_size, seed, 1, streams) if shuffle or streams
                     else np.arange(self.n))
            self.ahead = EncodeAhead(self.pending, order, batch_size, dtype, device)

    def _ordered(self, rnd: int) -> dict[str, torch.Tensor]:
        if self.streams:
            if self._cached is None:
                self._cached = self._gather(stream_order(self.n, self.batch_size)
                                            if self.series is None else self.series[0])
                if self.series is not None:
                    self._cached[SERIES_START] = torch.from_numpy(self.series[1]).to(
                        self.device)
            return self._cached
        if not self.shuffle:
            return self.tensors
        return self._gather(round_order(self.n, self.batch_size, self.seed, rnd, False))

    def _gather(self, order: np.ndarray) -> dict[str, torch.Tensor]:
        idx = torch.from_numpy(order).to(self.device)
        return {k: t.index_select(0, idx) for k, t in self.tensors.items()}

    def round(self, rnd: int, start: int = 0) -> Iterator[dict[str, Any]]:
        """The batches of round ``rnd`` (1-based) from batch ``start`` (0-based) on, keyed by
        the forward's argument names. The whole round is gathered once; batches are views
        (ragged data: one gather per batch, padded to the batch's longest example)."""
        if self.ahead is not None:
            if not self.ahead.done(rnd):
                yield from self._encoding_round(rnd, start)
                return
            self.tensors.update(self.ahead.finish())
            self.ahead = None
        if self.ragged:
            yield from self._ragged_round(rnd, start)
            return
        data, b = self._ordered(rnd), self.batch_size
        for i in range(start, self.batches_per_round):
            yield {k: t[i * b:(i + 1) * b] for k, t in data.items()}

    def rows(self, rnd: int) -> list[np.ndarray]:
        """The example indices of each batch of round ``rnd``, in the order :meth:`round`
        gives the batches (what "ExampleLosses" records against)."""
        if self.ragged:
            return self._index_batches(rnd)
        b = self.batch_size
        if self.streams:
            order = stream_order(self.n, b)
        elif self.shuffle:
            order = round_order(self.n, b, self.seed, rnd, False)
        else:
            order = np.arange(self.n)
        return [order[i * b:(i + 1) * b] for i in range(self.batches_per_round)]

    def batch(self, rnd: int, i: int) -> dict[str, Any]:
        """Batch ``i`` (0-based) of round ``rnd``."""
        return next(self.round(rnd, i))

    def _encoding_round(self, rnd: int, start: int) -> Iterator[dict[str, Any]]:
        """Round 1 while its deferred columns are being encoded: each batch waits for its
        own examples only (the worker encodes them in this round's order)."""
        order = self.ahead.order  # type: ignore[union-attr]
        b = self.batch_size
        for i in range(start, self.batches_per_round):
            rows = order[i * b:(i + 1) * b]
            idx = torch.from_numpy(rows).to(self.device)
            batch = {k: t.index_select(0, idx) for k, t in self.tensors.items()}
            batch.update(self.ahead.rows(i * b, rows))  # type: ignore[union-attr]
            yield batch

    # -- ragged data: length buckets ---------------------------------------------------
    def _index_batches(self, rnd: int) -> list[np.ndarray]:
        """The example indices of each batch of round ``rnd``."""
        b = self.batch_size
        if self.streams:
            order = stream_order(self.n, b) if self.series is None else self.series[0]
            return [order[i:i + b] for i in range(0, len(order), b)]
        if not self.shuffle and self._plan is not None:
            return self._plan
        lengths = np.stack([r.lengths for _, r in self.ragged.values()], axis=1)  # (n, ports)
        plan = bucket_batches(lengths, b, self.shuffle, np.random.default_rng([self.seed, rnd]),
                              exact_length if self.exact else round_bucket,
                              merge=not self.exact)
        if not self.shuffle:
            self._plan = plan
        return plan

    def _ragged_round(self, rnd: int, start: int) -> Iterator[dict[str, Any]]:
        plan = self._index_batches(rnd)
        for i in range(start, len(plan)):
            batch = self._take(plan[i])
            if self.series is not None:
                b = self.batch_size
                batch = {**batch, SERIES_START: torch.from_numpy(
                    self.series[1][i * b:(i + 1) * b]).to(self.device)}
                batch[LENGTHS_ARG] = batch.pop(LENGTHS_ARG)
            yield batch

    def _take(self, idx: np.ndarray) -> dict[str, Any]:
        """One batch: the examples ``idx``, ragged ports padded; their lengths last."""
        rows = torch.from_numpy(idx).to(self.device)
        out: dict[str, Any] = {k: t.index_select(0, rows) for k, t in self.tensors.items()}
        lengths = {}
        for p, (key, col) in self.ragged.items():
            out[key], lengths[p] = col.take(idx)
        out[LENGTHS_ARG] = lengths
        return out


class Feeder(BatchTensors):
    """One batch in any data form -> tensors keyed by the forward's argument names (the
    conversion itself is :class:`~netgraph.runtime.boundary.batches.BatchTensors`).

    Sequences of several lengths may come as per-example lists (padded here to the batch's
    longest) or padded, with ``"$Lengths": {port: lengths}``; either way the tensors get
    ``LENGTHS_ARG``. ``unsafe`` names the net's layers that cannot mask padding: a batch
    that mixes lengths is then an error.
    """

    def __init__(self, feeds: Mapping[str, PortFeed], required: Sequence[str],
                 inputs: Sequence[str], outputs: Sequence[str], dtype: torch.dtype,
                 device: str, head: str = HEAD, unsafe: Sequence[str] = (),
                 codecs: Mapping[str, PortCodec] | None = None) -> None:
        self.feeds, self.required, self.head = feeds, required, head
        self.codecs = codecs or {}   # coded ports: a batch's labels, images ... are encoded
        self.inputs, self.outputs = inputs, outputs
        self.dtype, self.device = dtype, device
        self.unsafe = tuple(unsafe)
        self.names = {f.key: p for p, f in feeds.items()}
        self.names[SERIES_START] = SERIES_START

    def _convert(self, batch: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        cols = data_columns(batch, self.inputs, self.outputs, self.head, self.codecs)
        if isinstance(cols, Generator):
            raise TrainingError(self.head, "expected a batch of data, but received a function.")
        check_ports(self.head, cols, self.feeds, self.required)
        column_count(self.head, cols)
        return self._tensors(cols)


def unsafe_heads(module: Any) -> tuple[str, ...]:
    """The heads of the layers of a lowered net that cannot mask padding (innermost names:
    a nested graph is named by its own unsafe layers); () for a mask-safe net."""
    if getattr(module, "mask_safe", True):
        return ()
    inner = [h for m in module.modules() if getattr(m, "mask_safe", True) is False
             for h in m.unsafe_heads if h not in ("NetGraph", "NetChain")]
    return tuple(dict.fromkeys(inner)) or tuple(module.unsafe_heads)


def check_ports(head: str, cols: Mapping[str, Any], feeds: Mapping[str, PortFeed],
                required: Sequence[str]) -> None:
    """Every column names a port the training net takes; every required port has data."""
    for k in cols:
        if k not in feeds:
            raise TrainingError(head, f'the data has a column "{k}", but the training net has '
                                f"no such input.{nearest(k, feeds)} Its inputs are "
                                f"{', '.join(feeds)}.")
    for k in required:
        if k not in cols:
            raise TrainingError(head, f'no training data was given for port "{k}"; the data '
                                f"has {', '.join(cols) or 'no columns'}.")
    for k, v in cols.items():
        feeds[k].check(head, k, v)


class GeneratorData:
    """A generator function as a batch source: ``f`` is called once per batch."""

    def __init__(self, gen: Generator, to_feeds: Callable[[Any], dict[str, torch.Tensor]],
                 batch_size: int, first: Any = None) -> None:
        self.gen, self.to_feeds, self.batch_size = gen, to_feeds, batch_size
        self.batches_per_round = (1 if gen.round_length is None
                                  else -(-gen.round_length // batch_size))
        self.n = gen.round_length or batch_size
        self._first = first  # the probe call's result is round 1, batch 1

    def call(self, rnd: int, i: int) -> Any:
        if rnd == 1 and i == 0 and self._first is not None:
            return self._first
        return call_generator(self.gen.f, {
            "BatchSize": self.batch_size, "Round": rnd, "Batch": i + 1,
            "AbsoluteBatch": (rnd - 1) * self.batches_per_round + i + 1})

    def round(self, rnd: int, start: int = 0) -> Iterator[dict[str, torch.Tensor]]:
        for i in range(start, self.batches_per_round):
            yield self.batch(rnd, i)

    def batch(self, rnd: int, i: int) -> dict[str, torch.Tensor]:
        batch = self.call(rnd, i)
        try:
            return self.to_feeds(batch)
        except NetGraphError as e:  # say which batch was bad
            raise type(e)(e.head, f"{e.message.rstrip('.')} (in the batch the "
                          f"generator function returned for round {rnd}, batch {i + 1})."
                          ) from None


def call_generator(f: Callable[[dict], Any], info: dict) -> Any:
    """``f(info)``; an exception in it becomes a TrainingError naming the batch."""
    try:
        batch = f(info)
    except Exception as e:
        raise TrainingError(HEAD, f"the generator function raised {type(e).__name__}: {e} "
                            f"(round {info['Round']}, batch {info['Batch']}).") from e
    if batch is None or isinstance(batch, (str, bytes, int, float, complex)):
        raise TrainingError(HEAD, f"the generator function returned {short(batch)} for round "
                            f"{info['Round']}, batch {info['Batch']}; it must return a batch "
                            "of data, such as a dict of columns {port: [...]}.")
    return batch


class EncodeAhead:
    """Encodes deferred columns (:class:`Deferred`: images ...) on one worker thread, a
    chunk of ``order`` at a time, into tensors that the training loop reads as the chunks
    become ready: round 1's steps overlap the encoding of the examples they have not reached.
    An encoding error is raised in the training loop, at the batch that needs the example."""

    CHUNK = 256

    def __init__(self, pending: Mapping[str, Deferred], order: np.ndarray, batch_size: int,
                 dtype: torch.dtype, device: str) -> None:
        self.pending, self.order = pending, np.asarray(order)
        n = len(next(iter(pending.values())))
        self.out = {k: torch.empty(v.shape, dtype=dtype) for k, v in pending.items()}
        self.device = device
        self.ready = 0                       # positions of ``order`` encoded so far
        self.error: BaseException | None = None
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._work, args=(n,), daemon=True,
                                       name="netgraph-encode")
        self.thread.start()

    def _work(self, n: int) -> None:
        try:
            for i in range(0, n, self.CHUNK):
                rows = self.order[i:i + self.CHUNK]
                for k, col in self.pending.items():
                    self.out[k][torch.from_numpy(rows)] = torch.from_numpy(
                        col.encode(rows)).to(self.out[k].dtype)
                with self.cond:
                    self.ready = i + len(rows)
                    self.cond.notify_all()
            with self.cond:
                self.ready = n
                self.cond.notify_all()
        except BaseException as e:  # noqa: BLE001 - raised again in the training loop
            with self.cond:
                self.error = e
                self.cond.notify_all()

    def wait(self, upto: int) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.ready >= upto or self.error is not None)
            if self.error is not None and self.ready < upto:
                raise self.error

    def rows(self, start: int, rows: np.ndarray) -> dict[str, torch.Tensor]:
        """The encoded examples ``rows`` (positions ``start`` on of the order)."""
        self.wait(start + len(rows))
        idx = torch.from_numpy(rows)
        return {k: t.index_select(0, idx).to(self.device) for k, t in self.out.items()}

    def done(self, rnd: int) -> bool:
        """Whether round ``rnd`` can use whole encoded columns (after round 1: wait)."""
        if rnd == 1 and self.ready < len(self.order):
            return False
        self.wait(len(self.order))
        return True

    def finish(self) -> dict[str, torch.Tensor]:
        self.thread.join()
        return {k: t.to(self.device) for k, t in self.out.items()}
