"""Reading learned arrays back from a lowered module into a new net value.

Training changes the parameters of a torch module; the user's net never changes. This module
closes the loop: :func:`arrays_from_module` walks the net and the module in step and gives a
new net whose arrays are copies of the module's current parameters.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import TrainingError
from ..graph.net import Container
from ..graph.walk import has_children, map_children
from ..layers.base import Layer


def arrays_from_module(net: Layer, module: Any) -> Layer:
    """A new net like ``net`` whose arrays are read from ``module``, a lowering of ``net``.

    A container's children live in ``module.layers[key]`` (a ``GraphModule``); a leaf's
    module is a ``LayerModule`` with ``get_arrays()``. A leaf layer whose module is a wrapped
    one-layer graph (what ``lower`` makes of a standalone layer) is read from its only child.
    A leaf that holds nets of its own (an operator with ``inner_nets``/``map_inner``) is read
    through ``module.read_net(layer)`` when its module defines it, else through
    ``module.inner[key]`` (an operator module) or ``module.layers[key]`` for each inner net.

    >>> from netgraph.backend.lower import lower
    >>> from netgraph.backend.sync import arrays_from_module
    >>> net = NetInitialize(LinearLayer(2, Input=3))
    >>> m = lower(net)
    >>> _ = m.layers["1"].Weights.data.zero_()
    >>> float(abs(NetExtract(arrays_from_module(net, m), "Weights")).sum())
    0.0
    """
    if isinstance(net, Container):
        layers = getattr(module, "layers", None)
        if layers is None:
            raise TrainingError(net.head, "the module does not match the net: expected a "
                                f"lowered graph, but received {type(module).__name__}.")
        nodes = {k: arrays_from_module(layer, layers[k.replace(".", "_")])
                 for k, layer in net.nodes.items()}
        return net.with_nodes(nodes)
    if not hasattr(module, "get_arrays") and hasattr(module, "layers") and "1" in module.layers:
        module = module.layers["1"]  # a standalone layer lowered as a one-layer graph
    reader = getattr(module, "read_net", None)
    if reader is not None:
        return reader(net)  # type: ignore[no-any-return]
    subs = getattr(module, "inner", None) or getattr(module, "layers", None)  # operator, graph
    if has_children(net) and subs is not None:
        net = map_children(net, lambda k, sub: arrays_from_module(sub, subs[k]))
    if not net.arrays:
        return net
    read = module.get_arrays()  # type: ignore[operator]
    return net._replace(arrays={k: _frozen(read[k], old) for k, old in net.arrays.items()})


def _frozen(a: Any, old: np.ndarray | None) -> np.ndarray:
    """A read-only copy in the dtype the net held (Real32 unless the net said otherwise)."""
    dtype = old.dtype if old is not None else np.float32
    arr = np.array(a, dtype=dtype, copy=True)
    if old is not None and arr.shape != old.shape:
        arr = arr.reshape(old.shape)
    arr.flags.writeable = False
    return arr
