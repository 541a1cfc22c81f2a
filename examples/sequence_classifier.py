"""Classify sequences of different lengths: which token is more frequent, 1 or 2?

Shows: a "Varying" integer input (EmbeddingLayer -> LSTM -> last step -> classes), training
data given as a plain list of sequences of several lengths (NetTrain groups them into
length buckets and pads each batch only to its own longest sequence), and evaluation of a
mixed-length batch, which equals evaluating each sequence alone.

Run: python examples/sequence_classifier.py
"""
import os

import numpy as np

from netgraph import (
    All,
    EmbeddingLayer,
    LinearLayer,
    LongShortTermMemoryLayer,
    NetChain,
    NetTrain,
    Restricted,
    SequenceLastLayer,
    SoftmaxLayer,
)

FAST = os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1"
rng = np.random.default_rng(0)


def sequences(n: int) -> tuple[list[np.ndarray], np.ndarray]:
    """n sequences of tokens 1..4, lengths 3 to 20; class 2 when 1 is more frequent than 2,
    class 1 when 2 is (ties are left out)."""
    xs: list[np.ndarray] = []
    ys: list[int] = []
    while len(xs) < n:
        x = rng.integers(1, 5, int(rng.integers(3, 21)))
        ones, twos = int((x == 1).sum()), int((x == 2).sum())
        if ones != twos:
            xs.append(x)
            ys.append(2 if ones > twos else 1)
    return xs, np.array(ys)


train_x, train_y = sequences(96 if FAST else 3000)
test_x, test_y = sequences(40 if FAST else 500)
print(f"{len(train_x)} training sequences of lengths {min(map(len, train_x))} to "
      f"{max(map(len, train_x))}; e.g. {train_x[0].tolist()} -> class {train_y[0]}")

net = NetChain([EmbeddingLayer(8), LongShortTermMemoryLayer(16), SequenceLastLayer(),
                LinearLayer(2), SoftmaxLayer()],
               Input=("Varying", Restricted("Integer", 4)))
results = NetTrain(net, {"Input": train_x, "Output": train_y}, All, BatchSize=32,
                   MaxTrainingRounds=2 if FAST else 25,
                   Method=("ADAM", {"LearningRate": 0.01}), TrainingProgressReporting=None)
trained = results["TrainedNet"]
print(trained)
print("batches per round:", results["BatchesPerRound"],
      "| round losses:", np.round(results["RoundLossList"], 3))

# A batch of sequences of several lengths; each result equals the sequence evaluated alone.
probabilities = np.array(trained(test_x))                      # (n, 2)
alone = np.array([trained(x) for x in test_x[:5]])
print("mixed batch == one at a time:", bool(np.allclose(probabilities[:5], alone, atol=1e-5)))
accuracy = float(np.mean(probabilities.argmax(axis=1) + 1 == test_y))
print(f"test accuracy: {accuracy:.1%} (half would be chance)")
assert np.allclose(probabilities[:5], alone, atol=1e-5)
if not FAST:
    assert accuracy > 0.8
