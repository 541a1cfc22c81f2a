"""Data-parallel training: the same NetTrain script on one process or on several.

Run it alone, or under PyTorch's launcher to train one net on several processes:

    python examples/distributed_training.py
    torchrun --nproc_per_node=2 examples/distributed_training.py
    torchrun --nproc_per_node=gpu examples/distributed_training.py --gpu   # one per GPU

Under torchrun each process trains its share of every global batch (BatchSize stays the
global batch size) with DistributedDataParallel; only rank 0 reports progress and writes
the file, and every process ends with the same net, the one a single process trains.
See docs/guide/distributed.md.
"""
import os
import sys

import numpy as np

from netgraph import Export, LinearLayer, NetChain, NetTrain, Ramp, SoftmaxLayer
from netgraph.train.distributed import world_size

FAST = os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1"
rank = int(os.environ.get("RANK", "0"))

# Every process builds the same data (the same seed): the batches are drawn alike.
rng = np.random.default_rng(0)
x = rng.normal(size=(512 if FAST else 20_000, 8)).astype(np.float32)
y = 1 + (x[:, :4].sum(1) > 0) + (x[:, 4:].sum(1) > 1)          # classes 1..3

net = NetChain([LinearLayer(64), Ramp, LinearLayer(3), SoftmaxLayer()], Input=8)
results = NetTrain(net, {"Input": x, "Output": y}, "ResultsObject", BatchSize=128,
                   MaxTrainingRounds=2 if FAST else 10,
                   TargetDevice="GPU" if "--gpu" in sys.argv else "CPU",
                   TrainingProgressReporting=None if FAST else "Print")
trained = results["TrainedNet"]
accuracy = float(np.mean(trained(x).argmax(1) + 1 == y))
print(f"process {rank + 1} of {world_size()}: {results['TotalBatches']} global batches of "
      f"{results['BatchSize']}, final loss {results['RoundLoss']:.4f}, "
      f"accuracy {accuracy:.1%}, device {results['TargetDevice']}")
if rank == 0:
    print("rank 0 saves the net:", Export("distributed.netgraph", trained))
