"""The fast paths: each is taken, and gives exactly what the slow path gives. Never timed.

- generated code: nested graphs called through ``.forward``, inlined Linear (any rank),
  losses, Catenate, Softmax, against the same modules called one by one;
- evaluation: ``Evaluator.fast`` against the general path;
- the "$Trainer": steps run in the caller's thread when it waits at once, on the worker when
  it has work of its own in between, with the caller's torch thread count;
- the optimizer: ``Updater.zero_grad``/``optimizer_step`` against torch's methods.
"""
import threading
import time

import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.backend import basic, structure
from netgraph.backend.lower import lower
from netgraph.runtime import evaluate as ev_mod
from netgraph.train import trainer as trainer_mod
from netgraph.train.optim import Updater

INLINED = (basic.LinearModule, basic.LossModule, basic.SoftmaxModule, basic.ElementwiseModule,
           basic.ThreadingModule, structure.CatenateModule)


def called_modules(code: str) -> list[str]:
    """Lines of generated code that go through nn.Module.__call__ of a layer."""
    return [ln for ln in code.splitlines() if "](" in ln and ".forward(" not in ln]


def lowered_pair(net, monkeypatch, dtype=torch.float64):
    """(module with the fast paths, the same net lowered with every layer called)."""
    fast = lower(NetInitialize(net) if not net.is_initialized() else net, dtype)
    with monkeypatch.context() as m:
        for cls in INLINED:
            m.setattr(cls, "inline", lambda self, ref, args: None)
        slow = lower(NetInitialize(net) if not net.is_initialized() else net, dtype)
    slow.load_state_dict(fast.state_dict())
    return fast, slow


def assert_same_forward_and_gradients(fast, slow, feeds):
    outs = []
    for m in (fast, slow):
        m.zero_grad(set_to_none=True)
        xs = {k: v.detach().clone().requires_grad_(v.is_floating_point())
              for k, v in feeds.items()}
        out = m(**xs)
        sum(v.double().sum() for v in out.values()).backward()
        grads = {k: p.grad for k, p in m.named_parameters()}
        grads.update({f"input {k}": v.grad for k, v in xs.items()})
        outs.append((out, grads))
    (o1, g1), (o2, g2) = outs
    assert o1.keys() == o2.keys()
    for k in o1:
        assert torch.equal(o1[k], o2[k]), k
    for k in g1:
        assert (g1[k] is None and g2[k] is None) or torch.equal(g1[k], g2[k]), k


def linear_ranks():
    return NetGraph({"s": LinearLayer((2, 3), Input="Real"), "m": LinearLayer(4),
                     "v": LinearLayer("Real"), "f": LinearLayer(5, Input=(2, 2))},
                    [(NetPort("X"), "s", "m", "v", NetPort("Out")),
                     (NetPort("Y"), "f", NetPort("F"))])


def test_linear_of_every_rank_is_inlined_and_equal(monkeypatch):
    fast, slow = lowered_pair(linear_ranks(), monkeypatch)
    assert called_modules(fast.code) == []
    assert ".unflatten(1, (2, 3))" in fast.code and ".squeeze(-1)" in fast.code
    assert ".unsqueeze(-1)" in fast.code and ".flatten(1)" in fast.code
    assert len(called_modules(slow.code)) == 4
    feeds = {"X": torch.randn(3, dtype=torch.float64), "Y": torch.randn(3, 2, 2,
                                                                        dtype=torch.float64)}
    assert_same_forward_and_gradients(fast, slow, feeds)


@pytest.mark.parametrize("loss, shape, target", [
    (MeanSquaredLossLayer(), (), "Real"), (MeanSquaredLossLayer(), (3,), "Real"),
    (MeanSquaredLossLayer(), (2, 3), "Real"), (MeanAbsoluteLossLayer(), (2, 3), "Real"),
    (CrossEntropyLossLayer("Index"), (4,), "Index"),
    (CrossEntropyLossLayer("Index"), (2, 4), "Index"),
    (CrossEntropyLossLayer("Probabilities"), (4,), "Probabilities"),
    (CrossEntropyLossLayer("Binary"), (3,), "Binary"),
])
def test_losses_are_inlined_and_equal(monkeypatch, loss, shape, target):
    if target == "Index":
        net = NetGraph({"p": SoftmaxLayer(), "l": loss}, [(NetPort("X"), "p", "l")], X=shape)
        t = torch.randint(1, shape[-1] + 1, (5, *shape[:-1]))
    else:
        net = NetGraph({"p": LogisticSigmoid, "l": loss}, [(NetPort("X"), "p", "l")],
                       X=shape or "Real")
        t = torch.rand(5, *shape, dtype=torch.float64)
        if target == "Probabilities":
            t = torch.softmax(t, -1)
    fast, slow = lowered_pair(net, monkeypatch)
    assert called_modules(fast.code) == []
    feeds = {"X": torch.randn(5, *shape, dtype=torch.float64),
             "Target": t}
    assert_same_forward_and_gradients(fast, slow, feeds)


def two_input_graph():
    return NetGraph({"a": LinearLayer(4), "ta": Tanh, "b": LinearLayer(4), "tb": Tanh,
                     "cat": CatenateLayer(), "sm": SoftmaxLayer(), "h": LinearLayer(3)},
                    [(NetPort("A"), "a", "ta"), (NetPort("B"), "b", "tb"),
                     (["ta", "tb"], "cat", "h", "sm")], A=3, B=2)


def test_catenate_softmax_and_nested_graphs_take_the_fast_path(monkeypatch):
    inner = two_input_graph()
    outer = NetGraph({"net": inner, "loss": MeanSquaredLossLayer()},
                     [("net", NetPort("loss", "Input")), (NetPort("Target"),
                                                           NetPort("loss", "Target"))])
    fast, slow = lowered_pair(outer, monkeypatch)
    assert "self.layers['net'].forward(" in fast.code
    assert called_modules(fast.code) == []
    inner_code = fast.layers["net"].code
    assert called_modules(inner_code.replace("else self.layers['cat'](", "")) == []
    assert "torch.cat([" in inner_code and "torch.softmax(" in inner_code
    feeds = {"A": torch.randn(4, 3, dtype=torch.float64), "B": torch.randn(4, 2,
                                                                           dtype=torch.float64),
             "Target": torch.rand(4, 3, dtype=torch.float64)}
    assert_same_forward_and_gradients(fast, slow, feeds)


@pytest.mark.parametrize("layer", [SequenceLastLayer, SequenceMostLayer, SequenceRestLayer,
                                   SequenceReverseLayer])
def test_sequence_layers_are_inlined_and_equal(monkeypatch, layer):
    net = NetChain([LongShortTermMemoryLayer(3), layer(), LinearLayer(2)], Input=(4, 2))
    fast, slow = lowered_pair(net, monkeypatch)
    assert len(called_modules(fast.code)) == 1   # the LSTM
    assert_same_forward_and_gradients(fast, slow, {"Input": torch.randn(3, 4, 2,
                                                                        dtype=torch.float64)})


def test_catenate_of_a_net_array_broadcasts_its_batch_of_one():
    net = NetInitialize(NetGraph({"c": NetArrayLayer(Output=2), "x": LinearLayer(3),
                                  "cat": CatenateLayer()},
                                 [(NetPort("Input"), "x"), (["x", "c"], "cat")], Input=2))
    x = np.random.default_rng(0).random((4, 2)).astype(np.float32)
    y = net(x)
    assert y.shape == (4, 5)
    np.testing.assert_array_equal(y[:, 3:], np.broadcast_to(y[0, 3:], (4, 2)))
    np.testing.assert_array_equal(y[1], net(x[1]))


# -- evaluation --------------------------------------------------------------------------
def both_paths(monkeypatch, net, data, **options):
    taken = []
    fast = ev_mod.Evaluator.fast

    def spy(self, feeds):
        r = fast(self, feeds)
        taken.append(r is not None)
        return r
    monkeypatch.setattr(ev_mod.Evaluator, "fast", spy)
    got = net(data, **options)
    monkeypatch.setattr(ev_mod.Evaluator, "fast", lambda self, feeds: None)
    want = net(data, **options)
    monkeypatch.undo()
    return got, want, taken


def assert_same_value(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same_value(a[k], b[k])
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("case", ["example", "list", "batch", "float64", "scalar", "scalar batch",
                                  "integer", "varying", "two outputs", "array output",
                                  "input output"])
def test_evaluation_fast_path_is_taken_and_equals_the_general_path(monkeypatch, case):
    rng = np.random.default_rng(1)
    net = NetInitialize(two_input_graph())
    data = {"A": rng.random(3).astype(np.float32), "B": rng.random(2).astype(np.float32)}
    if case == "list":
        data = {"A": [0.1, 0.2, 0.3], "B": [1, 2]}
    elif case == "batch":
        data = {"A": rng.random((5, 3)).astype(np.float32), "B": rng.random((5, 2))}
    elif case == "float64":
        data = {k: v.astype(np.float64) for k, v in data.items()}
    elif case.startswith("scalar"):
        net = NetInitialize(NetChain([LinearLayer(3), Tanh, LinearLayer("Real")], Input=2))
        data = rng.random((4, 2) if case == "scalar batch" else 2).astype(np.float32)
    elif case == "integer":
        net = NetInitialize(NetChain([EmbeddingLayer(3, 5), FlattenLayer()], Input=4))
        data = np.array([1, 5, 2, 3])
    elif case == "varying":
        net = NetInitialize(NetChain([LongShortTermMemoryLayer(3), SequenceLastLayer(),
                                      LinearLayer(2)], Input=("Varying", 2)))
        data = rng.random((6, 2)).astype(np.float32)
    elif case in ("array output", "input output"):
        src = "c" if case == "array output" else NetPort("Input")
        net = NetInitialize(NetGraph({"c": NetArrayLayer(Output=2), "x": LinearLayer(3)},
                                     [(NetPort("Input"), "x", NetPort("Y")),
                                      (src, NetPort("C"))], Input=2))
        data = rng.random((3, 2)).astype(np.float32)
    elif case == "two outputs":
        net = NetInitialize(NetGraph({"a": LinearLayer(2), "b": LinearLayer(3)},
                                     [(NetPort("Input"), "a", NetPort("A")),
                                      (NetPort("Input"), "b", NetPort("B"))], Input=2))
        data = rng.random(2).astype(np.float32)
    got, want, taken = both_paths(monkeypatch, net, data)
    assert taken == [True]
    assert_same_value(got, want)


def test_plain_evaluation_never_enters_the_lengths_and_states_machinery(monkeypatch):
    from seed_nets import seed_graph
    net = NetInitialize(seed_graph((3, 1)))
    module = ev_mod.evaluator(net).module
    calls = []
    ext = type(module).forward_ext
    monkeypatch.setattr(type(module), "forward_ext",
                        lambda *a, **k: calls.append(1) or ext(*a, **k))
    y = net({"Input": [[1.0], [2.0], [3.0]]})
    assert calls == [] and set(y) == {"Output", "FinalState", "FinalCellState"}


# -- the "$Trainer" ----------------------------------------------------------------------
def make_trainer():
    rng = np.random.default_rng(0)
    data = {"Input": rng.random((16, 3)).astype(np.float32), "Output": rng.random((16, 1))}
    net = NetChain([LinearLayer(4), Tanh, LinearLayer(1)], Input=3)
    trainer, (gen, _) = NetTrain(net, data, ["$Trainer", "$TrainingGenerator"], BatchSize=8,
                                 MaxTrainingRounds=1, TrainingProgressReporting=None)
    threads = []
    step = trainer.step
    trainer.step = lambda feeds: threads.append(threading.current_thread()) or step(feeds)
    return trainer, gen(1), threads


def test_an_update_waited_for_at_once_runs_in_the_callers_thread(monkeypatch):
    monkeypatch.setattr(trainer_mod, "OVERLAP_GAP", 3600.0)   # never "work in between"
    trainer, batch, threads = make_trainer()
    for _ in range(5):
        TrainerUpdate(trainer, batch)
        TrainerCurrentLoss(trainer)
    # The first update (no wait seen yet) wakes the worker, and that one wake-up may still
    # take the second update on a loaded machine; the others wait for the caller.
    assert threads[2:] == [threading.current_thread()] * 3
    assert not trainer._worker.overlap


def test_an_update_overlapped_with_the_callers_work_runs_on_the_worker(monkeypatch):
    monkeypatch.setattr(trainer_mod, "OVERLAP_GAP", 0.0)
    trainer, batch, threads = make_trainer()
    for i in range(3):
        TrainerUpdate(trainer, batch)
        for _ in range(2000):   # the caller's own work; the worker takes the step meanwhile
            if len(threads) > i:
                break
            time.sleep(0.001)
        TrainerCurrentLoss(trainer)
    assert trainer._worker.overlap
    assert any(t.name == "netgraph-trainer" for t in threads)


def test_lazy_and_eager_updates_give_the_same_weights(monkeypatch):
    nets = []
    for gap in (3600.0, 0.0):
        monkeypatch.setattr(trainer_mod, "OVERLAP_GAP", gap)
        trainer, batch, _ = make_trainer()
        for _ in range(4):
            TrainerUpdate(trainer, batch)
            TrainerUpdate(trainer, batch)
            TrainerCurrentLoss(trainer)
        nets.append(Information(trainer["Net"], "Arrays"))
    assert nets[0].keys() == nets[1].keys()
    for k in nets[0]:
        np.testing.assert_array_equal(nets[0][k], nets[1][k])


def test_steps_on_the_worker_use_the_callers_thread_count(monkeypatch):
    monkeypatch.setattr(trainer_mod, "OVERLAP_GAP", 0.0)
    trainer, batch, _ = make_trainer()
    seen = []
    step = trainer.step
    trainer.step = lambda feeds: seen.append((threading.current_thread().name,
                                              torch.get_num_threads())) or step(feeds)
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(3):
            TrainerUpdate(trainer, batch)
            time.sleep(0.02)
            TrainerCurrentLoss(trainer)
    finally:
        torch.set_num_threads(old)
    assert seen and all(n == 1 for _, n in seen)


# -- the optimizer -----------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda ps: torch.optim.Adam(ps, lr=0.01, fused=True),
    lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, fused=True),
    lambda ps: torch.optim.RMSprop(ps, lr=0.01, foreach=True),
])
def test_updater_steps_equal_torch_optimizer_steps(make):
    torch.manual_seed(0)
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    oa, ob = make(a.parameters()), make(b.parameters())
    up = Updater(oa, None, 1, [], [])
    x = torch.randn(4, 3)
    for _ in range(3):
        up.zero_grad()
        a(x).square().sum().backward()
        up.step()
        ob.zero_grad(set_to_none=True)
        b(x).square().sum().backward()
        ob.step()
        assert all(p.grad is not None for p in a.parameters())
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    up.zero_grad()
    assert all(p.grad is None for p in a.parameters())


def test_updater_runs_optimizer_step_hooks():
    m = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(m.parameters(), fused=True)
    up = Updater(opt, None, 1, [], [])
    calls = []
    handle = opt.register_step_post_hook(lambda *a: calls.append(1))
    m(torch.ones(1, 2)).sum().backward()
    up.step()
    handle.remove()
    m(torch.ones(1, 2)).sum().backward()
    up.step()
    assert calls == [1] and up.count == 2


def test_inlined_code_compiles_and_exports():
    inner = two_input_graph()
    outer = NetInitialize(NetGraph({"net": inner, "loss": MeanSquaredLossLayer()},
                                   [("net", NetPort("loss", "Input")),
                                    (NetPort("Target"), NetPort("loss", "Target"))]))
    m = ToTorchModule(outer)
    feeds = {"A": torch.randn(4, 3), "B": torch.randn(4, 2), "Target": torch.rand(4, 3)}
    want = m(**feeds)
    got = torch.compile(m, backend="eager")(**feeds)
    exported = torch.export.export(m, (), feeds).module()(**feeds)
    for k in want:
        torch.testing.assert_close(got[k], want[k])
        torch.testing.assert_close(exported[k], want[k])


def test_evaluation_reads_arrays_as_plain_attributes():
    # The evaluator's forward is the generated forward with each layer's arrays read from a
    # ParameterView (no nn.Module.__getattr__ per array): the same outputs, the same tensors.
    from netgraph.backend.lower import ParameterView
    net = NetInitialize(NetGraph(
        {"a": LinearLayer(4), "t": Tanh, "n": NetChain([LinearLayer(3), Ramp]),
         "b": BatchNormalizationLayer(), "d": DropoutLayer(0.5), "out": LinearLayer(2)},
        [("a", "t", "n", "b", "d", "out")], Input=5))
    ev = ev_mod.evaluator(net)
    views = ev.forward.__func__.__globals__["_V"]
    assert all(isinstance(v, ParameterView) for v in views)
    assert views[0].Weights is ev.module.layers["a"].Weights
    x = torch.randn(7, 5)
    with torch.inference_mode():
        got, want = ev.forward(Input=x), ev.module.forward(Input=x)
    assert torch.equal(got["Output"], want["Output"])
    assert np.allclose(net(x.numpy()), want["Output"].numpy())
    # NetEvaluationMode="Train": the views reach the module's mode (dropout drops)
    out = net(np.ones((64, 5), np.float32), NetEvaluationMode="Train", RandomSeeding=1)
    assert not np.allclose(out, net(np.ones((64, 5), np.float32)))
