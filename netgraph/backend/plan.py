"""The lowering plan: a graph laid out as straight-line code, shared by the code generators.

Stage four of DESIGN.md (declare -> graph IR -> infer -> **lower** -> run). :func:`make_plan`
reads an inferred :class:`~netgraph.graph.ir.GraphIR` once and decides everything the
generated code shares: the argument names and signature, one :class:`Step` per layer in
topological order with the variables it reads and writes, when each value is dropped (right
after its last use), what is returned, and the length variable of every value (for the
length-aware code). Three generators read it and never each other's output:

- ``forward`` (backend/lower.py): the plain call;
- ``forward_ext`` (backend/extended.py): per-example lengths and hidden recurrent states;
- the mirrored ``forward`` (backend/mirror_plan.py): the same steps cut into checkpointed
  segments.

The plan holds names and keys, not layers, so a lowered module that keeps it (its class's
``plan``) keeps no learned arrays alive.
"""
from __future__ import annotations

import keyword
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..graph.ir import GraphIR
from ..graph.net import Container
from ..graph.walk import run_through_graph
from ..layers.base import Layer
from ..ports import PortRef
from .lengths import LenVar, graph_plan

# Names the generated code uses for itself; a port never gets one of them as its argument.
RESERVED = frozenset({"self", "torch", "F", "_lengths", "_states", "_S", "_d", "_L", "_r",
                      "_x", "_plain", "_ckpt", "_on", "_st", "_sub", "_pre", "_mask_fill",
                      "_mean_fix"})


def identifier(name: str, taken: set[str]) -> str:
    """A Python identifier for a port name, unique within ``taken`` (which it joins)."""
    s = re.sub(r"\W", "_", name) or "_"
    if s[0].isdigit() or keyword.iskeyword(s) or s == "self":
        s = "_" + s
    base, i = s, 1
    while s in taken:
        i += 1
        s = f"{base}_{i}"
    taken.add(s)
    return s


def module_key(key: str) -> str:
    """The key of a layer's module in the ``nn.ModuleDict`` (torch forbids dots)."""
    return key.replace(".", "_")


@dataclass(frozen=True)
class Step:
    """One layer of the plan: the statement that runs it and what it reads and writes.

    Attributes:
        key: the layer's key in the graph.
        module: the key of its module in ``self.layers``.
        nested: True for a nested graph (called through its generated ``forward``).
        inputs: ``(port, variable)`` for each input port; the variable is None when the port
            is unconnected (a recurrent state left to its default).
        outputs: ``(port, variable, used)`` for each output port; ``used`` is False when no
            later step and no graph output reads it.
        states: the layer's recurrent state ports (inputs and outputs at once).
        dead: variables no later step reads, dropped right after this one.
        lengths: ``(port, length variable)`` for each input port (backend/lengths.py).
    """

    key: str
    module: str
    nested: bool
    inputs: tuple[tuple[str, str | None], ...]
    outputs: tuple[tuple[str, str, bool], ...]
    states: tuple[str, ...]
    dead: tuple[str, ...]
    lengths: tuple[tuple[str, LenVar], ...]

    @property
    def ref(self) -> str:
        """The module as the generated code names it."""
        return f"self.layers[{self.module!r}]"

    def reads(self) -> list[str]:
        """The variables this step reads, in order, each once."""
        return list(dict.fromkeys(v for _, v in self.inputs if v is not None))

    def writes(self) -> list[str]:
        """The variables this step assigns that something reads."""
        return [v for _, v, used in self.outputs if used]


@dataclass(frozen=True)
class Plan:
    """A graph laid out for code generation (see the module docstring).

    Attributes:
        inputs: the graph's input ports, in order; ``args`` their argument names.
        outputs: the graph's output ports, in order.
        optional: the inputs that may be omitted (they feed only recurrent states).
        signature: the argument list after ``self`` (ending in ", ").
        checks: statements that check required inputs after a defaulted one.
        steps: one :class:`Step` per layer, in topological order.
        returns: ``(output port, variable)`` pairs of the returned dict.
        lengths: ``{source: length variable}`` (backend/lengths.py) of every value.
        taken: every identifier the plan uses (generators add theirs without clashing).
        contiguous: return contiguous tensors (the modules may compute in another memory
            layout: channels-last convolutions, backend/conv.py).
    """

    inputs: tuple[str, ...]
    args: tuple[str, ...]
    outputs: tuple[str, ...]
    optional: frozenset[str]
    signature: str
    checks: tuple[str, ...]
    steps: tuple[Step, ...]
    returns: tuple[tuple[str, str], ...]
    lengths: Mapping[PortRef, LenVar]
    taken: frozenset[str]
    contiguous: bool = False

    def call_args(self) -> str:
        """The arguments passed on to another generated function (``x, y, ``)."""
        return "".join(a + ", " for a in self.args)

    def returned(self) -> str:
        """The returned dict's entries: ``'Output': v_3_Output, ...``."""
        tail = ".contiguous()" if self.contiguous else ""
        return ", ".join(f"{p!r}: {v}{tail}" for p, v in self.returns)

    def dead(self) -> dict[int, list[str]]:
        """Step index -> variables dropped after it (what ``del`` statements say)."""
        return {i: list(s.dead) for i, s in enumerate(self.steps) if s.dead}

    def last_use(self) -> dict[str, int]:
        """Variable -> index of the last step that reads it."""
        return {v: i for i, s in enumerate(self.steps) for v in s.reads()}

    def keep(self) -> set[str]:
        """Variables that live to the end: the arguments and the returned values."""
        return set(self.args) | {v for _, v in self.returns}


def make_plan(g: Container) -> Plan:
    """The plan of an inferred graph (see the module docstring)."""
    graph = g.graph
    taken = set(RESERVED)
    args = tuple(identifier(p, taken) for p in graph.inputs)

    def name(k: str, layer: Layer, ins: Mapping[str, str | None]) -> dict[str, str]:
        return {p: identifier(f"v_{k}_{p}", taken) for p in layer.output_ports()}

    var = run_through_graph(graph, dict(zip(graph.inputs, args, strict=True)), name)
    order = _read_last_directly(graph, var)
    returns = tuple((p, var[graph.output_source(p)]) for p in graph.outputs)
    keep = set(args) | {v for _, v in returns}
    reads = [[var[s] for _, s in graph.input_sources(k) if s is not None] for k in order]
    last_use = {v: i for i, vs in enumerate(reads) for v in vs}
    dead: dict[int, list[str]] = {}  # one pass, not one scan per layer (10,000-layer nets)
    for v, i in sorted(last_use.items()):
        if v not in keep:
            dead.setdefault(i, []).append(v)
    optional = optional_inputs(g)
    signature, checks = _signature(graph, args, optional)
    lengths = graph_plan(g)
    steps = _max_before_ramp(graph, tuple(
        _step(graph, k, var, lengths, last_use, keep, dead.get(i, []))
        for i, k in enumerate(order)), keep)
    return Plan(graph.inputs, args, graph.outputs, frozenset(optional), signature, checks,
                steps, returns, lengths, frozenset(taken))


def _read_last_directly(graph: GraphIR, var: dict[PortRef, str]) -> tuple[str, ...]:
    """The layer order, less each layer that takes the last element of a sequence another
    layer also gives on a port of its own (a recurrent layer's "Output" -> SequenceLastLayer
    reads its "State": ``Layer.last_of``/``takes_last``), when nothing else reads the
    sequence; ``var`` then maps the dropped layer's output to that port's variable.

    The sequence is then never read, so a mirrored recurrent layer need not keep it, nor
    its gradient (one step's worth of memory instead of the whole sequence's, twice).
    """
    readers: dict[PortRef, int] = {}
    for k in graph.order:
        for _, s in graph.input_sources(k):
            if s is not None:
                readers[s] = readers.get(s, 0) + 1
    for p in graph.outputs:
        s = graph.output_source(p)
        readers[s] = readers.get(s, 0) + 1
    dropped = set()
    for k in graph.order:
        layer = graph.nodes[k]
        src = dict(graph.input_sources(k)).get("Input") if layer.takes_last else None
        if src is None or src.node is None or readers.get(src) != 1:
            continue
        final = graph.nodes[src.node].last_of.get(src.port)
        if final is not None:
            var[PortRef(k, "Output")] = var[PortRef(src.node, final)]
            dropped.add(k)
    return tuple(k for k in graph.order if k not in dropped)


def _max_before_ramp(graph: GraphIR, steps: tuple[Step, ...], keep: set[str]
                     ) -> tuple[Step, ...]:
    """Max pooling run before the Ramp it reads (``Layer.commutes_with_max`` and
    ``pools_max``): the same values and gradients, ties included, with the Ramp on the
    pooled tensor (a quarter of the work for a 2x2 pooling, and cheaper pooling backward).

    Only where nothing else reads the Ramp's output (no other layer, no graph output) and
    no sequence lengths are involved. The steps stay in place: the Ramp's step becomes the
    pooling, reading the Ramp's input and writing the Ramp's variable (nothing between the
    two reads it); the pooling's step becomes the Ramp, writing the pooling's variable. So
    the generators (plain, length-aware, mirrored) see ordinary steps.
    """
    out = list(steps)
    readers = Counter(v for s in steps for v in s.reads())
    producer = {v: i for i, s in enumerate(steps) for v in s.writes()}
    for j, pool in enumerate(steps):
        reads = pool.reads()
        if pool.nested or not getattr(graph.nodes[pool.key], "pools_max", False) \
                or len(reads) != 1 or readers[reads[0]] != 1 or reads[0] in keep:
            continue
        i = producer.get(reads[0])
        if i is None:
            continue
        ramp = steps[i]
        if ramp.nested or ramp.writes() != reads \
                or not getattr(graph.nodes[ramp.key], "commutes_with_max", False) \
                or any(v is not None for _, v in ramp.lengths + pool.lengths):
            continue
        out[i] = replace(pool, inputs=ramp.inputs, outputs=ramp.outputs, dead=ramp.dead,
                         lengths=ramp.lengths)
        out[j] = replace(ramp, inputs=pool.inputs, outputs=pool.outputs, dead=pool.dead,
                         lengths=pool.lengths)
    return tuple(out)


def _step(graph: GraphIR, k: str, var: Mapping[PortRef, str],
          lengths: Mapping[PortRef, LenVar], last_use: Mapping[str, int], keep: set[str],
          dead: list[str]) -> Step:
    layer = graph.nodes[k]
    sources = list(graph.input_sources(k))
    ins = tuple((p, None if s is None else var[s]) for p, s in sources)
    outs = tuple((p, v, v in last_use or v in keep)
                 for p in layer.output_ports() for v in (var[PortRef(k, p)],))
    lens = tuple((p, None if s is None else lengths.get(s)) for p, s in sources)
    return Step(k, module_key(k), isinstance(layer, Container), ins, outs,
                tuple(layer.states), tuple(dead), lens)


def _signature(graph: GraphIR, args: tuple[str, ...], optional: set[str]
               ) -> tuple[str, tuple[str, ...]]:
    """The argument list of a generated function, and the checks it needs.

    Optional inputs (recurrent states) default to None. Python wants every argument after
    a defaulted one to have a default too, so a required input that follows an optional
    one also defaults to None and is checked in the body.
    """
    parts, checks, defaulted = [], [], False
    for p, a in zip(graph.inputs, args, strict=True):
        defaulted = defaulted or p in optional
        parts.append(f"{a}=None, " if defaulted else f"{a}, ")
        if defaulted and p not in optional:
            checks.append(f"    if {a} is None: raise TypeError({'missing input ' + repr(p)!r})")
    return "".join(parts), tuple(checks)


def optional_inputs(g: Container) -> set[str]:
    """Graph inputs that feed only recurrent state ports (they default to zeros)."""
    feeds: dict[str, list[PortRef]] = {}
    for d, s in g.edges.items():
        if s.node is None:
            feeds.setdefault(s.port, []).append(d)
    nodes = g.nodes
    return {p for p, dsts in feeds.items()
            if all(d.node is not None and d.port in optional_ports(nodes[d.node])
                   for d in dsts)}


def optional_ports(net: Layer) -> set[str]:
    """Input ports of ``net`` that may be omitted (recurrent states): zeros by default."""
    if isinstance(net, Container):
        return optional_inputs(net)
    return set(net.states)
