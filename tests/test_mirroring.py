"""Mirroring (backend/mirror.py, mirror_plan.py, chunked.py): recomputation, same gradients."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from netgraph import (
    Automatic,
    BasicRecurrentLayer,
    BatchNormalizationLayer,
    DropoutLayer,
    GatedRecurrentLayer,
    LinearLayer,
    LongShortTermMemoryLayer,
    NetChain,
    NetGraph,
    NetInitialize,
    NetPort,
    OptionError,
    Ramp,
    SequenceLastLayer,
    Tanh,
)
from netgraph.backend.chunked import chunk_length
from netgraph.backend.lower import lower
from netgraph.backend.mirror import (
    ENV_LIMIT,
    activation_bytes,
    memory_limit,
    mirroring_state,
    parse_mode,
    set_mirroring,
)

D = torch.float64


def mlp():
    return lower(NetInitialize(NetChain(
        [LinearLayer(5), Ramp, LinearLayer(4), Tanh, LinearLayer(3), Tanh, LinearLayer(1)],
        Input=3)), D).train()


def lstm_graph(steps=40):
    return lower(NetInitialize(NetGraph(
        [LongShortTermMemoryLayer(3), SequenceLastLayer(), LinearLayer()],
        [(NetPort("InitialState"), NetPort(1, "State")),
         (NetPort("InitialCellState"), NetPort(1, "CellState")),
         (NetPort(1, "State"), NetPort("FinalState")),
         (NetPort(1, "CellState"), NetPort("FinalCellState")),
         (1, 2, 3)],
        Input=(steps, 2), Output="Real")), D).train()


def run(module, feeds, extra=()):
    """Outputs and every gradient (parameters, then the ``extra`` leaves) of one step."""
    module.zero_grad(set_to_none=True)
    for t in extra:
        t.grad = None
    out = module(**feeds)
    sum((v.pow(2).sum() * (i + 1) for i, v in enumerate(out.values()))).backward()
    grads = [p.grad.clone() for p in module.parameters() if p.grad is not None]
    return {k: v.detach() for k, v in out.items()}, grads + [t.grad.clone() for t in extra]


def same(a, b, exact_outputs=False):
    (oa, ga), (ob, gb) = a, b
    assert oa.keys() == ob.keys()
    for k in oa:
        if exact_outputs:
            assert torch.equal(oa[k], ob[k]), k
        else:
            torch.testing.assert_close(oa[k], ob[k], rtol=0, atol=1e-12)
    assert len(ga) == len(gb) and ga
    for x, y in zip(ga, gb, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-10)


def test_mlp_gradients_equal_and_outputs_identical():
    torch.manual_seed(0)
    m, x = mlp(), torch.randn(6, 3, dtype=D)
    plain_cls = type(m)
    plain = run(m, {"Input": x})
    set_mirroring(m, True)
    assert type(m).mirror_segments >= 2 and mirroring_state(m)
    same(plain, run(m, {"Input": x}))
    set_mirroring(m, True, segment=1)                  # one layer statement per segment
    assert type(m).mirror_segments == 7
    same(plain, run(m, {"Input": x}))
    set_mirroring(m, False)
    assert type(m) is plain_cls and not mirroring_state(m)
    same(plain, run(m, {"Input": x}))


@pytest.mark.parametrize("chunk", [None, 7, 1])
def test_lstm_chunks_with_initial_and_final_states(chunk):
    torch.manual_seed(1)
    m = lstm_graph(40)
    x = torch.randn(3, 40, 2, dtype=D, requires_grad=True)
    s0 = torch.randn(3, 3, dtype=D, requires_grad=True)
    c0 = torch.randn(3, 3, dtype=D, requires_grad=True)
    feeds = {"Input": x, "InitialState": s0, "InitialCellState": c0}
    plain = run(m, feeds, (x, s0, c0))
    set_mirroring(m, True, chunk=chunk)
    assert type(m.layers["1"].rnn).__name__ == "MirroredLSTM"
    same(plain, run(m, feeds, (x, s0, c0)), exact_outputs=False)
    set_mirroring(m, False)
    assert type(m.layers["1"].rnn) is nn.LSTM


def test_lstm_without_initial_states():
    torch.manual_seed(2)
    m = lstm_graph(30)
    x = torch.randn(2, 30, 2, dtype=D)
    plain = run(m, {"Input": x})
    same(plain, run(set_mirroring(m, True, chunk=4), {"Input": x}), exact_outputs=False)


@pytest.mark.parametrize("layer", [GatedRecurrentLayer, BasicRecurrentLayer])
def test_gru_and_basic_rnn_chunks(layer):
    torch.manual_seed(3)
    m = lower(NetInitialize(NetGraph(
        [layer(4), SequenceLastLayer(), LinearLayer(2)],
        [(NetPort("InitialState"), NetPort(1, "State")), (1, 2, 3),
         (NetPort(1, "State"), NetPort("FinalState"))], Input=(25, 3))), D).train()
    x = torch.randn(2, 25, 3, dtype=D, requires_grad=True)
    s0 = torch.randn(2, 4, dtype=D, requires_grad=True)
    feeds = {"Input": x, "InitialState": s0}
    plain = run(m, feeds, (x, s0))
    same(plain, run(set_mirroring(m, True), feeds, (x, s0)), exact_outputs=False)


def test_chunk_length():
    assert chunk_length(4000) == 63 and chunk_length(1) == 1 and chunk_length(9, 2) == 2


def test_evaluation_takes_the_plain_path():
    torch.manual_seed(4)
    m, x = lstm_graph(20), torch.randn(2, 20, 2, dtype=D)
    with torch.no_grad():
        plain = m(Input=x)
        set_mirroring(m, True, chunk=3)
        mirrored = m(Input=x)
    assert all(torch.equal(plain[k], mirrored[k]) for k in plain)


def test_nested_graph_mirrors_itself():
    torch.manual_seed(5)
    inner = NetChain([LinearLayer(4), Tanh, LinearLayer(4), Ramp])
    m = lower(NetInitialize(NetChain([LinearLayer(4), inner, LinearLayer(2)], Input=3)),
              D).train()
    x = torch.randn(5, 3, dtype=D)
    plain = run(m, {"Input": x})
    set_mirroring(m, True)
    assert type(m.layers["2"]).__name__.startswith("Mirrored")
    same(plain, run(m, {"Input": x}))


def test_batch_normalization_statistics_updated_once():
    torch.manual_seed(6)
    net = NetInitialize(NetChain([LinearLayer(4), BatchNormalizationLayer(), Ramp,
                                  LinearLayer(1)], Input=3))
    x = torch.randn(8, 3, dtype=D)
    a, b = lower(net, D).train(), set_mirroring(lower(net, D).train(), True, segment=4)
    same(run(a, {"Input": x}), run(b, {"Input": x}))
    for (name, u), (_, v) in zip(a.named_buffers(), b.named_buffers(), strict=True):
        assert torch.equal(u, v), name


def test_dropout_masks_repeat_in_the_recomputation():
    net = NetInitialize(NetChain([LinearLayer(6), DropoutLayer(0.5), Tanh, LinearLayer(1)],
                                 Input=3))
    x = torch.randn(8, 3, dtype=D)
    torch.manual_seed(7)
    plain = run(lower(net, D).train(), {"Input": x})
    torch.manual_seed(7)
    same(plain, run(set_mirroring(lower(net, D).train(), True), {"Input": x}))


def test_activation_bytes_counts_saved_activations_only():
    m = lower(NetInitialize(NetChain([LinearLayer(5), Tanh], Input=3)), D).train()
    x = torch.randn(7, 3, dtype=D)
    # the linear layer saves its input (the batch) and weights (parameters): not counted;
    # tanh saves its (7, 5) float64 output
    assert activation_bytes(lambda mod, v: mod(Input=v), m, x) == 7 * 5 * 8
    before = torch.get_rng_state()
    activation_bytes(lambda mod, v: mod(Input=v), m, x)
    assert torch.equal(before, torch.get_rng_state())


def test_automatic_decides_by_the_estimate_and_the_limit():
    torch.manual_seed(8)
    m, x = mlp(), torch.randn(6, 3, dtype=D)
    plain = run(m, {"Input": x})
    set_mirroring(m, Automatic, limit=1)              # a tiny limit: always mirror
    same(plain, run(m, {"Input": x}))
    auto = m.mirror_auto
    assert mirroring_state(m) and list(auto.decisions.values()) == [True]
    assert list(auto.estimates.values())[0] > 1
    set_mirroring(m, (Automatic, {"MemoryLimit": 10**15}))   # a huge one: never
    same(plain, run(m, {"Input": x}))
    assert not mirroring_state(m) and list(m.mirror_auto.decisions.values()) == [False]
    with torch.no_grad():                              # evaluation decides nothing
        m(Input=torch.randn(2, 3, dtype=D))
    assert len(m.mirror_auto.decisions) == 1


def test_automatic_is_decided_per_batch_shape():
    torch.manual_seed(9)
    m = mlp()
    est = activation_bytes(lambda mod, v: mod(Input=v), m, torch.randn(4, 3, dtype=D))
    set_mirroring(m, Automatic, limit=est + 1)        # 4 examples fit, 8 do not
    small, large = torch.randn(4, 3, dtype=D), torch.randn(8, 3, dtype=D)
    plain = run(lower(NetInitialize(NetChain(
        [LinearLayer(5), Ramp, LinearLayer(4), Tanh, LinearLayer(3), Tanh, LinearLayer(1)],
        Input=3)), D).train(), {"Input": large})
    same(plain, run(m, {"Input": large}))
    assert mirroring_state(m)
    run(m, {"Input": small})
    assert not mirroring_state(m)
    assert sorted(m.mirror_auto.decisions.values()) == [False, True]


def test_memory_limit_sources(monkeypatch):
    cpu = torch.device("cpu")
    assert memory_limit(cpu, 123) == 123
    monkeypatch.setenv(ENV_LIMIT, "2e6")
    assert memory_limit(cpu) == 2_000_000
    monkeypatch.setenv(ENV_LIMIT, "lots")
    with pytest.raises(OptionError, match="NETGRAPH_MIRRORING_LIMIT to be a number of bytes"):
        memory_limit(cpu)
    monkeypatch.delenv(ENV_LIMIT)
    assert memory_limit(cpu) > 0


def test_parse_mode():
    assert parse_mode(True) == (True, None) and parse_mode(None) == (False, None)
    assert parse_mode((Automatic, {"MemoryLimit": 5})) == (Automatic, 5)
    with pytest.raises(OptionError, match="expected Mirroring to be True, False or Automatic"):
        parse_mode("Sometimes")


def test_nettrain_mirroring_trains_the_same_net():
    import numpy as np

    from netgraph import NetExtract, NetTrain
    rs = np.random.RandomState(0)
    data = {"Input": rs.randn(16, 9, 2), "Output": rs.randn(16)}
    net = NetChain([LongShortTermMemoryLayer(3), SequenceLastLayer(), LinearLayer()],
                   Input=(9, 2), Output="Real")
    trained = {mode: NetTrain(net, data, BatchSize=8, MaxTrainingRounds=2, Mirroring=mode,
                              TrainingProgressReporting=None, WorkingPrecision="Real64",
                              RandomSeeding=3)
               for mode in (False, True, Automatic)}
    w = {k: NetExtract(t, (1, "InputGateStateWeights")) for k, t in trained.items()}
    np.testing.assert_allclose(w[True], w[False], rtol=0, atol=1e-10)
    np.testing.assert_allclose(w[Automatic], w[False], rtol=0, atol=1e-10)
    trainer, _ = NetTrain(net, data, Automatic, ["$Trainer", "$TrainingGenerator"],
                          Mirroring=True, TrainingProgressReporting=None,
                          TrainingProgressFunction=lambda info: "StopTraining")
    assert type(trainer["Module"]).__name__ == "MirroredGraphModule"


def test_sequence_last_after_a_recurrent_layer_reads_its_state():
    # Lowering drops the SequenceLastLayer and reads the LSTM's "State" (its last output):
    # same outputs and gradients as when the sequence is also read elsewhere (no fusion).
    torch.manual_seed(4)
    fused = lstm_graph(20)
    assert [s.key for s in type(fused).plan.steps] == ["1", "3"]
    net = NetGraph([LongShortTermMemoryLayer(3), SequenceLastLayer(), LinearLayer()],
                   [(1, 2, 3), (NetPort(1, "Output"), NetPort("Sequence"))],
                   Input=(20, 2), Output="Real")
    unfused = lower(NetInitialize(net), D).train()
    assert [s.key for s in type(unfused).plan.steps] == ["1", "2", "3"]
    unfused.load_state_dict(fused.state_dict())
    x = torch.randn(4, 20, 2, dtype=D)
    for m in (fused, unfused):
        m.zero_grad(set_to_none=True)
        m(Input=x)["Output"].sum().backward()
    torch.testing.assert_close(fused(Input=x)["Output"], unfused(Input=x)["Output"])
    for a, b in zip(fused.parameters(), unfused.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=1e-12)


def test_mirrored_recurrent_layer_keeps_no_unread_sequence():
    torch.manual_seed(5)
    m = set_mirroring(lstm_graph(50), True, chunk=8)
    x = torch.randn(2, 50, 2, dtype=D)
    y, s, c = m.layers["1"](x)          # the graph reads only its states
    assert y.numel() == 0 and s.shape == (2, 3) and c.shape == (2, 3)
    plain = set_mirroring(lstm_graph(50), False)
    plain.load_state_dict(m.state_dict())
    same(run(plain, {"Input": x}), run(m, {"Input": x}))
