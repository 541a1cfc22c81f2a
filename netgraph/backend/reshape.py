"""Torch modules of ReshapeLayer, FlattenLayer, TransposeLayer and PartLayer.

Sizes that are known after inference are baked in; a "Varying" size is read from the tensor at
run time, so one module serves sequences of every length. Whether a layer leaves the time level
of a sequence in place is its spec's ``time`` fact (see backend/lengths.py).
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from ..layers import reshape as R
from ..layers.levels import Span, transposition_source
from ..symbols import All
from .base import LayerModule, lowers


def _rank(t: object) -> int:
    return len(getattr(t, "dims", None) or ())


@lowers(R.ReshapeLayer)  # type: ignore[arg-type]
class ReshapeModule(LayerModule):
    def __init__(self, layer: R.ReshapeLayer) -> None:
        super().__init__()
        lay = layer.layout(_rank(layer.in_types["Input"])) or []
        out = layer.out_types["Output"].dims or ()
        # per output level: a fixed size, or ("in", i) to copy, or -1 for the one left to torch
        self.plan = tuple(("in", e[1]) if e[0] == "in" else (d if isinstance(d, int) else -1)
                          for d, e in zip(out, lay, strict=False))

    def forward(self, x: Tensor) -> Tensor:
        shape = [x.shape[1 + p[1]] if isinstance(p, tuple) else p for p in self.plan]
        return x.reshape(x.shape[0], *shape)                     # (batch, *dims)


@lowers(R.FlattenLayer)  # type: ignore[arg-type]
class FlattenModule(LayerModule):
    def __init__(self, layer: R.FlattenLayer) -> None:
        super().__init__()
        self.groups = tuple(tuple(g) for g in layer.groups(_rank(layer.in_types["Input"])))
        order = [k for g in self.groups for k in g]
        self.perm = None if order == sorted(order) else (0, *[1 + k for k in order])

    def forward(self, x: Tensor) -> Tensor:
        sizes = [math.prod(x.shape[1 + k] for k in g) for g in self.groups]
        if self.perm is not None:
            x = x.permute(self.perm)                             # (batch, *grouped levels)
        return x.reshape(x.shape[0], *sizes)                     # (batch, *merged)


@lowers(R.TransposeLayer)  # type: ignore[arg-type]
class TransposeModule(LayerModule):
    def __init__(self, layer: R.TransposeLayer) -> None:
        super().__init__()
        src = transposition_source(layer.params["spec"], _rank(layer.in_types["Input"])) or []
        self.perm = (0, *[1 + s for s in src])

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(self.perm)                              # (batch, *transposed)


def _slice(s: Any) -> Any:
    """A WL part spec as a Python index (positive-step spans only)."""
    if s is All:
        return slice(None)
    if not isinstance(s, Span):
        return s - 1 if s > 0 else s  # type: ignore[operator]
    start = None if s.start is All else (s.start - 1 if s.start > 0 else s.start)
    stop = None if s.stop is All or s.stop == -1 else (s.stop if s.stop > 0 else s.stop + 1)
    return slice(start, stop, s.step)


@lowers(R.PartLayer)  # type: ignore[arg-type]
class PartModule(LayerModule):
    def __init__(self, layer: R.PartLayer) -> None:
        super().__init__()
        spec = layer.params["spec"]
        # spans with a negative step have no Python slice: gather them first (ranks unchanged)
        self.gathers = tuple((k, s) for k, s in enumerate(spec)
                             if isinstance(s, Span) and s.step < 0)
        index = [slice(None) if isinstance(s, Span) and s.step < 0 else _slice(s) for s in spec]
        self.index: tuple[Any, ...] = (slice(None), *index)

    def forward(self, x: Tensor) -> Tensor:
        for k, s in self.gathers:
            idx = s.indices(x.shape[1 + k]) or []
            x = x.index_select(1 + k, torch.tensor(idx, device=x.device))
        return x[self.index]                                     # (batch, *parts)
