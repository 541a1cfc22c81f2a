"""Per-call overhead of netgraph against the same model hand-written in PyTorch.

The model: two inputs of 64, Linear(64)+Tanh on each, concatenated, Linear(64), Linear(1).
  * evaluation of one example (plain numpy in, float out, conversion included);
  * one training step (forward, backward, Adam) on a batch of 32, through the "$Trainer"
    (TrainerUpdate + TrainerCurrentLoss) against a hand-written loop with torch's default Adam.
Contenders are interleaved in one run; medians and ratios are printed.

    .venv/bin/python benchmarks/graph_overhead.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _timing import interleave, report  # noqa: E402

from netgraph import (CatenateLayer, LinearLayer, NetGraph, NetInitialize, NetPort,  # noqa: E402
                      NetTrain, Tanh, TrainerCurrentLoss, TrainerUpdate)


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
                         inner=500)
    return report("evaluation, one example (numpy in, numpy out)", medians,
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

    def by_hand() -> float:
        opt.zero_grad()
        loss = torch.mean((hand(ta, tb) - ty) ** 2)
        loss.backward()
        opt.step()
        return loss.item()

    def netgraph_step() -> dict:
        TrainerUpdate(trainer, batch)
        return TrainerCurrentLoss(trainer)

    medians = interleave({"netgraph TrainerUpdate+CurrentLoss": netgraph_step,
                          "hand-written torch + Adam": by_hand}, inner=200)
    return report("training step, batch 32 (forward, backward, Adam)", medians,
                  "hand-written torch + Adam", target=1.0)


def Automatic_():  # noqa: N802 - the WL symbol, imported lazily to keep the header short
    from netgraph import Automatic
    return Automatic


if __name__ == "__main__":
    torch.set_num_threads(1)
    e = evaluation()
    t = training_step()
    print(f"\nratios: evaluation {e:.2f}x (target <= 1.5), training step {t:.2f}x (target <= 1.0)")
