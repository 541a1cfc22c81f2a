"""to_wl -> evaluate round-trips every registered layer head and both containers, with and
without learned arrays; Information(net, "WLInputForm") is the same text."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from netgraph import *  # noqa: F403
from netgraph.io.netfile import layer_registry
from netgraph.wl import evaluate, to_wl
from netgraph.wl.writer import same_net

_spec = importlib.util.spec_from_file_location(
    "_netfile_samples", Path(__file__).resolve().parent.parent / "test_io_netfile.py")
_samples = importlib.util.module_from_spec(_spec)
import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # its `import seed_nets`
_spec.loader.exec_module(_samples)


# Heads that tests/test_io_netfile.py has no sample of yet, written in WL.
WL_SAMPLES = {
    "ImageAugmentationLayer": 'ImageAugmentationLayer[{2, 2}, "Input" -> {3, 4, 4}]',
    "ResizeLayer": 'ResizeLayer[{4, 6}, "Input" -> {1, 2, 3}]',
    "SpatialTransformationLayer": 'SpatialTransformationLayer[{2, 2}, "Input" -> {1, 4, 4}]',
    "RandomArrayLayer": 'RandomArrayLayer[NormalDistribution[0, 1], "Output" -> {2, 3}]',
}
# A FunctionLayer holds Python code (a lambda, or a WL function evaluated in Python): no WL
# text or .netgraph file can hold it.
HOLDS_CODE = {"FunctionLayer"}


@pytest.mark.parametrize("head", sorted(layer_registry()))
def test_every_registered_head_round_trips(head):
    if head in HOLDS_CODE:
        pytest.skip(f"{head} holds Python code")
    net = _samples.sample(head)
    if net is None and head in WL_SAMPLES:
        net = evaluate(WL_SAMPLES[head])
    if net is None:
        pytest.skip(f"no sample of {head}: add one to SAMPLES in tests/test_io_netfile.py")
    text = to_wl(net)
    back = evaluate(text)
    assert same_net(back, net, arrays=False), text
    assert to_wl(back) == text
    try:
        init = NetInitialize(net)
    except NetGraphError:
        return  # shapes not all known: the uninitialized round trip is the test
    text = to_wl(init, arrays=True)
    back = evaluate(text)
    assert same_net(back, init, arrays=True)
    # arrays omitted: equal up to the arrays, which are left to NetInitialize
    assert same_net(evaluate(to_wl(init)), init, arrays=False)


def test_both_containers_are_written_readably():
    chain = NetChain([LinearLayer(3), Ramp, LinearLayer(2)], Input=2)
    assert to_wl(chain) == (
        'NetChain[{LinearLayer[3, "Input" -> 2, "Output" -> 3], ElementwiseLayer[Ramp, '
        '"Input" -> 3, "Output" -> 3], LinearLayer[2, "Input" -> 3, "Output" -> 2]}, '
        '"Input" -> 2, "Output" -> 2]')
    graph = NetGraph({"a": LinearLayer(2), "b": LinearLayer(2), "t": ThreadingLayer(Plus)},
                     [("a", "t"), ("b", NetPort("t", "Input2"))], Input=3)
    text = to_wl(graph)
    assert text.startswith('NetGraph[<|"a" -> LinearLayer[2')
    assert '"a" -> NetPort["t", "Input1"]' in text and '"b" -> NetPort["t", "Input2"]' in text
    assert same_net(evaluate(text), graph, arrays=False)


def test_seed_graph_round_trips_with_arrays_and_gives_the_same_outputs():
    net = NetInitialize(NetGraph(
        [LongShortTermMemoryLayer(2), SequenceLastLayer(), LinearLayer()],
        [(NetPort("InitialState"), NetPort(1, "State")), (1, 2, 3)],
        Input=(1, 1), Output="Scalar"))
    back = evaluate(to_wl(net, arrays=True))
    x = {"Input": [[0.5]], "InitialState": [0.1, -0.2]}
    assert back(x) == net(x)
    assert "NumericArray[" in to_wl(net, arrays=True)
    assert "NumericArray[" not in to_wl(net)


def test_information_WLInputForm_is_to_wl():
    net = NetChain([LinearLayer(3), Tanh], Input=2)
    assert Information(net, "WLInputForm") == to_wl(net)
    assert "WLInputForm" in Information(net, "Properties")
    assert "WLInputForm" not in Information(net)


def test_full_form_reads_as_wl_prints_layers():
    layer = NetInitialize(LinearLayer(2, Input=3))
    text = to_wl(layer, arrays=True)
    assert text.startswith('LinearLayer[<|"Parameters" -> ')
    back = evaluate(text)
    np.testing.assert_array_equal(NetExtract(back, "Weights"), NetExtract(layer, "Weights"))


def test_to_wl_refuses_what_is_not_a_net():
    with pytest.raises(NetGraphError, match="to_wl: expected a net"):
        to_wl(3)


@pytest.mark.parametrize("arrays", [False, True])
def test_coders_are_written_and_read_back(arrays):
    nets = [
        NetChain([LinearLayer(3), SoftmaxLayer()], Input=2,
                 Output=NetDecoder(["Class", ["a", "b", "c"]])),
        NetChain([EmbeddingLayer(3, 4), SequenceLastLayer()],
                 Input=NetEncoder(["Characters", "abcd"])),
        NetGraph({"e": EmbeddingLayer(2, 3)}, [], Input=NetEncoder(["Class", ["x", "y", "z"]])),
    ]
    for net in nets:
        net = NetInitialize(net) if arrays else net
        text = to_wl(net, arrays=arrays)
        assert "NetEncoder[{" in text or "NetDecoder[{" in text
        back = evaluate(text)
        assert same_net(back, net, arrays)
        assert back.coders.keys() == net.coders.keys()
    assert 'NetDecoder[{"Class", {"a", "b", "c"}}]' in to_wl(nets[0])


def test_same_net_sees_a_missing_coder():
    plain = NetChain([LinearLayer(3), SoftmaxLayer()], Input=2)
    coded = NetReplacePart(plain, ("Output", NetDecoder(["Class", ["a", "b", "c"]])))
    assert not same_net(plain, coded, arrays=False)
