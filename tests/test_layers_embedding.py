"""EmbeddingLayer and AttentionLayer against hand-written torch."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower

RNG = np.random.default_rng(2)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def T(a):
    return torch.tensor(np.asarray(a))


# -- EmbeddingLayer -------------------------------------------------------------------------

def test_embedding_matches_torch_on_sequences():
    net = NetInitialize(EmbeddingLayer(3, 5, Input="Varying"))
    w = NetExtract(net, "Weights")
    assert w.shape == (5, 3)
    x = [1, 5, 2, 2]
    np.testing.assert_allclose(net(x), F.embedding(T(x) - 1, T(w)).numpy())
    seqs = [[1, 2, 3], [4, 5], [5, 4, 3]]
    for s, o in zip(seqs, net(seqs), strict=True):
        np.testing.assert_allclose(o, net(s), rtol=1e-6)
    batch = net(np.array([[1, 2], [3, 4]]))
    np.testing.assert_allclose(batch[1], net([3, 4]), rtol=1e-6)


def test_embedding_scalar_and_array_inputs():
    w = rand(4, 2)
    net = EmbeddingLayer(2, 4, Weights=w, Input="Integer")
    np.testing.assert_allclose(net(3), w[2])
    np.testing.assert_allclose(net([1, 4]), w[[0, 3]])          # a batch of two integers
    net = EmbeddingLayer(2, Weights=w, Input=(2, 3))
    x = np.array([[1, 2, 3], [4, 3, 2]])
    np.testing.assert_allclose(net(x), w[x - 1])
    assert Information(net, "InputPorts") == {"Input": (2, 3, Restricted("Integer", 4))}


def test_embedding_infers_n_from_a_restricted_input():
    net = EmbeddingLayer(4, Input=("Varying", Restricted("Integer", 7)))
    assert net.array_specs()["Weights"].shape == (7, 4)
    chain = NetInitialize(NetChain([EmbeddingLayer(4), LongShortTermMemoryLayer(3),
                                    SequenceLastLayer(), LinearLayer(2)],
                                   Input=("Varying", Restricted("Integer", 7))))
    assert NetExtract(chain, (1, "Weights")).shape == (7, 4)
    seqs = [[1, 2, 7], [3, 3], [6, 5, 4]]
    out = chain(seqs)
    for s, o in zip(seqs, out, strict=True):
        np.testing.assert_allclose(o, chain(s), rtol=1e-5, atol=1e-6)


def test_embedding_infers_input_from_output():
    net = EmbeddingLayer(4, 10, Output=("Varying", 4))
    assert Information(net, "InputPorts") == {"Input": ("Varying", Restricted("Integer", 10))}
    assert repr(net).startswith("EmbeddingLayer(4, 10)")


@pytest.mark.parametrize("make, match", [
    (lambda: EmbeddingLayer(3, 5, Input=Restricted("Integer", 7)),
     'port "Input" expects integers between 1 and 5, but received an integer between 1 and 7'),
    (lambda: EmbeddingLayer(3, Input="Real"),
     'port "Input" expects integers between 1 and n, but received a real number'),
    (lambda: EmbeddingLayer(3, 5, Output=(2, 4)),
     'port "Output" expects an array of vectors of size 3, but received a 2.4 matrix'),
])
def test_embedding_shape_errors(make, match):
    with pytest.raises(ShapeError, match="EmbeddingLayer: " + match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: EmbeddingLayer(0), "expected the embedding size to be a positive integer"),
    (lambda: EmbeddingLayer(3, 2.5), "expected the number of integers n to be a positive"),
    (lambda: EmbeddingLayer(3, 5, Weights=np.zeros((4, 3))),
     r'expected "Weights" of dimensions \{5, 3\}, but received an array of dimensions \[4, 3\]'),
])
def test_embedding_parameter_errors(make, match):
    with pytest.raises(LayerError, match="EmbeddingLayer: " + match):
        make()


def test_embedding_out_of_range_input():
    net = NetInitialize(EmbeddingLayer(2, 3, Input="Varying"))
    with pytest.raises(EvaluationError, match='EmbeddingLayer: port "Input" expects integers '
                       "between 1 and 3, but received 4"):
        net([1, 4])
    with pytest.raises(EvaluationError, match="but received 0"):
        net([0, 1])


# -- AttentionLayer -------------------------------------------------------------------------

def attention_ref(key, value, query, w=None, causal=False, window=None, rescale=None):
    """One example, computed query by query as WL's definition reads."""
    k = T(key).reshape(-1, key.shape[-1])
    v = T(value).reshape(-1, value.shape[-1])
    qs = T(query).reshape(-1, query.shape[-1])
    outs = []
    for i, q in enumerate(qs):
        keys = k if w is None else k @ T(w).T               # bilinear: q . (W . k_j)
        s = keys @ q                                        # (n,)
        if causal:
            lo = 0 if window is None else max(0, i - window + 1)
            visible = torch.zeros_like(s, dtype=torch.bool)
            visible[lo:i + 1] = True
        else:
            visible = torch.ones_like(s, dtype=torch.bool)
        if rescale == "DimensionSqrt":
            s = s / math.sqrt(key.shape[-1])
        elif rescale == "LengthSqrt":
            s = s / math.sqrt(int(visible.sum()))
        s = s.masked_fill(~visible, -math.inf)
        outs.append(torch.softmax(s, 0) @ v)
    out = torch.stack(outs)
    return out.reshape(*query.shape[:-1], value.shape[-1]).numpy()


def feeds(*shapes):
    return dict(zip(("Key", "Value", "Query"), (rand(*s) for s in shapes), strict=True))


def test_attention_dot_with_one_query_vector():
    net = AttentionLayer("Dot", Key=("Varying", 3), Value=("Varying", 5), Query=3)
    assert net.is_initialized() and net.array_specs() == {}
    f = feeds((4, 3), (4, 5), (3,))
    np.testing.assert_allclose(net(f), attention_ref(f["Key"], f["Value"], f["Query"]),
                               rtol=1e-5, atol=1e-6)


def test_attention_bilinear_with_query_sequence_and_batches():
    net = NetInitialize(AttentionLayer(Key=("Varying", 3), Value=("Varying", 2),
                                       Query=("Varying", 4)))
    w = NetExtract(net, "Weights")
    assert w.shape == (4, 3)
    f = feeds((5, 3), (5, 2), (3, 4))
    np.testing.assert_allclose(net(f), attention_ref(f["Key"], f["Value"], f["Query"], w),
                               rtol=1e-5, atol=1e-6)
    examples = [feeds((5, 3), (5, 2), (3, 4)), feeds((2, 3), (2, 2), (3, 4)),
                feeds((5, 3), (5, 2), (1, 4))]
    batch = net({p: [e[p] for e in examples] for p in ("Key", "Value", "Query")})
    for e, o in zip(examples, batch, strict=True):
        np.testing.assert_allclose(o, net(e), rtol=1e-5, atol=1e-6)
    same = [feeds((5, 3), (5, 2), (3, 4)) for _ in range(3)]
    batch = net({p: np.stack([e[p] for e in same]) for p in ("Key", "Value", "Query")})
    for e, o in zip(same, batch, strict=True):
        np.testing.assert_allclose(o, net(e), rtol=1e-5, atol=1e-6)


def test_attention_multidimensional_keys_and_queries():
    w = rand(4, 3)
    net = AttentionLayer(Weights=w, Key=(2, 3, 3), Value=(2, 3, 5), Query=(2, 2, 4),
                         ScoreRescaling="LengthSqrt")
    assert Information(net, "OutputPorts") == {"Output": (2, 2, 5)}
    f = feeds((2, 3, 3), (2, 3, 5), (2, 2, 4))
    want = attention_ref(f["Key"], f["Value"], f["Query"], w, rescale="LengthSqrt")
    np.testing.assert_allclose(net(f), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mask, window", [("Causal", None), (("Causal", 2), 2)])
@pytest.mark.parametrize("rescale", [None, "DimensionSqrt", "LengthSqrt"])
def test_attention_causal_masks(mask, window, rescale):
    net = AttentionLayer("Dot", Mask=mask, ScoreRescaling=rescale, Key=("Varying", 3),
                         Value=("Varying", 2))
    assert Information(net, "InputPorts")["Query"] == ("Varying", 3)
    f = feeds((5, 3), (5, 2), (5, 3))
    want = attention_ref(f["Key"], f["Value"], f["Query"], causal=True, window=window,
                         rescale=rescale)
    np.testing.assert_allclose(net(f), want, rtol=1e-5, atol=1e-6)


def test_attention_dropout_only_in_training():
    net = NetInitialize(AttentionLayer("Dot", Dropout=0.5, Key=(6, 3), Value=(6, 2), Query=3))
    f = feeds((6, 3), (6, 2), (3,))
    np.testing.assert_allclose(net(f), attention_ref(f["Key"], f["Value"], f["Query"]),
                               rtol=1e-5, atol=1e-6)
    m = lower(net).train()
    torch.manual_seed(0)
    got = m(**{p: T(v)[None] for p, v in f.items()})["Output"][0]
    torch.manual_seed(0)
    s = torch.softmax(T(f["Key"]) @ T(f["Query"]), 0)
    want = F.dropout(s[None], 0.5, training=True)[0] @ T(f["Value"])
    np.testing.assert_allclose(got.detach().numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_attention_infers_backwards_and_repr():
    net = AttentionLayer("Dot", Output=("Varying", 5), Key=(7, 3))
    assert Information(net, "InputPorts") == {"Key": (7, 3), "Value": (7, 5),
                                              "Query": ("Varying", 3)}
    net = AttentionLayer(Weights=rand(4, 3), Key=("Varying", Automatic),
                         Value=("Varying", 2), Query=(2, Automatic))
    assert Information(net, "InputPorts") == {"Key": ("Varying", 3), "Value": ("Varying", 2),
                                              "Query": (2, 4)}
    assert repr(AttentionLayer("Dot", Mask="Causal")).startswith(
        'AttentionLayer("Dot", Mask="Causal")')


@pytest.mark.parametrize("make, match", [
    (lambda: AttentionLayer("Dot", Key=3),
     r'port "Key" expects an array of vectors \(rank at least 2\), but received a vector'),
    (lambda: AttentionLayer("Dot", Key=(3, 3), Query=4),
     'port "Query" expects vectors of size 3, but received a vector of size 4'),
    (lambda: AttentionLayer(Key=(3, 3), Value=(4, 5)),
     r'port "Value" expects leading dimensions \{3\}, but received a 4.5 matrix'),
    (lambda: AttentionLayer(Key=(2, 3, 3), Value=(2, 5)),
     r'port "Value" expects 2 leading dimensions \(as its companion port\)'),
    (lambda: AttentionLayer(Mask="Causal", Key=(3, 3), Query=(4, 3)),
     r'port "Query" expects leading dimensions \{3\}, but received a 4.3 matrix'),
    (lambda: AttentionLayer(Mask="Causal", Key=(2, 3, 3)),
     r'port "Key" expects a sequence of vectors \(with a causal mask\)'),
    (lambda: AttentionLayer(Weights=rand(4, 3), Key=(5, 2)),
     'port "Key" expects vectors of size 3, but received a 5.2 matrix'),
])
def test_attention_shape_errors(make, match):
    with pytest.raises(ShapeError, match="AttentionLayer: " + match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: AttentionLayer("Additive"),
     'expected the scoring net to be "Bilinear" or "Dot"'),
    (lambda: AttentionLayer(Mask="Caus"), 'expected Mask to be None, "Causal" or'),
    (lambda: AttentionLayer(Mask=("Causal", 0)), "expected the causal window n to be a positive"),
    (lambda: AttentionLayer(ScoreRescaling="Sqrt"), "expected ScoreRescaling to be None"),
    (lambda: AttentionLayer(Dropout=1), "expected Dropout to be a probability"),
    (lambda: AttentionLayer(MultiHead=True), 'the option "MultiHead" -> True is not supported yet'),
    (lambda: AttentionLayer("Dot", Weights=rand(3, 3)), 'expected "Weights" only with'),
])
def test_attention_parameter_errors(make, match):
    with pytest.raises(LayerError, match="AttentionLayer: " + match):
        make()
