"""The "Boolean" and "Scalar" encoders and decoders against hand computations."""
import math

import numpy as np
import pytest

from netgraph import Automatic, CoderError, NetDecoder, NetEncoder, OptionError
from netgraph.shapes import PortType


def test_boolean_encoder():
    enc = NetEncoder("Boolean")
    assert enc(True) == 1.0 and enc(False) == 0.0
    out = enc([True, False, True])
    assert out.dtype == np.float32 and out.tolist() == [1, 0, 1]
    assert enc([np.bool_(True)]).tolist() == [1.0]
    assert enc.port_type == PortType((), "Real")
    with pytest.raises(CoderError, match='"yes" should be True or False'):
        enc("yes")
    with pytest.raises(CoderError) as e:
        enc.encode([True, None])
    assert e.value.index == 1


def test_boolean_arrays():
    enc = NetEncoder(["Boolean", [2]])
    assert enc([True, False]).tolist() == [1, 0]
    assert enc([[True, True], [False, True]]).tolist() == [[1, 1], [0, 1]]
    assert enc.port_type == PortType((2,), "Real")
    with pytest.raises(CoderError, match="dimensions"):
        enc.encode([[True, False, True]])


def test_boolean_batch_equals_one_at_a_time():
    enc = NetEncoder("Boolean")
    items = [True, False, False]
    assert enc.encode(items).tolist() == [enc(x) for x in items]
    dec = NetDecoder("Boolean")
    p = [0.1, 0.5, 0.9]
    for prop in ("Decision", "Probability", "Entropy"):
        assert dec.decode(np.asarray(p), prop) == [dec(x, prop) for x in p]


def test_boolean_decoder():
    dec = NetDecoder("Boolean")
    assert dec(0.7) is True and dec(0.2) is False and dec(0.5) is True
    assert dec([0.2, 0.8]) == [False, True]
    assert dec(0.3, "Probability") == 0.3
    p = 0.3
    assert dec(p, "Entropy") == pytest.approx(-(p * math.log(p) + (1 - p) * math.log(1 - p)))
    assert dec(1.0, "RandomSample") is True and dec(0.0, "RandomSample") is False
    assert dec(0.4, ("RandomSample", 0)) is False
    assert dec.loss_hint == "BinaryCrossEntropy"
    assert dec.encode_target([True, False]).tolist() == [1.0, 0.0]
    deep = NetDecoder(["Boolean", {"InputDepth": 1}])
    assert deep([0.2, 0.9]) == [False, True]
    assert deep([[0.2, 0.9]]) == [[False, True]]
    assert NetEncoder(deep) == NetEncoder(["Boolean", {"Dimensions": [Automatic]}])
    assert NetEncoder(deep)([[True, False, True]]).tolist() == [[1, 0, 1]]
    with pytest.raises(CoderError, match="is not a real number or a batch"):
        dec(np.zeros((2, 2)))


def test_scalar_coders():
    enc = NetEncoder("Scalar")
    assert enc(2.5).tolist() == [2.5]
    assert enc([1, 2]).tolist() == [[1.0], [2.0]]
    assert enc([3.0]).tolist() == [3.0]  # already a 1-vector: passed through, as WL
    assert enc.port_type == PortType((1,), "Real")
    with pytest.raises(CoderError, match='"x" is not a number'):
        enc("x")
    dec = NetDecoder("Scalar")
    assert dec([3.0]) == 3.0 and dec([[1.0], [2.0]]) == [1.0, 2.0]
    assert dec.loss_hint == "MeanSquared"
    assert dec.encode_target([1, 2]).tolist() == [[1.0], [2.0]]
    assert dec([3.0], "Properties") == []
    with pytest.raises(OptionError, match="None"):
        dec([3.0], "Decision")
