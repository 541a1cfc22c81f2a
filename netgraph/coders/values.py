"""NetEncoder and NetDecoder: the two public heads; each type registers under one of them."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import OptionError, nearest
from ..symbols import Symbol
from .base import Coder, CoderError, show

DEFAULT = Symbol("Default")  # the decoder's default property


class NetEncoder(Coder):
    """NetEncoder(spec) turns data (labels, images, text ...) into the arrays a net takes.

    ``spec`` is WL's ``{"type", param, ..., "opt" -> v}`` as a Python list (or tuple, or just
    the type name); options may also be keyword arguments. ``enc(x)`` encodes one example,
    ``enc([x1, x2])`` a list of them (a batch); :meth:`encode` always takes a list.

    >>> enc = NetEncoder(["Class", ["a", "b", "c"]])
    >>> enc("b")
    2
    >>> enc(["c", "a"]).tolist()
    [3, 1]
    >>> NetEncoder(["Class", ["a", "b"], "UnitVector"])("b").tolist()
    [0.0, 1.0]
    """

    side: ClassVar[str] = "NetEncoder"
    _types: ClassVar[dict[str, type[Coder]]] = {}

    def encode(self, items: Sequence[Any]) -> Any:
        """A list of examples -> one batch array (a list of arrays for variable lengths)."""
        if isinstance(items, (str, bytes)) or not hasattr(items, "__len__"):
            raise OptionError(self.side, f"encode expects a list of examples, but received "
                              f"{show(items)}.")
        return self._encode(list(items))

    def _encode(self, items: list[Any]) -> Any:
        raise NotImplementedError

    def is_batch(self, x: Any) -> bool:
        """Is ``x`` a list of examples (True) or one example (False)?"""
        return isinstance(x, (list, tuple))

    def __call__(self, x: Any) -> Any:
        if self.is_batch(x):
            return self.encode(x)
        try:
            out = self._encode([x])
        except CoderError as e:
            raise CoderError(e.head, e.reason, label=e.label, suggestion=e.suggestion,
                             path=e.path) from None
        out = out[0]
        return out.item() if isinstance(out, np.ndarray | np.generic) and np.ndim(out) == 0 \
            else out

    def counterpart_params(self) -> dict[str, Any]:
        """The parameters of the matching decoder (WL's NetDecoder[encoder])."""
        raise OptionError("NetDecoder", f"there is no decoder for {self!r}.")


class NetDecoder(Coder):
    """NetDecoder(spec) turns a net's output arrays back into data (labels, text, images ...).

    ``dec(a)`` decodes one output array, ``dec([a1, a2])`` or a batch array a list of them;
    ``dec(a, prop)`` computes a property (``"Probabilities"``, ``("TopDecisions", 2)`` ...),
    ``dec(a, None)`` gives ``a`` itself and ``dec(a, "Properties")`` the property names.

    >>> dec = NetDecoder(["Class", ["a", "b", "c"]])
    >>> dec([0.2, 0.7, 0.1])
    'b'
    >>> dec([0.2, 0.7, 0.1], ("TopDecisions", 2))
    ['b', 'a']
    """

    side: ClassVar[str] = "NetDecoder"
    _types: ClassVar[dict[str, type[Coder]]] = {}
    #: the loss NetTrain attaches for this decoder: "CrossEntropy", "BinaryCrossEntropy",
    #: "MeanSquared", or None (the loss follows the layer feeding the output, as WL)
    loss_hint: ClassVar[str | None] = None
    #: property names, the default first; a (name, n) form is listed by its name
    PROPERTIES: ClassVar[tuple[str, ...]] = ()

    @property
    def properties(self) -> list[str]:
        return list(self.PROPERTIES)

    @property
    def depth(self) -> int | None:
        """The rank of one decoder input (None when it may vary)."""
        return self.port_type.rank

    def decode(self, batch: Any, prop: Any = None) -> list[Any]:
        """A batch array (or a list of example arrays) -> a list of decoded values.

        ``prop`` None is the default property.
        """
        name, arg = self.parse_property(prop)
        return self._decode(batch, name, arg)

    def _decode(self, batch: Any, name: str, arg: Any) -> list[Any]:
        raise NotImplementedError

    def parse_property(self, prop: Any) -> tuple[str, Any]:
        """(name, argument) of a property spec: "Decision", ("TopDecisions", 2), ..."""
        if prop is None or prop is DEFAULT:
            return (self.PROPERTIES[0] if self.PROPERTIES else ""), None
        name, arg = prop, None
        if isinstance(prop, (tuple, list)) and len(prop) == 2 and isinstance(prop[0], str):
            name, arg = prop
        if not isinstance(name, str) or name not in self.PROPERTIES:
            valid = ", ".join(show(p) for p in self.PROPERTIES)
            raise OptionError(self.side, f'"{self.kind}" decoders have no property '
                              f"{show(prop)}.{nearest(str(name), self.PROPERTIES)} They "
                              f"support: {valid or 'None (no decoding) only'}.")
        return name, self._check_property(name, arg)

    def _check_property(self, name: str, arg: Any) -> Any:
        if arg is not None:
            raise OptionError(self.side, f'"{self.kind}" decoder property "{name}" takes no '
                              f"argument, but received {show(arg)}.")
        return arg

    def __call__(self, x: Any, prop: Any = DEFAULT) -> Any:
        if prop is None:
            return x  # WL's None property: no decoding
        if isinstance(prop, str) and prop == "Properties":
            return self.properties
        name, arg = self.parse_property(prop)
        batch, batched = self.as_batch(x)
        out = self._decode(batch, name, arg)
        return out if batched else out[0]

    def as_batch(self, x: Any) -> tuple[Any, bool]:
        """(batch, was it a batch?) by WL's rule: rank = depth is one input, depth + 1 a batch."""
        if isinstance(x, (list, tuple)) and x and all(isinstance(a, np.ndarray) for a in x) \
                and len({a.shape for a in x}) > 1:
            return list(x), True  # a ragged list of arrays: a batch of variable lengths
        arr = self.numeric(x)
        depth = self.depth
        if arr.ndim == depth:
            return arr[None], False
        if arr.ndim == (depth or 0) + 1:
            return arr, True
        raise CoderError(self.side, f"input to {self!r} is not {self.port_type.describe()} or "
                         f"a batch of these; received an array of dimensions "
                         f"{list(arr.shape)}.")

    def numeric(self, x: Any) -> np.ndarray:
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise CoderError(self.side, f"input to {self!r} should be a numeric array, but "
                             f"received {show(x)}.") from None
        return arr

    def encode_target(self, labels: Sequence[Any]) -> Any:
        """Training targets as data -> what the loss compares the output with."""
        return NetEncoder(self).encode(labels)

    def counterpart_params(self) -> dict[str, Any]:
        """The parameters of the matching encoder (WL's NetEncoder[decoder])."""
        raise OptionError("NetEncoder", f"there is no encoder for {self!r}.")

    def _extra_information(self) -> dict[str, Any]:
        return {"DecoderProperties": self.properties}
