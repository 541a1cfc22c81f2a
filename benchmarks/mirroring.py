"""Mirroring: peak memory and time of one training step of a 4,000-step LSTM(64), batch 16.

The net is LSTM(64) -> SequenceLast -> Linear -> MeanSquaredLoss on float32, CPU. "plain" is
the lowered module; "mirrored" is the same module after ``set_mirroring(module, True)``: the
LSTM runs in chunks of ~sqrt(T) = 63 steps recomputed in the backward pass, and the graph's
other layers run under checkpointed segments.

Peak memory: torch's CPU allocator, recorded by ``torch.profiler`` with
``profile_memory=True``; the peak of the running sum of its allocation/free events over one
step (forward, backward, gradients), above what was allocated when the step began. Targets:
at least 10x less memory, and no more time than the plain step (runs interleaved, medians).

Timing runs on one thread by default (``MIRRORING_THREADS=n`` to change): on a shared machine,
torch's parallel regions wait for their slowest thread, which hits the mirrored step's many
smaller kernel calls harder than the plain step's one long call and drowns the comparison.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("KINETO_LOG_LEVEL", "5")     # keep the profiler quiet
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from _timing import interleave, report  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

from netgraph import (  # noqa: E402
    LinearLayer,
    LongShortTermMemoryLayer,
    MeanSquaredLossLayer,
    NetGraph,
    NetInitialize,
    NetPort,
    SequenceLastLayer,
)
from netgraph.backend.lower import lower  # noqa: E402
from netgraph.backend.mirror import set_mirroring  # noqa: E402

STEPS, BATCH, HIDDEN = 4000, 16, 64


def training_net() -> NetGraph:
    return NetInitialize(NetGraph(
        [LongShortTermMemoryLayer(HIDDEN), SequenceLastLayer(), LinearLayer(),
         MeanSquaredLossLayer()],
        [(1, 2, 3, NetPort(4, "Input")), (NetPort("Target"), NetPort(4, "Target"))],
        Input=(STEPS, 1), Target="Real"))


def step_fn(module: torch.nn.Module, x: torch.Tensor, y: torch.Tensor):
    def step() -> None:
        module.zero_grad(set_to_none=True)
        module(Input=x, Target=y)["Loss"].mean().backward()
    return step


def peak_bytes(step) -> int:
    """Peak bytes allocated on the CPU during ``step()``, above the level at its start."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                    if e.name() == "[memory]")
    level = peak = 0
    for _, nbytes in events:
        level += nbytes
        peak = max(peak, level)
    return peak


def main() -> None:
    torch.set_num_threads(int(os.environ.get("MIRRORING_THREADS", "1")))
    torch.manual_seed(0)
    net = training_net()
    plain, mirrored = lower(net).train(), set_mirroring(lower(net).train(), True)
    x, y = torch.randn(BATCH, STEPS, 1), torch.randn(BATCH)
    steps = {"plain": step_fn(plain, x, y), "mirrored": step_fn(mirrored, x, y)}
    for s in steps.values():      # grads present before the memory runs, as in training
        s()
    grads = [[p.grad for p in m.parameters() if p.grad is not None] for m in (plain, mirrored)]
    worst = max(float((a - b).abs().max()) for a, b in zip(*grads, strict=True))
    peaks = {k: peak_bytes(s) for k, s in steps.items()}
    times = interleave(steps, repeats=7, inner=1, warmup=1)
    print(f"== peak memory of one training step, LSTM({HIDDEN}) over {STEPS} steps, "
          f"batch {BATCH} (float32, CPU, {torch.get_num_threads()} thread(s))")
    for k, v in peaks.items():
        print(f"  {k:<34} {v / 2**20:9.1f} MiB")
    ratio = peaks["plain"] / peaks["mirrored"]
    print(f"  memory ratio plain/mirrored: {ratio:.1f}x  target >= 10x: "
          f"{'OK' if ratio >= 10 else 'BELOW TARGET'}")
    print(f"  largest gradient difference (float32): {worst:.2e}")
    report("time of one training step", times, "plain", target=1.0)


if __name__ == "__main__":
    main()
