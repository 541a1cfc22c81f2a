"""ONNX nodes -> netgraph layers, wired into one NetGraph (see io/onnx_import.py).

One method per op family; each returns the layer and the model tensors that feed its inputs
in port order (a constant operand of an arithmetic op becomes a NetArrayLayer node first).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import NetImportError
from ..layers.base import Layer
from ..ports import NetPort
from .onnx_import import ELEMENTWISE_OPS, PASS_OPS, THREADING_OPS, tensor


class Converter:
    def __init__(self, path: str, model: Any) -> None:
        import onnx
        self.path = path
        self.model = onnx.shape_inference.infer_shapes(model)
        g = self.model.graph
        self.consts = {t.name: tensor(t) for t in g.initializer}
        self.shapes = {v.name: _dims(v) for v in (*g.input, *g.value_info, *g.output)}
        self.inputs = [v for v in g.input if v.name not in self.consts]
        self.src: dict[str, Any] = {v.name: NetPort(v.name) for v in self.inputs}
        self.layers: dict[str, Layer] = {}
        self.links: list[tuple] = []
        self.taken = {v.name for v in (*self.inputs, *g.output)}
        self.integer = {v.name for v in (*g.input, *g.value_info, *g.output)
                        if v.type.tensor_type.elem_type in (6, 7)}   # INT32, INT64
        self.one_based: dict[str, str] = {}   # (i - 1) tensors -> i: an embedding's indices

    def fail(self, node: Any, message: str) -> NetImportError:
        return NetImportError("Import", f'cannot import "{self.path}": its {node.op_type} node '
                              f'"{node.name}" {message}')

    # -- the whole graph -------------------------------------------------------------------
    def net(self) -> Layer:
        from ..graph.net import NetGraph
        for i, node in enumerate(self.model.graph.node):
            self.node(node, i)
        for out in self.model.graph.output:
            s = self.src.get(out.name)
            if s is None or isinstance(s, NetPort):
                raise NetImportError("Import", f'cannot import "{self.path}": its output '
                                     f'"{out.name}" is not computed by any node.')
            self.links.append((s, NetPort(out.name)))
        ports = {v.name: self.port_shape(v.name) for v in self.inputs}
        return NetGraph(self.layers, self.links, **ports)

    def port_shape(self, name: str) -> Any:
        dims = self.shapes.get(name)
        if dims is None or len(dims) < 1:
            raise NetImportError("Import", f'cannot import "{self.path}": its input "{name}" '
                                 "has no (batch, ...) shape.")
        rest = dims[1:]
        if all(isinstance(d, int) for d in rest):
            return tuple(rest) if rest else "Real"
        if rest and not isinstance(rest[0], int) and all(isinstance(d, int) for d in rest[1:]):
            return ("Varying", *rest[1:])
        raise NetImportError("Import", f'cannot import "{self.path}": its input "{name}" has '
                             f"dimensions {list(dims)}; only the batch and the first dimension "
                             "after it may be free.")

    def node(self, node: Any, i: int) -> None:
        op = node.op_type
        if op == "Constant":
            self.consts[node.output[0]] = tensor(_attrs(node)["value"])
            return
        if op in PASS_OPS:
            self.src[node.output[0]] = self.source(node, node.input[0])
            return
        if op == "Sub" and node.input[0] in self.integer and _is_one(
                self.consts.get(node.input[1])):
            self.one_based[node.output[0]] = node.input[0]   # WL's 1-based indices made 0-based
            return
        method = getattr(self, "op_" + op, None)
        layer, feeds = method(node) if method is not None else self.generic(node)
        key = self.key(node, i)
        self.layers[key] = layer
        if feeds:
            srcs = [self.source(node, t) if isinstance(t, str) else t for t in feeds]
            self.links.append((srcs[0] if len(srcs) == 1 else srcs, key))
        self.src[node.output[0]] = key

    def generic(self, node: Any) -> tuple[Layer, list]:
        op = node.op_type
        if op in ELEMENTWISE_OPS:
            return self.elementwise(node)
        if op in THREADING_OPS:
            return self.threading(node)
        if op in ("Reshape", "Squeeze", "Unsqueeze"):
            return self.reshape(node)
        raise self.fail(node, "is not supported.")

    def key(self, node: Any, i: int) -> str:
        base = node.name or f"{node.op_type}{i}"
        key, n = base, 1
        while key in self.taken:
            n += 1
            key = f"{base}_{n}"
        self.taken.add(key)
        return key

    def source(self, node: Any, name: str) -> Any:
        if name in self.src:
            return self.src[name]
        if name in self.consts:
            raise self.fail(node, f'takes the constant "{name}" where netgraph needs data.')
        raise self.fail(node, f'reads "{name}", which no input or node gives.')

    def dynamic(self, node: Any) -> list[str]:
        return [t for t in node.input if t and t not in self.consts]

    def const(self, node: Any, k: int) -> np.ndarray:
        c = self.optional_const(node, k)
        if c is None:
            raise self.fail(node, f"needs input {k + 1} to be a constant (an initializer).")
        return c

    def optional_const(self, node: Any, k: int) -> np.ndarray | None:
        name = node.input[k] if k < len(node.input) else ""
        return self.consts.get(name)

    def rank(self, name: str) -> int | None:
        dims = self.shapes.get(name)
        return None if dims is None else len(dims)

    # -- op families ------------------------------------------------------------------------
    def op_Gemm(self, node: Any) -> tuple[Layer, list]:
        from ..layers.basic import LinearLayer
        a = _attrs(node)
        if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
            raise self.fail(node, "has alpha, beta or transA other than 1, 1, 0.")
        w = self.const(node, 1)
        w = w if a.get("transB", 0) else w.T                     # (n, m)
        c = self.optional_const(node, 2)
        b = np.zeros(w.shape[0], np.float32) if c is None else np.broadcast_to(
            c, (1, w.shape[0])).reshape(w.shape[0])
        return LinearLayer(int(w.shape[0]), Weights=w, Biases=b), [node.input[0]]

    def op_MatMul(self, node: Any) -> tuple[Layer, list]:
        from ..layers.basic import LinearLayer
        w = self.const(node, 1)
        if w.ndim != 2 or self.rank(node.input[0]) != 2:
            raise self.fail(node, "is supported only as a (batch, m) input times an (m, n) "
                            "constant.")
        return LinearLayer(int(w.shape[1]), Weights=w.T, Biases=None), [node.input[0]]

    def op_Gather(self, node: Any) -> tuple[Layer, list]:
        from ..layers.embedding import EmbeddingLayer
        table = self.const(node, 0)
        indices = self.one_based.get(node.input[1])
        if _attrs(node).get("axis", 0) != 0 or table.ndim != 2 or indices is None:
            raise self.fail(node, "is converted only as an embedding lookup: rows of a constant "
                            "(n, size) table at indices written i - 1 (netgraph's export of "
                            "EmbeddingLayer, whose indices count from 1).")
        n, size = (int(d) for d in table.shape)
        return EmbeddingLayer(size, n, Weights=table), [indices]

    def op_Conv(self, node: Any) -> tuple[Layer, list]:
        from ..layers.conv import ConvolutionLayer
        a = _attrs(node)
        w = self.const(node, 1)
        d = w.ndim - 2
        b = self.optional_const(node, 2)
        opts = self.spatial(node, a, d)
        return ConvolutionLayer(int(w.shape[0]), tuple(int(k) for k in w.shape[2:]),
                                ChannelGroups=int(a.get("group", 1)), Weights=w,
                                Biases=np.zeros(w.shape[0], np.float32) if b is None else b,
                                **opts), [node.input[0]]

    def op_ConvTranspose(self, node: Any) -> tuple[Layer, list]:
        from ..layers.conv import DeconvolutionLayer
        a = _attrs(node)
        if any(a.get("output_padding", [])) or "output_shape" in a:
            raise self.fail(node, "has output_padding or output_shape, which are not "
                            "supported.")
        w = self.const(node, 1)                                   # (c_in, n / group, k...)
        g = int(a.get("group", 1))
        b = self.optional_const(node, 2)
        n = int(w.shape[1]) * g
        return DeconvolutionLayer(n, tuple(int(k) for k in w.shape[2:]), ChannelGroups=g,
                                  Weights=w, Biases=np.zeros(n, np.float32) if b is None else b,
                                  **self.spatial(node, a, w.ndim - 2)), [node.input[0]]

    def spatial(self, node: Any, a: dict, d: int) -> dict:
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            raise self.fail(node, "uses auto_pad; only explicit pads are supported.")
        pads = list(a.get("pads", [0] * 2 * d))
        if pads[:d] != pads[d:]:
            raise self.fail(node, f"has asymmetric pads {pads}; only symmetric ones are "
                            "supported.")
        opts = {"Stride": tuple(a.get("strides", [1] * d)), "PaddingSize": tuple(pads[:d])}
        dil = tuple(a.get("dilations", [1] * d))
        if node.op_type in ("Conv", "ConvTranspose"):
            opts["Dilation"] = dil
        elif any(x != 1 for x in dil):
            raise self.fail(node, "has dilations, which pooling does not support.")
        return opts

    def _pool(self, node: Any, function: Any) -> tuple[Layer, list]:
        from ..layers.conv import PoolingLayer
        a = _attrs(node)
        if a.get("ceil_mode", 0):
            raise self.fail(node, "uses ceil_mode; only floor mode is supported.")
        kernel = tuple(int(k) for k in a["kernel_shape"])
        opts = self.spatial(node, a, len(kernel))
        if node.op_type == "AveragePool" and any(opts["PaddingSize"]) and not a.get(
                "count_include_pad", 0):
            raise self.fail(node, "averages over padding without counting it "
                            "(count_include_pad 0); netgraph's Mean pooling counts the zeros.")
        stride = opts.pop("Stride")
        return PoolingLayer(kernel, stride, Function=function, **opts), [node.input[0]]

    def op_MaxPool(self, node: Any) -> tuple[Layer, list]:
        from ..symbols import Max
        if len(node.output) > 1 and node.output[1]:
            raise self.fail(node, "gives its indices too, which is not supported.")
        return self._pool(node, Max)

    def op_AveragePool(self, node: Any) -> tuple[Layer, list]:
        from ..symbols import Mean
        return self._pool(node, Mean)

    def op_Softmax(self, node: Any) -> tuple[Layer, list]:
        from ..layers.basic import SoftmaxLayer
        r = self.rank(node.input[0])
        axis = _attrs(node).get("axis", -1 if self.opset() >= 13 else 1)
        if r is None or axis not in (-1, r - 1):
            raise self.fail(node, f"is over axis {axis}; only the last axis is supported.")
        return SoftmaxLayer(), [node.input[0]]

    def op_Concat(self, node: Any) -> tuple[Layer, list]:
        from ..layers.structure import CatenateLayer
        axis = _attrs(node).get("axis")
        r = self.rank(node.input[0])
        if axis != 1 and not (r is not None and axis == 1 - r):
            raise self.fail(node, f"is over axis {axis}; only axis 1 (the first after the "
                            "batch) is supported.")
        return CatenateLayer(), list(self.dynamic(node))

    def op_Flatten(self, node: Any) -> tuple[Layer, list]:
        from ..layers.reshape import FlattenLayer
        if _attrs(node).get("axis", 1) != 1:
            raise self.fail(node, "flattens from an axis other than 1.")
        return FlattenLayer(), [node.input[0]]

    def op_Transpose(self, node: Any) -> tuple[Layer, list]:
        from ..layers.reshape import TransposeLayer
        perm = list(_attrs(node).get("perm", []))
        if not perm or perm[0] != 0:
            raise self.fail(node, f"moves the batch axis (perm {perm}).")
        p = [k - 1 for k in perm[1:]]
        return TransposeLayer([p.index(k) + 1 for k in range(len(p))]), [node.input[0]]

    def reshape(self, node: Any) -> tuple[Layer, list]:
        from ..layers.reshape import ReshapeLayer
        dims = self.shapes.get(node.output[0])
        if dims is None or not all(isinstance(d, int) for d in dims[1:]):
            raise self.fail(node, "gives a shape that ONNX shape inference cannot fix.")
        return ReshapeLayer(tuple(dims[1:])), [node.input[0]]

    def elementwise(self, node: Any) -> tuple[Layer, list]:
        import netgraph.symbols as S

        from ..layers.basic import ElementwiseLayer
        a = _attrs(node)
        if node.op_type == "Elu" and a.get("alpha", 1.0) != 1.0 or node.op_type == "Selu" and (
                abs(a.get("alpha", 1.67326) - 1.67326) > 1e-4
                or abs(a.get("gamma", 1.0507) - 1.0507) > 1e-4):
            raise self.fail(node, "has parameters other than the standard ones.")
        return ElementwiseLayer(getattr(S, ELEMENTWISE_OPS[node.op_type])), [node.input[0]]

    def threading(self, node: Any) -> tuple[Layer, list]:
        import netgraph.symbols as S

        from ..layers.array import NetArrayLayer
        from ..layers.basic import ThreadingLayer
        f = getattr(S, THREADING_OPS[node.op_type])
        dyn = self.dynamic(node)
        if len(dyn) == 2:
            if self.shapes.get(dyn[0]) != self.shapes.get(dyn[1]):
                raise self.fail(node, "broadcasts two inputs of different shapes.")
            return ThreadingLayer(f), list(node.input)
        if len(dyn) != 1:
            raise self.fail(node, "has no data input.")
        x = dyn[0]
        shape = self.shapes.get(x)
        if shape is None or not all(isinstance(d, int) for d in shape[1:]):
            raise self.fail(node, "has an input of unknown shape.")
        c = next(self.consts[t] for t in node.input if t in self.consts)
        per = tuple(shape[1:])
        try:
            if c.ndim > len(per):  # a leading batch axis of 1
                c = np.broadcast_to(c, (1, *per))[0]
            value = np.array(np.broadcast_to(c, per), np.float32)
        except ValueError:
            raise self.fail(node, "has a constant that does not broadcast over one "
                            "example.") from None
        key = self.key(_Named(f"{node.name or node.op_type}_constant"), len(self.layers))
        self.layers[key] = NetArrayLayer(Array=value) if per else NetArrayLayer(
            Array=float(value), Output="Real")
        feeds = [key if t in self.consts else t for t in node.input]
        return ThreadingLayer(f), [NetPort(key, "Output") if t == key else t for t in feeds]

    def opset(self) -> int:
        return max((o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx")),
                   default=13)


def _is_one(c: np.ndarray | None) -> bool:
    return c is not None and c.size == 1 and float(c.reshape(())) == 1.0


class _Named:
    """What :meth:`Converter.key` reads of a node, for a layer no node stands for."""

    def __init__(self, name: str) -> None:
        self.name, self.op_type = name, "Constant"


def _attrs(node: Any) -> dict[str, Any]:
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _dims(v: Any) -> list | None:
    t = v.type.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]
