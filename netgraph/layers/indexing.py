"""Layers that compute or use integer positions: UnitVectorLayer, SequenceIndicesLayer,
OrderingLayer and ExtractLayer. Positions are 1-based, as in WL."""
from __future__ import annotations

import math
from typing import Any

from ..errors import LayerError
from ..shapes import PortType, UnifyError, unify_dim
from ..symbols import All
from .base import Layer, PortMismatch, Types
from .embedding import _integer_input
from .levels import UNTIED_LENGTH, _is_int


def _integers(t: PortType, port: str) -> PortType:
    """``t`` as integers; a real-valued port type is refused."""
    if t.kind == "Real":
        raise PortMismatch(port, "integers", t.describe())
    return PortType(t.dims, "Integer", t.bound)


def _integer_port(head: str, port: str, spec: Any) -> PortType:
    """A port that holds integers: ``Input=3`` means a vector of 3 integers, as in WL (an
    explicit "Real" stays real, for inference to refuse)."""
    return _integer_input(head, spec, port)


class UnitVectorLayer(Layer):
    """UnitVectorLayer(n): the integer i (1..n) as the length-n unit vector with a 1 at i.

    ``UnitVectorLayer()`` takes n from the input's bound (``Input=Restricted("Integer", n)``).
    An array of integers gives an array of unit vectors (one more level, of size n); an
    integer outside 1..n gives a vector of zeros.

    >>> UnitVectorLayer(3)(2)
    array([0., 1., 0.], dtype=float32)
    """

    time = "pointwise"  # each integer alone

    def __init__(self, n: int | None = None, **opts: Any) -> None:
        params = {"n": n}
        if opts.get("Input") is not None:
            opts["Input"] = _integer_port("UnitVectorLayer", "Input", opts["Input"])
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        n = params["n"]
        if n is not None and (not _is_int(n) or n < 1):
            raise LayerError("UnitVectorLayer", f"expected the vector size n to be a positive "
                             f"integer, but received {n!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = _integers(ins.get("Input", PortType()), "Input"), outs.get("Output", PortType())
        n = self.params["n"] or (x.bound[1] if x.bound is not None else None)
        if y.dims is not None:
            if not y.dims:
                raise PortMismatch("Output", "an array of unit vectors", y.describe())
            try:
                n = unify_dim(n, y.dims[-1])
            except UnifyError:
                raise PortMismatch("Output", f"an array of vectors of size {n}",
                                   y.describe()) from None
        xdims = x.dims if x.dims is not None else (None if y.dims is None else y.dims[:-1])
        out = PortType(None if xdims is None else (*xdims, n), "Real")
        return {"Input": PortType(xdims, "Integer", x.bound)}, {"Output": out}

    def size(self) -> int:
        y = self.out_types["Output"].dims
        return int(y[-1])  # type: ignore[index, arg-type]

    def _param_repr(self) -> str:
        return "" if self.params["n"] is None else str(self.params["n"])


class SequenceIndicesLayer(Layer):
    """SequenceIndicesLayer(): the positions 1, 2, ..., n of the n elements of a sequence.

    ``SequenceIndicesLayer(Maximum=m)`` caps them at m (``min(m, i)``), as for a table of m
    position embeddings. The input is any array of rank at least 1 (usually a sequence).

    >>> SequenceIndicesLayer(Maximum=3)([[0.0], [0.0], [0.0], [0.0], [0.0]])
    array([1, 2, 3, 3, 3])
    """

    time = "pointwise"  # step t gives min(t, max), padding or not

    options = ("Maximum",)

    def __init__(self, **opts: Any) -> None:
        params = {"maximum": opts.pop("Maximum", math.inf)}
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        m = params["maximum"]
        if m != math.inf and (not _is_int(m) or m < 1):
            raise LayerError("SequenceIndicesLayer", f'expected "Maximum" to be a positive '
                             f"integer or math.inf, but received {m!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        if x.dims is not None and not x.dims:
            raise PortMismatch("Input", "a sequence or an array of rank at least 1",
                               x.describe())
        if y.dims is not None and len(y.dims) != 1:
            raise PortMismatch("Output", "a vector of integers", y.describe())
        n = x.dims[0] if x.dims else (y.dims[0] if y.dims else None)
        m = self.params["maximum"]
        top = min(m, n) if _is_int(n) else (m if m != math.inf else None)
        xin = PortType(None if x.dims is None else (n, *x.dims[1:]), x.kind, x.bound)
        return {"Input": xin}, {"Output": PortType((n,), "Integer",
                                                   None if top is None else (1, int(top)))}

    def _param_repr(self) -> str:
        m = self.params["maximum"]
        return "" if m == math.inf else f"Maximum={m}"


class OrderingLayer(Layer):
    """OrderingLayer(n): the positions (1-based) that would sort the input vector, as Ordering.

    ``OrderingLayer()`` (or ``OrderingLayer(All)``) gives the whole ordering, ``OrderingLayer(n)``
    the positions of the n smallest elements and ``OrderingLayer(-n)`` those of the n largest
    (in increasing order of their values, as ``Ordering(list, -n)``). Ties keep their order.

    >>> OrderingLayer()([3.0, 1.0, 2.0])
    array([2, 3, 1])
    """

    time = "whole"  # sorts the whole vector

    def __init__(self, n: Any = All, **opts: Any) -> None:
        params = {"n": n}
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        n = params["n"]
        if n is not All and (not _is_int(n) or n == 0):
            raise LayerError("OrderingLayer", f"expected All or a nonzero integer n, but "
                             f"received {n!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        if x.kind == "Integer":
            x = PortType(x.dims, "Real")  # compared as numbers
        if x.dims is not None and len(x.dims) != 1:
            raise PortMismatch("Input", "a vector", x.describe())
        if y.dims is not None and len(y.dims) != 1:
            raise PortMismatch("Output", "a vector of integers", y.describe())
        n = self.params["n"]
        length = x.dims[0] if x.dims else None
        if _is_int(length) and n is not All and abs(n) > length:
            raise PortMismatch("Input", f"a vector of at least {abs(n)} elements",
                               x.describe())
        count = length if n is All else abs(n)
        bound = (1, length) if _is_int(length) else None
        xdims = (length if length is not None else (y.dims[0] if n is All and y.dims else None),)
        return ({"Input": PortType(xdims, "Real")},
                {"Output": PortType((count,), "Integer", bound)})

    def _param_repr(self) -> str:
        return "" if self.params["n"] is All else str(self.params["n"])


class ExtractLayer(Layer):
    """ExtractLayer(): the parts of "Input" at the positions given on the "Position" port.

    As WL's Extract: a position is a vector of s 1-based indices (negative ones count from
    the end) into the first s levels of the input; an array of positions (dimensions
    m1 x ... x mp x s) gives an array of parts (m1 x ... x mp x the remaining levels).
    ``Position="Integer"`` takes one index into level 1. Indices out of range wrap around.

    >>> ExtractLayer(Input=(3, 2), Position=(2, 1))({"Input": [[1, 2], [3, 4], [5, 6]],
    ...                                              "Position": [[3], [-3]]})
    array([[5., 6.],
           [1., 2.]], dtype=float32)
    """

    time = "whole"  # positions index the whole input

    inputs = ("Input", "Position")

    def __init__(self, **opts: Any) -> None:
        if opts.get("Position") is not None:
            opts["Position"] = _integer_port("ExtractLayer", "Position", opts["Position"])
        self._init({}, opts)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, p = ins.get("Input", PortType()), _integers(ins.get("Position", PortType()),
                                                     "Position")
        y = outs.get("Output", PortType())
        if x.dims is not None and not x.dims:
            raise PortMismatch("Input", "an array of rank at least 1", x.describe())
        if p.dims is None or x.dims is None:
            return {"Input": PortType(x.dims, "Real"), "Position": p}, {"Output": PortType(
                None, "Real")}
        s = p.dims[-1] if p.dims else 1
        if not _is_int(s):
            raise PortMismatch("Position", "positions of a fixed length (the last dimension of "
                               '"Position" must not be "Varying")', p.describe())
        if s > len(x.dims):
            raise PortMismatch("Position", f"positions of at most {len(x.dims)} indices (the "
                               '"Input" rank)', p.describe())
        lead = p.dims[:-1] if p.dims else ()
        out = PortType((*lead, *x.dims[s:]), "Real")
        if y.dims is not None and len(y.dims) != len(out.dims or ()):
            raise PortMismatch("Output", out.describe(), y.describe())
        return {"Input": PortType(x.dims, "Real"), "Position": p}, {"Output": out}

    length_shift = UNTIED_LENGTH  # a sequence of parts follows "Position", not "Input"
