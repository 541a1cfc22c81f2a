"""Columns of training examples: plain data -> checked numpy columns (NetTrain's side of
the boundary), refusing bad data with errors that name the port and the first bad example.

NetTrain refuses data that contains missing values (None), NaN or infinities, as WL does
(``NetTrain::contmiss``: "NetTrain does not currently support data that contains missing
values"): a non-finite input or target can only make the loss non-finite. Strings, complex
numbers, a lone value where a column of examples belongs, an empty column, and class or
embedding indices that are not whole numbers within the port's bound are refused too.
Evaluation is different: NaN and infinities propagate there (values.py).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ...errors import TrainingError
from ...shapes import PortType
from .values import bad_element, check_integers

MISSING = "NetTrain does not support data that contains missing values"


def checked_column(column: Callable[[str, str, Any], np.ndarray], head: str, port: str,
                   values: Any) -> np.ndarray:
    """``column(head, port, values)`` (values -> a column array), with the checks above.

    >>> checked_column(lambda h, p, v: np.asarray(v), "NetTrain", "Input", [1.0, np.nan])
    Traceback (most recent call last):
    ...
    netgraph.errors.TrainingError: NetTrain: port "Input" holds NaN in example 2; ...
    """
    try:
        arr = column(head, port, values)
    except TrainingError:
        _refuse_elements(head, port, values)   # a more precise error, if it finds one
        raise
    if arr.dtype != object and arr.dtype.kind not in "biuf":   # complex, strings, dates
        bad = bad_element(arr.tolist(), 0) or f"received an array of {arr.dtype}"
        raise TrainingError(head, f'port "{port}" expects real numbers, but {bad}.')
    if arr.ndim == 0:
        raise TrainingError(head, f'port "{port}" expects a list of examples, but received '
                            f"the single value {_short(values)}.")
    if len(arr) == 0:
        raise TrainingError(head, f'the training data is empty: port "{port}" has no '
                            "examples.")
    for i, e in enumerate(arr) if arr.dtype == object else [(None, arr)]:
        _refuse_nonfinite(head, port, np.asarray(e), i)
    return arr


def column(head: str, port: str, values: Any) -> np.ndarray:
    """One port's examples as a checked column (a ragged one for sequences of several
    lengths).

    >>> column("NetTrain", "Input", [[1, 2], [3, 4]]).shape
    (2, 2)
    """
    return checked_column(_column, head, port, values)


def _refuse_elements(head: str, port: str, values: Any) -> None:
    """None, strings, complex numbers ... anywhere in nested lists."""
    bad = bad_element(values, 0)
    if bad is None:
        return
    if "a missing value" in bad:
        raise TrainingError(head, f'port "{port}": {bad}; {MISSING}.')
    raise TrainingError(head, f'port "{port}" expects numeric data, but {bad}.')


def _refuse_nonfinite(head: str, port: str, arr: np.ndarray, example: int | None) -> None:
    """NaN or an infinity in a column (``example`` None) or in one ragged example."""
    if arr.dtype.kind != "f" or np.isfinite(arr).all():
        return
    if example is None:
        rows = ~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1)
        example = int(np.argmax(rows))
        arr = arr[example]
    v = float(np.asarray(arr)[~np.isfinite(arr)].ravel()[0])
    word = "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
    raise TrainingError(head, f'port "{port}" holds {word} in example {example + 1}; '
                        f"{MISSING}, NaN or infinities.")


def check_indices(head: str, port: str, t: PortType, column: np.ndarray) -> None:
    """An integer port's column holds whole numbers within the port's bound (class indices
    of CrossEntropyLossLayer("Index"), EmbeddingLayer inputs): else a TrainingError naming
    the first bad example."""
    if column.dtype != object:
        check_integers(head, port, t, column, True, TrainingError)
        return
    for i, e in enumerate(column):   # a ragged column: one example at a time
        try:
            check_integers(head, port, t, e, False, TrainingError)
        except TrainingError as err:
            words = err.message.rstrip(".")
            raise TrainingError(head, f"{words} (example {i + 1}).") from None


def _short(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 60 else r[:57] + "..."


def _column(head: str, port: str, values: Any) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values
    try:
        arr: np.ndarray | None = np.asarray(values)
    except (ValueError, TypeError, RuntimeError):
        arr = None
    if arr is not None and arr.dtype != object and arr.dtype.kind in "biuf":
        return arr
    ragged = ragged_column(values)
    if ragged is None:
        raise TrainingError(head, f'port "{port}": expected numeric examples of one shape, but '
                            "received examples of different shapes or non-numeric values "
                            "(examples may differ only in their first dimension, the length "
                            'of a sequence on a "Varying" port).')
    return ragged


def ragged_column(values: Any) -> np.ndarray | None:
    """Numeric examples whose shapes differ only in their first dimension -> a 1-D object
    array of them (a *ragged* column); None for anything else.

    >>> [e.tolist() for e in ragged_column([[1, 2, 3], [4]])]
    [[1, 2, 3], [4]]
    """
    if not isinstance(values, (list, tuple, np.ndarray)) or len(values) == 0:
        return None
    try:
        examples = [np.asarray(v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v)
                    for v in values]
    except (ValueError, TypeError, RuntimeError):
        return None
    if any(e.dtype == object or e.dtype.kind not in "biuf" or e.ndim == 0 for e in examples):
        return None
    if len({e.shape[1:] for e in examples}) != 1:
        return None
    out = np.empty(len(examples), dtype=object)
    for i, e in enumerate(examples):
        out[i] = e
    return out


def is_ragged(column: np.ndarray) -> bool:
    """True for a column of sequences of several lengths (see :func:`ragged_column`)."""
    return column.dtype == object


def to_device(values: np.ndarray, integer: bool, dtype: torch.dtype, device: str
              ) -> torch.Tensor:
    """A column as a tensor of the training dtype (int64 for integer ports) on ``device``."""
    arr = np.ascontiguousarray(values)
    if not arr.flags.writeable:
        arr = arr.copy()  # torch warns on read-only memory; nets hold frozen arrays
    t = torch.from_numpy(arr)
    return t.to(device=device, dtype=torch.int64 if integer else dtype)
