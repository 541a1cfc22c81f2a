"""Torch module of ParametricRampLayer."""
from __future__ import annotations

import torch
from torch import Tensor

from ..layers import activation as A
from .base import LayerModule, lowers, parameter


class ParametricRampModule(LayerModule):
    array_names = ("Slope",)

    def __init__(self, layer: A.ParametricRampLayer) -> None:
        super().__init__()
        self.Slope = parameter(layer.array_specs()["Slope"].shape)
        dims = layer.in_types["Input"].dims or ()
        axes = set(layer.slope_axes() or ())
        # the slope broadcast over the levels that share it (batch first)
        self.view = (1,) + tuple(int(d) if i in axes else 1  # type: ignore[arg-type]
                                 for i, d in enumerate(dims))

    def inline(self, ref: str, args: list[str]) -> str | None:
        x = args[0]
        return f"torch.where({x} >= 0, {x}, {ref}.Slope.reshape({self.view}) * {x})"

    def forward(self, x: Tensor) -> Tensor:
        return torch.where(x >= 0, x, self.Slope.reshape(self.view) * x)   # (batch, ...)


lowers(A.ParametricRampLayer)(ParametricRampModule)
