"""A text classifier on strings: a "Characters" encoder in, a "Class" decoder out.

WL's sequence-learning tutorial trains nets on raw strings; this is the same workflow. The
data are ``"some text" -> "label"`` pairs (short product reviews made up from word lists).
The "Characters" encoder turns each string into a sequence of character codes of its own
length; NetTrain batches them through the length buckets and encodes the labels through the
output's decoder. The trained net takes strings and gives labels.

Run: python examples/text_classifier.py   (fast mode: NETGRAPH_EXAMPLE_FAST=1 or --fast)
"""
import os
import sys

import numpy as np

from netgraph import (
    EmbeddingLayer,
    GatedRecurrentLayer,
    LinearLayer,
    NetChain,
    NetDecoder,
    NetEncoder,
    NetMeasurements,
    NetTrain,
    SequenceLastLayer,
    SoftmaxLayer,
)

FAST = os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1" or "--fast" in sys.argv

GOOD = ["great", "lovely", "works well", "excellent", "very good", "recommended", "perfect"]
BAD = ["broken", "awful", "stopped working", "poor", "very bad", "returned it", "useless"]
THINGS = ["the kettle", "this lamp", "my new phone", "the chair", "a cheap radio", "the bag"]


def reviews(n: int, seed: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        label = "positive" if rng.random() < 0.5 else "negative"
        words = GOOD if label == "positive" else BAD
        text = f"{rng.choice(THINGS)} is {rng.choice(words)}"
        if rng.random() < 0.5:
            text = f"{rng.choice(words)}, {text}"
        out.append((text, label))
    return out


training, validation = reviews(200 if FAST else 1500, 0), reviews(200, 1)
print(len(training), "training reviews, e.g.", training[:2])

alphabet = "abcdefghijklmnopqrstuvwxyz ,"
net = NetChain([EmbeddingLayer(16), GatedRecurrentLayer(32), SequenceLastLayer(),
                LinearLayer(2), SoftmaxLayer()],
               Input=NetEncoder(["Characters", alphabet]),
               Output=NetDecoder(["Class", ["negative", "positive"]]))
print(net)

trained = NetTrain(net, training, ValidationSet=validation, BatchSize=32,
                   MaxTrainingRounds=2 if FAST else 15, LearningRate=0.01,
                   TrainingProgressReporting=None, RandomSeeding=2)
texts = [t for t, _ in validation]
accuracy = float(np.mean(np.array(trained(texts)) == np.array([y for _, y in validation])))
print(f"held-out accuracy: {accuracy:.1%} (NetMeasurements: "
      f"{NetMeasurements(trained, validation, 'Accuracy'):.1%})")
for text in ["this lamp is lovely", "the kettle is broken, useless"]:
    print(repr(text), "->", trained(text), trained(text, "Probabilities"))
assert accuracy >= (0.4 if FAST else 0.9), accuracy
