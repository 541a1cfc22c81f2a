"""Normal: plain data out of netgraph values (tensors -> numpy, nets -> their parts)."""
from __future__ import annotations

from typing import Any

from .symbols import All


def Normal(x: Any) -> Any:
    """Normal(x): a tensor as a numpy array, a net as its list (or dict) of layers.

    As in WL, ``Normal(net)`` is ``NetExtract(net, All)``: a container gives its layers (a
    list, or a dict when they are named), a layer a dict of its ports, parameters and arrays.
    Dicts and lists are converted element by element; anything else comes back unchanged.

    >>> [layer.head for layer in Normal(NetChain([LinearLayer(2), Tanh]))]
    ['LinearLayer', 'ElementwiseLayer']
    >>> Normal(LinearLayer(2, Input=3))["Weights"]
    Automatic
    """
    from .graph.extract import NetExtract
    from .layers.base import Layer
    if isinstance(x, Layer):
        return NetExtract(x, All)
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        return x.detach().cpu().numpy()
    if isinstance(x, dict):
        return {k: Normal(v) for k, v in x.items()}
    if isinstance(x, list):
        return [Normal(v) for v in x]
    return x

