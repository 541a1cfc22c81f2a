"""Import("model.onnx") as netgraph layers (io/onnx_import.py, io/onnx_convert.py) and
NetExternalObject (io/external.py): round trips of netgraph's own exports, hand-built ONNX
graphs against numpy, training and nesting, and hostile files refused."""
import numpy as np
import pytest

from netgraph import *  # noqa: F403

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

RNG = np.random.default_rng(0)

NETS = {
    "mlp": lambda: NetChain([LinearLayer(4), Ramp, LinearLayer(3), SoftmaxLayer()], Input=2),
    "mlp_scalar": lambda: NetChain([LinearLayer(4), Tanh, LinearLayer(3), LogisticSigmoid,
                                    LinearLayer("Real")], Input=2),
    "conv": lambda: NetChain([ConvolutionLayer(3, 3, PaddingSize=1), Ramp, PoolingLayer(2, 2),
                              FlattenLayer(), LinearLayer(2)], Input=(1, 8, 8)),
    "deconv": lambda: NetChain([DeconvolutionLayer(2, 3, Stride=2, PaddingSize=1), Ramp,
                                BatchNormalizationLayer()], Input=(3, 4, 4)),
    "graph": lambda: NetGraph({"a": LinearLayer(3), "b": LinearLayer(3),
                               "t": ThreadingLayer(Plus), "c": CatenateLayer()},
                              [(NetPort("x"), "a"), (NetPort("y"), "b"), (["a", "b"], "t"),
                               (["t", "a"], "c")], x=2, y=2),
    "reshape": lambda: NetChain([LinearLayer(6), ReshapeLayer((2, 3)), TransposeLayer(),
                                 FlattenLayer()], Input=2),
}


def data_for(net, n=3):
    return {p: RNG.normal(size=(n, *((s,) if isinstance(s, int) else s)))
            for p, s in Information(net, "InputPorts").items()}


@pytest.mark.parametrize("name", sorted(NETS))
def test_round_trip_of_netgraphs_own_export(name, tmp_path):
    net = NetInitialize(NETS[name]())
    back = Import(Export(str(tmp_path / f"{name}.onnx"), net))
    x = data_for(net)
    np.testing.assert_allclose(back(x), net(x), rtol=1e-5, atol=1e-6)
    one = {k: v[0] for k, v in x.items()}
    np.testing.assert_allclose(back(one), back(x)[0], rtol=1e-5, atol=1e-6)
    assert Information(back, "InputPorts") == Information(net, "InputPorts")


def test_embedding_round_trip_and_gather_limits(tmp_path):
    net = NetInitialize(NetChain([EmbeddingLayer(3, 5), FlattenLayer(), LinearLayer(2)],
                                 Input=4))
    back = Import(Export(str(tmp_path / "e.onnx"), net))
    x = np.array([[1, 2, 3, 5], [5, 4, 1, 1]])
    np.testing.assert_allclose(back(x), net(x), rtol=1e-5, atol=1e-6)
    assert np.array_equal(NetExtract(back, ("node_embedding", "Weights")),
                          NetExtract(net, (1, "Weights")))
    idx = helper.make_tensor_value_info("i", TensorProto.INT64, ["batch", 2])
    nodes = [helper.make_node("Gather", ["t", "i"], ["y"], axis=0)]
    path = save(model(nodes, [idx], [vinfo("y", 2, 3)], [("t", np.ones((4, 3)))]),
                tmp_path / "g.onnx")
    with pytest.raises(NetImportError, match="converted only as an embedding lookup"):
        Import(path)


def test_imported_net_trains_and_nests(tmp_path):
    net = NetInitialize(NETS["mlp_scalar"]())
    back = Import(Export(str(tmp_path / "m.onnx"), net))
    x = RNG.normal(size=(64, 2))
    y = x[:, 0] - x[:, 1]
    before = np.mean((back(x) - y) ** 2)
    trained = NetTrain(back, {"Input": x, "Output": y}, MaxTrainingRounds=30, BatchSize=16,
                       Method=("ADAM", {"LearningRate": 0.02}), TrainingProgressReporting=None)
    assert np.mean((trained(x) - y) ** 2) < 0.5 * before
    chain = NetChain([back, ElementwiseLayer(Tanh)])
    np.testing.assert_allclose(chain(x[:4]), np.tanh(back(x[:4])), rtol=1e-5, atol=1e-6)
    assert Information(Import(str(tmp_path / "m.onnx"), "UninitializedNet"),
                       "ArraysCount") == Information(back, "ArraysCount")


def model(nodes, inputs, outputs, inits=(), opset=17, domain_ops=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs,
                              [numpy_helper.from_array(np.asarray(v, np.float32), k)
                               for k, v in inits])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset), *domain_ops])
    return m


def vinfo(name, *dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", *dims])


def save(m, path):
    onnx.save(m, str(path))
    return str(path)


def test_hand_built_graph_against_numpy(tmp_path):
    w = RNG.normal(size=(3, 4)).astype(np.float32)
    c = RNG.normal(size=(4,)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]),
             helper.make_node("Add", ["h", "c"], ["a"]),
             helper.make_node("Sigmoid", ["a"], ["s"]),
             helper.make_node("Mul", ["s", "a"], ["m"]),
             helper.make_node("Identity", ["m"], ["y"])]
    path = save(model(nodes, [vinfo("x", 3)], [vinfo("y", 4)], [("w", w), ("c", c)]),
                tmp_path / "h.onnx")
    net = Import(path)
    x = RNG.normal(size=(5, 3)).astype(np.float32)
    a = x @ w + c
    np.testing.assert_allclose(net(x), a / (1 + np.exp(-a)), rtol=1e-5, atol=1e-6)
    assert "NetArrayLayer" in Information(net, "LayerTypeCounts")   # the constant trains too
    ext = NetExternalObject(path)
    np.testing.assert_allclose(ext(x), net(x), rtol=1e-5, atol=1e-6)


def test_unsupported_ops_are_listed_and_external_object_runs_them(tmp_path):
    nodes = [helper.make_node("LeakyRelu", ["x"], ["l"], alpha=0.1),
             helper.make_node("ReduceMax", ["l"], ["y"], keepdims=0, axes=[1])]
    path = save(model(nodes, [vinfo("x", 4)], [helper.make_tensor_value_info(
        "y", TensorProto.FLOAT, ["batch"])], opset=17), tmp_path / "u.onnx")
    with pytest.raises(NetImportError, match=r"uses the ONNX operators LeakyRelu, ReduceMax, "
                       r"which netgraph does not convert into layers.*NetExternalObject"):
        Import(path)
    obj = Import(path, "NetExternalObject")
    x = RNG.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(obj(x), np.where(x > 0, x, 0.1 * x).max(1), rtol=1e-6)
    np.testing.assert_allclose(obj(x[0]), obj(x)[0], rtol=1e-6)
    assert Information(obj, "InputPortNames") == ["x"]
    assert Information(obj, "InputPorts") == {"x": [None, 4]}
    assert Information(obj, "Format") == "ONNX"
    with pytest.raises(EvaluationError, match=r'input "x" expects an array of dimensions '
                       r"\[None, 4\]"):
        obj(np.ones((2, 3, 4)))
    with pytest.raises(EvaluationError, match='the model has no input "z"'):
        obj({"z": x})
    with pytest.raises(OptionError, match='TargetDevice \'GPU\' is not supported'):
        obj(x, TargetDevice="GPU")
    with pytest.raises(OptionError, match="unknown property"):
        Information(obj, "Layers")
    with pytest.raises(NetImportError, match='"NetExternalObject" is an element of ONNX files'):
        Import(Export(str(tmp_path / "n.netgraph"), LinearLayer(2, Input=2)),
               "NetExternalObject")


def test_conversion_limits_are_refused_clearly(tmp_path):
    nodes = [helper.make_node("Softmax", ["x"], ["y"], axis=1)]
    path = save(model(nodes, [vinfo("x", 3, 4)], [vinfo("y", 3, 4)]), tmp_path / "s.onnx")
    with pytest.raises(NetImportError, match='its Softmax node "" is over axis 1; only the last '
                       "axis is supported"):
        Import(path)
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], alpha=2.0)]
    path = save(model(nodes, [vinfo("x", 3)], [vinfo("y", 2)], [("w", np.ones((3, 2)))]),
                tmp_path / "g.onnx")
    with pytest.raises(NetImportError, match="alpha, beta or transA other than 1, 1, 0"):
        Import(path)


def test_hostile_files_are_refused(tmp_path, monkeypatch):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\xffnot a model" * 10)
    with pytest.raises(NetImportError, match="is not an ONNX model"):
        Import(str(junk))
    with pytest.raises(NetImportError, match="is not an ONNX model"):
        NetExternalObject(str(junk))
    good = NetInitialize(NETS["mlp"]())
    path = Export(str(tmp_path / "m.onnx"), good)
    import netgraph.io.onnx_import as oi
    monkeypatch.setattr(oi, "MAX_ONNX_BYTES", 100)
    with pytest.raises(NetImportError, match="more than the limit of 100"):
        Import(path)
    monkeypatch.undo()
    m = onnx.load(path)
    t = m.graph.initializer[0]
    t.data_location = TensorProto.EXTERNAL
    del t.external_data[:]
    t.external_data.add(key="location", value="/etc/passwd")
    (tmp_path / "ext.onnx").write_bytes(m.SerializeToString())  # onnx.save would write it
    with pytest.raises(NetImportError, match="external data files"):
        Import(str(tmp_path / "ext.onnx"))
    nodes = [helper.make_node("Evil", ["x"], ["y"], domain="com.example")]
    m = model(nodes, [vinfo("x", 3)], [vinfo("y", 3)],
              domain_ops=[helper.make_opsetid("com.example", 1)])
    with pytest.raises(NetImportError, match="custom domains com.example"):
        Import(save(m, tmp_path / "custom.onnx"))
    nodes = [helper.make_node("Relu", ["x"], ["y"])]
    m = model(nodes, [vinfo("x", 3)], [vinfo("z", 3)])
    with pytest.raises(NetImportError, match="ONNX checker refuses it|not computed by any node"):
        Import(save(m, tmp_path / "bad.onnx"))
