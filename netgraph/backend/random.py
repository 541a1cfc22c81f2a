"""Torch module of RandomArrayLayer: samplers of WL's univariate distributions."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..errors import EvaluationError
from ..layers import random as R
from .base import LayerModule, lowers


def _gamma(alpha: Tensor, scale: Tensor) -> Tensor:
    return torch._standard_gamma(alpha) * scale


def _u(like: Tensor) -> Tensor:
    return torch.rand_like(like)


# name -> sampler(args broadcast to the output shape, as tensors)
SAMPLERS: dict[str, Callable[..., Tensor]] = {
    "NormalDistribution": lambda mu, s: mu + s * torch.randn_like(mu),
    "UniformDistribution": lambda a, b: a + (b - a) * _u(a),
    "ExponentialDistribution": lambda lam: -torch.log1p(-_u(lam)) / lam,
    "GammaDistribution": lambda a, b: _gamma(a, b),
    "PoissonDistribution": lambda mu: torch.poisson(mu),
    "BernoulliDistribution": lambda p: torch.bernoulli(p),
    "BinomialDistribution": lambda n, p: torch.binomial(n, p),
    # WL counts failures before n successes of probability p: a Poisson-gamma mixture
    "NegativeBinomialDistribution": lambda n, p: torch.poisson(_gamma(n, (1 - p) / p)),
    "DiscreteUniformDistribution": lambda a, b: a + torch.floor((b - a + 1) * _u(a)),
    "ChiSquareDistribution": lambda nu: _gamma(nu / 2, torch.full_like(nu, 2.0)),
    "ChiDistribution": lambda nu: torch.sqrt(_gamma(nu / 2, torch.full_like(nu, 2.0))),
    "HalfNormalDistribution": lambda th: torch.abs(torch.randn_like(th))
    * (math.sqrt(math.pi / 2) / th),
    "RayleighDistribution": lambda s: s * torch.sqrt(-2 * torch.log1p(-_u(s))),
    "MaxwellDistribution": lambda s: s * torch.sqrt(_gamma(torch.full_like(s, 1.5),
                                                           torch.full_like(s, 2.0))),
    "WeibullDistribution": lambda a, b: b * torch.pow(-torch.log1p(-_u(a)), 1 / a),
    "NakagamiDistribution": lambda m, w: torch.sqrt(_gamma(m, w / m)),
    "ErlangDistribution": lambda k, lam: _gamma(k, 1 / lam),
    "InverseGammaDistribution": lambda a, b: b / _gamma(a, torch.ones_like(a)),
}


def sample(d: R.Distribution, shape: Any, like: Tensor) -> Tensor:
    """An array of ``shape`` drawn from ``d``, whose parameters broadcast to it."""
    args = [a if isinstance(a, Tensor) else torch.tensor(float(a), dtype=like.dtype,
                                                         device=like.device) for a in d.args]
    args = [a.to(like.dtype).expand(shape) for a in args]
    return SAMPLERS[d.name](*args)


class RandomArrayModule(LayerModule):
    _like: Tensor

    def __init__(self, layer: R.RandomArrayLayer) -> None:
        super().__init__()
        self.dist = layer.params["distribution"]
        self.f = layer.params["function"]
        self.shape = (1, *(int(d) for d in layer.out_types["Output"].dims or ()))  # type: ignore
        self.register_buffer("_like", torch.zeros(()), persistent=False)  # the float type

    def forward(self, *xs: Tensor) -> Tensor:
        if self.f is None:
            return sample(self.dist, self.shape, self._like)     # (1, ...): shared by a batch
        d = self.f(*xs)
        if not isinstance(d, R.Distribution):
            raise EvaluationError("RandomArrayLayer", f"expected the function to give a "
                                  f"distribution such as NormalDistribution(x, 1), but it gave "
                                  f"{type(d).__name__}.")
        return sample(d, xs[0].shape, self._like)               # (batch, ...)


lowers(R.RandomArrayLayer)(RandomArrayModule)
