"""Mirroring: memory and time of one training step of a 4,000-step LSTM(64), batch 16.

The net is LSTM(64) -> SequenceLast -> Linear with a mean-squared loss, float32, CPU.

**Process peak memory, as a user measures it.** Each variant runs in a fresh Python process:
it builds its model and data, runs the same program once on a short sequence (40 steps,
batch 2: the one-time costs of a fresh process, such as lazy imports, thread pools and the
allocator's first arenas, which any first step pays whatever its size), then resets the
kernel's peak-RSS counter (``/proc/self/clear_refs``) and runs the measured step. The figure
is VmHWM after the step minus VmRSS before it: what the step added to the process at its
peak. Variants:

- ``torch plain``: a hand-written ``nn.LSTM`` step (forward, loss, backward, Adam).
- ``torch checkpoint``: the same with ``torch.utils.checkpoint`` over chunks of 64 steps.
- ``NetTrain plain`` / ``NetTrain mirrored``: ``NetTrain(net, data, BatchSize=16,
  MaxTrainingRounds=1)`` on the 16 examples (one batch), ``Mirroring=False`` / ``True``;
  everything NetTrain does counts (lowering, data, optimizer, the step, the result).
- ``trainer mirrored``: one ``TrainerUpdate`` + ``TrainerCurrentLoss`` of a mirrored
  "$Trainer" (the trainer made before the measurement).

Each variant runs ``REPEATS`` times, interleaved; medians are shown. Targets: NetTrain
mirrored at least 15x below torch plain in process peak memory, at no more than its time;
NetTrain plain at most 1.05x torch plain in time and in memory.

**Allocator figure.** Beside it, torch's own allocation events (``torch.profiler`` with
``profile_memory=True``) over one step of the lowered module, plain vs mirrored: the peak of
the running sum of allocations above the level at the step's start.

Runs on one thread (``MIRRORING_THREADS=n`` to change): on a shared machine torch's parallel
regions wait for their slowest thread and drown the comparison.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("KINETO_LOG_LEVEL", "5")     # keep the profiler quiet
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

STEPS, BATCH, HIDDEN, CHUNK = 4000, 16, 64, 64
WARM_STEPS, WARM_BATCH = 40, 2
REPEATS = int(os.environ.get("MIRRORING_REPEATS", "3"))
VARIANTS = ("torch plain", "torch checkpoint", "NetTrain plain", "NetTrain mirrored",
            "trainer mirrored")


# -- one variant, in its own process --------------------------------------------------------
def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")       # resets VmHWM to the current RSS (Linux >= 4.0)


def _data(steps: int, batch: int):
    import numpy as np
    rng = np.random.default_rng(0)
    return (rng.normal(size=(batch, steps, 1)).astype(np.float32),
            rng.normal(size=batch).astype(np.float32))


def _torch_step(checkpointed: bool):
    import torch
    from torch import nn
    from torch.utils.checkpoint import checkpoint

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(1, HIDDEN, batch_first=True)
            self.lin = nn.Linear(HIDDEN, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if not checkpointed:
                return self.lin(self.lstm(x)[0][:, -1])[:, 0]        # (batch,)
            h = None
            for t in range(0, x.shape[1], CHUNK):
                out, h = checkpoint(self.lstm, x[:, t:t + CHUNK], h, use_reentrant=False)
            return self.lin(out[:, -1])[:, 0]

    model = Model()
    opt = torch.optim.Adam(model.parameters(), 1e-3)

    def step(x, y) -> None:
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        opt.zero_grad(set_to_none=True)
        loss = torch.square(model(xt) - yt).mean()
        loss.backward()
        opt.step()
    return step


def _net(steps: int):
    from netgraph import LinearLayer, LongShortTermMemoryLayer, NetChain, SequenceLastLayer
    return NetChain([LongShortTermMemoryLayer(HIDDEN), SequenceLastLayer(), LinearLayer()],
                    Input=(steps, 1), Output="Real")


def _nettrain_step(mirrored: bool):
    from netgraph import NetTrain

    def step(x, y) -> None:
        NetTrain(_net(x.shape[1]), {"Input": x, "Output": y}, BatchSize=len(y),
                 MaxTrainingRounds=1, Mirroring=mirrored, TrainingProgressReporting=None)
    return step


def _trainer_step(x, y):
    """A mirrored "$Trainer" for (x, y), made now, and its step: one update, then the loss."""
    from netgraph import NetTrain, TrainerCurrentLoss, TrainerUpdate
    trainer = NetTrain(_net(x.shape[1]), {"Input": x, "Output": y}, "$Trainer",
                       BatchSize=len(y), MaxTrainingRounds=1, Mirroring=True,
                       TrainingProgressReporting=None)   # no timing probe: no step yet

    def step(x, y) -> None:
        TrainerUpdate(trainer, {"Input": x, "Output": y})
        TrainerCurrentLoss(trainer)
    return step


def run_variant(name: str) -> None:
    """Measure one variant in this (fresh) process; print "peak_bytes seconds"."""
    import torch
    torch.set_num_threads(int(os.environ.get("MIRRORING_THREADS", "1")))
    import netgraph  # noqa: F401 - imported before the measurement, as a user has it
    x, y = _data(STEPS, BATCH)
    warm = _data(WARM_STEPS, WARM_BATCH)
    if name.startswith("torch"):
        step = _torch_step(name == "torch checkpoint")
    elif name.startswith("NetTrain"):
        step = _nettrain_step(name == "NetTrain mirrored")
    else:
        step = _trainer_step(*warm)
    step(*warm)                          # the fresh process's one-time costs
    if name.startswith("trainer"):
        step = _trainer_step(x, y)       # the trainer is made before the measurement
    import gc
    gc.collect()
    before = _status("VmRSS:")
    _reset_peak()
    t = time.perf_counter()
    step(x, y)
    seconds = time.perf_counter() - t
    print(_status("VmHWM:") - before, seconds)


# -- the driver ---------------------------------------------------------------------------
def measure(name: str) -> tuple[int, float]:
    out = subprocess.run([sys.executable, __file__, "--variant", name], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[-2]), float(out[-1])


def allocator_peaks() -> dict[str, float]:
    """torch's allocator peak over one step of the lowered module, plain and mirrored."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    from netgraph import MeanSquaredLossLayer, NetGraph, NetInitialize, NetPort
    from netgraph.backend.lower import lower
    from netgraph.backend.mirror import set_mirroring
    torch.set_num_threads(int(os.environ.get("MIRRORING_THREADS", "1")))
    net = NetInitialize(NetGraph([_net(STEPS), MeanSquaredLossLayer()],
                                 [(1, NetPort(2, "Input")), (NetPort("Target"),
                                                            NetPort(2, "Target"))],
                                 Target="Real"))
    x, y = torch.randn(BATCH, STEPS, 1), torch.randn(BATCH)
    peaks = {}
    for name, module in (("plain", lower(net).train()),
                         ("mirrored", set_mirroring(lower(net).train(), True))):
        def step(m=module) -> None:
            m.zero_grad(set_to_none=True)
            m(Input=x, Target=y)["Loss"].mean().backward()
        step()      # gradients present before the measured step, as in training
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            step()
        events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                        if e.name() == "[memory]")
        level = peak = 0
        for _, nbytes in events:
            level += nbytes
            peak = max(peak, level)
        peaks[name] = peak / 2**20
    return peaks


def main() -> None:
    results: dict[str, list[tuple[int, float]]] = {v: [] for v in VARIANTS}
    for _ in range(REPEATS):
        for v in VARIANTS:
            results[v].append(measure(v))
    mem = {v: statistics.median(r[0] for r in rs) / 2**20 for v, rs in results.items()}
    sec = {v: statistics.median(r[1] for r in rs) for v, rs in results.items()}
    threads = os.environ.get("MIRRORING_THREADS", "1")
    print(f"== one training step, LSTM({HIDDEN}) over {STEPS} steps, batch {BATCH} (float32, "
          f"CPU, {threads} thread(s)); process peak growth, fresh process per run, median of "
          f"{REPEATS}")
    base_m, base_t = mem["torch plain"], sec["torch plain"]
    for v in VARIANTS:
        print(f"  {v:<20} {mem[v]:8.1f} MiB  {base_m / max(mem[v], 1e-9):6.1f}x less than "
              f"torch plain   {sec[v] * 1e3:8.1f} ms  {sec[v] / base_t:5.2f}x time")
    less = base_m / max(mem["NetTrain mirrored"], 1e-9)
    print(f"  target NetTrain mirrored >= 15x less memory: {'OK' if less >= 15 else 'BELOW'} "
          f"({less:.1f}x); time <= torch plain: "
          f"{'OK' if sec['NetTrain mirrored'] <= base_t else 'ABOVE'}")
    print(f"  target NetTrain plain <= 1.05x: memory {mem['NetTrain plain'] / base_m:.2f}x, "
          f"time {sec['NetTrain plain'] / base_t:.2f}x")
    peaks = allocator_peaks()
    print("== torch allocator peak over one step of the lowered module (torch.profiler)")
    for k, v in peaks.items():
        print(f"  {k:<20} {v:8.1f} MiB")
    print(f"  plain/mirrored: {peaks['plain'] / max(peaks['mirrored'], 1e-9):.1f}x")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--variant":
        run_variant(sys.argv[2])
    else:
        main()
