"""PerformanceGoal at evaluation: "TrainingSpeed" compiles the forward (same results), a
failed compile falls back with one warning, "TrainingMemory" changes nothing."""
import numpy as np
import pytest

from netgraph import *  # noqa: F403
from netgraph.runtime import evaluate as ev_mod
from netgraph.runtime import speed

NET = NetInitialize(NetGraph({"a": LinearLayer(8), "t": Tanh, "b": LinearLayer(3)},
                             [("a", "t", "b")], Input=4))
X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)


def test_training_speed_compiles_and_gives_the_same_results():
    want = NET(X)
    for _ in range(3):                  # repeated calls of one shape reuse the compiled graph
        got = NET(X, PerformanceGoal="TrainingSpeed")
        assert np.allclose(got, want, atol=1e-6)
    assert np.allclose(NET(X[0], PerformanceGoal="TrainingSpeed"), want[0], atol=1e-6)
    ev = ev_mod.evaluator(NET, compiled=True)
    assert isinstance(ev.forward, speed.CompiledForward) and len(ev.forward.shapes) == 2
    assert ev.forward.failed is None


def test_a_failed_compile_falls_back_with_one_warning(monkeypatch):
    def broken(fn, **kw):
        def run(**feeds):
            raise RuntimeError("no compiler here")
        return run
    monkeypatch.setattr(speed.torch, "compile", broken)
    net = NetInitialize(LinearLayer(2, Input=3))
    x = np.ones((2, 3), np.float32)
    with pytest.warns(speed.CompileFallback, match=r'LinearLayer: PerformanceGoal '
                      r'"TrainingSpeed" could not compile the net \(RuntimeError: no compiler '
                      r"here\); evaluating without compiling"):
        got = net(x, PerformanceGoal="TrainingSpeed")
    assert np.allclose(got, net(x))
    assert np.allclose(net(x, PerformanceGoal="TrainingSpeed"), net(x))   # no second warning


def test_training_memory_and_bad_goals():
    assert np.allclose(NET(X, PerformanceGoal="TrainingMemory"), NET(X))
    assert np.allclose(NET(X, PerformanceGoal=None), NET(X))
    with pytest.raises(OptionError, match=r"PerformanceGoal to be Automatic, None, "
                       r'"TrainingSpeed", "TrainingMemory" or a list of them, but received '
                       r"'Speed'"):
        NET(X, PerformanceGoal="Speed")


def test_compiling_sections_run_one_at_a_time():
    """quietly() swaps the process's warning filters: two threads never do it at once, and
    the filters are the same after as before."""
    import threading
    import time
    import warnings as w

    from netgraph.runtime.speed import quietly
    before = list(w.filters)
    inside, most = [0], [0]

    def section():
        with quietly():
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            time.sleep(0.01)
            inside[0] -= 1
    threads = [threading.Thread(target=section) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1 and w.filters == before
