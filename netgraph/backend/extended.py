"""The extended forward of a lowered graph: per-example lengths and hidden recurrent states.

Every :class:`~netgraph.backend.lower.GraphModule` gets, next to its generated ``forward``,
a generated ``forward_ext(self, *inputs, _lengths=None, _states=None)``; ``forward`` hands a
call that passes either keyword over to it, so the normal path stays what it was.

- ``_lengths``: ``{graph input port: (batch,) int64 tensor}`` for inputs whose first
  dimension is ``"Varying"`` and whose examples were padded to a common length; each value
  of the graph knows statically which input its length comes from (backend/lengths.py), and
  modules of layers whose ``time`` fact is ``"lengths"`` receive it as ``lengths=``.
- ``_states``: ``{(node key, ..., port): (batch, ...) tensor}`` initial values of the hidden
  recurrent states (state inputs left unconnected); when it is given (``{}`` for the
  defaults), the result holds an extra entry ``"_states"`` with the final value of the state
  of every layer that has state ports (recurrent layers, NetFoldOperator), keyed the same way.

Static facts for callers are attributes of the module: ``state_types`` (every state key and
its PortType), ``free_states`` (the keys ``_states`` can set), ``output_lengths`` (graph
output -> its length variable ``(input port, offset)`` or None), ``mask_safe`` and
``unsafe_heads`` (layers that cannot mask padding).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..graph.net import Container
from ..ports import PortRef
from ..shapes import PortType
from .lengths import (
    LenVar,
    adapter,
    first_var,
    graph_plan,
    handling,
    input_vars_of,
    mask_fill,
    mean_fix,
    unsafe_layers,
)


def state_of(states: Mapping | None, key: tuple) -> Any:
    return None if states is None else states.get(key)


def sub_states(states: Mapping | None, k: str) -> dict | None:
    """The part of ``states`` under node ``k``, with ``k`` taken off the keys."""
    if states is None:
        return None
    return {key[1:]: v for key, v in states.items() if key[0] == k}


def prefixed(k: str, states: Mapping) -> dict:
    return {(k, *key): v for key, v in states.items()}


HELPERS = {"_mask_fill": mask_fill, "_mean_fix": mean_fix, "_st": state_of,
           "_sub": sub_states, "_pre": prefixed}


def state_types(g: Container) -> tuple[dict[tuple, PortType], set[tuple]]:
    """Every hidden-state key of ``g`` with its type, and the keys left unconnected."""
    types: dict[tuple, PortType] = {}
    free: set[tuple] = set()
    for k, layer in g.nodes.items():
        if isinstance(layer, Container):
            t, f = state_types(layer)
            types.update(prefixed(k, t))
            free |= {(k, *key) for key in f}
            continue
        for p in layer.states:
            types[(k, p)] = layer.in_types[p]
            if PortRef(k, p) not in g.edges:
                free.add((k, p))
    return types, free


class _Lengths:
    """Names of the length variables used by the generated code, and their definitions."""

    def __init__(self, taken: set[str]) -> None:
        from .lower import identifier
        self.identifier, self.taken = identifier, taken
        self.names: dict[tuple[str, int], str] = {}
        self.lines: list[str] = []

    def name(self, v: LenVar) -> str:
        if v is None:
            return "None"
        if v not in self.names:
            base = (v[0], 0)
            if base not in self.names:
                self.names[base] = self.identifier(f"_L_{v[0]}", self.taken)
                self.lines.append(f"    {self.names[base]} = _L.get({v[0]!r})")
            if v[1]:
                b = self.names[base]
                self.names[v] = self.identifier(f"_L_{v[0]}_{abs(v[1])}", self.taken)
                self.lines.append(f"    {self.names[v]} = None if {b} is None else {b} + ({v[1]})")
        return self.names[v]


def generate_forward_ext(g: Container, modules: Mapping[str, nn.Module],
                         arg_names: tuple[str, ...]) -> str:
    """Python source of ``forward_ext`` for graph ``g`` (see the module docstring)."""
    from .lower import signature, value_plan
    plan = graph_plan(g)
    taken = {"self", "_lengths", "_states", "_S", "_d", "_L", "_r", "_x", *arg_names}
    lens = _Lengths(taken)
    values = value_plan(g, arg_names, taken)
    var, keep, last_use, order = values.var, values.keep, values.last_use, values.order
    sig, checks = signature(g, arg_names)
    body: list[str] = []
    for i, k in enumerate(order):
        body += _node_lines(g, k, modules[k], plan, var, lens, last_use, keep)
        if i in values.dead:
            body.append(f"    del {', '.join(values.dead[i])}")
    outs = ", ".join(f"{p!r}: {var[g.edges[PortRef(None, p)]]}" for p in g.params["outputs"])
    head = [f"def forward_ext(self, {sig}_lengths=None, _states=None):",
            "    _S = None if _states is None else {}",
            "    _L = {} if _lengths is None else _lengths", *checks]
    tail = ["    _r = {" + outs + "}", "    if _S is not None:", "        _r['_states'] = _S",
            "    return _r"]
    return "\n".join(head + lens.lines + body + tail) + "\n"


def _node_lines(g: Container, k: str, module: nn.Module, plan: Mapping, var: Mapping,
                lens: _Lengths, last_use: Mapping, keep: set) -> list[str]:
    layer = g.nodes[k]
    ref = f"self.layers[{k.replace('.', '_')!r}]"
    invars = input_vars_of(g, k, plan)
    outs = layer.output_ports()
    names = [var[PortRef(k, p)] if var[PortRef(k, p)] in last_use or var[PortRef(k, p)] in keep
             or p in layer.states else "_" for p in outs]
    ins = [var[s] if (s := g.edges.get(PortRef(k, p))) is not None
           else (f"_st(_states, {(k, p)!r})" if p in layer.states else "None")
           for p in layer.input_ports()]
    if isinstance(layer, Container):
        lmap = {p: lens.name(v) for p, v in invars.items() if v is not None}
        lit = "{" + ", ".join(f"{p!r}: {n}" for p, n in lmap.items()) + "}" if lmap else "None"
        lines = [f"    _d = {ref}.forward_ext({', '.join(ins + [''])}_lengths={lit}, "
                 f"_states=_sub(_states, {k!r}))"]
        lines += [f"    {n} = _d[{p!r}]" for p, n in zip(outs, names, strict=False) if n != "_"]
        return lines + ["    if _S is not None:", f"        _S.update(_pre({k!r}, _d['_states']))"]
    lines, call = _leaf_call(layer, module, ref, ins, first_var(layer, invars), lens,
                             used=any(var[PortRef(k, p)] in last_use or var[PortRef(k, p)] in keep
                                      for p in layer.states))
    lines.append(f"    {names[0]} = {call}" if len(outs) == 1
                 else f"    {', '.join(names)} = {call}")
    if layer.states:
        stored = ", ".join(f"{(k, p)!r}: {var[PortRef(k, p)]}" for p in layer.states)
        lines += ["    if _S is not None:", f"        _S.update({{{stored}}})"]
    return lines


def _leaf_call(layer: Any, module: nn.Module, ref: str, ins: list[str], lv: LenVar,
               lens: _Lengths, used: bool) -> tuple[list[str], str]:
    """The expression calling one leaf module, with lengths or an adapter where needed."""
    how = handling(layer, module) if lv is not None else "pointwise"
    if how == "aware":
        ln = lens.name(lv)
        if getattr(module, "lengths_for_states_only", False) and not used:
            ln = f"({ln} if _S is not None else None)"    # outputs are right without masking
        return [], f"{ref}({', '.join(ins + [''])}lengths={ln})"
    lines: list[str] = []
    fix = None
    if how == "adapter":
        fill, mean = adapter(layer)  # type: ignore[misc]
        lines.append(f"    _x = _mask_fill({ins[0]}, {lens.name(lv)}, float({str(fill)!r}))")
        ins = ["_x", *ins[1:]]
        fix = f"{lens.name(lv)}, _x.shape[1]" if mean else None
    inline = getattr(module, "inline", None)
    call = (inline(ref, ins) if inline is not None else None) or f"{ref}({', '.join(ins)})"
    return lines, (f"_mean_fix({call}, {fix})" if fix else call)


def attach_extension(module: Any, g: Container, modules: Mapping[str, nn.Module]) -> None:
    """Generate and attach ``forward_ext`` and the static facts to a freshly built module."""
    code = generate_forward_ext(g, modules, tuple(module.arg_names))
    from .lower import load_source
    ns: dict[str, Any] = {**HELPERS, "torch": torch, "F": torch.nn.functional}
    forward_ext = load_source(code, "forward-ext", ns, "forward_ext")
    type(module).forward_ext = forward_ext  # type: ignore[attr-defined]
    type(module).ext_code = code  # type: ignore[attr-defined]
    plan = graph_plan(g)
    bad = unsafe_layers(g, modules, plan)
    module.mask_safe, module.unsafe_heads = not bad, tuple(bad)
    module.output_lengths = {p: plan.get(g.edges[PortRef(None, p)])
                             for p in g.params["outputs"]}
    module.state_types, module.free_states = state_types(g)
