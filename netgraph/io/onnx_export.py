"""Export("net.onnx", net): the lowered torch module through ``torch.onnx.export``.

Every graph port becomes an ONNX input or output of the same name, with a leading batch
dimension ("batch") and a free length for each "Varying" dimension. Recurrent state inputs
that netgraph lets the caller omit (zeros by default) are explicit ONNX inputs: feed zeros
for a fresh start, or the previous call's final states to continue a sequence.

torch's exporter based on ``torch.export`` is used when the ``onnxscript`` package is
installed, and its TorchScript-based exporter otherwise.
"""
from __future__ import annotations

import contextlib
import importlib.util
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from ..errors import NetExportError, NetGraphError
from ..graph.net import wrap
from ..layers.base import Layer
from ..shapes import VARYING, PortType

EXAMPLE_BATCH = 2
EXAMPLE_LENGTH = 3


class _Positional(nn.Module):
    """The graph module with positional inputs and a tuple of outputs, as ONNX wants."""

    def __init__(self, graph: nn.Module) -> None:
        super().__init__()
        self.net = graph
        self.outputs: tuple[str, ...] = tuple(graph.output_names)  # type: ignore[arg-type]

    def forward(self, *xs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.net(*xs)
        return tuple(out[p] for p in self.outputs)


def _example(t: PortType) -> torch.Tensor:
    # fixed_shape() marks each "Varying" dimension -1 (a known type has no other unknown size)
    shape = [EXAMPLE_BATCH] + [EXAMPLE_LENGTH if d == -1 else d for d in t.fixed_shape()]
    if t.kind == "Integer":
        lo = t.bound[0] if t.bound is not None else 1
        return torch.full(shape, lo, dtype=torch.int64)
    return torch.rand(shape, generator=torch.Generator().manual_seed(0))


def _varying_axes(t: PortType) -> list[int]:
    return [i + 1 for i, d in enumerate(t.dims or ()) if d is VARYING]


def use_dynamo() -> bool:
    """Whether torch's torch.export-based ONNX exporter is usable here (needs onnxscript)."""
    return importlib.util.find_spec("onnxscript") is not None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch's exporters warn and log about their own internals; nothing a user can act on."""
    log = logging.getLogger("torch.onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def export_onnx(path: str, net: Layer, *, opset: int | None = None,
                dynamo: bool | None = None) -> None:
    """Write ``net`` (initialized, every port shape known) to the ONNX file ``path``: the
    numeric net, whose coders are noted as metadata only (see :func:`_note_coders`)."""
    from ..backend.conv import set_channels_last
    from ..backend.lower import check_ready, lower
    g = wrap(net)
    if not g.is_initialized():
        raise NetExportError("Export", "the net is not initialized, and an ONNX file holds an "
                             "initialized net; use NetInitialize(net) first (a .netgraph file "
                             "can hold an uninitialized net).")
    try:
        check_ready(g, "Export")
    except NetGraphError as e:
        raise NetExportError("Export", e.message) from None
    names = [*g.params["inputs"], *g.params["outputs"]]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise NetExportError("Export", f'the net has an input and an output both named "{dup}"'
                             "; ONNX needs distinct names.")
    lowered = lower(g).eval()
    set_channels_last(lowered, False)   # ONNX has no memory layouts: none written
    module = _Positional(lowered)
    types = [g.in_types[p] for p in g.params["inputs"]]
    args = tuple(_example(t) for t in types)
    dynamo = use_dynamo() if dynamo is None else dynamo
    if not dynamo:
        _check_torchscript(module)
    with _quiet(), torch.no_grad():
        if dynamo:
            _export_dynamo(module, args, path, g, types, opset)
        else:
            _export_torchscript(module, args, path, g, types, opset)
    if g.coders:
        _note_coders(path, g)


def _note_coders(path: str, g: Any) -> None:
    """An ONNX file holds the numeric net only: its inputs are the encoded arrays and its
    outputs the raw arrays. The ports' coders are recorded as the metadata entry
    ``"netgraph.coders"`` (JSON; a "Function" coder by its type only), which ONNX runtimes
    ignore: data is encoded and decoded outside the model."""
    import json

    import onnx
    model = onnx.load(path)
    notes = {p: c.to_json() if c.kind != "Function" else {"Coder": c.side, "Type": "Function"}
             for p, c in g.coders.items()}
    entry = model.metadata_props.add()
    entry.key, entry.value = "netgraph.coders", json.dumps(notes)
    onnx.save(model, path)


def _check_torchscript(module: nn.Module) -> None:
    """Refuse layers whose modules the TorchScript-based exporter would write wrongly
    (``needs_torch_export``: FunctionLayer's torch.vmap bakes in the example batch size)."""
    heads = sorted({getattr(m, "head", type(m).__name__) for m in module.modules()
                    if getattr(m, "needs_torch_export", False)})
    if heads:
        raise NetExportError("Export", f"{', '.join(heads)} can be exported to ONNX only by "
                             "torch's torch.export-based exporter, which needs the onnxscript "
                             "package (pip install onnxscript).")


def _export_dynamo(module: nn.Module, args: tuple, path: str, g: Any,
                   types: list[PortType], opset: int | None) -> None:
    batch = torch.export.Dim("batch")
    shapes = tuple({0: batch, **{i: torch.export.Dim.AUTO for i in _varying_axes(t)}}
                   for t in types)
    program = torch.onnx.export(
        module, args, None, dynamo=True, input_names=list(g.params["inputs"]),
        output_names=list(g.params["outputs"]), dynamic_shapes=(shapes,) if shapes else None,
        opset_version=opset, verbose=False)
    assert program is not None  # dynamo=True always returns the program
    program.save(path)  # not via a renamed temp file: large models refer to "<name>.data"


def _export_torchscript(module: nn.Module, args: tuple, path: str, g: Any,
                        types: list[PortType], opset: int | None) -> None:
    axes: dict[str, dict[int, str]] = {}
    for p, t in zip(g.params["inputs"], types, strict=True):
        axes[p] = {0: "batch", **{i: f"{p}_length" for i in _varying_axes(t)}}
    for p in g.params["outputs"]:
        axes[p] = {0: "batch", **{i: f"{p}_length" for i in _varying_axes(g.out_types[p])}}
    torch.onnx.export(module, args, path, dynamo=False, input_names=list(g.params["inputs"]),
                      output_names=list(g.params["outputs"]), dynamic_axes=axes,
                      opset_version=opset or 17)
