"""Nets to files and back: bit-exact round trips, uninitialized nets, nested graphs, and
tampered files refused."""
# ruff: noqa: F405
import json
import math
import os
import zipfile

import numpy as np
import pytest
import seed_nets
from safetensors.numpy import save

from netgraph import *  # noqa: F403
from netgraph.io.archive import read_archive, write_archive
from netgraph.io.netfile import layer_registry, net_from_archive, net_to_archive
from netgraph.shapes import VARYING


def seed_graph():
    return seed_nets.seed_graph(("Varying", 1))


# Fully specified samples (shapes known, so they initialize and evaluate); any other head in
# the registry is tried with a few generic argument lists below.
SAMPLES = {
    "LinearLayer": lambda: LinearLayer(3, Input=2),
    "ElementwiseLayer": lambda: ElementwiseLayer(Tanh, Input=3),
    "ThreadingLayer": lambda: ThreadingLayer(Plus, InputPorts=2, Input1=3),
    "SoftmaxLayer": lambda: SoftmaxLayer(Input=4),
    "LongShortTermMemoryLayer": lambda: LongShortTermMemoryLayer(2, Input=("Varying", 3)),
    "GatedRecurrentLayer": lambda: GatedRecurrentLayer(2, Input=(4, 3)),
    "BasicRecurrentLayer": lambda: BasicRecurrentLayer(2, Input=("Varying", 1)),
    "SequenceLastLayer": lambda: SequenceLastLayer(Input=("Varying", 2)),
    "SequenceMostLayer": lambda: SequenceMostLayer(Input=(3, 2)),
    "SequenceRestLayer": lambda: SequenceRestLayer(Input=(3, 2)),
    "SequenceReverseLayer": lambda: SequenceReverseLayer(Input=("Varying", 2)),
    "MeanSquaredLossLayer": lambda: MeanSquaredLossLayer(Input=3),
    "MeanAbsoluteLossLayer": lambda: MeanAbsoluteLossLayer(Input=3),
    "CrossEntropyLossLayer": lambda: CrossEntropyLossLayer("Probabilities", Input=3),
    "ContrastiveLossLayer": lambda: ContrastiveLossLayer(0.5, Input="Real"),
    "DropoutLayer": lambda: DropoutLayer(0.2, Input=3),
    "BatchNormalizationLayer": lambda: BatchNormalizationLayer(Input=(2, 3)),
    "NormalizationLayer": lambda: NormalizationLayer(Input=(2, 3)),
    "ConvolutionLayer": lambda: ConvolutionLayer(2, (2, 2), Input=(1, 4, 4)),
    "DeconvolutionLayer": lambda: DeconvolutionLayer(2, 2, Stride=2, Input=(3, 2, 2)),
    "PoolingLayer": lambda: PoolingLayer(2, 2, Input=(1, 4, 4)),
    "EmbeddingLayer": lambda: EmbeddingLayer(4, 10, Input="Varying"),
    "AttentionLayer": lambda: AttentionLayer("Dot", Key=("Varying", 3), Value=("Varying", 5),
                                             Query=3),
    "CatenateLayer": lambda: CatenateLayer(InputPorts=[2, 3]),
    "AppendLayer": lambda: AppendLayer(Input=3),
    "PrependLayer": lambda: PrependLayer(Input=("Varying", 2)),
    "ReplicateLayer": lambda: ReplicateLayer(3, 2, Input=(2, 4)),
    "PaddingLayer": lambda: PaddingLayer([(1, 2)], Input=3),
    "ReshapeLayer": lambda: ReshapeLayer((2, Automatic), Input=6),
    "FlattenLayer": lambda: FlattenLayer(1, Input=(2, 3, 4)),
    "TransposeLayer": lambda: TransposeLayer((1, 3), Input=(1, 2, 3)),
    "PartLayer": lambda: PartLayer(Span(2, -1), Input=5),
    "TotalLayer": lambda: TotalLayer(InputPorts=3, Output=2),
    "DotLayer": lambda: DotLayer(InputPorts=[(2, 3), 3]),
    "AggregationLayer": lambda: AggregationLayer(Max, Input=(2, 3)),
    "SummationLayer": lambda: SummationLayer(Input=(2, 2)),
    "NetArrayLayer": lambda: NetArrayLayer(Array=[[1.0, 2.0], [3.0, 4.0]]),
    "NetChain": lambda: NetChain([LinearLayer(3), Ramp, LinearLayer(1)], Input=2),
    "NetGraph": seed_graph,
    "NetMapOperator": lambda: ops().NetMapOperator(LinearLayer(2, Input=3)),
    "NetMapThreadOperator": lambda: ops().NetMapThreadOperator(
        ThreadingLayer(Plus, InputPorts=2, Input1=2)),
    "NetNestOperator": lambda: ops().NetNestOperator(LinearLayer(3, Input=3), 4),
    "NetBidirectionalOperator": lambda: ops().NetBidirectionalOperator(
        GatedRecurrentLayer(3), Input=("Varying", 2)),
    "NetFoldOperator": lambda: ops().NetFoldOperator(NetGraph(
        {"s": ThreadingLayer(Plus),
         "f": NetGraph([LinearLayer(2), Tanh], [(NetPort("Input"), 1), (1, 2)], Input=3)},
        [(NetPort("Input"), "f"), (["f", NetPort("State")], "s")])),
    "RecurrentStep": lambda: ops().RecurrentStep("LongShortTermMemoryLayer", 2, Input=3),
}


def ops():
    import netgraph.layers.operators as operators
    return operators
GENERIC_ARGS = [(), (2,), (Tanh,), (Plus,), (Max,), (2, 2), ("Real",)]


def sample(head):
    if head in SAMPLES:
        try:
            return SAMPLES[head]()
        except (NetGraphError, ImportError, AttributeError):
            pass  # the layer's arguments changed: fall back to the generic guesses
    cls = layer_registry()[head]
    for args in GENERIC_ARGS:
        try:
            layer = cls(*args)
        except Exception:  # noqa: BLE001 - guessing arguments of a layer we do not know
            continue
        if hasattr(layer, "params"):  # a shared base class has no constructor of its own
            return layer
    return None


def example_inputs(net, batch=2):
    rng = np.random.default_rng(0)
    data = {}
    for port, t in net.in_types.items():
        if port not in net.visible_inputs() and port in net.states:
            continue
        shape = (batch, *[3 if d is VARYING else d for d in t.dims])
        if t.kind == "Integer":
            lo, hi = t.bound or (1, 2)
            data[port] = rng.integers(lo, hi + 1, shape)
        else:
            data[port] = rng.normal(size=shape)
    return data


def round_trip(net):
    meta, arrays = net_to_archive(net)
    back = net_from_archive(meta, arrays)
    meta2, arrays2 = net_to_archive(back)
    assert meta2 == meta
    assert sorted(arrays2) == sorted(arrays)
    for k in arrays:
        assert arrays2[k].dtype == arrays[k].dtype
        np.testing.assert_array_equal(arrays2[k], arrays[k])
    return back


def assert_same_outputs(a, b, data):
    out_a, out_b = a(data), b(data)
    if not isinstance(out_a, dict):
        out_a, out_b = {"": out_a}, {"": out_b}
    for k in out_a:
        np.testing.assert_array_equal(np.asarray(out_a[k]), np.asarray(out_b[k]))


# -- round trips -----------------------------------------------------------------------
@pytest.mark.parametrize("head", sorted(layer_registry()))
def test_every_layer_head_round_trips(head):
    net = sample(head)
    if net is None:
        pytest.skip(f"no sample of {head}: add one to SAMPLES")
    round_trip(net)
    try:
        net = NetInitialize(net)
    except NetGraphError:
        return  # shapes not all known: the uninitialized round trip above is the test
    back = round_trip(net)
    assert back.is_initialized()
    if not all(t.is_known() for t in net.in_types.values()):
        return
    data = example_inputs(net)
    try:
        net(data)
    except Exception:  # noqa: BLE001 - a layer whose torch side is not written yet
        return
    assert_same_outputs(net, back, data)


def test_seed_graph_file_round_trip_is_bit_exact(tmp_path):
    net = NetInitialize(seed_graph())
    path = Export(tmp_path / "seed.netgraph", net)
    back = Import(path)
    assert isinstance(back, NetGraph) and back.is_initialized()
    for key, a in Information(net, "Arrays").items():
        np.testing.assert_array_equal(Information(back, "Arrays")[key], a)
    data = {"Input": np.random.default_rng(1).normal(size=(3, 5, 1)),
            "InitialState": np.ones((3, 2)), "InitialCellState": np.zeros((3, 2))}
    assert_same_outputs(net, back, data)
    assert Information(back, "InputPorts") == Information(net, "InputPorts")
    assert math.isfinite(back({"Input": [[1.0]]})["Output"])


def test_uninitialized_net_round_trips(tmp_path):
    net = seed_graph()
    back = Import(Export(tmp_path / "u.netgraph", net))
    assert not back.is_initialized()
    assert not any(isinstance(a, np.ndarray) for a in Information(back, "Arrays").values())
    assert Import(tmp_path / "u.netgraph", "ArrayAssociation") == {}
    assert Information(back, "OutputPorts") == Information(net, "OutputPorts")


def test_partly_initialized_net_keeps_what_it_has(tmp_path):
    net = NetChain([LinearLayer(3, Weights=np.ones((3, 2))), LinearLayer(1)], Input=2)
    back = Import(Export(tmp_path / "p.netgraph", net))
    np.testing.assert_array_equal(NetExtract(back, (1, "Weights")), np.ones((3, 2)))
    assert NetExtract(back, (2, "Weights")) is Automatic


def test_nested_graphs_with_awkward_names(tmp_path):
    inner = NetChain({"a/b": LinearLayer(3), "%x": Tanh, "$y": LinearLayer(2)})
    net = NetInitialize(NetGraph({"enc": inner, "1": LinearLayer(1), "lin": LinearLayer(2)},
                                 [("enc", "1"), ("enc", "lin")], Input=4))
    back = round_trip(net)
    assert Information(back, "Arrays").keys() == Information(net, "Arrays").keys()
    assert_same_outputs(net, back, {"Input": np.arange(8.0).reshape(2, 4)})
    meta, arrays = net_to_archive(net)
    assert "enc/a%2Fb/Weights" in arrays and "enc/%24y/Biases" in arrays


def test_uninitialized_net_element_drops_arrays(tmp_path):
    path = Export(tmp_path / "n.netgraph", NetInitialize(seed_graph()))
    net = Import(path, "UninitializedNet")
    assert not net.is_initialized()
    assert NetInitialize(net).is_initialized()


def test_array_association_and_list(tmp_path):
    net = NetInitialize(NetChain([LinearLayer(3), LinearLayer(1)], Input=2))
    path = Export(tmp_path / "n.netgraph", net)
    assoc = Import(path, "ArrayAssociation")
    assert list(assoc) == [(1, "Weights"), (1, "Biases"), (2, "Weights"), (2, "Biases")]
    np.testing.assert_array_equal(assoc[(1, "Weights")], NetExtract(net, (1, "Weights")))
    assert [a.shape for a in Import(path, "ArrayList")] == [(3, 2), (3,), (1, 3), (1,)]


def test_params_of_every_kind_survive():
    layer = ThreadingLayer(Times, InputPorts=2, Input1=("Varying", Restricted("Integer", 5)))
    back = round_trip(layer)
    assert back.params["function"] is Times
    assert back.in_types["Input1"].bound == (1, 5) and back.in_types["Input1"].dims == (VARYING,)


# -- errors --------------------------------------------------------------------------
def test_python_code_cannot_be_exported(tmp_path):
    net = NetChain([LinearLayer(2), ElementwiseLayer(lambda x: 2 * x)], Input=2)
    with pytest.raises(NetExportError, match=r'layer 2 \(ElementwiseLayer\): its parameter '
                       r'"function" holds Python code \(<lambda>\)'):
        Export(tmp_path / "f.netgraph", net)
    assert not (tmp_path / "f.netgraph").exists()


def test_export_and_import_argument_errors(tmp_path):
    with pytest.raises(OptionError, match='cannot tell the format of ".*x.h5"'):
        Export(tmp_path / "x.h5", LinearLayer(2))
    with pytest.raises(OptionError, match="unknown format 'HDF5'"):
        Export(tmp_path / "x", LinearLayer(2), "HDF5")
    with pytest.raises(NetExportError, match="expected a net or a layer, but received dict"):
        Export(tmp_path / "x.netgraph", {})
    with pytest.raises(OptionError, match="unknown option OperatorSetVersion"):
        Export(tmp_path / "x.netgraph", LinearLayer(2), OperatorSetVersion=13)
    path = Export(tmp_path / "x.netgraph", LinearLayer(2))
    with pytest.raises(OptionError, match='unknown element \'Nets\'. Did you mean "Net"'):
        Import(path, "Nets")
    with pytest.raises(NetImportError, match='cannot import ".*x.onnx": the file cannot be read'):
        Import(tmp_path / "x.onnx")  # ONNX import: tests/test_io_onnx_import.py


def test_explicit_format_argument(tmp_path):
    path = Export(tmp_path / "model.bin", NetInitialize(LinearLayer(2, Input=1)), "NetGraph")
    assert read_archive(path)[0]["kind"] == "Net"


def tamper(tmp_path, net, edit):
    """Export ``net``, let ``edit(meta, arrays)`` change the file's content, write it back."""
    path = Export(tmp_path / "t.netgraph", net)
    meta, arrays = read_archive(path)
    edit(meta, arrays)
    write_archive(path, meta, arrays)
    return path


def chain():
    return NetInitialize(NetChain([LinearLayer(3), Tanh, LinearLayer(1)], Input=2))


five = {"dims": [5], "kind": "Real", "bound": None}


def node(meta, key):
    return meta["net"]["params"]["nodes"][key]["$layer"]


@pytest.mark.parametrize("edit, match", [
    (lambda m, a: m.pop("net"), 'no "net" entry'),
    (lambda m, a: node(m, "1").update(head="os.system"), "unknown head 'os.system'"),
    (lambda m, a: node(m, "1").update(head="LinearLayers"), 'Did you mean "LinearLayer"'),
    (lambda m, a: node(m, "1").pop("arrays"), "layer 1 .* is malformed"),
    (lambda m, a: node(m, "1")["params"].update(size=5), "LinearLayer: expected an output size"),
    (lambda m, a: node(m, "1")["params"].update(size="big"), "inconsistent"),
    (lambda m, a: node(m, "1")["params"].update(size={"$eval": "1"}), "unknown or malformed"),
    (lambda m, a: node(m, "2")["params"].update(function={"$symbol": "__import__('os')"}),
     "unknown or malformed tagged value"),
    (lambda m, a: node(m, "1")["inputs"].update(Input={"dims": [-2], "kind": "Real",
                                                       "bound": None}), "invalid port type"),
    (lambda m, a: node(m, "1")["inputs"].update(Bogus={"dims": [2], "kind": "Real",
                                                       "bound": None}), 'no input port "Bogus"'),
    (lambda m, a: node(m, "1")["inputs"].update(Input={"dims": [5], "kind": "Real",
                                                       "bound": None}),
     r'NetPort\(1, "Input"\) \(LinearLayer\) expects a vector of size 5, but NetPort\("Input"\)'),
    (lambda m, a: [node(m, "1")["inputs"].update(Input=five), m["net"]["inputs"].update(
        Input=five)], r'array "Weights" has dimensions \{3, 2\}, but the layer expects \{3, 5\}'),
    (lambda m, a: node(m, "2")["outputs"].update(Output={"dims": [4], "kind": "Real",
                                                         "bound": None}), "inconsistent"),
    (lambda m, a: a.update({"1/Weights": np.zeros((2, 2), np.float32)}),
     r"has dimensions \{2, 2\}, but the layer expects \{3, 2\}"),
    (lambda m, a: a.pop("3/Biases"), "refers to an array '3/Biases' that the file does not hold"),
    (lambda m, a: a.update(extra=np.zeros(1, np.float32)), 'array "extra", which no layer uses'),
    (lambda m, a: node(m, "3")["arrays"].pop("Biases"), 'lacks the array "Biases"'),
    (lambda m, a: node(m, "3")["arrays"].update(Gain=None), 'unexpected array "Gain"'),
    (lambda m, a: node(m, "3")["arrays"].update(Biases="1/Biases"), "already uses"),
    (lambda m, a: m["net"]["params"]["edges"]["$dict"][0].__setitem__(
        1, {"$port": ["9", "Output"]}), "invalid connection"),
    (lambda m, a: m["net"]["params"].update(outputs=["Output", "Extra"]),
     "ports that do not match"),
    (lambda m, a: m["net"]["params"]["edges"]["$dict"].append(
        [{"$port": ["1", "Input"]}, {"$port": ["3", "Output"]}]), "twice in one dict"),
])
def test_tampered_files_are_refused(tmp_path, edit, match):
    path = tamper(tmp_path, chain(), edit)
    with pytest.raises(NetImportError, match=match):
        Import(path)


def test_cycle_is_refused(tmp_path):
    def edit(m, a):
        edges = m["net"]["params"]["edges"]["$dict"]
        for e in edges:
            if e[0] == {"$port": ["1", "Input"]}:
                e[1] = {"$port": ["3", "Output"]}
    with pytest.raises(NetImportError, match="cycle|do not match"):
        Import(tamper(tmp_path, chain(), edit))


def test_deep_nesting_is_refused(tmp_path):
    path = Export(tmp_path / "t.netgraph", chain())
    meta, arrays = read_archive(path)
    node(meta, "1")["params"]["size"] = "DEEP"
    text = json.dumps(meta).replace('"DEEP"', '{"$list": [' * 400 + "1" + "]}" * 400)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("netgraph.json", text)
        z.writestr("arrays.safetensors", save(arrays))
    with pytest.raises(NetImportError, match="nested too deeply|not valid UTF-8 JSON"):
        Import(path)


def test_import_error_names_the_file_and_layer(tmp_path):
    path = tamper(tmp_path, chain(), lambda m, a: node(m, "1").update(head="Nope"))
    with pytest.raises(NetImportError, match=r'Import: the file ".*t\.netgraph" is not a valid '
                       r"netgraph file: layer 1 \('Nope'\) has an unknown head 'Nope'"):
        Import(path)


def test_export_into_a_missing_directory_names_the_path(tmp_path):
    net = NetInitialize(LinearLayer(2, Input=3))
    for name in ("m.netgraph", "m.onnx"):
        path = str(tmp_path / "no" / "such" / name)
        with pytest.raises(NetExportError, match=r'cannot write ".*m\.(netgraph|onnx)": the '
                           r'directory ".*such" does not exist'):
            Export(path, net)
    with pytest.raises(NetExportError, match="it is a directory"):
        Export(str(tmp_path), net, "NetGraph")
    assert os.listdir(tmp_path) == []
