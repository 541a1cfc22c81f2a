"""The "Function" encoder and decoder."""
import numpy as np
import pytest

from netgraph import CoderError, NetDecoder, NetEncoder, NetExportError, OptionError
from netgraph.shapes import VARYING, PortType


def counts(s):
    return [len(s), s.count("a")]


def test_function_encoder():
    enc = NetEncoder(["Function", counts, [2]])
    assert enc.port_type == PortType((2,), "Real")
    assert enc("banana").tolist() == [6.0, 3.0]
    out = enc(["a", "bb", "aaa"])
    assert out.dtype == np.float32 and out.tolist() == [[1, 1], [2, 0], [3, 3]]
    assert out.tolist() == [enc(x).tolist() for x in ["a", "bb", "aaa"]]
    assert enc == NetEncoder(["Function", counts, [2]])
    assert enc != NetEncoder(["Function", lambda s: [0, 0], [2]])
    assert repr(enc) == 'NetEncoder(["Function", counts, [2]])'


def test_function_encoder_shapes_and_types():
    ints = NetEncoder(["Function", lambda s: [ord(c) for c in s], ["Varying", "Integer"]])
    assert ints.port_type == PortType((VARYING,), "Integer")
    assert [a.tolist() for a in ints(["ab", "c"])] == [[97, 98], [99]]
    assert ints("ab").dtype == np.int64
    with pytest.raises(CoderError, match=r"should give a vector of size 2, but gave an array "
                                         r"of dimensions \[3\]") as e:
        NetEncoder(["Function", lambda s: [1, 2, 3], [2]]).encode(["x"])
    assert e.value.index == 0
    with pytest.raises(CoderError, match="failed on 0: ZeroDivisionError"):
        NetEncoder(["Function", lambda x: [1 / x], [1]])(0)
    with pytest.raises(CoderError, match="not a numeric array"):
        NetEncoder(["Function", lambda x: ["a"], [1]])(0)


def test_batched_and_pattern():
    calls = []

    def f(xs):
        calls.append(len(xs))
        return np.arange(len(xs) * 3, dtype=float).reshape(len(xs), 3)

    enc = NetEncoder(["Function", f, [3], {"Batched": True}])
    assert enc.encode(["x", "y"]).shape == (2, 3) and calls == [2]  # one call for the batch
    pat = NetEncoder(["Function", np.asarray, [VARYING, 2], {"Pattern": list}])
    assert pat([[1, 2], [3, 4]]).shape == (2, 2)  # a list is one example here
    tup = NetEncoder(["Function", lambda t: list(t), [2], {"Pattern": tuple}])
    assert tup([(1, 2), (3, 4)]).shape == (2, 2) and tup((1, 2)).tolist() == [1, 2]
    with pytest.raises(CoderError, match="does not match the encoder's \"Pattern\""):
        tup.encode([(1, 2), [3, 4]])


def test_function_decoder():
    dec = NetDecoder(["Function", lambda a: float(a.sum())])
    assert dec([1, 2, 3]) == 6.0
    assert dec.decode(np.ones((2, 3))) == [3.0, 3.0]
    props = NetDecoder(["Function", lambda a, p: float(a.max() if p == "Max" else a.min()),
                        {"Properties": ["Max", "Min"]}])
    assert props([1, 5]) == 5.0 and props([1, 5], "Min") == 1.0
    assert props([1, 5], "Properties") == ["Max", "Min"]
    with pytest.raises(OptionError, match='no property "Mid"'):
        props([1, 5], "Mid")


def test_function_coders_refuse_json():
    for c in (NetEncoder(["Function", counts, [2]]), NetDecoder(["Function", sum])):
        with pytest.raises(NetExportError, match=r'"Function" coder holds Python code '
                                                 r"\((counts|sum)\)"):
            c.to_json()


def test_bad_function_specs():
    with pytest.raises(OptionError, match="Python callable"):
        NetEncoder(["Function", 3, [2]])
    with pytest.raises(OptionError, match='needs its parameter "Dimensions"'):
        NetEncoder(["Function", counts])
    with pytest.raises(OptionError, match="output dimensions"):
        NetEncoder(["Function", counts, [0]])
    with pytest.raises(OptionError, match="Pattern"):
        NetEncoder(["Function", counts, [2], {"Pattern": 3}])
