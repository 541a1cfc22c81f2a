"""Shorthand layer specs in layer lists: n -> LinearLayer(n), Tanh -> ElementwiseLayer(Tanh), ..."""
from __future__ import annotations

from typing import Any

from ..errors import ConnectionError_, LayerError, NetGraphError
from ..layers.base import Layer
from ..symbols import ELEMENTWISE, THREADING, Symbol


def to_layer(head: str, spec: Any, key: str, allow_threading: bool = True) -> Layer:
    from ..layers.basic import ElementwiseLayer, LinearLayer, ThreadingLayer
    if isinstance(spec, Layer):
        return spec
    label = key if key.isdigit() else f'"{key}"'
    if isinstance(spec, int) and not isinstance(spec, bool):
        try:
            return LinearLayer(spec)
        except NetGraphError as e:  # say which layer of the list the size belongs to
            raise LayerError(head, f"layer {label} ({spec}) is not a valid size: expected a "
                             f"positive integer, but received {spec}.") from e
    if isinstance(spec, Symbol) and spec in ELEMENTWISE:
        return ElementwiseLayer(spec)
    if isinstance(spec, Symbol) and spec in THREADING and allow_threading:
        return ThreadingLayer(spec)
    if isinstance(spec, (list, dict)):
        from .net import NetChain
        return NetChain(spec)
    hint, shown = "", repr(spec)
    if isinstance(spec, type) and issubclass(spec, Layer):
        hint, shown = f" (the class itself: call it, as in {spec.__name__}(...))", spec.__name__
    elif isinstance(spec, Symbol) and spec in THREADING:
        hint = f" ({spec} combines several inputs, which a NetChain cannot give; use a NetGraph)"
    raise ConnectionError_(head, f"layer {label} is not a layer: received {shown}{hint}; "
                           "expected a layer such as LinearLayer(3), a size, an elementwise "
                           "function such as Tanh, or a list of layers.")
