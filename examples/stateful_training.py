"""Stateful training: what StateTransfer learns that shuffled windows cannot.

The seed's random walk, ``series = cumsum(steps)`` with steps drawn from {-1, 0, 1}, is cut
into windows of WINDOW steps. The net reads the steps and, at every step t, predicts how far
the walk moved over the last two steps, ``series[t] - series[t-2] = steps[t-1] + steps[t]``.
Inside a window that is easy; at a window's *first* step the answer needs the step just
before the window, which only a net that carries its LSTM state across windows can know.

Two nets train on the same windows:

- **stateful**: ``StateTransfer`` keeps the windows in order and carries the LSTM's final
  states into the next batch (truncated backpropagation through time);
- **stateless**: WL's default, shuffled windows that each start from zero states.

Each is then evaluated the way it was trained on a fresh walk (the stateful net through a
``NetStateObject``, window after window), and the error is reported per position in the
window. Prints both losses, saves a plot (its path is printed) and finishes within two
minutes on 2 cores. ``--fast`` (or ``STATEFUL_FAST=1``) runs a few-second version.

Run with ``make demo`` or ``python examples/stateful_training.py [--fast] [plot.png]``.
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from netgraph import (
    LinearLayer,
    LongShortTermMemoryLayer,
    NetGraph,
    NetMapOperator,
    NetPort,
    NetStateObject,
    NetTrain,
)

WINDOW = 10
TRANSFER = {"FinalState": "InitialState", "FinalCellState": "InitialCellState"}
PROPERTIES = ["TrainedNet", "RoundLossList", "TotalTrainingTime"]


def walk(n: int, seed: int) -> np.ndarray:
    """The seed's random walk, as its steps: ``np.cumsum(steps)`` is the series."""
    return np.random.default_rng(seed).integers(-1, 2, n).astype(float)


def windows(steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) of consecutive windows: steps in, two-step moves out."""
    moved = steps + np.concatenate([[0.0], steps[:-1]])        # series[t] - series[t-2]
    n = len(steps) // WINDOW * WINDOW
    return (steps[:n].reshape(-1, WINDOW, 1), moved[:n].reshape(-1, WINDOW, 1))


def lstm_net(hidden: int) -> NetGraph:
    """The seed's LSTM graph, with a prediction at every step of the window."""
    return NetGraph(
        {"lstm": LongShortTermMemoryLayer(hidden), "out": NetMapOperator(LinearLayer(1))},
        [(NetPort("InitialState"), NetPort("lstm", "State")),
         (NetPort("InitialCellState"), NetPort("lstm", "CellState")),
         (NetPort("lstm", "State"), NetPort("FinalState")),
         (NetPort("lstm", "CellState"), NetPort("FinalCellState")),
         ("lstm", "out", NetPort("Output"))],
        Input=(WINDOW, 1))


def train(stateful: bool, x: np.ndarray, y: np.ndarray, rounds: int, hidden: int) -> list:
    """NetTrain with or without StateTransfer: [trained net, round losses, seconds]."""
    opts = {"StateTransfer": TRANSFER} if stateful else {}
    return NetTrain(lstm_net(hidden), {"Input": x, "Output": y}, PROPERTIES, BatchSize=32,
                    MaxTrainingRounds=rounds, Method=("ADAM", {"LearningRate": 0.01}),
                    TrainingProgressReporting=None, RandomSeeding=1, **opts)


def errors_by_position(net: object, x: np.ndarray, y: np.ndarray, stateful: bool) -> np.ndarray:
    """Mean squared error at each position of the window, evaluated as the net was trained."""
    if stateful:   # window after window, the state carried by a NetStateObject
        sobj = NetStateObject(net)
        pred = np.stack([sobj({"Input": w})["Output"] for w in x])
    else:          # every window from zero states, as one batch
        pred = net({"Input": x})["Output"]
    return ((pred - y) ** 2).mean(axis=(0, 2))                      # (WINDOW,)


def plot(path: str, results: dict) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for name, r in results.items():
        a.plot(range(1, len(r["losses"]) + 1), r["losses"], marker=".", label=name)
        b.plot(range(1, WINDOW + 1), r["by_position"], marker="o", label=name)
    a.set(title="training loss per round", xlabel="round", ylabel="mean squared error",
          yscale="log")
    b.set(title="test error by position in the window", xlabel="step of the window",
          ylabel="mean squared error", xticks=range(1, WINDOW + 1))
    b.annotate("needs the step before the window", (1, results["stateless"]["by_position"][0]),
               textcoords="offset points", xytext=(12, -4), fontsize=9)
    for ax in (a, b):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("StateTransfer on the seed's random walk: predict series[t] - series[t-2]")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(fast: bool = False, path: str = "stateful_training.png") -> dict:
    """Train both nets, print their losses and first-step errors, save the plot."""
    n, rounds, hidden = (4_000, 6, 8) if fast else (40_000, 25, 16)
    x, y = windows(walk(n, seed=0))
    tx, ty = windows(walk(n // 4, seed=1))
    results = {}
    for name in ("stateful", "stateless"):
        net, losses, seconds = train(name == "stateful", x, y, rounds, hidden)
        by_pos = errors_by_position(net, tx, ty, name == "stateful")
        results[name] = {"losses": losses, "by_position": by_pos, "seconds": seconds}
        print(f"{name:>9}: final round loss {losses[-1]:.4f}   test error at the window's "
              f"first step {by_pos[0]:.4f}, at later steps {by_pos[1:].mean():.4f}   "
              f"({rounds} rounds in {seconds:.1f} s)")
    plot(path, results)
    print(f"plot saved to {os.path.abspath(path)}")
    return results


if __name__ == "__main__":
    t0 = time.perf_counter()
    import torch
    torch.set_num_threads(1)   # small LSTMs gain nothing from a 2nd thread; busy machines cost
    args = [a for a in sys.argv[1:] if a != "--fast"]
    main(fast="--fast" in sys.argv or os.environ.get("STATEFUL_FAST") == "1",
         path=args[0] if args else "stateful_training.png")
    print(f"done in {time.perf_counter() - t0:.1f} s")
