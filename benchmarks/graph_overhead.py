"""Per-call overhead of netgraph against the same model hand-written in PyTorch.

The model: two inputs of 64, Linear(64)+Tanh on each, concatenated, Linear(64), Linear(1).
  * evaluation of one example fed as a dict of two numpy inputs (numpy out, conversion
    included); target 1.0x;
  * one training step (forward, backward, Adam) on a batch of 32, through the "$Trainer"
    (TrainerUpdate + TrainerCurrentLoss) against a hand-written loop with torch's default Adam
    (on the CPU its single-tensor loop; netgraph uses torch's fused Adam); target 1.0x. The
    hand-written loop gets its batch as tensors; netgraph converts and checks the numpy batch
    of the "$TrainingGenerator" on every update. "hand, fused Adam" is printed for reference.
  * evaluation of one example of the seed's LSTM graph (LongShortTermMemoryLayer(2),
    SequenceLastLayer, LinearLayer; state ports InitialState/InitialCellState left to their
    zero default; three outputs) on a sequence of 8 against nn.LSTM + last step + nn.Linear;
  * the training step with PerformanceGoal "TrainingSpeed" (the step compiled) against the
    eager hand-written loop (target 0.6x) and the same loop compiled by hand with
    torch.compile and fused Adam (target 1.0x), after warm-up; compile times are printed.
    ``--no-compile`` skips it (compiling takes tens of seconds on these CPUs).
Contenders are interleaved in many short blocks in one run; medians and ratios are printed.
Torch runs on one thread.

    .venv/bin/python benchmarks/graph_overhead.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _timing import (  # noqa: E402
    first_call,
    hand_step,
    interleave,
    report,
    trainer_step,
    warm_up,
)

from netgraph import (  # noqa: E402
    CatenateLayer,
    LinearLayer,
    LongShortTermMemoryLayer,
    NetGraph,
    NetInitialize,
    NetPort,
    NetTrain,
    SequenceLastLayer,
    Tanh,
)


def netgraph_model():
    return NetGraph(
        {"a": LinearLayer(64), "ta": Tanh, "b": LinearLayer(64), "tb": Tanh,
         "cat": CatenateLayer(), "h": LinearLayer(64), "out": LinearLayer(1)},
        [(NetPort("A"), "a", "ta"), (NetPort("B"), "b", "tb"),
         (["ta", "tb"], "cat", "h", "out")],
        A=64, B=64, Output=1)


class Hand(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(64, 64), nn.Linear(64, 64)
        self.h, self.out = nn.Linear(128, 64), nn.Linear(64, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        x = torch.cat([torch.tanh(self.a(a)), torch.tanh(self.b(b))], dim=-1)  # (batch, 128)
        return self.out(self.h(x))                                              # (batch, 1)


def evaluation() -> float:
    net = NetInitialize(netgraph_model())
    hand = Hand().eval()
    rng = np.random.default_rng(0)
    x = {"A": rng.random(64, dtype=np.float32), "B": rng.random(64, dtype=np.float32)}

    def by_hand() -> np.ndarray:
        with torch.inference_mode():
            y = hand(torch.from_numpy(x["A"]).unsqueeze(0), torch.from_numpy(x["B"]).unsqueeze(0))
        return y[0].numpy()

    medians = interleave({"netgraph net(x)": lambda: net(x), "hand-written torch": by_hand},
                         repeats=31, inner=100)
    return report("evaluation, one example (a dict of two numpy inputs, numpy out)", medians,
                  "hand-written torch", target=1.0)


def lstm_evaluation() -> float:
    net = NetInitialize(NetGraph(
        [LongShortTermMemoryLayer(2), SequenceLastLayer(), LinearLayer()],
        [(NetPort("InitialState"), NetPort(1, "State")),
         (NetPort("InitialCellState"), NetPort(1, "CellState")),
         (NetPort(1, "State"), NetPort("FinalState")),
         (NetPort(1, "CellState"), NetPort("FinalCellState")),
         (1, 2, 3)],
        Input=(8, 1), Output="Scalar"))
    lstm, lin = nn.LSTM(1, 2, batch_first=True), nn.Linear(2, 1)
    x = {"Input": np.random.default_rng(0).random((8, 1), dtype=np.float32)}

    def by_hand() -> dict:
        with torch.inference_mode():
            y, (h, c) = lstm(torch.from_numpy(x["Input"]).unsqueeze(0))   # (1, 8, 2)
            out = lin(y[:, -1])                                             # (1, 1)
        return {"FinalState": h[0, 0].numpy(), "FinalCellState": c[0, 0].numpy(),
                "Output": out[0, 0].item()}

    medians = interleave({"netgraph net(x)": lambda: net(x), "hand-written torch": by_hand},
                         repeats=31, inner=100)
    return report("seed LSTM graph, one example of 8 steps (numpy in, numpy out)", medians,
                  "hand-written torch", target=1.5)


def training_step() -> float:
    rng = np.random.default_rng(0)
    n = 32
    data = {"A": rng.random((n, 64), dtype=np.float32), "B": rng.random((n, 64), dtype=np.float32),
            "Output": rng.random((n, 1), dtype=np.float32)}
    trainer, (gen, _) = NetTrain(netgraph_model(), data, Automatic_(), ["$Trainer",
                                 "$TrainingGenerator"], BatchSize=n,
                                 TrainingProgressReporting=None)
    batch = gen(1)
    hand = Hand()
    opt = torch.optim.Adam(hand.parameters(), lr=1e-3)
    ta, tb = torch.from_numpy(batch["A"]), torch.from_numpy(batch["B"])
    ty = torch.from_numpy(np.asarray(batch["Output"], np.float32))

    fused = Hand()
    fused_opt = torch.optim.Adam(fused.parameters(), lr=1e-3, fused=True)

    def hand_loop(model: nn.Module, opt: torch.optim.Optimizer):  # noqa: ANN202
        return hand_step(lambda: torch.mean((model(ta, tb) - ty) ** 2), opt)
    netgraph_step = trainer_step(trainer, batch)

    medians = interleave({"netgraph TrainerUpdate+CurrentLoss": netgraph_step,
                          "hand-written torch + Adam": hand_loop(hand, opt),
                          "hand, fused Adam": hand_loop(fused, fused_opt)},
                         repeats=31, inner=20)
    return report("training step, batch 32 (forward, backward, Adam)", medians,
                  "hand-written torch + Adam", target=1.0)


def compiled_training_step() -> float:
    """PerformanceGoal "TrainingSpeed" against the eager hand-written loop and the same loop
    compiled by hand (``torch.compile`` of forward+loss, fused Adam), after warm-up."""
    rng = np.random.default_rng(0)
    n = 32
    data = {"A": rng.random((n, 64), dtype=np.float32), "B": rng.random((n, 64), dtype=np.float32),
            "Output": rng.random((n, 1), dtype=np.float32)}
    trainer, (gen, _) = NetTrain(netgraph_model(), data, Automatic_(), ["$Trainer",
                                 "$TrainingGenerator"], BatchSize=n, MaxTrainingRounds=1,
                                 PerformanceGoal="TrainingSpeed", TrainingProgressReporting=None)
    batch = gen(1)
    warm_up(trainer, batch)
    netgraph_compile = trainer["CompileTime"]
    ta, tb = torch.from_numpy(batch["A"]), torch.from_numpy(batch["B"])
    ty = torch.from_numpy(np.asarray(batch["Output"], np.float32))

    def hand_loop(compiled: bool):  # noqa: ANN202
        model = Hand()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=compiled or None)

        def loss_of(a: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return torch.mean((model(a, b) - y) ** 2)
        fn = torch.compile(loss_of) if compiled else loss_of
        return hand_step(lambda: fn(ta, tb, ty), opt)

    netgraph_step = trainer_step(trainer, batch)
    eager, by_hand_compiled = hand_loop(False), hand_loop(True)
    hand_compile = first_call(by_hand_compiled)
    medians = interleave({"netgraph TrainingSpeed": netgraph_step,
                          "hand-written torch + Adam": eager,
                          "hand-written torch.compile": by_hand_compiled},
                         repeats=31, inner=20)
    print(f"  (compiling: netgraph {netgraph_compile:.1f} s; hand-written torch.compile, "
          f"first call {hand_compile:.1f} s)")
    ratio = report('training step, batch 32, PerformanceGoal "TrainingSpeed"', medians,
                   "hand-written torch + Adam", target=0.6)
    vs = medians["netgraph TrainingSpeed"] / medians["hand-written torch.compile"]
    print(f"  netgraph TrainingSpeed / hand-written torch.compile: {vs:.2f}x (target <= 1.0)")
    return ratio


def Automatic_():  # noqa: N802 - the WL symbol, imported lazily to keep the header short
    from netgraph import Automatic
    return Automatic


if __name__ == "__main__":
    torch.set_num_threads(1)
    e = evaluation()
    t = training_step()
    lstm = lstm_evaluation()
    c = compiled_training_step() if "--no-compile" not in sys.argv else float("nan")
    print(f"\nratios: evaluation {e:.2f}x (target <= 1.0), training step {t:.2f}x (target <= 1.0)"
          f", seed LSTM evaluation {lstm:.2f}x, TrainingSpeed step {c:.2f}x (target <= 0.6)")
