"""Export("net.onnx", net): the file runs in onnxruntime and matches netgraph's outputs."""
# ruff: noqa: F405
import numpy as np
import pytest
import seed_nets

from netgraph import *  # noqa: F403
from netgraph.io.onnx_export import export_onnx, use_dynamo

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def seed_graph():
    return NetInitialize(seed_nets.seed_graph(("Varying", 1)))


def run(path, feeds):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds), strict=True)), session


def check(net, path, feeds):
    got, session = run(path, {k: v for k, v in feeds.items()})
    want = net(feeds)
    want = want if isinstance(want, dict) else {"Output": want}
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-5, atol=1e-5)
    return session


def test_seed_graph_with_explicit_states(tmp_path):
    net = seed_graph()
    path = tmp_path / "seed.onnx"
    export_onnx(str(path), net, dynamo=False)
    onnx.checker.check_model(onnx.load(str(path)))
    rng = np.random.default_rng(0)
    for batch, length in ((3, 5), (1, 2)):                  # other sizes than at export
        feeds = {"Input": rng.normal(size=(batch, length, 1)).astype(np.float32),
                 "InitialState": rng.normal(size=(batch, 2)).astype(np.float32),
                 "InitialCellState": np.zeros((batch, 2), np.float32)}
        session = check(net, path, feeds)
    assert [i.name for i in session.get_inputs()] == ["Input", "InitialState", "InitialCellState"]
    assert [o.name for o in session.get_outputs()] == ["FinalState", "FinalCellState", "Output"]


@pytest.mark.skipif(not use_dynamo(), reason="needs onnxscript (torch.export-based exporter)")
def test_default_exporter_through_export(tmp_path):
    # small on purpose: the torch.export-based exporter has seconds of fixed cost
    net = NetInitialize(NetChain([SequenceLastLayer(), LinearLayer(2)], Input=("Varying", 3)))
    path = Export(tmp_path / "seq.onnx", net)
    rng = np.random.default_rng(0)
    for batch, length in ((4, 5), (1, 1)):
        check(net, path, {"Input": rng.normal(size=(batch, length, 3)).astype(np.float32)})


def test_integer_input_and_lambda(tmp_path):
    net = NetInitialize(NetChain([EmbeddingLayer(3, 5), ElementwiseLayer(lambda x: 2 * x),
                                  SequenceLastLayer()],
                                 Input=("Varying", Restricted("Integer", 5))))
    path = tmp_path / "emb.onnx"
    export_onnx(str(path), net, dynamo=False)
    check(net, path, {"Input": np.array([[1, 5, 2, 2], [3, 3, 4, 1]], np.int64)})


def test_several_inputs_and_outputs(tmp_path):
    net = NetInitialize(NetGraph({"a": LinearLayer(3), "b": LinearLayer(2), "t": Tanh},
                                 [(NetPort("x"), "a", "t"), (NetPort("y"), "b")],
                                 x=2, y=4))
    path = tmp_path / "g.onnx"
    export_onnx(str(path), net, dynamo=False)
    rng = np.random.default_rng(1)
    check(net, path, {"x": rng.normal(size=(2, 2)).astype(np.float32),
                      "y": rng.normal(size=(2, 4)).astype(np.float32)})


def test_opset_option(tmp_path):
    net = NetInitialize(LinearLayer(2, Input=3))
    path = tmp_path / "l.onnx"
    export_onnx(str(path), net, opset=18, dynamo=False)
    assert onnx.load(str(path)).opset_import[0].version == 18
    with pytest.raises(OptionError, match="OperatorSetVersion to be an integer"):
        Export(path, net, OperatorSetVersion="new")


def test_uninitialized_net_is_refused(tmp_path):
    with pytest.raises(NetExportError, match="the net is not initialized, and an ONNX file"):
        Export(tmp_path / "u.onnx", LinearLayer(2, Input=3))
    assert not (tmp_path / "u.onnx").exists()


def test_unknown_shape_is_refused(tmp_path):
    net = NetInitialize(NetChain([SoftmaxLayer()]), RandomSeeding=1)
    with pytest.raises(NetExportError, match='shape of input port "Input"'):
        Export(tmp_path / "s.onnx", net)
