"""Loss layers: MeanSquaredLossLayer, MeanAbsoluteLossLayer, CrossEntropyLossLayer,
ContrastiveLossLayer. Ports "Input", "Target" and the scalar "Loss"."""
from __future__ import annotations

import math
from typing import Any

from ..errors import LayerError
from ..shapes import REAL, PortType, UnifyError, unify
from .base import Layer, PortMismatch, Types


class LossLayer(Layer):
    inputs = ("Input", "Target")
    outputs = ("Loss",)
    is_loss = True
    time = "lengths"  # the mean over each example's own steps


def _same(ins: Types) -> PortType:
    x, t = ins.get("Input", PortType()), ins.get("Target", PortType())
    try:
        return unify(PortType(x.dims, "Real"), PortType(t.dims, "Real"))
    except UnifyError:
        raise PortMismatch("Target", x.describe(), t.describe()) from None


class MeanSquaredLossLayer(LossLayer):
    """MeanSquaredLossLayer(): the mean of the squared differences of "Input" and "Target"."""

    def __init__(self, **opts: Any) -> None:
        self._init({}, opts)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        t = _same(ins)
        return {"Input": t, "Target": t}, {"Loss": REAL}


class MeanAbsoluteLossLayer(MeanSquaredLossLayer):
    """MeanAbsoluteLossLayer(): the mean of the absolute differences of "Input" and "Target"."""


class CrossEntropyLossLayer(LossLayer):
    """CrossEntropyLossLayer(form): "Index" (class index targets), "Probabilities" or "Binary".

    With "Index" the "Input" is a vector of class probabilities (of any rank; the last dimension
    holds the classes) and "Target" the 1-based class index; the loss is the mean over the
    extra dimensions.
    """

    def __init__(self, form: str = "Index", **opts: Any) -> None:
        self._init({"form": form}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        form = params["form"]
        if form not in ("Index", "Probabilities", "Binary"):
            raise LayerError("CrossEntropyLossLayer", f'expected "Index", "Probabilities" or '
                             f'"Binary", but received {form!r}.')

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        if self.params["form"] != "Index":
            t = _same(ins)
            return {"Input": t, "Target": t}, {"Loss": REAL}
        x, t = ins.get("Input", PortType()), ins.get("Target", PortType())
        if x.dims is not None and len(x.dims) == 0:
            raise PortMismatch("Input", "a vector of class probabilities", x.describe())
        c = x.dims[-1] if x.dims else None
        tin = PortType(None if x.dims is None else x.dims[:-1], "Integer",
                       (1, c) if isinstance(c, int) else None)
        xin = PortType(None if t.dims is None else (*t.dims, None), "Real")
        return {"Input": xin, "Target": tin}, {"Loss": REAL}

    def _param_repr(self) -> str:
        return f'"{self.params["form"]}"'


class ContrastiveLossLayer(LossLayer):
    """ContrastiveLossLayer(margin): "Input" a distance, "Target" True (1) if it should grow.

    As WL: loss = (1-t)*x + t*max(margin - x, 0), so a False target minimizes the distance
    and a True one pushes it above the margin (0.5 by default); the mean over extra dims.
    """

    def __init__(self, margin: float = 0.5, **opts: Any) -> None:
        if isinstance(margin, bool) or not isinstance(margin, (int, float)):
            raise LayerError("ContrastiveLossLayer", f"expected a nonnegative margin, but "
                             f"received {margin!r}.")
        params = {"margin": float(margin)}
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        m = params["margin"]
        if not isinstance(m, float) or not 0 <= m < math.inf:
            raise LayerError("ContrastiveLossLayer", f"expected a nonnegative margin, but "
                             f"received {m!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        t = _same(ins)
        return {"Input": t, "Target": t}, {"Loss": REAL}

    def _param_repr(self) -> str:
        return "" if self.params["margin"] == 0.5 else str(self.params["margin"])
