"""Training data: forms -> columns, batching, shuffling under a seed, streams, validation."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.train.data import (
    ExampleData,
    Feeder,
    Generator,
    PortFeed,
    data_columns,
    round_order,
    split_validation,
    stream_order,
)

IN, OUT = ["Input"], ["Output"]


def cols(data, inputs=IN, outputs=OUT):
    c = data_columns(data, inputs, outputs)
    return {k: np.asarray(v).tolist() for k, v in c.items()}


def test_every_form_gives_the_same_columns():
    want = {"Input": [1, 2, 3], "Output": [2, 4, 6]}
    assert cols({1: 2, 2: 4, 3: 6}) == want
    assert cols([(1, 2), (2, 4), (3, 6)]) == want
    assert cols(([1, 2, 3], [2, 4, 6])) == want
    assert cols({"Input": [1, 2, 3], "Output": [2, 4, 6]}) == want
    assert cols({NetPort("Input"): [1, 2, 3], NetPort("Output"): [2, 4, 6]}) == want
    assert cols([{"Input": 1, "Output": 2}, {"Input": 2, "Output": 4},
                 {"Input": 3, "Output": 6}]) == want
    assert cols({"Input": torch.tensor([1, 2, 3]), "Output": np.array([2, 4, 6])}) == want


def test_generators():
    def f(info):
        return {"Input": [1.0], "Output": [2.0]}
    assert data_columns(f, IN, OUT) == Generator(f)
    assert data_columns((f, {"RoundLength": 10}), IN, OUT) == Generator(f, 10)
    with pytest.raises(TrainingError, match='Did you mean "RoundLength"'):
        data_columns((f, {"RoundLenght": 10}), IN, OUT)
    with pytest.raises(TrainingError, match="RoundLength to be a positive integer"):
        data_columns((f, {"RoundLength": 0}), IN, OUT)


def test_bad_data():
    with pytest.raises(TrainingError, match="one input and one output"):
        data_columns({1: 2}, ["A", "B"], OUT)
    with pytest.raises(TrainingError, match="different shapes"):
        data_columns({"Input": [[1, 2], [[3]]], "Output": [1, 2]}, IN, OUT)  # ranks differ
    with pytest.raises(TrainingError, match="expected training data"):
        data_columns(42, IN, OUT)


def feeds(*ports, integer=()):
    return {p: PortFeed(p, p in integer) for p in ports}


def example_data(n=10, b=4, shuffle=True, streams=False, seed=5):
    c = {"Input": np.arange(n, dtype=float), "Output": np.arange(n) * 2.0}
    return ExampleData(c, feeds("Input", "Output"), b, seed, streams, shuffle, torch.float32,
                       "cpu")


def test_a_round_covers_every_example_once():
    d = example_data(10, 4)
    assert d.batches_per_round == 3
    batches = list(d.round(1))
    assert [len(b["Input"]) for b in batches] == [4, 4, 2]
    seen = torch.cat([b["Input"] for b in batches]).tolist()
    assert sorted(seen) == list(range(10)) and seen != list(range(10))
    for b in batches:  # rows stay paired across columns
        assert torch.equal(b["Output"], b["Input"] * 2)


def test_shuffling_depends_on_seed_and_round_only():
    a, b = example_data(seed=5), example_data(seed=5)
    first = [t["Input"].tolist() for t in a.round(1)]
    assert first == [t["Input"].tolist() for t in b.round(1)]
    assert first != [t["Input"].tolist() for t in a.round(2)]
    assert first != [t["Input"].tolist() for t in example_data(seed=6).round(1)]
    assert a.batch(1, 1)["Input"].tolist() == first[1]
    assert (round_order(10, 4, 5, 3, False) == round_order(10, 4, 5, 3, False)).all()


def test_no_shuffle_keeps_the_order():
    d = example_data(10, 4, shuffle=False)
    assert torch.cat([b["Input"] for b in d.round(1)]).tolist() == list(range(10))


def test_stream_layout():
    assert stream_order(7, 2).tolist() == [0, 3, 1, 4, 2, 5]
    d = example_data(11, 3, shuffle=False, streams=True)   # L = 3, examples 9, 10 dropped
    batches = [b["Input"].tolist() for b in d.round(1)]
    assert batches == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    assert [b["Input"].tolist() for b in d.round(2)] == batches   # never shuffled
    with pytest.raises(TrainingError, match="only 2 examples"):
        example_data(2, 3, streams=True)


def test_split_validation():
    c = {"Input": np.arange(10), "Output": np.arange(10)}
    tr, va = split_validation(c, 0.3, 1, keep_order=False)
    assert len(va["Input"]) == 3 and len(tr["Input"]) == 7
    assert sorted([*tr["Input"], *va["Input"]]) == list(range(10))
    tr, va = split_validation(c, 0.3, 1, keep_order=True)
    assert va["Input"].tolist() == [7, 8, 9]


def test_feeder_converts_and_checks():
    f = Feeder(feeds("Input", "Output", integer=("Output",)), ["Input", "Output"], IN, OUT,
               torch.float64, "cpu")
    t = f({1: 2, 3: 4})
    assert t["Input"].dtype == torch.float64 and t["Output"].dtype == torch.int64
    assert f.numpy(t)["Input"].tolist() == [1.0, 3.0]
    with pytest.raises(TrainingError, match='no training data was given for port "Output"'):
        f({"Input": [1.0]})
    with pytest.raises(TrainingError, match="different lengths"):
        f({"Input": [1.0, 2.0], "Output": [1]})
    frozen = np.ones(3)
    frozen.flags.writeable = False
    assert f({"Input": frozen, "Output": [1, 2, 3]})["Input"].tolist() == [1.0] * 3


def test_unsafe_heads_look_inside_operators():
    """An operator whose inner net cannot mask padding names that net's layers (NestModule and
    BidirectionalModule had no unsafe_heads: NetTrain raised AttributeError)."""
    from netgraph.backend.lower import lower
    from netgraph.layers.operators import NetBidirectionalOperator, NetNestOperator
    from netgraph.train.data import unsafe_heads

    def double(x):
        return x * 2

    nest = NetNestOperator(NetChain([FunctionLayer(double)]), 2)
    bi = NetBidirectionalOperator(FunctionLayer(double))
    for op in (nest, bi):
        net = NetInitialize(NetChain([op, ElementwiseLayer(Tanh)], Input=("Varying", 3)))
        module = lower(net)
        inner = next(m for m in module.modules() if type(m).__name__ in
                     ("NestModule", "BidirectionalModule"))
        assert not inner.mask_safe and inner.unsafe_heads == ("FunctionLayer",)
    chain = NetInitialize(NetChain([nest, FunctionLayer(double)], Input=("Varying", 3)))
    assert unsafe_heads(lower(chain)) == ("FunctionLayer",)
