"""Recurrent layers on torch's fused kernels (nn.LSTM, nn.GRU, nn.RNN), never a step loop.

WL keeps one bias per gate; torch has two (input and hidden). The WL bias lives in
``bias_ih``; ``bias_hh`` is held at zero and frozen, which also makes torch's GRU equal to
WL's variant (the reset gate multiplies ``Wms . s`` with no bias inside).

Padded batches (``lengths=``, see backend/lengths.py): outputs at each example's own steps
are already right (the recurrence is causal); only the final states need care. GRU and basic
RNN states equal their output at the last valid step (a gather). The LSTM cell state is not
an output, so the masked run adds one input column, 1 on padding, whose weights saturate the
input gate shut and the forget gate open: the cell state is carried unchanged through the
padding, exactly, in the same single fused kernel call (measured on CPU: 1.05x a plain run,
where pack_padded_sequence costs 2.3x). On CUDA, cuDNN's packed sequences do this natively.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..layers import recurrent as R
from .base import LayerModule, lowers
from .lengths import last_within, time_mask, uniform

SATURATE = 1e4   # a gate pre-activation that sigmoid maps to exactly 0 or 1


class RecurrentModule(LayerModule):
    gates: tuple[str, ...] = ()
    lengths_for_states_only = True   # the outputs need no lengths; the final states do

    def __init__(self, layer: R.RecurrentLayer, rnn: nn.RNNBase) -> None:
        super().__init__()
        self.n = layer.params["n"]
        self.rnn = rnn
        self._param("bias_hh_l0").requires_grad_(False)
        self.array_names = tuple(layer.array_specs())

    def _param(self, name: str) -> nn.Parameter:
        """The torch RNN's parameter ``name`` (weight_ih_l0, ...), typed: torch reaches it
        through Module.__getattr__, which mypy sees as a Tensor or a Module."""
        p: nn.Parameter = getattr(self.rnn, name)
        return p

    def _names(self, gate: str) -> tuple[str, str, str]:
        if not gate:
            return "InputWeights", "StateWeights", "Biases"
        return f"{gate}GateInputWeights", f"{gate}GateStateWeights", f"{gate}GateBiases"

    def set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        def cat(i: int) -> Tensor:
            return torch.cat([torch.tensor(np.asarray(arrays[self._names(g)[i]]))
                              for g in self.gates])
        with torch.no_grad():
            self._param("weight_ih_l0").copy_(cat(0))
            self._param("weight_hh_l0").copy_(cat(1))
            self._param("bias_ih_l0").copy_(cat(2))
            self._param("bias_hh_l0").zero_()

    def get_arrays(self) -> dict[str, np.ndarray]:
        n, out = self.n, {}
        parts = (self._param("weight_ih_l0"), self._param("weight_hh_l0"),
                 self._param("bias_ih_l0") + self._param("bias_hh_l0"))
        for j, g in enumerate(self.gates):
            for i, name in enumerate(self._names(g)):
                out[name] = parts[i][j * n:(j + 1) * n].detach().cpu().numpy().copy()
        return out

    def array_parameters(self) -> dict[str, list[nn.Parameter]]:
        ps = [self._param(k) for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0")]
        return {name: [ps[i]] for g in self.gates for i, name in enumerate(self._names(g))}

    def outputs_read(self, read: Mapping[str, bool]) -> None:
        # Mirrored (backend/chunked.py), an unread output sequence is never made whole.
        self.rnn.keep_output = read.get("Output", True)

    def _h0(self, s: Tensor | None, x: Tensor) -> Tensor | None:
        return None if s is None else s.unsqueeze(0).contiguous()   # (1, batch, n)


class LSTMModule(RecurrentModule):
    gates = R.GATES["LongShortTermMemoryLayer"]

    def __init__(self, layer: R.LongShortTermMemoryLayer) -> None:
        super().__init__(layer, nn.LSTM(layer.input_size() or 1, layer.params["n"],
                                        batch_first=True))

    def forward(self, x: Tensor, s: Tensor | None = None, c: Tensor | None = None,
                lengths: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        # x: (batch, time, k); s, c: (batch, n)
        if not uniform(lengths, x.shape[1]):
            return self._masked(x, s, c, lengths)  # type: ignore[arg-type]
        if s is None and c is None:
            y, (h, cc) = self.rnn(x)
        else:
            y, (h, cc) = self.rnn(x, self._hx(x, s, c))
        return y, h[0], cc[0]                                  # (batch, time, n), (batch, n) x2

    def _hx(self, x: Tensor, s: Tensor | None, c: Tensor | None) -> tuple[Tensor, Tensor]:
        z = x.new_zeros(1, x.shape[0], self.n)
        return (z if s is None else s.unsqueeze(0).contiguous(),
                z if c is None else c.unsqueeze(0).contiguous())

    def _masked(self, x: Tensor, s: Tensor | None, c: Tensor | None, lengths: Tensor
                ) -> tuple[Tensor, Tensor, Tensor]:
        """One fused run over a padded batch that carries the cell state through padding."""
        if x.is_cuda:     # cuDNN runs packed sequences natively (and wants its flat weights)
            return self._packed(x, s, c, lengths)
        n = self.n
        pad = ~time_mask(lengths.to(x.device), x.shape[1])                # (batch, time)
        xp = torch.cat([x, pad.unsqueeze(-1).to(x.dtype)], dim=-1)       # (batch, time, k+1)
        col = x.new_zeros(4 * n, 1)
        col[:n], col[n:2 * n] = -SATURATE, SATURATE                      # input shut, forget open
        w = torch.cat([self._param("weight_ih_l0"), col], dim=1)        # (4n, k+1)
        params = [w, *(self._param(k) for k in ("weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))]
        y, _, cc = torch.lstm(xp, self._hx(x, s, c), params, True, 1, 0.0, self.training,
                              False, True)
        return y, last_within(y, lengths), cc[0]               # (batch, time, n), (batch, n) x2

    def _packed(self, x: Tensor, s: Tensor | None, c: Tensor | None, lengths: Tensor
                ) -> tuple[Tensor, Tensor, Tensor]:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        y, (h, cc) = self.rnn(packed, self._hx(x, s, c))
        y, _ = pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return y, h[0], cc[0]                                  # (batch, time, n), (batch, n) x2


class GRUModule(RecurrentModule):
    gates = R.GATES["GatedRecurrentLayer"]

    def __init__(self, layer: R.GatedRecurrentLayer) -> None:
        super().__init__(layer, nn.GRU(layer.input_size() or 1, layer.params["n"],
                                       batch_first=True))

    def forward(self, x: Tensor, s: Tensor | None = None, lengths: Tensor | None = None
                ) -> tuple[Tensor, Tensor]:
        y, h = self.rnn(x, self._h0(s, x))                    # (batch, time, n), (1, batch, n)
        return y, (h[0] if uniform(lengths, x.shape[1]) else last_within(y, lengths))


class BasicRNNModule(RecurrentModule):
    gates = ("",)

    def __init__(self, layer: R.BasicRecurrentLayer) -> None:
        super().__init__(layer, nn.RNN(layer.input_size() or 1, layer.params["n"],
                                       batch_first=True))

    def forward(self, x: Tensor, s: Tensor | None = None, lengths: Tensor | None = None
                ) -> tuple[Tensor, Tensor]:
        y, h = self.rnn(x, self._h0(s, x))                    # (batch, time, n), (1, batch, n)
        return y, (h[0] if uniform(lengths, x.shape[1]) else last_within(y, lengths))


lowers(R.LongShortTermMemoryLayer)(LSTMModule)
lowers(R.GatedRecurrentLayer)(GRUModule)
lowers(R.BasicRecurrentLayer)(BasicRNNModule)
