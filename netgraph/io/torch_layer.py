"""Plain PyTorch in and out: ToTorchModule(net) and TorchModuleLayer(module).

``ToTorchModule(net)`` hands back the ``torch.nn.Module`` a net compiles to: a fresh copy
each call, sharing no parameters with the net (nets are values), usable with
``torch.compile``, ``torch.export``, ``torch.jit.trace`` and ordinary training loops.

``TorchModuleLayer(module, ...)`` goes the other way (WL's FunctionLayer role): any
``nn.Module`` becomes a layer with named, declared ports, whose parameters are the layer's
arrays. It lowers to a copy of the module. It holds code, so Export to .netgraph refuses it
(a file never holds code); Export to ONNX works when torch can export the module.

This module imports no torch until one of them is used (``from netgraph import *`` stays
light); the torch side is :mod:`netgraph.io.torch_interop`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import LayerError, OptionError, check_options
from ..layers.base import ArraySpec, Layer, Types
from ..shapes import parse


def ToTorchModule(net: Layer, **options: Any) -> Any:
    """ToTorchModule(net) gives a plain torch.nn.Module that computes net.

    ``module(**{port: tensor})`` (or positional tensors in input-port order) takes batches
    (a leading batch dimension) and returns ``{output port: tensor}``; omitted recurrent
    state inputs default to zeros. The module is in eval mode, as ``net(x)`` evaluates; call
    ``.train()`` before training it. It is a fresh copy: training it never changes ``net``.
    ``module.input_names``/``module.output_names`` list the ports. Options:
    ``WorkingPrecision`` ("Real32", "Real64"), ``TargetDevice`` ("CPU", "GPU").

    >>> import torch
    >>> m = ToTorchModule(NetInitialize(LinearLayer(2, Input=3)))
    >>> m(Input=torch.ones(5, 3))["Output"].shape
    torch.Size([5, 2])
    """
    check_options("ToTorchModule", options, ("WorkingPrecision", "TargetDevice"))
    if not isinstance(net, Layer):
        raise OptionError("ToTorchModule", f"expected a net or a layer, but received "
                          f"{type(net).__name__}.")
    from ..backend.lower import lower
    from ..runtime.evaluate import device_of, dtype_of
    dtype = dtype_of("ToTorchModule", options.get("WorkingPrecision"))
    device = device_of("ToTorchModule", options.get("TargetDevice", "CPU"))
    return lower(net, dtype, device).eval()


def _port_list(head: str, given: Any, default: str, shapes: dict[str, Any]) -> tuple[str, ...]:
    """Port names from a list of names or a dict {name: shape} (shapes go into ``shapes``)."""
    if given is None:
        return (default,)
    if isinstance(given, str):
        given = [given]
    if isinstance(given, Mapping):
        for name, shape in given.items():
            _add_shape(head, shapes, name, shape)
        given = list(given)
    if not isinstance(given, (list, tuple)) or not given or not all(
            isinstance(n, str) and n for n in given) or len(set(given)) != len(given):
        raise LayerError(head, f"expected port names as a list of distinct strings or a dict "
                         f"{{name: shape}}, but received {given!r}.")
    return tuple(given)


def _add_shape(head: str, shapes: dict[str, Any], name: str, shape: Any) -> None:
    if name in shapes:
        raise LayerError(head, f'the shape of port "{name}" is given twice.')
    shapes[name] = shape


class TorchModuleLayer(Layer):
    """TorchModuleLayer(module, Input=shape, Output=shape): a torch.nn.Module as a layer.

    ``TorchModuleLayer(module, inputs, outputs, **shapes)`` names several ports: ``inputs``
    and ``outputs`` are lists of port names (shapes as keyword options) or dicts
    ``{name: shape}``. The module's ``forward`` receives the inputs positionally, in order,
    each with a leading batch dimension, and returns a tensor (one output), a tuple in output
    order, or a dict by output name. Output shapes that are not given are found by running a
    copy of the module once, when the input shapes are fixed. The module's parameters are
    the layer's arrays, named as ``module.named_parameters()`` names them; its buffers stay
    as they are. The module is copied: changing it later does not change the layer.
    A net holding one cannot be exported to a .netgraph file (files hold no code); ONNX works.

    >>> import torch
    >>> layer = TorchModuleLayer(torch.nn.Linear(3, 2), Input=3)
    >>> Information(layer, "OutputPorts"), sorted(layer.arrays)
    ({'Output': 2}, ['bias', 'weight'])
    """

    time = "whole"  # the module may mix time steps

    def __init__(self, module: Any, inputs: Any = None, outputs: Any = None,
                 **ports: Any) -> None:
        from . import torch_interop as ti
        head = "TorchModuleLayer"
        ti.check_module(module)
        shapes: dict[str, Any] = {}
        ins = _port_list(head, inputs, "Input", shapes)
        outs = _port_list(head, outputs, "Output", shapes)
        if set(ins) & set(outs):
            raise LayerError(head, f'"{sorted(set(ins) & set(outs))[0]}" cannot be both an '
                             "input and an output port.")
        for name, shape in ports.items():
            _add_shape(head, shapes, name, shape)
        check_options(head, shapes, ins + outs)
        module = ti.copy_module(module)
        declared = {p: parse(s, head, f'port "{p}"') for p, s in shapes.items()}
        declared.update(ti.probe_outputs(module, ins, outs, declared))
        arrays = ti.parameter_arrays(module)
        self._init({"module": module, "inputs": ins, "outputs": outs, "declared": declared,
                    "shapes": {k: a.shape for k, a in arrays.items()}}, {}, arrays)

    @classmethod
    def input_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(params["inputs"])

    @classmethod
    def output_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(params["outputs"])

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        d = self.params["declared"]
        return ({p: d[p] for p in self.input_ports() if p in d},
                {p: d[p] for p in self.output_ports() if p in d})

    def array_specs(self) -> dict[str, ArraySpec]:
        specs = {}
        for name, shape in self.params["shapes"].items():
            if len(shape) >= 2:
                specs[name] = ArraySpec(shape, "weights", int(np.prod(shape[1:])), shape[0])
            else:
                specs[name] = ArraySpec(shape, "biases")
        return specs

    def _param_repr(self) -> str:
        return type(self.params["module"]).__name__
