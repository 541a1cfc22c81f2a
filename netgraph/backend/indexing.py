"""Torch modules of UnitVectorLayer, SequenceIndicesLayer, OrderingLayer and ExtractLayer."""
from __future__ import annotations

import math

import torch
from torch import Tensor

from ..layers import indexing as X
from ..symbols import All
from .base import LayerModule, lowers


class UnitVectorModule(LayerModule):
    _like: Tensor

    def __init__(self, layer: X.UnitVectorLayer) -> None:
        super().__init__()
        self.n = layer.size()
        # the output's float type follows the module's (WorkingPrecision): a typed template
        self.register_buffer("_like", torch.zeros(()), persistent=False)

    def forward(self, x: Tensor) -> Tensor:                       # (batch, ...) in 1..n
        classes = torch.arange(1, self.n + 1, device=x.device)   # (n,)
        return (x.unsqueeze(-1) == classes).to(self._like.dtype)  # (batch, ..., n)


class SequenceIndicesModule(LayerModule):
    def __init__(self, layer: X.SequenceIndicesLayer) -> None:
        super().__init__()
        m = layer.params["maximum"]
        self.maximum = None if m == math.inf else int(m)

    def forward(self, x: Tensor) -> Tensor:                       # (batch, n, ...)
        i = torch.arange(1, x.shape[1] + 1, device=x.device)     # (n,)
        if self.maximum is not None:
            i = i.clamp_max(self.maximum)
        return i.expand(x.shape[0], -1)                           # (batch, n)


class OrderingModule(LayerModule):
    def __init__(self, layer: X.OrderingLayer) -> None:
        super().__init__()
        n = layer.params["n"]
        self.n = None if n is All else int(n)

    def forward(self, x: Tensor) -> Tensor:                       # (batch, l)
        if torch.onnx.is_in_onnx_export():   # ONNX TopK breaks ties by index, as stable sort
            order = torch.topk(x, x.shape[-1], dim=-1, largest=False, sorted=True).indices
        else:
            order = torch.argsort(x, dim=-1, stable=True)        # ties keep their order
        if self.n is not None:                                    # n smallest or n largest
            order = order[:, :self.n] if self.n > 0 else order[:, self.n:]
        return order + 1                                          # 1-based positions


class ExtractModule(LayerModule):
    def __init__(self, layer: X.ExtractLayer) -> None:
        super().__init__()
        p = layer.in_types["Position"].dims or ()
        self.single = not p                                       # Position="Integer"
        self.s = 1 if self.single else int(p[-1])  # type: ignore[arg-type]

    def forward(self, x: Tensor, pos: Tensor) -> Tensor:         # x (batch, n1, ..., nd)
        if self.single:
            pos = pos.unsqueeze(-1)                               # (batch, 1)
        b, s = x.shape[0], self.s
        lin = None                                                # (batch, m1, ..., mp)
        for k in range(s):                                        # WL: i > 0 -> i - 1, -k -> n - k
            n = x.shape[1 + k]
            i = torch.remainder(pos[..., k] - (pos[..., k] > 0).long(), n)
            lin = i if lin is None else lin * n + i
        assert lin is not None
        lead, rest = pos.shape[1:-1], x.shape[1 + s:]
        flat = x.reshape(b, -1, math.prod(rest))                  # (batch, n1...ns, rest)
        idx = lin.reshape(b, -1, 1).expand(-1, -1, flat.shape[-1])
        return torch.gather(flat, 1, idx).reshape(b, *lead, *rest)


lowers(X.UnitVectorLayer)(UnitVectorModule)
lowers(X.SequenceIndicesLayer)(SequenceIndicesModule)
lowers(X.OrderingLayer)(OrderingModule)
lowers(X.ExtractLayer)(ExtractModule)
