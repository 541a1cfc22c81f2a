"""Sequences of several lengths in one batch: buckets, padding and masks give the results of
one-at-a-time evaluation."""
import numpy as np
import pytest
from seed_nets import seed_graph

import netgraph.runtime.sequences as seqmod
from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower
from netgraph.runtime.buckets import bucket_batches, pad_examples, round_bucket

RNG = np.random.default_rng(3)
LENGTHS = (3, 12, 1, 11, 9, 10, 5, 3)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def close(a, b, tol=2e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@pytest.fixture
def calls(monkeypatch):
    """Records the padded width and lengths of every batch the evaluator runs."""
    seen = []
    real = seqmod.run_ext

    def spy(ev, feeds, lengths, states):
        seen.append((max(t.shape[1] for t in feeds.values() if t.dim() > 1), lengths))
        return real(ev, feeds, lengths, states)
    monkeypatch.setattr(seqmod, "run_ext", spy)
    return seen


def check_like_one_at_a_time(net, xs, port=None, **feeds):
    """Ragged batch == each example alone, for every output (or one port)."""
    data = {"Input": xs, **feeds}
    got = net(data, port) if port else net(data)
    for i, x in enumerate(xs):
        one = net({"Input": x, **{k: v[i] for k, v in feeds.items()}}, *((port,) if port else ()))
        if isinstance(one, dict):
            for k in one:
                close(got[k][i], one[k])
        else:
            close(got[i], one)


RECURRENT = [LongShortTermMemoryLayer, GatedRecurrentLayer, BasicRecurrentLayer]


@pytest.mark.parametrize("head", RECURRENT)
def test_recurrent_outputs_and_final_states(head, calls):
    net = NetInitialize(head(3, Input=("Varying", 2)))
    assert lower(net).mask_safe
    xs = [rand(n, 2) for n in LENGTHS]
    check_like_one_at_a_time(net, xs)
    got = net({"Input": xs}, NetPort(All, "States"))
    for i, x in enumerate(xs):
        one = net(x, NetPort(All, "States"))
        for k in one:
            close(got[k][i], one[k])
    # padded per bucket, never to the longest sequence, and masked where lengths differ
    assert max(w for w, _ in calls) == 12 and min(w for w, _ in calls) < 12
    assert any(ln is not None for _, ln in calls)


def test_seed_graph_with_state_ports(calls):
    net = NetInitialize(seed_graph(("Varying", 1)))
    xs = [rand(n, 1) for n in LENGTHS]
    s0 = [rand(2) for _ in xs]
    check_like_one_at_a_time(net, xs, InitialState=s0)
    assert isinstance(net({"Input": xs})["Output"][0], float)


@pytest.mark.parametrize("layer", [SequenceLastLayer(), SequenceMostLayer(), SequenceRestLayer(),
                                   SequenceReverseLayer()])
def test_sequence_layers(layer):
    net = NetChain([layer], Input=("Varying", 2))
    assert lower(net).mask_safe
    check_like_one_at_a_time(net, [rand(n, 2) for n in (4, 12, 11, 2, 9)])


@pytest.mark.parametrize("layer", [
    AggregationLayer(Total, 1), AggregationLayer(Mean, 1), AggregationLayer(Max, 1),
    AggregationLayer(Min, 1), AggregationLayer(Mean, All), SummationLayer(),
    AggregationLayer(Max, 2), SoftmaxLayer(1)])
def test_aggregation_over_time(layer):
    net = NetChain([layer], Input=("Varying", 2))
    assert lower(net).mask_safe
    check_like_one_at_a_time(net, [rand(n, 2) for n in (4, 12, 11, 10, 9)])


@pytest.mark.parametrize("loss", [MeanSquaredLossLayer(), MeanAbsoluteLossLayer()])
def test_losses_average_over_each_examples_steps(loss):
    net = NetChain([loss], Input=("Varying", 2))
    xs = [rand(n, 2) for n in (4, 12, 11, 10)]
    ts = [rand(n, 2) for n in (4, 12, 11, 10)]
    check_like_one_at_a_time(net, xs, Target=ts)


def test_cross_entropy_index_over_sequences():
    net = NetGraph([SoftmaxLayer(), CrossEntropyLossLayer("Index")],
                   [(1, NetPort(2, "Input"))], Input=("Varying", 3))
    xs = [rand(n, 3) for n in (9, 12, 11, 10)]
    ts = [RNG.integers(1, 4, n) for n in (9, 12, 11, 10)]
    check_like_one_at_a_time(net, xs, Target=ts)


def test_map_fold_and_bidirectional_operators():
    fold = NetFoldOperator(NetGraph({"w": LinearLayer(2), "p": ThreadingLayer(Plus), "t": Tanh},
                                    [(NetPort("Input"), "w"), (["w", NetPort("State")], "p",
                                                                "t")], Input=2))
    nets = [NetMapOperator(LinearLayer(3, Input=2)), fold,
            NetFoldOperator(NetUnfold(LongShortTermMemoryLayer(2, Input=("Varying", 2)))),
            NetBidirectionalOperator(GatedRecurrentLayer(2), Input=("Varying", 2))]
    xs = [rand(n, 2) for n in (5, 12, 11, 10, 9)]
    for net in nets:
        net = NetInitialize(net)
        assert lower(net).mask_safe, net
        check_like_one_at_a_time(net, xs)
        if net.states:
            check_like_one_at_a_time(net, xs, NetPort(All, "States"))


def test_chain_of_recurrent_and_pointwise_layers():
    net = NetInitialize(NetChain([GatedRecurrentLayer(3), Tanh, SequenceReverseLayer(),
                                  LongShortTermMemoryLayer(2), SequenceMostLayer(),
                                  SequenceLastLayer()], Input=("Varying", 2)))
    check_like_one_at_a_time(net, [rand(n, 2) for n in (5, 12, 11, 10, 9, 2)])


def test_integer_sequences_are_padded_with_valid_values():
    net = NetInitialize(NetChain([EmbeddingLayer(3, 5), GatedRecurrentLayer(2),
                                  SequenceLastLayer()], Input=("Varying", Restricted(
                                      "Integer", 5))))
    xs = [RNG.integers(1, 6, n) for n in (9, 12, 11, 10)]
    check_like_one_at_a_time(net, xs)


def test_a_layer_that_cannot_mask_is_grouped_by_exact_length(calls):
    net = NetChain([TransposeLayer()], Input=("Varying", 2, 3))
    assert not lower(net).mask_safe
    check_like_one_at_a_time(net, [rand(n, 2, 3) for n in (9, 10, 9)])
    assert all(ln is None for _, ln in calls)


def test_batch_size_option_bounds_each_bucket(calls):
    net = NetInitialize(GatedRecurrentLayer(2, Input=("Varying", 1)))
    net([rand(n, 1) for n in (3,) * 5 + (4,)], BatchSize=2)   # buckets 3 (5 examples), 4
    assert len(calls) == 4


def test_zero_length_sequences_are_an_error():
    net = NetInitialize(GatedRecurrentLayer(2, Input=("Varying", 1)))
    msg = "All sequences provided to net must have non-zero length"
    with pytest.raises(EvaluationError, match=msg):
        net([rand(3, 1), np.zeros((0, 1))])
    with pytest.raises(EvaluationError, match=msg):
        net(np.zeros((0, 1)))
    with pytest.raises(EvaluationError, match=msg):
        net(np.zeros((2, 0, 1)))


# -- the bucketing API ------------------------------------------------------------------------
def test_round_bucket_is_wls_rule():
    assert [round_bucket(n) for n in range(1, 9)] == list(range(1, 9))
    assert [round_bucket(n) for n in (9, 10, 15, 16)] == [10, 10, 16, 16]
    assert [round_bucket(n) for n in (17, 21, 32, 33, 57, 64)] == [20, 24, 32, 40, 64, 64]
    assert [round_bucket(n) for n in (65, 86, 87, 129, 130)] == [88, 88, 136, 136, 200]


def test_bucket_batches_cover_every_example_once_within_one_bucket():
    lengths = RNG.integers(1, 120, 300)
    batches = bucket_batches(lengths, 16)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(300))
    for b in batches:
        assert len(b) <= 16
        assert len({round_bucket(n) for n in lengths[b]}) == 1
    shuffled = bucket_batches(lengths, 16, shuffle=True, rng=np.random.default_rng(0))
    assert sorted(np.concatenate(shuffled).tolist()) == list(range(300))
    two = bucket_batches(np.stack([lengths, lengths[::-1]], 1), 16)
    assert all(len({(round_bucket(a), round_bucket(b)) for a, b in
                    zip(lengths[x], lengths[::-1][x], strict=False)}) == 1 for x in two)


def test_pad_examples_repeats_the_last_element():
    batch, lens = pad_examples([np.ones((2, 3)), np.full((4, 3), 2.0)])
    assert batch.shape == (2, 4, 3) and lens.tolist() == [2, 4]
    assert (batch[0, 2:] == 1).all()


def test_lstm_packed_path_equals_the_masked_one():
    """The CUDA path (packed sequences), checked on CPU against the masked fused run."""
    import torch
    net = NetInitialize(LongShortTermMemoryLayer(3, Input=("Varying", 2)))
    mod = lower(net).layers["1"]
    x, lengths = torch.randn(4, 7, 2), torch.tensor([7, 3, 5, 1])
    s0, c0 = torch.randn(4, 3), torch.randn(4, 3)
    with torch.no_grad():
        a, b = mod._masked(x, s0, c0, lengths), mod._packed(x, s0, c0, lengths)
    valid = torch.arange(7) < lengths[:, None]
    close(a[0][valid], b[0][valid])
    close(a[1], b[1])
    close(a[2], b[2])


def test_gradients_of_a_padded_batch_equal_the_sum_over_examples():
    """What training relies on: forward_ext with lengths, then backward, through the masked
    LSTM (outputs and the final cell state) and a loss averaged over each example's steps."""
    import torch
    net = NetInitialize(NetGraph(
        {"lstm": LongShortTermMemoryLayer(3), "last": SequenceLastLayer(),
         "cell": LinearLayer(2), "loss": MeanSquaredLossLayer(),
         "seq": NetMapOperator(LinearLayer(2)), "loss2": MeanSquaredLossLayer()},
        [("lstm", "last"), (NetPort("lstm", "CellState"), "cell", NetPort("loss", "Input")),
         (NetPort("Target"), NetPort("loss", "Target")),
         ("lstm", "seq", NetPort("loss2", "Input")), (NetPort("T2"), NetPort("loss2", "Target"))],
        Input=("Varying", 2)))
    m = lower(net).train()
    lens = [4, 7, 2]
    xs = [torch.randn(n, 2) for n in lens]
    ts, t2 = torch.randn(3, 2), [torch.randn(n, 2) for n in lens]

    def grads(loss):
        m.zero_grad()
        loss.backward()
        return [p.grad.clone() for p in m.parameters() if p.grad is not None]
    x = torch.stack([torch.cat([e, e[-1:].expand(7 - len(e), 2)]) for e in xs])
    y2 = torch.stack([torch.cat([e, e[-1:].expand(7 - len(e), 2)]) for e in t2])
    out = m(Input=x, Target=ts, T2=y2, _lengths={"Input": torch.tensor(lens),
                                                 "T2": torch.tensor(lens)})
    assert {"Loss1", "Loss2"} <= set(out)
    batch = grads(sum(v.sum() for k, v in out.items() if k.startswith("Loss")))
    total = None
    for i, e in enumerate(xs):
        o = m(Input=e[None], Target=ts[i:i + 1], T2=t2[i][None])
        g = grads(sum(v.sum() for k, v in o.items() if k.startswith("Loss")))
        total = g if total is None else [a + b for a, b in zip(total, g, strict=False)]
    for a, b in zip(batch, total, strict=False):
        close(a, b, 1e-4)
