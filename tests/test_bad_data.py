"""Bad data for evaluation, NetTrain and TrainerUpdate: a clear netgraph error, never a crash.

Every bad input gets a NetGraphError subclass whose message starts with the head that was
called and names the port, and the example (1-based) when the data is a batch. A failed
TrainerUpdate changes nothing: the trainer's weights and counters are as before, and the
next good update works.

Decisions:

- Evaluation lets NaN and infinities through: they are numbers, and they propagate through
  the net as IEEE arithmetic says (a NaN input gives NaN outputs). None is a missing value,
  not a number, and is refused, like strings and complex numbers.
- NetTrain (and TrainerUpdate) refuse data that contains missing values (None), NaN or
  infinities, in inputs and targets alike, as WL does ("NetTrain does not currently
  support data that contains missing values"): such data can only make the loss
  non-finite. (A loss that becomes non-finite anyway still stops training with the last
  finite net.)
- An integer port takes whole numbers within its bound: class indices of
  CrossEntropyLossLayer("Index") and EmbeddingLayer inputs out of range, or like 1.5, are
  refused at the data boundary, before anything runs.
"""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403

QUIET = {"TrainingProgressReporting": None}
ONE = {"MaxTrainingRounds": 1, "BatchSize": 2, **QUIET}
X = np.arange(12.0).reshape(4, 3) / 10
Y = X.sum(1, keepdims=True) * np.ones((1, 2))


def linear():
    return NetInitialize(LinearLayer(2, Input=3))


def two_inputs():
    return NetInitialize(NetGraph({"lin": LinearLayer(2), "plus": ThreadingLayer(Plus)},
                                  [("lin", NetPort("plus", "Input1")),
                                   (NetPort("B"), NetPort("plus", "Input2"))],
                                  Input=3, B=2))


def cross_entropy():
    return CrossEntropyLossLayer("Index", Input=3)


def embedding():
    return NetInitialize(NetChain([EmbeddingLayer(2, 5), FlattenLayer(), LinearLayer(1)],
                                  Input=3))


def sequences():
    return NetInitialize(NetChain([LongShortTermMemoryLayer(2), SequenceLastLayer()],
                                  Input=("Varying", 1)))


def weights(net):
    return {k: np.array(v) for k, v in Information(net, "Arrays").items()}


# -- evaluation -------------------------------------------------------------------------
EVALUATION = [
    # (what, net, data, error, fragment)
    ("wrong size", linear, [1, 2], EvaluationError,
     r'LinearLayer: port "Input" expects a vector of size 3 \(or a batch of them\), but '
     r"received an array of dimensions \{2\}"),
    ("wrong rank", linear, np.zeros((2, 2, 3)), EvaluationError, r"dimensions \{2, 2, 3\}"),
    ("ragged batch", linear, [[1, 2, 3], [1, 2]], EvaluationError,
     r"received an array of dimensions \{2\} \(example 2\)"),
    ("a string", linear, "abc", EvaluationError,
     r"port \"Input\" expects numeric data, but received the string 'abc'"),
    ("strings in a batch", linear, [[1, 2, 3], [1, "x", 3]], EvaluationError,
     r"example 2 holds the string 'x' at position \{2\}"),
    ("None", linear, None, EvaluationError, r"received None \(a missing value\)\."),
    ("None in an example", linear, [1, None, 3], EvaluationError,
     r"received None \(a missing value\) at position \{2\}"),
    ("None in a batch", linear, [[1, 2, 3], [4, 5, None]], EvaluationError,
     r"example 2 holds None \(a missing value\) at position \{3\}"),
    ("complex numbers", linear, [1j, 2, 3], EvaluationError, "the complex number 1j"),
    ("an object array", linear, np.array([1, "a", 2], dtype=object), EvaluationError,
     "the string 'a'"),
    ("an empty example", linear, [], EvaluationError, r"dimensions \{0\}"),
    ("an unknown port", linear, {"Inptu": [1, 2, 3]}, EvaluationError,
     'no input port "Inptu". Did you mean "Input"'),
    ("batches of different lengths", two_inputs,
     {"Input": [[1, 2, 3]] * 3, "B": [[1, 2]] * 2}, EvaluationError,
     'different lengths: "Input" 3, "B" 2'),
    ("an example and a batch", two_inputs, {"Input": [1, 2, 3], "B": [[1, 2]]},
     EvaluationError, '"Input" example, "B" batch'),
    ("a missing port", two_inputs, {"Input": [1, 2, 3]}, EvaluationError,
     'no data was given for input port "B"'),
    ("class index too large", cross_entropy, {"Input": [0.2, 0.3, 0.5], "Target": 4},
     EvaluationError, r'CrossEntropyLossLayer: port "Target" expects integers between 1 and '
     r"3, but received 4\."),
    ("class index 0", cross_entropy, {"Input": [[0.2, 0.3, 0.5]] * 2, "Target": [1, 0]},
     EvaluationError, r"between 1 and 3, but received 0 \(example 2\)"),
    ("class index not whole", cross_entropy, {"Input": [0.2, 0.3, 0.5], "Target": 1.5},
     EvaluationError, "received 1.5"),
    ("class index as a tensor", cross_entropy,
     {"Input": torch.ones(2, 3) / 3, "Target": torch.tensor([3, 7])}, EvaluationError,
     r"received 7 \(example 2\)"),
    ("embedding index too large", embedding, [1, 2, 9], EvaluationError,
     r'NetChain: port "Input" expects integers between 1 and 5, but received 9\.'),
    ("embedding index negative", embedding, [[1, 2, 3], [1, -1, 2]], EvaluationError,
     r"received -1 \(example 2\)"),
    ("empty sequence", sequences, [[[1]], []], EvaluationError,
     "example 2 has dimensions"),
    ("empty sequence alone", sequences, np.zeros((2, 0, 1)), EvaluationError,
     "must have non-zero length"),
    ("None in a sequence", sequences, [[[1], [2]], [[1], [None]]], EvaluationError,
     r"example 2 holds None \(a missing value\) at position \{2, 1\}"),
    ("a string in ragged sequences", sequences, [[[1], [2]], [["a"]]], EvaluationError,
     r"example 2 holds the string 'a'"),
]


@pytest.mark.parametrize("what, make, data, error, fragment", EVALUATION,
                         ids=[c[0] for c in EVALUATION])
def test_bad_evaluation_data(what, make, data, error, fragment):
    net = make()
    with pytest.raises(error, match=fragment) as info:
        net(data)
    assert isinstance(info.value, NetGraphError)
    assert str(info.value).startswith(f"{net.head}: ")


def test_nan_and_infinities_propagate_in_evaluation():
    net = linear()
    assert np.isnan(net([np.nan, 1, 2])).all()
    assert np.isnan(net([[np.nan, 1, 2], [1, 2, 3]])[0]).all()
    assert np.isfinite(net([[np.nan, 1, 2], [1, 2, 3]])[1]).all()   # rows stay separate
    assert np.isinf(net([np.inf, 0, 0])).any()
    seq = sequences()
    assert np.isnan(seq([[np.nan], [1.0]])).all()


def test_empty_batch_gives_an_empty_result():
    assert linear()(np.zeros((0, 3))).shape == (0, 2)


def test_booleans_are_numbers():
    net = linear()
    assert np.allclose(net([True, False, True]), net([1.0, 0.0, 1.0]))


# -- NetTrain ---------------------------------------------------------------------------
def _nan_at(i, j):
    a = X.copy()
    a[i, j] = np.nan
    return a


TRAINING = [
    # (what, data, error, fragment)
    ("wrong input size", {"Input": np.zeros((4, 2)), "Output": Y}, ShapeError,
     r'port "Input" expects a vector of size 3, but the training data has examples of '
     r"dimensions \{2\}"),
    ("wrong target size", {"Input": X, "Output": np.zeros((4, 3))}, ShapeError,
     r'port "Output" expects a vector of size 2'),
    ("ragged examples", {"Input": [[1, 2, 3], [1, 2], [1, 2, 3], [1, 2, 3]], "Output": Y},
     ShapeError, "several lengths"),
    ("strings", {"Input": ["a", "b", "c", "d"], "Output": Y}, TrainingError,
     "port \"Input\" expects numeric data, but example 1 holds the string 'a'"),
    ("a string column", {"Input": "abcd", "Output": Y}, TrainingError, "the string 'abcd'"),
    ("None column", {"Input": None, "Output": Y}, TrainingError,
     r'port "Input": received None \(a missing value\); NetTrain does not support data that '
     "contains missing values"),
    ("None example", {"Input": [[1, 2, 3], None, [1, 2, 3], [1, 2, 3]], "Output": Y},
     TrainingError, r"example 2 holds None \(a missing value\)"),
    ("None element", {"Input": [[1, 2, 3], [1, 2, 3], [1, 2, None], [1, 2, 3]], "Output": Y},
     TrainingError, r"example 3 holds None \(a missing value\) at position \{3\}"),
    ("NaN input", {"Input": _nan_at(2, 1), "Output": Y}, TrainingError,
     'port "Input" holds NaN in example 3; NetTrain does not support data that contains '
     "missing values, NaN or infinities"),
    ("infinite input", {"Input": np.where(X > 1.0, np.inf, X), "Output": Y}, TrainingError,
     'port "Input" holds Infinity in example 4'),
    ("NaN target", {"Input": X, "Output": np.where(Y > 2, np.nan, Y)}, TrainingError,
     'port "Output" holds NaN in example 3'),
    ("-Infinity target as a tensor", {"Input": X, "Output": torch.full((4, 2), -np.inf)},
     TrainingError, 'port "Output" holds -Infinity in example 1'),
    ("complex numbers", {"Input": X + 1j, "Output": Y}, TrainingError,
     "example 1 holds the complex number"),
    ("empty columns", {"Input": [], "Output": []}, TrainingError,
     'the training data is empty: port "Input" has no examples'),
    ("empty dict", {}, TrainingError, r"the training data is empty\."),
    ("empty list", [], TrainingError, r"the training data is empty\."),
    ("columns of different lengths", {"Input": X, "Output": Y[:3]}, TrainingError,
     'the data columns have different lengths: "Input" 4, "Output" 3'),
    ("a lone value", {"Input": 3.0, "Output": Y}, TrainingError,
     'port "Input" expects a list of examples, but received the single value 3.0'),
    ("a missing target", {"Input": X}, TrainingError, "no target for any of its outputs"),
    ("an unknown column", {"Input": X, "Output": Y, "Foo": Y}, TrainingError,
     'the data has a column "Foo", but the training net has no such input'),
    ("examples with different ports", [{"Input": [1, 2, 3], "Output": [1, 2]},
                                       {"Input": [1, 2, 3]}], TrainingError,
     "example 2 has the ports Input, but example 1 has Input, Output"),
    ("not data at all", 42, TrainingError, "expected training data as a dict"),
]


@pytest.mark.parametrize("what, data, error, fragment", TRAINING, ids=[c[0] for c in TRAINING])
def test_bad_training_data(what, data, error, fragment):
    with pytest.raises(error, match=fragment) as info:
        NetTrain(LinearLayer(2, Input=3), data, **ONE)
    assert str(info.value).startswith("NetTrain: ")


def test_bad_validation_data():
    with pytest.raises(TrainingError, match='port "Input" holds NaN in example 3'):
        NetTrain(LinearLayer(2, Input=3), {"Input": X, "Output": Y},
                 ValidationSet={"Input": _nan_at(2, 0), "Output": Y}, **ONE)


@pytest.mark.parametrize("targets, fragment", [
    ([1, 2, 3, 4], r"received 4 \(example 4\)"),
    ([0, 1, 2, 3], r"received 0 \(example 1\)"),
    ([1, 2, -1, 3], r"received -1 \(example 3\)"),
    ([1, 2, 3, 1.5], r"received 1.5 \(example 4\)"),
])
def test_class_indices_out_of_range(targets, fragment):
    classifier = NetChain([LinearLayer(3), SoftmaxLayer()], Input=2)
    with pytest.raises(TrainingError, match=r'NetTrain: port "Output" expects integers between '
                       r"1 and 3, but " + fragment):
        NetTrain(classifier, {"Input": np.zeros((4, 2)), "Output": targets}, **ONE)


@pytest.mark.parametrize("indices, fragment", [
    ([1, 2, 3, 9], r"received 9 \(example 4\)"),
    ([0, 1, 2, 3], r"received 0 \(example 1\)"),
    ([1.5, 2, 3, 4], r"received 1.5 \(example 1\)"),
])
def test_embedding_indices_out_of_range(indices, fragment):
    net = NetChain([EmbeddingLayer(2, 5), LinearLayer(1)])
    with pytest.raises(TrainingError, match=r'port "Input" expects integers between 1 and 5, '
                       r"but " + fragment):
        NetTrain(net, {"Input": indices, "Output": np.zeros((4, 1))}, **ONE)


def test_empty_sequences_in_training():
    net = NetChain([LongShortTermMemoryLayer(2), SequenceLastLayer(), LinearLayer(1)],
                   Input=("Varying", 1))
    with pytest.raises(NetGraphError, match="non-zero length"):
        NetTrain(net, {"Input": np.zeros((4, 0, 1)), "Output": np.zeros((4, 1))}, **ONE)


# -- generators -------------------------------------------------------------------------
def _good(info):
    x = np.random.default_rng(info["AbsoluteBatch"]).normal(size=(info["BatchSize"], 3))
    return {"Input": x, "Output": x[:, :2]}


def _after(k, bad):
    """A generator that is good for k batches, then gives what ``bad(info)`` gives."""
    return lambda info: bad(info) if info["AbsoluteBatch"] > k else _good(info)


def _raise(info):
    raise ZeroDivisionError("division by zero")


GENERATORS = [
    ("raises at once", _raise, TrainingError,
     r"the generator function raised ZeroDivisionError: division by zero \(round 1, batch "
     r"1\)"),
    ("raises later", _after(3, _raise), TrainingError, r"raised ZeroDivisionError: .*"
     r"\(round 2, batch 2\)"),
    ("returns None", lambda info: None, TrainingError,
     "the generator function returned None for round 1, batch 1; it must return a batch"),
    ("returns a string later", _after(2, lambda info: "garbage"), TrainingError,
     "returned 'garbage' for round 2, batch 1"),
    ("returns a function", lambda info: _good, TrainingError, "returned a function"),
    ("wrong shape later", _after(2, lambda info: {"Input": np.zeros((2, 5)),
                                                   "Output": np.zeros((2, 2))}),
     ShapeError, r'port "Input" expects a vector of size 3.*\(in the batch the generator '
     r"function returned for round 2, batch 1\)"),
    ("NaN later", _after(1, lambda info: {"Input": np.full((2, 3), np.nan),
                                          "Output": np.zeros((2, 2))}),
     TrainingError, r"holds NaN in example 1;.*round 1, batch 2"),
    ("a missing port later", _after(1, lambda info: {"Input": np.zeros((2, 3))}),
     TrainingError, r'no training data was given for port "Output".*round 1, batch 2'),
]


@pytest.mark.parametrize("what, gen, error, fragment", GENERATORS,
                         ids=[c[0] for c in GENERATORS])
def test_bad_generators(what, gen, error, fragment):
    with pytest.raises(error, match=fragment) as info:
        NetTrain(LinearLayer(2, Input=3), (gen, {"RoundLength": 4}), MaxTrainingRounds=3,
                 BatchSize=2, **QUIET)
    assert str(info.value).startswith("NetTrain: ")
    if "raises" in what:
        assert isinstance(info.value.__cause__, ZeroDivisionError)   # the original is kept
    if "later" in what:
        results = info.value.results   # the run up to the bad batch
        assert results["TotalBatches"] >= 1 and results["TrainedNet"].is_initialized()


# -- TrainerUpdate: a failed update changes nothing --------------------------------------
def _trainer():
    return NetTrain(LinearLayer(2, Input=3), {"Input": X, "Output": Y}, "$Trainer",
                    TrainingProgressFunction=lambda info: "StopTraining", **ONE)


BAD_BATCHES = [
    ({"Input": np.zeros((2, 2)), "Output": np.zeros((2, 2))}, ShapeError, "vector of size 3"),
    ({"Input": [[1, 2, 3], [1, None, 3]], "Output": np.zeros((2, 2))}, TrainingError,
     "example 2 holds None"),
    ({"Input": _nan_at(1, 1)[:2], "Output": np.zeros((2, 2))}, TrainingError,
     "holds NaN in example 2"),
    ({"Input": X[:2], "Output": np.zeros((3, 2))}, TrainingError, "different lengths"),
    ({"Input": X[:2]}, TrainingError, 'no training data was given for port "Output"'),
    ("garbage", TrainingError, "expected training data"),
    ({}, TrainingError, "the training data is empty"),
]


@pytest.mark.parametrize("batch, error, fragment", BAD_BATCHES)
def test_failed_update_changes_nothing(batch, error, fragment):
    trainer, fresh = _trainer(), _trainer()
    before, count = weights(trainer["Net"]), trainer["AbsoluteBatch"]
    with pytest.raises(error, match=fragment) as info:
        TrainerUpdate(trainer, batch)
    assert str(info.value).startswith("TrainerUpdate: ")
    after = weights(trainer["Net"])
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert trainer["AbsoluteBatch"] == count
    good = {"Input": X[:2], "Output": Y[:2]}
    TrainerUpdate(trainer, good)
    TrainerUpdate(fresh, good)
    assert TrainerCurrentLoss(trainer) == TrainerCurrentLoss(fresh)
    w1, w2 = weights(trainer["Net"]), weights(fresh["Net"])
    assert all(np.array_equal(w1[k], w2[k]) for k in w1)


def test_a_step_that_fails_on_the_worker_changes_nothing():
    def picky(x):
        if bool((x > 100).any()):
            raise ValueError("too large")
        return torch.tanh(x)
    net = NetChain([ElementwiseLayer(picky), LinearLayer(2)], Input=3)
    make = lambda: NetTrain(net, {"Input": X, "Output": Y}, "$Trainer",  # noqa: E731
                            TrainingProgressFunction=lambda info: "StopTraining", **ONE)
    trainer, fresh = make(), make()
    before = weights(trainer["Net"])
    TrainerUpdate(trainer, {"Input": X[:2] * 1000, "Output": Y[:2]})   # fails on the worker
    with pytest.raises(ValueError, match="too large"):
        TrainerCurrentLoss(trainer)
    after = weights(trainer["Net"])
    assert all(np.array_equal(before[k], after[k]) for k in before)
    good = {"Input": X[:2], "Output": Y[:2]}
    TrainerUpdate(trainer, good)
    TrainerUpdate(fresh, good)
    assert trainer["AbsoluteBatch"] == fresh["AbsoluteBatch"]
    w1, w2 = weights(trainer["Net"]), weights(fresh["Net"])
    assert all(np.array_equal(w1[k], w2[k]) for k in w1)
