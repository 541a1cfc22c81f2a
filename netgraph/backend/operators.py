"""Torch modules of the higher-order operators (a RecurrentStep's is in backend/unfold.py).

An operator module keeps the lowered modules of its inner nets in ``self.inner``, an
``nn.ModuleDict`` keyed like the layer's ``inner_nets()`` ("Net", "ForwardNet",
"BackwardNet"): ``inner[key]`` is what ``build_module(inner net)`` gives (a GraphModule for a
graph, the layer's own module for a single layer). A net path therefore leads to its module
by taking ``.layers[key]`` in a graph and ``.inner[key]`` in an operator (:func:`module_at`).

- Map and MapThread fold the mapped levels into the batch: one call of the inner net.
- Fold loops over time in Python, except over a recurrent step (``NetUnfold(layer)``) with
  its canonical feedback, which runs the layer's fused kernel over the whole sequence.
- Nest loops n times; Bidirectional reverses each example within its own length.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from ..graph.net import Container
from ..layers import operators as O
from ..layers.base import Layer
from ..layers.inner import one_in_one_out
from .base import LayerModule, lowers
from .lengths import handling, reverse_within, time_mask, uniform


class Inner:
    """Calls one inner module with a dict of port values, whatever kind of module it is."""

    def __init__(self, layer: Layer, module: Any) -> None:
        self.graph = isinstance(layer, Container)
        self.ins, self.outs = (layer.input_ports(), layer.output_ports())
        if self.graph:
            self.args = dict(zip(layer.input_ports(), module.arg_names, strict=False))
            self.safe = bool(module.mask_safe)
        else:
            how = handling(layer, module)
            self.safe = how in ("aware", "pointwise")
            self.lengths_kw = how == "aware" and not getattr(module, "lengths_for_states_only",
                                                            False)
        # the innermost layers that cannot mask padding (an inner graph or operator names
        # its own), for NetTrain's message when it must group examples by exact length
        self.unsafe: tuple[str, ...] = () if self.safe else tuple(
            getattr(module, "unsafe_heads", None) or (layer.head,))

    def __call__(self, module: Any, feeds: Mapping[str, Tensor | None],
                 lengths: Tensor | None = None, in_port: str = "Input") -> dict[str, Tensor]:
        if self.graph:
            kw = {self.args[k]: v for k, v in feeds.items()}
            if lengths is None:
                return module(**kw)
            return module.forward_ext(**kw, _lengths={in_port: lengths})
        args = [feeds.get(p) for p in self.ins]
        r = module(*args, lengths=lengths) if self.lengths_kw and lengths is not None \
            else module(*args)
        return dict(zip(self.outs, r if isinstance(r, tuple) else (r,), strict=False))


def _inner_modules(layer: O.Operator) -> tuple[nn.ModuleDict, dict[str, Inner]]:
    from .lower import build_module, check_ready
    mods, calls = {}, {}
    for key, net in layer.inner_nets().items():
        check_ready(net, layer.head)
        mods[key] = build_module(net)
        calls[key] = Inner(net, mods[key])
    return nn.ModuleDict(mods), calls


def module_at(module: Any, path: tuple[str, ...]) -> Any:
    """The module of the layer at ``path`` (node keys and inner-net keys) under ``module``."""
    for k in path:
        module = module.layers[k.replace(".", "_")] if hasattr(module, "layers") \
            else module.inner[k]
    return module


class OperatorModule(LayerModule):
    # Where ``mask_safe`` is False, the heads of the inner layers that make it so (as a lowered
    # graph's ``unsafe_heads``).
    unsafe_heads: tuple[str, ...] = ()

    def __init__(self, layer: O.Operator) -> None:
        super().__init__()
        self.inner, self.calls = _inner_modules(layer)


class MapModule(OperatorModule):
    """NetMapOperator: the mapped level folded into the batch, one call of the inner net."""

    mask_safe = True   # each element is mapped alone: padding only makes padding

    def __init__(self, layer: O.NetMapOperator) -> None:
        super().__init__(layer)
        self.call = self.calls["Net"]
        self.port_in, self.port_out = one_in_one_out(layer.head, layer._net())

    def forward(self, x: Tensor) -> Tensor:
        b, t = x.shape[:2]
        r = self.call(self.inner["Net"], {self.port_in: x.reshape(b * t, *x.shape[2:])})
        y = r[self.port_out]                                   # (batch * time, ...)
        return y.reshape(b, t, *y.shape[1:])                   # (batch, time, ...)


class MapThreadModule(OperatorModule):
    """NetMapThreadOperator: mapped levels folded into the batch, other inputs repeated."""

    mask_safe = True

    def __init__(self, layer: O.NetMapThreadOperator) -> None:
        super().__init__(layer)
        self.levels, self.depth = dict(layer.params["levels"]), layer.depth()
        self.ports = layer.input_ports()
        self.outs = layer.output_ports()

    def forward(self, *xs: Tensor) -> Tensor | tuple[Tensor, ...]:
        d = self.depth
        ref = next(x for p, x in zip(self.ports, xs, strict=False) if self.levels[p])
        b, lead = ref.shape[0], tuple(ref.shape[1:1 + d])
        m = b * math.prod(lead)
        feeds = {}
        for p, x in zip(self.ports, xs, strict=False):
            if self.levels[p]:
                feeds[p] = x.reshape(m, *x.shape[1 + d:])                # (batch * lead, ...)
            else:
                e = x.reshape(b, *([1] * d), *x.shape[1:]).expand(b, *lead, *x.shape[1:])
                feeds[p] = e.reshape(m, *x.shape[1:])                    # repeated per element
        r = self.calls["Net"](self.inner["Net"], feeds)
        ys = tuple(r[o].reshape(b, *lead, *r[o].shape[1:]) for o in self.outs)
        return ys[0] if len(ys) == 1 else ys


class NestModule(OperatorModule):
    """NetNestOperator: the inner net applied n times."""


    def __init__(self, layer: O.NetNestOperator) -> None:
        super().__init__(layer)
        self.n = layer.params["n"]
        self.port_in, self.port_out = one_in_one_out(layer.head, layer._net())
        self.mask_safe = self.calls["Net"].safe
        self.unsafe_heads = self.calls["Net"].unsafe

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        call, net = self.calls["Net"], self.inner["Net"]
        for _ in range(self.n):
            x = call(net, {self.port_in: x}, lengths, self.port_in)[self.port_out]
        return x


class BidirectionalModule(OperatorModule):
    """NetBidirectionalOperator: forward net, backward net on each example reversed within
    its length, joined per element."""


    def __init__(self, layer: O.NetBidirectionalOperator) -> None:
        super().__init__(layer)
        self.agg = layer.params["aggregation"]
        self.ports = {k: one_in_one_out(layer.head, n) for k, n in layer.inner_nets().items()}
        self.mask_safe = all(c.safe for c in self.calls.values())
        self.unsafe_heads = tuple(dict.fromkeys(h for c in self.calls.values() for h in c.unsafe))

    def _run(self, key: str, x: Tensor, lengths: Tensor | None) -> Tensor:
        i, o = self.ports[key]
        return self.calls[key](self.inner[key], {i: x}, lengths, i)[o]

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        f = self._run("ForwardNet", x, lengths)                              # (batch, time, d)
        rb = self._run("BackwardNet", reverse_within(x, lengths), lengths)
        b = reverse_within(rb, lengths)                                      # (batch, time, d)
        if self.agg == "Catenate":
            return torch.cat([f, b], dim=-1)                                 # (batch, time, 2d)
        return f + b if self.agg == "Total" else (f + b) / 2


def fused_step(layer: O.NetFoldOperator) -> tuple[str, ...] | None:
    """The path to the recurrent step a fold can run as one fused layer, or None.

    That is a RecurrentStep (alone, or the one layer of a graph with the same ports) folded
    with its canonical feedback ("Output" -> "State", "CellState" -> "CellState"), no
    constants, and "Output" as its one output sequence."""
    net = layer._net()
    path: tuple[str, ...] = ()
    if isinstance(net, Container) and len(net.nodes) == 1:
        (k, node), = net.nodes.items()
        same = (net.graph.inputs == node.input_ports()
                and net.graph.outputs == node.output_ports()
                and all(s.node is None and s.port == d.port or d.node is None and s.port ==
                        d.port for d, s in net.edges.items()))
        net, path = (node, (k,)) if same else (net, ())
    if not isinstance(net, O.RecurrentStep):
        return None
    canon = (("Output", "State"),) + ((("CellState", "CellState"),)
                                      if "CellState" in net.input_ports() else ())
    p = layer.params
    ok = tuple(p["feedback"]) == canon and not p["consts"] and tuple(p["outputs"]) == ("Output",)
    return path if ok else None


class FoldModule(OperatorModule):
    """NetFoldOperator: a loop over time calling the inner net once per step; states stop at
    each example's own length. Over a recurrent step, the fused kernel instead."""

    lengths_for_states_only = True   # steps past an example's end only change padding
    mask_safe = True

    def __init__(self, layer: O.NetFoldOperator) -> None:
        super().__init__(layer)
        p = layer.params
        self.mapped, self.consts = tuple(p["mapped"]), tuple(p["consts"])
        self.feedback, self.outs = tuple(p["feedback"]), tuple(p["outputs"])
        self.states = tuple(b for _, b in self.feedback)
        self.state_shapes = {b: layer.in_types[b].fixed_shape() for b in self.states}
        self.fused = fused_step(layer)

    def forward(self, *ins: Tensor | None, lengths: Tensor | None = None
                ) -> tuple[Tensor, ...]:
        if self.fused is not None:
            step: Any = self.inner["Net"]
            for k in self.fused:
                step = step.layers[k]
            return step.rec(*ins, lengths=lengths)            # (batch, time, n), states
        names = (*self.mapped, *self.consts, *self.states)
        given = dict(zip(names, ins, strict=False))
        xs = {m: given[m] for m in self.mapped}
        ref = xs[self.mapped[0]]
        b, steps = ref.shape[:2]
        s = {k: given[k] if given[k] is not None else self._zeros(ref, k) for k in self.states}
        valid = None if lengths is None or uniform(lengths, steps) else time_mask(
            lengths.to(ref.device), steps)
        seqs: dict[str, list[Tensor]] = {o: [] for o in self.outs}
        consts = {c: given[c] for c in self.consts}
        for t in range(steps):
            r = self.calls["Net"](self.inner["Net"], {**{m: x[:, t] for m, x in xs.items()},
                                                      **consts, **s})
            new = {b_: r[a] for a, b_ in self.feedback}
            if valid is not None:                              # hold states past each end
                new = {k: torch.where(valid[:, t].reshape(b, *([1] * (v.dim() - 1))), v, s[k])
                       for k, v in new.items()}
            s = new
            for o in self.outs:
                seqs[o].append(r[o])
        return (*(torch.stack(seqs[o], dim=1) for o in self.outs),   # (batch, time, ...)
                *(s[k] for k in self.states))

    def _zeros(self, ref: Tensor, k: str) -> Tensor:
        dtype = ref.dtype if ref.is_floating_point() else torch.get_default_dtype()
        return torch.zeros(ref.shape[0], *self.state_shapes[k], dtype=dtype, device=ref.device)


lowers(O.NetMapOperator)(MapModule)
lowers(O.NetMapThreadOperator)(MapThreadModule)
lowers(O.NetNestOperator)(NestModule)
lowers(O.NetBidirectionalOperator)(BidirectionalModule)
lowers(O.NetFoldOperator)(FoldModule)
