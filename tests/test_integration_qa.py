"""Where the parts meet: programs ported from WL's documentation, run as a new user would
(coders on ports with evaluation properties, port gradients, WL text, files)."""
import numpy as np
import pytest
from PIL import Image

from netgraph import (
    FlattenLayer,
    LinearLayer,
    NetChain,
    NetDecoder,
    NetEncoder,
    NetInitialize,
    NetPortGradient,
    SoftmaxLayer,
    Tanh,
    wl,
)
from netgraph.errors import EvaluationError


def _classifier(labels=tuple(range(10)), last=None):
    return NetInitialize(NetChain(
        [FlattenLayer(), LinearLayer(len(labels)), last or SoftmaxLayer()],
        Input=NetEncoder(["Image", [4, 4], "Grayscale"]),
        Output=NetDecoder(["Class", list(labels)])))


def _image(seed=0):
    a = np.random.default_rng(seed).integers(0, 256, (4, 4)).astype(np.uint8)
    return Image.fromarray(a)


def test_top_probabilities_as_a_list_is_one_property():
    # WL: net[img, {"TopProbabilities", 2}]; the contract spells it as a list or a tuple
    net = _classifier()
    as_list = net(_image(), ["TopProbabilities", 2])
    assert as_list == net(_image(), ("TopProbabilities", 2))
    assert len(as_list) == 2 and as_list[0][1] >= as_list[1][1]
    probs = net(_image(), "Probabilities")
    assert as_list[0] == max(probs.items(), key=lambda kv: kv[1])
    # several ports or properties in a list still give a dict
    assert net(_image(), ["Output"]) == {"Output": net(_image())}


def test_port_gradient_through_an_image_encoder():
    # WL: net[img, NetPortGradient["Input"]] is the gradient at the encoded input (of the
    # outputs' sum: not after a softmax, whose sum is constant)
    net = _classifier(last=Tanh)
    img = _image()
    g = net(img, NetPortGradient("Input"))
    x = NetEncoder(["Image", [4, 4], "Grayscale"])(img)
    assert g.shape == x.shape == (1, 4, 4)
    assert np.abs(g).max() > 1e-3
    assert np.allclose(g, net(x, NetPortGradient("Input")))
    batch = net([img, _image(1)], NetPortGradient("Input"))
    assert batch.shape == (2, 1, 4, 4) and np.allclose(batch[0], g)
    # an output asked for beside a gradient is decoded, as net(x) decodes it
    both = net([img, _image(1)], ["Output", NetPortGradient("Input")])
    assert both["Output"] == net([img, _image(1)]) and np.allclose(
        both[NetPortGradient("Input")], batch)
    assert net(img, ["Output", NetPortGradient("Input")])["Output"] == net(img)


def test_to_wl_writes_every_class_label():
    # a decoder's display shortens long label lists with '...'; the WL text must not
    net = _classifier("abcdefghij")
    text = wl.to_wl(net)
    assert '{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}' in text
    back = wl.evaluate(text)
    assert list(back.coders["Output"].labels) == list("abcdefghij")
    assert repr(back) == repr(NetChain(
        [FlattenLayer(), LinearLayer(10), SoftmaxLayer()],
        Input=NetEncoder(["Image", [4, 4], "Grayscale"]),
        Output=NetDecoder(["Class", list("abcdefghij")])))


def test_wl_random_data_from_distributions():
    # WL docs build data with RandomReal[NormalDistribution[mu, sigma], dims]
    m = wl.evaluate("SeedRandom[3]; x = RandomReal[NormalDistribution[2, 0.5], {4000, 2}]; "
                    "{Mean[x], Dimensions[x]}")
    assert np.allclose(m[0], [2, 2], atol=0.05) and list(m[1]) == [4000, 2]
    u = wl.evaluate("SeedRandom[3]; RandomVariate[UniformDistribution[{2, 3}], 1000]")
    assert u.shape == (1000,) and 2 <= u.min() and u.max() <= 3
    assert isinstance(wl.evaluate("RandomVariate[NormalDistribution[]]"), float)
    with pytest.raises(wl.WLEvaluationError, match=r"RandomVariate: expected NormalDistribution"
                       r".*received \{1, 2\} \(at line 1, column 1\)"):
        wl.evaluate("RandomVariate[{1, 2}]")


def test_wl_builtin_failures_are_positioned():
    # a bad argument to a builtin is a WL error with its position, never a bare TypeError
    with pytest.raises(wl.WLEvaluationError, match=r"RandomReal.*at line 2, column 1"):
        wl.evaluate('x = 1;\nRandomReal[{1, 2, 3}, 3]')
    with pytest.raises(wl.WLEvaluationError, match=r"RandomReal: .*not a list.*at line 1"):
        wl.evaluate('RandomReal[{1, 2}, "x"]')


def test_wl_property_rules_at_evaluation():
    # WL: net[x, "TopProbabilities" -> 2], net[x, "Output" -> "Probabilities"],
    # dec[p, "TopProbabilities" -> 1]: a rule with a string name is a property there
    env = {}
    wl.evaluate('net = NetInitialize@NetChain[{LinearLayer[3], SoftmaxLayer[]}, "Input" -> 2, '
                '"Output" -> NetDecoder[{"Class", {"a", "b", "c"}}]];', env)
    net = env["net"]
    top = wl.evaluate('net[{1, 2}, "TopProbabilities" -> 2]', env)
    assert top == net([1, 2], ("TopProbabilities", 2)) and len(top) == 2
    assert wl.evaluate('net[{1, 2}, "Output" -> "Probabilities"]', env) == \
        net([1, 2], "Probabilities")
    assert wl.evaluate('net[{1, 2}, {"TopProbabilities", 2}]', env) == top
    assert wl.evaluate('NetDecoder[{"Class", {"a", "b"}}][{0.3, 0.7}, '
                       '"TopProbabilities" -> 1]') == [("b", 0.7)]
    # symbol options still are options
    assert wl.evaluate('net[{1, 2}, TargetDevice -> "CPU"]', env) == net([1, 2])


def test_a_raw_example_of_the_wrong_size_is_reported_as_given():
    # a net with a decoder: the error names the dimensions the user gave, not {1, n}
    net = NetInitialize(NetChain([LinearLayer(3), SoftmaxLayer()], Input=2,
                                 Output=NetDecoder(["Class", ["a", "b", "c"]])))
    with pytest.raises(EvaluationError, match=r'port "Input" expects a vector of size 2 .*'
                       r"received an array of dimensions \{3\}\."):
        net([1, 2, 3])
    assert net([[1, 2], [3, 4]]) == [net([1, 2]), net([3, 4])]


def test_wl_script_prints_coders_as_wl(tmp_path, capsys):
    # python -m netgraph.wl prints values as a notebook would: coders in WL's form
    from netgraph.wl.__main__ import main
    script = tmp_path / "s.wl"
    script.write_text('net = NetChain[{LinearLayer[3], SoftmaxLayer[]}, "Input" -> 2, '
                      '"Output" -> NetDecoder[{"Class", Range[0, 9][[;; 3]]}]];\n'
                      'Information[net, "OutputPorts"]\n')
    assert main([str(script)]) == 0
    assert capsys.readouterr().out == \
        '<|"Output" -> NetDecoder[{"Class", {0, 1, 2}}]|>\n'


def test_wl_net_replace_part_with_a_coder_rule():
    # WL: NetReplacePart[net, "Output" -> NetDecoder[...]] (a rule, not an option)
    net = wl.evaluate('NetReplacePart[NetChain[{LinearLayer[3], SoftmaxLayer[]}, "Input" -> 2], '
                      '"Output" -> NetDecoder[{"Class", {"x", "y", "z"}}]]')
    assert list(net.coders["Output"].labels) == ["x", "y", "z"]
    again = wl.evaluate('NetReplacePart[net, {"Output" -> None}]', {"net": net})
    assert not again.coders


def test_net_state_object_on_a_net_with_coders():
    # NetStateObject takes what the net takes (strings through the encoder) and answers
    # with labels, carrying the recurrent state between calls
    from netgraph import EmbeddingLayer, LongShortTermMemoryLayer, NetStateObject, SequenceLastLayer
    enc = NetEncoder(["Characters", "abc"])
    net = NetInitialize(NetChain(
        [EmbeddingLayer(4), LongShortTermMemoryLayer(4), SequenceLastLayer(), LinearLayer(2),
         SoftmaxLayer()], Input=enc, Output=NetDecoder(["Class", ["x", "y"]])))
    text, raw = NetStateObject(net), NetStateObject(net)
    assert text("abc") == net("abc") and text("abc") in ("x", "y")
    assert raw(enc("abc")) == net("abc")
    raw(enc("abc"))
    for k, v in text.states().items():
        assert np.allclose(v, raw.states()[k]) and np.abs(v).max() > 0
    text.reset()
    assert text("abc") == net("abc")


def test_all_states_on_a_net_with_coders():
    # net(x, ["Output", NetPort(All, "States")]) with a string input and a decoded output;
    # feeding the states back continues as NetStateObject does
    from netgraph import (
        All,
        EmbeddingLayer,
        LongShortTermMemoryLayer,
        NetPort,
        NetStateObject,
        SequenceLastLayer,
    )
    net = NetInitialize(NetChain(
        [EmbeddingLayer(4), LongShortTermMemoryLayer(4), SequenceLastLayer(), LinearLayer(2),
         SoftmaxLayer()], Input=NetEncoder(["Characters", "abc"]),
        Output=NetDecoder(["Class", ["x", "y"]])))
    first = net("abc", ["Output", NetPort(All, "States")])
    assert first["Output"] == net("abc")
    sobj = NetStateObject(net)
    sobj("abc")
    states = first[NetPort(All, "States")]
    for k, v in sobj.states().items():
        assert np.allclose(states[k], v)
    assert net({"Input": "abc", NetPort(All, "States"): states}, "Output") == sobj("abc")


def test_wl_generator_returning_rules_with_labels():
    # WL: NetTrain[net, Function[{x1 -> "pos", ...}], ...]: the generator's rules are examples
    env = {"net": NetChain([LinearLayer(2), SoftmaxLayer()], Input=2,
                           Output=NetDecoder(["Class", ["neg", "pos"]]))}
    t = wl.evaluate(
        'SeedRandom[1]; gen = Function[Table[With[{x = RandomReal[{-1, 1}, 2]}, '
        'x -> If[Total[x] > 0, "pos", "neg"]], #BatchSize]];\n'
        't = NetTrain[net, gen, BatchSize -> 16, MaxTrainingRounds -> 30, '
        'TrainingProgressReporting -> None, RandomSeeding -> 1, '
        'Method -> {"ADAM", "LearningRate" -> 0.1}]; '
        '{t[{1, 1}], t[{-1, -1}]}', env)
    assert t == ["pos", "neg"]
    # inside WL the function's value stays WL (rules)
    assert wl.evaluate('Keys[gen[<|"BatchSize" -> 2|>]]', env) is not None
