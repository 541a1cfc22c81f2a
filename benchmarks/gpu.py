"""The speed and memory benchmarks on a CUDA device, for the day a GPU is lent.

Skips cleanly (exit 0, one line) when torch sees no CUDA device. Otherwise, on the first
device, contenders interleaved, medians printed as ratios to hand-written PyTorch:

1. The small-DAG training step (benchmarks/graph_overhead.py's model, batch 32) through the
   "$Trainer": eager, PerformanceGoal "TrainingSpeed" (the step compiled and replayed as a
   CUDA graph), against the hand-written eager loop and the same loop under torch.compile
   with mode="reduce-overhead".
2. The LeNet-style step (benchmarks/train_step.py's model, batch 64, 28x28), the same four
   contenders, and WorkingPrecision "Mixed" (autocast to bfloat16) beside them.
3. Mirroring: peak CUDA memory (``torch.cuda.max_memory_allocated`` above the level at the
   step's start) of one NetTrain step of the 4,000-step LSTM(64), batch 16, plain and
   mirrored, against the hand-written step.

    .venv/bin/python benchmarks/gpu.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))


def trainer_step(net, data: dict, **opts):  # noqa: ANN001, ANN201
    from netgraph import NetTrain, TrainerCurrentLoss, TrainerUpdate
    trainer, (gen, _) = NetTrain(net, data, ["$Trainer", "$TrainingGenerator"],
                                 MaxTrainingRounds=1, TargetDevice="GPU",
                                 TrainingProgressReporting=None, **opts)
    batch = gen(1)
    from _timing import warm_up
    warm_up(trainer, batch)      # PerformanceGoal decides, compiles and times its step

    def step() -> dict:
        TrainerUpdate(trainer, batch)
        return TrainerCurrentLoss(trainer)
    return step, batch


def hand_loop(loss_of, params, compiled: bool):  # noqa: ANN001, ANN201
    opt = torch.optim.Adam(params, lr=1e-3, fused=True)
    fn = torch.compile(loss_of, mode="reduce-overhead") if compiled else loss_of

    def step() -> float:
        opt.zero_grad()
        loss = fn()
        loss.backward()
        opt.step()
        return loss.item()
    return step


def timed(contenders: dict, title: str, baseline: str) -> None:
    from _timing import interleave, report
    first = {}
    for name, f in contenders.items():
        t = time.perf_counter()
        f()
        torch.cuda.synchronize()
        first[name] = time.perf_counter() - t
    medians = interleave(contenders, repeats=15, inner=20, warmup=5)
    print("  first call (compiling included): "
          + ", ".join(f"{k} {v:.1f} s" for k, v in first.items()))
    report(title, medians, baseline)


def small_dag() -> None:
    import graph_overhead as g
    rng = np.random.default_rng(0)
    n = 32
    data = {"A": rng.random((n, 64), dtype=np.float32), "B": rng.random((n, 64), dtype=np.float32),
            "Output": rng.random((n, 1), dtype=np.float32)}
    eager, batch = trainer_step(g.netgraph_model(), data, BatchSize=n, PerformanceGoal=None)
    fast, _ = trainer_step(g.netgraph_model(), data, BatchSize=n,
                           PerformanceGoal="TrainingSpeed")
    a, b, y = (torch.from_numpy(np.asarray(batch[k], np.float32)).cuda()
               for k in ("A", "B", "Output"))
    hands = [g.Hand().cuda() for _ in range(2)]
    contenders = {"netgraph eager": eager, "netgraph TrainingSpeed": fast}
    for model, compiled in zip(hands, (False, True), strict=True):
        contenders["hand-written" + (" torch.compile" if compiled else "")] = hand_loop(
            lambda m=model: torch.mean((m(a, b) - y) ** 2), model.parameters(), compiled)
    timed(contenders, "small-DAG training step, batch 32, CUDA", "hand-written")


def lenet_step() -> None:
    import train_step as ts
    rng = np.random.default_rng(0)
    data = {"Input": rng.random((256, 1, 28, 28), dtype=np.float32),
            "Output": rng.integers(1, 11, 256)}
    contenders = {}
    for name, opts in (("netgraph eager", {"PerformanceGoal": None}),
                       ("netgraph TrainingSpeed", {"PerformanceGoal": "TrainingSpeed"}),
                       ("netgraph Mixed", {"PerformanceGoal": None,
                                           "WorkingPrecision": "Mixed"})):
        contenders[name], batch = trainer_step(ts.lenet(), data, BatchSize=64, **opts)
    x = torch.from_numpy(batch["Input"]).cuda()
    t = torch.from_numpy(np.asarray(batch["Output"])).cuda()
    for compiled in (False, True):
        model = ts.HandLeNet().cuda()
        contenders["hand-written" + (" torch.compile" if compiled else "")] = hand_loop(
            lambda m=model: m.loss(x, t), model.parameters(), compiled)
    timed(contenders, "LeNet-style training step, batch 64, CUDA", "hand-written")


def mirroring_memory() -> None:
    import mirroring as mb

    from netgraph import NetTrain
    x, y = mb._data(mb.STEPS, mb.BATCH)

    def peak(f) -> float:  # noqa: ANN001
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        f()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20

    def nettrain(mirrored: bool):  # noqa: ANN202
        return lambda: NetTrain(mb._net(mb.STEPS), {"Input": x, "Output": y},
                                BatchSize=mb.BATCH, MaxTrainingRounds=1, Mirroring=mirrored,
                                TargetDevice="GPU", TrainingProgressReporting=None)
    model = torch.nn.LSTM(1, mb.HIDDEN, batch_first=True).cuda()
    lin = torch.nn.Linear(mb.HIDDEN, 1).cuda()
    xt, yt = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()

    def hand() -> None:
        loss = torch.square(lin(model(xt)[0][:, -1])[:, 0] - yt).mean()
        loss.backward()
    print(f"== peak CUDA memory of one training step, LSTM({mb.HIDDEN}) over {mb.STEPS} steps, "
          f"batch {mb.BATCH}")
    rows = {"hand-written plain": peak(hand), "NetTrain plain": peak(nettrain(False)),
            "NetTrain mirrored": peak(nettrain(True))}
    for k, v in rows.items():
        print(f"  {k:<22} {v:8.1f} MiB  {rows['hand-written plain'] / max(v, 1e-9):6.1f}x less")


def main() -> None:
    if not torch.cuda.is_available():
        print("benchmarks/gpu.py: no CUDA device visible to torch; skipped.")
        return
    print(f"device: {torch.cuda.get_device_name(0)}")
    small_dag()
    lenet_step()
    mirroring_memory()


if __name__ == "__main__":
    main()
