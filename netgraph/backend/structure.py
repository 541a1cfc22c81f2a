"""Torch modules of the structure layers: CatenateLayer, AppendLayer, PrependLayer,
ReplicateLayer, PaddingLayer.

Every ``forward`` gets its inputs with a leading batch dimension; an input with batch size 1
(a NetArrayLayer's output) is broadcast to the batch of the others. Whether a layer leaves the
time level of a sequence alone (so that batches of sequences of several lengths can be padded)
is its spec's ``time`` fact (see backend/lengths.py).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..layers import structure as S
from .base import LayerModule, lowers


def batch_align(xs: tuple[Tensor, ...]) -> list[Tensor]:
    """Broadcast batch-size-1 inputs to the batch size of the others."""
    b = max(x.shape[0] for x in xs)
    return [x.expand(b, *x.shape[1:]) if x.shape[0] != b else x for x in xs]


def _rank(t: object) -> int:
    return len(getattr(t, "dims", None) or ())


@lowers(S.CatenateLayer)  # type: ignore[arg-type]
class CatenateModule(LayerModule):
    def __init__(self, layer: S.CatenateLayer) -> None:
        super().__init__()
        ranks = [_rank(layer.in_types[p]) for p in layer.input_ports()]
        self.ranks = ranks
        self.big, self.axis = layer.geometry(ranks)
        self.widest = ranks.index(self.big)

    def inline(self, ref: str, args: list[str]) -> str | None:
        # Inputs of one rank and one batch size are a plain cat (the common case); otherwise
        # (a NetArrayLayer's batch of 1) the module aligns them.
        if len(set(self.ranks)) != 1 or "None" in args:
            return None
        same = " == ".join(f"{a}.shape[0]" for a in args)
        cat = f"torch.cat([{', '.join(args)}], {1 + self.axis})"
        return cat if len(args) == 1 else f"({cat} if {same} else {ref}({', '.join(args)}))"

    def forward(self, *xs: Tensor) -> Tensor:
        xs = tuple(batch_align(xs))
        lead = xs[self.widest].shape[1:1 + self.big]             # sizes the lower ranks replicate
        parts = []
        for x, r in zip(xs, self.ranks, strict=False):
            k = self.big - r
            if k:  # (batch, *own) -> (batch, *lead[:k], *own)
                x = x.reshape(x.shape[0], *(1,) * k, *x.shape[1:])
                x = x.expand(x.shape[0], *lead[:k], *x.shape[1 + k:])
            parts.append(x)
        return torch.cat(parts, dim=1 + self.axis)


@lowers(S.AppendLayer, S.PrependLayer)  # type: ignore[arg-type]
class AppendModule(LayerModule):
    def __init__(self, layer: S.AppendLayer) -> None:
        super().__init__()
        self.at_end = layer.at_end

    def forward(self, x: Tensor, e: Tensor) -> Tensor:
        x, e = batch_align((x, e))                               # (batch, n, ...), (batch, ...)
        e = e.unsqueeze(1)                                       # (batch, 1, ...)
        return torch.cat([x, e] if self.at_end else [e, x], dim=1)


@lowers(S.ReplicateLayer)  # type: ignore[arg-type]
class ReplicateModule(LayerModule):
    def __init__(self, layer: S.ReplicateLayer) -> None:
        super().__init__()
        rank = _rank(layer.in_types["Input"])
        self.pos = 1 + layer.position(rank)                      # in (batch, ...) coordinates
        dims = layer.out_types["Output"].dims or ()
        k = len(layer.params["dims"])
        self.new = tuple(int(d) for d in dims[self.pos - 1:self.pos - 1 + k])  # type: ignore

    def forward(self, x: Tensor) -> Tensor:
        s, p = x.shape, self.pos
        x = x.reshape(*s[:p], *(1,) * len(self.new), *s[p:])     # (batch, ..., 1, ..., ...)
        return x.expand(*s[:p], *self.new, *s[p:])


def pad_index(n: int, before: int, after: int, method: str, device: torch.device) -> Tensor:
    """Source positions of a padded dimension of size n ("Fixed": edge, "Reflected": mirror)."""
    i = torch.arange(-before, n + after, device=device)
    if method == "Fixed":
        return i.clamp(0, n - 1)
    period = max(2 * n - 2, 1)
    j = torch.remainder(i, period)
    return torch.where(j >= n, period - j, j)


@lowers(S.PaddingLayer)  # type: ignore[arg-type]
class PaddingModule(LayerModule):
    def __init__(self, layer: S.PaddingLayer) -> None:
        super().__init__()
        self.pads = tuple(layer.params["pads"])
        self.method = layer.params["padding"]
        rank = _rank(layer.in_types["Input"])
        flat: list[int] = []
        for level in reversed(range(rank)):  # F.pad lists the last dimension first
            flat += list(self.pads[level]) if level < len(self.pads) else [0, 0]
        self.flat = tuple(flat)
        self.real = layer.out_types["Output"].kind == "Real"

    def forward(self, x: Tensor) -> Tensor:
        if isinstance(self.method, str):
            for level, (a, b) in enumerate(self.pads):
                if a or b:
                    idx = pad_index(x.shape[1 + level], a, b, self.method, x.device)
                    x = x.index_select(1 + level, idx)
            return x
        if self.real and not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        return F.pad(x, self.flat, value=self.method)
