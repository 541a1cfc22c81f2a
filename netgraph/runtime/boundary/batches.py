"""Training batches: checked columns of examples -> tensors on the training device, and
tensors -> numpy for the "$TrainingGenerator".

- :class:`PortFeed`: how one column becomes a tensor (argument name, dtype, port type) and
  its shape checks;
- :class:`RaggedColumn`: a column of sequences of several lengths stored flat on the device,
  gathered padded per batch (``train.data.ExampleData`` orders and cuts the rounds);
- :class:`BatchTensors`: one batch's columns -> tensors (ragged ones padded, with
  ``LENGTHS_ARG``), a batch's own ``"$Lengths"`` and ``"$SeriesStart"`` checked, and tensors
  -> numpy keyed by port; ``train.data.Feeder`` adds the data forms (``data_columns``).

Column conversion and checks (missing values, strings, indices) are in ``columns.py``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...errors import ShapeError, TrainingError
from ...shapes import VARYING, PortType
from ..buckets import pad_examples
from .columns import check_indices, is_ragged, to_device

SERIES_START = "$SeriesStart"   # batch key: rows where a new series starts (lane layout)
LENGTHS = "$Lengths"            # batch key: {port: (batch,) lengths} of ragged ports
LENGTHS_ARG = "_lengths"        # the same, as the forward's keyword argument


@dataclass
class PortFeed:
    """How one column becomes a tensor: the forward's argument name, the dtype, the type."""

    key: str
    integer: bool
    type: PortType | None = None

    def check(self, head: str, port: str, column: np.ndarray) -> None:
        """Each example must have the port's shape (any nonzero length for a "Varying"
        dimension); a ragged column needs a port whose first dimension is "Varying"."""
        if self.type is None or self.type.dims is None:
            return
        dims = self.type.dims
        shape = column[0].shape if is_ragged(column) else column.shape[1:]
        if is_ragged(column) and (not dims or dims[0] is not VARYING):
            lens = [len(e) for e in column]
            raise ShapeError(head, f'port "{port}" expects {self.type.describe()}, but the data '
                             f"has examples of several lengths ({min(lens)} to {max(lens)}); "
                             'only a port whose first dimension is "Varying" takes sequences '
                             "of several lengths.")
        if len(dims) != len(shape) or any(isinstance(d, int) and d != s
                                          for d, s in zip(dims, shape, strict=True)):
            raise ShapeError(head, f'port "{port}" expects {self.type.describe()}, but the '
                             "data has examples of dimensions "
                             f"{{{', '.join(map(str, shape))}}}.")
        if dims and dims[0] is VARYING:
            _check_nonempty(head, port, column)
        if self.integer:  # class and embedding indices: whole numbers within the bound
            check_indices(head, port, self.type, column)



def _check_nonempty(head: str, port: str, column: np.ndarray) -> None:
    """WL's netnullseq: a sequence of length zero is an error."""
    lens = [len(e) for e in column] if is_ragged(column) else [column.shape[1]] * len(column)
    if 0 in lens:
        raise TrainingError(head, "All sequences provided to net must have non-zero length; "
                            f'example {lens.index(0) + 1} of port "{port}" has length 0.')



class RaggedColumn:
    """A column of sequences of several lengths, stored flat on the device.

    A batch is one gather: each example padded at the end to the batch's longest by
    repeating its last element (as :func:`~netgraph.runtime.buckets.pad_examples` does).
    """

    def __init__(self, column: np.ndarray, integer: bool, dtype: torch.dtype,
                 device: str) -> None:
        self.lengths = np.array([len(e) for e in column], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.flat = to_device(np.concatenate(list(column)), integer, dtype, device)  # (steps, ...)

    def take(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(the padded batch (batch, width, ...), each example's length (batch,))."""
        lens = self.lengths[idx]
        width = int(lens.max())
        steps = np.minimum(np.arange(width), lens[:, None] - 1)           # (batch, width)
        rows = torch.from_numpy((self.offsets[idx, None] + steps).ravel())
        x = self.flat.index_select(0, rows.to(self.flat.device))
        return (x.view(len(idx), width, *self.flat.shape[1:]),
                torch.from_numpy(lens).to(self.flat.device))


class BatchTensors:
    """One batch's checked columns -> tensors keyed by the forward's argument names, and
    back to numpy (the "$TrainingGenerator" batches). ``train.data.Feeder`` adds the data
    forms and their checks (``_convert``) and the attributes read here: ``feeds``
    (port -> :class:`PortFeed`), ``names`` (argument -> port), ``head``, ``dtype``,
    ``device`` and ``unsafe``."""

    feeds: Mapping[str, PortFeed]
    names: dict[str, str]
    head: str
    dtype: torch.dtype
    device: str
    unsafe: tuple[str, ...]

    def _convert(self, batch: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        raise NotImplementedError

    def __call__(self, batch: Any) -> dict[str, Any]:
        start, given = None, None
        if isinstance(batch, Mapping) and (SERIES_START in batch or LENGTHS in batch):
            batch = dict(batch)
            if SERIES_START in batch:
                start = torch.as_tensor(np.asarray(batch.pop(SERIES_START), dtype=bool))
            given = batch.pop(LENGTHS, None)
        feeds, lengths = self._convert(batch)
        if start is not None:
            feeds[SERIES_START] = start.to(next(iter(feeds.values())).device)
        if given is not None:
            lengths.update(self._given_lengths(given, feeds))
        if lengths:
            self._check_masking(feeds, lengths)
            feeds[LENGTHS_ARG] = lengths
        return feeds

    def _tensors(self, cols: Mapping[str, Any]
                 ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Checked columns -> tensors keyed by argument names (ragged ones padded), and
        the lengths of the ragged ports."""
        feeds: dict[str, Any] = {}
        lengths: dict[str, torch.Tensor] = {}
        for p, v in cols.items():
            f = self.feeds[p]
            if is_ragged(v):
                v, n = pad_examples(list(v))
                lengths[p] = torch.from_numpy(n).to(self.device)
            feeds[f.key] = to_device(v, f.integer, self.dtype, self.device)
        return feeds, lengths

    def _given_lengths(self, given: Any, feeds: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """A batch's ``"$Lengths"``: checked against the ports and their padded tensors."""
        if not isinstance(given, Mapping):
            raise TrainingError(self.head, f'expected "{LENGTHS}" to be a dict {{port: '
                                f"lengths}}, but received {short(given)}.")
        out = {}
        for p, n in given.items():
            f = self.feeds.get(p)
            if f is None or f.key not in feeds or not (f.type and f.type.dims
                                                     and f.type.dims[0] is VARYING):
                raise TrainingError(self.head, f'"{LENGTHS}" gives lengths for "{p}", which '
                                    'is not a "Varying" input in this batch.')
            lens = np.asarray(n.detach().cpu() if isinstance(n, torch.Tensor) else n)
            x = feeds[f.key]
            if lens.shape != (x.shape[0],) or lens.dtype.kind not in "iu" or (
                    lens.size and (lens.min() < 1 or lens.max() > x.shape[1])):
                raise TrainingError(self.head, f'"{LENGTHS}" of "{p}": expected one length '
                                    f"between 1 and {x.shape[1]} per example ({x.shape[0]}), "
                                    f"but received {short(lens.tolist())}.")
            out[p] = torch.from_numpy(lens.astype(np.int64)).to(self.device)
        return out

    def _check_masking(self, feeds: Mapping[str, Any], lengths: Mapping[str, torch.Tensor]
                       ) -> None:
        if not self.unsafe:
            return
        for p, n in lengths.items():
            if bool((n != feeds[self.feeds[p].key].shape[1]).any()):
                raise TrainingError(self.head, f'the batch mixes sequence lengths on port "{p}"'
                                    f", but {', '.join(sorted(set(self.unsafe)))} cannot mask "
                                    "padding; give batches whose sequences have one length.")

    def numpy(self, tensors: Mapping[str, Any]) -> dict[str, Any]:
        """Tensors keyed by argument names -> numpy arrays keyed by port names (the lengths
        of ragged ports under ``"$Lengths"``)."""
        out: dict[str, Any] = {}
        for k, t in tensors.items():
            if k == LENGTHS_ARG:
                out[LENGTHS] = {p: n.detach().cpu().numpy() for p, n in t.items()}
            else:
                out[self.names[k]] = t.detach().cpu().numpy()
        return out


def short(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 60 else r[:57] + "..."
