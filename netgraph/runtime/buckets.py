"""Length buckets for sequences of several lengths (WL's ``RoundBucket`` rule).

Examples are grouped so that every example of a batch has the same *bucket*: its length
rounded up by :func:`round_bucket`. A batch is then padded only to its own longest example
(at most its bucket), never to the longest sequence of the data set, and each example's own
length travels with it so that the net can mask what lies beyond it (see docs/sequences.md).
Pure numpy: the training data pipeline uses this module too.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# WL: $DefaultSequenceBatchSize, the batch size of sequence evaluation.
DEFAULT_SEQUENCE_BATCH_SIZE = 32
# Training sorts each pool of this many batches of a bucket by length (see bucket_batches).
POOL_BATCHES = 4


def round_bucket(n: int) -> int:
    """The bucket of a sequence of length ``n``, as WL's ``RoundBucket`` computes it.

    Lengths up to 8 are exact; 9-16 round up to a multiple of 2, 17-32 of 4, 33-64 of 8;
    longer ones to ``Ceiling[1.5^Ceiling[Log[1.5, n]], 8]``.

    >>> [round_bucket(n) for n in (1, 8, 9, 17, 33, 64, 65, 100)]
    [1, 8, 10, 20, 40, 64, 88, 136]
    """
    n = int(n)
    if n <= 8:
        return n
    for limit, step in ((16, 2), (32, 4), (64, 8)):
        if n <= limit:
            return -(-n // step) * step
    power = 1.0
    while power < n:            # 1.5^Ceiling[Log[1.5, n]], without rounding trouble in log
        power *= 1.5
    return int(-(-power // 8) * 8)


def bucket_keys(lengths: Any, rounding: Callable[[int], int] = round_bucket
                ) -> list[tuple[int, ...]]:
    """The bucket key of each example: its lengths (one per sequence dimension) rounded."""
    arr = _as_matrix(lengths)
    return [tuple(rounding(v) for v in row) for row in arr]


def exact_length(n: int) -> int:
    """The identity rounding: buckets of exactly equal lengths (for nets that cannot mask)."""
    return int(n)


def bucket_batches(lengths: Any, batch_size: int, shuffle: bool = False,
                   rng: np.random.Generator | None = None,
                   rounding: Callable[[int], int] = round_bucket,
                   pool: int = POOL_BATCHES, merge: bool = False) -> list[np.ndarray]:
    """Split examples into batches whose examples share one length bucket.

    Args:
        lengths: one length per example (shape ``(n,)``), or one row of lengths per example
            when it has several sequence dimensions (shape ``(n, k)``); the bucket key is the
            tuple of rounded lengths.
        batch_size: the most examples in one batch.
        shuffle: if True (training), the examples of each bucket are shuffled, cut into
            *pools* of ``pool`` batches, each pool is sorted by length (ties stay in random
            order) and cut into batches, and the batches of all buckets are shuffled. Pools
            keep the batches' composition random from round to round while each batch
            holds similar lengths (less padding within a wide bucket). Otherwise buckets
            come in increasing order and, within a bucket, examples are sorted by length
            (stable), which keeps batches uniform.
        rng: the random generator used when shuffling.
        rounding: the bucket of a length; :func:`round_bucket` (WL's rule) by default,
            :func:`exact_length` for groups of exactly equal lengths.
        pool: batches per pool when shuffling (1: no sorting within a bucket).
        merge: if True, the examples left over at the end of each bucket (fewer than
            ``batch_size``) are batched together in length order, so that there is at most
            one partial batch in all: such a batch mixes neighbouring buckets and is padded
            to its own longest example, whose bucket is the batch's.

    Returns:
        A list of int64 index arrays into the examples; together they cover every example
        once.

    >>> [b.tolist() for b in bucket_batches([3, 12, 3, 11, 5], 2)]
    [[0, 2], [4], [3, 1]]
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    arr = _as_matrix(lengths)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, key in enumerate(bucket_keys(arr, rounding)):
        groups.setdefault(key, []).append(i)
    rng = rng if rng is not None else np.random.default_rng()
    batches: list[np.ndarray] = []
    leftovers: list[np.ndarray] = []
    for key in sorted(groups):
        idx = np.asarray(groups[key], dtype=np.int64)
        if shuffle:
            idx = rng.permutation(idx)
        step = max(1, pool) * batch_size if shuffle else len(idx)
        for p in range(0, len(idx), step):  # exact lengths together: fewer lengths per batch
            part = _by_length(idx[p:p + step], arr)
            for i in range(0, len(part), batch_size):
                b = part[i:i + batch_size]
                (leftovers if merge and len(b) < batch_size else batches).append(b)
    if leftovers:
        rest = _by_length(np.concatenate(leftovers), arr)
        batches += [rest[i:i + batch_size] for i in range(0, len(rest), batch_size)]
        if not shuffle:                 # keep increasing lengths
            batches.sort(key=lambda b: tuple(arr[b].max(axis=0)))
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _by_length(idx: np.ndarray, arr: np.ndarray) -> np.ndarray:
    """``idx`` sorted by the examples' lengths (stable: ties keep their order)."""
    return idx[np.lexsort(arr[idx].T[::-1])] if arr.shape[1] and len(idx) > 1 else idx


def pad_examples(examples: Sequence[Any], length: int | None = None) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    """Stack examples whose first dimension varies, padding each at the end to ``length``.

    Padding repeats each example's last element (values stay in the port's domain: valid
    indices for an embedding, positive numbers for a Log), and the net masks it anyway.

    Returns:
        ``(batch, lengths)``: the padded batch of shape ``(n, length, ...)`` and each
        example's own length.

    >>> b, n = pad_examples([np.array([1, 2, 3]), np.array([4])])
    >>> b.tolist(), n.tolist()
    ([[1, 2, 3], [4, 4, 4]], [3, 1])
    """
    arrs = [np.asarray(e) for e in examples]
    lens = np.array([a.shape[0] for a in arrs], dtype=np.int64)
    width = int(lens.max()) if length is None else int(length)
    out = np.empty((len(arrs), width, *arrs[0].shape[1:]),
                   dtype=np.result_type(*[a.dtype for a in arrs]))
    for i, a in enumerate(arrs):
        out[i, :len(a)] = a
        out[i, len(a):] = a[-1]
    return out, lens


def _as_matrix(lengths: Any) -> np.ndarray:
    arr = np.asarray(lengths, dtype=np.int64)
    return arr.reshape(-1, 1) if arr.ndim == 1 else arr.reshape(len(arr), -1)
