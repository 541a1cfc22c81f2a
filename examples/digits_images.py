"""WL's introductory workflow, done the WL way: a LeNet-style net that takes images and gives
digits.

The net carries an "Image" encoder on its input and a "Class" decoder on its output, as in
WL's ``NetChain[{...}, "Input" -> NetEncoder[{"Image", {28, 28}, "Grayscale"}], "Output" ->
NetDecoder[{"Class", Range[0, 9]}]]``. The training data are ``image -> digit`` pairs: Pillow
images (scikit-learn's 8x8 digits, which the encoder resizes to 28x28) and the digits 0-9 as
labels. NetTrain encodes both sides (the labels through the decoder), picks the
cross-entropy loss the "Class" decoder asks for, watches "Accuracy" on a ValidationSet, and
the trained net answers with labels: ``trained(image)`` is a digit, ``trained(image,
"Probabilities")`` a dict ``{digit: p}``. A confusion-matrix plot is saved.

Needs scikit-learn (the project's test extra); nothing is downloaded.
Run: python examples/digits_images.py   (fast mode: NETGRAPH_EXAMPLE_FAST=1 or --fast)
"""
import os
import sys

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from netgraph import (
    All,
    ConvolutionLayer,
    FlattenLayer,
    LinearLayer,
    NetChain,
    NetDecoder,
    NetEncoder,
    NetMeasurements,
    NetTrain,
    PoolingLayer,
    Ramp,
    SoftmaxLayer,
)

FAST = os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1" or "--fast" in sys.argv

digits = load_digits()
images = [Image.fromarray((d * 255 / 16).astype(np.uint8)) for d in digits.images]
labels = [int(t) for t in digits.target]
order = np.random.default_rng(0).permutation(len(images))
test, train = order[:300], order[300:]
if FAST:
    train = train[:300]
training = [(images[i], labels[i]) for i in train]          # WL's {image -> digit, ...}
validation = [(images[i], labels[i]) for i in test]
print(f"{len(training)} training images, {len(validation)} held out; "
      f"each a Pillow image of size {images[0].size}")

lenet = NetChain([ConvolutionLayer(20, 5), Ramp, PoolingLayer(2, 2),
                  ConvolutionLayer(50, 5), Ramp, PoolingLayer(2, 2), FlattenLayer(),
                  LinearLayer(500), Ramp, LinearLayer(10), SoftmaxLayer()],
                 Input=NetEncoder(["Image", [28, 28], "Grayscale"]),
                 Output=NetDecoder(["Class", list(range(10))]))
print(lenet)

results = NetTrain(lenet, training, All, ValidationSet=validation,
                   TrainingProgressMeasurements="Accuracy",
                   MaxTrainingRounds=2 if FAST else 12, BatchSize=64,
                   TrainingProgressReporting=None, RandomSeeding=1)
trained = results["TrainedNet"]
print("validation accuracy by round:",
      np.round(results["ValidationMeasurementsLists"]["Accuracy"], 3).tolist())

held_out = [images[i] for i in test]
predicted = trained(held_out)                                  # a list of digits
accuracy = float(np.mean(np.array(predicted) == np.array([labels[i] for i in test])))
print(f"held-out accuracy: {accuracy:.1%} (NetMeasurements: "
      f"{NetMeasurements(trained, validation, 'Accuracy'):.1%})")
print("first image:", trained(held_out[0]), "with probabilities",
      {d: round(p, 3) for d, p in trained(held_out[0], "Probabilities").items() if p > 0.01})

plot = NetMeasurements(trained, validation, "ConfusionMatrixPlot")
plot.savefig("digits_confusion.png")
print("confusion matrix plot: digits_confusion.png")
assert accuracy >= (0.3 if FAST else 0.95), accuracy
