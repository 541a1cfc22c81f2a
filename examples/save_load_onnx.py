"""A new user's path: train a net, save it, load it back, export it to ONNX, check.

1. NetTrain a small classifier on made-up data.
2. Export("classifier.netgraph", net): netgraph's own file (JSON + safetensors in a zip;
   loading it never runs code from the file).
3. Import("classifier.netgraph"): the same net, giving the same outputs.
4. Export("classifier.onnx", net) and run the file in onnxruntime: the same outputs again.
5. ToTorchModule(net): the plain torch.nn.Module behind the net.

Needs onnx and onnxruntime (the project's test extra) for step 4.
Run: python examples/save_load_onnx.py   (files are written to the current directory)
"""
import os

import numpy as np
import onnxruntime
import torch

from netgraph import (
    Export,
    Import,
    LinearLayer,
    NetChain,
    NetTrain,
    Ramp,
    SoftmaxLayer,
    ToTorchModule,
)

FAST = os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1"

# 1. Train: points of the square, class 2 below the curve y = sin(3x), else class 1.
rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, size=(512, 2)).astype(np.float32)
y = 1 + (np.sin(3 * x[:, 0]) > x[:, 1])
net = NetChain([LinearLayer(32), Ramp, LinearLayer(2), SoftmaxLayer()], Input=2)
trained = NetTrain(net, {"Input": x, "Output": y}, BatchSize=32,
                   MaxTrainingRounds=2 if FAST else 40,
                   Method=("ADAM", {"LearningRate": 0.01}), TrainingProgressReporting=None)
accuracy = np.mean(trained(x).argmax(1) + 1 == y)
print(trained)
print(f"1. trained: accuracy {accuracy:.1%} on the training data")

# 2. Save.
path = Export("classifier.netgraph", trained)
print(f"2. Export -> {path} ({os.path.getsize(path):,} bytes)")

# 3. Load: an equal net that computes the same outputs.
loaded = Import("classifier.netgraph")
probe = rng.uniform(-1, 1, size=(8, 2)).astype(np.float32)
same = np.array_equal(loaded(probe), trained(probe))
print(f"3. Import -> {loaded.head}; outputs equal to the trained net's: {same}")
assert same

# 4. ONNX: every port becomes an ONNX input or output of the same name, batch first.
onnx_path = Export("classifier.onnx", loaded)
session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
inputs = [i.name for i in session.get_inputs()]
(onnx_out,) = session.run(["Output"], {"Input": probe})
gap = float(np.max(np.abs(onnx_out - loaded(probe))))
print(f"4. Export -> {onnx_path}; onnxruntime inputs {inputs}, largest difference "
      f"from netgraph {gap:.2e}")
assert gap < 1e-5

# 5. The plain PyTorch module: keyword arguments by port name, a dict of outputs back.
module = ToTorchModule(loaded)
with torch.no_grad():
    torch_out = module(Input=torch.from_numpy(probe))["Output"].numpy()
print(f"5. ToTorchModule -> {type(module).__name__}; same outputs: "
      f"{bool(np.allclose(torch_out, onnx_out, atol=1e-6))}")
