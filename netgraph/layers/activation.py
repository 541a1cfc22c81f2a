"""Elementwise layers with learned parameters: ParametricRampLayer."""
from __future__ import annotations

from typing import Any

from ..errors import LayerError
from ..shapes import PortType, UnifyError, unify
from ..symbols import Automatic
from .base import ArraySpec, Layer, PortMismatch, Types
from .levels import Span, _is_int, as_span

SLOPE_INIT = 0.1  # WL: "Slope" is initialized to 0.1


def _levels(spec: Any) -> tuple[Any, ...]:
    """ParametricRampLayer's levels: a, Span(a1, a2) (or slice), [a, b, ...] or [] (one slope)."""
    spec = as_span(spec)
    if _is_int(spec) and spec != 0:
        return (spec,)
    if isinstance(spec, Span) and _is_int(spec.start) and _is_int(spec.stop) and spec.step == 1:
        return (spec,)
    if isinstance(spec, (list, tuple)) and all(_is_int(a) and a != 0 for a in spec):
        return tuple(spec)
    raise LayerError("ParametricRampLayer", f"expected the levels to be a nonzero level a, a "
                     f"span Span(a1, a2), a list of levels or [] (one slope), but received "
                     f"{spec!r}.")


def slope_levels(levels: tuple[Any, ...], rank: int) -> list[int] | None:
    """0-based levels that carry their own slope, increasing; None when out of range."""
    out: list[int] = []
    for a in levels:
        if isinstance(a, Span):
            r = a._range(rank)
            if r is None:
                return None
            out += [i - 1 for i in r]
        else:
            i = a - 1 if a > 0 else rank + a
            if not 0 <= i < rank:
                return None
            out.append(i)
    return out if all(a < b for a, b in zip(out, out[1:], strict=False)) else None


class ParametricRampLayer(Layer):
    """ParametricRampLayer(levels): a leaky ReLU whose negative slope is the learned "Slope".

    f(x) = x for x >= 0 and slope * x for x < 0. ``ParametricRampLayer()`` learns one slope
    per element of level 1 (per channel of an image, per component of a vector);
    ``ParametricRampLayer(a)``, ``ParametricRampLayer(Span(a1, a2))`` and
    ``ParametricRampLayer([a, b])`` one per element of those levels (increasing),
    ``ParametricRampLayer([])`` a single slope. "Slope" starts at 0.1; ``Slope=v`` sets it.
    ``LearningRateMultipliers=0`` keeps the slope fixed in NetTrain (a plain leaky ReLU).

    >>> ParametricRampLayer(Input=3).array_specs()["Slope"].shape
    (3,)
    """

    time = "pointwise"  # a slope level is never the time level (refused)

    options = ("Slope", "LearningRateMultipliers")

    def __init__(self, levels: Any = 1, **opts: Any) -> None:
        slope = opts.pop("Slope", None)
        params = {"levels": _levels(levels), "lrm": opts.pop("LearningRateMultipliers",
                                                             Automatic)}
        self._init(params, opts, {} if slope is None else {"Slope": slope})
        if slope is not None:
            want = self.array_specs()["Slope"].shape
            got = self.arrays["Slope"].shape  # type: ignore[union-attr]
            if want is not None and tuple(got) != tuple(want):
                raise LayerError("ParametricRampLayer", f'expected "Slope" of dimensions '
                                 f"{list(want)}, but received an array of dimensions "
                                 f"{list(got)}.")

    @classmethod
    def check_params(cls, params: Any) -> None:
        levels = params["levels"]
        if not isinstance(levels, tuple):
            raise LayerError("ParametricRampLayer", f"expected a tuple of levels, but "
                             f"received {levels!r}.")
        _levels(levels[0] if len(levels) == 1 else list(levels))
        lrm = params["lrm"]
        if lrm is not Automatic and lrm is not None and (
                isinstance(lrm, bool) or not isinstance(lrm, (int, float))):
            raise LayerError("ParametricRampLayer", f"expected LearningRateMultipliers to be a "
                             f"number, None or Automatic, but received {lrm!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        try:
            t = unify(PortType(x.dims, "Real"), PortType(y.dims, "Real"))
        except UnifyError:
            raise PortMismatch("Output", PortType(x.dims, "Real").describe(),
                               y.describe()) from None
        if t.dims is not None:
            lv = slope_levels(self.params["levels"], len(t.dims))
            if lv is None:
                raise PortMismatch("Input", f"an array with the levels {self._param_repr()}",
                                   t.describe())
            if any(not _is_int(t.dims[i]) and t.dims[i] is not None for i in lv):
                raise PortMismatch("Input", "fixed dimensions at the slope levels (not "
                                   '"Varying")', t.describe())
        return {"Input": t}, {"Output": t}

    def slope_axes(self) -> list[int] | None:
        dims = self.in_types.get("Input", PortType()).dims
        return None if dims is None else slope_levels(self.params["levels"], len(dims))

    def array_specs(self) -> dict[str, ArraySpec]:
        dims, axes = self.in_types.get("Input", PortType()).dims, self.slope_axes()
        shape = None
        if dims is not None and axes is not None and all(_is_int(dims[i]) for i in axes):
            shape = tuple(int(dims[i]) for i in axes)  # type: ignore[arg-type]
        return {"Slope": ArraySpec(shape, "constant", value=SLOPE_INIT)}

    def _param_repr(self) -> str:
        lv, lrm = self.params["levels"], self.params["lrm"]
        out = "" if lv == (1,) else (repr(lv[0]) if len(lv) == 1 else repr(list(lv)))
        if lrm is not Automatic:
            out += (", " if out else "") + f"LearningRateMultipliers={lrm!r}"
        return out
