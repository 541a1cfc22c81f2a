"""Torch modules of ConvolutionLayer, DeconvolutionLayer and PoolingLayer.

Inputs arrive as ``(batch, channels, *spatial)`` (``(batch, *spatial, channels)`` with
Interleaving, moved to channel-first and back). Symmetric padding goes to torch's kernels;
asymmetric or "Same" padding (which depends on the input size) is applied with ``F.pad``.

Memory layout: on the CPU, 2-D convolutions and poolings of float32 run channels-last
(torch's ``channels_last``: the same shape and values, channels innermost in memory). Torch's
CPU max-pooling is 2-3x faster so, forward and backward, and its float32 convolutions no
slower: a LeNet-style forward and backward measured 0.7x, its evaluation 0.5x (batch 64;
0.75x one example). Float64 convolutions (no oneDNN kernels) measured 1.1x slower
channels-last and keep the default layout. The layout flows through the layers between
(elementwise ones keep it), a reshape (FlattenLayer, LinearLayer) reads it in logical order,
and the generated forward returns contiguous tensors (``Plan.contiguous``), so nothing
outside a lowered module sees it. :func:`set_channels_last` turns it off (ONNX export does:
ONNX has no memory layouts).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layers import conv as C
from .base import LayerModule, lowers, parameter

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
DECONV = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
Pads = list[tuple[int, int]]  # (before, after) per spatial dimension


def channels_last(x: Tensor) -> Tensor:
    """``x`` (batch, channels, h, w) laid out channels-last (same shape and values).

    A tensor of one channel is both layouts at once and torch then picks channel-first for
    the result of a convolution: its clone gets strides torch reads as channels-last.
    """
    if x.stride(1) == 1 and x.is_contiguous(memory_format=torch.channels_last):
        return x
    return x.clone(memory_format=torch.channels_last)


class SpatialModule(LayerModule):
    """Geometry shared by the three layers; subclasses implement ``compute``."""

    layout_2d = True   # runs channels-last on the CPU when 2-D (see the module docstring)

    def __init__(self, layer: C.SpatialLayer) -> None:
        super().__init__()
        x = layer.in_types["Input"]
        self.d = len(x.dims or ()) - 1
        self.kernel, self.stride, self.dilation = layer.geometry(self.d)
        self.interleaving = layer.params["interleaving"]
        self.same = layer.params["padding"] == "Same"
        self.fixed_pads = None if self.same else layer.pads(self.d)
        # Interleaved input moved channel-first is channels-last already.
        self.channels_last = self.layout_2d and self.d == 2 and not self.interleaving

    def pads(self, x: Tensor) -> Pads:
        """(before, after) per spatial dimension; x is (batch, channels, *spatial)."""
        if not self.same:
            return self.fixed_pads  # type: ignore[return-value]
        return [C.same_padding(int(s), k, st, dl) for s, k, st, dl in
                zip(x.shape[2:], self.kernel, self.stride, self.dilation, strict=True)]

    def forward(self, x: Tensor) -> Tensor:
        if self.interleaving:
            x = x.movedim(-1, 1)                               # (batch, channels, *spatial)
        elif self.channels_last and x.dtype == torch.float32 and x.device.type == "cpu":
            x = channels_last(x)                               # (batch, channels, h, w)
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

    layout_2d = False   # not measured faster channels-last

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


def set_channels_last(module: nn.Module, on: bool) -> bool:
    """Turn channels-last 2-D layers of a lowered module on or off; whether it has any."""
    found = False
    for m in module.modules():
        if isinstance(m, SpatialModule) and m.layout_2d and m.d == 2 and not m.interleaving:
            m.channels_last, found = on, True
    return found


lowers(C.ConvolutionLayer)(ConvModule)
lowers(C.DeconvolutionLayer)(DeconvModule)
lowers(C.PoolingLayer)(PoolingModule)
