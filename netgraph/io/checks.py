"""Import checks: every layer of a file rebuilt and checked against what it must be.

Port types are re-inferred (containers through their normal ``specialize``), connections
must name existing ports, and arrays must be exactly those the layer expects, with the
shapes its :meth:`~netgraph.layers.base.Layer.array_specs` give.
"""
from __future__ import annotations

from typing import Any, TypeGuard

from ..errors import NetGraphError
from ..graph.build import expose_ports, topological_order
from ..graph.ir import GraphIR
from ..graph.net import Container
from ..layers.base import Layer
from ..layers.coding import check_coders, is_encoder
from ..ports import PortRef
from ..shapes import PortType
from ..symbols import Symbol
from .registry import all_layers, layer_label


class Refused(Exception):
    pass


def rebuild(cls: type[Layer], params: dict, ins: dict, outs: dict, arrays: dict,
             where: str, coders: dict | None = None) -> Layer:
    """The layer value, with its port types re-inferred (a tampered type cannot stick) and
    its coders checked against its ports."""
    layer = _rebuilt(cls, params, ins, outs, arrays, where, coders or {})
    for p, c in (coders or {}).items():
        side = "input" if is_encoder(c) else "output"
        if p not in (layer.input_ports() if side == "input" else layer.output_ports()):
            raise Refused(f'{where} has a coder on "{p}", which is not one of its {side} ports')
    try:
        check_coders(layer.head, layer, coders or {})
    except NetGraphError as e:
        raise Refused(f"{where} is inconsistent: {str(e).rstrip('.')}") from None
    return layer


def _rebuilt(cls: type[Layer], params: dict, ins: dict, outs: dict, arrays: dict,
             where: str, coders: dict) -> Layer:
    try:
        check_params(cls, params, ins, where)
        valid_in, valid_out = set(cls.input_ports_of(params)), set(cls.output_ports_of(params))
        for side, types, valid in (("input", ins, valid_in), ("output", outs, valid_out)):
            extra = [p for p in types if p not in valid]
            if extra:
                raise Refused(f'{where} has no {side} port "{extra[0]}"')
        layer = cls._make(params, ins, outs, arrays, coders)
        if isinstance(layer, Container):
            return _rebuild_container(layer, where)
        layer._self_infer()
        layer = layer.specialize(dict(layer.in_types), dict(layer.out_types))
        _check_shared(layer, where)
        layer._param_repr()  # repr shows the params: a missing or odd one must fail here
        return layer
    except Refused:
        raise
    except NetGraphError as e:
        raise Refused(f"{where} is inconsistent: {str(e).rstrip('.')}") from None
    except Exception as e:  # noqa: BLE001 - a tampered file must not crash Import
        raise Refused(f"{where} has malformed parameters ({type(e).__name__}: {e})") from None


def _check_shared(layer: Layer, where: str) -> None:
    """``params["shared"]``, when present: {array of this layer: shared name}."""
    specs, names = layer.array_specs(), layer.params.get("shared", {})
    if not isinstance(names, dict) or not names or not all(
            isinstance(k, str) and k in specs and not specs[k].auxiliary and isinstance(n, str)
            and n for k, n in names.items()):
        if "shared" in layer.params:
            raise Refused(f"{where} has a malformed list of shared arrays")


def check_params(cls: type[Layer], params: dict, ins: dict, where: str) -> None:
    """What a tampered file could break before the layer's own checks (which run when it is
    built): the input count of a variadic layer (it makes the ports: 10**9 of them would
    exhaust memory) and a layer's functions (symbols only: a file never holds code)."""
    n = params.get("n")
    if getattr(cls, "variadic", False) and n is not None and (
            isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= len(ins)):
        raise Refused(f"{where} has the input count {n!r}, but the file lists {len(ins)} input "
                      "ports")
    for k in cls.function_params:  # the layer's check_params knows which symbols it takes
        f = params.get(k)
        if not isinstance(f, Symbol):
            raise Refused(f"{where} has a {type(f).__name__} as its function; expected a "
                          "symbol such as Tanh")


def _rebuild_container(net: Container, where: str) -> Layer:
    p = net.params
    nodes, edges = p.get("nodes"), p.get("edges")
    inputs, outputs = p.get("inputs"), p.get("outputs")
    if not (isinstance(nodes, dict) and all(isinstance(v, Layer) for v in nodes.values())
            and isinstance(edges, dict) and all(isinstance(k, PortRef) and isinstance(v, PortRef)
                                                 for k, v in edges.items())
            and _names(inputs) and _names(outputs)):
        raise Refused(f"{where} has malformed layers, connections or ports")
    for dst, src in edges.items():
        _check_edge(nodes, inputs, outputs, dst, src, where)
    check = dict(edges)
    ins, outs = expose_ports(nodes, check)
    if check != edges or set(ins) != set(inputs) or set(outs) != set(outputs):
        raise Refused(f"{where} has ports that do not match its connections")
    order = topological_order(net.head, nodes, edges)
    graph = GraphIR(nodes, edges, inputs, outputs, tuple(order), bool(p.get("named")))
    rebuilt = type(net).from_graph(graph, {}, {}, net.extra, net.coders)
    return rebuilt.specialize({q: net.in_types.get(q, PortType()) for q in inputs},
                              {q: net.out_types.get(q, PortType()) for q in outputs})


def _names(x: Any) -> TypeGuard[tuple[str, ...]]:
    return isinstance(x, tuple) and all(isinstance(n, str) for n in x) and len(set(x)) == len(x)


def _check_edge(nodes: dict, inputs: tuple, outputs: tuple, dst: PortRef, src: PortRef,
                where: str) -> None:
    ok_dst = (dst.port in outputs if dst.node is None
              else dst.node in nodes and dst.port in nodes[dst.node].input_ports())
    ok_src = (src.port in inputs if src.node is None
              else src.node in nodes and src.port in nodes[src.node].output_ports())
    if not (ok_dst and ok_src):
        raise Refused(f"{where} has an invalid connection {src.wl()} -> {dst.wl()}")


def check_arrays(net: Layer) -> None:
    """Each layer holds exactly the arrays it expects, with the expected dimensions."""
    for path, layer in all_layers(net):
        where, specs = layer_label(path, layer.head), layer.array_specs()
        missing = [k for k in specs if k not in layer.arrays]
        extra = [k for k in layer.arrays if k not in specs]
        if missing or extra:
            what = f'lacks the array "{missing[0]}"' if missing else \
                f'has an unexpected array "{extra[0]}"'
            raise Refused(f"{where} {what}; its arrays are {', '.join(specs) or 'none'}")
        for k, a in layer.arrays.items():
            want = specs[k].shape
            if a is not None and (want is None or tuple(a.shape) != tuple(want)):
                raise Refused(f'{where}: array "{k}" has dimensions {_dims(a.shape)}, but the '
                               f"layer expects {_dims(want)}")


def check_shared(net: Layer) -> None:
    """The uses of each shared array agree (dimensions)."""
    from ..graph.shared import shared_arrays
    try:
        shared_arrays("Import", net)
    except NetGraphError as e:
        raise Refused(e.message.rstrip(".")) from None


def _dims(shape: Any) -> str:
    if shape is None:
        return "unknown dimensions"
    return "{" + ", ".join("?" if d is None else str(d) for d in shape) + "}"
