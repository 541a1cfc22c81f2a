"""The plain-data boundary: numbers, lists, numpy arrays and torch tensors in; numpy out.

Everything below this module sees dicts of batched tensors. A value is one example when its
rank equals the port's rank, and a batch when it has one more leading dimension.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import EvaluationError
from ..shapes import VARYING, PortType

DTYPES = {"Real32": torch.float32, "Real64": torch.float64}


@dataclass(frozen=True)
class PortSpec:
    """What an input port accepts: name, type, and the torch dtype of its values."""

    name: str
    type: PortType
    integer: bool

    @property
    def rank(self) -> int:
        return len(self.type.dims or ())


def as_array(head: str, port: str, value: Any, integer: bool) -> np.ndarray | torch.Tensor | list:
    """A tensor or array for ``value``; a list when the examples have different shapes."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value
    try:
        arr = np.asarray(value, dtype=np.int64 if integer else np.float64)
    except (ValueError, TypeError):
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (list, tuple, np.ndarray, torch.Tensor)) for v in value):
            return list(value)  # examples of different shapes
        raise EvaluationError(head, f'port "{port}" expects numeric data, but received '
                              f"{_short(value)}.") from None
    return arr


def _short(value: Any) -> str:
    r = repr(value)
    return r if len(r) <= 60 else r[:57] + "..."


def check_shape(head: str, spec: PortSpec, shape: tuple[int, ...], batched: bool,
                index: int | None = None) -> None:
    dims = spec.type.dims or ()
    got = shape[1:] if batched else shape
    for d, g in zip(dims, got):
        if isinstance(d, int) and d != g:
            raise _shape_error(head, spec, shape, index)
        if d is VARYING and g == 0:
            which = "" if index is None else f" (example {index + 1})"
            raise EvaluationError(head, "All sequences provided to net must have non-zero "
                                  f'length; port "{spec.name}" received an empty one{which}.')


def _shape_error(head: str, spec: PortSpec, shape: tuple[int, ...], index: int | None
                 ) -> EvaluationError:
    which = "" if index is None else f" (example {index + 1})"
    return EvaluationError(head, f'port "{spec.name}" expects {spec.type.describe()} (or a '
                           f"batch of them), but received an array of dimensions "
                           f"{_dims(shape)}{which}.")


def _dims(shape: tuple[int, ...]) -> str:
    return "{" + ", ".join(str(d) for d in shape) + "}"


def batch_rank(head: str, spec: PortSpec, shape: tuple[int, ...]) -> bool:
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
