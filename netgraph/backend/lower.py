"""Lowering: an inferred, initialized net -> a plain ``torch.nn.Module``.

A graph becomes a module whose ``forward`` is Python source generated from a topological
plan (as torch.fx does), so a call costs what hand-written code costs: no interpretation
of the graph per call, values dropped after their last use, traceable by
``torch.compile``/``torch.export``. ``forward`` takes the graph's inputs by name
(identifier-safe) and returns a dict ``{output port: tensor}``.

Small layers are inlined as torch expressions (``LayerModule.inline``: Linear, elementwise,
threading, softmax, sequence, loss and Catenate layers) and a nested graph is called through
its generated ``forward``, so neither pays ``nn.Module.__call__`` (forward hooks registered
on those submodules are not run); other layers are called as modules.
"""
from __future__ import annotations

import keyword
import linecache
import re
import weakref
from dataclasses import dataclass
from itertools import count
from typing import Any, cast

import torch
from torch import nn

from ..errors import EvaluationError, ShapeError
from ..graph.net import Container, wrap
from ..layers.base import Layer
from ..ports import PortRef
from . import families  # noqa: F401 - registers every head's torch module
from .base import LayerModule, builder_for
from .shared import tie_shared

_ids = count()


def identifier(name: str, taken: set[str]) -> str:
    """A Python identifier for a port name, unique within ``taken``."""
    s = re.sub(r"\W", "_", name) or "_"
    if s[0].isdigit() or keyword.iskeyword(s) or s == "self":
        s = "_" + s
    base, i = s, 1
    while s in taken:
        i += 1
        s = f"{base}_{i}"
    taken.add(s)
    return s


class GraphModule(nn.Module):
    """A lowered NetGraph/NetChain; ``forward`` is generated (see ``code``)."""

    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    arg_names: tuple[str, ...]
    code: str

    def __init__(self, layers: dict[str, nn.Module]) -> None:
        super().__init__()
        self.layers = nn.ModuleDict({k.replace(".", "_"): m for k, m in layers.items()})


def check_ready(net: Layer, head: str = "NetGraph", path: str = "") -> None:
    """Raise a clear error if any port shape is unknown or any array uninitialized."""
    if isinstance(net, Container):
        if not path:  # the net's own ports first: they are what the user can specify
            _check_ports(net, head)
        for k, layer in net.nodes.items():
            check_ready(layer, head, f"{path}{k if k.isdigit() else repr(k)} ")
        return
    where = f"layer {path.strip()} ({net.head})" if path else net.head
    for side, types, ports in (("input", net.in_types, net.input_ports()),
                               ("output", net.out_types, net.output_ports())):
        for p in ports:
            t = types.get(p)
            if t is None or not t.is_known():
                raise ShapeError(head, f'the shape of {side} port "{p}" of {where} could not be '
                                 "inferred; specify it with an option such as "
                                 f'{p}=... on the layer or on the graph\'s corresponding port.')
    for name, a in net.arrays.items():
        if a is None:
            raise EvaluationError(head, f'array "{name}" of {where} is not initialized; '
                                  "use NetInitialize(net) or NetTrain first.")


def _check_ports(net: Container, head: str) -> None:
    for side, types, ports in (("input", net.in_types, net.params["inputs"]),
                               ("output", net.out_types, net.params["outputs"])):
        for p in ports:
            t = types.get(p)
            if t is None or not t.is_known():
                raise ShapeError(head, f'the shape of {side} port "{p}" could not be inferred; '
                                 f"specify it with the option {p}=... (e.g. {p}=3 or "
                                 f'{p}="Real") or NetReplacePart(net, ("{p}", shape)).')


def build_module(net: Layer) -> nn.Module:
    """The torch module of a (specialized, initialized) layer or graph, float32 on CPU."""
    if isinstance(net, Container):
        return _build_graph(net)
    m: LayerModule = builder_for(net)(net)
    if m.array_names:
        m.set_arrays({k: v for k, v in net.arrays.items()})  # type: ignore[misc]
    return m


def lower(net: Layer, dtype: torch.dtype = torch.float32, device: str = "cpu") -> GraphModule:
    """A fresh module for ``net`` (a standalone layer is wrapped in a one-layer graph)."""
    g = wrap(net)
    check_ready(g if isinstance(net, Container) else net, net.head)
    module = build_module(g)
    tie_shared(g, module, net.head)  # each NetArray: one parameter for all its uses
    return module.to(device=device, dtype=dtype)  # type: ignore[return-value]


def _build_graph(g: Container) -> GraphModule:
    mods = {k: build_module(layer) for k, layer in g.nodes.items()}
    module = GraphModule(mods)
    code, args = generate_forward(g, mods)
    ns: dict[str, Any] = {"torch": torch, "F": torch.nn.functional}
    forward = load_source(code, "forward", ns, "forward")
    cls = type("GraphModule", (GraphModule,), {"forward": forward, "code": code})
    module.__class__ = cls
    module.input_names = tuple(g.params["inputs"])
    module.output_names = tuple(g.params["outputs"])
    module.arg_names = tuple(args)
    from .extended import attach_extension
    attach_extension(module, g, mods)
    return module


_free_names: dict[str, list[str]] = {}  # kind -> file names of generated code now unused


def load_source(code: str, kind: str, ns: dict[str, Any], fname: str) -> Any:
    """Compile generated ``code`` in ``ns`` and return the function ``fname`` it defines.

    Tracebacks show the source (linecache) while the function lives; then the entry goes
    and its file name is reused: a net lowered many times must not pile up source text or
    file names (Python keeps every code file name it has seen).
    """
    try:
        name = _free_names[kind].pop()
    except (KeyError, IndexError):
        name = f"<netgraph-{kind}-{next(_ids)}>"
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    exec(compile(code, name, "exec"), ns)  # noqa: S102 - our own generated source
    fn = ns[fname]
    weakref.finalize(fn, _release_name, kind, name)
    return fn


def _release_name(kind: str, name: str) -> None:
    linecache.cache.pop(name, None)
    _free_names.setdefault(kind, []).append(name)


def _optional_inputs(g: Container) -> set[str]:
    """Graph inputs that feed only recurrent state ports (they default to zeros)."""
    feeds: dict[str, list[PortRef]] = {}
    for d, s in g.edges.items():
        if s.node is None:
            feeds.setdefault(s.port, []).append(d)
    opt = set()
    for p, dsts in feeds.items():
        if all(d.node is not None and d.port in g.nodes[d.node].states
               or d.node is not None and isinstance(g.nodes[d.node], Container)
               and d.port in optional_ports(g.nodes[d.node]) for d in dsts):
            opt.add(p)
    return opt


def optional_ports(net: Layer) -> set[str]:
    """Input ports of ``net`` that may be omitted (recurrent states): zeros by default."""
    if isinstance(net, Container):
        cached = net._cache.get("optional")  # type: ignore[attr-defined]
        if cached is None:
            cached = net._cache["optional"] = _optional_inputs(net)  # type: ignore[attr-defined]
        return cached
    return set(net.states)


@dataclass
class ValuePlan:
    """Names of the values a generated forward handles, and when each can be dropped."""

    var: dict[PortRef, str]      # every graph input and layer output -> its variable
    keep: set[str]               # variables that must live to the end (inputs, outputs)
    last_use: dict[str, int]     # variable -> index in the order of its last consumer
    order: list[str]             # node keys, topologically sorted
    dead: dict[int, list[str]]   # index in the order -> variables to drop after it (sorted)


def value_plan(g: Container, arg_names: Any, taken: set[str]) -> ValuePlan:
    var: dict[PortRef, str] = {PortRef(None, p): a
                               for p, a in zip(g.params["inputs"], arg_names, strict=True)}
    order = list(g.params["order"])
    for k in order:
        for p in g.nodes[k].output_ports():
            var[PortRef(k, p)] = identifier(f"v_{k}_{p}", taken)
    keep = set(arg_names) | {var[s] for d, s in g.edges.items() if d.node is None}
    last_use: dict[str, int] = {}
    for i, k in enumerate(order):
        for p in g.nodes[k].input_ports():
            if (src := g.edges.get(PortRef(k, p))) is not None:
                last_use[var[src]] = i
    dead: dict[int, list[str]] = {}  # one pass, not one scan per node (10,000-layer nets)
    for v, i in sorted(last_use.items()):
        if v not in keep:
            dead.setdefault(i, []).append(v)
    return ValuePlan(var, keep, last_use, order, dead)


def signature(g: Container, arg_names: Any) -> tuple[str, list[str]]:
    """The argument list of a generated forward, and the checks it needs.

    Optional inputs (recurrent states) default to None. Python wants every argument after
    a defaulted one to have a default too, so a required input that follows an optional
    one also defaults to None and is checked in the body.
    """
    optional = _optional_inputs(g)
    parts, checks, defaulted = [], [], False
    for p, a in zip(g.params["inputs"], arg_names, strict=True):
        defaulted = defaulted or p in optional
        parts.append(f"{a}=None, " if defaulted else f"{a}, ")
        if defaulted and p not in optional:
            checks.append(f"    if {a} is None: raise TypeError({'missing input ' + repr(p)!r})")
    return "".join(parts), checks


def generate_forward(g: Container, modules: dict[str, nn.Module] | None = None
                     ) -> tuple[str, list[str]]:
    """Python source of ``forward`` for graph ``g``, and its argument names in order."""
    taken = {"self", "_lengths", "_states"}
    args = [identifier(p, taken) for p in g.params["inputs"]]
    plan = value_plan(g, args, taken)
    var, keep, last_use = plan.var, plan.keep, plan.last_use
    sig, checks = signature(g, args)
    # Lengths or hidden states go to the generated forward_ext (backend/extended.py).
    lines = [f"def forward(self, {sig}_lengths=None, _states=None):",
             "    if _lengths is not None or _states is not None:",
             f"        return self.forward_ext({''.join(a + ', ' for a in args)}"
             "_lengths=_lengths, _states=_states)", *checks]
    for i, k in enumerate(plan.order):
        layer = g.nodes[k]
        ins = [var[s] if (s := g.edges.get(PortRef(k, p))) is not None else "None"
               for p in layer.input_ports()]
        ref = f"self.layers[{k.replace('.', '_')!r}]"
        call = f"{ref}({', '.join(ins)})"
        if isinstance(layer, Container):  # our own GraphModule: no hooks, skip Module.__call__
            call = f"{ref}.forward({', '.join(ins)})"
        elif modules is not None:
            inlined = cast(LayerModule, modules[k]).inline(ref, ins)
            call = inlined if inlined is not None else call
        outs = layer.output_ports()
        names = [var[PortRef(k, p)] if var[PortRef(k, p)] in last_use
                 or var[PortRef(k, p)] in keep else "_" for p in outs]
        if isinstance(layer, Container):
            lines.append(f"    _d = {call}")
            lines += [f"    {n} = _d[{p!r}]" for p, n in zip(outs, names, strict=False) if n != "_"]
        elif len(outs) == 1:
            lines.append(f"    {names[0]} = {call}")
        else:
            lines.append(f"    {', '.join(names)} = {call}")
        if i in plan.dead:
            lines.append(f"    del {', '.join(plan.dead[i])}")
    ret = [f"{p!r}: {var[g.edges[PortRef(None, p)]]}" for p in g.params["outputs"]]
    lines.append("    return {" + ", ".join(ret) + "}")
    return "\n".join(lines) + "\n", args
