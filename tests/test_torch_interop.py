"""ToTorchModule (a plain, independent nn.Module) and TorchModuleLayer (a module as a layer)."""
# ruff: noqa: F405
import warnings

import numpy as np
import pytest
import seed_nets
import torch
from torch import nn

from netgraph import *  # noqa: F403


def chain():
    return NetInitialize(NetChain([LinearLayer(3), Tanh, LinearLayer(1)], Input=2))


def seed_graph():
    return NetInitialize(seed_nets.seed_graph(("Varying", 1)))


# -- ToTorchModule ---------------------------------------------------------------------
def test_module_computes_the_net():
    net = seed_graph()
    m = ToTorchModule(net)
    assert isinstance(m, nn.Module) and not m.training
    assert m.input_names == ("Input", "InitialState", "InitialCellState")
    x = np.random.default_rng(0).normal(size=(3, 4, 1)).astype(np.float32)
    out = m(Input=torch.tensor(x))
    want = net({"Input": x})
    for k in want:
        np.testing.assert_allclose(out[k].detach().numpy(), want[k], rtol=1e-6, atol=1e-6)


def test_each_call_is_a_fresh_copy():
    net = chain()
    a, b = ToTorchModule(net), ToTorchModule(net)
    pa, pb = list(a.parameters()), list(b.parameters())
    assert all(x.data_ptr() != y.data_ptr() for x, y in zip(pa, pb, strict=True))


def test_training_the_module_never_changes_the_net():
    net = chain()
    x = torch.randn(16, 2)
    y = x.sum(dim=1, keepdim=True)
    before = net(x.numpy())
    m = ToTorchModule(net).train()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(m(x)["Output"], y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    np.testing.assert_array_equal(net(x.numpy()), before)
    assert not np.allclose(m(x)["Output"].detach().numpy(), before)


def test_torch_compile():
    net = chain()
    m = ToTorchModule(net)
    x = torch.randn(5, 2)
    compiled = torch.compile(m, backend="eager")
    torch.testing.assert_close(compiled(x)["Output"], m(x)["Output"])


def test_torch_export():
    m = ToTorchModule(chain())
    x = torch.randn(5, 2)
    program = torch.export.export(m, (x,))
    torch.testing.assert_close(program.module()(x)["Output"], m(x)["Output"])


def test_torch_export_and_compile_of_a_recurrent_net():
    m = ToTorchModule(seed_graph())
    x = torch.randn(3, 4, 1)
    want = m(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nn.LSTM's own tracing warnings (torch internals)
        got = torch.export.export(m, (x,)).module()(x)
        compiled = torch.compile(m, backend="eager")(x)
    for k in want:
        torch.testing.assert_close(got[k], want[k])
        torch.testing.assert_close(compiled[k], want[k])


def test_torch_jit_trace():
    m = ToTorchModule(chain())
    x = torch.randn(4, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated
        traced = torch.jit.trace(m, (x,), strict=False)
    other = torch.randn(7, 2)                                        # another batch size
    torch.testing.assert_close(traced(other)["Output"], m(other)["Output"])


def test_working_precision():
    m = ToTorchModule(chain(), WorkingPrecision="Real64")
    assert all(p.dtype == torch.float64 for p in m.parameters())


def test_to_torch_module_errors():
    with pytest.raises(OptionError, match="unknown option Precision"):
        ToTorchModule(chain(), Precision="Real64")
    with pytest.raises(OptionError, match="expected a net or a layer, but received int"):
        ToTorchModule(3)
    with pytest.raises(EvaluationError, match="not initialized"):
        ToTorchModule(LinearLayer(2, Input=3))


# -- TorchModuleLayer ------------------------------------------------------------------
def test_module_layer_ports_arrays_and_values():
    torch.manual_seed(0)
    lin = nn.Linear(3, 2)
    layer = TorchModuleLayer(lin, Input=3)
    assert Information(layer, "OutputPorts") == {"Output": 2}
    np.testing.assert_array_equal(layer.arrays["weight"], lin.weight.detach().numpy())
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    want = lin(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(layer(x), want, rtol=1e-6)
    np.testing.assert_allclose(layer(x[0]), want[0], rtol=1e-6)     # one example


def test_module_layer_is_a_value():
    lin = nn.Linear(3, 2)
    layer = TorchModuleLayer(lin, Input=3)
    before = layer(np.ones(3))
    with torch.no_grad():
        lin.weight.add_(1.0)                                         # the user's module changes
    np.testing.assert_array_equal(layer(np.ones(3)), before)


def test_module_layer_in_a_chain_and_initialization():
    net = NetChain([TorchModuleLayer(nn.Sequential(nn.Linear(3, 4), nn.Tanh()), Input=3),
                    LinearLayer(1)])
    assert sorted(net.nodes["1"].arrays) == ["0.bias", "0.weight"]
    init = NetInitialize(net)
    np.testing.assert_array_equal(NetExtract(init, (1, "0.weight")),
                                  NetExtract(net, (1, "0.weight")))
    again = NetInitialize(init, All)
    assert NetExtract(again, (1, "0.weight")).shape == (4, 3)
    assert not np.array_equal(NetExtract(again, (1, "0.weight")), NetExtract(init, (1, "0.weight")))
    x = np.ones((2, 3), np.float32)
    m = ToTorchModule(init)
    np.testing.assert_allclose(m(torch.tensor(x))["Output"].detach().numpy(), init(x), rtol=1e-6)


class TwoWay(nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))

    def forward(self, a, b):
        return {"prod": a * b * self.scale, "sum": a + b, "index": torch.argmax(a, dim=-1) + 1}


def test_named_ports_dict_outputs_and_probing():
    layer = TorchModuleLayer(TwoWay(), ["a", "b"], ["sum", "prod", "index"], a=3, b=3)
    assert Information(layer, "OutputPorts") == {"sum": 3, "prod": 3, "index": "Integer"}
    out = layer({"a": [1.0, 5.0, 2.0], "b": [1.0, 1.0, 1.0]})
    np.testing.assert_allclose(out["prod"], [1.0, 10.0, 6.0])
    np.testing.assert_allclose(out["sum"], [2.0, 6.0, 3.0])
    assert int(out["index"]) == 2


def test_declared_dict_ports_and_sequences():
    layer = TorchModuleLayer(nn.Identity(), {"x": ("Varying", 2)}, {"y": ("Varying", 2)})
    out = layer([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0]]])          # two lengths
    np.testing.assert_array_equal(out[1], [[5.0, 6.0]])


def test_module_layer_errors():
    with pytest.raises(LayerError, match="expected a torch.nn.Module, but received function"):
        TorchModuleLayer(lambda x: x, Input=3)
    with pytest.raises(LayerError, match='the shape of port "a" is given twice'):
        TorchModuleLayer(nn.Identity(), {"a": 3}, ["Output"], a=3)
    with pytest.raises(LayerError, match='"x" cannot be both an input and an output'):
        TorchModuleLayer(nn.Identity(), ["x"], ["x"])
    with pytest.raises(LayerError, match="expected port names as a list of distinct strings"):
        TorchModuleLayer(nn.Identity(), ["a", "a"])
    with pytest.raises(OptionError, match="unknown option Inputs"):
        TorchModuleLayer(nn.Identity(), Inputs=3)
    with pytest.raises(ShapeError, match="running the module on inputs of the declared shapes "
                       "failed"):
        TorchModuleLayer(nn.Linear(3, 2), Input=4)


def test_module_layer_cannot_go_to_a_netgraph_file(tmp_path):
    net = NetChain([TorchModuleLayer(nn.Linear(3, 2), Input=3), LinearLayer(1)])
    with pytest.raises(NetExportError, match=r"layer 1 \(TorchModuleLayer\): its parameter "
                       r'"module" holds Python code \(Linear\)'):
        Export(tmp_path / "m.netgraph", NetInitialize(net))


def test_module_layer_to_onnx(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from netgraph.io.onnx_export import export_onnx
    net = NetInitialize(NetChain([TorchModuleLayer(nn.Linear(3, 2), Input=3), Ramp]))
    path = str(tmp_path / "m.onnx")
    export_onnx(path, net, dynamo=False)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"Input": x})
    np.testing.assert_allclose(got[0], net(x), rtol=1e-5, atol=1e-6)
