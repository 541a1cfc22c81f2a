"""The torch module of RecurrentStep (NetUnfold): one step of a recurrent layer."""
from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from ..layers.unfold import RecurrentStep
from .base import LayerModule, builder_for, lowers


class StepModule(LayerModule):
    """RecurrentStep: one step of a recurrent layer, on the layer's own (fused) module."""

    def __init__(self, layer: RecurrentStep) -> None:
        super().__init__()
        rec = layer.as_recurrent()
        self.rec = builder_for(rec)(rec)
        self.array_names = self.rec.array_names
        self.lstm = layer.params["kind"] == "LongShortTermMemoryLayer"

    def set_arrays(self, arrays: dict[str, Any]) -> None:
        self.rec.set_arrays(arrays)

    def get_arrays(self) -> dict[str, Any]:
        return self.rec.get_arrays()

    def array_parameters(self) -> dict[str, list[nn.Parameter]]:
        return self.rec.array_parameters()

    def forward(self, x: Tensor, s: Tensor | None = None, c: Tensor | None = None
                ) -> Tensor | tuple[Tensor, Tensor]:
        r = self.rec(x.unsqueeze(1), s, c) if self.lstm else self.rec(x.unsqueeze(1), s)
        return (r[0][:, 0], r[2]) if self.lstm else r[0][:, 0]   # (batch, n) [, (batch, n)]


lowers(RecurrentStep)(StepModule)
