"""Coders at speed: NetTrain and evaluation on Pillow images, against hand-written PyTorch.

The net: LeNet-style (ConvolutionLayer(20, 5), Ramp, PoolingLayer(2, 2), ConvolutionLayer(50,
5), Ramp, PoolingLayer(2, 2), FlattenLayer, LinearLayer(500), Ramp, LinearLayer(10),
SoftmaxLayer) with ``Input=NetEncoder(["Image", [28, 28], "Grayscale"])`` and
``Output=NetDecoder(["Class", list(range(10))])``. The data: 10,000 28x28 grayscale Pillow
images with digit labels.

1. One NetTrain round (batch 64, ADAM) on ``image -> label`` pairs, against a hand-written
   PyTorch loop doing the same decoding: per batch, the Pillow images to a float32 array
   scaled to [0, 1] (``np.asarray``), the labels to class indices through a dict, then the
   same model (softmax, -log of the target's probability, mean; ``torch.optim.Adam``) one
   step. Seconds per round, interleaved turns, the median of the paired ratios. Target
   <= 1.10. The overlap figure: the same NetTrain round with the images encoded first
   (``ENCODE_AHEAD = False``) against encoded on a worker thread while round 1 trains.
2. Evaluation of 1,000 images one at a time (``[net(im) for im in images]``) and as one list
   (``net(images)``), giving labels, against hand-written code that does the same: the images
   to arrays, the model, argmax, the label. Target <= 1.30.

torch runs on one thread (the encoding worker gets the other core), as in train_step.py.

    .venv/bin/python benchmarks/coders.py [--quick]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _timing import interleaved_turns, paired_report  # noqa: E402

import netgraph.train.nettrain as nettrain  # noqa: E402
from netgraph import (  # noqa: E402
    ConvolutionLayer,
    FlattenLayer,
    LinearLayer,
    NetChain,
    NetDecoder,
    NetEncoder,
    NetInitialize,
    NetTrain,
    PoolingLayer,
    Ramp,
    SoftmaxLayer,
)

QUICK = "--quick" in sys.argv
N = 2000 if QUICK else 10_000
BATCH = 64
LABELS = list(range(10))


def data(n: int) -> tuple[list[Image.Image], list[int]]:
    """Digit-like images: a bright bar whose place depends on the label, plus noise."""
    rng = np.random.default_rng(0)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    images = []
    for y in labels:
        a = rng.integers(0, 60, (28, 28)).astype(np.uint8)
        a[2 + 2 * y:5 + 2 * y, 4:24] = 230
        images.append(Image.fromarray(a))
    return images, labels


def lenet() -> NetChain:
    return NetChain([ConvolutionLayer(20, 5), Ramp, PoolingLayer(2, 2),
                     ConvolutionLayer(50, 5), Ramp, PoolingLayer(2, 2), FlattenLayer(),
                     LinearLayer(500), Ramp, LinearLayer(10), SoftmaxLayer()],
                    Input=NetEncoder(["Image", [28, 28], "Grayscale"]),
                    Output=NetDecoder(["Class", LABELS]))


def torch_lenet() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
                         nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
                         nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10),
                         nn.Softmax(-1))


def to_array(images: list[Image.Image]) -> np.ndarray:
    """What a hand-written loop does with Pillow images: (n, 1, 28, 28) float32 in [0, 1]."""
    return (np.stack([np.asarray(im, dtype=np.float32) for im in images]) / 255.0)[:, None]


# -- 1. one training round --------------------------------------------------------------------
def hand_round(images: list[Image.Image], labels: list[int]) -> tuple[float, int]:
    model = torch_lenet()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    index = {c: i for i, c in enumerate(LABELS)}
    t = time.perf_counter()
    order = np.random.default_rng(1).permutation(len(images))
    for i in range(0, len(order), BATCH):
        rows = order[i:i + BATCH]
        x = torch.from_numpy(to_array([images[j] for j in rows]))
        y = torch.tensor([index[labels[j]] for j in rows])
        p = model(x)
        loss = -torch.log(p.gather(1, y[:, None]).clamp_min(1e-7)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
    return time.perf_counter() - t, 1


def netgraph_round(images: list[Image.Image], labels: list[int], ahead: bool
                   ) -> tuple[float, int]:
    nettrain.ENCODE_AHEAD = ahead
    net = lenet()
    pairs = list(zip(images, labels, strict=True))
    t = time.perf_counter()
    NetTrain(net, pairs, MaxTrainingRounds=1, BatchSize=BATCH, TrainingProgressReporting=None,
             RandomSeeding=1)
    return time.perf_counter() - t, 1


# -- 2. evaluation --------------------------------------------------------------------------------
def evaluation(images: list[Image.Image]) -> None:
    net = NetInitialize(lenet(), RandomSeeding=2)
    model = torch_lenet().eval()
    with torch.no_grad():   # the same weights, so both give the same labels
        for k, m in ((1, model[0]), (4, model[3]), (8, model[7]), (10, model[9])):
            m.weight.copy_(torch.tensor(np.array(net[(k, "Weights")])))
            m.bias.copy_(torch.tensor(np.array(net[(k, "Biases")])))
    some = images[:1000]

    def hand_one() -> tuple[float, int]:
        t = time.perf_counter()
        with torch.inference_mode():
            out = [LABELS[int(model(torch.from_numpy(to_array([im]))).argmax())] for im in some]
        assert len(out) == len(some)
        return time.perf_counter() - t, len(some)

    def hand_list() -> tuple[float, int]:
        t = time.perf_counter()
        with torch.inference_mode():
            p = model(torch.from_numpy(to_array(some)))
        out = [LABELS[i] for i in p.argmax(1).tolist()]
        assert len(out) == len(some)
        return time.perf_counter() - t, len(some)

    def net_one() -> tuple[float, int]:
        t = time.perf_counter()
        out = [net(im) for im in some]
        assert len(out) == len(some)
        return time.perf_counter() - t, len(some)

    def net_list() -> tuple[float, int]:
        t = time.perf_counter()
        out = net(some)
        assert len(out) == len(some)
        return time.perf_counter() - t, len(some)

    assert net(some[:50]) == [LABELS[i] for i in model(torch.from_numpy(
        to_array(some[:50]))).argmax(1).tolist()]
    repeats = 3 if QUICK else 7
    paired_report("evaluation of 1,000 images one at a time (per image)",
                  interleaved_turns({"netgraph net(image)": net_one, "hand-written": hand_one},
                                    repeats), "hand-written", 1.30)
    paired_report("evaluation of 1,000 images as one list (per image)",
                  interleaved_turns({"netgraph net(images)": net_list,
                                     "hand-written": hand_list}, repeats), "hand-written", 1.30)


def main() -> None:
    torch.set_num_threads(1)
    images, labels = data(N)
    print(f"{N} Pillow images 28x28, batch {BATCH}, torch threads {torch.get_num_threads()}")
    repeats = 2 if QUICK else 3
    times = interleaved_turns({
        "NetTrain, encoding ahead": lambda: netgraph_round(images, labels, True),
        "NetTrain, encoding first": lambda: netgraph_round(images, labels, False),
        "hand-written": lambda: hand_round(images, labels)}, repeats)
    paired_report("one NetTrain round on image -> label pairs (per round)",
                  {k: times[k] for k in ("NetTrain, encoding ahead", "hand-written")},
                  "hand-written", 1.10)
    paired_report("overlap: encoding while round 1 trains (per round)",
                  {k: times[k] for k in ("NetTrain, encoding ahead",
                                         "NetTrain, encoding first")},
                  "NetTrain, encoding first")
    nettrain.ENCODE_AHEAD = True
    evaluation(images)


if __name__ == "__main__":
    main()
