"""The mirrored ``forward`` of a GraphModule: its plan cut into checkpointed segments.

A lowered graph's class keeps its lowering plan (backend/plan.py): one step per layer, with
the variables each reads and writes. Runs of steps are cut into segments of about sqrt(n)
steps; each segment becomes a function of the values it reads and returns the values read
after it, and the new ``forward`` calls it under ``torch.utils.checkpoint``. A segment's
statements are those of the plain ``forward`` (``lower.forward_lines``). Steps that call a
recurrent layer or a nested graph stay inline (they mirror themselves). Dead values are
deleted as in the plain code.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .plan import Plan


@dataclass
class Block:
    """Statements run inline (``segment`` False) or as one checkpointed segment."""

    lines: list[str]
    segment: bool
    reads: list[str] = field(default_factory=list)     # names read before written, in order
    writes: list[str] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)        # module keys used
    size: int = 1                                      # steps in it


def mirrored_graph_class(module: Any, segment: int | None = None) -> type:
    """A subclass of ``type(module)`` whose ``forward`` mirrors (see the module docstring)."""
    from .lower import load_source
    base: Any = type(module)
    plan: Plan = base.plan
    args = [*plan.args, "_lengths", "_states"]
    code, segs = _source(plan, _blocks(plan, module, segment), args, module)
    ns: dict[str, Any] = dict(base.forward.__globals__)
    ns.update({"torch": torch, "_ckpt": run_segment, "_plain": base.forward, "_on": _on})
    forward = load_source(code, "mirrored", ns, "forward")
    return type(f"Mirrored{base.__name__}", (base,), {
        "forward": forward, "mirror_base": base, "mirror_code": code,
        "mirror_plain": staticmethod(base.forward), "mirror_segments": segs,
        "__module__": __name__})


def _mirrors_itself(m: nn.Module) -> bool:
    from .lower import GraphModule
    return isinstance(m, GraphModule) or any(isinstance(s, nn.RNNBase) for s in m.modules())


def _units(plan: Plan, module: Any) -> list[Block]:
    """One block per step: the handover and checks first, the return last (both inline)."""
    from .lower import forward_lines
    handover = ["    if _lengths is not None or _states is not None:",
                f"        return self.forward_ext({plan.call_args()}"
                "_lengths=_lengths, _states=_states)", *plan.checks]
    units = [Block(handover, False, reads=list(plan.args))]
    for step in plan.steps:
        m = module.layers[step.module]
        units.append(Block(forward_lines(step, m), not _mirrors_itself(m), step.reads(),
                           step.writes(), {step.module}))
    units.append(Block(["    return {" + plan.returned() + "}"], False,
                       reads=list(dict.fromkeys(v for _, v in plan.returns))))
    return units


def _blocks(plan: Plan, module: Any, segment: int | None) -> list[Block]:
    """Consecutive checkpointable steps grouped ``segment`` (default ~sqrt(n)) at a time."""
    units = _units(plan, module)
    n = sum(u.segment for u in units)
    size = max(1, segment or math.ceil(math.sqrt(n)))
    blocks: list[Block] = []
    for u in units:
        last = blocks[-1] if blocks else None
        if u.segment and last is not None and last.segment and last.size < size:
            last.lines += u.lines
            last.reads += [x for x in u.reads if x not in last.writes and x not in last.reads]
            last.writes += u.writes
            last.keys |= u.keys
            last.size += 1
        else:
            blocks.append(u)
    return blocks


def _source(plan: Plan, blocks: list[Block], args: list[str], module: Any) -> tuple[str, int]:
    """Source of the mirrored ``forward`` and its segment functions; the segment count."""
    last_read = {x: i for i, b in enumerate(blocks) for x in b.reads}
    call = ", ".join(f"{a}={a}" for a in args)
    tup = "".join(a + ", " for a in args)
    lines = [f"def forward(self, {plan.signature}_lengths=None, _states=None):",
             f"    if not (torch.is_grad_enabled() and _on(self, ({tup}))):",
             f"        return _plain(self, {call})"]
    funcs: list[str] = []
    for i, b in enumerate(blocks):
        outs = sorted(x for x in b.writes if any(x in c.reads for c in blocks[i + 1:]))
        if b.segment and outs:
            keys = tuple(sorted(k for k in b.keys if any(True for _ in
                                                         module.layers[k].buffers())))
            seg = f"_seg_{len(funcs)}"
            funcs.append(_segment_source(seg, b, outs))
            ins = "".join(x + ", " for x in b.reads)
            lines.append(f"    {''.join(o + ', ' for o in outs)}= "
                         f"_ckpt(self, {seg}, {keys!r}, {ins})")
        else:
            lines += b.lines
        dead = sorted(x for x, j in last_read.items() if j == i and x not in args)
        if dead and i < len(blocks) - 1:
            lines.append(f"    del {', '.join(dead)}")
    return "\n".join(funcs + lines) + "\n", len(funcs)


def _segment_source(name: str, b: Block, outs: list[str]) -> str:
    lines = [f"def {name}(self, {', '.join(b.reads)}):", *b.lines,
             f"    return ({''.join(o + ', ' for o in outs)})"]
    return "\n".join(lines) + "\n"


def _on(self: Any, args: tuple) -> bool:
    auto = self.mirror_auto
    return bool(self.mirror_on) if auto is None else auto.decide(self, args)


def run_segment(self: Any, fn: Any, keys: tuple[str, ...], *args: Any) -> Any:
    """``fn(self, *args)`` under checkpoint; buffers of layers ``keys`` kept on recompute."""
    if not keys:
        return checkpoint(fn, self, *args, use_reentrant=False)
    calls = [0]

    def run(*a: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            return fn(self, *a)
        with kept_buffers([b for k in keys for b in self.layers[k].buffers()]):
            return fn(self, *a)
    return checkpoint(run, *args, use_reentrant=False)


@contextmanager
def kept_buffers(buffers: list[Tensor]) -> Iterator[None]:
    """Restore the values of ``buffers`` on exit (a recomputation must not update them)."""
    saved = [b.detach().clone() for b in buffers]
    try:
        yield
    finally:
        with torch.no_grad():
            for b, s in zip(buffers, saved, strict=True):
                b.copy_(s)
