"""The "UTF8" encoder and decoder against Python's own UTF-8 codec (str.encode + 1), on their
own, on ports, through Export/Import and to_wl, and in NetTrain."""
import numpy as np
import pytest

from netgraph import (
    CoderError,
    EmbeddingLayer,
    Export,
    GatedRecurrentLayer,
    Import,
    Information,
    LinearLayer,
    NetChain,
    NetDecoder,
    NetEncoder,
    NetExtract,
    NetInitialize,
    NetMapOperator,
    NetTrain,
    OptionError,
    SequenceLastLayer,
    SoftmaxLayer,
)
from netgraph.errors import EvaluationError, ShapeError, TrainingError
from netgraph.shapes import VARYING, PortType

# one character of each UTF-8 length: 1 (ASCII), 2 (é), 3 (€), 4 (U+1D11E, the G clef)
WORDS = ["a", "é", "€", "\U0001d11e", "Héllo, wörld! €5 \U0001d11e", "", "\x00\x7f"]


def by_hand(s):
    return [b + 1 for b in s.encode("utf-8")]


def test_encoder_is_the_utf8_bytes_plus_one():
    enc = NetEncoder("UTF8")
    assert enc.port_type == PortType((VARYING,), "Integer", (1, 248))
    for s in WORDS:
        out = enc(s)
        assert out.dtype == np.int64 and out.tolist() == by_hand(s)
    assert [len(enc(c)) for c in WORDS[:4]] == [1, 2, 3, 4]  # several codes per character
    assert enc("é").tolist() == [0xC3 + 1, 0xA9 + 1]
    assert enc("").tolist() == []                             # ToCharacterCode["", "UTF8"]
    assert enc("\x00").tolist() == [1]                        # byte 0 is code 1
    # the largest byte of valid UTF-8 is 0xF4, so no code exceeds 245 (< 248)
    assert max(enc(chr(0x10FFFF)).tolist()) == 0xF4 + 1


def test_unit_vectors_are_248_dimensional():
    enc = NetEncoder(["UTF8", "UnitVector"])
    assert enc.port_type == PortType((VARYING, 248), "Real")
    s = "a€"
    out = enc(s)
    assert out.dtype == np.float32 and out.shape == (4, 248)
    np.testing.assert_array_equal(out, np.eye(248, dtype=np.float32)[list(s.encode("utf-8"))])
    assert enc("").shape == (0, 248)
    assert enc(out) is not None and np.array_equal(enc(out), out)  # already encoded: bypassed


def test_batches_equal_one_at_a_time_and_codes_pass_through():
    enc = NetEncoder("UTF8")
    batch = enc(WORDS)
    assert isinstance(batch, list) and len(batch) == len(WORDS)  # variable lengths: a list
    assert [b.tolist() for b in batch] == [enc(s).tolist() for s in WORDS]
    assert [b.tolist() for b in enc.encode(WORDS)] == [by_hand(s) for s in WORDS]
    assert not enc.is_batch("abc") and enc.is_batch(["abc"]) and not enc.is_batch([98, 99])
    assert enc([98, 99]).tolist() == [98, 99]  # codes 1..248 already: passed through
    onehot = NetEncoder(["UTF8", "UnitVector"])
    assert all(np.array_equal(b, onehot(s)) for b, s in zip(onehot(WORDS), WORDS, strict=True))


def test_bad_inputs_and_specs_are_refused_naming_the_coder():
    enc = NetEncoder("UTF8")
    with pytest.raises(CoderError, match=r'NetEncoder\("UTF8"\) expects a string, but '
                       r"received 3") as e:
        enc.encode(["ok", 3])
    assert e.value.index == 1
    with pytest.raises(CoderError, match="no UTF-8 encoding \\(lone surrogates\\): U\\+D800"):
        enc("a\ud800")
    with pytest.raises(OptionError, match='"UTF8" expects the output form to be "Index" or '
                       '"UnitVector", but received "OneHot"'):
        NetEncoder(["UTF8", "OneHot"])
    with pytest.raises(OptionError, match='"UTF8" has no parameter "TargetLength"'):
        NetEncoder("UTF8", TargetLength=3)
    with pytest.raises(OptionError, match="at most 1 positional parameter"):
        NetEncoder(["UTF8", "Index", "x"])


def test_value_repr_information_and_json():
    enc, onehot = NetEncoder("UTF8"), NetEncoder(["UTF8", "UnitVector"])
    assert repr(enc) == 'NetEncoder("UTF8")'
    assert repr(onehot) == 'NetEncoder(["UTF8", "UnitVector"])'
    assert enc == NetEncoder(["UTF8", "Index"]) == NetEncoder("UTF8", OutputForm="Index")
    assert hash(enc) == hash(NetEncoder(["UTF8"])) and enc != onehot
    with pytest.raises(AttributeError, match="immutable"):
        enc.params = {}
    assert Information(enc) == {"Type": "UTF8", "OutputForm": "Index",
                                "Output": enc.port_type.spec()}
    assert onehot["OutputForm"] == "UnitVector"
    dec = NetDecoder("UTF8")
    assert repr(dec) == 'NetDecoder("UTF8")' and Information(dec, "DecoderProperties") == []
    for c in (enc, onehot, dec):
        assert type(c).from_json(c.to_json()) == c


def test_decoder_round_trips_the_encoder():
    enc = NetEncoder("UTF8")
    dec = NetDecoder(enc)  # WL's NetDecoder[NetEncoder["UTF8"]] is {"UTF8"}
    assert dec == NetDecoder("UTF8") and NetEncoder(dec) == enc
    assert dec.port_type == PortType((VARYING, 248), "Real")
    rng = np.random.default_rng(0)
    for s in WORDS:
        onehot = np.eye(248)[enc(s) - 1]
        probs = onehot * 0.7 + rng.uniform(0, 0.3 / 248, onehot.shape)  # argmax kept
        assert dec(probs) == s
    assert dec(np.eye(248)[[ord("x")]][0]) == "x"  # a single vector: one byte
    seqs = [np.eye(248)[enc(s) - 1] for s in WORDS[:5]]
    assert dec(seqs) == WORDS[:5]                   # a ragged batch
    same = np.stack([seqs[0], seqs[0]])
    assert dec(same) == ["a", "a"]                  # a batch array
    assert dec.loss_hint == "CrossEntropy"
    assert [t.tolist() for t in dec.encode_target(["é", "ab"])] == [by_hand("é"), by_hand("ab")]
    with pytest.raises(CoderError, match="vectors of size 248, but received vectors of size 97"):
        dec(np.eye(97))


def test_decoder_replaces_invalid_byte_sequences():
    dec = NetDecoder("UTF8")
    cases = [[0xC3], [0xC3, 0x41], [0xE2, 0x82], [0x80, 0x61], [0xF5, 0x62], [0xC0, 0xAF],
             [0xED, 0xA0, 0x80], [0xF7, 0xBF, 0xBF, 0xBF], [0x68, 0xC3, 0xA9, 0xFF - 8]]
    for raw in cases:
        got = dec(np.eye(248)[raw])
        assert got == bytes(raw).decode("utf-8", errors="replace")
        assert "\ufffd" in got
    assert dec(np.eye(248)[[0xC3]]) == "\ufffd" and dec(np.eye(248)[[0xC3, 0x41]]) == "\ufffdA"


# -- on ports -----------------------------------------------------------------------------------
def byte_model(**ports):
    """Bytes in, a distribution over bytes at each position out."""
    return NetChain([EmbeddingLayer(6), NetMapOperator(LinearLayer()), SoftmaxLayer()],
                    Input="UTF8", Output="UTF8", **ports)


def test_ports_infer_both_ways():
    net = byte_model()
    assert net.coders == {"Input": NetEncoder("UTF8"), "Output": NetDecoder("UTF8")}
    assert NetExtract(net, (1, "Input")) == PortType((VARYING,), "Integer", (1, 248)).spec()
    init = NetInitialize(net, RandomSeeding=1)
    assert NetExtract(init, (1, "Weights")).shape == (248, 6)     # forwards from the encoder
    assert NetExtract(init, (2, "Net", "Weights")).shape == (248, 6)  # backwards from the decoder
    gru = NetChain([GatedRecurrentLayer(3)], Input=NetEncoder(["UTF8", "UnitVector"]))
    assert NetExtract(gru, (1, "Input")) == PortType((VARYING, 248), "Real").spec()
    with pytest.raises(ShapeError, match='port "Output" is .*, but its UTF8 decoder'):
        NetChain([EmbeddingLayer(6), NetMapOperator(LinearLayer(97)), SoftmaxLayer()],
                 Input="UTF8", Output="UTF8")


def test_a_net_evaluates_strings_batched_as_one_at_a_time():
    net = NetInitialize(byte_model(), RandomSeeding=2)
    words = [w for w in WORDS if w]
    out = net(words)
    assert all(isinstance(o, str) for o in out) and out == [net(w) for w in words]
    raw = net(words, None)
    for w, r in zip(words, raw, strict=True):
        assert np.asarray(r).shape == (len(w.encode("utf-8")), 248)
        np.testing.assert_allclose(np.asarray(r), np.asarray(net(w, None)), rtol=1e-5,
                                   atol=1e-6)
    assert net(words[0]) == NetDecoder("UTF8")(np.asarray(net(words[0], None)))
    with pytest.raises(EvaluationError, match=r'NetChain: port "Input": NetEncoder\("UTF8"\) '
                       r"expects a string, but received 5\."):
        net(5)
    with pytest.raises(EvaluationError, match=r'port "Input": NetEncoder\("UTF8"\) expects a '
                       r'string, but received \["ok", 5\]'):  # neither a string nor strings
        net(["ok", 5])


def test_export_import_and_to_wl_keep_the_coders(tmp_path):
    from netgraph.wl import evaluate, to_wl
    net = NetInitialize(byte_model(), RandomSeeding=3)
    Export(str(tmp_path / "u.netgraph"), net)
    back = Import(str(tmp_path / "u.netgraph"))
    assert back.coders == net.coders and back(WORDS[:5]) == net(WORDS[:5])
    text = to_wl(net)
    assert '"Input" -> NetEncoder["UTF8"]' in text and '"Output" -> NetDecoder["UTF8"]' in text
    assert evaluate(text).coders == net.coders
    onehot = NetChain([GatedRecurrentLayer(3)], Input=NetEncoder(["UTF8", "UnitVector"]))
    assert 'NetEncoder[{"UTF8", "UnitVector"}]' in to_wl(onehot)
    assert evaluate(to_wl(onehot)).coders == onehot.coders
    assert evaluate('NetEncoder["UTF8"]["é"]').tolist() == by_hand("é")
    assert evaluate('NetEncoder[{"UTF8", "UnitVector"}]') == NetEncoder(["UTF8", "UnitVector"])


# -- NetTrain -----------------------------------------------------------------------------------
def strings_and_labels(n, seed=0):
    """Words of 1..8 letters; the label says whether one of them lies outside ASCII."""
    rng = np.random.default_rng(seed)
    plain, accented = "abcdefgh", "éüßçñ€"
    words, labels = [], []
    for _ in range(n):
        k = int(rng.integers(1, 9))
        w = list(rng.choice(list(plain), k))
        label = bool(rng.integers(0, 2))
        if label:
            w[int(rng.integers(0, k))] = str(rng.choice(list(accented)))
        words.append("".join(w))
        labels.append("wide" if label else "ascii")
    return words, labels


def classifier():
    return NetChain([EmbeddingLayer(4), GatedRecurrentLayer(8), SequenceLastLayer(),
                     LinearLayer(2), SoftmaxLayer()],
                    Input="UTF8", Output=NetDecoder(["Class", ["ascii", "wide"]]))


def test_nettrain_learns_through_a_utf8_encoder():
    words, labels = strings_and_labels(240)
    res = NetTrain(classifier(), (words, labels), ["TrainedNet", "RoundLossList"],
                   MaxTrainingRounds=15,
                   BatchSize=24, LearningRate=0.02, TrainingProgressReporting=None,
                   RandomSeeding=1)
    trained, losses = res
    assert losses[-1] < 0.5 * losses[0]
    test_w, test_y = strings_and_labels(80, seed=1)
    assert np.mean(np.array(trained(test_w)) == np.array(test_y)) > 0.9
    assert trained(test_w[:6]) == [trained(w) for w in test_w[:6]]
    assert trained.coders["Input"] == NetEncoder("UTF8")


def test_nettrain_names_a_bad_string_example():
    words, labels = strings_and_labels(10)
    words[4] = None
    with pytest.raises(TrainingError, match=r'port "Input", example 5: NetEncoder\("UTF8"\) '
                       r"expects a string, but received None"):
        NetTrain(classifier(), (words, labels), MaxTrainingRounds=1,
                 TrainingProgressReporting=None)
