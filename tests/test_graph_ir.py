"""The graph IR (graph/ir.py), the one graph walk (graph/walk.py) and inference on the IR."""
import dataclasses

import pytest

from netgraph import (
    CatenateLayer,
    LinearLayer,
    NetChain,
    NetExtract,
    NetGraph,
    NetMapOperator,
    NetPort,
    NetRename,
    NetReplacePart,
    Tanh,
    TotalLayer,
)
from netgraph.graph.infer import infer_graph
from netgraph.graph.ir import GraphIR, PortId, build_graph
from netgraph.graph.walk import children, leaves, map_children, run_through_graph
from netgraph.ports import PortRef
from netgraph.shapes import PortType


def diamond():
    return NetGraph({"a": LinearLayer(3), "b": Tanh, "c": Tanh, "cat": CatenateLayer()},
                    [(NetPort("x"), "a"), ("a", "b"), ("a", "c"), (["b", "c"], "cat")], x=2)


def test_a_container_holds_a_frozen_graph_matching_its_stored_params():
    g = diamond()
    ir = g.graph
    assert isinstance(ir, GraphIR)
    assert ir.inputs == ("x",) and ir.outputs == ("Output",) and ir.named
    assert list(ir.nodes) == ["a", "b", "c", "cat"] and ir.order[0] == "a"
    assert ir.order.index("cat") > max(ir.order.index("b"), ir.order.index("c"))
    assert {k: g.params[k] for k in ("inputs", "outputs", "order", "named")} == {
        "inputs": ir.inputs, "outputs": ir.outputs, "order": ir.order, "named": ir.named}
    assert dict(g.params["nodes"]) == dict(ir.nodes) and dict(g.params["edges"]) == dict(ir.edges)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ir.order = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        ir.nodes["z"] = Tanh  # type: ignore[index]
    with pytest.raises(TypeError):
        ir.edges[PortRef("z", "Input")] = PortRef(None, "x")  # type: ignore[index]


def test_graph_reading_helpers():
    ir = diamond().graph
    assert list(ir.input_sources("b")) == [("Input", PortRef("a", "Output"))]
    assert list(ir.input_sources("a")) == [("Input", PortRef(None, "x"))]
    assert ir.output_source("Output") == PortRef("cat", "Output")
    assert list(ir.input_sources("cat")) == [("Input1", PortRef("b", "Output")),
                                             ("Input2", PortRef("c", "Output"))]
    ports = list(ir.ports())
    assert ports[:2] == [PortId(False, None, "x"), PortId(True, None, "Output")]
    assert PortId(True, "cat", "Input2") in ports and PortId(False, "a", "Output") in ports
    assert len(ports) == len(set(ports)) == 2 + 2 * 3 + 3


def test_port_ids_tell_a_graph_input_from_a_graph_output_of_the_same_name():
    a, b = PortId.of_src(PortRef(None, "x")), PortId.of_dst(PortRef(None, "x"))
    assert a != b and a.ref == b.ref == PortRef(None, "x") and a.is_graph_port
    assert not a.sink and b.sink


def test_build_graph_is_the_one_constructor_and_every_edit_keeps_a_consistent_graph():
    g = build_graph("NetGraph", {"1": LinearLayer(3), "2": CatenateLayer()},
                    {PortRef("2", "Input1"): PortRef("1", "Output")}, False, {"2": 2})
    assert g.nodes["2"].params["n"] == 2
    assert g.inputs == ("Input", "Input2") and g.outputs == ("Output",)
    assert g.order == ("1", "2")
    chain = NetChain([LinearLayer(3), Tanh, LinearLayer(2)], Input=4)
    for net in (chain, NetRename(chain, (1, "lin")), NetReplacePart(chain, (2, Tanh)),
                NetReplacePart(chain, {"Input": 5})):
        ir = net.graph
        assert set(ir.order) == set(ir.nodes)
        assert all(d.node is None or d.node in ir.nodes for d in ir.edges)
        assert GraphIR.of_params(net.params).order == ir.order
    renamed = NetRename(chain, [(1, "lin"), (NetPort("Output"), NetPort("y"))]).graph
    assert renamed.order == ("lin", "2", "3") and renamed.outputs == ("y",) and renamed.named
    assert renamed.output_source("y") == PortRef("3", "Output")


def test_infer_graph_runs_on_the_ir_and_names_ports_by_port_id():
    ir = NetChain([LinearLayer(3), Tanh]).graph
    r = infer_graph("NetChain", ir, {"Input": PortType((2,))}, {"Output": PortType()})
    assert r.outputs["Output"].dims == (3,)
    assert r.types[PortId(False, "1", "Output")].dims == (3,)
    assert r.types[PortId(True, "2", "Input")] == r.types[PortId(False, "1", "Output")]
    assert r.nodes["1"].in_types["Input"].dims == (2,)


def test_run_through_graph_serves_any_value():
    ir = diamond().graph
    depth = run_through_graph(ir, {"x": 0}, lambda k, layer, ins: {
        p: 1 + max(v for v in ins.values() if v is not None) for p in layer.output_ports()})
    assert depth[PortRef("a", "Output")] == 1 and depth[PortRef("cat", "Output")] == 3
    seen = []
    run_through_graph(ir, {"x": None}, lambda k, layer, ins: seen.append(k) or {})
    assert seen == list(ir.order)


def test_children_of_containers_and_operators_in_one_place():
    inner = NetChain([LinearLayer(2), Tanh])
    op = NetMapOperator(inner)
    assert list(children(op)) == ["Net"] and children(op)["Net"].head == "NetChain"
    assert children(LinearLayer(2)) == {}
    g = NetChain([op, TotalLayer()], Input=(4, 3))
    assert list(children(g)) == ["1", "2"]
    assert [path for path, _ in leaves(g)] == [("1", "Net", "1"), ("1", "Net", "2"), ("2",)]
    assert map_children(g, lambda k, sub: sub) is g


def test_a_tampered_graph_is_still_refused_by_import(tmp_path):
    from netgraph import Export, Import, NetInitialize
    net = NetInitialize(diamond(), RandomSeeding=1)
    f = tmp_path / "n.netgraph"
    Export(str(f), net)
    back = Import(str(f))
    assert back.graph.order == net.graph.order and back.graph.inputs == ("x",)
    assert isinstance(NetExtract(back, "a"), LinearLayer)
