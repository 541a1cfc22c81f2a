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
from ..layers.base import Layer
from ..ports import PortRef
from ..shapes import PortType
from .lengths import LenVar, adapter, first_var, handling, mask_fill, mean_fix
from .plan import Plan, Step, identifier


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
        self.taken = taken
        self.names: dict[tuple[str, int], str] = {}
        self.lines: list[str] = []

    def name(self, v: LenVar) -> str:
        if v is None:
            return "None"
        if v not in self.names:
            base = (v[0], 0)
            if base not in self.names:
                self.names[base] = identifier(f"_L_{v[0]}", self.taken)
                self.lines.append(f"    {self.names[base]} = _L.get({v[0]!r})")
            if v[1]:
                b = self.names[base]
                self.names[v] = identifier(f"_L_{v[0]}_{abs(v[1])}", self.taken)
                self.lines.append(f"    {self.names[v]} = None if {b} is None else {b} + ({v[1]})")
        return self.names[v]


def generate_forward_ext(plan: Plan, g: Container, modules: Mapping[str, nn.Module]) -> str:
    """Python source of ``forward_ext`` for graph ``g`` (see the module docstring)."""
    lens = _Lengths(set(plan.taken))
    body: list[str] = []
    for step in plan.steps:
        body += _step_lines(step, g.nodes[step.key], modules[step.key], lens)
        if step.dead:
            body.append(f"    del {', '.join(step.dead)}")
    head = [f"def forward_ext(self, {plan.signature}_lengths=None, _states=None):",
            "    _S = None if _states is None else {}",
            "    _L = {} if _lengths is None else _lengths", *plan.checks]
    tail = ["    _r = {" + plan.returned() + "}", "    if _S is not None:",
            "        _r['_states'] = _S", "    return _r"]
    return "\n".join(head + lens.lines + body + tail) + "\n"


def _step_lines(step: Step, layer: Layer, module: nn.Module, lens: _Lengths) -> list[str]:
    k, ref = step.key, step.ref
    invars = dict(step.lengths)
    names = [v if used or p in step.states else "_" for p, v, used in step.outputs]
    ins = [v if v is not None else (f"_st(_states, {(k, p)!r})" if p in step.states else "None")
           for p, v in step.inputs]
    if step.nested:
        lmap = {p: lens.name(v) for p, v in invars.items() if v is not None}
        lit = "{" + ", ".join(f"{p!r}: {n}" for p, n in lmap.items()) + "}" if lmap else "None"
        lines = [f"    _d = {ref}.forward_ext({', '.join(ins + [''])}_lengths={lit}, "
                 f"_states=_sub(_states, {k!r}))"]
        lines += [f"    {n} = _d[{p!r}]" for (p, _, _), n in zip(step.outputs, names,
                                                                 strict=True) if n != "_"]
        return lines + ["    if _S is not None:", f"        _S.update(_pre({k!r}, _d['_states']))"]
    used = any(u for p, _, u in step.outputs if p in step.states)
    lines, call = _leaf_call(layer, module, ref, ins, first_var(layer, invars), lens, used)
    lines.append(f"    {', '.join(names)} = {call}")
    if step.states:
        stored = ", ".join(f"{(k, p)!r}: {v}" for p, v, _ in step.outputs if p in step.states)
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


def unsafe_layers(plan: Plan, g: Container, modules: Mapping[str, nn.Module]) -> list[str]:
    """Heads of the layers of ``g`` that receive a padded sequence and cannot mask it."""
    nodes = g.nodes
    return [nodes[s.key].head for s in plan.steps
            if first_var(nodes[s.key], dict(s.lengths)) is not None
            and handling(nodes[s.key], modules[s.key]) == "unsafe"]


def attach_extension(module: Any, g: Container, modules: Mapping[str, nn.Module], plan: Plan
                     ) -> None:
    """Generate and attach ``forward_ext`` and the static facts to a freshly built module."""
    code = generate_forward_ext(plan, g, modules)
    from .lower import load_source
    ns: dict[str, Any] = {**HELPERS, "torch": torch, "F": torch.nn.functional}
    forward_ext = load_source(code, "forward-ext", ns, "forward_ext")
    type(module).forward_ext = forward_ext  # type: ignore[attr-defined]
    type(module).ext_code = code  # type: ignore[attr-defined]
    bad = unsafe_layers(plan, g, modules)
    module.mask_safe, module.unsafe_heads = not bad, tuple(bad)
    module.output_lengths = {p: plan.lengths.get(g.graph.output_source(p)) for p in plan.outputs}
    module.state_types, module.free_states = state_types(g)
