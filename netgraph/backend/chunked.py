"""A recurrent layer's fused kernel run over chunks of the sequence, recomputed in backward.

Mirroring (backend/mirror.py) swaps the class of an ``nn.LSTM``/``nn.GRU``/``nn.RNN`` for a
subclass whose ``forward`` honours ``mirror_on`` and ``mirror_chunk``: with grad enabled, it
runs torch's fused kernel over chunks of about sqrt(T) steps, carrying the state, and keeps
only the state at each chunk boundary (plus the input). The backward pass walks the chunks
from last to first, re-running each one with grad and back-propagating through it, so the
memory of one training step is that of one chunk, not of the whole sequence.

This is ``torch.utils.checkpoint`` per chunk, written as one autograd Function so that the
chunk outputs go straight into one preallocated output: a checkpoint per chunk followed by
``torch.cat`` holds the sequence output twice at the end of the forward pass (measured: peak
33.6 MB against 23.1 MB here for a 4,000-step LSTM(64), batch 16; plain: 369 MB), and the
forward pass runs the kernel's cheaper inference path. Gradients equal the plain ones.
"""
from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn


def chunk_length(steps: int, chunk: int | None = None) -> int:
    """Steps per chunk: ``chunk`` if given, else about sqrt(steps) (Chen et al., 2016).

    >>> chunk_length(4000), chunk_length(10), chunk_length(10, 4)
    (63, 3, 4)
    """
    return max(1, chunk if chunk else round(math.sqrt(steps)))


def mirrored_forward(self: Any, input: Any, hx: Any = None) -> Any:
    """``forward`` of a mirrored ``nn.RNNBase``: chunked when that saves memory, else plain."""
    base = type(self).mirror_base  # type: ignore[attr-defined]
    if not (self.mirror_on and torch.is_grad_enabled() and chunkable(self, input)):
        return base.forward(self, input, hx)
    steps = input.shape[1 if self.batch_first else 0]
    chunk = chunk_length(steps, self.mirror_chunk)
    if chunk >= steps:
        return base.forward(self, input, hx)
    return chunked(self, base, input, hx, chunk, getattr(self, "keep_output", True))


def chunkable(rnn: nn.RNNBase, x: Any) -> bool:
    """Batched tensor input, one direction, no dropout in training (recompute would redraw)."""
    return (isinstance(x, Tensor) and x.dim() == 3 and not rnn.bidirectional
            and (rnn.dropout == 0 or not rnn.training))


def chunked(rnn: nn.RNNBase, base: Any, x: Tensor, hx: Any, chunk: int,
            keep_output: bool = True) -> Any:
    """``rnn(x, hx)`` over chunks of ``chunk`` steps, recomputed in backward.

    ``keep_output=False`` (lowering found that nothing reads the output sequence: the
    layer's "State" stands for its last step) gives an empty tensor for the sequence:
    neither it nor its gradient is ever made whole, only the final states.
    """
    lstm = isinstance(rnn, nn.LSTM)
    h0, c0 = (hx if hx is not None else (None, None)) if lstm else (hx, None)
    out = _Chunked.apply(rnn, base, (chunk, keep_output), x, h0, c0, *rnn.parameters())
    return (out[0], (out[1], out[2])) if lstm else out


def _pack(states: tuple, lstm: bool) -> Any:
    if states[0] is None:
        return None
    return tuple(states) if lstm else states[0]


def _unpack(hx: Any, lstm: bool) -> tuple:
    return tuple(hx) if lstm else (hx,)


class _Chunked(torch.autograd.Function):
    """(rnn, base, (chunk, keep output), x, h0, c0, *weights) -> (y, h) or (y, h, c) for an
    LSTM."""

    @staticmethod
    def forward(ctx: Any, rnn: nn.RNNBase, base: Any, how: tuple[int, bool], x: Tensor,
                h0: Tensor | None, c0: Tensor | None, *weights: Tensor) -> Any:
        (chunk, keep), lstm = how, isinstance(rnn, nn.LSTM)
        dim = 1 if rnn.batch_first else 0
        spans = [(t, min(chunk, x.shape[dim] - t)) for t in range(0, x.shape[dim], chunk)]
        hx, bounds, y = _pack((h0, c0), lstm), [], None
        for t, n in spans:             # no grad here: nothing of the chunk is kept
            bounds.append(hx)
            yc, hx = base.forward(rnn, x.narrow(dim, t, n), hx)  # (batch, n, hidden)
            if not keep:
                continue
            if y is None:
                shape = list(yc.shape)
                shape[dim] = x.shape[dim]
                y = yc.new_empty(shape)                             # (batch, time, hidden)
            y.narrow(dim, t, n).copy_(yc)
        if not keep:
            y = x.new_empty(0)         # nothing reads the sequence (see chunked)
            ctx.mark_non_differentiable(y)
        ctx.rnn, ctx.base, ctx.spans, ctx.bounds, ctx.dim = rnn, base, spans, bounds, dim
        ctx.keep = keep
        ctx.autocast = _autocast_state(x.device.type)
        ctx.save_for_backward(x)
        return (y, *_unpack(hx, lstm))

    @staticmethod
    def backward(ctx: Any, gy: Tensor, *gstate: Tensor) -> Any:
        x, = ctx.saved_tensors
        needs = ctx.needs_input_grad               # (rnn, base, how, x, h0, c0, *weights)
        weights = list(ctx.rnn.parameters())
        train = [i for i, w in enumerate(weights) if needs[6 + i]]
        gx = torch.empty_like(x) if needs[3] else None
        gw: list[Tensor | None] = [None] * len(weights)
        g0: tuple = (None, None)
        for i in reversed(range(len(ctx.spans))):
            grads, gstate = _chunk_backward(ctx, x, i, gy, gstate, needs, train)
            if gx is not None:
                gx.narrow(ctx.dim, *ctx.spans[i]).copy_(grads["x"])
            for j, g in zip(train, grads["w"], strict=True):
                gw[j] = g if gw[j] is None else gw[j] + g
            g0 = gstate if i == 0 else g0
        g0 = tuple(g0) + (None,) * (2 - len(g0))
        return (None, None, None, gx, *g0, *gw)


def _chunk_backward(ctx: Any, x: Tensor, i: int, gy: Tensor, gstate: tuple,
                    needs: tuple, train: list[int]) -> tuple[dict, tuple]:
    """Re-run chunk ``i`` with grad and back-propagate ``gy`` and the state gradient into it.

    Returns ``{"x": input gradient or None, "w": gradients of the trained weights}`` and the
    gradient of the state entering the chunk (Nones where there is none to give).
    """
    t, n = ctx.spans[i]
    lstm, hin = isinstance(ctx.rnn, nn.LSTM), ctx.bounds[i]
    want_state = hin is not None and (i > 0 or needs[4] or needs[5])
    weights = list(ctx.rnn.parameters())
    with torch.enable_grad(), torch.autocast(x.device.type, **ctx.autocast):
        xc = x.narrow(ctx.dim, t, n).detach().requires_grad_(needs[3])
        hs = () if hin is None else tuple(h.detach().requires_grad_(want_state)
                                          for h in _unpack(hin, lstm))
        yc, hout = ctx.base.forward(ctx.rnn, xc, _pack(hs, lstm) if hs else None)
        xs = [xc] if needs[3] else []
        ss = list(hs) if want_state else []
        inputs = xs + ss + [weights[j] for j in train]
        outs, gouts = list(_unpack(hout, lstm)), list(gstate)
        if ctx.keep:
            outs, gouts = [yc, *outs], [gy.narrow(ctx.dim, t, n), *gouts]
        grads = torch.autograd.grad(outs, inputs, gouts, allow_unused=True) if inputs else ()
    grads = tuple(torch.zeros_like(v) if g is None else g
                  for g, v in zip(grads, inputs, strict=True))
    k, ns = len(xs), len(ss)
    result = {"x": grads[0] if xs else None, "w": grads[k + ns:]}
    return result, tuple(grads[k:k + ns]) if ns else (None,) * len(gstate)


def _autocast_state(device: str) -> dict[str, Any]:
    """The autocast settings of the forward pass, to recompute under the same ones."""
    try:
        return {"enabled": torch.is_autocast_enabled(device),
                "dtype": torch.get_autocast_dtype(device)}
    except (RuntimeError, TypeError, AttributeError):   # a device type without autocast
        return {"enabled": False}
