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

import linecache
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from itertools import count
from typing import Any

import torch
from torch import nn

from ..errors import EvaluationError, ShapeError
from ..graph.net import Container, wrap
from ..graph.walk import leaves, path_label
from ..layers.base import Layer
from . import families  # noqa: F401 - registers every head's torch module
from .base import LayerModule, builder_for
from .plan import Plan, Step, identifier, make_plan, optional_ports
from .shared import tie_shared

__all__ = ["GraphModule", "build_module", "check_ready", "forward_lines", "generate_forward",
           "identifier", "inference_forward", "load_source", "lower", "optional_ports",
           "ParameterView"]

_ids = count()


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
    if not path:
        _check_stand_ins(net, head)
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


def _check_stand_ins(net: Layer, head: str) -> None:
    """A PlaceholderLayer anywhere refuses the net, before any shape or array is checked."""
    for p, layer in leaves(net):
        if getattr(layer, "stand_in", False):
            name = layer.describe()  # type: ignore[attr-defined]
            where = f"layer {path_label(p)} ({name})" if p else name
            raise EvaluationError(head, f"{where} is a placeholder: it declares ports but "
                                  "computes nothing, so the net cannot be evaluated or trained; "
                                  "replace it with real layers (NetReplacePart).")


def _check_ports(net: Container, head: str) -> None:
    for side, types, ports in (("input", net.in_types, net.graph.inputs),
                               ("output", net.out_types, net.graph.outputs)):
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
    plan = make_plan(g)
    if any(getattr(m, "channels_last", False) for mod in mods.values() for m in mod.modules()):
        plan = replace(plan, contiguous=True)   # backend/conv.py: the layout stays inside
    for step in plan.steps:
        tell = getattr(mods[step.key], "outputs_read", None)
        if tell is not None:
            tell({p: used for p, _, used in step.outputs})
    code = generate_forward(plan, mods)
    ns: dict[str, Any] = {"torch": torch, "F": torch.nn.functional}
    forward = load_source(code, "forward", ns, "forward")
    cls = type("GraphModule", (GraphModule,), {"forward": forward, "code": code, "plan": plan})
    module.__class__ = cls
    module.input_names = plan.inputs
    module.output_names = plan.outputs
    module.arg_names = plan.args
    from .extended import attach_extension
    attach_extension(module, g, mods, plan)
    return module


_free_names: dict[str, list[str]] = {}  # kind -> file names of generated code now unused
_stale: list[str] = []                  # their source entries, removed at the next load


def load_source(code: str, kind: str, ns: dict[str, Any], fname: str) -> Any:
    """Compile generated ``code`` in ``ns`` and return the function ``fname`` it defines.

    Tracebacks show the source (linecache) while the function lives; then the entry goes
    and its file name is reused: a net lowered many times must not pile up source text or
    file names (Python keeps every code file name it has seen).
    """
    while _stale:
        stale = _stale.pop()
        entry = linecache.cache.get(stale)
        if entry is not None and len(entry) == 4 and not entry[2]:   # emptied, not reused
            linecache.cache.pop(stale, None)
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
    # Called by a finalizer, which garbage collection may run inside linecache.checkcache's
    # loop over the cache's keys: removing the entry there made that loop fail with a
    # KeyError. The source goes now (the entry is emptied); the key at the next load.
    if name in linecache.cache:
        linecache.cache[name] = (0, None, [], name)
    _stale.append(name)
    _free_names.setdefault(kind, []).append(name)


def generate_forward(plan: Plan, modules: Mapping[str, nn.Module] | None = None,
                     refs: Sequence[str] | None = None) -> str:
    """Python source of ``forward``: one statement per step of the plan, values dropped
    right after their last use. Without ``modules`` every layer is called as a module;
    ``refs`` names each step's module otherwise than ``self.layers[...]``."""
    lines = [f"def forward(self, {plan.signature}_lengths=None, _states=None):",
             # lengths or hidden states: the generated forward_ext (backend/extended.py)
             "    if _lengths is not None or _states is not None:",
             f"        return self.forward_ext({plan.call_args()}"
             "_lengths=_lengths, _states=_states)", *plan.checks]
    for i, step in enumerate(plan.steps):
        lines += forward_lines(step, None if modules is None else modules[step.key],
                               None if refs is None else refs[i])
        if step.dead:
            lines.append(f"    del {', '.join(step.dead)}")
    lines.append("    return {" + plan.returned() + "}")
    return "\n".join(lines) + "\n"


def forward_lines(step: Step, module: nn.Module | None, ref: str | None = None) -> list[str]:
    """The statements of one step in the plain ``forward`` (also what mirroring segments).

    Small layers are inlined (``LayerModule.inline``) and a nested graph is called through
    its generated ``forward``: neither pays ``nn.Module.__call__``.
    """
    ref = ref or step.ref
    ins = [v or "None" for _, v in step.inputs]
    if step.nested:
        return [f"    _d = {ref}.forward({', '.join(ins)})",
                *(f"    {v} = _d[{p!r}]" for p, v, used in step.outputs if used)]
    inline = getattr(module, "inline", None)
    call = (inline(ref, ins) if inline is not None else None) or f"{ref}({', '.join(ins)})"
    return [f"    {', '.join(v if used else '_' for _, v, used in step.outputs)} = {call}"]


class ParameterView:
    """A layer module whose parameters and buffers are plain attributes.

    The generated forward reads ``self.layers[k].Weights``: two ``nn.Module.__getattr__``
    calls and a ModuleDict lookup per array, about a microsecond each. An evaluator's
    module is its own and never changes, so its forward reads the arrays from these views
    instead; anything else (calls, methods, submodules, ``training``) goes to the module.
    """

    def __init__(self, module: nn.Module) -> None:
        self.__dict__.update(module._parameters)
        self.__dict__.update(module._buffers)
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._module(*args, **kwargs)


def inference_forward(module: GraphModule) -> Callable[..., dict[str, torch.Tensor]]:
    """``module.forward`` for a module that will not change (an evaluator's): the same
    generated code reading each layer's arrays from a :class:`ParameterView`."""
    plan: Plan = type(module).plan  # type: ignore[attr-defined]
    mods = {s.key: module.layers[s.module] for s in plan.steps}
    views = tuple(ParameterView(mods[s.key]) for s in plan.steps)
    code = generate_forward(plan, mods, [f"_V[{i}]" for i in range(len(views))])
    ns: dict[str, Any] = {"torch": torch, "F": torch.nn.functional, "_V": views}
    return load_source(code, "inference", ns, "forward").__get__(module)
