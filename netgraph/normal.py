"""Normal: plain data out of netgraph values (tensors -> numpy, nets -> their layers)."""
from __future__ import annotations

from typing import Any


def Normal(x: Any) -> Any:
    """Normal(x): a tensor as a numpy array, a net as its list (or dict) of layers.

    >>> [layer.head for layer in Normal(NetChain([LinearLayer(2), Tanh]))]
    ['LinearLayer', 'ElementwiseLayer']
    """
    from .graph.net import Container
    if isinstance(x, Container):
        nodes = x.nodes
        return dict(nodes) if x.params.get("named") else list(nodes.values())
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        return x.detach().cpu().numpy()
    if isinstance(x, dict):
        return {k: Normal(v) for k, v in x.items()}
    if isinstance(x, list):
        return [Normal(v) for v in x]
    return x
