"""The "Boolean" and "Scalar" encoders and decoders."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..shapes import PortType
from ..symbols import Automatic
from .base import CoderError, is_number, show
from .classes import _dimensions, entropy, sample_options
from .values import NetDecoder, NetEncoder


def _dims(coder: Any) -> tuple[Any, ...]:
    return tuple(None if d is Automatic else d for d in coder.params["Dimensions"])


def _rank(x: Any) -> int:
    return np.asarray(x, dtype=object).ndim


def _fits(a: np.ndarray, dims: tuple[Any, ...]) -> bool:
    return a.ndim == len(dims) and all(d is None or d == s
                                       for d, s in zip(dims, a.shape, strict=True))


class BooleanEncoder(NetEncoder, kind="Boolean"):
    """``"Boolean"``, ``["Boolean", dims]``: True -> 1.0, False -> 0.0 (an array of them with
    dims); numbers pass through as already encoded."""

    PARAMS: ClassVar[dict[str, Any]] = {"Dimensions": ()}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Dimensions",)

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["Dimensions"] = _dimensions(cls, p["Dimensions"])
        return p

    @property
    def port_type(self) -> PortType:
        return PortType(_dims(self), "Real")

    def is_batch(self, x: Any) -> bool:
        return _rank(x) == len(self.params["Dimensions"]) + 1

    def _encode(self, items: list[Any]) -> Any:
        if not items:
            return np.zeros((0, *self.port_type.fixed_shape()), np.float32)
        try:
            a = np.asarray(items)
        except ValueError:  # ragged
            a = np.zeros(0, dtype=object)
        if a.dtype.kind in "biuf" and _fits(a[0], _dims(self)):
            return a.astype(np.float32)
        out = [self._one(x, i) for i, x in enumerate(items)]
        if len({o.shape for o in out}) == 1:
            return np.stack(out)
        return out

    def _one(self, x: Any, i: int) -> np.ndarray:
        a = np.asarray(x, dtype=object)
        flat = a.reshape(-1)
        if _fits(a, _dims(self)) and all(isinstance(v, (bool, np.bool_)) or is_number(v)
                                         for v in flat):
            return a.astype(np.float32)
        bad = next((v for v in flat if not isinstance(v, (bool, np.bool_))), x)
        what = "True or False" if not self.params["Dimensions"] else \
            f"an array of True and False of dimensions {show(list(_dims(self)))}"
        raise CoderError(self.side, f"{show(bad)} should be {what}.", index=i)

    def counterpart_params(self) -> dict[str, Any]:
        return {"InputDepth": len(self.params["Dimensions"])}


class BooleanDecoder(NetDecoder, kind="Boolean"):
    """``"Boolean"``: a probability p -> True when p >= 0.5. "InputDepth" n decodes arrays of
    rank n. Properties "Decision", "Probability", "Entropy", "RandomSample"."""

    PARAMS: ClassVar[dict[str, Any]] = {"InputDepth": 0}
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Decision", "Probability", "Entropy",
                                             "RandomSample")
    loss_hint: ClassVar[str | None] = "BinaryCrossEntropy"

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        d = p["InputDepth"]
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            raise cls.bad('"InputDepth"', "a non-negative integer", d)
        return p

    @property
    def port_type(self) -> PortType:
        return PortType((None,) * self.params["InputDepth"], "Real")

    def _check_property(self, name: str, arg: Any) -> Any:
        if name == "RandomSample":
            return sample_options(self, arg)
        return super()._check_property(name, arg)

    def bad_property(self, name: str, expected: str, arg: Any) -> Exception:
        from ..errors import OptionError
        return OptionError(self.side, f'"Boolean" decoder property "{name}" expects '
                           f"{expected}, but received {show(arg)}.")

    def _decode(self, batch: Any, name: str, arg: Any) -> list[Any]:
        if isinstance(batch, list):
            return [self._decode(np.asarray(a, np.float64)[None], name, arg)[0] for a in batch]
        p = self.numeric(batch)
        if name == "Decision":
            return (p >= 0.5).tolist()
        if name == "Probability":
            return p.tolist()
        two = np.stack([p, 1 - p], -1)
        if name == "Entropy":
            return entropy(two).tolist()
        t = arg.get("Temperature", 1.0)
        if t == 0:
            return (p >= 0.5).tolist()
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            q = np.exp(np.log(np.clip(two, 0, 1)) / t)
            q = q[..., 0] / q.sum(-1)
        q = np.where(np.isfinite(q), q, (p >= 0.5).astype(float))
        return (np.random.default_rng().random(p.shape) < q).tolist()

    def counterpart_params(self) -> dict[str, Any]:
        return {"Dimensions": (Automatic,) * self.params["InputDepth"]}


class ScalarEncoder(NetEncoder, kind="Scalar"):
    """``"Scalar"`` (WL 11): a number x -> the vector [x]; a vector [x] passes through."""

    @property
    def port_type(self) -> PortType:
        return PortType((1,), "Real")

    def is_batch(self, x: Any) -> bool:
        if isinstance(x, (list, tuple, np.ndarray)):
            return np.shape(x) != (1,)  # [x] is already an encoded example, as in WL
        return False

    def _encode(self, items: list[Any]) -> np.ndarray:
        try:
            a = np.asarray(items, dtype=np.float32)
        except (TypeError, ValueError):
            a = np.zeros(0, np.float32)
        if a.ndim == 1 and all(is_number(x) for x in items):
            return a[:, None]
        if a.ndim == 2 and a.shape[1:] == (1,):
            return a
        for i, x in enumerate(items):
            if not is_number(x) and np.shape(x) != (1,):
                raise CoderError(self.side, f"{show(x)} is not a number.", index=i)
        return np.asarray([np.reshape(np.asarray(x, np.float32), (1,)) for x in items])

    def counterpart_params(self) -> dict[str, Any]:
        return {}


class ScalarDecoder(NetDecoder, kind="Scalar"):
    """``"Scalar"`` (WL 11): a vector [x] -> the number x."""

    loss_hint: ClassVar[str | None] = "MeanSquared"

    @property
    def port_type(self) -> PortType:
        return PortType((1,), "Real")

    def _decode(self, batch: Any, name: str, arg: Any) -> list[Any]:
        p = self.numeric(batch)
        if p.ndim != 2 or p.shape[1] != 1:
            raise CoderError(self.side, f"{self!r} expects vectors of size 1, but received "
                             f"an array of dimensions {list(p.shape)}.")
        return p[:, 0].tolist()

    def counterpart_params(self) -> dict[str, Any]:
        return {}
