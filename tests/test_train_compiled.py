"""PerformanceGoal "TrainingSpeed": the compiled step equals the eager one, falls back with
one warning when compiling fails, and Automatic never compiles a short run."""
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


def test_compiled_and_eager_steps_give_the_same_losses():
    eager = NetTrain(net(), DATA, All, PerformanceGoal=None, **RUN)
    fast = NetTrain(net(), DATA, All, PerformanceGoal="TrainingSpeed", **RUN)
    assert len(fast["BatchLossList"]) == 20
    assert np.allclose(fast["BatchLossList"], eager["BatchLossList"], rtol=1e-4, atol=1e-6)
    assert fast["CompileTime"] > 0 and eager["CompileTime"] == 0
    assert fast["TotalTrainingTime"] >= fast["CompileTime"]
    w = [np.asarray(a) for a in Information(fast["TrainedNet"], "Arrays").values()]
    v = [np.asarray(a) for a in Information(eager["TrainedNet"], "Arrays").values()]
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(w, v, strict=True))


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


def test_automatic_compiles_when_the_rest_of_the_run_repays_it(monkeypatch):
    calls = []

    def fake_compile(fn, **kw):
        calls.append(kw)
        return fn
    monkeypatch.setattr(compiled.torch, "compile", fake_compile)
    step = compiled.StepCompiler(lambda **f: (f["x"].sum(), {}), Automatic, lambda: 10**9)
    for _ in range(compiled.TIMED_STEPS + 2):
        step(x=torch.ones(3))
    assert calls and step.on and step.shapes == {(("x", (3,)),)}
    assert not step.rejected         # the fake compiled step costs what the eager one does...
    short = compiled.StepCompiler(lambda **f: (f["x"].sum(), {}), Automatic, lambda: 6)
    for _ in range(6):
        short(x=torch.ones(3))
    assert not short.on and len(calls) == 1


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


def test_automatic_drops_a_compiled_step_that_is_not_faster(monkeypatch):
    import time

    def slow_compile(fn, **kw):
        def run(**feeds):
            time.sleep(0.002)        # the compiled step measures slower than the eager one
            return fn(**feeds)
        return run
    monkeypatch.setattr(compiled.torch, "compile", slow_compile)
    step = compiled.StepCompiler(lambda **f: (f["x"].sum(), {}), Automatic, lambda: 10**9)
    for _ in range(2 * compiled.TIMED_STEPS + 3):
        step(x=torch.ones(3))
    assert step.rejected and not step.on and step.compiled is not None
