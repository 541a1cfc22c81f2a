"""RandomArrayLayer and the univariate distributions it samples (WL's distribution heads)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import LayerError
from ..shapes import PortType, UnifyError, unify
from .base import Layer, PortMismatch, Types
from .custom import argument_ports


@dataclass(frozen=True)
class Distribution:
    """A univariate distribution as WL writes it, e.g. ``NormalDistribution(0, 1)``.

    ``name`` is the WL head and ``args`` its parameters: numbers, or (inside the function
    of a RandomArrayLayer) torch tensors, one parameter value per element.
    """

    name: str
    args: tuple[Any, ...]

    def __repr__(self) -> str:
        if self.name in PAIRED:  # WL: UniformDistribution[{min, max}]
            return f"{self.name}(({', '.join(map(repr, self.args))}))"
        return f"{self.name}({', '.join(map(repr, self.args))})"


PAIRED = ("UniformDistribution", "DiscreteUniformDistribution")  # parameters as one pair


# WL head -> (parameter names, defaults): the distributions RandomArrayLayer can sample
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[Any, ...]]] = {
    "NormalDistribution": (("mu", "sigma"), (0.0, 1.0)),
    "UniformDistribution": (("min", "max"), (0.0, 1.0)),
    "ExponentialDistribution": (("lambda",), ()),
    "GammaDistribution": (("alpha", "beta"), ()),
    "PoissonDistribution": (("mu",), ()),
    "BernoulliDistribution": (("p",), ()),
    "BinomialDistribution": (("n", "p"), ()),
    "NegativeBinomialDistribution": (("n", "p"), ()),
    "DiscreteUniformDistribution": (("min", "max"), ()),
    "ChiSquareDistribution": (("nu",), ()),
    "ChiDistribution": (("nu",), ()),
    "HalfNormalDistribution": (("theta",), (1.0,)),
    "RayleighDistribution": (("sigma",), ()),
    "MaxwellDistribution": (("sigma",), ()),
    "WeibullDistribution": (("alpha", "beta"), ()),
    "NakagamiDistribution": (("mu", "omega"), ()),
    "ErlangDistribution": (("k", "lambda"), ()),
    "InverseGammaDistribution": (("alpha", "beta"), ()),
}


def _make(name: str, *args: Any) -> Distribution:
    names, defaults = DISTRIBUTIONS[name]
    if len(args) == 1 and name in PAIRED and \
            isinstance(args[0], (tuple, list, np.ndarray)):
        args = tuple(args[0])  # WL: UniformDistribution[{min, max}]
    if not args and defaults:
        args = defaults
    if len(args) != len(names):
        raise LayerError(name, f"expected {len(names)} parameter(s) ({', '.join(names)}), but "
                         f"received {len(args)}.")
    for a in args:
        number = isinstance(a, (int, float, np.number)) and not isinstance(a, (bool, np.bool_)) \
            and math.isfinite(a)
        if not number and not hasattr(a, "dtype"):  # a number, or a tensor inside a function
            raise LayerError(name, f"expected finite numbers as parameters, but received {a!r}.")
    return Distribution(name, tuple(float(a) if isinstance(a, (int, float, np.number)) else a
                                    for a in args))


def NormalDistribution(mu: Any = 0.0, sigma: Any = 1.0) -> Distribution:
    """NormalDistribution(mu, sigma): the normal distribution (mean mu, deviation sigma)."""
    return _make("NormalDistribution", mu, sigma)


def UniformDistribution(*bounds: Any) -> Distribution:
    """UniformDistribution((min, max)): uniform on [min, max] ([0, 1] by default)."""
    return _make("UniformDistribution", *bounds)


def ExponentialDistribution(lam: Any) -> Distribution:
    """ExponentialDistribution(lambda): the exponential distribution of rate lambda."""
    return _make("ExponentialDistribution", lam)


def GammaDistribution(alpha: Any, beta: Any) -> Distribution:
    """GammaDistribution(alpha, beta): shape alpha, scale beta (mean alpha * beta)."""
    return _make("GammaDistribution", alpha, beta)


def PoissonDistribution(mu: Any) -> Distribution:
    """PoissonDistribution(mu): the Poisson distribution of mean mu."""
    return _make("PoissonDistribution", mu)


def BernoulliDistribution(p: Any) -> Distribution:
    """BernoulliDistribution(p): 1 with probability p, else 0."""
    return _make("BernoulliDistribution", p)


def BinomialDistribution(n: Any, p: Any) -> Distribution:
    """BinomialDistribution(n, p): successes in n trials of probability p."""
    return _make("BinomialDistribution", n, p)


def NegativeBinomialDistribution(n: Any, p: Any) -> Distribution:
    """NegativeBinomialDistribution(n, p): failures before n successes of probability p."""
    return _make("NegativeBinomialDistribution", n, p)


def DiscreteUniformDistribution(bounds: Any) -> Distribution:
    """DiscreteUniformDistribution((min, max)): an integer min..max, each equally likely."""
    return _make("DiscreteUniformDistribution", bounds)


def ChiSquareDistribution(nu: Any) -> Distribution:
    """ChiSquareDistribution(nu): the chi-square distribution with nu degrees of freedom."""
    return _make("ChiSquareDistribution", nu)


def ChiDistribution(nu: Any) -> Distribution:
    """ChiDistribution(nu): the square root of a chi-square variable with nu degrees."""
    return _make("ChiDistribution", nu)


def HalfNormalDistribution(theta: Any = 1.0) -> Distribution:
    """HalfNormalDistribution(theta): |x| for normal x of deviation sqrt(pi/2)/theta."""
    return _make("HalfNormalDistribution", theta)


def RayleighDistribution(sigma: Any) -> Distribution:
    """RayleighDistribution(sigma): the Rayleigh distribution of scale sigma."""
    return _make("RayleighDistribution", sigma)


def MaxwellDistribution(sigma: Any) -> Distribution:
    """MaxwellDistribution(sigma): the Maxwell distribution of scale sigma."""
    return _make("MaxwellDistribution", sigma)


def WeibullDistribution(alpha: Any, beta: Any) -> Distribution:
    """WeibullDistribution(alpha, beta): shape alpha, scale beta."""
    return _make("WeibullDistribution", alpha, beta)


def NakagamiDistribution(mu: Any, omega: Any) -> Distribution:
    """NakagamiDistribution(mu, omega): shape mu, spread omega."""
    return _make("NakagamiDistribution", mu, omega)


def ErlangDistribution(k: Any, lam: Any) -> Distribution:
    """ErlangDistribution(k, lambda): the sum of k exponential variables of rate lambda."""
    return _make("ErlangDistribution", k, lam)


def InverseGammaDistribution(alpha: Any, beta: Any) -> Distribution:
    """InverseGammaDistribution(alpha, beta): beta / x for x of GammaDistribution(alpha, 1)."""
    return _make("InverseGammaDistribution", alpha, beta)


class RandomArrayLayer(Layer):
    """RandomArrayLayer(dist): a layer without inputs that outputs an array sampled from dist.

    ``RandomArrayLayer(NormalDistribution(0, 1), Output=(2, 3))`` samples a 2 x 3 array at each
    evaluation (give the shape with ``Output=...``); in a batch the one sample is shared by
    the batch, as NetArrayLayer's array is. ``RandomArrayLayer(f)`` takes input ports and
    samples each element from ``f(x1, ...)``, a distribution whose parameters are computed
    from the inputs elementwise, e.g. ``RandomArrayLayer(lambda x: NormalDistribution(x, 1))``
    adds unit normal noise per element (one port "Input"; a function of several arguments has
    one port per argument name). Sampling uses torch's generator (seeded by NetTrain's
    RandomSeeding in training); integer-valued distributions give whole numbers as reals.

    >>> RandomArrayLayer(BernoulliDistribution(1), Output=3)()
    array([1., 1., 1.], dtype=float32)
    """

    time = "pointwise"  # each element drawn alone

    def __init__(self, dist: Any, **opts: Any) -> None:
        if isinstance(dist, Distribution):
            params: dict[str, Any] = {"distribution": dist, "function": None}
        elif callable(dist):
            params = {"distribution": None, "function": dist}
            argument_ports("RandomArrayLayer", dist)
        else:
            raise LayerError("RandomArrayLayer", "expected a distribution such as "
                             "NormalDistribution(0, 1) or a function of the inputs that gives "
                             f"one, but received {dist!r}.")
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        d = params["distribution"]
        if d is not None and (not isinstance(d, Distribution) or d.name not in DISTRIBUTIONS):
            raise LayerError("RandomArrayLayer", f"expected one of the distributions "
                             f"{', '.join(DISTRIBUTIONS)}, but received {d!r}.")
        if d is not None:
            _make(d.name, *d.args)
        if d is None and params["function"] is None:
            raise LayerError("RandomArrayLayer", "expected a distribution or a function.")

    @classmethod
    def input_ports_of(cls, params: Any) -> tuple[str, ...]:
        f = params.get("function")
        return () if f is None else argument_ports("RandomArrayLayer", f)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        y = outs.get("Output", PortType())
        if self.params["function"] is None:
            return {}, {"Output": PortType(y.dims, "Real")}
        t = PortType(y.dims, "Real")
        for p in self.input_ports():
            x = ins.get(p, PortType())
            try:
                t = unify(t, PortType(x.dims, "Real"))
            except UnifyError:
                raise PortMismatch(p, t.describe(), x.describe()) from None
        return {p: t for p in self.input_ports()}, {"Output": t}

    def _param_repr(self) -> str:
        d, f = self.params["distribution"], self.params["function"]
        return repr(d) if d is not None else getattr(f, "__name__", repr(f))
