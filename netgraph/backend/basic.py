"""Torch modules of the basic, elementwise, sequence and loss layers."""
from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor

from ..layers import basic as B
from ..layers import loss as L
from ..layers import sequence as S
from ..symbols import Symbol
from .base import LayerModule, lowers, parameter
from .lengths import last_within, masked_mean, reverse_within


def _hard_sigmoid(x: Tensor) -> Tensor:
    """WL's HardSigmoid: Clip[(x + 1)/2, {0, 1}] (torch's F.hardsigmoid is x/6 + 1/2)."""
    return torch.clamp((x + 1) / 2, 0, 1)


ELEMENTWISE_FUNCTIONS = {
    "Ramp": torch.relu, "Tanh": torch.tanh, "LogisticSigmoid": torch.sigmoid,
    "Sin": torch.sin, "Cos": torch.cos, "Exp": torch.exp, "Log": torch.log,
    "Sqrt": torch.sqrt, "Abs": torch.abs, "Sign": torch.sign, "Square": torch.square,
    "Erf": torch.erf, "SoftRamp": F.softplus, "ELU": F.elu, "SELU": F.selu, "GELU": F.gelu,
    "Swish": F.silu, "HardTanh": F.hardtanh, "HardSigmoid": _hard_sigmoid,
    "Identity": lambda x: x,
}


INLINE_ELEMENTWISE = {
    "Ramp": "torch.relu({0})", "Tanh": "torch.tanh({0})", "LogisticSigmoid": "torch.sigmoid({0})",
    "Sin": "torch.sin({0})", "Cos": "torch.cos({0})", "Exp": "torch.exp({0})",
    "Log": "torch.log({0})", "Sqrt": "torch.sqrt({0})", "Abs": "torch.abs({0})",
    "Square": "torch.square({0})", "Identity": "{0}",
}
INLINE_THREADING = {"Plus": " + ", "Times": " * ", "Subtract": " - ", "Divide": " / "}


class LinearModule(LayerModule):
    def __init__(self, layer: B.LinearLayer) -> None:
        super().__init__()
        specs = layer.array_specs()
        self.array_names = tuple(specs)
        self.Weights = parameter(specs["Weights"].shape)
        self.Biases = parameter(specs["Biases"].shape) if "Biases" in specs else None
        self.in_rank = len(layer.in_types["Input"].dims or ())
        self.out_shape = cast(tuple[int, ...], tuple(layer.out_types["Output"].dims or ()))

    def inline(self, ref: str, args: list[str]) -> str | None:
        # ranks other than vectors flatten to (batch, m) and back, as forward does
        x = {0: f"{args[0]}.unsqueeze(-1)", 1: args[0]}.get(self.in_rank, f"{args[0]}.flatten(1)")
        y = f"F.linear({x}, {ref}.Weights, {ref}.Biases)"
        if len(self.out_shape) == 1:
            return y
        return f"{y}.squeeze(-1)" if not self.out_shape else f"{y}.unflatten(1, {self.out_shape})"

    def forward(self, x: Tensor) -> Tensor:
        b = x.shape[0]
        x = x.reshape(b, -1)                                   # (batch, m)
        y = F.linear(x, self.Weights, self.Biases)             # (batch, n)
        return y.reshape((b, *self.out_shape))


class ElementwiseModule(LayerModule):
    def __init__(self, layer: B.ElementwiseLayer) -> None:
        super().__init__()
        f = layer.params["function"]
        self.f = ELEMENTWISE_FUNCTIONS[f.name] if isinstance(f, Symbol) else f
        self.name = f.name if isinstance(f, Symbol) else None

    def inline(self, ref: str, args: list[str]) -> str | None:
        return INLINE_ELEMENTWISE.get(self.name or "", "").format(*args) or None

    def forward(self, x: Tensor) -> Tensor:
        return self.f(x)


def _threading_function(f: object):  # noqa: ANN202
    if not isinstance(f, Symbol):
        return f
    return {
        "Plus": lambda *xs: _fold(torch.add, xs), "Times": lambda *xs: _fold(torch.mul, xs),
        "Subtract": lambda a, b: a - b, "Divide": lambda a, b: a / b,
        "Max": lambda *xs: _fold(torch.maximum, xs), "Min": lambda *xs: _fold(torch.minimum, xs),
        "Power": lambda a, b: torch.pow(a, b),
    }[f.name]


def _fold(op, xs):  # noqa: ANN001, ANN202
    acc = xs[0]
    for x in xs[1:]:
        acc = op(acc, x)
    return acc


class ThreadingModule(LayerModule):
    def __init__(self, layer: B.ThreadingLayer) -> None:
        super().__init__()
        f = layer.params["function"]
        self.f = _threading_function(f)
        self.op = INLINE_THREADING.get(f.name) if isinstance(f, Symbol) else None

    def inline(self, ref: str, args: list[str]) -> str | None:
        if self.op is None or (self.op in (" - ", " / ") and len(args) != 2):
            return None
        return "(" + self.op.join(args) + ")"

    def forward(self, *xs: Tensor) -> Tensor:
        return self.f(*xs)


class SoftmaxModule(LayerModule):
    def __init__(self, layer: B.SoftmaxLayer) -> None:
        super().__init__()
        lv = layer.params["level"]
        self.dim = lv if lv < 0 else lv  # batch dim shifts positive levels by one

    def inline(self, ref: str, args: list[str]) -> str | None:
        return f"torch.softmax({args[0]}, {self.dim})"

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(x, dim=self.dim)


class SequenceModule(LayerModule):
    """A sequence layer: ``code`` is its plain (no lengths) expression of the input ``{0}``."""

    code = "{0}"

    def __init__(self, layer: object) -> None:
        super().__init__()

    def inline(self, ref: str, args: list[str]) -> str | None:
        # no lengths (a plain call: examples of one length); forward_ext passes lengths
        return self.code.format(args[0])


@lowers(S.SequenceLastLayer)
class SequenceLastModule(SequenceModule):
    code = "{0}[:, -1]"

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:  # (batch, time, ...)
        return x[:, -1] if lengths is None else last_within(x, lengths)


@lowers(S.SequenceMostLayer)
class SequenceMostModule(SequenceModule):
    code = "{0}[:, :-1]"

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:  # (batch, time, ...)
        return x[:, :-1]  # padding stays at the end: each example loses its own last step


@lowers(S.SequenceRestLayer)
class SequenceRestModule(SequenceModule):
    code = "{0}[:, 1:]"

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:  # (batch, time, ...)
        return x[:, 1:]


@lowers(S.SequenceReverseLayer)
class SequenceReverseModule(SequenceModule):
    code = "torch.flip({0}, dims=(1,))"

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:  # (batch, time, ...)
        return torch.flip(x, dims=(1,)) if lengths is None else reverse_within(x, lengths)


def _per_example_mean(d: Tensor, lengths: Tensor | None = None) -> Tensor:
    """Mean over every dimension but the batch: one loss per example, (batch,); with
    ``lengths``, over each example's own time steps only."""
    if lengths is not None:
        return masked_mean(d, lengths)
    return d.reshape(d.shape[0], -1).mean(dim=1)


def per_example_mean_code(d: str, rank: int) -> str:
    """Source of :func:`_per_example_mean` (no lengths) of ``d``, an expression of shape
    ``(batch, *dims)`` with ``len(dims) == rank``."""
    return {0: d, 1: f"{d}.mean(1)"}.get(rank, f"{d}.flatten(1).mean(1)")


class LossModule(LayerModule):
    """A loss layer: the per-example mean of :meth:`elementwise`; ``code`` is its elementwise
    expression of the input ``{0}`` and target ``{1}`` for the generated forward (None: call
    :meth:`forward`)."""

    code: str | None = None

    def __init__(self, layer: object) -> None:
        super().__init__()
        t = getattr(layer, "in_types", {}).get("Input")
        self.rank = len(t.dims or ()) if t is not None and t.dims is not None else None

    def inline(self, ref: str, args: list[str]) -> str | None:
        # Two (batch, ...) inputs, no lengths: the per-example mean of the elementwise loss.
        if len(args) != 2 or "None" in args:
            return None
        if self.code is None or self.rank is None:
            return f"{ref}.forward({args[0]}, {args[1]})"   # no Module.__call__ overhead
        return per_example_mean_code(self.code.format(*args), self.rank - self.per_element)

    per_element = 0   # 1 when a whole last dimension (a class index) is one element

    def forward(self, x: Tensor, t: Tensor, lengths: Tensor | None = None) -> Tensor:
        return _per_example_mean(self.elementwise(x, t), lengths)      # (batch,)

    def elementwise(self, x: Tensor, t: Tensor) -> Tensor:
        """The loss of each element (class vectors count as one), before the mean."""
        raise NotImplementedError


@lowers(L.MeanSquaredLossLayer)
class MeanSquaredModule(LossModule):
    code = "torch.square({0} - {1})"

    def elementwise(self, x: Tensor, t: Tensor) -> Tensor:
        return torch.square(x - t)


@lowers(L.MeanAbsoluteLossLayer)
class MeanAbsoluteModule(LossModule):
    code = "torch.abs({0} - {1})"

    def elementwise(self, x: Tensor, t: Tensor) -> Tensor:
        return torch.abs(x - t)


@lowers(L.ContrastiveLossLayer)
class ContrastiveModule(LossModule):
    def __init__(self, layer: L.ContrastiveLossLayer) -> None:
        super().__init__(layer)
        self.margin = layer.params["margin"]

    def elementwise(self, x: Tensor, t: Tensor) -> Tensor:
        hinge = torch.clamp(self.margin - x, min=0)
        return (1 - t) * x + t * hinge     # WL: t=True pushes x up


@lowers(L.CrossEntropyLossLayer)
class CrossEntropyModule(LossModule):
    def __init__(self, layer: L.CrossEntropyLossLayer) -> None:
        super().__init__(layer)
        self.form = layer.params["form"]
        if self.form == "Index":   # one class index per vector of probabilities
            self.code, self.per_element = (
                "-torch.log(torch.gather({0}, -1, ({1}.long() - 1).unsqueeze(-1))"
                ".squeeze(-1).clamp_min(1e-15 if {0}.dtype == torch.float64 else 1e-7))"), 1

    def elementwise(self, x: Tensor, t: Tensor) -> Tensor:
        eps = 1e-15 if x.dtype == torch.float64 else 1e-7
        if self.form == "Index":
            p = torch.gather(x, -1, (t.long() - 1).unsqueeze(-1)).squeeze(-1)
            return -torch.log(p.clamp_min(eps))
        if self.form == "Probabilities":
            ce = -(t * torch.log(x.clamp_min(eps)))
            return ce.sum(-1) if ce.dim() > 1 else ce
        xc = x.clamp(eps, 1 - eps)
        return -(t * torch.log(xc) + (1 - t) * torch.log(1 - xc))


lowers(B.LinearLayer)(LinearModule)
lowers(B.ElementwiseLayer)(ElementwiseModule)
lowers(B.ThreadingLayer)(ThreadingModule)
lowers(B.SoftmaxLayer)(SoftmaxModule)
