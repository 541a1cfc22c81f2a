"""Training on sequences of several lengths: length buckets, padding per batch, per-example
lengths; the loss and gradients of a batch equal the mean over its examples alone."""
import numpy as np
import pytest
import torch

import netgraph.train.trainer as trainer_mod
from netgraph import *  # noqa: F403
from netgraph.runtime.boundary.batches import LENGTHS, LENGTHS_ARG, PortFeed
from netgraph.runtime.buckets import bucket_batches
from netgraph.shapes import VARYING, PortType
from netgraph.train.data import ExampleData, data_columns, is_ragged

RNG = np.random.default_rng(7)
QUIET = {"TrainingProgressReporting": None}
STOP = {"TrainingProgressFunction": lambda info: "StopTraining"}
LENGTHS_ = (3, 12, 1, 11, 9, 10, 5, 3, 30, 29, 17, 2, 12, 7)


def seqs(lengths=LENGTHS_, width=2):
    return [RNG.normal(size=(n, width)) for n in lengths]


def ragged_data(n=None, batch_size=3, shuffle=True, exact=False, seed=5):
    xs = seqs(n or LENGTHS_)
    cols = data_columns({"Input": xs, "Output": np.arange(len(xs), dtype=float)},
                        ["Input"], ["Output"])
    feeds = {"Input": PortFeed("Input", False, PortType((VARYING, 2), "Real")),
             "Output": PortFeed("Output", False)}
    return xs, ExampleData(cols, feeds, batch_size, seed, False, shuffle, torch.float64, "cpu",
                           exact=exact)


@pytest.fixture(autouse=True)
def one_thread():
    """Small LSTMs run fastest on one thread, the more so on a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def unpad(batch, i):
    """Example i of a padded batch, cut to its length."""
    return batch["Input"][i, :int(batch[LENGTHS_ARG]["Input"][i])].numpy()


# -- the data layout --------------------------------------------------------------------------
def test_examples_of_several_lengths_form_a_ragged_column():
    cols = data_columns({"Input": [[1, 2, 3], [4]], "Output": [1, 2]}, ["Input"], ["Output"])
    assert is_ragged(cols["Input"]) and [e.tolist() for e in cols["Input"]] == [[1, 2, 3], [4]]
    assert not is_ragged(cols["Output"])
    with pytest.raises(TrainingError, match="differ only in their first dimension"):
        data_columns({"Input": [np.ones((2, 3)), np.ones((2, 4))], "Output": [1, 2]},
                     ["Input"], ["Output"])


def test_bucket_batches_can_merge_the_leftovers_of_the_buckets():
    lengths = [3, 3, 3, 12, 11, 5]          # buckets 3: 3 examples, 12: 2, 5: 1
    assert [b.tolist() for b in bucket_batches(lengths, 2)] == [[0, 1], [2], [5], [4, 3]]
    assert [b.tolist() for b in bucket_batches(lengths, 2, merge=True)] == [
        [0, 1], [2, 5], [4, 3]]             # leftovers together, in length order
    shuffled = bucket_batches(lengths * 10, 4, True, np.random.default_rng(0), merge=True)
    assert sum(len(b) < 4 for b in shuffled) <= 1
    assert sorted(np.concatenate(shuffled).tolist()) == list(range(60))


def test_each_batch_is_padded_to_its_longest_example_within_buckets():
    xs, d = ragged_data()
    seen, partial = [], 0
    for b in d.round(1):
        lens = b[LENGTHS_ARG]["Input"].tolist()
        assert b["Input"].shape[1] == max(lens)                      # its own longest
        partial += len(lens) < 3
        for i, k in enumerate(b["Output"].long().tolist()):          # rows stay paired
            np.testing.assert_array_equal(unpad(b, i), xs[k])
            pad = b["Input"][i, lens[i]:].numpy()
            assert (pad == xs[k][-1]).all()                          # the last step repeated
            seen.append(k)
    assert sorted(seen) == list(range(len(xs)))
    assert d.batches_per_round == len(list(d.round(2))) == -(-len(xs) // 3)
    assert partial <= 1                   # the buckets' leftovers are batched together


def test_shuffling_is_drawn_from_seed_and_round_within_buckets():
    def order(d, rnd):
        return [b["Output"].long().tolist() for b in d.round(rnd)]
    a, b, c = ragged_data(seed=5)[1], ragged_data(seed=5)[1], ragged_data(seed=6)[1]
    assert order(a, 1) == order(b, 1)
    assert order(a, 1) != order(a, 2) and order(a, 1) != order(c, 1)
    assert a.batch(1, 2)["Output"].long().tolist() == order(a, 1)[2]
    fixed = ragged_data(shuffle=False)[1]                            # validation: bucket order
    widths = [bt["Input"].shape[1] for bt in fixed.round(1)]
    assert widths == sorted(widths) and order(fixed, 1) == order(fixed, 2)


def test_a_net_that_cannot_mask_gets_batches_of_one_length():
    _, d = ragged_data(exact=True)
    for b in d.round(1):
        assert len(set(b[LENGTHS_ARG]["Input"].tolist())) == 1


# -- training equals one example at a time ----------------------------------------------------
def seq_net():
    """Final cell state, a sequence output and the last step: every way lengths matter."""
    return NetGraph(
        {"lstm": LongShortTermMemoryLayer(3), "last": SequenceLastLayer(), "lin": LinearLayer(),
         "map": NetMapOperator(LinearLayer(2)), "cell": LinearLayer()},
        [("lstm", "last", "lin", NetPort("Output")), ("lstm", "map", NetPort("Seq")),
         (NetPort("lstm", "CellState"), "cell", NetPort("Cell"))],
        Input=("Varying", 2), Output="Real", Cell="Real")


def seq_data(lengths=LENGTHS_):
    xs = seqs(lengths)
    return {"Input": xs, "Output": RNG.normal(size=len(xs)), "Cell": RNG.normal(size=len(xs)),
            "Seq": [RNG.normal(size=(len(x), 2)) for x in xs]}


def hand_driven(data, **opts):
    return NetTrain(seq_net(), data, ["$Trainer", "$TrainingGenerator"], BatchSize=4,
                    WorkingPrecision="Real64", **QUIET, **STOP, **opts)


def grads(trainer, feeds):
    m = trainer.module
    m.zero_grad(set_to_none=True)
    trainer.objective(m(**feeds)).backward()
    return [p.grad.clone() for p in m.parameters() if p.grad is not None]


def test_gradients_of_a_bucketed_batch_equal_the_mean_of_one_example_gradients():
    data = seq_data()
    trainer, (gen, nmax) = hand_driven(data)
    mixed = [gen(i) for i in range(1, nmax + 1)
             if len(set(gen(i)[LENGTHS]["Input"].tolist())) > 1]
    assert mixed                                                     # padding really happens
    for batch in mixed[:2]:
        g = grads(trainer, trainer.feeder(batch))
        ones = []
        for i, n in enumerate(batch[LENGTHS]["Input"]):
            one = {k: v[i:i + 1, :n] if k in ("Input", "Seq") else v[i:i + 1]
                   for k, v in batch.items() if k != LENGTHS}
            ones.append(grads(trainer, trainer.feeder(one)))
        for a, *b in zip(g, *ones, strict=True):
            torch.testing.assert_close(a, sum(b) / len(b), rtol=1e-10, atol=1e-10)


def test_batch_losses_are_the_mean_of_each_examples_own_loss():
    data = seq_data()
    r = NetTrain(seq_net(), data, All, BatchSize=4, MaxTrainingRounds=1, WorkingPrecision="Real64",
                 Method=("SGD", {"LearningRate": 1e-300, "Momentum": 0.0}), **QUIET)
    trainer, (gen, nmax) = NetTrain(seq_net(), data, ["$Trainer", "$TrainingGenerator"],
                                    BatchSize=4, WorkingPrecision="Real64", **QUIET, **STOP)
    net = r["TrainedNet"]
    for k, loss in enumerate(r["BatchLossList"]):
        batch = gen(k + 1)
        each = []
        for i, n in enumerate(batch[LENGTHS]["Input"]):
            out = net(batch["Input"][i, :n], WorkingPrecision="Real64")
            each.append((out["Output"] - batch["Output"][i]) ** 2
                        + (out["Cell"] - batch["Cell"][i]) ** 2
                        + np.mean((out["Seq"] - batch["Seq"][i, :n]) ** 2))
        assert loss == pytest.approx(np.mean(each), rel=1e-9)


def test_the_generator_gives_what_nettrain_trains_on(monkeypatch):
    seen = []
    real = trainer_mod.Trainer.step

    def spy(self, feeds):
        seen.append({k: ({p: t.clone() for p, t in v.items()} if k == LENGTHS_ARG
                         else v.clone()) for k, v in feeds.items()})
        return real(self, feeds)
    monkeypatch.setattr(trainer_mod.Trainer, "step", spy)
    trainer, (gen, nmax) = hand_driven(seq_data(), MaxTrainingRounds=1)
    assert len(seen) == nmax
    for i, feeds in enumerate(seen):
        batch = gen(i + 1)
        assert set(batch) == {"Input", "Output", "Cell", "Seq", LENGTHS}
        assert trainer.feeder.numpy(feeds).keys() == batch.keys()
        for k, v in trainer.feeder.numpy(feeds).items():
            if k == LENGTHS:
                assert v.keys() == batch[k].keys() == {"Input", "Seq"}
                for p in v:
                    np.testing.assert_array_equal(v[p], batch[k][p])
            else:
                np.testing.assert_array_equal(v, batch[k])


def test_trainer_update_takes_per_example_lists_or_padded_batches_with_lengths():
    data = seq_data()
    a, (gen, _) = hand_driven(data)
    b, _ = hand_driven(data)
    batch = gen(1)
    lists = {k: ([v[i, :n] for i, n in enumerate(batch[LENGTHS]["Input"])]
                 if k in ("Input", "Seq") else v) for k, v in batch.items() if k != LENGTHS}
    TrainerUpdate(a, batch)
    TrainerUpdate(b, lists)
    assert TrainerCurrentLoss(a) == pytest.approx(TrainerCurrentLoss(b), rel=1e-12)


def test_the_trained_net_holds_the_arrays_the_module_learned():
    trainer, (gen, _) = hand_driven(seq_data())
    for i in (1, 2):
        TrainerUpdate(trainer, gen(i))
    inner = trainer.module.layers["net"].layers["map"].inner["Net"]
    np.testing.assert_allclose(NetExtract(trainer["Net"], ("map", "Net", "Biases")),
                               inner.Biases.detach().numpy(), rtol=1e-6)
    assert inner.Biases.abs().sum() > 0


def test_training_learns_and_validates_on_sequences_of_several_lengths():
    xs = seqs([int(n) for n in RNG.integers(2, 12, 48)], width=1)
    ys = [float(x.sum()) for x in xs]
    net = NetChain([LongShortTermMemoryLayer(8), SequenceLastLayer(), LinearLayer()],
                   Input=("Varying", 1), Output="Real")
    r = NetTrain(net, {"Input": xs, "Output": ys}, All, BatchSize=8, MaxTrainingRounds=15,
                 ValidationSet=Scaled(0.25), Method=("ADAM", {"LearningRate": 0.02}), **QUIET)
    assert r["RoundLossList"][-1] < 0.3 * r["RoundLossList"][0]
    assert len(r["ValidationLossList"]) == 15
    assert r["ValidationLossList"][-1] < 0.5 * r["ValidationLossList"][0]


def test_a_net_that_cannot_mask_trains_on_groups_of_one_length():
    net = NetChain([LongShortTermMemoryLayer(3), TransposeLayer(), AggregationLayer(Max),
                    LinearLayer()], Input=("Varying", 2), Output="Real")
    lengths = (4, 4, 5, 5, 5, 9)
    trainer, (gen, nmax) = NetTrain(net, {"Input": seqs(lengths), "Output": np.ones(6)},
                                    ["$Trainer", "$TrainingGenerator"], BatchSize=2,
                                    **QUIET, **STOP)
    assert nmax == 4                                 # 4 | 5 5 | 5 | 9: never mixed
    for i in range(1, nmax + 1):
        assert len(set(gen(i)[LENGTHS]["Input"].tolist())) == 1
    with pytest.raises(TrainingError, match="TransposeLayer cannot mask padding"):
        TrainerUpdate(trainer, {"Input": seqs((3, 5)), "Output": [1.0, 2.0]})


def test_state_transfer_streams_over_sequences_of_several_lengths():
    lengths = [3, 5, 2, 4, 6, 1, 2, 3]
    xs = seqs(lengths, width=1)
    net = NetGraph([LongShortTermMemoryLayer(2), SequenceLastLayer(), LinearLayer()],
                   [(NetPort("InitialState"), NetPort(1, "State")),
                    (NetPort("InitialCellState"), NetPort(1, "CellState")),
                    (NetPort(1, "State"), NetPort("FinalState")),
                    (NetPort(1, "CellState"), NetPort("FinalCellState")), (1, 2, 3)],
                   Input=("Varying", 1), Output="Real")
    trainer, (gen, nmax) = NetTrain(
        net, {"Input": xs, "Output": np.zeros(8)}, ["$Trainer", "$TrainingGenerator"],
        StateTransfer={"FinalState": "InitialState", "FinalCellState": "InitialCellState"},
        BatchSize=2, **QUIET, **STOP)
    assert nmax == 4
    for k in range(4):                        # row i of batch k is example 4 i + k
        assert gen(k + 1)[LENGTHS]["Input"].tolist() == [lengths[k], lengths[4 + k]]


# -- errors -----------------------------------------------------------------------------------
def test_sequences_of_several_lengths_need_a_varying_port():
    net = NetChain([FlattenLayer(), LinearLayer()], Input=(3, 2), Output="Real")
    with pytest.raises(ShapeError, match='several lengths .3 to 4.; only a port whose first '
                       'dimension is "Varying"'):
        NetTrain(net, {"Input": seqs((3, 4, 3)), "Output": [1.0, 2.0, 3.0]}, **QUIET)


def test_zero_length_sequences_are_an_error():
    net = NetChain([LongShortTermMemoryLayer(2), SequenceLastLayer(), LinearLayer()],
                   Input=("Varying", 2), Output="Real")
    with pytest.raises(TrainingError, match="must have non-zero length; example 2 of port "
                       '"Input" has length 0'):
        NetTrain(net, {"Input": seqs((3, 0, 2)), "Output": [1.0, 2.0, 3.0]}, **QUIET)


def test_bad_lengths_entries_are_errors():
    trainer, (gen, _) = hand_driven(seq_data())
    batch = gen(1)
    with pytest.raises(TrainingError, match='"\\$Lengths" gives lengths for "Output"'):
        TrainerUpdate(trainer, {**batch, LENGTHS: {"Output": [1, 1, 1, 1]}})
    width = batch["Input"].shape[1]
    with pytest.raises(TrainingError, match=f"expected one length between 1 and {width}"):
        TrainerUpdate(trainer, {**batch, LENGTHS: {"Input": [width + 1] * 4}})
    with pytest.raises(TrainingError, match="to be a dict"):
        TrainerUpdate(trainer, {**batch, LENGTHS: [1, 2]})
