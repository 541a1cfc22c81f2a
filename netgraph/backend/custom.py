"""Torch side of FunctionLayer (its shaper, run on the "meta" device, and its module) and of
PlaceholderLayer (which refuses to lower)."""
from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..errors import EvaluationError, LayerError
from ..layers import custom as C
from ..shapes import VARYING, Dim, PortType
from .base import LayerModule, lowers

# Lengths a "Varying" dimension takes in the trial runs: an output dimension that follows
# them is "Varying" too.
TRIAL_LENGTHS = (5, 7)


def _trial(f: Any, names: tuple[str, ...], types: tuple[PortType, ...], length: int) -> dict:
    args = []
    for t in types:
        shape = [2] + [length if d is VARYING else int(d) for d in t.dims or ()]  # type: ignore
        dtype = torch.int64 if t.kind == "Integer" else torch.float32
        args.append(torch.empty(shape, dtype=dtype, device="meta"))   # (batch 2, ...)
    try:
        out = torch.vmap(f)(*args)
    except Exception as e:  # noqa: BLE001 - the user's function: report why it cannot run
        shown = ", ".join(f"{n}: {t.describe()}" for n, t in zip(names, types, strict=True))
        raise LayerError("FunctionLayer", f"the function cannot be traced on inputs ({shown}): "
                         f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                         ) from None
    if isinstance(out, Tensor):
        out = {"Output": out}
    if not (isinstance(out, dict) and out and all(
            isinstance(k, str) and isinstance(v, Tensor) for k, v in out.items())):
        raise LayerError("FunctionLayer", f"expected the function to return a tensor or a dict "
                         f"of tensors with string keys, but it returned {type(out).__name__}.")
    return out


def shape_function(f: Any, names: tuple[str, ...], types: tuple[PortType, ...]
                   ) -> dict[str, PortType]:
    """The output ports of ``f`` on examples of ``types``, by running it on meta tensors."""
    varying = any(d is VARYING for t in types for d in t.dims or ())
    runs = [_trial(f, names, types, n) for n in (TRIAL_LENGTHS if varying else (1,))]
    found = {}
    for k, t in runs[0].items():
        shapes = [tuple(r[k].shape[1:]) for r in runs]
        dims: list[Dim] = []
        for i, d in enumerate(shapes[0]):
            ds = [s[i] if i < len(s) else None for s in shapes]
            if len(set(ds)) == 1:
                dims.append(int(d))
            elif tuple(ds) == TRIAL_LENGTHS:
                dims.append(VARYING)
            else:
                raise LayerError("FunctionLayer", f'the size of output "{k}" depends on the '
                                 "sequence length in a way a port type cannot express.")
        if len({len(s) for s in shapes}) != 1:
            raise LayerError("FunctionLayer", f'the rank of output "{k}" depends on the '
                             "sequence length.")
        kind = "Real" if t.dtype.is_floating_point else "Integer"
        if t.dtype.is_complex:
            raise LayerError("FunctionLayer", f'output "{k}" is complex; ports hold real '
                             "numbers or integers.")
        found[k] = PortType(tuple(dims), kind)
    return found


class FunctionModule(LayerModule):
    head = "FunctionLayer"
    needs_torch_export = True   # ONNX: torch.vmap needs the torch.export-based exporter

    def __init__(self, layer: C.FunctionLayer) -> None:
        super().__init__()
        self.f = layer.params["function"]
        self.outputs = tuple(layer.output_ports())
        self.integer = tuple(layer.out_types[p].kind == "Integer" for p in self.outputs)

    def forward(self, *xs: Tensor) -> Any:
        y = torch.vmap(self.f)(*xs)                               # f per example, batch mapped
        ys = [y[k] for k in self.outputs] if isinstance(y, dict) else [y]
        ys = [t.long() if i and t.dtype != torch.int64 else t
              for t, i in zip(ys, self.integer, strict=True)]
        return ys[0] if len(ys) == 1 else tuple(ys)


def _placeholder(layer: C.PlaceholderLayer) -> LayerModule:
    raise EvaluationError(layer.describe(), "a placeholder declares ports but computes nothing, "
                          "so it cannot be evaluated or trained; replace it with real layers "
                          "(NetReplacePart).")


lowers(C.FunctionLayer)(FunctionModule)
lowers(C.PlaceholderLayer)(_placeholder)
