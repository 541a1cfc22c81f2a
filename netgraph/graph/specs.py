"""Shorthand layer specs in layer lists: n -> LinearLayer(n), Tanh -> ElementwiseLayer(Tanh), ..."""
from __future__ import annotations

from typing import Any

from ..errors import ConnectionError_
from ..layers.base import Layer
from ..symbols import ELEMENTWISE, THREADING, Symbol


def to_layer(head: str, spec: Any, key: str, allow_threading: bool = True) -> Layer:
    from ..layers.basic import ElementwiseLayer, LinearLayer, ThreadingLayer
    if isinstance(spec, Layer):
        return spec
    if isinstance(spec, int) and not isinstance(spec, bool):
        return LinearLayer(spec)
    if isinstance(spec, Symbol) and spec in ELEMENTWISE:
        return ElementwiseLayer(spec)
    if isinstance(spec, Symbol) and spec in THREADING and allow_threading:
        return ThreadingLayer(spec)
    if isinstance(spec, (list, dict)):
        from .net import NetChain
        return NetChain(spec)
    label = key if key.isdigit() else f'"{key}"'
    raise ConnectionError_(head, f"layer {label} is not a layer: received {spec!r}; expected a "
                           "layer such as LinearLayer(3), a size, an elementwise function such "
                           "as Tanh, or a list of layers.")
