"""Torch modules of ConvolutionLayer, DeconvolutionLayer and PoolingLayer.

Inputs arrive as ``(batch, channels, *spatial)`` (``(batch, *spatial, channels)`` with
Interleaving, moved to channel-first and back). Symmetric padding goes to torch's kernels;
asymmetric or "Same" padding (which depends on the input size) is applied with ``F.pad``.
"""
from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor

from ..layers import conv as C
from .base import LayerModule, lowers, parameter

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
DECONV = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
Pads = list[tuple[int, int]]  # (before, after) per spatial dimension


class SpatialModule(LayerModule):
    """Geometry shared by the three layers; subclasses implement ``compute``."""

    def __init__(self, layer: C.SpatialLayer) -> None:
        super().__init__()
        x = layer.in_types["Input"]
        self.d = len(x.dims or ()) - 1
        self.kernel, self.stride, self.dilation = layer.geometry(self.d)
        self.interleaving = layer.params["interleaving"]
        self.same = layer.params["padding"] == "Same"
        self.fixed_pads = None if self.same else layer.pads(self.d)

    def pads(self, x: Tensor) -> Pads:
        """(before, after) per spatial dimension; x is (batch, channels, *spatial)."""
        if not self.same:
            return self.fixed_pads  # type: ignore[return-value]
        return [C.same_padding(int(s), k, st, dl) for s, k, st, dl in
                zip(x.shape[2:], self.kernel, self.stride, self.dilation, strict=True)]

    def forward(self, x: Tensor) -> Tensor:
        if self.interleaving:
            x = x.movedim(-1, 1)                               # (batch, channels, *spatial)
        y = self.compute(x)
        return y.movedim(1, -1) if self.interleaving else y

    def compute(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


def split_padding(pads: Pads) -> tuple[tuple[int, ...], Pads | None]:
    """The symmetric part (for torch's ``padding``) and the rest (None when there is none)."""
    sym = tuple(min(b, e) for b, e in pads)
    rest = [(b - s, e - s) for (b, e), s in zip(pads, sym, strict=True)]
    return sym, (rest if any(b or e for b, e in rest) else None)


def pad_list(pads: Pads) -> list[int]:
    """F.pad's argument: (before, after) pairs, last dimension first."""
    return [v for b, e in reversed(pads) for v in (b, e)]


class ConvModule(SpatialModule):
    def __init__(self, layer: C.ConvolutionLayer) -> None:
        super().__init__(layer)
        specs = layer.array_specs()
        self.array_names = tuple(specs)
        self.Weights = parameter(specs["Weights"].shape)
        self.Biases = parameter(specs["Biases"].shape) if "Biases" in specs else None
        self.groups = layer.params["groups"]

    def compute(self, x: Tensor) -> Tensor:
        sym, rest = split_padding(self.pads(x))
        if rest is not None:
            x = F.pad(x, pad_list(rest))
        return CONV[self.d](x, self.Weights, self.Biases, self.stride, sym,  # (b, n, *out)
                            self.dilation, self.groups)


class DeconvModule(ConvModule):
    """Transposed convolution; PaddingSize crops the output."""

    def compute(self, x: Tensor) -> Tensor:
        crops, extra = self._crops(x)
        sym, rest = split_padding(crops)
        y = DECONV[self.d](x, self.Weights, self.Biases, self.stride, sym, extra,
                           self.groups, self.dilation)                 # (b, n, *out)
        if rest is not None:
            y = y[(slice(None), slice(None)) + tuple(
                slice(b, y.shape[2 + i] - e) for i, (b, e) in enumerate(rest))]
        return y

    def _crops(self, x: Tensor) -> tuple[Pads, tuple[int, ...]]:
        """Output crops per dimension and torch's output_padding (for "Same")."""
        if not self.same:
            return self.fixed_pads, (0,) * self.d  # type: ignore[return-value]
        crops, extra = [], []
        for k, st, dl in zip(self.kernel, self.stride, self.dilation, strict=True):
            total = dl * (k - 1) + 1 - st                       # full size minus in*stride
            crops.append((total // 2, total - total // 2) if total >= 0 else (0, 0))
            extra.append(max(-total, 0))
        return crops, tuple(extra)


class PoolingModule(SpatialModule):
    def __init__(self, layer: C.PoolingLayer) -> None:
        super().__init__(layer)
        self.function = layer.params["function"]
        self.size = math.prod(self.kernel)

    def compute(self, x: Tensor) -> Tensor:
        pads = self.pads(x)
        if any(b or e for b, e in pads):
            # Max ignores padded positions (as MXNet does); Mean and Total count zeros.
            fill = -math.inf if self.function == "Max" else 0.0
            x = F.pad(x, pad_list(pads), value=fill)
        if self.function == "Max":
            return MAX_POOL[self.d](x, self.kernel, self.stride)     # (b, c, *out)
        y = AVG_POOL[self.d](x, self.kernel, self.stride)           # (b, c, *out)
        return y * self.size if self.function == "Total" else y


lowers(C.ConvolutionLayer)(ConvModule)
lowers(C.DeconvolutionLayer)(DeconvModule)
lowers(C.PoolingLayer)(PoolingModule)
