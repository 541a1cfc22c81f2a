"""The torch side of TorchModuleLayer (see :mod:`netgraph.io.torch_layer`).

Importing this module registers the lowering of TorchModuleLayer; TorchModuleLayer's
constructor imports it, so every such layer can be lowered.
"""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..backend.base import LayerModule, lowers
from ..errors import LayerError, ShapeError
from ..shapes import VARYING, PortType
from .torch_layer import TorchModuleLayer


def check_module(module: Any) -> None:
    if not isinstance(module, nn.Module):
        raise LayerError("TorchModuleLayer", f"expected a torch.nn.Module, but received "
                         f"{type(module).__name__}.")


def copy_module(module: nn.Module) -> nn.Module:
    """A private copy (the layer is a value: later changes to ``module`` do not reach it)."""
    return copy.deepcopy(module)


def parameter_arrays(module: nn.Module) -> dict[str, np.ndarray]:
    return {k: p.detach().cpu().numpy().copy() for k, p in module.named_parameters()}


def probe_outputs(module: nn.Module, ins: tuple[str, ...], outs: tuple[str, ...],
                  declared: dict[str, PortType]) -> dict[str, PortType]:
    """Output types found by running a copy of the module on zeros (fixed inputs only)."""
    missing = [p for p in outs if p not in declared]
    types = [declared.get(p) for p in ins]
    fixed = [t for t in types if t is not None and t.is_known() and VARYING not in (t.dims or ())]
    if not missing or len(fixed) != len(types):
        return {}
    xs = [torch.zeros((1, *t.fixed_shape()),
                      dtype=torch.int64 if t.kind == "Integer" else torch.float32) for t in fixed]
    probe = copy.deepcopy(module).eval()
    try:
        with torch.no_grad():
            ys = as_outputs(probe(*xs), outs)
    except Exception as e:  # noqa: BLE001 - the user's module: report what it said
        raise ShapeError("TorchModuleLayer", f"running the module on inputs of the declared "
                         f"shapes failed ({type(e).__name__}: {e}); declare the output "
                         "shapes with Output=... or fix the input shapes.") from None
    return {p: PortType(tuple(y.shape[1:]), "Real" if y.is_floating_point() else "Integer")
            for p, y in zip(outs, ys, strict=True) if p in missing}


def as_outputs(out: Any, names: tuple[str, ...]) -> tuple[Tensor, ...]:
    """The module's result as a tuple in output-port order."""
    if isinstance(out, Tensor):
        out = (out,)
    elif isinstance(out, Mapping):
        out = tuple(out[n] for n in names)
    out = tuple(out)
    if len(out) != len(names) or not all(isinstance(t, Tensor) for t in out):
        raise TypeError(f"the module returned {len(out)} values for the {len(names)} output "
                        f"port(s) {', '.join(names)}")
    return out


class WrappedModule(LayerModule):
    """A TorchModuleLayer lowered: a copy of its module, the arrays as its parameters."""

    def __init__(self, layer: TorchModuleLayer) -> None:
        super().__init__()
        self.inner = copy.deepcopy(layer.params["module"])
        self.outputs = tuple(layer.params["outputs"])
        self.array_names = tuple(layer.params["shapes"])

    def set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        params = dict(self.inner.named_parameters())
        with torch.no_grad():
            for name in self.array_names:
                p = params[name]
                p.copy_(torch.tensor(np.asarray(arrays[name])).reshape(p.shape))

    def get_arrays(self) -> dict[str, np.ndarray]:
        return parameter_arrays(self.inner)

    def array_parameters(self) -> dict[str, list[nn.Parameter]]:
        return {k: [p] for k, p in self.inner.named_parameters()}

    def forward(self, *xs: Tensor) -> Any:
        out = as_outputs(self.inner(*xs), self.outputs)
        return out[0] if len(out) == 1 else out


lowers(TorchModuleLayer)(WrappedModule)
