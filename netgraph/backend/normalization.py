"""Torch modules of DropoutLayer, BatchNormalizationLayer and NormalizationLayer.

They honour ``module.train()``/``module.eval()``: dropout drops and batch normalization uses
(and updates) batch statistics only in training mode.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layers import normalization as N
from .base import LayerModule, lowers, parameter


class DropoutModule(LayerModule):
    def __init__(self, layer: N.DropoutLayer) -> None:
        super().__init__()
        self.p = layer.params["p"]
        self.alpha = layer.params["method"] == "AlphaDropout"

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.alpha:
            return F.alpha_dropout(x, self.p, training=True)
        return F.dropout(x, self.p, training=True)


class BatchNormModule(LayerModule):
    """WL (MXNet) batch normalization: biased batch variance, also in the moving estimate."""

    array_names = N.BN_ARRAYS
    MovingMean: Tensor
    MovingVariance: Tensor

    def __init__(self, layer: N.BatchNormalizationLayer) -> None:
        super().__init__()
        shape = layer.array_specs()["Scaling"].shape
        self.Scaling = parameter(shape)
        self.Biases = parameter(shape)
        # Moving estimates are state, not trained by gradient: buffers (saved, moved by .to()).
        self.register_buffer("MovingMean", torch.zeros(shape or ()))
        self.register_buffer("MovingVariance", torch.ones(shape or ()))
        self.eps = layer.params["epsilon"]
        self.momentum = layer.params["momentum"]
        self.interleaving = layer.params["interleaving"]

    def array_parameters(self) -> dict[str, list[nn.Parameter]]:
        return {"Scaling": [self.Scaling], "Biases": [self.Biases],
                "MovingMean": [], "MovingVariance": []}

    def forward(self, x: Tensor) -> Tensor:
        if self.interleaving:
            x = x.movedim(-1, 1)                               # (batch, channels, ...)
        if self.training:
            mean, var = self._batch_stats(x)
        else:
            mean, var = self.MovingMean, self.MovingVariance
        shape = (1, -1) + (1,) * (x.dim() - 2)
        scale = self.Scaling * torch.rsqrt(var + self.eps)      # (channels,)
        y = (x - mean.reshape(shape)) * scale.reshape(shape) + self.Biases.reshape(shape)
        return y.movedim(1, -1) if self.interleaving else y

    def _batch_stats(self, x: Tensor) -> tuple[Tensor, Tensor]:
        dims = [0] + list(range(2, x.dim()))
        var, mean = torch.var_mean(x, dim=dims, correction=0)  # (channels,) each
        with torch.no_grad():
            m = self.momentum
            self.MovingMean.mul_(m).add_(mean.detach(), alpha=1 - m)
            self.MovingVariance.mul_(m).add_(var.detach(), alpha=1 - m)
        return mean, var


class NormalizationModule(LayerModule):
    def __init__(self, layer: N.NormalizationLayer) -> None:
        super().__init__()
        specs = layer.array_specs()
        self.array_names = tuple(specs)
        dims = layer.in_types["Input"].dims or ()
        agg, sc = layer.axes(len(dims))
        self.agg = [a + 1 for a in agg]                         # batch dim first
        # Scaling/Biases hold only the scaling levels: broadcast them over the others.
        self.view = (1,) + tuple(int(d) if a in sc else 1  # type: ignore[arg-type]
                             for a, d in enumerate(dims))
        self.Scaling = parameter(specs["Scaling"].shape) if "Scaling" in specs else None
        self.Biases = parameter(specs["Biases"].shape) if "Biases" in specs else None
        self.eps = layer.params["epsilon"]
        self.rms = layer.params["method"] == "RMS"
        self.correction = 1 if layer.params["unbiased"] else 0

    def forward(self, x: Tensor) -> Tensor:
        y = self._normalize(x) if self.agg else x
        if self.Scaling is not None:
            y = y * self.Scaling.reshape(self.view)
        if self.Biases is not None:
            y = y + self.Biases.reshape(self.view)
        return y

    def _normalize(self, x: Tensor) -> Tensor:
        if self.rms:
            ms = torch.mean(x * x, dim=self.agg, keepdim=True)
            return x * torch.rsqrt(ms + self.eps)
        var, mean = torch.var_mean(x, dim=self.agg, correction=self.correction, keepdim=True)
        return (x - mean) * torch.rsqrt(var + self.eps)


lowers(N.DropoutLayer)(DropoutModule)
lowers(N.BatchNormalizationLayer)(BatchNormModule)
lowers(N.NormalizationLayer)(NormalizationModule)
