"""A digit classifier on scikit-learn's digits (8x8 images shipped inside scikit-learn).

Shows: a convolutional NetChain, NetTrain with a ValidationSet and the automatic loss (a
cross-entropy, since the net ends in a SoftmaxLayer), class indices from 1 as in WL, the
results object (losses, timing), and the accuracy on held-out images.

Needs scikit-learn (the project's test extra); nothing is downloaded.
Run: python examples/digits_classifier.py
"""
import os

import numpy as np
from sklearn.datasets import load_digits

from netgraph import (
    All,
    ConvolutionLayer,
    FlattenLayer,
    LinearLayer,
    NetChain,
    NetTrain,
    PoolingLayer,
    Ramp,
    SoftmaxLayer,
)

FAST = os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1"

digits = load_digits()
images = (digits.images / 16.0).astype(np.float32)[:, None]   # (1797, 1, 8, 8) in [0, 1]
classes = digits.target + 1                                    # WL class indices 1..10
order = np.random.default_rng(0).permutation(len(images))
test, train = order[:300], order[300:]
if FAST:
    train = train[:400]
print(f"{len(train)} training images, {len(test)} test images, shape {images.shape[1:]}")

net = NetChain([ConvolutionLayer(8, 3), Ramp, PoolingLayer(2, 2), FlattenLayer(),
                LinearLayer(32), Ramp, LinearLayer(10), SoftmaxLayer()],
               Input=(1, 8, 8))
results = NetTrain(net, {"Input": images[train], "Output": classes[train]}, All,
                   ValidationSet={"Input": images[test], "Output": classes[test]},
                   BatchSize=32, MaxTrainingRounds=3 if FAST else 15,
                   Method=("ADAM", {"LearningRate": 0.01}),
                   TrainingProgressReporting=None)
trained = results["TrainedNet"]
print(trained)
print("round losses:     ", np.round(results["RoundLossList"], 3))
print("validation losses:", np.round(results["ValidationLossList"], 3))
print(f"{results['TotalBatches']} batches in {results['TotalTrainingTime']:.1f} s, "
      f"{results['MeanExamplesPerSecond']:.0f} examples/s")

probabilities = trained(images[test])                          # (300, 10)
predicted = probabilities.argmax(axis=1) + 1
accuracy = float(np.mean(predicted == classes[test]))
print(f"test accuracy: {accuracy:.1%}")
print("first ten test images: predicted", (predicted[:10] - 1).tolist(),
      "true", (classes[test][:10] - 1).tolist())
assert accuracy > (0.3 if FAST else 0.9)  # chance is 10%
