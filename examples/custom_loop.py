"""A training loop of your own on NetTrain's trainer.

NetTrain sets everything up (training net with its loss, ADAM, the batches) and hands over
"$Trainer" and "$TrainingGenerator"; the loop below decides the rest:

- its own batch order each round (gen(i) is the i-th batch of NetTrain's first round);
- an extra batch of the examples the current net fits worst (plain data, any NetTrain form);
- its own validation on held-out data with trainer["Net"], keeping the best net;
- its own early stopping.

Run: python examples/custom_loop.py
"""
import os

import numpy as np

from netgraph import (
    LinearLayer,
    NetChain,
    NetTrain,
    Tanh,
    TrainerCurrentLoss,
    TrainerUpdate,
)

FAST = os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1"
ROUNDS, PATIENCE = (3, 2) if FAST else (200, 15)
rng = np.random.default_rng(0)

x = rng.uniform(-3, 3, 256)
y = np.sin(x) + 0.05 * rng.normal(size=256)
x_val = np.linspace(-3, 3, 64)
y_val = np.sin(x_val)

net = NetChain([LinearLayer(32), Tanh, LinearLayer()], Input="Real", Output="Real")
trainer, (gen, nmax) = NetTrain(
    net, {"Input": x, "Output": y}, ["$Trainer", "$TrainingGenerator"], BatchSize=16,
    Method=("ADAM", {"LearningRate": 0.01}),
    TrainingProgressReporting=None, TrainingProgressFunction=lambda info: "StopTraining")
print(trainer)
print(f"{nmax} batches of 16 per round")


def validation_loss(candidate) -> float:
    return float(np.mean((candidate(x_val) - y_val) ** 2))


best_loss, best_net, waited = np.inf, trainer["Net"], 0
for rnd in range(1, ROUNDS + 1):
    for i in rng.permutation(nmax) + 1:                 # our own batch order
        TrainerUpdate(trainer, gen(int(i)))
    current = trainer["Net"]                            # waits for the queued steps
    worst = np.argsort((current(x) - y) ** 2)[-16:]     # hard examples, as plain data
    TrainerUpdate(trainer, {"Input": x[worst], "Output": y[worst]})
    val = validation_loss(trainer["Net"])
    if val < best_loss:
        best_loss, best_net, waited = val, trainer["Net"], 0
    else:
        waited += 1
    if rnd % 10 == 0 or rnd <= 3 or waited > PATIENCE:
        print(f"round {rnd}: training loss {TrainerCurrentLoss(trainer)['OutputLoss']:.4f}, "
              f"validation loss {val:.4f}, learning rate {trainer['LearningRate']:.4g}")
    if waited > PATIENCE:
        print(f"no improvement for {PATIENCE} rounds: stopping")
        break

print(f"best validation loss {best_loss:.4f}; {trainer['AbsoluteBatch']} updates in all")
print("best net at 0, 1, 2:", np.round(best_net([0.0, 1.0, 2.0]), 3),
      "| sin:", np.round(np.sin([0.0, 1.0, 2.0]), 3))
if not FAST:
    assert best_loss < 0.01
