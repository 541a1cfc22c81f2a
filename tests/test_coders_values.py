"""Coders as values: spec forms, repr, equality, immutability, JSON, Information, errors."""
import copy
import json

import pytest

from netgraph import Information, NetDecoder, NetEncoder, OptionError
from netgraph.coders import Coder


def test_spec_forms_are_equal():
    a = NetEncoder(["Class", ["a", "b"], "UnitVector"])
    assert a == NetEncoder(("Class", ("a", "b"), "UnitVector"))
    assert a == NetEncoder(["Class", ["a", "b"], {"OutputForm": "UnitVector"}])
    assert a == NetEncoder(["Class", ["a", "b"], ("OutputForm", "UnitVector")])
    assert a == NetEncoder(["Class", ["a", "b"]], OutputForm="UnitVector")
    assert hash(a) == hash(NetEncoder(["Class", ("a", "b")], OutputForm="UnitVector"))
    assert a != NetEncoder(["Class", ["a", "b"]]) and a != NetDecoder(["Class", ["a", "b"]])
    assert NetEncoder("Boolean") == NetEncoder(["Boolean"])
    assert NetEncoder(a) is a
    assert NetEncoder(["Class", [True, False]]) != NetEncoder(["Class", [1, 0]])
    assert isinstance(a, NetEncoder) and isinstance(a, Coder) and a.kind == "Class"


def test_repr_is_compact_python():
    assert repr(NetEncoder("Boolean")) == 'NetEncoder("Boolean")'
    assert repr(NetEncoder(["Class", ["a", "b"], "UnitVector"])) == \
        'NetEncoder(["Class", ["a", "b"], "UnitVector"])'
    assert repr(NetEncoder(["Class", ["a", "b"], "Index"])) == 'NetEncoder(["Class", ["a", "b"]])'
    assert repr(NetDecoder(["Class", list(range(10)), {"InputDepth": 2}])) == \
        'NetDecoder(["Class", [0, 1, 2, 3, 4, 5, ..., 9], {"InputDepth": 2}])'


def test_values_are_immutable():
    enc = NetEncoder(["Class", ["a", "b"]])
    with pytest.raises(AttributeError, match="immutable"):
        enc.kind = "Boolean"
    with pytest.raises(TypeError):
        enc.params["Labels"] = ("c",)
    assert copy.deepcopy(enc) is enc and copy.copy(enc) is enc


def test_json_round_trip():
    coders = [NetEncoder(["Class", ["a", 2, 3.5, True], "UnitVector"]),
              NetEncoder(["Class", ["x", "y"], {"Dimensions": [3]}]),
              NetDecoder(["Class", ["a", "b"], {"InputDepth": 2}]), NetDecoder("Class"),
              NetEncoder("Boolean"), NetDecoder("Boolean"), NetEncoder("Scalar"),
              NetDecoder("Scalar")]
    for c in coders:
        data = c.to_json()
        text = json.dumps(data)
        assert type(c).from_json(text) == c
        assert NetEncoder.from_json(data) == c  # the dict says which side it is


def test_json_refuses_what_json_cannot_hold():
    with pytest.raises(OptionError, match="cannot be written as JSON"):
        NetEncoder(["Class", [object(), "b"]]).to_json()
    with pytest.raises(OptionError, match="from_json expects a dict"):
        NetEncoder.from_json({"Type": "Class"})


def test_information_and_parts():
    enc = NetEncoder(["Class", ["a", "b"], "UnitVector"])
    assert Information(enc, "Type") == "Class"
    assert Information(enc, "Labels") == ("a", "b")
    assert Information(enc, "Output") == 2
    assert enc["OutputForm"] == "UnitVector"
    assert Information(enc)["Dimensions"] == ()
    assert "Properties" not in Information(enc) and "Type" in Information(enc, "Properties")
    dec = NetDecoder(["Class", ["a", "b"]])
    assert Information(dec, "Input") == 2
    assert Information(dec, "DecoderProperties")[0] == "Decision"
    assert dec([0.4, 0.6], "Properties") == dec.properties
    with pytest.raises(OptionError, match='unknown property "Lables".*Did you mean "Labels"'):
        Information(enc, "Lables")
    with pytest.raises(OptionError, match='"Lables" is not a property'):
        enc["Lables"]


def test_unknown_type_and_bad_parameters():
    with pytest.raises(OptionError, match='unknown type "Clas". Did you mean "Class"'):
        NetEncoder(["Clas", ["a"]])
    with pytest.raises(OptionError, match="expected a type such as"):
        NetEncoder(3)
    with pytest.raises(OptionError, match="received nothing"):
        NetDecoder()
    with pytest.raises(OptionError, match='has no parameter "OutputFrom". Did you mean '
                                          '"OutputForm"'):
        NetEncoder(["Class", ["a"], {"OutputFrom": "Index"}])
    with pytest.raises(OptionError, match="at most 2 positional parameters"):
        NetEncoder(["Class", ["a"], "Index", "extra"])
    with pytest.raises(OptionError, match="given twice"):
        NetEncoder(["Class", ["a"], "Index"], OutputForm="Index")


def test_check_port_names_the_port():
    from netgraph.shapes import PortType
    dec = NetDecoder(["Class", ["a", "b", "c"]])
    assert dec.check_port(PortType((None,), "Real"), 'port "Output"') == PortType((3,), "Real")
    with pytest.raises(Exception, match=r'expects a vector of size 3, but port "Output" holds '
                                        r'a vector of size 4'):
        dec.check_port(PortType((4,), "Real"), 'port "Output"')
    enc = NetEncoder(["Class", ["a", "b"]])
    assert enc.check_port(PortType((), None), 'port "Input"').bound == (1, 2)


def test_parameters_replaced_by_options():
    enc = NetEncoder(["Class", ["a", "b"]])
    one_hot = NetEncoder(enc, OutputForm="UnitVector")  # WL's NetReplacePart[enc, ...]
    assert one_hot == NetEncoder(["Class", ["a", "b"], "UnitVector"]) and enc["OutputForm"] == \
        "Index"
    dec = NetDecoder(NetDecoder(["Class", ["a", "b"]]), InputDepth=2)
    assert dec["InputDepth"] == 2
    with pytest.raises(OptionError, match="has no parameter"):
        NetEncoder(enc, ColorSpace="RGB")


def test_encoding_is_thread_safe():
    from concurrent.futures import ThreadPoolExecutor
    enc = NetEncoder(["Characters", "abc"])
    items = ["abc" * (i % 5) for i in range(200)]
    with ThreadPoolExecutor(4) as pool:
        parts = list(pool.map(enc.encode, [items[i:i + 20] for i in range(0, 200, 20)]))
    assert [a.tolist() for p in parts for a in p] == [a.tolist() for a in enc.encode(items)]
