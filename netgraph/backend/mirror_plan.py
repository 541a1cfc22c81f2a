"""The mirrored ``forward`` of a GraphModule: its generated plan cut into checkpointed segments.

The plain ``forward`` (backend/lower.py) is straight-line code: one statement per layer, then
``del`` of dead values and a ``return``. Here it is parsed back (``ast``) into units, one per
layer statement (a statement without a call, such as ``v = _d['Output']``, joins the unit
before it). Runs of units are cut into segments of about sqrt(n) units; each segment becomes
a function of the values it reads and returns the values read after it, and the new
``forward`` calls it under ``torch.utils.checkpoint``. Units that call a recurrent layer or a
nested graph stay inline (they mirror themselves), and so does any other statement (the
``return``, the hand-over to ``forward_ext``). Dead values are deleted as in the plain code.
"""
from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint


@dataclass
class Block:
    """Statements run inline (``segment`` False) or as one checkpointed segment."""

    stmts: list[ast.stmt]
    segment: bool
    reads: list[str] = field(default_factory=list)     # names read before written, in order
    writes: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)        # layer keys used
    size: int = 1                                      # units in it


def mirrored_graph_class(module: Any, segment: int | None = None) -> type:
    """A subclass of ``type(module)`` whose ``forward`` mirrors (see the module docstring)."""
    base: Any = type(module)
    fn = cast(ast.FunctionDef, ast.parse(base.code).body[0])
    inline = {k for k, m in module.layers.items() if _mirrors_itself(m)}
    args = [a.arg for a in fn.args.args[1:]]
    blocks = _blocks(_units(fn.body, inline), segment)
    local = set(args).union(*(b.writes for b in blocks))
    for b in blocks:                    # globals (torch, F, helpers) are not passed around
        b.reads = [x for x in b.reads if x in local]
    code, segs = _source(fn, blocks, args, module)
    ns: dict[str, Any] = dict(base.forward.__globals__)
    ns.update({"torch": torch, "_ckpt": run_segment, "_plain": base.forward, "_on": _on})
    from .lower import load_source
    forward = load_source(code, "mirrored", ns, "forward")
    return type(f"Mirrored{base.__name__}", (base,), {
        "forward": forward, "mirror_base": base, "mirror_code": code,
        "mirror_plain": staticmethod(base.forward), "mirror_segments": segs,
        "__module__": __name__})


def _mirrors_itself(m: nn.Module) -> bool:
    from .lower import GraphModule
    return isinstance(m, GraphModule) or any(isinstance(s, nn.RNNBase) for s in m.modules())


def _layer_keys(node: ast.AST) -> set[str]:
    """Keys ``k`` of every ``self.layers[k]`` in ``node``."""
    keys = set()
    for n in ast.walk(node):
        if (isinstance(n, ast.Subscript) and isinstance(n.value, ast.Attribute)
                and n.value.attr == "layers" and isinstance(n.value.value, ast.Name)
                and n.value.value.id == "self" and isinstance(n.slice, ast.Constant)):
            keys.add(str(n.slice.value))
    return keys


def _units(body: list[ast.stmt], inline: set[str]) -> list[Block]:
    units: list[Block] = []
    for s in body:
        if isinstance(s, ast.Delete):
            continue                                # dels are recomputed for the new code
        simple = isinstance(s, (ast.Assign, ast.Expr))
        calls = any(isinstance(n, ast.Call) for n in ast.walk(s))
        if simple and not calls and units:
            units[-1].stmts.append(s)
            continue
        keys = _layer_keys(s)
        units.append(Block([s], simple and calls and not keys & inline, keys=keys))
    return units


def _blocks(units: list[Block], segment: int | None) -> list[Block]:
    """Consecutive checkpointable units grouped ``segment`` (default ~sqrt(n)) at a time."""
    n = sum(u.segment for u in units)
    size = max(1, segment or math.ceil(math.sqrt(n)))
    blocks: list[Block] = []
    for u in units:
        last = blocks[-1] if blocks else None
        if u.segment and last is not None and last.segment and last.size < size:
            last.stmts += u.stmts
            last.keys |= u.keys
            last.size += 1
        else:
            blocks.append(u)
    for b in blocks:
        _scan(b)
    return blocks


def _scan(b: Block) -> None:
    """Fill ``reads`` (names read before any write in the block) and ``writes``."""
    for s in b.stmts:
        loads = [n.id for n in ast.walk(s) if isinstance(n, ast.Name)
                 and isinstance(n.ctx, ast.Load)]
        for x in loads:
            if x not in b.writes and x not in b.reads and x != "self":
                b.reads.append(x)
        b.writes |= {n.id for n in ast.walk(s) if isinstance(n, ast.Name)
                     and isinstance(n.ctx, ast.Store)}


def _source(fn: ast.FunctionDef, blocks: list[Block], args: list[str], module: Any
            ) -> tuple[str, int]:
    """Source of the mirrored ``forward`` and its segment functions; the segment count."""
    last_read = {x: i for i, b in enumerate(blocks) for x in b.reads}
    params = ast.unparse(fn.args)
    call = ", ".join(f"{a}={a}" for a in args)
    tup = "".join(a + ", " for a in args)
    lines = [f"def forward({params}):",
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
            lines += ["    " + line for s in b.stmts for line in ast.unparse(s).splitlines()]
        dead = sorted(x for x, j in last_read.items() if j == i and x not in args)
        if dead and not isinstance(b.stmts[-1], ast.Return):
            lines.append(f"    del {', '.join(dead)}")
    return "\n".join(funcs + lines) + "\n", len(funcs)


def _segment_source(name: str, b: Block, outs: list[str]) -> str:
    lines = [f"def {name}(self, {', '.join(b.reads)}):"]
    lines += ["    " + line for s in b.stmts for line in ast.unparse(s).splitlines()]
    lines.append(f"    return ({''.join(o + ', ' for o in outs)})")
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
