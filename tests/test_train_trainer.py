"""The "$Trainer": TrainerUpdate/TrainerCurrentLoss, properties, worker errors, threads."""
import threading

import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.train.trainer import Trainer

QUIET = {"TrainingProgressReporting": None}
STOP = {"TrainingProgressFunction": lambda info: "StopTraining"}
DATA = {1: 1.9, 2: 4.1, 3: 6.0, 4: 8.1}


def trainer_and_gen(data=DATA, net=None, *args, **opts):
    kw = {**QUIET, **STOP, **opts}
    return NetTrain(LinearLayer() if net is None else net, data, *args,
                    ["$Trainer", "$TrainingGenerator"], **kw)


def test_update_and_current_loss():
    trainer, (gen, nmax) = trainer_and_gen(Method=("ADAM", {"LearningRateSchedule": None}))
    assert nmax == 1
    batch = gen(1)
    assert sorted(batch["Input"].tolist()) == [1.0, 2.0, 3.0, 4.0]
    losses = []
    for _ in range(20):
        assert TrainerUpdate(trainer, batch) is None
        losses.append(TrainerCurrentLoss(trainer)["OutputLoss"])
    assert losses[-1] < losses[0]
    net = trainer["Net"]
    assert net.head == "LinearLayer" and net.is_initialized()
    assert isinstance(trainer["Optimizer"], torch.optim.Optimizer)


def test_current_loss_matches_the_net():
    trainer, (gen, _) = trainer_and_gen()
    batch = gen(1)
    TrainerUpdate(trainer, batch)
    before = TrainerCurrentLoss(trainer)["OutputLoss"]
    net = trainer["Net"]  # after the update; the loss was computed before it
    assert isinstance(before, float)
    pred = net(batch["Input"])
    assert np.mean((pred - batch["Output"]) ** 2) < before


def test_zero_weighted_port_is_readable():
    net = NetGraph(
        [ThreadingLayer(Plus), LinearLayer(), MeanAbsoluteLossLayer()],
        [([NetPort("Input"), NetPort("StateIn")], 1, 2, 3, NetPort("Loss")),
         (2, NetPort("StateOut"))],
        Input="Real", Target="Real")
    data = {"Input": [1, 2, 3, 4], "StateIn": [1, 2, 3, 4], "Target": [5, 6, 8, 9]}
    trainer, (gen, _) = trainer_and_gen(data, net, {"Loss": Scaled(1), "StateOut": Scaled(0)})
    TrainerUpdate(trainer, gen(1))
    losses = TrainerCurrentLoss(trainer)
    assert set(losses) == {"Loss", "StateOut"}
    outs = trainer["OutputArrays"]
    assert set(outs) == {"Loss", "StateOut"} and isinstance(outs["StateOut"], torch.Tensor)
    assert Normal(outs["StateOut"]).shape == (4,)
    assert losses["StateOut"] == pytest.approx(float(outs["StateOut"].mean()))


def test_round_and_batch_counters():
    trainer, (gen, nmax) = trainer_and_gen({"Input": np.arange(6.0), "Output": np.arange(6.0)},
                                           BatchSize=2, MaxTrainingRounds=3)
    assert nmax == 3
    start = trainer["AbsoluteBatch"]
    for i in range(1, 5):
        TrainerUpdate(trainer, gen((i - 1) % nmax + 1))
    assert trainer["AbsoluteBatch"] == start + 4
    assert trainer["BatchesPerRound"] == 3 and trainer["TotalBatches"] == 9
    assert trainer["Round"] == (start + 4) // 3 + 1 and trainer["Batch"] == (start + 4) % 3


def test_unknown_property_names_the_nearest():
    trainer, _ = trainer_and_gen()
    with pytest.raises(TrainingError, match='Did you mean "OutputArrays"'):
        trainer["OutputArray"]


def test_worker_errors_surface_at_the_next_call():
    calls = []

    def schedule(batch, total):
        calls.append(batch)
        if len(calls) == 3:
            raise RuntimeError("schedule exploded")
        return 1.0
    trainer, (gen, _) = trainer_and_gen(Method=("ADAM", {"LearningRateSchedule": schedule}))
    TrainerUpdate(trainer, gen(1))
    TrainerUpdate(trainer, gen(1))       # this step raises on the worker
    with pytest.raises(RuntimeError, match="schedule exploded"):
        TrainerUpdate(trainer, gen(1))   # raises here if the worker already failed,
        TrainerCurrentLoss(trainer)      # else it is skipped and this call raises
    TrainerUpdate(trainer, gen(1))   # the trainer goes on after the error is reported
    assert np.isfinite(TrainerCurrentLoss(trainer)["OutputLoss"])


def test_bad_batches_fail_at_once():
    trainer, _ = trainer_and_gen()
    with pytest.raises(TrainingError, match='no such input. Did you mean "Input"'):
        TrainerUpdate(trainer, {"Inptu": [1.0], "Output": [2.0]})
    with pytest.raises(ShapeError, match="expects"):
        TrainerUpdate(trainer, {"Input": [[1.0, 2.0]], "Output": [2.0]})
    with pytest.raises(TrainingError, match="expected a trainer"):
        TrainerUpdate("trainer", {})


def test_updates_from_several_threads():
    trainer, (gen, _) = trainer_and_gen()
    start = trainer["AbsoluteBatch"]
    batch = gen(1)

    def work():
        for _ in range(5):
            TrainerUpdate(trainer, batch)
            TrainerCurrentLoss(trainer)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert trainer["AbsoluteBatch"] == start + 20


def test_help_explains_the_trainer():
    trainer, _ = trainer_and_gen()
    assert isinstance(trainer, Trainer)
    doc = type(trainer).__doc__
    for word in ("TrainerUpdate", "TrainerCurrentLoss", "OutputArrays", "reset_states"):
        assert word in doc
    assert "Trainer[LinearLayer" in repr(trainer)


def test_schedule_knows_the_total_when_driven_by_hand():
    seen = []

    def schedule(batch, total):
        seen.append((batch, total))
        return 1.0
    trainer, (gen, nmax) = trainer_and_gen(
        {"Input": np.arange(8.0), "Output": np.arange(8.0)}, None,
        Method=("SGD", {"LearningRateSchedule": schedule}), BatchSize=4, MaxTrainingRounds=5)
    assert seen == [(1, 10), (2, 10)]  # NetTrain ran round 1, then "StopTraining"
    TrainerUpdate(trainer, gen(1))
    TrainerCurrentLoss(trainer)
    assert seen[-1] == (3, 10)


def test_update_returns_before_the_step_runs():
    import time
    gate = threading.Event()

    def slow(batch, total):
        gate.wait(5)
        return 1.0
    gate.set()                                   # NetTrain's own round runs freely
    trainer, (gen, _) = trainer_and_gen(Method=("ADAM", {"LearningRateSchedule": slow}))
    gate.clear()
    batch = gen(1)
    t = time.perf_counter()
    TrainerUpdate(trainer, batch)                # the worker blocks inside this step
    time.sleep(0.05)
    TrainerUpdate(trainer, batch)                # queued behind it: must not wait for it
    assert time.perf_counter() - t < 2.0
    gate.set()
    TrainerCurrentLoss(trainer)
