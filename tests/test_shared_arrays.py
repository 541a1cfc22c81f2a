"""Shared arrays: NetArray, NetSharedArray, NetInsertSharedArrays (layers/shared.py,
graph/shared.py, backend/shared.py) through initialization, evaluation, training,
NetExtract/NetReplacePart/Information, Export/Import and ONNX."""
import os

import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower
from netgraph.io.archive import read_archive

X = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)


def tied():
    w = NetArray("W")
    return NetChain([LinearLayer(3, Weights=w, Input=3), Tanh, LinearLayer(3, Weights=w)])


def test_netarray_values():
    assert NetSharedArray("W") == NetArray("W") and repr(NetArray("W")) == 'NetArray("W")'
    assert NetArray(Name="W") == NetArray("W")
    a, b = NetArray(), NetArray()
    assert a != b and len(a.name) == 36  # a fresh UUID each
    with pytest.raises(LayerError, match="unknown property 'Nmae'"):
        NetArray(Nmae="W")
    with pytest.raises(LayerError, match="expected a name"):
        NetArray(3)
    with pytest.raises(LayerError, match="initialization method as the array is not supported"):
        NetArray("W", Array="Kaiming")
    with pytest.raises(LayerError, match="Dimensions to be a tuple of positive integers"):
        NetArray("W", Dimensions=(3, 0))


def test_one_array_initialized_once_and_evaluated_as_hand_written_torch():
    net = NetInitialize(tied())
    w = NetExtract(net, (1, "Weights"))
    assert w is NetExtract(net, (3, "Weights"))
    assert np.array_equal(NetExtract(net, NetArray("W")), w)
    b1, b3 = NetExtract(net, (1, "Biases")), NetExtract(net, (3, "Biases"))
    x = torch.tensor(X)
    W = torch.tensor(w)
    want = torch.tanh(x @ W.T + torch.tensor(b1)) @ W.T + torch.tensor(b3)
    np.testing.assert_allclose(net(X), want.numpy(), rtol=1e-5, atol=1e-6)
    for i in range(3):  # batch == one at a time
        np.testing.assert_allclose(net(X[i]), net(X)[i], rtol=1e-5, atol=1e-6)


def test_lowered_module_has_one_parameter_and_gradients_sum_over_uses():
    net = NetInitialize(tied())
    m = lower(net)
    names = [n for n, _ in m.named_parameters()]
    assert sum(n.endswith("Weights") for n in names) == 1
    m(torch.tensor(X))["Output"].sum().backward()
    W = torch.tensor(NetExtract(net, NetArray("W")), requires_grad=True)
    b1, b3 = (torch.tensor(NetExtract(net, (k, "Biases"))) for k in (1, 3))
    (torch.tanh(torch.tensor(X) @ W.T + b1) @ W.T + b3).sum().backward()
    np.testing.assert_allclose(m.layers["1"].Weights.grad.numpy(), W.grad.numpy(), rtol=1e-5)
    assert m.layers["3"].Weights is m.layers["1"].Weights


def test_uses_stay_identical_through_nettrain():
    net = NetInitialize(tied())
    out = NetTrain(net, {"Input": X, "Output": np.tanh(X)}, MaxTrainingRounds=3, BatchSize=4,
                   TrainingProgressReporting=None)
    w1, w3 = NetExtract(out, (1, "Weights")), NetExtract(out, (3, "Weights"))
    assert np.array_equal(w1, w3)
    assert not np.array_equal(w1, NetExtract(net, NetArray("W")))  # it did train
    assert np.array_equal(NetExtract(net, (1, "Weights")), NetExtract(net, (3, "Weights")))


def test_information_counts_a_shared_array_once():
    net = NetInitialize(tied())
    assert Information(net, "ArraysCount") == 3
    assert Information(net, "ArraysTotalElementCount") == 9 + 3 + 3
    assert list(Information(net, "Arrays")) == [NetArray("W"), (1, "Biases"), (3, "Biases")]
    assert Information(net, "ArraysDimensions")[NetArray("W")] == (3, 3)
    assert 'Weights=NetArray("W")' in repr(net)
    assert NetExtract(tied(), NetArray("W")) is Automatic
    everything = NetExtract(net, NetArray(All))
    assert list(everything) == [NetArray("W")]
    with pytest.raises(ConnectionError_, match="no shared array 'V'; its shared arrays are 'W'"):
        NetExtract(net, NetArray("V"))


def test_netreplacepart_replaces_every_use():
    net = NetInitialize(tied())
    new = NetReplacePart(net, (NetArray("W"), np.eye(3)))
    for k in (1, 3):
        assert np.array_equal(NetExtract(new, (k, "Weights")), np.eye(3))
    by_path = NetReplacePart(net, ((3, "Weights"), 2 * np.eye(3)))
    assert np.array_equal(NetExtract(by_path, (1, "Weights")), 2 * np.eye(3))
    assert not np.array_equal(NetExtract(net, (1, "Weights")), np.eye(3))  # a value
    with pytest.raises(ShapeError, match=r"has dimensions \{3, 3\}, but the new value has "
                       r"dimensions \{2, 2\}"):
        NetReplacePart(net, (NetArray("W"), np.eye(2)))
    with pytest.raises(ConnectionError_, match="no shared array 'V'"):
        NetReplacePart(net, (NetArray("V"), np.eye(3)))


def test_given_values_dimensions_and_errors():
    w = NetArray("W", Array=np.eye(3))
    net = NetChain([LinearLayer(3, Weights=w, Input=3), LinearLayer(3, Weights=NetArray("W"))])
    assert np.array_equal(NetExtract(NetInitialize(net), (2, "Weights")), np.eye(3))
    assert LinearLayer(3, Input=2, Weights=NetArray("A", Dimensions=(3, 2))).shared_names() == {
        "Weights": "A"}
    with pytest.raises(ShapeError, match=r'NetArray\("A"\) has Dimensions \[4, 2\], but array '
                       r'"Weights" of LinearLayer has dimensions \[3, 2\]'):
        LinearLayer(3, Input=2, Weights=NetArray("A", Dimensions=(4, 2)))
    with pytest.raises(ShapeError, match="are not known yet"):
        LinearLayer(3, Weights=NetArray("A", Dimensions=(4, 2)))
    with pytest.raises(LayerError, match="cannot be shared: it is a running statistic"):
        BatchNormalizationLayer(MovingMean=NetArray("m"))
    with pytest.raises(LayerError, match='takes NetArray\\("name"\\), not NetArray\\(All\\)'):
        LinearLayer(3, Weights=NetArray(All))
    bad = NetChain([LinearLayer(3, Weights=NetArray("W"), Input=3),
                    LinearLayer(2, Weights=NetArray("W"))])
    with pytest.raises(ShapeError, match=r'NetArray\("W"\) is used with dimensions \[3, 3\] by '
                       r'array "Weights" of layer 1 \(LinearLayer\), but with \[2, 3\] by array '
                       r'"Weights" of layer 2'):
        NetInitialize(bad)


def test_nets_combined_after_initialization_must_agree():
    a = NetInitialize(LinearLayer(3, Input=3, Weights=NetArray("W")), RandomSeeding=1)
    b = NetInitialize(LinearLayer(3, Input=3, Weights=NetArray("W")), RandomSeeding=2)
    with pytest.raises(ShapeError, match="holds different values in"):
        NetChain([a, b])(X)
    same = NetChain([a, NetReplacePart(b, ("Weights", NetExtract(a, "Weights")))])
    assert same(X).shape == (8, 3)


def test_netinsertsharedarrays_on_an_lstm_used_twice():
    lstm = NetInsertSharedArrays(LongShortTermMemoryLayer(2, Input=(4, 3)), "enc")
    assert lstm.shared_names()["InputGateBiases"] == "enc/InputGateBiases"
    g = NetInitialize(NetGraph({"a": lstm, "b": lstm, "t": ThreadingLayer(Subtract)},
                               [(NetPort("x"), "a"), (NetPort("y"), "b"), (["a", "b"], "t")]))
    x = np.random.default_rng(1).normal(size=(4, 3))
    assert np.allclose(g({"x": x, "y": x}), 0)  # one set of weights
    assert Information(g, "ArraysCount") == 12
    m = lower(g)
    assert m.layers["a"].rnn.weight_ih_l0 is m.layers["b"].rnn.weight_ih_l0
    bn = NetInsertSharedArrays(NetChain([BatchNormalizationLayer()], Input=(2, 3)))
    assert set(NetExtract(bn, 1).shared_names()) == {"Scaling", "Biases"}  # as in WL


def test_part_of_a_fused_parameter_cannot_be_shared():
    g = NetGraph([LongShortTermMemoryLayer(2, InputGateBiases=NetArray("b")),
                  LongShortTermMemoryLayer(2, InputGateBiases=NetArray("b"))], [(1, 2)],
                 Input=(4, 3))
    with pytest.raises(EvaluationError, match="stored in one torch parameter together with"):
        NetInitialize(g)(np.ones((4, 3)))


def test_export_import_keeps_one_stored_array(tmp_path):
    net = NetInitialize(tied())
    path = Export(str(tmp_path / "t.netgraph"), net)
    assert sorted(read_archive(path, "Import")[1]) == ["%24shared/W", "1/Biases", "3/Biases"]
    back = Import(path)
    assert NetExtract(back, (1, "Weights")) is NetExtract(back, (3, "Weights"))
    np.testing.assert_allclose(back(X), net(X))
    assert Information(back, "ArraysCount") == 3
    plain = Import(Export(str(tmp_path / "u.netgraph"), tied()))
    assert NetExtract(plain, 1).shared_names() == {"Weights": "W"}


def test_import_refuses_tampered_sharing(tmp_path):
    from netgraph.io.archive import write_archive
    net = NetInitialize(tied())
    meta, arrays = read_archive(Export(str(tmp_path / "t.netgraph"), net), "Import")
    layer3 = meta["net"]["params"]["nodes"]["3"]["$layer"]
    layer3["params"]["shared"] = {"Biases": "W"}
    write_archive(str(tmp_path / "bad.netgraph"), meta, arrays)
    with pytest.raises(NetImportError, match="does not declare it shared"):
        Import(str(tmp_path / "bad.netgraph"))
    layer3["params"]["shared"] = {"Weights": "W", "Nope": "W"}
    write_archive(str(tmp_path / "bad2.netgraph"), meta, arrays)
    with pytest.raises(NetImportError, match="malformed list of shared arrays"):
        Import(str(tmp_path / "bad2.netgraph"))


def test_onnx_export_keeps_one_initializer(tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    net = NetReplacePart(NetInitialize(tied()), ((1, "Biases"), np.arange(3.0)))
    path = Export(str(tmp_path / "t.onnx"), net)
    weights = [i for i in onnx.load(path).graph.initializer if tuple(i.dims) == (3, 3)]
    assert len(weights) == 1
    s = ort.InferenceSession(path)
    np.testing.assert_allclose(s.run(None, {s.get_inputs()[0].name: X})[0], net(X), rtol=1e-5,
                               atol=1e-6)
    assert os.path.getsize(path) > 0
