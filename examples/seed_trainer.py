"""Seed example 2: drive NetTrain's trainer by hand ("$Trainer" and "$TrainingGenerator").

NetTrain sets up the training net, the optimizer and the data, trains one round (the
progress function stops it at once) and hands over the trainer and a batch generator.
TrainerUpdate queues a step on the trainer's worker thread and returns at once;
TrainerCurrentLoss waits for it; trainer["Net"] is the current net, as a value.

Run: python examples/seed_trainer.py
"""
import os

from netgraph import Automatic, LinearLayer, NetTrain, TrainerCurrentLoss, TrainerUpdate

STEPS = 20 if os.environ.get("NETGRAPH_EXAMPLE_FAST") == "1" else 500

net = LinearLayer()
data = {1: 1.9, 2: 4.1, 3: 6.0, 4: 8.1}          # WL {1 -> 1.9, 2 -> 4.1, ...}
trainer, (gen, nmax) = NetTrain(
    net, data, Automatic, ["$Trainer", "$TrainingGenerator"],
    Method=("ADAM", {"LearningRateSchedule": None}),
    TrainingProgressReporting=None,
    TrainingProgressFunction=lambda info: "StopTraining")

print("trainer:", trainer)
print("batches per round:", nmax)
batch = gen(1)
print("gen(1) =", {k: v.tolist() for k, v in batch.items()})

TrainerUpdate(trainer, batch)                  # returns at once
print("loss after one more step:", TrainerCurrentLoss(trainer))   # waits for the step

# A loop of our own: TrainerUpdate queues steps while this thread goes on.
first = TrainerCurrentLoss(trainer)["OutputLoss"]
for _ in range(STEPS):
    TrainerUpdate(trainer, gen(1))
loss = TrainerCurrentLoss(trainer)["OutputLoss"]
print(f"loss after {STEPS} more steps: {loss:.4f} (was {first:.4f})")
assert loss < first

trained = trainer["Net"]                       # a net value: training on leaves it alone
print("trainer['Net'] =", trained)
print("trained net at 5:", round(trained(5.0), 3))
print("round, batch, absolute batch:", trainer["Round"], trainer["Batch"],
      trainer["AbsoluteBatch"])
