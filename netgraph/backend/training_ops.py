"""Torch modules of NetPairEmbeddingOperator and NetGANOperator (layers/training_ops.py)."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..layers import training_ops as T
from ..layers.inner import one_in_one_out
from .base import lowers
from .operators import OperatorModule


@lowers(T.NetPairEmbeddingOperator)
class PairEmbeddingModule(OperatorModule):
    """Both members of each pair embedded in one call of the inner net, then their distance."""

    def __init__(self, layer: T.NetPairEmbeddingOperator) -> None:
        super().__init__(layer)
        self.port_in, self.port_out = one_in_one_out(layer.head, layer._net())
        self.cosine = layer.params["distance"] == T.CosineDistance

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]                                            # x: (batch, 2, ...)
        e = self.calls["Net"](self.inner["Net"], {self.port_in: x.reshape(b * 2, *x.shape[2:])})
        y = e[self.port_out].reshape(b, 2, -1)                    # (batch, 2, embedding)
        u, v = y[:, 0], y[:, 1]
        if self.cosine:
            return 1 - (F.normalize(u, dim=-1) * F.normalize(v, dim=-1)).sum(-1)   # (batch,)
        return ((u - v) ** 2).sum(-1)                                            # (batch,)


class _Reverse(torch.autograd.Function):
    """The identity forward; the gradient's sign flipped backward (gradient reversal)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        return -g


@lowers(T.NetGANOperator)
class GANModule(OperatorModule):
    """G(latent) into D through a gradient reversal; D on the sample; WL's two losses."""

    def __init__(self, layer: T.NetGANOperator) -> None:
        super().__init__(layer)
        self.g_ports = one_in_one_out(layer.head, layer._net("Generator"))
        self.d_ports = one_in_one_out(layer.head, layer._net("Discriminator"))
        self.wasserstein = layer.params["loss"] == "Wasserstein"

    def _d(self, x: Tensor) -> Tensor:
        i, o = self.d_ports
        return self.calls["Discriminator"](self.inner["Discriminator"], {i: x})[o].reshape(
            x.shape[0])                                           # (batch,)

    def forward(self, sample: Tensor, latent: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        i, o = self.g_ports
        fake = self.calls["Generator"](self.inner["Generator"], {i: latent})[o]
        d_real = self._d(sample)                                  # (batch,)
        d_fake = self._d(_Reverse.apply(fake))                    # (batch,)
        if self.wasserstein:
            return -d_real, d_fake, fake
        eps = torch.finfo(d_real.dtype).tiny
        return -torch.log(d_real.clamp_min(eps)), -torch.log((1 - d_fake).clamp_min(eps)), fake
