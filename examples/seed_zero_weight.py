"""Seed example 3: a net with a loss port and an auxiliary output of weight 0.

The loss spec {"Loss": Scaled(1), "StateOut": Scaled(0)} trains on "Loss" only; "StateOut"
is still computed at every step and can be read from trainer["OutputArrays"], but it adds
nothing to the gradient (the weights move exactly as with "Loss" alone).

Run: python examples/seed_zero_weight.py
"""
import os

import numpy as np

from netgraph import (
    LinearLayer,
    MeanAbsoluteLossLayer,
    NetExtract,
    NetGraph,
    NetPort,
    NetTrain,
    Normal,
    Plus,
    Scaled,
    ThreadingLayer,
    TrainerUpdate,
)

STEPS = 3 if os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1" else 20

net = NetGraph(
    [ThreadingLayer(Plus), LinearLayer(), MeanAbsoluteLossLayer()],
    [([NetPort("Input"), NetPort("StateIn")], 1, 2, 3, NetPort("Loss")),
     (2, NetPort("StateOut"))],
    Input="Real", Target="Real")
print(net)
data = {"Input": [1, 2, 3, 4], "StateIn": [1, 2, 3, 4], "Target": [5, 6, 8, 9]}


def trainer_for(loss_spec):
    trainer, (gen, _) = NetTrain(
        net, data, loss_spec, ["$Trainer", "$TrainingGenerator"],
        TrainingProgressReporting=None,
        TrainingProgressFunction=lambda info: "StopTraining")
    return trainer, gen


trainer, gen = trainer_for({"Loss": Scaled(1), "StateOut": Scaled(0)})
for step in range(1, STEPS + 1):
    TrainerUpdate(trainer, gen(1))
    state_out = trainer["OutputArrays"]["StateOut"]       # a torch tensor
    print(f"step {step}: StateOut = {np.round(Normal(state_out), 3)}")

# The weight-0 port changes nothing: the same steps on "Loss" alone give the same weights.
alone, gen_alone = trainer_for("Loss")
for _ in range(STEPS):
    TrainerUpdate(alone, gen_alone(1))
w_both = NetExtract(trainer["Net"], (2, "Weights"))
w_alone = NetExtract(alone["Net"], (2, "Weights"))
print("weights with StateOut at Scaled(0):", w_both.ravel())
print("weights with the loss alone:       ", w_alone.ravel())
assert np.array_equal(w_both, w_alone)
print("identical: Scaled(0) outputs are computed but never trained on.")
