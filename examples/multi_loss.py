"""One net, three tasks, weighted losses: a shared trunk with three heads.

Shows: a NetGraph with several outputs; a loss spec {port: Scaled(w)} that attaches the
automatic loss to each output (mean squared for "Value" and "Reconstruction",
cross-entropy for "Class" after its SoftmaxLayer) and sums them with their weights; the
"TrainingNet" with the losses attached; and how the weights trade one task for another
(with "Class" at Scaled(0) the class head is computed but never trained).

Run: python examples/multi_loss.py
"""
import os

import numpy as np

from netgraph import (
    LinearLayer,
    NetExtract,
    NetGraph,
    NetPort,
    NetTrain,
    Scaled,
    SoftmaxLayer,
    Tanh,
)

FAST = os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1"
N, ROUNDS = (256, 2) if FAST else (2000, 15)
rng = np.random.default_rng(0)


def data(n: int) -> dict[str, np.ndarray]:
    x = rng.normal(size=(n, 4))
    return {"Input": x,
            "Value": x[:, 0] * x[:, 1] + np.sin(x[:, 2]),               # regression
            "Class": 1 + (x[:, 3] > -0.5) + (x[:, 3] > 0.5),           # 3 classes
            "Reconstruction": x}                                        # autoencoding


net = NetGraph(
    {"trunk": LinearLayer(32), "act": Tanh, "value": LinearLayer(),
     "class": LinearLayer(3), "probs": SoftmaxLayer(), "recon": LinearLayer(4)},
    [(NetPort("Input"), "trunk", "act"),
     ("act", "value", NetPort("Value")),
     ("act", "class", "probs", NetPort("Class")),
     ("act", "recon", NetPort("Reconstruction"))],
    Input=4, Value="Real")
train, test = data(N), data(500)


def scores(trained) -> dict[str, float]:
    out = trained(test["Input"])
    return {"Value MSE": float(np.mean((out["Value"] - test["Value"]) ** 2)),
            "Class accuracy": float(np.mean(out["Class"].argmax(1) + 1 == test["Class"])),
            "Reconstruction MSE": float(np.mean((out["Reconstruction"] - test["Input"]) ** 2))}


def train_with(weights: dict[str, float]):
    spec = {port: Scaled(w) for port, w in weights.items()}
    return NetTrain(net, train, spec, ["TrainedNet", "TrainingNet", "RoundLossList"],
                    BatchSize=64, MaxTrainingRounds=ROUNDS,
                    Method=("ADAM", {"LearningRate": 0.01}), TrainingProgressReporting=None)


trained, training_net, losses = train_with({"Value": 1, "Class": 0.5, "Reconstruction": 0.1})
print("The training net has a loss on each output:")
for port in ("ValueLoss", "ClassLoss", "ReconstructionLoss"):
    print(f"  {port}: {NetExtract(training_net, port)}")
print("weighted round losses:", np.round(losses, 3))
print()
print(f"{'weights (Value, Class, Reconstruction)':<42} "
      f"{'Value MSE':>10} {'Class acc.':>11} {'Recon. MSE':>11}")
for weights in ({"Value": 1, "Class": 0.5, "Reconstruction": 0.1},
                {"Value": 1, "Class": 0, "Reconstruction": 0.1},
                {"Value": 0.1, "Class": 2, "Reconstruction": 1}):
    s = scores(trained if weights["Class"] == 0.5 else train_with(weights)[0])
    label = ", ".join(f"{w:g}" for w in weights.values())
    print(f"{label:<42} {s['Value MSE']:>10.3f} {s['Class accuracy']:>11.1%} "
          f"{s['Reconstruction MSE']:>11.3f}")
