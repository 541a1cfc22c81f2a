"""FunctionLayer and PlaceholderLayer: ports, shapes from the meta device, batch vs one at a
time, torch.compile/torch.export/ONNX, refusals with their reasons, Export/Import."""
# ruff: noqa: F405
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower

RNG = np.random.default_rng(3)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


def pairs(a, b):
    return {"Sum": torch.tanh(a) + b.sum(), "Scaled": a * b[0]}


# -- FunctionLayer --------------------------------------------------------------------------------

def test_function_layer_one_argument_is_input():
    layer = FunctionLayer(lambda x: torch.sin(x) * x.mean(), Input=3)
    assert layer.input_ports() == ("Input",) and layer.output_ports() == ("Output",)
    x = rand(5, 3)
    out = layer(x)                                   # f is per example: mean of each example
    close(out, np.sin(x) * x.mean(1, keepdims=True))
    for i in range(5):
        close(layer(x[i]), out[i])


def test_function_layer_named_arguments_and_dict_outputs():
    layer = FunctionLayer(pairs, a=3, b=2)
    assert layer.input_ports() == ("a", "b") and layer.output_ports() == ("Sum", "Scaled")
    assert Information(layer, "OutputPorts") == {"Sum": 3, "Scaled": 3}
    a, b = rand(4, 3), rand(4, 2)
    out = layer({"a": a, "b": b})
    close(out["Sum"], np.tanh(a) + b.sum(1, keepdims=True))
    close(out["Scaled"], a * b[:, :1])
    one = layer({"a": a[2], "b": b[2]})
    close(one["Sum"], out["Sum"][2])


def test_function_layer_shapes_flow_in_a_graph_and_it_trains():
    net = NetChain([LinearLayer(4), FunctionLayer(lambda x: torch.stack([x.max(), x.min()])),
                    LinearLayer(1)], Input=3)
    assert Information(net, "LayersList")[1].out_types["Output"].spec() == 2
    x = rand(32, 3)
    y = x.max(1, keepdims=True)
    trained = NetTrain(net, {"Input": x, "Output": y}, MaxTrainingRounds=3,
                       TrainingProgressReporting=None)
    assert np.isfinite(trained(x)).all()
    seq = FunctionLayer(lambda x: x.sum(0), Input=("Varying", 3))
    assert seq.out_types["Output"].spec() == 3
    keep = FunctionLayer(lambda x: x * 2, Input=("Varying", 2))
    assert keep.out_types["Output"].spec() == ("Varying", 2)
    ints = FunctionLayer(lambda x: x.argmax(), Input=4)
    assert ints.out_types["Output"].kind == "Integer" and ints([1.0, 5.0, 2.0, 0.0]) == 1


def test_function_layer_compile_export_and_onnx(tmp_path):
    net = NetInitialize(NetChain([FunctionLayer(lambda x: torch.sin(x) * x.mean()),
                                  LinearLayer(2)], Input=3))
    x = torch.tensor(rand(4, 3))
    want = torch.tensor(net(x.numpy()))
    m = lower(net).eval()
    compiled = torch.compile(m, backend="eager", fullgraph=True)
    close(compiled(x)["Output"].detach(), want)
    program = torch.export.export(m, (x,))
    close(program.module()(x)["Output"].detach(), want)
    from netgraph.io.onnx_export import export_onnx, use_dynamo
    with pytest.raises(NetExportError, match="FunctionLayer can be exported to ONNX only by "
                                             "torch's torch.export-based exporter"):
        export_onnx(str(tmp_path / "f.onnx"), net, dynamo=False)
    if use_dynamo():
        ort = pytest.importorskip("onnxruntime")
        path = Export(tmp_path / "f.onnx", net)
        s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        close(s.run(None, {"Input": x.numpy()})[0], want)


def test_function_layer_refusals():
    with pytest.raises(LayerError, match="FunctionLayer: the function cannot be traced on inputs "
                                         r"\(Input: a vector of size 3\): RuntimeError: vmap"):
        FunctionLayer(lambda x: x if x.sum() > 0 else -x, Input=3)
    with pytest.raises(LayerError, match="cannot be traced.*TypeError"):
        FunctionLayer(lambda x: x.numpy(), Input=3)
    with pytest.raises(LayerError, match="expected the function to return a tensor or a dict"):
        FunctionLayer(lambda x: [x, x], Input=3)
    with pytest.raises(LayerError, match="takes any number of them"):
        FunctionLayer(lambda *xs: xs[0], Input=3)
    with pytest.raises(LayerError, match="FunctionLayer: expected a function over torch tensors"):
        FunctionLayer(3)
    late = FunctionLayer(pairs)                      # shapes unknown: one port "Output" assumed
    with pytest.raises(ShapeError, match="the function gives the outputs Sum, Scaled, but the "
                                         "layer has the output ports Output"):
        NetGraph({"f": late}, [], a=3, b=2)
    # a graph's error names the shapes it tried
    with pytest.raises(LayerError, match=r"inputs \(Input: a vector of size 2\)"):
        NetChain([FunctionLayer(lambda x: x @ torch.ones(3))], Input=2)


def test_function_layer_cannot_be_written_to_a_netgraph_file(tmp_path):
    net = NetInitialize(NetChain([FunctionLayer(lambda x: x * 2), LinearLayer(1)], Input=2))
    with pytest.raises(NetExportError, match='parameter "function" holds Python code'):
        Export(tmp_path / "f.netgraph", net)
    assert not (tmp_path / "f.netgraph").exists()


# -- PlaceholderLayer -------------------------------------------------------------------------

def test_placeholder_ports_and_shapes_flow_through():
    p = PlaceholderLayer("MyOp", {"op": "Custom"}, InputPorts=["x", "y"],
                         OutputPorts={"z": (2, 3)}, x=4)
    assert p.input_ports() == ("x", "y") and p.output_ports() == ("z",)
    assert Information(p, "InputPorts") == {"x": 4, "y": Automatic}
    assert PlaceholderLayer(InputPorts=3).input_ports() == ("Input1", "Input2", "Input3")
    assert PlaceholderLayer(InputPorts=[3, (2, 2)]).in_types["Input2"].spec() == (2, 2)
    net = NetChain([LinearLayer(3), PlaceholderLayer("Op"), LinearLayer(2)], Input=2)
    assert Information(net, "LayersList")[1].in_types["Input"].spec() == 3   # from its inputs
    g = NetChain([PlaceholderLayer(Output=5), SoftmaxLayer()], Input=7)
    assert Information(g, "OutputPorts")["Output"] == 5


def test_placeholder_refuses_initialization_evaluation_and_training(tmp_path):
    net = NetChain([LinearLayer(3), PlaceholderLayer("MyOp", Arrays=["W"]), LinearLayer(2)],
                   Input=2)
    with pytest.raises(LayerError, match=r'NetInitialize: layer 2 \(PlaceholderLayer\("MyOp"\)\)'
                                         " is a placeholder"):
        NetInitialize(net)
    with pytest.raises(EvaluationError, match=r'layer 2 \(PlaceholderLayer\("MyOp"\)\) is a '
                                              "placeholder.*cannot be evaluated"):
        net(np.zeros(2, np.float32))
    with pytest.raises(NetGraphError, match=r'PlaceholderLayer\("MyOp"\).*placeholder'):
        NetTrain(net, {"Input": rand(4, 2), "Output": rand(4, 2)}, MaxTrainingRounds=1,
                 TrainingProgressReporting=None)
    fixed = NetReplacePart(net, (2, ElementwiseLayer(Tanh)))
    assert NetInitialize(fixed)(np.zeros(2, np.float32)).shape == (2,)


def test_placeholder_export_import(tmp_path):
    p = PlaceholderLayer("MyOp", {"k": 2}, Arrays={"W": np.eye(2)}, Input=2, Output=3)
    net = NetChain([p, LinearLayer(1)])
    back = Import(Export(tmp_path / "p.netgraph", net))
    layer = NetExtract(back, 1)
    assert layer.params["tag"] == "MyOp" and layer.params["info"] == {"k": 2}
    np.testing.assert_array_equal(layer.arrays["W"], np.eye(2))
    assert layer.out_types["Output"].spec() == 3
    with pytest.raises(LayerError, match="PlaceholderLayer: expected \"Arrays\" to be None"):
        PlaceholderLayer(Arrays=3)
    with pytest.raises(LayerError, match="expected InputPorts to be Automatic"):
        PlaceholderLayer(InputPorts=0)
