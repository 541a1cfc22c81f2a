"""The torch module every layer lowers to, and the registry from layer classes to builders."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from ..layers.base import Layer

Builder = Callable[[Layer], "LayerModule"]
# A builder may take a narrower layer class than Layer (a module class taking its own layer).
B = TypeVar("B", bound=Callable[[Any], "LayerModule"])
_REGISTRY: dict[type, Builder] = {}


def lowers(*classes: type) -> Callable[[B], B]:
    """Register the decorated function as the builder of torch modules for ``classes``."""
    def deco(fn: B) -> B:
        for c in classes:
            _REGISTRY[c] = fn
        return fn
    return deco


def builder_for(layer: Layer) -> Builder:
    """The builder for a layer's class; ``netgraph.layers.X`` lowers in ``netgraph.backend.X``."""
    import importlib
    if type(layer) not in _REGISTRY:
        for cls in type(layer).__mro__:
            mod = cls.__module__
            if mod.startswith("netgraph.layers."):
                importlib.import_module("netgraph.backend." + mod.rsplit(".", 1)[1])
    for cls in type(layer).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls]
    from ..errors import EvaluationError
    raise EvaluationError(layer.head, f"{layer.head} has no torch implementation yet.")


class LayerModule(nn.Module):
    """A layer's torch module.

    ``forward`` takes the layer's input ports in order (``None`` for an unconnected optional
    state) and returns a tensor for one output port, else a tuple in output-port order.
    Learned arrays are parameters named as WL names them unless a subclass maps them
    (:meth:`set_arrays`/:meth:`get_arrays`).
    """

    array_names: tuple[str, ...] = ()

    def set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        with torch.no_grad():
            for name in self.array_names:
                p = getattr(self, name)
                p.copy_(torch.tensor(np.asarray(arrays[name])).reshape(p.shape))

    def get_arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name).detach().cpu().numpy().copy()
                for name in self.array_names}

    def inline(self, ref: str, args: list[str]) -> str | None:
        """A Python expression computing this layer's output, for the generated forward.

        ``ref`` is the expression naming this module and ``args`` the input expressions; the
        expression may use ``torch`` and ``F`` (torch.nn.functional). ``None`` (the default)
        means "call the module". Inlining spares nn.Module call overhead on small layers.
        """
        return None

    def array_parameters(self) -> dict[str, list[nn.Parameter]]:
        """The torch parameters behind each WL array (for learning-rate multipliers)."""
        return {name: [getattr(self, name)] for name in self.array_names}


def parameter(shape: tuple[int, ...] | None) -> nn.Parameter:
    return nn.Parameter(torch.zeros(shape or ()))


def call_fn(f: Any) -> Any:
    return f
