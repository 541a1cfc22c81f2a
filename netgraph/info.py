"""REPL and notebook introspection: repr, _repr_html_, Information."""
from __future__ import annotations

import html
from typing import Any

import numpy as np

from .errors import OptionError, nearest
from .graph.walk import leaves
from .layers.base import Layer

WIDTH = 100


def _spec_str(t: Any) -> str:
    spec = t.spec() if t is not None else "Automatic"
    return f'"{spec}"' if isinstance(spec, str) else repr(spec)


def _layer_call(layer: Layer) -> str:
    args = layer._param_repr()
    return f"{layer.head}({args})"


def layer_repr(layer: Layer) -> str:
    from .graph.net import Container
    if isinstance(layer, Container):
        return container_repr(layer)
    if not layer.in_types and not layer.out_types and not layer.array_specs():
        return _layer_call(layer)
    ports = [f"{p}: {_spec_str(layer.in_types.get(p))}" for p in layer.visible_inputs()]
    ports += [f"-> {p}: {_spec_str(layer.out_types.get(p))}" for p in layer.visible_outputs()]
    state = "" if not layer.array_specs() else (
        ", initialized" if layer.is_initialized() else ", uninitialized")
    text = f"{_layer_call(layer)}  <{', '.join(ports)}{state}>"
    return text if len(text) <= WIDTH else text[:WIDTH - 3] + "..."


def _fit(s: str, width: int) -> str:
    return s if len(s) <= width else s[:width - 3] + "..."


def container_repr(net: Any) -> str:
    init = "initialized" if net.is_initialized() else "uninitialized"
    n = len(net.nodes)
    lines = [f"{net.head}[{n} layer{'s' if n != 1 else ''}, {init}]"]
    w = max([len(p) + 2 for p in (*net.params["inputs"], *net.params["outputs"])] + [8])
    for p in net.params["inputs"]:
        lines.append(_fit(f"  Input  {_q(p):<{w}} {_spec_str(net.in_types.get(p))}", WIDTH))
    keys = list(net.nodes)
    shown = keys if len(keys) <= 40 else keys[:20] + ["..."] + keys[-19:]
    for k in shown:
        if k == "...":
            lines.append(f"  ... {len(keys) - 39} more layers ...")
            continue
        layer = net.nodes[k]
        outs = ", ".join(_spec_str(layer.out_types.get(p)) for p in layer.visible_outputs())
        label = k if k.isdigit() else _q(k)
        lines.append(_fit(f"  {label:>4}  {_layer_call(layer):<42} -> {outs}", WIDTH))
    for p in net.params["outputs"]:
        lines.append(_fit(f"  Output {_q(p):<{w}} {_spec_str(net.out_types.get(p))}", WIDTH))
    return "\n".join(lines)


def _q(p: str) -> str:
    return f'"{p}"'


def html_repr(layer: Layer) -> str:
    return "<pre>" + html.escape(repr(layer)) + "</pre>"


PROPERTIES = ("InputPorts", "OutputPorts", "Layers", "LayersCount", "Arrays", "ArraysCount",
              "ArraysTotalElementCount", "ArraysDimensions", "SummaryGraphic", "Properties",
              "LayerTypeCounts", "ArraysPositionList", "ArraysByteCount")


def _arrays(net: Layer) -> dict[tuple, Any]:
    out = {}
    for path, layer in leaves(net):
        specs = layer.array_specs()
        for name, a in layer.arrays.items():
            out[(*_path_keys(path), name)] = a if a is not None else specs[name]
    return out


def _path_keys(path: tuple[str, ...]) -> tuple:
    return tuple(int(k) if k.isdigit() else k for k in path)


def Information(net: Layer, prop: str | None = None) -> Any:
    """Information(net, "prop") gives a property of a net: "InputPorts", "Layers", "ArraysCount" ...

    >>> Information(LinearLayer(3, Input=2), "ArraysTotalElementCount")
    9
    """
    from .graph.net import Container
    if prop is None:
        return {p: Information(net, p) for p in PROPERTIES
                if p not in ("SummaryGraphic", "Properties", "Arrays")}
    if prop == "Properties":
        return list(PROPERTIES)
    if prop == "InputPorts":
        return {p: net.in_types.get(p).spec() if net.in_types.get(p) else "Automatic"
                for p in _ports(net, "in")}
    if prop == "OutputPorts":
        return {p: net.out_types.get(p).spec() if net.out_types.get(p) else "Automatic"
                for p in _ports(net, "out")}
    if prop == "Layers":
        return {_path_keys(path): layer for path, layer in leaves(net)}
    if prop == "LayersCount":
        return sum(1 for _ in leaves(net))
    if prop == "LayerTypeCounts":
        counts: dict[str, int] = {}
        for _, layer in leaves(net):
            counts[layer.head] = counts.get(layer.head, 0) + 1
        return counts
    if prop == "Arrays":
        return {k: (v if isinstance(v, np.ndarray) else None) for k, v in _arrays(net).items()}
    if prop == "ArraysPositionList":
        return list(_arrays(net))
    if prop == "ArraysCount":
        return len(_arrays(net))
    if prop == "ArraysDimensions":
        return {k: tuple(v.shape) if v.shape is not None else None for k, v in _arrays(net).items()}
    if prop in ("ArraysTotalElementCount", "ArraysByteCount"):
        total = 0
        for v in _arrays(net).values():
            if v.shape is None:
                return None
            total += int(np.prod(v.shape))
        return total if prop == "ArraysTotalElementCount" else 4 * total
    if prop == "SummaryGraphic":
        from .plot import summary_graphic
        return summary_graphic(net)
    raise OptionError("Information", f'unknown property "{prop}".{nearest(str(prop), PROPERTIES)}'
                      f" Valid properties are: {', '.join(PROPERTIES)}.")
    Container  # noqa: B018


def _ports(net: Layer, side: str) -> tuple[str, ...]:
    if side == "in":
        return net.visible_inputs()
    return net.visible_outputs()
