"""Training on sequences of several lengths: length buckets against padding and hand-written
PyTorch.

2,000 sequences of 4 features, lengths log-normal (median 40) clipped to 5..500 (one of each
extreme included), train LSTM(32) -> SequenceLast -> Linear to predict a number per sequence,
batches of 32, ADAM. Three contenders, one training round (epoch) per turn, interleaved:

- **netgraph**: ``NetTrain(net, {"Input": [sequences...], "Output": [...]})`` on the ragged
  data: length buckets, each batch padded to its own longest example, per-example lengths;
  the time is NetTrain's "TotalTrainingTime" (the training loop, without building the net).
- **torch, sorted buckets**: the hand-written reference: the data sorted by length and cut
  into batches of 32, each padded to its own longest, in shuffled order; the output of each
  sequence read at its last step with a gather.
- **torch, padded to the longest**: every sequence padded to the data set's longest (500).

Targets: netgraph at least 4x faster than padding to the longest, and within 1.2x of the
sorted buckets. On CPU, packed sequences leave torch's fused LSTM kernel and run slower than
padding everything, so buckets are the right reference. Timing runs on one thread by default
(``BENCH_THREADS=n`` to change); every contender starts each turn from the same weights.
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
    NetChain,
    NetInitialize,
    NetTrain,
    SequenceLastLayer,
)
from netgraph.backend.lower import lower  # noqa: E402
from netgraph.runtime.buckets import pad_examples  # noqa: E402

N, FEATURES, HIDDEN, BATCH = 2000, 4, 32, 32
REPEATS = 7
ADAM = {"LearningRate": 1e-3, "Beta1": 0.9, "Beta2": 0.999, "Epsilon": 1e-5}


def data() -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(0)
    lengths = np.clip(np.round(rng.lognormal(np.log(40), 1.0, N)), 5, 500).astype(int)
    lengths[:2] = 5, 500
    xs = [rng.normal(size=(n, FEATURES)).astype(np.float32) for n in lengths]
    ys = np.array([x[:, 0].mean() for x in xs], dtype=np.float32)
    return xs, ys


def model() -> NetChain:
    return NetChain([LongShortTermMemoryLayer(HIDDEN), SequenceLastLayer(), LinearLayer()],
                    Input=("Varying", FEATURES), Output="Real")


def netgraph_turn(net: NetChain, xs: list, ys: np.ndarray) -> tuple[float, int]:
    seconds, _ = NetTrain(net, {"Input": xs, "Output": ys},
                                ["TotalTrainingTime", "TotalBatches"], BatchSize=BATCH,
                                MaxTrainingRounds=1, Method=("ADAM", ADAM),
                                TrainingProgressReporting=None)
    return seconds, 1


class HandLoop:
    """A hand-written PyTorch loop over prepared padded batches (x, lengths, y)."""

    def __init__(self, net: NetChain, batches: list[tuple[torch.Tensor, ...]]) -> None:
        self.lstm = nn.LSTM(FEATURES, HIDDEN, batch_first=True)
        self.lin = nn.Linear(HIDDEN, 1)
        self.start = lower(net)
        self.batches = batches
        self.rng = np.random.default_rng(1)

    def reset(self) -> None:
        with torch.no_grad():
            self.lstm.load_state_dict(self.start.layers["1"].rnn.state_dict())
            self.lin.weight.copy_(self.start.layers["3"].Weights)
            self.lin.bias.copy_(self.start.layers["3"].Biases)
        params = [*self.lstm.parameters(), *self.lin.parameters()]
        self.opt = torch.optim.Adam(params, lr=ADAM["LearningRate"], eps=ADAM["Epsilon"],
                                    fused=True)

    def turn(self) -> tuple[float, int]:
        self.reset()
        t0 = time.perf_counter()
        for i in self.rng.permutation(len(self.batches)):
            x, n, y = self.batches[i]
            out, _ = self.lstm(x)                                   # (batch, width, hidden)
            last = out[torch.arange(len(n)), n - 1]                 # (batch, hidden)
            loss = nn.functional.mse_loss(self.lin(last).squeeze(1), y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            loss.item()
        return time.perf_counter() - t0, 1


def padded_batches(xs: list, ys: np.ndarray, order: np.ndarray, width: int | None
                   ) -> list[tuple[torch.Tensor, ...]]:
    """Batches of BATCH examples in ``order``, padded to their own longest (or ``width``)."""
    out = []
    for i in range(0, len(order), BATCH):
        idx = order[i:i + BATCH]
        x, n = pad_examples([xs[j] for j in idx], width)
        out.append((torch.from_numpy(x), torch.from_numpy(n), torch.from_numpy(ys[idx])))
    return out


def main() -> float:
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    if os.environ.get("BENCH_FTZ", "1") == "1":
        torch.set_flush_denormal(True)
    xs, ys = data()
    lengths = np.array([len(x) for x in xs])
    net = NetInitialize(model())
    by_length = np.argsort(lengths, kind="stable")
    shuffled = np.random.default_rng(2).permutation(N)
    sorted_loop = HandLoop(net, padded_batches(xs, ys, by_length, None))
    padded_loop = HandLoop(net, padded_batches(xs, ys, shuffled, int(lengths.max())))
    contenders = {"netgraph NetTrain (length buckets)": lambda: netgraph_turn(net, xs, ys),
                  "torch sorted buckets": sorted_loop.turn,
                  "torch padded to the longest": padded_loop.turn}
    times = interleaved_turns(contenders, REPEATS)
    print(f"{N} sequences, lengths {lengths.min()}..{lengths.max()} (median "
          f"{int(np.median(lengths))}, mean {lengths.mean():.0f}), LSTM({HIDDEN}), batches of "
          f"{BATCH}; {REPEATS} interleaved turns of one round each; time per round:")
    ratio = paired_report("vs hand-written sorted buckets", times, "torch sorted buckets",
                          target=1.2)
    speedup = 1 / paired_report("vs padding to the longest", {
        k: times[k] for k in ("netgraph NetTrain (length buckets)",
                              "torch padded to the longest")},
        "torch padded to the longest")
    print(f"  netgraph is {speedup:.1f}x faster than padding to the longest "
          f"(target >= 4x: {'OK' if speedup >= 4 else 'BELOW TARGET'})")
    return ratio


if __name__ == "__main__":
    main()
