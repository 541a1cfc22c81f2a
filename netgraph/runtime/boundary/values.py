"""Values at the boundary: numbers, lists, numpy arrays and torch tensors in; numpy out.

A value is one example when its rank equals the port's rank, and a batch when it has one
more leading dimension. Coded ports (an encoder or decoder attached) go through codec.py
first, which hands this module the encoded arrays.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ...errors import EvaluationError, NetGraphError
from ...shapes import VARYING, PortType

DTYPES = {"Real32": torch.float32, "Real64": torch.float64}


@dataclass(frozen=True)
class PortCodec:
    """One port at the boundary: its name and type, whether its values are integers, and
    the coder attached to it (a NetEncoder on an input, a NetDecoder on an output), if any."""

    name: str
    type: PortType
    integer: bool
    coder: Any = None

    @property
    def rank(self) -> int:
        return len(self.type.dims or ())


def as_array(head: str, port: str, value: Any, integer: bool, rank: int | None = None
             ) -> np.ndarray | torch.Tensor | list:
    """A tensor or array for ``value``; a list when the examples have different shapes.

    Missing values (None), strings and complex numbers are refused, naming the first one and
    where it is (``rank``, the port's rank, tells an example index from a position).
    """
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value
    try:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf" and bad_element(value, rank) is None:
            arr = np.asarray(value, dtype=np.int64 if integer else np.float64)  # boxed numbers
    except (ValueError, TypeError, OverflowError):
        arr = None
    if arr is not None and arr.dtype.kind in "biuf":
        return arr
    bad = bad_element(value, rank)
    if bad is None and isinstance(value, (list, tuple)) and value and all(
            isinstance(v, (list, tuple, np.ndarray, torch.Tensor)) for v in value):
        return list(value)  # examples of different shapes
    raise EvaluationError(head, f'port "{port}" expects numeric data, but '
                          f"{bad or 'received ' + _short(value)}.")


def bad_element(value: Any, rank: int | None = None) -> str | None:
    """Words for the first element of nested data that is not a number ("example 2 holds
    None (a missing value)"), or None when there is none. ``rank`` is the rank of one
    example: a deeper position is in a batch, and its first index is the example."""
    found = _first_bad(value)
    if found is None:
        return None
    pos, v = found
    what = _what(v)
    if not pos:
        return f"received {what}"
    if rank is not None and len(pos) > rank:
        rest = pos[1:]
        at = "" if not rest else " at position {" + ", ".join(str(i + 1) for i in rest) + "}"
        return f"example {pos[0] + 1} holds {what}{at}"
    return f"received {what} at position {{{', '.join(str(i + 1) for i in pos)}}}"


def _first_bad(value: Any) -> tuple[tuple[int, ...], Any] | None:
    """(0-based position, element) of the first non-number in nested lists, depth first."""
    stack: list[tuple[tuple[int, ...], Any]] = [((), value)]
    while stack:
        pos, v = stack.pop()
        if isinstance(v, torch.Tensor) or (isinstance(v, np.ndarray) and v.dtype.kind in "biuf"):
            continue
        if isinstance(v, np.ndarray):
            v = v.tolist() if v.ndim else v.item()
        if isinstance(v, (list, tuple)):
            stack.extend(((*pos, i), e) for i, e in reversed(list(enumerate(v))))
        elif not isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)):
            return pos, v
    return None


def _what(v: Any) -> str:
    if v is None:
        return "None (a missing value)"
    if isinstance(v, (str, bytes)):
        return f"the string {_short(v)}"
    if isinstance(v, (complex, np.complexfloating)):
        return f"the complex number {v}"
    return f"{_short(v)} (of type {type(v).__name__})"


def check_values(head: str, spec: PortCodec, value: Any, batched: bool) -> None:
    """An integer port gets whole numbers within its bound (class and embedding indices)."""
    if spec.integer:
        check_integers(head, spec.name, spec.type, value, batched)


def check_integers(head: str, port: str, t: PortType, value: Any, batched: bool,
                   error: type[NetGraphError] = EvaluationError) -> None:
    """Raise ``error`` naming the first value of ``value`` that is not a whole number in
    ``t``'s bound, and its example when ``batched``."""
    a = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    if a.size == 0 or (a.dtype.kind in "biu" and t.bound is None):
        return
    bad = np.zeros(a.shape, dtype=bool)
    if a.dtype.kind == "f":
        bad |= ~np.isfinite(a) | (a != np.round(a))
    want = "integers"
    if t.bound is not None:
        lo, hi = t.bound
        bad |= (a < lo) | (a > hi)
        want = f"integers between {lo} and {hi}"
    if bad.any():
        pos = tuple(int(i) for i in np.argwhere(bad)[0])
        v = a[pos].item()
        which = f" (example {pos[0] + 1})" if batched and pos else ""
        raise error(head, f'port "{port}" expects {want}, but received {v!r}{which}.')


def _short(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 60 else r[:57] + "..."


def check_shape(head: str, spec: PortCodec, shape: tuple[int, ...], batched: bool,
                index: int | None = None) -> None:
    dims = spec.type.dims or ()
    got = shape[1:] if batched else shape
    for d, g in zip(dims, got, strict=False):
        if isinstance(d, int) and d != g:
            raise _shape_error(head, spec, shape, index)
        if d is VARYING and g == 0:
            which = "" if index is None else f" (example {index + 1})"
            raise EvaluationError(head, "All sequences provided to net must have non-zero "
                                  f'length; port "{spec.name}" received an empty one{which}.')


def _shape_error(head: str, spec: PortCodec, shape: tuple[int, ...], index: int | None
                 ) -> EvaluationError:
    which = "" if index is None else f" (example {index + 1})"
    return EvaluationError(head, f'port "{spec.name}" expects {spec.type.describe()} (or a '
                           f"batch of them), but received an array of dimensions "
                           f"{_dims(shape)}{which}.")


def _dims(shape: tuple[int, ...]) -> str:
    return "{" + ", ".join(str(d) for d in shape) + "}"


def batch_rank(head: str, spec: PortCodec, shape: tuple[int, ...]) -> bool:
    """True when ``shape`` is a batch for this port, False for one example."""
    if len(shape) == spec.rank:
        return False
    if len(shape) == spec.rank + 1:
        return True
    raise _shape_error(head, spec, shape, None)


def to_tensor(value: Any, integer: bool, dtype: torch.dtype, device: str) -> torch.Tensor:
    t = torch.from_numpy(value) if isinstance(value, np.ndarray) else torch.as_tensor(value)
    want = torch.int64 if integer else dtype
    if t.dtype != want or t.device.type != device:
        t = t.to(device=device, dtype=want)
    return t


def to_plain(t: torch.Tensor, scalar: bool, as_torch: bool) -> Any:
    """One output value: a float for a scalar port, else numpy (torch when torch came in)."""
    if as_torch:
        return t
    if scalar and t.dim() == 0:
        return t.item()
    return t.detach().cpu().numpy()
