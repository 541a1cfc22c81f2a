"""Memory-leak check: repeated evaluation, TrainerUpdate and re-lowering must not grow memory.

Three loops, each after a warm-up; resident memory (VmRSS of /proc/self/status) is read
before and after, following ``gc.collect()`` and glibc's ``malloc_trim(0)`` so that memory
the allocator merely keeps for reuse does not count as a leak (the growth without the trim
is printed too):
  * evaluation: a small net evaluated ``--evals`` times (100,000), one example or a batch
    of 4 in turn, numpy in, numpy out;
  * training: ``--updates`` (10,000) TrainerUpdate calls on a "$Trainer", waiting for the
    queued steps every 100 calls as a training loop does;
  * re-lowering: ``--lowerings`` (1,000) fresh net values (NetInitialize with a new seed)
    each evaluated once, so each one is lowered and its code generated; the generated
    forward's source lines must not pile up in ``linecache``.
The target is growth under 5% of the resident memory for each loop.

    .venv/bin/python benchmarks/leak_check.py [--evals 100000] [--updates 10000]
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import linecache
import time
from collections.abc import Callable

import numpy as np

from netgraph import (
    LinearLayer,
    NetChain,
    NetInitialize,
    NetTrain,
    Tanh,
    TrainerCurrentLoss,
    TrainerUpdate,
)

TARGET = 0.05


def rss_bytes(trim: bool = True) -> int:
    """Resident memory of this process, after freeing what can be freed."""
    gc.collect()
    if trim:
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc: RSS keeps the allocator's free lists
            pass
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def measure(name: str, loop: Callable[[int], None], warmup: int, n: int) -> bool:
    """Run ``loop(warmup)``, then ``loop(n)``; print and judge the growth of RSS."""
    loop(warmup)
    raw, before, lines = rss_bytes(trim=False), rss_bytes(), len(linecache.cache)
    t = time.perf_counter()
    loop(n)
    secs = time.perf_counter() - t
    raw_after, after, lines_after = rss_bytes(trim=False), rss_bytes(), len(linecache.cache)
    growth = (after - before) / before
    ok = growth < TARGET and lines_after <= lines + 2
    print(f"  {name:<13} {n:>7} calls {secs:5.1f} s  RSS {before / 2**20:6.1f} -> "
          f"{after / 2**20:6.1f} MiB {growth * 100:+5.2f}% ({(after - before) / n:+7.1f} B/call;"
          f" untrimmed {(raw_after - raw) / raw * 100:+5.2f}%)  linecache {lines} -> "
          f"{lines_after}  {'OK' if ok else 'LEAK?'}")
    return ok


def small_net() -> NetChain:
    return NetChain([LinearLayer(16), Tanh, LinearLayer(4)], Input=8)


def eval_loop(net: NetChain) -> Callable[[int], None]:
    rng = np.random.default_rng(0)
    one, batch = rng.random(8, np.float32), rng.random((4, 8), np.float32)

    def loop(n: int) -> None:
        for i in range(n):
            net(batch if i % 2 else one)
    return loop


def update_loop(net: NetChain) -> Callable[[int], None]:
    rng = np.random.default_rng(0)
    data = {"Input": rng.random((64, 8), np.float32), "Output": rng.random((64, 4), np.float32)}
    trainer = NetTrain(net, data, "$Trainer", MaxTrainingRounds=1,
                       TrainingProgressReporting=None)
    batch = {"Input": data["Input"][:16], "Output": data["Output"][:16]}

    def loop(n: int) -> None:
        for i in range(n):
            TrainerUpdate(trainer, batch)
            if i % 100 == 99:
                TrainerCurrentLoss(trainer)
        TrainerCurrentLoss(trainer)
    return loop


def lowering_loop(net: NetChain) -> Callable[[int], None]:
    """``net`` is uninitialized: each NetInitialize gives a new value, lowered afresh."""
    x = np.ones(8, np.float32)
    seed = iter(range(2, 10**9))

    def loop(n: int) -> None:
        for _ in range(n):
            NetInitialize(net, RandomSeeding=next(seed))(x)
    return loop


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evals", type=int, default=100_000)
    ap.add_argument("--updates", type=int, default=10_000)
    ap.add_argument("--lowerings", type=int, default=1_000)
    args = ap.parse_args()
    net = NetInitialize(small_net(), RandomSeeding=1)
    print(f"== memory growth after warm-up (target < {TARGET * 100:.0f}% of RSS)")
    ok = measure("evaluation", eval_loop(net), 5_000, args.evals)
    ok = measure("TrainerUpdate", update_loop(net), 500, args.updates) and ok
    ok = measure("re-lowering", lowering_loop(small_net()), 50, args.lowerings) and ok
    print("no leak found" if ok else "memory grows: LEAK?")


if __name__ == "__main__":
    main()
