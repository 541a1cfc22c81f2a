"""Torch modules of EmbeddingLayer and AttentionLayer."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import EvaluationError
from ..layers import embedding as E
from .base import LayerModule, lowers, parameter


class EmbeddingModule(LayerModule):
    array_names = ("Weights",)

    def __init__(self, layer: E.EmbeddingLayer) -> None:
        super().__init__()
        self.Weights = parameter(layer.array_specs()["Weights"].shape)   # (n, size)
        self.n = self.Weights.shape[0]

    def forward(self, x: Tensor) -> Tensor:                   # x: (batch, ...) in 1..n
        if not torch.compiler.is_compiling() and x.numel() and (
                int(x.min()) < 1 or int(x.max()) > self.n):
            bad = int(x.min()) if int(x.min()) < 1 else int(x.max())
            raise EvaluationError("EmbeddingLayer", f'port "Input" expects integers between 1 '
                                  f"and {self.n}, but received {bad}.")
        return F.embedding(x - 1, self.Weights)               # (batch, ..., size)


class AttentionModule(LayerModule):
    """Keys, values and queries are flattened to (batch, count, vector size)."""

    def __init__(self, layer: E.AttentionLayer) -> None:
        super().__init__()
        specs = layer.array_specs()
        self.array_names = tuple(specs)
        # "Bilinear": "Weights" (query size, key size) maps each key to the query space.
        self.Weights = parameter(specs["Weights"].shape) if specs else None
        mask = layer.params["mask"]
        self.causal, self.window = mask is not None, (mask[1] if mask else None)
        self.rescaling = layer.params["rescaling"]
        self.p = layer.params["dropout"]
        self.key_size = int(layer.in_types["Key"].dims[-1])  # type: ignore[index, arg-type]

    def forward(self, key: Tensor, value: Tensor, query: Tensor) -> Tensor:
        b = key.shape[0]
        k = key.reshape(b, -1, key.shape[-1])                     # (batch, n, k)
        v = value.reshape(b, -1, value.shape[-1])                 # (batch, n, v)
        q = query.reshape(b, -1, query.shape[-1])                 # (batch, m, q)
        if self.Weights is not None:
            k = torch.matmul(k, self.Weights.t())                 # (batch, n, q)
        s = torch.matmul(q, k.transpose(1, 2))                    # (batch, m, n)
        visible = self._visible(s) if self.causal else None       # (m, n) or None
        s = self._rescale(s, visible)
        if visible is not None:
            s = s.masked_fill(~visible, -math.inf)
        w = torch.softmax(s, dim=-1)                              # (batch, m, n)
        if self.training and self.p:
            w = F.dropout(w, self.p, training=True)
        out = torch.matmul(w, v)                                  # (batch, m, v)
        return out.reshape(*query.shape[:-1], value.shape[-1])    # (batch, *query dims, v)

    def _visible(self, s: Tensor) -> Tensor:
        """Query i sees keys j <= i (and j > i - window)."""
        i = torch.arange(s.shape[1], device=s.device).unsqueeze(1)
        j = torch.arange(s.shape[2], device=s.device).unsqueeze(0)
        ok = j <= i
        return ok if self.window is None else ok & (j > i - self.window)

    def _rescale(self, s: Tensor, visible: Tensor | None) -> Tensor:
        if self.rescaling == "DimensionSqrt":
            return s / math.sqrt(self.key_size)
        if self.rescaling == "LengthSqrt":
            if visible is None:
                return s / math.sqrt(s.shape[-1])
            counts = visible.sum(dim=1, keepdim=True).to(s.dtype)  # (m, 1)
            return s / torch.sqrt(counts)
        return s


lowers(E.EmbeddingLayer)(EmbeddingModule)
lowers(E.AttentionLayer)(AttentionModule)
