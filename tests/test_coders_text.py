"""The "Characters" and "Tokens" encoders and decoders against hand computations."""
import numpy as np
import pytest

from netgraph import (
    All,
    Automatic,
    Blank,
    CoderError,
    DigitCharacter,
    EndOfString,
    LetterCharacter,
    NetDecoder,
    NetEncoder,
    OptionError,
    StartOfString,
    WhitespaceCharacter,
    WordCharacter,
)
from netgraph.shapes import VARYING, PortType

DEFAULT = "\t\n" + "".join(chr(c) for c in range(32, 127))


def test_default_table_is_tab_newline_and_printable_ascii():
    enc = NetEncoder("Characters")
    assert enc.port_type == PortType((VARYING,), "Integer", (1, 97))
    assert enc["Alphabet"] == DEFAULT
    s = "Hi there!\n"
    assert enc(s).tolist() == [DEFAULT.index(c) + 1 for c in s]
    assert enc(s).dtype == np.int64


def test_explicit_tables():
    enc = NetEncoder(["Characters", "abc"])
    assert enc("cab").tolist() == [3, 1, 2] and enc("").tolist() == []
    grouped = NetEncoder(["Characters", [("aeiou", 1), LetterCharacter]])
    # vowels share code 1; the other letters take 2, 3, ... in a-z, A-Z order
    assert grouped("bad").tolist() == [2, 1, 4]
    auto = NetEncoder(["Characters", ["ab", ("xyz", Automatic), DigitCharacter]])
    assert auto("bzx0").tolist() == [2, 3, 3, 4]
    assert NetEncoder(["Characters", range(97, 100)]) == enc
    assert NetEncoder(["Characters", ["ab", ("c", 7)]]).port_type.bound == (1, 7)
    ws = NetEncoder(["Characters", [WhitespaceCharacter, WordCharacter]])
    assert ws(" \t\na0").tolist() == [1, 2, 3, 4, 56]  # a-z, A-Z, then 0-9
    ascii_blank = NetEncoder(["Characters", [Automatic, Blank]])
    assert ascii_blank.port_type.bound == (1, 98) and ascii_blank("é").tolist() == [98]
    wl_span = NetEncoder(["Characters", [(range(97, 100), Automatic), "x"]])  # 97;;99 -> Automatic
    assert wl_span("cax").tolist() == [1, 1, 2]


def test_unknown_characters():
    enc = NetEncoder(["Characters", "abc"])
    with pytest.raises(CoderError, match=r'"abxd" contains characters that are not in the '
                                         r'table: "xd".*Blank') as e:
        enc.encode(["ab", "abxd"])
    assert e.value.index == 1
    blank = NetEncoder(["Characters", ["abc", Blank]])
    assert blank("axé").tolist() == [1, 4, 4]  # any other character: Blank's code


def test_ignore_case():
    enc = NetEncoder(["Characters", "abc", {"IgnoreCase": True}])
    assert enc("CaB").tolist() == [3, 1, 2]
    with pytest.raises(CoderError):
        NetEncoder(["Characters", "abc"])("A")


def test_virtual_characters_target_length_and_unit_vectors():
    enc = NetEncoder(["Characters", [StartOfString, "ab", EndOfString], {"TargetLength": 5}])
    assert enc.port_type == PortType((5,), "Integer", (1, 4))
    assert enc("b").tolist() == [1, 3, 4, 4, 4]  # padded with EndOfString's code
    assert enc("abababab").tolist() == [1, 2, 3, 2, 3]  # cropped
    plain = NetEncoder(["Characters", "abc", {"TargetLength": 4}])
    assert plain("a").tolist() == [1, 3, 3, 3]  # no EndOfString: the last code pads
    onehot = NetEncoder(["Characters", "abc", "UnitVector"])
    assert onehot.port_type == PortType((VARYING, 3), "Real")
    assert onehot("ca").tolist() == [[0, 0, 1], [1, 0, 0]]
    assert NetEncoder(["Characters", "ab", {"TargetLength": All}]) == NetEncoder(
        ["Characters", "ab"])


def test_character_batches():
    enc = NetEncoder(["Characters", "abc"])
    out = enc(["ab", "c", ""])
    assert [o.tolist() for o in out] == [[1, 2], [3], []]  # variable length: a list
    fixed = NetEncoder(["Characters", "abc", {"TargetLength": 2}])
    assert fixed(["ab", "c"]).tolist() == [[1, 2], [3, 3]]
    assert not enc.is_batch("abc") and enc.is_batch(["abc"]) and not enc.is_batch([1, 2])
    assert enc([1, 3]).tolist() == [1, 3]  # codes already: passed through
    items = ["abc", "ba", "c"]
    assert [b.tolist() for b in enc.encode(items)] == [enc(x).tolist() for x in items]
    with pytest.raises(CoderError, match="expects a string"):
        enc(3)


def test_characters_decoder():
    dec = NetDecoder(NetEncoder(["Characters", "abc"]))
    assert dec == NetDecoder(["Characters", "abc"])
    probs = np.eye(3)[[2, 0, 1]] * 0.8 + 0.05
    assert dec(probs) == "cab"
    assert dec(probs[0]) == "c"  # a single vector: one character
    assert dec(np.stack([probs, probs[::-1]])) == ["cab", "bac"]
    assert dec([probs, probs[:1]]) == ["cab", "c"]  # a ragged batch
    assert dec.loss_hint == "CrossEntropy"
    assert [t.tolist() for t in dec.encode_target(["ab", "c"])] == [[1, 2], [3]]
    virtual = NetDecoder(["Characters", [StartOfString, "ab", EndOfString]])
    assert virtual(np.eye(4)) == "ab"  # virtual characters decode to nothing
    with pytest.raises(CoderError, match="vectors of size 3, but received vectors of size 4"):
        dec(np.eye(4))
    assert len(NetDecoder("Characters")(np.eye(97)[[50]])) == 1


def test_tokens_encoder():
    enc = NetEncoder(["Tokens", ["the", "cat", "sat"]])
    assert enc.port_type == PortType((VARYING,), "Integer", (1, 4))
    # split at word boundaries, lower-cased; d + 1 = 4 for tokens not in the list
    assert enc("The cat sat on the mat.").tolist() == [1, 2, 3, 4, 1, 4, 4]
    assert [a.tolist() for a in enc(["the cat", "dog"])] == [[1, 2], [4]]
    cased = NetEncoder(["Tokens", ["The", "cat"], {"IgnoreCase": False}])
    assert cased("The the cat").tolist() == [1, 3, 2]
    fixed = NetEncoder(["Tokens", ["a", "b"], {"TargetLength": 3}])
    assert fixed(["a b a b", "b"]).tolist() == [[1, 2, 1], [2, 3, 3]]
    comma = NetEncoder(["Tokens", ["a", "b"], {"SplitPattern": ","}])
    assert comma("a,b,,c").tolist() == [1, 2, 3]
    pre = NetEncoder(["Tokens", ["a", "b"], {"SplitPattern": None}])
    assert pre(["a", "b", "c"]).tolist() == [1, 2, 3]  # one pre-tokenized example
    assert [a.tolist() for a in pre([["a"], ["b", "b"]])] == [[1], [2, 2]]
    with pytest.raises(CoderError, match="list of token strings"):
        pre("a b")
    with pytest.raises(CoderError, match="expects a string"):
        enc(5)


def test_tokens_decoder():
    enc = NetEncoder(["Tokens", ["The", "cat"]])
    dec = NetDecoder(enc)
    assert dec == NetDecoder(["Tokens", ["The", "cat"]])
    assert dec(np.eye(3)[[0, 1, 2]]) == "the cat \ufffd"  # lower-cased; d + 1: unknown
    assert dec(np.eye(3)[1]) == "cat"
    assert NetDecoder(["Tokens", ["The"], {"IgnoreCase": False}])(np.eye(2)) == "The \ufffd"
    assert dec.encode_target(["the cat"])[0].tolist() == [1, 2]


def test_bad_text_specs():
    with pytest.raises(OptionError, match="English vocabulary of WL is not bundled"):
        NetEncoder("Tokens")
    with pytest.raises(OptionError, match="non-empty list of non-empty strings"):
        NetEncoder(["Tokens", ["a", 3]])
    with pytest.raises(OptionError, match="SplitPattern"):
        NetEncoder(["Tokens", ["a"], {"SplitPattern": "("}])
    with pytest.raises(OptionError, match="each element of the character table"):
        NetEncoder(["Characters", ["ab", 5]])
    with pytest.raises(OptionError, match="TargetLength"):
        NetEncoder(["Characters", "ab", {"TargetLength": 0}])


def test_text_json_round_trip():
    coders = [NetEncoder("Characters"),
              NetEncoder(["Characters", [StartOfString, ("aeiou", 1), LetterCharacter, Blank],
                          "UnitVector", {"IgnoreCase": True, "TargetLength": 9}]),
              NetEncoder(["Tokens", ["a", "b"], {"SplitPattern": None, "TargetLength": 4}]),
              NetDecoder(["Characters", "xyz"]), NetDecoder(["Tokens", ["a"]])]
    for c in coders:
        assert type(c).from_json(c.to_json()) == c


def test_sequence_decoders_fit_a_sequence_or_one_vector():
    dec = NetDecoder(["Characters", "abc"])
    assert dec.check_port(PortType((VARYING, None), "Real"), 'port "Output"') == PortType(
        (VARYING, 3), "Real")
    assert dec.check_port(PortType((3,), "Real"), 'port "Output"') == PortType((3,), "Real")
    with pytest.raises(Exception, match='port "Output" holds a vector of size 4'):
        dec.check_port(PortType((4,), "Real"), 'port "Output"')
