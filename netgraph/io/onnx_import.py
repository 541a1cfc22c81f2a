"""Import("model.onnx"): an ONNX model as a netgraph net of ordinary, trainable layers.

Each ONNX node becomes a netgraph layer (its initializers become the layer's arrays), so the
result is a NetGraph like any other: it evaluates, trains, nests inside NetGraph/NetChain,
exports. The ops converted are those netgraph's own ONNX export writes and the common ones
around them:

- ``Gemm`` (alpha = beta = 1, transA = 0; the weights and biases initializers) and
  ``MatMul`` by an initializer on a (batch, n) input -> LinearLayer (no C: zero biases);
- ``Conv`` -> ConvolutionLayer; ``ConvTranspose`` -> DeconvolutionLayer;
  ``MaxPool``/``AveragePool`` -> PoolingLayer (symmetric padding, no ceil mode);
- ``Relu``, ``Tanh``, ``Sigmoid``, ``Exp``, ``Log``, ``Abs``, ``Sqrt``, ``Sin``, ``Cos``,
  ``Erf``, ``Softplus``, ``Sign``, ``Elu`` (alpha 1), ``Selu`` -> ElementwiseLayer;
  ``Softmax`` on the last axis -> SoftmaxLayer; ``Gather`` of a constant table at indices
  ``i - 1`` (netgraph's export of EmbeddingLayer) -> EmbeddingLayer;
- ``Add``/``Sub``/``Mul``/``Div`` -> ThreadingLayer (a constant operand becomes a
  NetArrayLayer, so it trains too); ``Concat`` on axis 1 -> CatenateLayer;
- ``Flatten`` (axis 1) -> FlattenLayer; ``Reshape``/``Squeeze``/``Unsqueeze`` ->
  ReshapeLayer (the shapes from ONNX shape inference); ``Transpose`` (batch axis kept) ->
  TransposeLayer; ``Identity`` and ``Dropout`` pass their input through.

Any other op is refused with an error that lists every unsupported op type of the model;
``Import(path, "NetExternalObject")`` runs such a model, evaluation only, with onnxruntime
(:mod:`netgraph.io.external`). No converter package is used: onnx2torch needs torchvision,
which this project cannot install next to its pinned torch.

The file is treated as hostile, as .netgraph files are (:func:`read_model`): a size limit,
no external-data files (a model could name any path), only the default ONNX op domain,
onnx's checker, and every problem reported as a NetImportError naming the file.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import NetImportError

MAX_ONNX_BYTES = 2 * 2**30   # a module attribute: an application may raise it
HEAD = "Import"

ELEMENTWISE_OPS = {"Relu": "Ramp", "Tanh": "Tanh", "Sigmoid": "LogisticSigmoid", "Exp": "Exp",
                   "Log": "Log", "Abs": "Abs", "Sqrt": "Sqrt", "Sin": "Sin", "Cos": "Cos",
                   "Erf": "Erf", "Softplus": "SoftRamp", "Sign": "Sign", "Elu": "ELU",
                   "Selu": "SELU"}
THREADING_OPS = {"Add": "Plus", "Sub": "Subtract", "Mul": "Times", "Div": "Divide"}
RESHAPE_OPS = ("Reshape", "Squeeze", "Unsqueeze", "Flatten")
PASS_OPS = ("Identity", "Dropout")
SUPPORTED = (*ELEMENTWISE_OPS, *THREADING_OPS, *RESHAPE_OPS, *PASS_OPS, "Gemm", "MatMul",
             "Conv", "ConvTranspose", "MaxPool", "AveragePool", "Gather", "Softmax", "Concat",
             "Transpose", "Constant")


def _fail(path: str, message: str) -> NetImportError:
    return NetImportError(HEAD, f'cannot import "{path}": {message}')


def read_model(path: str) -> Any:
    """The checked ``onnx.ModelProto`` of a file (see the module docstring for the checks)."""
    try:
        import onnx
    except ImportError:
        raise _fail(path, "importing ONNX files needs the onnx package (pip install "
                    "onnx).") from None
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise _fail(path, f"the file cannot be read ({e.strerror}).") from None
    if size > MAX_ONNX_BYTES:
        raise _fail(path, f"the file has {size:,} bytes, more than the limit of "
                    f"{MAX_ONNX_BYTES:,} (netgraph.io.onnx_import.MAX_ONNX_BYTES).")
    with open(path, "rb") as f:
        data = f.read(MAX_ONNX_BYTES + 1)
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # noqa: BLE001 - protobuf's errors vary; the file is refused
        raise _fail(path, f"it is not an ONNX model ({type(e).__name__}).") from None
    _check_model(path, model)
    return model


def _check_model(path: str, model: Any) -> None:
    import onnx
    from onnx import TensorProto
    tensors = list(model.graph.initializer) + [
        a.t for n in model.graph.node for a in n.attribute if a.type == onnx.AttributeProto.TENSOR]
    if any(t.data_location == TensorProto.EXTERNAL for t in tensors):
        raise _fail(path, "it keeps tensors in external data files, which netgraph does not "
                    "read (a model file could name any file on this machine).")
    domains = sorted({n.domain for n in model.graph.node if n.domain not in ("", "ai.onnx")})
    if domains:
        raise _fail(path, f"it uses operators of the custom domains {', '.join(domains)}; "
                    "only the standard ONNX operators are supported.")
    try:
        onnx.checker.check_model(model)
    except Exception as e:  # noqa: BLE001 - the checker's ValidationError and friends
        raise _fail(path, f"the ONNX checker refuses it: {str(e).splitlines()[0][:300]}") \
            from None


def import_onnx(path: str) -> Any:
    """The net an ONNX file holds (see the module docstring)."""
    model = read_model(path)
    unsupported = sorted({n.op_type for n in model.graph.node if n.op_type not in SUPPORTED})
    if unsupported:
        raise _fail(path, f"it uses the ONNX operators {', '.join(unsupported)}, which netgraph "
                    "does not convert into layers; the operators converted are "
                    f"{', '.join(sorted(SUPPORTED))}. To evaluate the model as it is, use "
                    'Import(path, "NetExternalObject") (onnxruntime; no training).')
    from .onnx_convert import Converter
    try:
        return Converter(path, model).net()
    except NetImportError:
        raise
    except Exception as e:  # noqa: BLE001 - a malformed graph must not crash Import
        raise _fail(path, f"its graph cannot be converted ({type(e).__name__}: "
                    f"{str(e)[:300]}).") from None


def tensor(t: Any) -> np.ndarray:
    from onnx import numpy_helper
    return np.array(numpy_helper.to_array(t))
