"""Evaluating a batch of sequences of several lengths: length buckets, padding and masks.

The examples are grouped into batches whose lengths share a bucket (runtime/buckets.py),
each batch is padded to its own longest example and run once with each example's length
(``forward_ext(..., _lengths=...)``), and the outputs are cut back to each example's length.
Results equal one-at-a-time evaluation. A net with a layer that cannot mask padding
(``module.mask_safe`` is False) is run on groups of exactly equal shapes instead.

Splitting the batch into checked examples and stacking a group into a (padded) tensor are
the boundary's (``boundary/feeds.py``: ``examples_of``, ``stack_examples``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..shapes import VARYING
from .boundary.feeds import examples_of, stack_examples
from .buckets import DEFAULT_SEQUENCE_BATCH_SIZE, bucket_batches

States = dict[tuple, torch.Tensor]


def _groups(ev: Any, examples: list[dict[str, Any]], batch_size: int) -> list[np.ndarray]:
    """Batches of example indices: bucketed by length when the net masks padding, else
    groups of exactly equal shapes."""
    seq = [k for k in examples[0] if (ev.by_name[k].type.dims or (None,))[0] is VARYING]
    masked = getattr(ev.module, "mask_safe", False)
    by_rest: dict[tuple, list[int]] = {}
    for i, ex in enumerate(examples):
        rest = tuple(tuple(v.shape[1:]) if (k in seq and masked) else tuple(v.shape)
                     for k, v in ex.items())
        by_rest.setdefault(rest, []).append(i)
    batches = []
    for idx in by_rest.values():
        lens = np.array([[examples[i][k].shape[0] for k in seq] for i in idx], dtype=np.int64)
        if not masked or not seq:
            batches += [np.asarray(idx[j:j + batch_size]) for j in range(0, len(idx), batch_size)]
            continue
        batches += [np.asarray(idx)[b] for b in bucket_batches(lens.reshape(len(idx), -1),
                                                                batch_size)]
    return batches


def run_ragged(ev: Any, arrays: Mapping[str, Any], states: States | None = None,
               batch_size: int | None = None
               ) -> tuple[dict[str, list[torch.Tensor]], States | None]:
    """Evaluate examples of several shapes; outputs come back per example, in order.

    Args:
        ev: the net's Evaluator.
        arrays: per input port, a list (or array) of examples.
        states: initial hidden states ``{key: (n, ...) tensor}``, or None; when given, the
            final hidden states come back the same way (``{}`` asks for them from zeros).
        batch_size: the most examples per batch.
    """
    count, examples = examples_of(ev, arrays)
    batches = _groups(ev, examples, batch_size or DEFAULT_SEQUENCE_BATCH_SIZE)
    seq = {k for k in examples[0] if (ev.by_name[k].type.dims or (None,))[0] is VARYING}
    if not getattr(ev.module, "mask_safe", False):
        seq = set()       # groups of equal shapes: nothing to pad, mask or cut
    outs: dict[str, list[Any]] = {p: [None] * count for p in ev.outputs}
    finals: dict[tuple, list[Any]] = {}
    for idx in batches:
        feeds, lengths, lens_np = {}, {}, {}
        for k in examples[0]:
            t, lens = stack_examples(ev, k, [examples[i][k] for i in idx], k in seq)
            feeds[k] = t
            if k in seq:
                lens_np[k] = lens
                if (lens != t.shape[1]).any():
                    lengths[k] = torch.as_tensor(lens, device=ev.device)
        init = None if states is None else {key: v[torch.as_tensor(idx)]
                                            for key, v in states.items()}
        out = run_ext(ev, feeds, lengths or None, init)
        _scatter(ev, out, idx, lens_np, outs)
        for key, v in (out.get("_states") or {}).items():
            finals.setdefault(key, [None] * count)
            for j, i in enumerate(idx):
                finals[key][i] = v[j]
    final = None if states is None else {k: torch.stack(v) for k, v in finals.items()}
    return outs, final


def _scatter(ev: Any, out: Mapping[str, Any], idx: np.ndarray, lens: Mapping[str, np.ndarray],
             outs: dict[str, list[Any]]) -> None:
    """Put one batch's outputs back in order, each cut to its example's own length."""
    for p in ev.outputs:
        var = ev.module.output_lengths.get(p)
        t = out[p]
        for j, i in enumerate(idx):
            if var is not None and var[0] in lens:
                outs[p][i] = t[j, :int(lens[var[0]][j]) + var[1]]
            else:
                outs[p][i] = t[j]


def run_ext(ev: Any, feeds: Mapping[str, torch.Tensor], lengths: Mapping | None,
            states: Mapping | None) -> dict[str, Any]:
    """One call of the module's extended forward, with lengths and/or hidden states."""
    args = ev.args
    with torch.inference_mode():
        return ev.module.forward_ext(**{args[k]: v for k, v in feeds.items()},
                                     _lengths=lengths, _states=states)
