"""Stateful training (StateTransfer) against a hand-written truncated-BPTT loop.

The seed's random walk of 100,000 steps, cut into 2,000 windows of 50 steps, trains the
seed's graph (LSTM(32) -> SequenceLast -> Linear, with "InitialState"/"FinalState" ports) to
predict the value that follows each window, in batches of 32 streams: row i of batch k+1
continues row i of batch k, and each batch starts from the previous batch's final states,
detached (truncated backpropagation through time).

- **netgraph**: ``NetTrain(net, data, StateTransfer={...}, BatchSize=32)``; the time is
  NetTrain's "TotalTrainingTime" (the training loop, without building the net).
- **torch TBPTT**: ``nn.LSTM`` + ``nn.Linear`` on the same stream layout, the states carried
  with ``.detach()``, the same ADAM settings (fused, as NetTrain uses).

Both start every turn from the same initialized net (and a fresh optimizer), so they do the
same arithmetic on the same values.

Each contender runs ROUNDS rounds of 62 batches per turn; turns alternate, REPEATS times;
the report gives the median time per batch and the ratio (target: netgraph within 1.10x).
Timing runs on one thread by default (``BENCH_THREADS=n`` to change): on a shared machine
torch's parallel regions wait for their slowest thread, which drowns the comparison.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _timing import interleaved_turns, paired_report  # noqa: E402
from torch import nn  # noqa: E402

from netgraph import (  # noqa: E402
    LinearLayer,
    LongShortTermMemoryLayer,
    NetGraph,
    NetInitialize,
    NetPort,
    NetTrain,
    SequenceLastLayer,
)
from netgraph.backend.lower import lower  # noqa: E402

STEPS, WINDOW, STREAMS, HIDDEN = 100_000, 50, 32, 32
ROUNDS, REPEATS = 2, 7
ADAM = {"LearningRate": 1e-3, "Beta1": 0.9, "Beta2": 0.999, "Epsilon": 1e-5}
TRANSFER = {"FinalState": "InitialState", "FinalCellState": "InitialCellState"}
PROPS = ["TotalTrainingTime", "TotalBatches"]


def data() -> tuple[np.ndarray, np.ndarray]:
    """Windows of the seed's random walk (scaled), and the value after each window."""
    series = np.cumsum(np.random.default_rng(0).integers(-1, 2, STEPS + 1)).astype(np.float32)
    series /= series.std()
    return series[:-1].reshape(-1, WINDOW, 1), series[WINDOW::WINDOW].copy()


def seed_graph() -> NetGraph:
    """The contract's LSTM graph, on windows of WINDOW steps."""
    return NetGraph(
        [LongShortTermMemoryLayer(HIDDEN), SequenceLastLayer(), LinearLayer()],
        [(NetPort("InitialState"), NetPort(1, "State")),
         (NetPort("InitialCellState"), NetPort(1, "CellState")),
         (NetPort(1, "State"), NetPort("FinalState")),
         (NetPort(1, "CellState"), NetPort("FinalCellState")),
         (1, 2, 3)],
        Input=(WINDOW, 1), Output="Scalar")


def netgraph_turn(net: NetGraph, x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    r = NetTrain(net, {"Input": x, "Output": y}, PROPS, StateTransfer=TRANSFER,
                 BatchSize=STREAMS, MaxTrainingRounds=ROUNDS, Method=("ADAM", ADAM),
                 TrainingProgressReporting=None)
    seconds, batches = r
    return seconds, batches


class HandTBPTT:
    """The loop a PyTorch user writes: streams, states carried detached, one step a batch."""

    def __init__(self, net: NetGraph, x: np.ndarray, y: np.ndarray) -> None:
        self.lstm = nn.LSTM(1, HIDDEN, batch_first=True)
        self.lin = nn.Linear(HIDDEN, 1)
        self.start = lower(net)          # the same initial weights as netgraph's, each turn
        per = len(x) // STREAMS                                   # windows per stream
        order = np.arange(STREAMS * per).reshape(STREAMS, per).T  # (batch k, row i)
        self.x = torch.from_numpy(x[order])                       # (batches, 32, 50, 1)
        self.y = torch.from_numpy(y[order])

    def reset(self) -> None:
        with torch.no_grad():
            self.lstm.load_state_dict(self.start.layers["1"].rnn.state_dict())
            out = self.start.layers["3"]
            self.lin.weight.copy_(out.Weights)
            self.lin.bias.copy_(out.Biases)
        params = [*self.lstm.parameters(), *self.lin.parameters()]
        self.opt = torch.optim.Adam(params, lr=ADAM["LearningRate"], eps=ADAM["Epsilon"],
                                    fused=True)

    def turn(self) -> tuple[float, int]:
        self.reset()
        t0 = time.perf_counter()
        for _ in range(ROUNDS):
            h = c = torch.zeros(1, STREAMS, HIDDEN)               # reset each round
            for xb, yb in zip(self.x, self.y, strict=True):
                out, (h, c) = self.lstm(xb, (h, c))                # (32, 50, 32)
                loss = nn.functional.mse_loss(self.lin(out[:, -1]).squeeze(1), yb)
                self.opt.zero_grad(set_to_none=True)
                loss.backward()
                self.opt.step()
                h, c = h.detach(), c.detach()
                loss.item()                                       # NetTrain reads each loss
        return time.perf_counter() - t0, ROUNDS * len(self.x)


def main() -> float:
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    x, y = data()
    net = NetInitialize(seed_graph())
    hand = HandTBPTT(net, x, y)
    contenders = {"netgraph NetTrain StateTransfer": lambda: netgraph_turn(net, x, y),
                  "torch hand-written TBPTT": hand.turn}
    times = interleaved_turns(contenders, REPEATS)
    print(f"{STEPS:,} steps, {len(x)} windows of {WINDOW}, {STREAMS} streams, LSTM({HIDDEN}); "
          f"{REPEATS} turns of {ROUNDS} rounds ({ROUNDS * len(hand.x)} batches) each, "
          "interleaved; time per batch:")
    return paired_report("stateful LSTM training (per batch)", times,
                         "torch hand-written TBPTT", target=1.10)


if __name__ == "__main__":
    main()
