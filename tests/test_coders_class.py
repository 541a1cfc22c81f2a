"""The "Class" encoder and decoder against hand computations."""
import math

import numpy as np
import pytest

from netgraph import CoderError, NetDecoder, NetEncoder, OptionError
from netgraph.shapes import PortType

LABELS = ["cat", "dog", "bird"]


def test_index_encoding_is_one_based():
    enc = NetEncoder(["Class", LABELS])
    assert enc("cat") == 1 and enc("bird") == 3
    out = enc(["bird", "cat", "dog"])
    assert out.dtype == np.int64 and out.tolist() == [3, 1, 2]
    assert enc.port_type == PortType((), "Integer", (1, 3))


def test_unit_vector_encoding():
    enc = NetEncoder(["Class", LABELS, "UnitVector"])
    assert enc("dog").tolist() == [0.0, 1.0, 0.0]
    assert enc(["bird", "cat"]).tolist() == [[0, 0, 1], [1, 0, 0]]
    assert enc.port_type == PortType((3,), "Real")
    assert NetEncoder(["Class", LABELS, "IndicatorVector"]) == enc


def test_batch_equals_one_at_a_time():
    for form in ("Index", "UnitVector"):
        enc = NetEncoder(["Class", LABELS, form])
        items = ["dog", "bird", "bird", "cat"]
        assert np.array_equal(enc.encode(items), np.stack([np.asarray(enc(x)) for x in items]))
        dec = NetDecoder(["Class", LABELS])
        p = np.random.default_rng(0).dirichlet(np.ones(3), size=5)
        for prop in (None, "Probabilities", ("TopDecisions", 2), "Entropy", "TopProbabilities"):
            assert dec.decode(p, prop) == [dec(r, prop or "Decision") for r in p]


def test_integer_labels_and_encoded_input():
    enc = NetEncoder(["Class", [0, 1, 2]])
    assert enc(0) == 1 and enc([2, 0]).tolist() == [3, 1]  # integers are always labels
    with pytest.raises(CoderError, match="3 is not one of"):
        enc(3)
    strs = NetEncoder(["Class", ["a", "b"]])
    assert strs(2) == 2  # an index already: passed through, as WL does
    assert strs([2, 1]).tolist() == [2, 1]
    assert strs(["a", 2]).tolist() == [1, 2]


def test_unknown_label_names_it_and_suggests_the_nearest():
    enc = NetEncoder(["Class", LABELS])
    with pytest.raises(CoderError, match=r'"dgo" is not one of \["cat", "dog", "bird"\]\. '
                                         r'Did you mean "dog"\?') as e:
        enc("dgo")
    assert e.value.label == "dgo" and e.value.suggestion == "dog" and e.value.index is None
    with pytest.raises(CoderError) as e:
        enc.encode(["cat", "dog", "brid"])
    assert e.value.index == 2 and e.value.suggestion == "bird"
    re = e.value.rehead("NetChain", 'port "Input", example 3')
    assert str(re).startswith('NetChain: port "Input", example 3: "brid" is not one of')
    with pytest.raises(CoderError, match="Did you mean 5"):
        NetEncoder(["Class", [1, 5, 9]])(4.6)


def test_dimensions_encodes_arrays_of_labels():
    enc = NetEncoder(["Class", ["a", "b"], {"Dimensions": [2, 2]}])
    out = enc([["a", "b"], ["b", "b"]])
    assert out.tolist() == [[1, 2], [2, 2]]
    batch = enc.encode([[["a", "a"], ["a", "b"]], [["b", "a"], ["a", "a"]]])
    assert batch.shape == (2, 2, 2) and batch[1].tolist() == [[2, 1], [1, 1]]
    assert enc.port_type == PortType((2, 2), "Integer", (1, 2))
    with pytest.raises(CoderError, match="dimensions"):
        enc([["a", "b", "a"]])


def test_multilabel_encoder():
    enc = NetEncoder(["Class", LABELS, "UnitVector", {"Multilabel": True}])
    assert enc(["cat", "bird"]).tolist() == [1, 0, 1]
    assert enc([["dog"], ["cat", "dog"]]).tolist() == [[0, 1, 0], [1, 1, 0]]
    with pytest.raises(OptionError, match="Multilabel"):
        NetEncoder(["Class", LABELS, {"Multilabel": True}])


def test_decision_and_probabilities():
    dec = NetDecoder(["Class", LABELS])
    p = [0.2, 0.5, 0.3]
    assert dec(p) == "dog"
    assert dec([p, [0.6, 0.3, 0.1]]) == ["dog", "cat"]
    assert dec(np.asarray([p]), "Decision") == ["dog"]  # rank 2: a batch of one
    assert dec(p, "Probabilities") == {"cat": 0.2, "dog": 0.5, "bird": 0.3}
    assert dec(p, ("Probability", "bird")) == pytest.approx(0.3)
    assert dec(p, ["Probability", "cat"]) == pytest.approx(0.2)
    with pytest.raises(CoderError, match='probability of "cow", which is not one of'):
        dec(p, ("Probability", "cow"))


def test_top_probabilities_and_decisions():
    dec = NetDecoder(["Class", LABELS])
    p = [0.04, 0.9, 0.06]
    # classes above a tenth of the largest probability, most likely first
    assert dec(p, "TopProbabilities") == [("dog", 0.9)]
    assert dec([0.3, 0.5, 0.2], "TopProbabilities") == [("dog", 0.5), ("cat", 0.3),
                                                         ("bird", 0.2)]
    assert dec(p, ("TopProbabilities", 2)) == [("dog", 0.9), ("bird", 0.06)]
    assert dec(p, ("TopProbabilities", 10)) == [("dog", 0.9), ("bird", 0.06), ("cat", 0.04)]
    assert dec(p, ("TopDecisions", 2)) == ["dog", "bird"]
    assert dec([p, [0.5, 0.1, 0.4]], ("TopDecisions", 1)) == [["dog"], ["cat"]]
    with pytest.raises(OptionError, match=r'\("TopDecisions", n\)'):
        dec(p, "TopDecisions")
    with pytest.raises(OptionError, match="positive integer"):
        dec(p, ("TopProbabilities", 0))


def test_entropy_in_nats():
    dec = NetDecoder(["Class", LABELS])
    p = [0.2, 0.5, 0.3]
    assert dec(p, "Entropy") == pytest.approx(-sum(x * math.log(x) for x in p))
    assert dec([1.0, 0.0, 0.0], "Entropy") == 0.0


def test_random_sample():
    dec = NetDecoder(["Class", LABELS])
    assert dec([0.0, 1.0, 0.0], "RandomSample") == "dog"
    assert dec([0.3, 0.4, 0.3], ("RandomSample", 0)) == "dog"  # temperature 0: argmax
    draws = dec(np.tile([0.5, 0.0, 0.5], (400, 1)), "RandomSample")
    assert set(draws) == {"cat", "bird"} and 120 < draws.count("cat") < 280
    top1 = dec(np.tile([0.45, 0.1, 0.45], (50, 1)),
               ("RandomSample", {"TopProbabilities": 1}))
    assert set(top1) == {"cat"}
    with pytest.raises(OptionError, match="temperature"):
        dec([0.5, 0.5, 0.0], ("RandomSample", -1))


def test_automatic_labels_are_1_to_n():
    dec = NetDecoder("Class")
    assert dec([0.1, 0.2, 0.7]) == 3
    assert dec([0.1, 0.9], "Probabilities") == {1: 0.1, 2: 0.9}
    assert dec([0.1, 0.9], ("Probability", 2)) == pytest.approx(0.9)
    assert dec.port_type == PortType((None,), "Real")
    assert dec.encode_target([2, 1]).tolist() == [2, 1]


def test_input_depth():
    dec = NetDecoder(["Class", ["a", "b"], {"InputDepth": 2}])
    seq = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])  # 3 positions
    assert dec(seq) == ["a", "b", "b"]
    assert dec(np.stack([seq, seq[::-1]])) == [["a", "b", "b"], ["b", "b", "a"]]
    assert dec(seq, "Probabilities") == {"a": [0.9, 0.2, 0.4], "b": [0.1, 0.8, 0.6]}
    assert dec(seq, ("TopDecisions", 1)) == [["a"], ["b"], ["b"]]
    assert dec.port_type == PortType((None, 2), "Real")
    assert dec.encode_target([["a", "b"], ["b", "b"]]).tolist() == [[1, 2], [2, 2]]
    with pytest.raises(CoderError, match="is not an array of rank 2"):
        dec(np.zeros((2, 2, 2, 2)))


def test_multilabel_decoder():
    dec = NetDecoder(["Class", LABELS, {"Multilabel": True}])
    assert dec([0.7, 0.2, 0.9]) == ["cat", "bird"]
    assert dec.loss_hint == "BinaryCrossEntropy"
    assert dec.encode_target([["cat"], ["dog", "bird"]]).tolist() == [[1, 0, 0], [0, 1, 1]]


def test_decoder_targets_and_loss():
    dec = NetDecoder(["Class", LABELS])
    assert dec.loss_hint == "CrossEntropy" and dec.labels == tuple(LABELS)
    t = dec.encode_target(["bird", "cat"])
    assert t.dtype == np.int64 and t.tolist() == [3, 1]
    with pytest.raises(CoderError, match="Did you mean \"bird\""):
        dec.encode_target(["brd"])


def test_decoder_size_mismatch_and_bad_input():
    dec = NetDecoder(["Class", LABELS])
    with pytest.raises(CoderError, match="has 3 classes, but received probability vectors of "
                                         "size 2"):
        dec([0.5, 0.5])
    with pytest.raises(CoderError, match="should be a numeric array"):
        dec("cat")
    with pytest.raises(OptionError, match='no property "Decisions". Did you mean "Decision"'):
        dec([0.2, 0.5, 0.3], "Decisions")


def test_encoder_decoder_conversion():
    enc = NetEncoder(["Class", LABELS, {"Dimensions": [4]}])
    dec = NetDecoder(enc)
    assert dec == NetDecoder(["Class", LABELS, {"InputDepth": 2}])
    assert NetEncoder(NetDecoder(["Class", LABELS])) == NetEncoder(["Class", LABELS])
    with pytest.raises(CoderError, match="no labels"):
        NetEncoder(NetDecoder("Class"))


def test_bad_class_specs():
    with pytest.raises(OptionError, match="non-empty list"):
        NetEncoder(["Class", []])
    with pytest.raises(OptionError, match="distinct"):
        NetEncoder(["Class", ["a", "a"]])
    with pytest.raises(OptionError, match='"Index" or "UnitVector", but received "OneHot"'):
        NetEncoder(["Class", ["a"], "OneHot"])
    with pytest.raises(OptionError, match='needs its parameter "Labels"'):
        NetEncoder("Class")
    with pytest.raises(OptionError, match="InputDepth"):
        NetDecoder(["Class", ["a"], {"InputDepth": 0}])


def test_bool_labels_stay_apart_from_integers():
    enc = NetEncoder(["Class", [True, False]])
    assert enc(False) == 2
    with pytest.raises(CoderError):
        enc.encode([0])


def test_properties_at_input_depth_2():
    dec = NetDecoder(["Class", ["a", "b", "c"], {"InputDepth": 2}])
    seq = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    assert dec(seq, ("TopProbabilities", 1)) == [[("a", 0.7)], [("c", 0.6)]]
    assert dec(seq, ("Probability", "c")) == [0.1, 0.6]
    assert dec(seq, "Entropy") == pytest.approx([-sum(p * math.log(p) for p in r) for r in seq])
    batch = np.stack([seq, seq[::-1]])
    assert dec(batch, "TopProbabilities") == [dec(seq, "TopProbabilities"),
                                              dec(seq[::-1], "TopProbabilities")]
