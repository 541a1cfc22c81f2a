"""Torch modules of the array layers: TotalLayer, DotLayer, AggregationLayer, SummationLayer,
NetArrayLayer."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ..layers import array as A
from .base import LayerModule, lowers, parameter
from .structure import batch_align


def _rank(t: object) -> int:
    return len(getattr(t, "dims", None) or ())


def _real(x: Tensor) -> Tensor:
    """Integer inputs of a real-valued operation become floats."""
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


@lowers(A.TotalLayer)  # type: ignore[arg-type]
class TotalModule(LayerModule):
    def __init__(self, layer: A.TotalLayer) -> None:
        super().__init__()

    def forward(self, *xs: Tensor) -> Tensor:
        acc = xs[0]
        for x in xs[1:]:
            acc = acc + x                                        # broadcasts a batch of 1
        return acc


@lowers(A.DotLayer)  # type: ignore[arg-type]
class DotModule(LayerModule):
    def __init__(self, layer: A.DotLayer) -> None:
        super().__init__()
        perms = []
        for i, p in enumerate(layer.input_ports()):
            r = _rank(layer.in_types[p])
            src = layer.source(i, r)
            perms.append(None if src == list(range(r)) else (0, *[1 + s for s in src]))
        self.perms = tuple(perms)

    def forward(self, *xs: Tensor) -> Tensor:
        xs = tuple(_real(x) for x in batch_align(xs))
        xs = tuple(x if p is None else x.permute(p) for x, p in zip(xs, self.perms, strict=False))
        acc = xs[0]
        for x in xs[1:]:
            acc = _dot(acc, x)
        return acc


def _dot(a: Tensor, b: Tensor) -> Tensor:
    """Batched WL Dot: contracts the last level of a with the first level of b."""
    n = a.shape[0]
    k = a.shape[-1]
    left, right = a.shape[1:-1], b.shape[2:]
    a2 = a.reshape(n, -1, k)                                     # (batch, m, k)
    b2 = b.reshape(n, k, -1)                                     # (batch, k, p)
    if a2.dtype != b2.dtype:
        dtype = torch.promote_types(a2.dtype, b2.dtype)
        a2, b2 = a2.to(dtype), b2.to(dtype)
    return torch.bmm(a2, b2).reshape(n, *left, *right)           # (batch, *left, *right)


@lowers(A.AggregationLayer)  # type: ignore[arg-type]
class AggregationModule(LayerModule):
    def __init__(self, layer: A.AggregationLayer) -> None:
        super().__init__()
        rank = _rank(layer.in_types["Input"])
        agg = layer.aggregated(rank)
        keep = [k for k in range(rank) if k not in agg]
        self.perm = (0, *[1 + k for k in keep + agg])
        self.keep = len(keep)
        self.f = layer.params["function"].name

    def forward(self, x: Tensor) -> Tensor:
        x = _real(x).permute(self.perm)                          # (batch, *kept, *aggregated)
        x = x.flatten(1 + self.keep) if x.dim() > 1 + self.keep else x.unsqueeze(-1)
        if self.f == "Max":                                      # (batch, *kept, n) -> ...
            return x.amax(-1)
        if self.f == "Min":
            return x.amin(-1)
        if self.f == "Mean":
            return x.mean(-1)
        if self.f == "Times":
            return x.prod(-1)
        return x.sum(-1)


@lowers(A.SummationLayer)  # type: ignore[arg-type]
class SummationModule(LayerModule):
    def __init__(self, layer: A.SummationLayer) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return _real(x).reshape(x.shape[0], -1).sum(1)           # (batch,)


@lowers(A.NetArrayLayer)  # type: ignore[arg-type]
class NetArrayModule(LayerModule):
    array_names = ("Array",)

    def __init__(self, layer: A.NetArrayLayer) -> None:
        super().__init__()
        self.Array: nn.Parameter = parameter(layer.array_specs()["Array"].shape)

    def forward(self) -> Tensor:
        return self.Array.unsqueeze(0)                           # (1, *dims): a batch of one

