"""Sequence layers: SequenceLastLayer, SequenceMostLayer, SequenceRestLayer and
SequenceReverseLayer."""
from __future__ import annotations

from typing import Any

from ..shapes import VARYING, PortType
from .base import Layer, PortMismatch, Types


def _seq_input(ins: Types) -> PortType:
    x = ins.get("Input", PortType())
    if x.dims is not None and len(x.dims) == 0:
        raise PortMismatch("Input", "a sequence", x.describe())
    return x


def _shift(d: Any, by: int) -> Any:
    return d + by if isinstance(d, int) else d


class SequenceLastLayer(Layer):
    """SequenceLastLayer(): the last element of a sequence."""

    time = "lengths"
    takes_last = True

    def __init__(self, **opts: Any) -> None:
        self._init({}, opts)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = _seq_input(ins), outs.get("Output", PortType())
        i = PortType(None if y.dims is None else (VARYING, *y.dims), x.kind or y.kind, y.bound)
        o = PortType(None if x.dims is None else x.dims[1:], x.kind, x.bound)
        return {"Input": i}, {"Output": o}


class _SequenceSameRank(Layer):
    """A sequence in, a sequence of the same elements out, with the length shifted."""

    time = "lengths"
    length_shift = 0

    def __init__(self, **opts: Any) -> None:
        self._init({}, opts)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = _seq_input(ins), outs.get("Output", PortType())
        shift = self.length_shift
        if x.dims is not None and isinstance(x.dims[0], int) and x.dims[0] + shift < 1:
            raise PortMismatch("Input", f"a sequence of at least {1 - shift + 0} elements",
                               x.describe())
        i = PortType(None if y.dims is None else (_shift(y.dims[0], -shift), *y.dims[1:]),
                     y.kind, y.bound)
        o = PortType(None if x.dims is None else (_shift(x.dims[0], shift), *x.dims[1:]),
                     x.kind, x.bound)
        return {"Input": i}, {"Output": o}


class SequenceMostLayer(_SequenceSameRank):
    """SequenceMostLayer(): every element of a sequence but the last."""

    length_shift = -1


class SequenceRestLayer(_SequenceSameRank):
    """SequenceRestLayer(): every element of a sequence but the first."""

    length_shift = -1


class SequenceReverseLayer(_SequenceSameRank):
    """SequenceReverseLayer(): the sequence in reverse order."""

    length_shift = 0
