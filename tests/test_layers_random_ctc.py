"""RandomArrayLayer (every distribution's moments, seeded draws against hand-written torch, the
function form) and CTCLossLayer (against a brute-force sum over alignments, training)."""
# ruff: noqa: F405
import itertools
import math

import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.layers.ctc import ctc_greedy_decode

RNG = np.random.default_rng(5)
G = math.gamma

# (distribution, mean, variance)
MOMENTS = [
    (NormalDistribution(2, 0.5), 2, 0.25),
    (UniformDistribution((1, 3)), 2, 4 / 12),
    (ExponentialDistribution(2), 0.5, 0.25),
    (GammaDistribution(2, 3), 6, 18),
    (PoissonDistribution(3), 3, 3),
    (BernoulliDistribution(0.3), 0.3, 0.21),
    (BinomialDistribution(10, 0.3), 3, 2.1),
    (NegativeBinomialDistribution(3, 0.4), 4.5, 11.25),
    (DiscreteUniformDistribution((1, 6)), 3.5, 35 / 12),
    (ChiSquareDistribution(4), 4, 8),
    (ChiDistribution(3), math.sqrt(2) * G(2) / G(1.5), 3 - 2 * (G(2) / G(1.5)) ** 2),
    (HalfNormalDistribution(2), 0.5, (math.pi - 2) / 8),
    (RayleighDistribution(2), 2 * math.sqrt(math.pi / 2), (4 - math.pi) / 2 * 4),
    (MaxwellDistribution(1), 2 * math.sqrt(2 / math.pi), (3 * math.pi - 8) / math.pi),
    (WeibullDistribution(2, 1), G(1.5), G(2) - G(1.5) ** 2),
    (NakagamiDistribution(2, 1), G(2.5) / G(2) * math.sqrt(0.5), 1 - (G(2.5) / G(2)) ** 2 / 2),
    (ErlangDistribution(3, 2), 1.5, 0.75),
    (InverseGammaDistribution(4, 3), 1.0, 0.5),
]


@pytest.mark.parametrize("dist,mean,var", MOMENTS, ids=lambda v: getattr(v, "name", ""))
def test_random_array_moments(dist, mean, var):
    torch.manual_seed(0)
    x = RandomArrayLayer(dist, Output=40000)().astype(np.float64)
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / x.size) + 1e-9
    assert x.var() == pytest.approx(var, rel=0.08)


def test_random_array_seeded_draw_matches_torch(tmp_path):
    layer = RandomArrayLayer(NormalDistribution(2, 0.5), Output=(2, 3))
    torch.manual_seed(11)
    got = layer()
    torch.manual_seed(11)
    np.testing.assert_allclose(got, (2 + 0.5 * torch.randn(1, 2, 3))[0].numpy(), rtol=1e-6)
    assert not np.array_equal(layer(), layer())                   # a fresh draw each time
    back = Import(Export(tmp_path / "r.netgraph", layer))
    assert back.params["distribution"] == NormalDistribution(2, 0.5)
    torch.manual_seed(11)
    np.testing.assert_allclose(back(), got)


def test_random_array_function_form_per_element():
    noise = RandomArrayLayer(lambda x: NormalDistribution(x, 0))  # zero spread: exactly x
    layer = RandomArrayLayer(lambda p: BernoulliDistribution(p), Input=4)
    assert noise.input_ports() == ("Input",)
    p = np.array([[0, 1, 1, 0], [1, 1, 0, 0]], np.float32)
    assert np.array_equal(layer(p), p)                            # batch == one at a time
    assert np.array_equal(layer(p[1]), p[1])
    two = RandomArrayLayer(lambda lo, hi: UniformDistribution(lo, hi), lo=3)
    assert two.input_ports() == ("lo", "hi")
    out = two({"lo": [[0, 1, 2]] * 500, "hi": [[1, 2, 2]] * 500})
    assert (out >= [0, 1, 2]).all() and (out <= [1, 2, 2]).all()
    np.testing.assert_allclose(out.mean(0), [0.5, 1.5, 2], atol=0.05)
    net = NetChain([LinearLayer(3), RandomArrayLayer(lambda x: NormalDistribution(x, 0.0))],
                   Input=2)
    net = NetInitialize(net)
    x = RNG.standard_normal((4, 2)).astype(np.float32)
    np.testing.assert_allclose(net(x), NetTake(net, 1)(x), rtol=1e-6)


def test_random_array_errors(tmp_path):
    with pytest.raises(LayerError, match="RandomArrayLayer: expected a distribution such as"):
        RandomArrayLayer(3)
    with pytest.raises(LayerError, match=r"UniformDistribution: expected 2 parameter\(s\)"):
        UniformDistribution(1, 2, 3)
    with pytest.raises(LayerError, match="UniformDistribution: expected finite numbers"):
        UniformDistribution((1, 2), 3)
    with pytest.raises(ShapeError, match='the shape of output port "Output"'):
        RandomArrayLayer(NormalDistribution())()
    bad = RandomArrayLayer(lambda x: x * 2, Input=2)
    with pytest.raises(EvaluationError, match="expected the function to give a distribution"):
        bad([1.0, 2.0])
    with pytest.raises(NetExportError, match="holds Python code"):
        Export(tmp_path / "r.netgraph", RandomArrayLayer(lambda x: NormalDistribution(x, 1),
                                                         Input=2))


# -- CTCLossLayer -------------------------------------------------------------------------------

def ctc_brute_force(p, target):
    """-log of the total probability of every path that collapses to ``target`` (blank last)."""
    t, k = p.shape
    total = 0.0
    for path in itertools.product(range(k), repeat=t):
        merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        if [c + 1 for c in merged if c != k - 1] == list(target):
            total += float(np.prod([p[i, c] for i, c in enumerate(path)]))
    return -math.log(total)


def probs(*shape):
    x = RNG.uniform(0.1, 1, shape)
    return (x / x.sum(-1, keepdims=True)).astype(np.float32)


def test_ctc_matches_brute_force(tmp_path):
    layer = CTCLossLayer(2, Input=(4, 3), Target=2)
    x = probs(5, 4, 3)
    t = np.array([[1, 2], [1, 1], [2, 2], [2, 1], [1, 2]])
    loss = layer({"Input": x, "Target": t})
    np.testing.assert_allclose(loss, [ctc_brute_force(x[i], t[i]) for i in range(5)], rtol=1e-5)
    for i in range(5):
        assert layer({"Input": x[i], "Target": t[i]}) == pytest.approx(loss[i], rel=1e-5)
    back = Import(Export(tmp_path / "ctc.netgraph", layer))
    np.testing.assert_allclose(back({"Input": x, "Target": t}), loss, rtol=1e-6)


def test_ctc_varying_lengths_evaluate_each_example():
    layer = CTCLossLayer(Input=("Varying", 3), Target="Varying")
    xs = [probs(3, 3), probs(5, 3)]
    ts = [np.array([1]), np.array([2, 1, 2])]
    got = layer({"Input": xs, "Target": ts})
    np.testing.assert_allclose(got, [ctc_brute_force(x, t) for x, t in zip(xs, ts, strict=True)],
                               rtol=1e-5)


def test_ctc_trains_a_small_net():
    net = NetGraph({"map": NetMapOperator(LinearLayer(3)), "soft": SoftmaxLayer(),
                    "loss": CTCLossLayer()},
                   [("map", "soft", "loss"), (NetPort("Target"), NetPort("loss", "Target"))],
                   Input=(6, 2), Target=2)
    x = RNG.standard_normal((64, 6, 2)).astype(np.float32)
    t = np.where(x[:, :2, 0] > 0, 1, 2)                       # labels from the first two steps
    res = NetTrain(net, {"Input": x, "Target": t}, All, MaxTrainingRounds=30,
                   TrainingProgressReporting=None, LearningRate=0.05)
    losses = res["RoundLossList"]
    assert losses[-1] < 0.7 * losses[0]


def test_ctc_errors_and_greedy_decoding():
    with pytest.raises(ShapeError, match='CTCLossLayer: port "Target" expects a sequence no '
                                         r"longer than the input \(2\)"):
        CTCLossLayer(Input=(2, 3), Target=3)
    with pytest.raises(ShapeError, match="vectors of size greater than 1"):
        CTCLossLayer(Input=(4, 1))
    with pytest.raises(ShapeError, match='port "Target" expects a sequence of class indices'):
        CTCLossLayer(Target=(2, "Real"))
    with pytest.raises(LayerError, match="CTCLossLayer: expected the class count c"):
        CTCLossLayer(0)
    assert CTCLossLayer(4, Input=("Varying", 5)).in_types["Target"].bound == (1, 4)
    p = [[0.1, 0.8, 0.1], [0.1, 0.8, 0.1], [0.2, 0.1, 0.7], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1]]
    assert ctc_greedy_decode(p) == [2, 2, 1]                      # merge, drop blank, repeat
    assert ctc_greedy_decode(p, ["a", "b"]) == ["b", "b", "a"]
    with pytest.raises(LayerError, match="expected 2 labels"):
        ctc_greedy_decode(p, ["a"])


# -- the "CTCBeamSearch" decoder ----------------------------------------------------------------

def exact_decodings(p):
    """Every label sequence's total probability, by brute force over the alignments."""
    t, k = p.shape
    out = {}
    for path in itertools.product(range(k), repeat=t):
        merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        key = tuple(c for c in merged if c != k - 1)
        out[key] = out.get(key, 0.0) + float(np.prod([p[i, c] for i, c in enumerate(path)]))
    return out


def test_ctc_beam_search_decoder_is_exact_with_a_wide_beam():
    dec = NetDecoder(["CTCBeamSearch", ["x", "y"]], BeamSize=50)
    for _ in range(3):
        p = probs(4, 3).astype(np.float64)
        exact = exact_decodings(p)
        best = max(exact, key=exact.get)
        assert dec(p) == ["xy"[i] for i in best]
        nlls = dec(p, ("TopNegativeLogLikelihoods", 3))
        ranked = sorted(exact.items(), key=lambda kv: -kv[1])[:3]
        assert list(nlls) == [tuple("xy"[i] for i in k) for k, _ in ranked]
        np.testing.assert_allclose(list(nlls.values()), [-math.log(v) for _, v in ranked],
                                   rtol=1e-9)
    assert dec([p, p[:2]], ("TopDecodings", 1))[1] == dec(p[:2], ("TopDecodings", 1))


def test_ctc_beam_search_decoder_on_a_net_output_and_errors():
    dec = NetDecoder(["CTCBeamSearch", "ab"], BeamSize=1)             # greedy
    p = [[0.6, 0.1, 0.3], [0.1, 0.1, 0.8], [0.5, 0.2, 0.3]]
    assert dec(p) == "aa" == "".join(ctc_greedy_decode(p, ["a", "b"]))
    assert dec.port_type.spec() == ("Varying", 3)
    assert dec(p, "Properties")[0] == "Decoding"
    assert NetDecoder.from_json(dec.to_json()) == dec
    with pytest.raises(OptionError, match='"CTCBeamSearch" expects "BeamSize" to be a positive'):
        NetDecoder(["CTCBeamSearch", "ab"], BeamSize=0)
    with pytest.raises(OptionError, match='"CTCBeamSearch" expects the alphabet'):
        NetDecoder(["CTCBeamSearch", []])
    with pytest.raises(OptionError, match='property "TopDecodings" expects a positive integer'):
        dec(p, ("TopDecodings", 0))
    with pytest.raises(NetGraphError, match="should be a sequence of vectors of size 3"):
        dec([[0.5, 0.5], [0.5, 0.5]])


def test_random_array_from_wl_text():
    from netgraph.wl import evaluate, to_wl
    layer = evaluate('RandomArrayLayer[UniformDistribution[{0, 2}], "Output" -> 3]')
    assert layer.params["distribution"] == UniformDistribution((0, 2))
    assert to_wl(layer).startswith("RandomArrayLayer[UniformDistribution[{0., 2.}]")
    assert evaluate(to_wl(layer)).params == layer.params


def test_random_array_seeded_at_evaluation():
    layer = RandomArrayLayer(NormalDistribution(), Output=3)
    np.testing.assert_array_equal(layer(RandomSeeding=1), layer(RandomSeeding=1))
    assert not np.array_equal(layer(RandomSeeding=1), layer(RandomSeeding=2))
