"""Torch module of CTCLossLayer: torch's CTC kernel on the log of the input probabilities."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..layers import ctc as C
from .base import LayerModule, lowers


class CTCLossModule(LayerModule):
    def __init__(self, layer: C.CTCLossLayer) -> None:
        super().__init__()
        self.blank = int(layer.in_types["Input"].dims[1]) - 1  # type: ignore[index, arg-type]

    def forward(self, x: Tensor, t: Tensor) -> Tensor:  # x (batch, time, c+1), t (batch, s)
        b, time, s = x.shape[0], x.shape[1], t.shape[1]
        logp = torch.log(x.clamp_min(torch.finfo(x.dtype).tiny)).transpose(0, 1)  # (time, b, c+1)
        lengths = torch.full((b,), time, dtype=torch.long, device=x.device)
        tlengths = torch.full((b,), s, dtype=torch.long, device=x.device)
        # targets 1..c are classes 0..c-1; the blank is the last class
        loss = F.ctc_loss(logp, t - 1, lengths, tlengths, blank=self.blank, reduction="none",
                          zero_infinity=False)
        return loss.to(x.dtype)                                   # (batch,)


lowers(C.CTCLossLayer)(CTCLossModule)
