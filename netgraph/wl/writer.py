"""A net as WL InputForm text that :func:`netgraph.wl.evaluate` reads back to an equal net.

Two forms, as WL itself has two:

* the readable form users type: ``NetChain[{LinearLayer[3], Ramp}, "Input" -> 2]``,
  ``NetGraph[{...}, {1 -> 2, ...}, "Input" -> {1, 1}]``; a layer is written from the
  arguments its display shows (``Layer._param_repr``, Python syntax read with ``ast``)
  plus its port shapes as options;
* the full form WL's own InputForm prints for a layer (``LinearLayer[<|"Arrays" -> ...,
  "Parameters" -> ..., "Inputs" -> ..., "Outputs" -> ...|>]``): netgraph's stored params,
  exactly as a .netgraph file holds them (io/encode.py), so any registered head fits it
  and learned arrays go in as ``NumericArray[...]``.

Every readable form is checked by reading it back: a layer whose display does not rebuild
it exactly is written in the full form instead, so the round trip never loses anything.
"""
from __future__ import annotations

import ast
from typing import Any

import numpy as np

from ..errors import NetGraphError
from ..graph.net import Container, NetChain, NetGraph
from ..graph.parts import port_spec
from ..io.netfile import net_from_archive, net_to_archive
from ..layers.base import Layer
from ..ports import PortRef
from .values import _real

DTYPES = {"float32": "Real32", "float64": "Real64", "float16": "Real16", "int64": "Integer64",
          "int32": "Integer32", "uint8": "UnsignedInteger8", "bool": "Boolean"}
FROM_DTYPES = {v: k for k, v in DTYPES.items()}


# -- WL text of plain values ---------------------------------------------------------------
def wl_string(s: str) -> str:
    body = (s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\t", "\\t").replace("\r", "\\r"))
    return f'"{body}"'


def wl_number(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return _real(float(v))


def numeric_array(a: np.ndarray) -> str:
    """``NumericArray[{...}, "Real32"]`` (WL's packed array of a machine type)."""
    kind = DTYPES.get(str(a.dtype))
    if kind is None:
        raise NetGraphError("to_wl", f"an array of type {a.dtype} has no WL NumericArray type.")
    return f"NumericArray[{json_wl(a.tolist())}, {wl_string(kind)}]"


def json_wl(x: Any) -> str:
    """JSON-like data (dicts, lists, strings, numbers, booleans, None) as WL."""
    if x is None:
        return "None"
    if isinstance(x, str):
        return wl_string(x)
    if isinstance(x, (bool, int, float, np.generic)):
        return wl_number(x)
    if isinstance(x, np.ndarray):
        return numeric_array(x)
    if isinstance(x, (list, tuple)):
        return "{" + ", ".join(json_wl(e) for e in x) + "}"
    if isinstance(x, dict):
        return "<|" + ", ".join(f"{json_wl(k)} -> {json_wl(v)}" for k, v in x.items()) + "|>"
    raise NetGraphError("to_wl", f"cannot write a {type(x).__name__} as WL.")


# -- Python source (a display) -> WL -------------------------------------------------
class NotWL(Exception):
    """The Python text has a form with no WL spelling (a lambda, an attribute, ...)."""


def py_to_wl(node: ast.AST) -> str:
    """One Python expression (as a layer's display writes it) in WL syntax."""
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, str):
            return wl_string(v)
        if v is None:
            return "None"
        if isinstance(v, (bool, int, float)):
            return wl_number(v)
        raise NotWL(repr(v))
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return "-" + py_to_wl(node.operand)
    if isinstance(node, (ast.Tuple, ast.List)):
        return "{" + ", ".join(py_to_wl(e) for e in node.elts) + "}"
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotWL("**")
        return "<|" + ", ".join(f"{py_to_wl(k)} -> {py_to_wl(v)}"  # type: ignore[arg-type]
                                for k, v in zip(node.keys, node.values, strict=True)) + "|>"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [py_to_wl(a) for a in node.args]
        if node.func.id == "Span" and not node.keywords and 1 <= len(args) <= 3:
            return " ;; ".join(args if len(args) > 1 else [args[0], "All"])
        args += [f"{wl_string(k.arg)} -> {py_to_wl(k.value)}" for k in node.keywords
                 if k.arg is not None]
        return f"{node.func.id}[{', '.join(args)}]"
    raise NotWL(ast.dump(node))


def call_wl(head: str, args_py: str, options: list[str]) -> str:
    """``Head[args..., options...]`` from Python argument text ``args_py``."""
    tree = ast.parse(f"f({args_py})", mode="eval").body
    assert isinstance(tree, ast.Call)
    parts = [py_to_wl(a) for a in tree.args]
    parts += [f"{wl_string(k.arg)} -> {py_to_wl(k.value)}" for k in tree.keywords
              if k.arg is not None]
    return f"{head}[{', '.join(parts + options)}]"


def shape_wl(t: Any) -> str | None:
    spec = port_spec(t)
    if spec is None:
        return None
    try:
        return py_to_wl(ast.parse(repr(spec) if not isinstance(spec, str) else
                                  wl_string(spec), mode="eval").body)
    except (NotWL, SyntaxError):
        return None


def coder_wl(coder: Any) -> str:
    """A NetEncoder/NetDecoder as WL: its display is its Python constructor call."""
    return py_to_wl(ast.parse(coder.code(limit=0), mode="eval").body)


def _coders(layer: Layer) -> dict[str, Any]:
    return dict(getattr(layer, "coders", None) or {})


def port_options(layer: Layer) -> list[str]:
    out: list[str] = []
    coders = _coders(layer)
    for side in (layer.in_types, layer.out_types):
        for port, t in side.items():
            text = coder_wl(coders[port]) if port in coders else shape_wl(t)
            if text is not None and f"{wl_string(port)} ->" not in " ".join(out):
                out.append(f"{wl_string(port)} -> {text}")
    return out


# -- the full form -------------------------------------------------------------------------
def full_form(layer: Layer, arrays: bool) -> str:
    """WL's stored-layer form: ``Head[<|"Parameters" -> ..., "Inputs" -> ..., ...|>]``;
    coders on its ports are attached as WL does, with ``NetReplacePart``."""
    meta, stored = net_to_archive(layer)
    text = _full(meta["net"], stored, arrays)
    coders = _coders(layer)
    if coders:
        rules = ", ".join(f"{wl_string(p)} -> {coder_wl(c)}" for p, c in coders.items())
        text = f"NetReplacePart[{text}, {{{rules}}}]"
    return text


def _full(net: dict, stored: dict[str, np.ndarray], arrays: bool) -> str:
    parts = {"Parameters": _inline(net["params"], stored, arrays), "Inputs": net["inputs"],
             "Outputs": net["outputs"],
             "Arrays": {k: (stored[v] if arrays and v is not None else None)
                        for k, v in net["arrays"].items()}}
    return f"{net['head']}[{json_wl(parts)}]"


def _inline(x: Any, stored: dict[str, np.ndarray], arrays: bool) -> Any:
    """Params with nested layers' array keys replaced by the arrays (or None)."""
    if isinstance(x, dict):
        if set(x) == {"$array"}:
            return {"$array": stored[x["$array"]]}
        if "head" in x and "arrays" in x and "params" in x:
            return {**{k: _inline(v, stored, arrays) for k, v in x.items() if k != "arrays"},
                    "arrays": {k: (stored[v] if arrays and v is not None else None)
                               for k, v in x["arrays"].items()}}
        return {k: _inline(v, stored, arrays) for k, v in x.items()}
    if isinstance(x, list):
        return [_inline(v, stored, arrays) for v in x]
    return x


def from_full_form(head: str, parts: dict) -> Layer:
    """The layer a full form describes (the inverse of :func:`full_form`)."""
    stored: dict[str, np.ndarray] = {}

    def plain(x: Any, path: str) -> Any:
        if isinstance(x, np.ndarray) and x.dtype.kind in "iuf" and path.endswith("!array"):
            stored[path] = x
            return path
        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, dict):
            if "head" in x and "arrays" in x:
                return {**{k: plain(v, f"{path}/{k}") for k, v in x.items() if k != "arrays"},
                        "arrays": {k: plain(v, f"{path}/{k}!array") for k, v in
                                   x["arrays"].items()}}
            if set(x) == {"$array"}:
                return {"$array": plain(x["$array"], f"{path}!array")}
            return {k: plain(v, f"{path}/{k}") for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [plain(v, f"{path}/{i}") for i, v in enumerate(x)]
        return x

    missing = {"Parameters", "Inputs", "Outputs", "Arrays"} - set(parts)
    if missing:
        raise NetGraphError(head, f"the full form needs the keys {sorted(missing)}.")
    net = {"head": head, "params": plain(parts["Parameters"], "p"),
           "inputs": plain(parts["Inputs"], "i"), "outputs": plain(parts["Outputs"], "o"),
           "arrays": {k: plain(v, f"a/{k}!array") for k, v in parts["Arrays"].items()}}
    return net_from_archive({"kind": "Net", "net": net}, stored, head)


# -- readable forms ------------------------------------------------------------------------
def _ref(r: PortRef, layer: Layer | None, side: str) -> str:
    if r.node is None:
        return f"NetPort[{wl_string(r.port)}]"
    node = r.node if not r.node.isdigit() else None
    key = wl_string(r.node) if node is not None else r.node
    default = "Output" if side == "src" else "Input"
    ports = (layer.visible_outputs() if side == "src" else layer.visible_inputs()) if layer \
        else ()
    if r.port == default and len(ports) == 1:
        return key
    return f"NetPort[{key}, {wl_string(r.port)}]"


def _layers(net: Container, arrays: bool, check: bool) -> str:
    nodes = net.nodes
    texts = [layer_wl(layer, arrays, check) for layer in nodes.values()]
    if all(k == str(i + 1) for i, k in enumerate(nodes)):
        return "{" + ", ".join(texts) + "}"
    return "<|" + ", ".join(f"{wl_string(k)} -> {t}" for k, t in zip(nodes, texts,
                                                                      strict=True)) + "|>"


def container_readable(net: Container, arrays: bool, check: bool) -> str:
    layers = _layers(net, arrays, check)
    opts = port_options(net)
    _container_options(net)
    if isinstance(net, NetChain):
        return f"NetChain[{', '.join([layers] + opts)}]"
    edges = [f"{_ref(src, net.nodes.get(src.node or ''), 'src')} -> "
             f"{_ref(dst, net.nodes.get(dst.node or ''), 'dst')}"
             for dst, src in net.edges.items()]
    return f"NetGraph[{', '.join([layers, '{' + ', '.join(edges) + '}'] + opts)}]"


def _container_options(net: Container) -> None:
    if any(v is not None for v in net.extra.values()):
        raise NotWL("container options")  # e.g. LearningRateMultipliers: the full form has them


def leaf_readable(layer: Layer) -> str:
    return call_wl(layer.head, layer._param_repr(), port_options(layer))


# -- checking a readable form --------------------------------------------------------------
def _stripped(meta: Any, arrays: bool) -> Any:
    if isinstance(meta, dict):
        out: dict[str, Any] = {}
        for k, v in meta.items():
            if k == "arrays" and isinstance(v, dict) and not arrays:
                out[k] = sorted(v)
            else:
                out[k] = _stripped(v, arrays)
        return out
    if isinstance(meta, list):
        return [_stripped(v, arrays) for v in meta]
    return meta


def same_net(a: Layer, b: Layer, arrays: bool) -> bool:
    """Equal as values: the same stored form (arrays compared only when ``arrays``)."""
    try:
        ma, xa = net_to_archive(a)
        mb, xb = net_to_archive(b)
    except NetGraphError:
        return False
    if _stripped(ma["net"], arrays) != _stripped(mb["net"], arrays):
        return False
    if _coder_specs(a) != _coder_specs(b):
        return False
    return not arrays or (sorted(xa) == sorted(xb) and all(
        xa[k].dtype == xb[k].dtype and np.array_equal(xa[k], xb[k]) for k in xa))


def _coder_specs(net: Layer) -> list[Any]:
    """Every coder in ``net`` (its own ports and its layers'), as JSON, by position."""
    out: list[Any] = [{p: c.to_json() for p, c in _coders(net).items()}]
    for key, layer in (net.nodes.items() if isinstance(net, Container) else ()):
        out.append((key, _coder_specs(layer)))
    return out


def _reads_back(text: str, layer: Layer, arrays: bool) -> bool:
    from . import evaluate
    try:
        back = evaluate(text)
    except Exception:  # noqa: BLE001 - any failure means: use the full form
        return False
    return isinstance(back, Layer) and same_net(back, layer, arrays)


def layer_wl(layer: Layer, arrays: bool = False, check: bool = True) -> str:
    """One layer or container as WL text: readable when it reads back equal, else full.

    Inside a container the layers are first written unchecked and the container is checked
    as a whole (its inference gives the layers the port types they had); only when that
    fails is each layer checked on its own.
    """
    has_arrays = arrays and any(a is not None for a in layer.arrays.values())
    if isinstance(layer, Container):
        for each in (False, True):
            try:
                text = container_readable(layer, arrays, check=each)
            except (NotWL, SyntaxError, NetGraphError):
                continue
            if not check or _reads_back(text, layer, arrays):
                return text
    elif not has_arrays:
        try:
            text = leaf_readable(layer)
        except (NotWL, SyntaxError, NetGraphError):
            text = None
        if text is not None and (not check or _reads_back(text, layer, arrays)):
            return text
    return full_form(layer, arrays)


def to_wl(net: Layer, arrays: bool = False) -> str:
    """``net`` as WL InputForm text; ``arrays=True`` writes the learned arrays too.

    >>> to_wl(NetChain([LinearLayer(3), Tanh], Input=2)) # doctest: +NORMALIZE_WHITESPACE
    'NetChain[{LinearLayer[3, "Input" -> 2, "Output" -> 3],
    ElementwiseLayer[Tanh, "Input" -> 3, "Output" -> 3]}, "Input" -> 2, "Output" -> 3]'
    """
    if not isinstance(net, Layer):
        raise NetGraphError("to_wl", f"expected a net or a layer, but received {net!r}.")
    return layer_wl(net, arrays)


__all__ = ["to_wl", "from_full_form", "same_net", "NetGraph", "NetChain"]
