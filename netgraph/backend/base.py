"""The torch module every layer lowers to, and the registry from layer classes to builders.

A head's backend is a :class:`LayerModule` subclass registered for its layer class with the
:func:`lowers` decorator, in a module of ``netgraph/backend/``; ``netgraph/backend/families.py``
imports every such module, so that lowering finds every head (a module outside the package,
as ``netgraph.io.torch_interop`` or a user's extension, registers when it is imported)::

    @lowers(MyLayer)
    class MyModule(LayerModule):
        def __init__(self, layer: MyLayer) -> None:
            super().__init__()
        def forward(self, x):               # (batch, ...) -> (batch, ...)
            return 2 * x
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from ..errors import EvaluationError
from ..layers.base import Layer, fact_problems

Builder = Callable[[Layer], "LayerModule"]
# A builder may take a narrower layer class than Layer (a module class taking its own layer).
B = TypeVar("B", bound=Callable[[Any], "LayerModule"])
_REGISTRY: dict[type, Builder] = {}


def lowers(*classes: type) -> Callable[[B], B]:
    """Register the decorated class (or function) as the builder of torch modules for
    ``classes``: called with a layer value, it returns the layer's :class:`LayerModule`."""
    def deco(fn: B) -> B:
        for c in classes:
            problems = fact_problems(c)
            if problems:  # a head lacking a fact fails here, never silently later
                raise TypeError(f"cannot register a torch module for {c.__name__}: "
                                + "; ".join(problems) + " (see netgraph.layers.base.Layer).")
            _REGISTRY[c] = fn
        return fn
    return deco


def builder_for(layer: Layer) -> Builder:
    """The builder registered (with :func:`lowers`) for a layer's class or its nearest base."""
    for cls in type(layer).__mro__:
        if cls in _REGISTRY:
            return _REGISTRY[cls]
    raise EvaluationError(layer.head, f"{layer.head} has no torch implementation yet.")


def registered() -> dict[type, Builder]:
    """Every layer class with a registered builder (a copy)."""
    return dict(_REGISTRY)


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

    def outputs_read(self, read: Mapping[str, bool]) -> None:
        """Told at lowering which output ports the generated code reads (``{port: bool}``);
        a module may then skip keeping an output nothing reads. The default ignores it."""

    def array_parameters(self) -> dict[str, list[nn.Parameter]]:
        """The torch parameters behind each WL array (for learning-rate multipliers)."""
        return {name: [getattr(self, name)] for name in self.array_names}


def parameter(shape: tuple[int, ...] | None) -> nn.Parameter:
    return nn.Parameter(torch.zeros(shape or ()))

