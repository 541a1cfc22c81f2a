"""Net surgery: NetExtract (and, below, the edits that return new nets)."""
from __future__ import annotations

from typing import Any

from ..errors import ConnectionError_
from ..layers.base import Layer
from ..symbols import All


def _child(head: str, net: Layer, key: Any) -> Layer:
    from .net import Container
    if isinstance(net, Container):
        k = str(key)
        if k not in net.nodes:
            names = ", ".join(net.nodes)
            raise ConnectionError_(head, f"no layer {key!r} in the {net.head}; the layers are "
                                   f"{names}.")
        return net.nodes[k]
    inner = getattr(net, "inner_nets", None)
    if inner is not None and str(key) in inner():
        return inner()[str(key)]
    raise ConnectionError_(head, f"{net.head} has no layer or array {key!r}.")


def NetExtract(net: Layer, spec: Any) -> Any:
    """NetExtract(net, layer) gives a layer; NetExtract(net, (layer, ..., "Array")) an array.

    ``NetExtract(net, All)`` gives every array by position; a list of specs gives a list.
    Uninitialized arrays come back as ``Automatic``.
    """
    from ..symbols import Automatic
    if spec is All:
        from ..info import Information
        return Information(net, "Arrays")
    if isinstance(spec, list):
        return [NetExtract(net, s) for s in spec]
    path = spec if isinstance(spec, tuple) else (spec,)
    cur: Any = net
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(cur, Layer) and isinstance(part, str) and part in cur.arrays:
            if not last:
                raise ConnectionError_("NetExtract", f"{part!r} is an array; nothing can be "
                                       "extracted from inside it.")
            a = cur.arrays[part]
            return Automatic if a is None else a
        cur = _child("NetExtract", cur, part)
    return cur
