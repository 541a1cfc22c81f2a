"""PerformanceGoal "TrainingSpeed": the compiled step (whole: forward, gradients and update
as one function, train/whole_step.py; or the forward alone) equals the eager one for every
method and per-array setting, keeps the eager step's faults, falls back with one warning
when compiling fails, and Automatic never compiles a short run."""
import warnings

import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.train import compiled
from netgraph.train.compiled import compile_mode
from netgraph.train.options import parse_options
from netgraph.train.step import mirroring_mode

X = np.random.default_rng(0).normal(size=(80, 3)).astype(np.float32)
DATA = {"Input": X, "Output": np.tanh(X).sum(1)}
RUN = {"BatchSize": 8, "MaxTrainingRounds": 2, "TrainingProgressReporting": None}


def net():
    return NetGraph({"a": LinearLayer(6), "t": Tanh, "b": LinearLayer(6), "s": Ramp,
                     "plus": ThreadingLayer(Plus), "out": LinearLayer()},
                    [("a", "t", "b", "s"), (["t", "s"], "plus", "out")],
                    Input=3, Output="Real")


def same_training(model, data, steps_made, kind="whole", atol=1e-5, loss=Automatic, **opts):
    """The TrainingSpeed run equals the eager one: losses and every array."""
    opts = {**RUN, **opts}
    eager = NetTrain(model, data, loss, All, PerformanceGoal=None, **opts)
    fast = NetTrain(model, data, loss, All, PerformanceGoal="TrainingSpeed", **opts)
    assert steps_made[kind] == 1 and sum(steps_made.values()) == 1
    assert np.allclose(fast["BatchLossList"], eager["BatchLossList"], rtol=1e-4, atol=1e-6)
    w = Information(fast["TrainedNet"], "Arrays")
    v = Information(eager["TrainedNet"], "Arrays")
    assert w.keys() == v.keys()
    for k in w:
        assert np.allclose(np.asarray(w[k]), np.asarray(v[k]), rtol=1e-4, atol=atol), k
    return fast, eager


def test_compiled_and_eager_steps_give_the_same_losses(steps):
    fast, eager = same_training(net(), DATA, steps)
    assert len(fast["BatchLossList"]) == 20
    assert fast["CompileTime"] > 0 and eager["CompileTime"] == 0
    assert fast["TotalTrainingTime"] >= fast["CompileTime"]


@pytest.mark.parametrize("method", [
    "SGD",                                      # momentum, and a Polynomial schedule
    ("RMSProp", {"LearningRate": 0.01}),
    ("SignSGD", {"LearningRate": 0.01}),
    ("ADAM", {"L2Regularization": 0.01, "GradientClipping": [("a", 0.05)],
              "WeightClipping": [("out", 0.3)],
              "LearningRateSchedule": lambda b, n: 1 - b / (n + 1)}),
])
def test_every_method_and_setting_compiles_whole(steps, method):
    same_training(net(), DATA, steps, Method=method,
                  LearningRateMultipliers=[("b", 0), ("out", 2.5)])


@pytest.mark.parametrize("method", [("SGD", {"Momentum": None}), ("SignSGD", {"Momentum": None}),
                                    "ADAM"])
def test_an_array_no_gradient_reaches_is_not_updated(steps, method):
    """A branch only a weight-0 loss reads gets no gradient: torch's optimizers skip it
    (L2Regularization would otherwise shrink it), and so does the whole step."""
    side = NetGraph({"a": LinearLayer(5), "t": Tanh, "out": LinearLayer(), "side": LinearLayer(2)},
                    [(NetPort("Input"), "a", "t", "out", NetPort("Output")),
                     (NetPort("Input"), "side", NetPort("Side"))], Input=3, Output="Real")
    side = NetInitialize(side, RandomSeeding=1)
    data = {**DATA, "Side": X[:, :2]}
    name, sub = method if isinstance(method, tuple) else (method, {})
    fast, _ = same_training(side, data, steps, loss={"Output": Scaled(1), "Side": Scaled(0)},
                            Method=(name, {**sub, "L2Regularization": 0.5}))
    assert np.array_equal(NetExtract(fast["TrainedNet"], ("side", "Weights")),
                          NetExtract(side, ("side", "Weights")))


def test_real64_adam_keeps_double_precision(steps):
    fast, eager = same_training(net(), DATA, steps, WorkingPrecision="Real64")
    for k, v in Information(eager["TrainedNet"], "Arrays").items():
        w = np.asarray(Information(fast["TrainedNet"], "Arrays")[k])
        assert np.allclose(w, np.asarray(v), rtol=1e-12, atol=1e-13), k


def test_a_changed_optimizer_setting_is_honoured(steps):
    """Settings other than the rate are constants of the compiled graph: changing one
    through trainer["Optimizer"] sends the trainer back to the eager step."""
    def run(goal):
        trainer, (gen, _) = NetTrain(NetInitialize(net(), RandomSeeding=3), DATA,
                                     ["$Trainer", "$TrainingGenerator"], PerformanceGoal=goal,
                                     **RUN)
        for i in range(8):
            TrainerUpdate(trainer, gen(i % 10 + 1))
        trainer["Optimizer"].param_groups[0]["betas"] = (0.0, 0.0)
        losses = []
        for i in range(8):
            TrainerUpdate(trainer, gen(i % 10 + 1))
            losses.append(TrainerCurrentLoss(trainer)["OutputLoss"])
        return trainer, losses
    fast, compiled_losses = run("TrainingSpeed")
    _, eager_losses = run(None)
    assert fast["CompileTime"] > 0 and not fast._run_step.on
    assert np.allclose(compiled_losses, eager_losses, rtol=1e-4)


def test_running_statistics_move_once_per_step(steps):
    bn = NetChain([LinearLayer(5), BatchNormalizationLayer(), Ramp, LinearLayer()],
                  Input=3, Output="Real")
    # the first layer's biases have (nearly) no gradient through the normalization: atol
    fast, _ = same_training(bn, DATA, steps, atol=1e-4)
    moving = np.asarray(NetExtract(fast["TrainedNet"], (2, "MovingMean")))
    assert np.abs(moving).max() > 1e-3           # they moved


def test_sequences_of_varying_length(steps):
    rng = np.random.default_rng(2)
    seqs = [rng.normal(size=(int(n), 2)).astype(np.float32) for n in rng.integers(2, 7, 48)]
    data = {"Input": seqs, "Output": [float(s.sum()) for s in seqs]}
    rnn = NetChain([GatedRecurrentLayer(4), SequenceLastLayer(), LinearLayer()],
                   Input=("Varying", 2), Output="Real")
    same_training(rnn, data, steps)


def test_carried_states(steps):
    """StateTransfer: the states the compiled step returns are carried to the next."""
    rnn = NetGraph({"lin": LinearLayer(2), "acc": ThreadingLayer(Plus), "out": LinearLayer()},
                   [(NetPort("Input"), "lin"), (["lin", NetPort("InitialState")], "acc"),
                    ("acc", NetPort("FinalState")), ("acc", "out", NetPort("Output"))],
                   Input=3, InitialState=2, Output="Real")
    same_training(rnn, DATA, steps, StateTransfer={"FinalState": "InitialState"})


def test_a_nonfinite_loss_keeps_the_last_finite_net(steps):
    y = np.tanh(X).sum(1)
    y[70] = 1e30                              # one batch overflows (batch 10 as shuffled)
    data = {"Input": X, "Output": y}
    fast, eager = same_training(net(), data, steps, Method=("SGD", {"LearningRate": 0.01}))
    reason = fast["ReasonTrainingStopped"]
    assert "the loss became inf in round 1, batch 10" in reason   # compiled from batch 5
    assert fast["BatchLossList"] == pytest.approx(eager["BatchLossList"], rel=1e-4)


def test_a_step_that_cannot_be_whole_compiles_its_forward(steps):
    fast, _ = same_training(net(), DATA, steps, kind="forward",
                            LearningRateMultipliers=[("a", -0.5)])
    assert fast["CompileTime"] > 0


def test_why_a_step_is_not_whole():
    from netgraph.train.whole_step import refusal
    trainer = NetTrain(net(), DATA, "$Trainer", TrainingUpdateSchedule=[["a"], ["out"]],
                       **RUN)
    assert refusal(trainer) == "a TrainingUpdateSchedule"
    trainer = NetTrain(net(), DATA, "$Trainer", Mirroring=True, **RUN)
    assert refusal(trainer) == "Mirroring"


def failing_backend(gm, example_inputs):
    raise RuntimeError("no compiler here")


def test_a_failed_compile_falls_back_with_one_warning(monkeypatch, capsys):
    monkeypatch.setattr(compiled, "BACKEND", failing_backend)
    eager = NetTrain(net(), DATA, All, PerformanceGoal=None, **RUN)
    with pytest.warns(compiled.CompileFallback) as seen:
        fast = NetTrain(net(), DATA, All, PerformanceGoal="TrainingSpeed", **RUN)
    assert len(seen) == 1 and "no compiler here" in str(seen[0].message)
    assert 'PerformanceGoal "TrainingSpeed" could not compile' in str(seen[0].message)
    assert fast["BatchLossList"] == pytest.approx(eager["BatchLossList"])


def test_automatic_does_not_compile_a_short_run(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("torch.compile was called")
    monkeypatch.setattr(compiled.torch, "compile", refuse)
    r = NetTrain(net(), DATA, All, BatchSize=32, MaxTrainingRounds=1,
                 TrainingProgressReporting=None)      # 3 batches, PerformanceGoal Automatic
    assert r["TotalBatches"] == 3 and r["CompileTime"] == 0


def counting_step():
    """A StepCompiler's eager step and a maker of its "compiled" one (the same function),
    counting the calls of each."""
    calls = {"eager": 0, "made": 0, "compiled": 0}

    def eager(feeds):
        calls["eager"] += 1
        return float(feeds["x"].sum()), {}

    def make():
        calls["made"] += 1

        def run(feeds):
            calls["compiled"] += 1
            return float(feeds["x"].sum()), {}
        return run
    return calls, eager, make


def test_automatic_compiles_when_the_rest_of_the_run_repays_it(monkeypatch):
    monkeypatch.setattr(compiled, "MIN_GAIN", -1e9)   # the fake compiled step is no faster
    calls, eager, make = counting_step()
    step = compiled.StepCompiler(eager, make, Automatic, lambda: 10**9)
    for _ in range(2 * compiled.TIMED_STEPS + 3):
        step({"x": torch.ones(3)})
    # the first step and TIMED_STEPS timed ones are eager, then it compiles
    assert calls["eager"] == 1 + compiled.TIMED_STEPS and calls["made"] == 1
    assert step.on and not step.rejected and step.shapes == {(("x", (3,)),)}
    calls, eager, make = counting_step()
    short = compiled.StepCompiler(eager, make, Automatic, lambda: 6)
    for _ in range(6):
        short({"x": torch.ones(3)})
    assert not short.on and calls["made"] == 0 and calls["eager"] == 6


def test_performance_goal_option():
    assert compile_mode(parse_options({})) is Automatic
    assert compile_mode(parse_options({"PerformanceGoal": "TrainingSpeed"})) is True
    assert compile_mode(parse_options({"PerformanceGoal": None})) is False
    memory = parse_options({"PerformanceGoal": ["TrainingMemory"]})
    assert mirroring_mode(memory) is True and compile_mode(memory) is False
    auto = parse_options({"PerformanceGoal": "TrainingMemory", "Mirroring": Automatic})
    assert mirroring_mode(auto) is Automatic
    with pytest.raises(OptionError, match=r'PerformanceGoal to be Automatic, None, '
                       r'"TrainingSpeed", "TrainingMemory" or a list of them, but received '
                       r"'TrainingSpeeds'. Did you mean \"TrainingSpeed\""):
        parse_options({"PerformanceGoal": "TrainingSpeeds"})


def test_training_memory_mirrors_with_the_same_gradients():
    seq = NetChain([LongShortTermMemoryLayer(4), SequenceLastLayer(), LinearLayer()],
                   Input=(12, 1), Output="Real")
    data = {"Input": np.random.default_rng(1).normal(size=(16, 12, 1)),
            "Output": np.zeros(16)}
    opts = {"BatchSize": 8, "MaxTrainingRounds": 1, "TrainingProgressReporting": None}
    with warnings.catch_warnings():
        plain = NetTrain(seq, data, All, **opts)
        mem = NetTrain(seq, data, All, PerformanceGoal="TrainingMemory", **opts)
    assert np.allclose(plain["BatchLossList"], mem["BatchLossList"], rtol=1e-5)


@pytest.mark.parametrize("mode", [Automatic, True])
def test_a_compiled_step_that_is_not_faster_is_dropped(mode):
    import time
    calls, eager, make = counting_step()

    def slow_make():
        run = make()

        def slow(feeds):
            time.sleep(0.002)        # the compiled step measures slower than the eager one
            return run(feeds)
        return slow
    step = compiled.StepCompiler(eager, slow_make, mode, lambda: 10**9)
    for _ in range(2 * compiled.TIMED_STEPS + 5):
        step({"x": torch.ones(3)})
    assert step.rejected and not step.on and step.compiled is None     # graphs freed
    assert calls["compiled"] == 1 + compiled.TIMED_STEPS   # the compiling call, the timed
    assert calls["eager"] == 2 * compiled.TIMED_STEPS + 5 - calls["compiled"]


def test_two_nets_of_the_same_shapes_never_share_a_compiled_step(steps):
    """The whole step's compiled graphs keep only guards on the batch and tensors: each
    trainer's graphs are its own, or a net differing only in a function would run another
    net's graph."""
    def other():
        return NetGraph({"a": LinearLayer(6), "t": Ramp, "b": LinearLayer(6), "s": Tanh,
                         "plus": ThreadingLayer(Times), "out": LinearLayer()},
                        [("a", "t", "b", "s"), (["t", "s"], "plus", "out")],
                        Input=3, Output="Real")
    same_training(net(), DATA, steps)
    steps["whole"] = 0
    same_training(other(), DATA, steps)


def test_a_convolutional_net_compiles_whole_with_the_same_losses(steps):
    # channels-last 2-D layers and pooling moved before its Ramp (backend/conv.py, plan.py)
    x = np.random.default_rng(1).normal(size=(48, 1, 6, 6)).astype(np.float32)
    conv = NetChain([ConvolutionLayer(2, 3), Ramp, PoolingLayer(2, 2), FlattenLayer(),
                     LinearLayer()], Input=(1, 6, 6), Output="Real")
    same_training(conv, {"Input": x, "Output": x.sum((1, 2, 3))}, steps)
