"""Coders attached to ports: construction, surgery, display, evaluation and NetTrain."""
import numpy as np
import pytest
import torch

from netgraph import (
    Information,
    LinearLayer,
    LogisticSigmoid,
    NetAppend,
    NetChain,
    NetDecoder,
    NetEncoder,
    NetExtract,
    NetGraph,
    NetInitialize,
    NetPort,
    NetPrepend,
    NetReplacePart,
    NetTrain,
    SoftmaxLayer,
    Tanh,
)
from netgraph.errors import EvaluationError, ShapeError, TrainingError
from netgraph.train.losses import automatic_loss

LABELS = ["a", "b", "c"]


def classifier(**ports):
    ports = {"Input": 2, "Output": NetDecoder(["Class", LABELS]), **ports}
    return NetInitialize(NetChain([LinearLayer(3), SoftmaxLayer()], **ports), RandomSeeding=3)


def probs(net, x):
    """The softmax output by hand: W x + b, then softmax (torch)."""
    w, b = NetExtract(net, (1, "Weights")), NetExtract(net, (1, "Biases"))
    return torch.softmax(torch.tensor(np.asarray(x, np.float32) @ w.T + b), -1).numpy()


# -- attaching --------------------------------------------------------------------------------
def test_a_decoder_fixes_the_output_size_through_inference():
    net = NetChain([LinearLayer(), SoftmaxLayer()], Input=2,
                   Output=NetDecoder(["Class", LABELS]))
    assert Information(net, "OutputPorts") == {"Output": NetDecoder(["Class", LABELS])}
    assert NetExtract(net, (1, "Output")) == 3      # LinearLayer() got its size backwards


def test_an_encoder_fixes_the_input_and_a_name_attaches_one():
    net = NetChain([LinearLayer(3)], Input=NetEncoder(["Class", LABELS, "UnitVector"]))
    assert NetExtract(net, (1, "Input")) == 3
    g = NetGraph([LinearLayer(Output="Real"), LogisticSigmoid], [(1, 2)], Input=2,
                 Output="Boolean")
    assert g.coders["Output"] == NetDecoder("Boolean")
    assert NetExtract(net, "Input") == NetEncoder(["Class", LABELS, "UnitVector"])


def test_a_decoder_on_a_port_of_another_shape_is_refused_naming_the_port():
    with pytest.raises(ShapeError, match='NetChain: port "Output" is a vector of size 4, but '
                       'its Class decoder'):
        NetChain([LinearLayer(4), SoftmaxLayer()], Input=2, Output=NetDecoder(["Class", LABELS]))
    with pytest.raises(ShapeError, match='LinearLayer: port "Output" is a vector of size 2'):
        LinearLayer(2, Output=NetDecoder(["Class", LABELS]))


def test_a_coder_on_the_wrong_side_is_refused():
    with pytest.raises(Exception, match='input port "Input" takes a NetEncoder'):
        NetChain([LinearLayer(3)], Input=NetDecoder(["Class", LABELS]))


def test_a_layer_takes_coders_and_a_chain_inherits_them_at_its_ends():
    soft = SoftmaxLayer(Output=NetDecoder(["Class", LABELS]))
    assert soft.coders["Output"] == NetDecoder(["Class", LABELS])
    chain = NetChain([LinearLayer(3), soft], Input=2)
    assert chain.coders["Output"] == NetDecoder(["Class", LABELS])


def test_replace_part_attaches_and_removes_coders():
    net = classifier()
    bare = NetReplacePart(net, ("Output", None))
    assert dict(bare.coders) == {}
    assert isinstance(bare([1.0, 2.0]), np.ndarray)
    again = NetReplacePart(bare, ("Output", NetDecoder(["Class", ["x", "y", "z"]])))
    assert again([1.0, 2.0]) in ("x", "y", "z")
    enc = NetReplacePart(LinearLayer(3), ("Input", NetEncoder(["Class", LABELS, "UnitVector"])))
    assert enc.in_types["Input"].dims == (3,)


def test_append_and_prepend_drop_the_coder_at_the_end_they_extend():
    enc = NetEncoder(["Class", ["x", "y"], "UnitVector"])
    net = classifier(Input=enc)
    assert set(NetAppend(net, LinearLayer(2)).coders) == {"Input"}
    assert set(NetPrepend(NetChain([LinearLayer(3), SoftmaxLayer()], Input=3,
                                   Output=NetDecoder(["Class", LABELS])),
                          LinearLayer(3)).coders) == {"Output"}


def test_repr_and_summary_show_the_coders():
    net = classifier()
    assert 'Output  "Output"  3  NetDecoder(["Class", ["a", "b", "c"]])' in repr(net)
    soft = SoftmaxLayer(Input=3, Output=NetDecoder(["Class", LABELS]))
    assert 'NetDecoder(["Class"' in repr(soft)
    fig = Information(net, "SummaryGraphic")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any('NetDecoder(["Class"' in t for t in texts)


# -- evaluation ----------------------------------------------------------------------------------
def test_evaluation_decodes_labels_and_properties():
    net = classifier()
    x = [[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0]]
    p = probs(net, x)
    assert net(x[0]) == LABELS[int(np.argmax(p[0]))]
    assert net(x) == [LABELS[i] for i in np.argmax(p, 1)]
    assert net(x) == [net(e) for e in x]                       # batch = one at a time
    got = net(x[0], "Probabilities")
    assert list(got) == LABELS
    np.testing.assert_allclose(list(got.values()), p[0], rtol=1e-5)
    top = net(x[0], ("TopDecisions", 2))
    assert top == [LABELS[i] for i in np.argsort(-p[0])[:2]]
    np.testing.assert_allclose(net(x, None), p, rtol=1e-5)     # None: no decoding
    assert net(x[1], ("Output", "Probabilities")) == net(x[1], "Probabilities")
    assert net(x[1], (NetPort("Output"), "Decision")) == net(x[1])
    assert net(x[1], {"Output": "Decision"}) == {"Output": net(x[1])}


def test_encoded_inputs_and_their_bypass():
    enc = NetEncoder(["Class", ["x", "y"], "UnitVector"])
    net = classifier(Input=enc)
    assert net("y") == net([0.0, 1.0])                         # an encoded array bypasses
    assert net(["x", "y"]) == [net("x"), net("y")]


def test_multi_output_nets_select_a_ports_property():
    g = NetInitialize(NetGraph({"lin": LinearLayer(3), "soft": SoftmaxLayer(), "raw": Tanh},
                               [("lin", "soft", NetPort("Class")), ("lin", "raw", NetPort("Raw"))],
                               Input=2, Class=NetDecoder(["Class", LABELS])), RandomSeeding=1)
    out = g([1.0, 2.0])
    assert out["Class"] in LABELS and out["Raw"].shape == (3,)
    assert set(g([1.0, 2.0], ("Class", "Probabilities"))) == set(LABELS)
    with pytest.raises(EvaluationError, match="neither an output port nor a property"):
        g([1.0, 2.0], "Probabilities")
    with pytest.raises(EvaluationError, match='output port "Raw" has no decoder'):
        g([1.0, 2.0], ("Raw", "Probabilities"))


def test_bad_labels_at_evaluation_name_the_port_and_example():
    net = classifier(Input=NetEncoder(["Class", ["x", "y"], "UnitVector"]))
    with pytest.raises(EvaluationError, match=r'NetChain: port "Input", example 2: "q" is not '
                       r'one of \["x", "y"\]'):
        net(["x", "q"])


# -- NetTrain -----------------------------------------------------------------------------------
def blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 2)) * 0.3 + np.array([[0, 2], [2, 0], [-2, -2]])[y]
    return x, [LABELS[i] for i in y]


def test_nettrain_on_labels_encodes_targets_through_the_decoder():
    x, y = blobs()
    net = classifier()
    for data in ((list(x), y), list(zip(map(tuple, x), y, strict=True)), {"Input": x, "Output": y}):
        trained = NetTrain(net, data, MaxTrainingRounds=40, TrainingProgressReporting=None,
                           LearningRate=0.05, RandomSeeding=1)
        assert np.mean(np.array(trained(x)) == np.array(y)) > 0.9
        assert trained.coders == net.coders
    res = NetTrain(net, (list(x), y), "$TrainingGenerator", MaxTrainingRounds=1,
                   TrainingProgressReporting=None, BatchSize=16)
    gen, _ = res
    batch = gen(1)
    assert batch["Output"].dtype.kind == "i" and set(np.unique(batch["Output"])) <= {1, 2, 3}


def test_nettrain_generator_batches_are_encoded_too():
    x, y = blobs()

    def gen(info):
        i = np.random.default_rng(info["AbsoluteBatch"]).integers(0, len(y), info["BatchSize"])
        return {"Input": x[i], "Output": [y[j] for j in i]}
    trained = NetTrain(classifier(), gen, MaxTrainingRounds=60, BatchSize=32,
                       LearningRate=0.05, TrainingProgressReporting=None, RandomSeeding=2)
    assert np.mean(np.array(trained(x)) == np.array(y)) > 0.9


def test_the_automatic_loss_follows_the_decoder():
    # no sigmoid before the output: the "Boolean" decoder alone asks for binary cross-entropy
    boolean = NetChain([LinearLayer(Output="Real")], Input=2, Output=NetDecoder("Boolean"))
    assert automatic_loss(boolean, "Output", None).params["form"] == "Binary"
    assert automatic_loss(NetChain([LinearLayer(Output="Real")], Input=2), "Output",
                          None).head == "MeanSquaredLossLayer"
    ce = automatic_loss(classifier(), "Output", None)
    assert (ce.head, ce.params["form"]) == ("CrossEntropyLossLayer", "Index")


def test_nettrain_on_booleans():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = [bool(v) for v in x[:, 0] > x[:, 1]]
    net = NetChain([LinearLayer(Output="Real"), LogisticSigmoid], Input=2, Output="Boolean")
    trained = NetTrain(net, (list(x), y), MaxTrainingRounds=60, TrainingProgressReporting=None,
                           LearningRate=0.05,                       RandomSeeding=1)
    assert np.mean(np.array(trained(x)) == np.array(y)) > 0.9
    p = trained(x[:3], "Probability")
    assert all(0 <= v <= 1 for v in p)


def test_a_bad_target_label_names_the_port_example_and_nearest_class():
    x, y = blobs(10)
    y[6] = "bb"
    with pytest.raises(TrainingError, match=r'NetTrain: port "Output", example 7: "bb" is not '
                       r'one of \["a", "b", "c"\]\. Did you mean "b"\?'):
        NetTrain(classifier(), (list(x), y), MaxTrainingRounds=1, TrainingProgressReporting=None)


# -- Export and Import -------------------------------------------------------------------------
def test_export_import_keeps_coders(tmp_path):
    from netgraph import Export, Import
    net = classifier(Input=NetEncoder(["Class", ["x", "y"], "UnitVector"]))
    Export(str(tmp_path / "n.netgraph"), net)
    back = Import(str(tmp_path / "n.netgraph"))
    assert back.coders == net.coders and back(["x", "y"]) == net(["x", "y"])
    layer = SoftmaxLayer(Input=3, Output=NetDecoder(["Class", LABELS]))
    Export(str(tmp_path / "l.netgraph"), layer)
    assert Import(str(tmp_path / "l.netgraph")).coders == layer.coders


def test_export_refuses_a_function_coder_and_writes_nothing(tmp_path):
    from netgraph import Export
    from netgraph.errors import NetExportError
    enc = NetEncoder(["Function", lambda x: [float(x), 1.0], [2]])
    net = classifier(Input=enc)
    with pytest.raises(NetExportError, match='port "Input" has a "Function" coder'):
        Export(str(tmp_path / "f.netgraph"), net)
    assert not (tmp_path / "f.netgraph").exists()


def test_onnx_export_holds_the_numeric_net_and_notes_the_coders(tmp_path):
    import json

    import onnx
    import onnxruntime as ort

    from netgraph import Export
    net = classifier()
    Export(str(tmp_path / "n.onnx"), net)
    model = onnx.load(str(tmp_path / "n.onnx"))
    notes = {e.key: e.value for e in model.metadata_props}
    assert json.loads(notes["netgraph.coders"])["Output"]["Type"] == "Class"
    x = np.array([[1.0, 2.0]], np.float32)
    (y,) = ort.InferenceSession(str(tmp_path / "n.onnx")).run(None, {"Input": x})
    np.testing.assert_allclose(y[0], net(x[0], None), rtol=1e-5)


# -- encoding while round 1 trains -------------------------------------------------------------
def images_and_labels(n):
    from PIL import Image
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, n)
    imgs = [Image.fromarray((np.full((6, 6), 60 * k) + rng.integers(0, 40, (6, 6)))
                            .astype(np.uint8)) for k in y]
    return imgs, [LABELS[k] for k in y]


def image_net():
    from netgraph import FlattenLayer
    return NetChain([FlattenLayer(), LinearLayer(3), SoftmaxLayer()],
                    Input=NetEncoder(["Image", [6, 6], "Grayscale"]),
                    Output=NetDecoder(["Class", LABELS]))


def test_encoding_ahead_gives_the_same_training_as_encoding_first(monkeypatch):
    import netgraph.train.nettrain as nettrain
    from netgraph import All, Scaled
    imgs, y = images_and_labels(1100)
    runs = []
    for ahead in (True, False):
        monkeypatch.setattr(nettrain, "ENCODE_AHEAD", ahead)
        r = NetTrain(image_net(), (imgs, y), All, MaxTrainingRounds=2, BatchSize=50,
                     ValidationSet=Scaled(0.1), TrainingProgressReporting=None,
                     RandomSeeding=4, LearningRate=0.1)
        runs.append((r["BatchLossList"], r["ValidationLossList"]))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-6)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-6)
    assert np.mean(np.array(r["TrainedNet"](imgs)) == np.array(y)) > 0.8   # chance: 1/3


def test_an_unreadable_image_names_the_file_and_example_and_trains_nothing():
    imgs, y = images_and_labels(1100)
    imgs[1050] = "/no/such/image.png"
    with pytest.raises(TrainingError, match=r'NetTrain: port "Input", example 1051: the image '
                       r'file "/no/such/image.png" does not exist'):
        NetTrain(image_net(), (imgs, y), MaxTrainingRounds=1, TrainingProgressReporting=None)


def test_strings_of_several_lengths_are_bucketed_and_equal_one_at_a_time():
    from netgraph import EmbeddingLayer, GatedRecurrentLayer, SequenceLastLayer
    net = NetInitialize(NetChain([EmbeddingLayer(3), GatedRecurrentLayer(4), SequenceLastLayer(),
                                  LinearLayer(3), SoftmaxLayer()],
                                 Input=NetEncoder(["Characters", "abc"]),
                                 Output=NetDecoder(["Class", LABELS])), RandomSeeding=5)
    words = ["a", "abcab", "cc", "bacbacbac", "b"]
    batch = net(words, "Probabilities")
    for w, p in zip(words, batch, strict=True):
        one = net(w, "Probabilities")
        np.testing.assert_allclose(list(p.values()), list(one.values()), rtol=1e-5)
    assert net(words) == [net(w) for w in words]
