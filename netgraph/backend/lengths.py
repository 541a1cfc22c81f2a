"""Per-example sequence lengths through a lowered net (see docs/sequences.md).

A batch of sequences of several lengths is padded at the end to its longest example; each
graph input whose first dimension is ``"Varying"`` may come with a ``lengths`` tensor
``(batch,)`` of int64. At lowering time every sequence value of the graph gets a *length
variable* ``(graph input port, offset)``: the value has, for each example, the length of that
input plus the offset (``SequenceMostLayer`` subtracts one, for example); ``None`` means the
value is not a sequence whose length varies within a batch.

A layer that receives such a value is *mask-safe* when its spec's ``time`` fact
(:class:`~netgraph.layers.base.Layer`) says one of these:

- ``"lengths"``: its module takes a ``lengths=`` keyword (recurrent layers, sequence layers,
  losses, the Fold and Bidirectional operators);
- ``"pointwise"``: it works on each time step alone: padding only produces padding;
- ``"reduce"``: an *adapter* makes it exact: the padding is filled with the identity of a
  reduction over time (``layer.time_fill()``) before the call (``AggregationLayer``,
  ``SummationLayer``, ``SoftmaxLayer`` over time);
- ``"inner"`` (containers): every layer inside is mask-safe.

Its output sequences are as long as its first varying input plus ``layer.length_shift``.

A net with a layer that is none of these is not mask-safe; the evaluator then groups
examples by exact length instead (correct, with more, smaller batches).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from ..graph.net import Container
from ..graph.walk import run_through_graph
from ..layers.base import Layer
from ..ports import PortRef
from ..shapes import PortType

LenVar = tuple[str, int] | None


def is_sequence(t: PortType | None) -> bool:
    return t is not None and t.is_sequence()


def shifted(v: LenVar, by: int) -> LenVar:
    return None if v is None else (v[0], v[1] + by)


def first_var(layer: Layer, in_vars: Mapping[str, LenVar]) -> LenVar:
    """The length variable of a layer's first sequence input whose length varies."""
    for p in layer.input_ports():
        v = in_vars.get(p)
        if v is not None:
            return v
    return None


def node_lengths(layer: Layer, in_vars: Mapping[str, LenVar]) -> dict[str, LenVar]:
    """The length variable of each output port of ``layer`` given those of its inputs."""
    if isinstance(layer, Container):
        plan = graph_plan(layer, in_vars)
        return {p: plan.get(layer.edges[PortRef(None, p)]) for p in layer.output_ports()}
    v = shifted(first_var(layer, in_vars), layer.length_shift)
    return {p: v if is_sequence(layer.out_types.get(p)) else None
            for p in layer.output_ports()}


def graph_plan(g: Container, input_vars: Mapping[str, LenVar] | None = None
               ) -> dict[PortRef, LenVar]:
    """The length variable of every source (graph input, layer output) of ``g``.

    ``input_vars`` defaults to each sequence input being its own variable ``(port, 0)``.
    """
    if input_vars is None:
        input_vars = {p: (p, 0) if is_sequence(g.in_types.get(p)) else None
                      for p in g.graph.inputs}
    return run_through_graph(g.graph, {p: input_vars.get(p) for p in g.graph.inputs},
                             lambda k, layer, ins: node_lengths(layer, ins))


# -- mask safety ------------------------------------------------------------------------------
def adapter(layer: Layer) -> tuple[float, bool]:
    """``(fill value, mean fix)`` of a layer that reduces over time (``time == "reduce"``),
    made exact by filling the padding with the reduction's identity."""
    return layer.time_fill()


HANDLING = {"lengths": "aware", "pointwise": "pointwise", "reduce": "adapter", "whole": "unsafe"}


def handling(layer: Layer, module: nn.Module | Any) -> str:
    """How a layer copes with padded sequences: "aware", "pointwise", "adapter" or "unsafe",
    read from its spec's ``time`` fact (containers: from their lowered module)."""
    how = layer.time
    if how == "inner":
        return "pointwise" if getattr(module, "mask_safe", False) else "unsafe"
    return HANDLING[how]


# -- runtime helpers (used by modules and by the generated code) --------------------------------
def time_mask(lengths: Tensor, steps: int) -> Tensor:
    """(batch, steps) booleans: True where a step lies within its example's length."""
    return torch.arange(steps, device=lengths.device) < lengths.unsqueeze(1)


def _expand(mask: Tensor, like: Tensor) -> Tensor:
    return mask.reshape(*mask.shape, *([1] * (like.dim() - mask.dim())))


def mask_fill(x: Tensor, lengths: Tensor | None, value: float) -> Tensor:
    """``x`` (batch, time, ...) with the steps beyond each example's length set to value."""
    if lengths is None:
        return x
    m = _expand(time_mask(lengths.to(x.device), x.shape[1]), x)         # (batch, time, 1...)
    return torch.where(m, x, torch.full((), value, dtype=x.dtype, device=x.device))


def mean_fix(y: Tensor, lengths: Tensor | None, steps: int) -> Tensor:
    """Rescale a mean over a padded time dimension to the mean over each example's length."""
    if lengths is None:
        return y
    scale = steps / lengths.to(device=y.device, dtype=y.dtype)          # (batch,)
    return y * scale.reshape(-1, *([1] * (y.dim() - 1)))


def last_within(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Each example's last valid step: x (batch, time, ...) -> (batch, ...)."""
    if lengths is None:
        return x[:, -1]
    idx = (lengths.to(x.device) - 1).clamp_min(0)
    return x[torch.arange(x.shape[0], device=x.device), idx]


def reverse_within(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each example within its own length; the padding stays at the end."""
    if lengths is None:
        return torch.flip(x, dims=(1,))
    steps = x.shape[1]
    t = torch.arange(steps, device=x.device).unsqueeze(0)              # (1, time)
    n = lengths.to(x.device).unsqueeze(1)                              # (batch, 1)
    idx = torch.where(t < n, n - 1 - t, t)                             # (batch, time)
    idx = idx.reshape(*idx.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return torch.gather(x, 1, idx)


def masked_mean(e: Tensor, lengths: Tensor | None) -> Tensor:
    """Per-example mean of e (batch, time, ...) over the valid steps and the other dims."""
    if lengths is None:
        return e.reshape(e.shape[0], -1).mean(dim=1)
    m = _expand(time_mask(lengths.to(e.device), e.shape[1]), e)
    total = torch.where(m, e, torch.zeros((), dtype=e.dtype, device=e.device))
    per_step = math.prod(e.shape[2:])
    count = lengths.to(device=e.device, dtype=e.dtype) * per_step       # (batch,)
    return total.reshape(e.shape[0], -1).sum(dim=1) / count


def uniform(lengths: Tensor | None, steps: int) -> bool:
    """True when there is nothing to mask (no lengths, or every example is full length)."""
    return lengths is None or bool((lengths == steps).all())

