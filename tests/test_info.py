"""Introspection: Information properties, repr, _repr_html_ and the SummaryGraphic (info.py,
plot.py)."""
import numpy as np
import pytest
from seed_nets import seed_graph

from netgraph import *  # noqa: F403


def chain():
    return NetChain([LinearLayer(3), Tanh, [LinearLayer(4), Ramp], LinearLayer(2)], Input=2)


# -- Information ----------------------------------------------------------------------------
def test_ports():
    net = seed_graph()
    assert Information(net, "InputPorts") == {"Input": (1, 1), "InitialState": 2,
                                              "InitialCellState": 2}
    assert Information(net, "OutputPorts") == {"FinalState": 2, "FinalCellState": 2,
                                               "Output": "Real"}
    assert Information(net, "InputPortNames") == ["Input", "InitialState", "InitialCellState"]
    assert Information(LinearLayer(3), "InputPorts") == {"Input": Automatic}
    seq = Information(LongShortTermMemoryLayer(2), "OutputPorts")["Output"]
    assert seq == ("Varying", 2)
    assert Information(CrossEntropyLossLayer("Index", Input=3),
                       "InputPorts") == {"Input": 3, "Target": Restricted("Integer", 3)}


def test_layers_and_counts():
    c = chain()
    layers = Information(c, "Layers")
    assert list(layers) == [(1,), (2,), (3, 1), (3, 2), (4,)]
    assert layers[(3, 1)] is NetExtract(c, (3, 1))
    assert Information(c, "LayersCount") == 5
    assert [x.head for x in Information(c, "LayersList")] == [
        "LinearLayer", "ElementwiseLayer", "LinearLayer", "ElementwiseLayer", "LinearLayer"]
    assert Information(c, "LayerTypeCounts") == {"LinearLayer": 3, "ElementwiseLayer": 2}


def test_arrays_uninitialized_and_initialized():
    c = chain()
    assert Information(c, "ArraysCount") == 6
    assert all(v is Automatic for v in Information(c, "Arrays").values())
    dims = Information(c, "ArraysDimensions")
    assert dims[(3, 1, "Weights")] == (4, 3) and dims[(4, "Biases")] == (2,)
    assert Information(c, "ArraysTotalElementCount") == 6 + 3 + 12 + 4 + 8 + 2
    assert Information(c, "ArraysElementCounts")[(1, "Weights")] == 6
    assert Information(c, "ArraysPositionList")[0] == (1, "Weights")
    assert Information(c, "ArraysByteCount") == 4 * 35
    init = NetInitialize(c)
    arrays = Information(init, "Arrays")
    np.testing.assert_array_equal(arrays[(3, 1, "Weights")], NetExtract(init, (3, 1, "Weights")))
    for key in Information(init, "ArraysPositionList"):
        assert NetExtract(init, key) is arrays[key]


def test_unknown_sizes_are_none():
    net = NetChain([LinearLayer(3)])
    assert Information(net, "ArraysDimensions") == {(1, "Weights"): None, (1, "Biases"): (3,)}
    assert Information(net, "ArraysTotalElementCount") is None


def test_all_properties_and_unknown_property():
    info = Information(seed_graph())
    assert info["LayersCount"] == 3 and info["ArraysCount"] == 14
    assert "SummaryGraphic" in Information(LinearLayer(2), "Properties")
    with pytest.raises(OptionError, match='Information: unknown property \'ArrayCount\'. Did '
                       'you mean "ArraysCount"\\?'):
        Information(seed_graph(), "ArrayCount")
    with pytest.raises(OptionError, match="Valid properties are: InputPorts"):
        Information(seed_graph(), 3)


# -- repr -----------------------------------------------------------------------------------
def _fits(text):
    assert all(len(line) <= 100 for line in text.splitlines()), text


def test_repr_small_graph():
    net = seed_graph()
    text = repr(net)
    _fits(text)
    lines = text.splitlines()
    assert lines[0] == "NetGraph[3 layers, 35 parameters, uninitialized]"
    assert any('Input' in ln and '"InitialState"' in ln and ln.rstrip().endswith("2")
               for ln in lines)
    assert any("LongShortTermMemoryLayer(2)" in ln and "-> (1, 2)" in ln for ln in lines)
    assert any("LinearLayer()" in ln and '-> "Real"' in ln and "<- 2" in ln for ln in lines)
    assert any('"FinalCellState"' in ln and "<- 1.CellState" in ln for ln in lines)
    assert repr(NetInitialize(net)).splitlines()[0].endswith("initialized]")
    assert "uninitialized" not in repr(NetInitialize(net))


def test_repr_nested_and_partial():
    text = repr(chain())
    _fits(text)
    lines = text.splitlines()
    i = next(i for i, ln in enumerate(lines) if "NetChain[2 layers]" in ln)
    indent = len(lines[i]) - len(lines[i].lstrip())
    assert "LinearLayer(4)" in lines[i + 1] and "ElementwiseLayer(Ramp)" in lines[i + 2]
    assert len(lines[i + 1]) - len(lines[i + 1].lstrip()) > indent
    partial = NetReplacePart(NetInitialize(chain()), ((4, "Weights"), None))
    assert "5 of 6 arrays initialized" in repr(partial).splitlines()[0]


def test_repr_long_chain_is_cut():
    net = NetChain([LinearLayer(3)] * 100, Input=3)
    text = repr(net)
    _fits(text)
    lines = text.splitlines()
    assert len(lines) <= 24
    assert lines[0] == "NetChain[100 layers, 1,200 parameters, uninitialized]"
    assert any("... 82 more layers ..." in ln for ln in lines)
    assert any(ln.strip().startswith("100 ") for ln in lines)


def test_repr_layer_alone():
    assert repr(LinearLayer(3, Input=2)) == \
        "LinearLayer(3)  <Input: 2 -> Output: 3, 9 parameters, uninitialized>"
    assert repr(NetInitialize(LinearLayer(3, Input=2))).endswith("9 parameters, initialized>")
    assert repr(LinearLayer(3)) == "LinearLayer(3)  <Input: Automatic -> Output: 3, uninitialized>"
    assert repr(ElementwiseLayer(Tanh)) == "ElementwiseLayer(Tanh)"
    assert repr(MeanSquaredLossLayer(Input=3)) == \
        'MeanSquaredLossLayer()  <Input: 3, Target: 3 -> Loss: "Real">'
    _fits(repr(LongShortTermMemoryLayer(2)))


def test_repr_html_table():
    g = NetGraph({"a<b": LinearLayer(2), "c": Tanh}, [("a<b", "c")], Input=3)
    page = g._repr_html_()
    assert page.startswith("<table") and page.count("<tr>") == 1 + 1 + 2 + 1
    assert "a&lt;b" in page and "a<b" not in page
    assert "LinearLayer(2)" in page and "uninitialized" in page
    assert LinearLayer(2)._repr_html_().startswith("<pre>")


# -- SummaryGraphic -------------------------------------------------------------------------
@pytest.mark.parametrize("make", [seed_graph, chain, lambda: LinearLayer(3)])
def test_summary_graphic_saves_png(make, tmp_path):
    from matplotlib.figure import Figure
    fig = Information(make(), "SummaryGraphic")
    assert isinstance(fig, Figure)
    path = tmp_path / "net.png"
    fig.savefig(path, dpi=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_summary_graphic_shows_ports_and_layers():
    fig = Information(seed_graph(), "SummaryGraphic")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("LongShortTermMemoryLayer(2)" in t for t in texts)
    assert any(t.startswith("InitialCellState") for t in texts)
    assert "CellState" in texts
