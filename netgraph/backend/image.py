"""Torch modules of ResizeLayer, SpatialTransformationLayer, ImageAugmentationLayer and
LocalResponseNormalizationLayer (images are (batch, channels, height, width))."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..layers import image as I
from .base import LayerModule, lowers


class ResizeModule(LayerModule):
    def __init__(self, layer: I.ResizeLayer) -> None:
        super().__init__()
        p = layer.params
        dims = layer.out_types["Output"].dims or ()
        self.size = tuple(int(dims[j]) for j in layer.spatial(len(dims)))  # type: ignore[arg-type]
        self.mode = ("nearest" if p["resampling"] == "Nearest"
                     else ("linear", "bilinear")[len(self.size) - 1])
        self.corners = None if self.mode == "nearest" else p["scheme"] == "Point"
        self.interleaving = p["interleaving"]

    def forward(self, x: Tensor) -> Tensor:                       # (batch, c, d1, ...)
        if self.interleaving:
            x = x.movedim(-1, 1)                                  # channels last -> first
        y = F.interpolate(x, size=self.size, mode=self.mode, align_corners=self.corners)
        return y.movedim(1, -1) if self.interleaving else y


class SpatialTransformationModule(LayerModule):
    def __init__(self, layer: I.SpatialTransformationLayer) -> None:
        super().__init__()
        self.h, self.w = layer.params["size"]

    def forward(self, x: Tensor, params: Tensor) -> Tensor:       # (batch, c, h0, w0), (batch, 6)
        theta = params.reshape(-1, 2, 3)                          # (batch, 2, 3)
        grid = F.affine_grid(theta, [x.shape[0], x.shape[1], self.h, self.w],
                             align_corners=True)                  # (batch, h, w, 2)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros",
                             align_corners=True)                  # (batch, c, h, w)


class ImageAugmentationModule(LayerModule):
    def __init__(self, layer: I.ImageAugmentationLayer) -> None:
        super().__init__()
        self.h, self.w = layer.params["size"]
        self.pv, self.ph = (float(p) for p in layer.params["reflections"])

    def forward(self, x: Tensor) -> Tensor:                       # (batch, c, h0, w0)
        if not self.training:                                     # the center crop
            top, left = (x.shape[2] - self.h) // 2, (x.shape[3] - self.w) // 2
            return x[:, :, top:top + self.h, left:left + self.w]
        b, dev = x.shape[0], x.device
        rows = self._axis(b, x.shape[2], self.h, self.pv, dev)    # (batch, h)
        cols = self._axis(b, x.shape[3], self.w, self.ph, dev)    # (batch, w)
        i = torch.arange(b, device=dev)[:, None, None]
        y = x.movedim(1, -1)[i, rows[:, :, None], cols[:, None, :]]  # (batch, h, w, c)
        return y.movedim(-1, 1)

    @staticmethod
    def _axis(b: int, n: int, m: int, p: float, dev: torch.device) -> Tensor:
        """Source indices along one axis: a random window of m of n, reversed with prob. p."""
        offset = torch.randint(0, n - m + 1, (b, 1), device=dev)  # uniform offsets
        steps = torch.arange(m, device=dev)
        flip = torch.rand(b, 1, device=dev) < p
        return offset + torch.where(flip, m - 1 - steps, steps)


class LocalResponseNormModule(LayerModule):
    def __init__(self, layer: I.LocalResponseNormalizationLayer) -> None:
        super().__init__()
        p = layer.params
        self.size, self.alpha, self.beta, self.bias = (2 * p["window"] + 1, p["alpha"],
                                                       p["beta"], p["bias"])

    def inline(self, ref: str, args: list[str]) -> str | None:
        return (f"F.local_response_norm({args[0]}, {self.size}, {self.alpha!r}, {self.beta!r}, "
                f"{self.bias!r})")

    def forward(self, x: Tensor) -> Tensor:                       # (batch, c, h, w)
        # torch divides alpha by the window size, as WL: (bias + alpha/size * sum)^beta
        return F.local_response_norm(x, self.size, self.alpha, self.beta, self.bias)


lowers(I.ResizeLayer)(ResizeModule)
lowers(I.SpatialTransformationLayer)(SpatialTransformationModule)
lowers(I.ImageAugmentationLayer)(ImageAugmentationModule)
lowers(I.LocalResponseNormalizationLayer)(LocalResponseNormModule)
