"""Image layers (channels first, as WL): ResizeLayer, SpatialTransformationLayer,
ImageAugmentationLayer and LocalResponseNormalizationLayer."""
from __future__ import annotations

import math
from typing import Any

from ..errors import LayerError
from ..shapes import PortType, UnifyError, unify_dim
from ..symbols import All, Automatic, Scaled
from .base import Layer, PortMismatch, Types
from .levels import _is_int


def _size_pair(head: str, spec: Any) -> tuple[int, int]:
    if (isinstance(spec, (list, tuple)) and len(spec) == 2
            and all(_is_int(d) and d >= 1 for d in spec)):
        return (int(spec[0]), int(spec[1]))
    raise LayerError(head, f"expected the output size {{h, w}} (two positive integers), but "
                     f"received {spec!r}.")


def _image(port: str, t: PortType, rank: int = 3) -> None:
    if t.dims is not None and len(t.dims) != rank:
        what = "a c\u00d7h\u00d7w array (an image, channels first)" if rank == 3 else \
            f"an array of rank {rank}"
        raise PortMismatch(port, what, t.describe())
    if t.dims is not None and any(not _is_int(d) and d is not None for d in t.dims):
        raise PortMismatch(port, "an array of fixed dimensions (not \"Varying\")", t.describe())


def _dims(t: PortType, rank: int) -> list[Any]:
    return list(t.dims) if t.dims is not None else [None] * rank


def _unify(port: str, a: list[Any], b: list[Any], t: PortType) -> list[Any]:
    try:
        return [unify_dim(x, y) for x, y in zip(a, b, strict=True)]
    except UnifyError:
        raise PortMismatch(port, PortType(tuple(b), "Real").describe(), t.describe()) from None


# -- ResizeLayer ---------------------------------------------------------------------------------

RESAMPLINGS = ("Linear", "Nearest")
SCHEMES = ("Point", "Bin")


def _resize_spec(spec: Any) -> tuple[Any, ...]:
    ok = isinstance(spec, (list, tuple)) and 1 <= len(spec) <= 2 and all(
        (_is_int(d) and d >= 1) or d is All or (isinstance(d, Scaled) and d.value > 0)
        for d in spec)
    if not ok:
        raise LayerError("ResizeLayer", "specification should be a list of 1 or 2 entries, each "
                         f"an integer, Scaled(r) or All, but received {spec!r}.")
    return tuple(spec)


def resized(d: Any, n: int | None) -> int | None:
    """The output size of one dimension: n for n, ceil(r * in) for Scaled(r), in for All."""
    if _is_int(d):
        return d
    if n is None:
        return None
    return n if d is All else math.ceil(d.value * n - 1e-9)


class ResizeLayer(Layer):
    """ResizeLayer({d1, ..., dn}): resamples the last n dimensions (n = 1 or 2) to the sizes di.

    Each di is an integer, ``Scaled(r)`` (r times the input size, rounded up) or ``All``
    (unchanged); the channels (first dimension, or last with ``Interleaving=True``) are kept.
    ``Resampling="Linear"`` (the default) interpolates linearly; ``"Nearest"`` repeats each
    element and takes only integer ``Scaled(k)``. ``Scheme`` "Point" (the default for Linear:
    the first and last elements of input and output coincide) or "Bin" (elements are the
    centres of equal bins; the default for Nearest), as the third argument of ArrayResample.

    >>> ResizeLayer([4], Input=(1, 2))([[0.0, 3.0]])
    array([[0., 1., 2., 3.]], dtype=float32)
    """

    time = "pointwise"  # no sequences: its dimensions are fixed

    options = ("Resampling", "Scheme", "Interleaving")

    def __init__(self, spec: Any, **opts: Any) -> None:
        res = opts.pop("Resampling", Automatic)
        params = {"spec": _resize_spec(spec),
                  "resampling": "Linear" if res is Automatic else res,
                  "scheme": opts.pop("Scheme", Automatic),
                  "interleaving": opts.pop("Interleaving", False)}
        if params["scheme"] is Automatic:
            params["scheme"] = "Point" if params["resampling"] == "Linear" else "Bin"
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        _resize_spec(params["spec"])
        if params["resampling"] not in RESAMPLINGS:
            raise LayerError("ResizeLayer", f'expected Resampling to be "Linear" or "Nearest", '
                             f"but received {params['resampling']!r}.")
        if params["scheme"] not in SCHEMES:
            raise LayerError("ResizeLayer", f'expected Scheme to be "Point" or "Bin", but '
                             f"received {params['scheme']!r}.")
        if not isinstance(params["interleaving"], bool):
            raise LayerError("ResizeLayer", f"expected Interleaving to be True or False, but "
                             f"received {params['interleaving']!r}.")
        if params["resampling"] == "Nearest":
            if params["scheme"] != "Bin" or not all(
                    isinstance(d, Scaled) and float(d.value).is_integer()
                    for d in params["spec"]):
                raise LayerError("ResizeLayer", 'the specification should be {Scaled(n), ...} '
                                 'with positive integers n and Scheme "Bin" when using '
                                 'Resampling -> "Nearest".')

    def spatial(self, rank: int) -> list[int]:
        """0-based levels of the resized dimensions in an input of ``rank``."""
        n = len(self.params["spec"])
        return list(range(rank - n - 1, rank - 1)) if self.params["interleaving"] else \
            list(range(rank - n, rank))

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        rank = len(self.params["spec"]) + 1
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        _image("Input", x, rank)
        _image("Output", y, rank)
        xd, yd = _dims(x, rank), _dims(y, rank)
        sp = self.spatial(rank)
        ch = next(i for i in range(rank) if i not in sp)
        xd[ch] = yd[ch] = _unify("Input", [xd[ch]], [yd[ch]], x)[0]
        want = list(yd)
        for j, d in zip(sp, self.params["spec"], strict=True):
            want[j] = resized(d, xd[j])
            if d is All:
                xd[j] = _unify("Input", [xd[j]], [yd[j]], x)[0]
            if want[j] is not None and want[j] <= 1:
                raise PortMismatch("Output", "sizes greater than 1 (the layer would produce an "
                                   f"output of size {want[j]}, which is not supported)",
                                   x.describe())
        yd = _unify("Output", yd, want, y)
        return {"Input": PortType(tuple(xd), "Real")}, {"Output": PortType(tuple(yd), "Real")}

    def _param_repr(self) -> str:
        p = self.params
        extra = [] if p["resampling"] == "Linear" else [f'Resampling="{p["resampling"]}"']
        auto = "Point" if p["resampling"] == "Linear" else "Bin"
        extra += [] if p["scheme"] == auto else [f'Scheme="{p["scheme"]}"']
        extra += ["Interleaving=True"] if p["interleaving"] else []
        return ", ".join([repr(list(p["spec"]))] + extra)


# -- SpatialTransformationLayer ------------------------------------------------------------------

class SpatialTransformationLayer(Layer):
    """SpatialTransformationLayer({h, w}): an affine warp of a c x h0 x w0 image to c x h x w.

    "Parameters" is the vector {zh, sh, th, sv, zv, tv}, the rows of the 2 x 3 affine matrix
    that maps output coordinates to input coordinates, both normalized to [-1, 1] with the
    corners at -1 and 1; {1, 0, 0, 0, 1, 0} is the identity. Input is sampled bilinearly;
    points outside it read 0. The layer has no learned arrays (the parameters usually come
    from a localization net).

    >>> SpatialTransformationLayer([2, 2], Input=(1, 2, 2))(
    ...     {"Input": [[[1, 2], [3, 4]]], "Parameters": [1, 0, 0, 0, 1, 0]})
    array([[[1., 2.],
            [3., 4.]]], dtype=float32)
    """

    time = "pointwise"  # no sequences: its dimensions are fixed

    inputs = ("Input", "Parameters")

    def __init__(self, size: Any, **opts: Any) -> None:
        params = {"size": _size_pair("SpatialTransformationLayer", size)}
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        _size_pair("SpatialTransformationLayer", params["size"])

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, p = ins.get("Input", PortType()), ins.get("Parameters", PortType())
        y = outs.get("Output", PortType())
        for port, t, r in (("Input", x, 3), ("Output", y, 3)):
            _image(port, t, r)
        if p.dims is not None and tuple(p.dims) not in ((6,), (None,)):
            raise PortMismatch("Parameters", "a vector of size 6", p.describe())
        xd, yd = _dims(x, 3), _dims(y, 3)
        c = _unify("Output", [yd[0]], [xd[0]], y)[0]
        h, w = self.params["size"]
        yd = _unify("Output", yd, [c, h, w], y)
        return ({"Input": PortType((c, xd[1], xd[2]), "Real"), "Parameters": PortType(
            (6,), "Real")}, {"Output": PortType(tuple(yd), "Real")})

    def _param_repr(self) -> str:
        return repr(list(self.params["size"]))


# -- ImageAugmentationLayer ----------------------------------------------------------------------

class ImageAugmentationLayer(Layer):
    """ImageAugmentationLayer({h, w}): random crops (and reflections) of images while training.

    The input is a c x h0 x w0 array (h0 >= h, w0 >= w). While training (NetTrain, or
    ``NetEvaluationMode="Train"``) each example gets a crop at a uniformly random offset and
    is reflected with the probabilities ``ReflectionProbabilities=(pv, ph)`` (default (0, 0)):
    pv flips it top to bottom (a vertical reflection), ph left to right. In evaluation the
    layer takes the center crop, with no randomness. Training draws from torch's generator,
    which NetTrain seeds from RandomSeeding.

    >>> ImageAugmentationLayer([1, 2], Input=(1, 3, 3))([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
    array([[[4., 5.]]], dtype=float32)
    """

    time = "pointwise"  # no sequences: its dimensions are fixed

    options = ("ReflectionProbabilities",)

    def __init__(self, size: Any, **opts: Any) -> None:
        probs = opts.pop("ReflectionProbabilities", (0.0, 0.0))
        params = {"size": _size_pair("ImageAugmentationLayer", size),
                  "reflections": tuple(probs) if isinstance(probs, (list, tuple)) else probs}
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        _size_pair("ImageAugmentationLayer", params["size"])
        r = params["reflections"]
        if not (isinstance(r, tuple) and len(r) == 2 and all(
                isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1
                for p in r)):
            raise LayerError("ImageAugmentationLayer", 'expected "ReflectionProbabilities" to '
                             f"be two probabilities (pv, ph) between 0 and 1, but received "
                             f"{r!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        _image("Input", x)
        _image("Output", y)
        xd, yd = _dims(x, 3), _dims(y, 3)
        h, w = self.params["size"]
        c = _unify("Output", [yd[0]], [xd[0]], y)[0]
        for n, m in zip(xd[1:], (h, w), strict=True):
            if _is_int(n) and n < m:
                raise PortMismatch("Input", f"an image of at least {h}\u00d7{w} (the output "
                                   "dimensions must be smaller than the input dimensions)",
                                   x.describe())
        yd = _unify("Output", yd, [c, h, w], y)
        return {"Input": PortType((c, xd[1], xd[2]), "Real")}, {"Output": PortType(
            tuple(yd), "Real")}

    def _param_repr(self) -> str:
        r = self.params["reflections"]
        extra = "" if r == (0.0, 0.0) or r == (0, 0) else f", ReflectionProbabilities={r!r}"
        return repr(list(self.params["size"])) + extra


# -- LocalResponseNormalizationLayer ------------------------------------------------------------

def _number(name: str, v: Any, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or (
            positive and v <= 0):
        raise LayerError("LocalResponseNormalizationLayer", f'expected "{name}" to be a '
                         f"{'positive' if positive else 'finite'} number, but received {v!r}.")
    return float(v)


class LocalResponseNormalizationLayer(Layer):
    """LocalResponseNormalizationLayer(): divides each element by a power of the sum of squares
    over its neighbouring channels.

    For channel i of c-channel input T: D_i = (Alpha/(2n+1) * sum_{|k-i|<=n} T_k^2 + Bias)^Beta
    and the output is T_i / D_i, with n = ``ChannelWindowSize`` (2), ``Alpha`` 1.0, ``Beta``
    0.5 and ``Bias`` 1.0. The input has rank 3, channels first, at least 2n+1 channels.

    >>> LocalResponseNormalizationLayer(ChannelWindowSize=0, Input=(1, 1, 1))([[[3.0]]])
    array([[[0.94868326]]], dtype=float32)
    """

    time = "pointwise"  # no sequences: its dimensions are fixed

    options = ("Alpha", "Beta", "Bias", "ChannelWindowSize")

    def __init__(self, **opts: Any) -> None:
        params = {"alpha": opts.pop("Alpha", 1.0), "beta": opts.pop("Beta", 0.5),
                  "bias": opts.pop("Bias", 1.0), "window": opts.pop("ChannelWindowSize", 2)}
        params = {k: (float(v) if k != "window" and isinstance(v, int) and not isinstance(v, bool)
                      else v) for k, v in params.items()}
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        _number("Alpha", params["alpha"])
        _number("Beta", params["beta"])
        _number("Bias", params["bias"])
        n = params["window"]
        if not _is_int(n) or n < 0:
            raise LayerError("LocalResponseNormalizationLayer", f'expected "ChannelWindowSize" '
                             f"to be a nonnegative integer, but received {n!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        _image("Input", x)
        _image("Output", y)
        d = _unify("Output", _dims(y, 3), _dims(x, 3), y)
        need = 2 * self.params["window"] + 1
        if _is_int(d[0]) and d[0] < need:
            raise PortMismatch("Input", f"at least {need} channels (2 * channel window size + 1 "
                               "cannot be larger than the number of channels in the input)",
                               x.describe())
        t = PortType(tuple(d), "Real")
        return {"Input": t}, {"Output": t}

    def _param_repr(self) -> str:
        p, default = self.params, {"alpha": 1.0, "beta": 0.5, "bias": 1.0, "window": 2}
        names = {"alpha": "Alpha", "beta": "Beta", "bias": "Bias", "window": "ChannelWindowSize"}
        return ", ".join(f"{names[k]}={v!r}" for k, v in p.items() if v != default[k])
