"""The lowering plan (backend/plan.py) that the three code generators share."""
import dataclasses
import inspect

import numpy as np
import torch

from netgraph import (
    CatenateLayer,
    LinearLayer,
    LongShortTermMemoryLayer,
    NetChain,
    NetGraph,
    NetInitialize,
    NetPort,
    NetRename,
    SequenceLastLayer,
    Tanh,
)
from netgraph.backend import mirror_plan
from netgraph.backend.lower import lower
from netgraph.backend.mirror import set_mirroring
from netgraph.backend.plan import Plan, Step, make_plan
from netgraph.layers.base import Layer


def diamond():
    return NetInitialize(NetGraph(
        {"a": LinearLayer(3), "b": Tanh, "c": Tanh, "cat": CatenateLayer()},
        [(NetPort("x"), "a"), ("a", "b"), ("a", "c"), (["b", "c"], "cat")], x=2),
        RandomSeeding=1)


def test_plan_steps_read_write_and_drop_values_as_a_hand_count_says():
    plan = make_plan(diamond())
    assert plan.args == ("x",) and plan.signature == "x, " and plan.checks == ()
    a, b, c, cat = plan.steps
    assert [s.key for s in plan.steps] == ["a", "b", "c", "cat"]
    assert a.reads() == ["x"] and a.writes() == ["v_a_Output"] and a.dead == ()
    assert b.reads() == ["v_a_Output"] and b.dead == ()
    assert c.reads() == ["v_a_Output"] and c.dead == ("v_a_Output",)   # its last reader
    assert cat.reads() == ["v_b_Output", "v_c_Output"]
    assert cat.dead == ("v_b_Output", "v_c_Output")
    assert plan.returns == (("Output", "v_cat_Output"),)
    assert plan.keep() == {"x", "v_cat_Output"} and plan.last_use()["v_a_Output"] == 2


def test_the_plan_holds_names_not_layers():
    plan = make_plan(diamond())

    def values(x):
        if dataclasses.is_dataclass(x):
            for f in dataclasses.fields(x):
                yield from values(getattr(x, f.name))
        elif isinstance(x, (tuple, list, frozenset)):
            for v in x:
                yield from values(v)
        elif isinstance(x, dict):
            for k, v in x.items():
                yield from values(k)
                yield from values(v)
        else:
            yield x
    assert not any(isinstance(v, Layer) for v in values(plan))
    assert isinstance(plan, Plan) and all(isinstance(s, Step) for s in plan.steps)


def test_the_three_generators_share_the_plan_names():
    g = diamond()
    m = lower(g)
    plan = type(m).plan
    names = {v for s in plan.steps for _, v, used in s.outputs if used}
    for code in (m.code, m.ext_code):
        assert all(v in code for v in names)
    set_mirroring(m, True, segment=1)
    assert all(v in type(m).mirror_code for v in names)
    assert "import ast" not in inspect.getsource(mirror_plan)   # nothing parses source


def test_mirrored_forward_cut_from_the_plan_gives_the_same_values_and_gradients():
    net = NetInitialize(NetChain([LinearLayer(4), Tanh, LinearLayer(4), Tanh, LinearLayer(2)],
                                 Input=3), RandomSeeding=2)
    m = lower(net, dtype=torch.float64)
    x = torch.randn(5, 3, dtype=torch.float64)
    plain = m(Input=x)["Output"]
    plain.sum().backward()
    grads = [p.grad.clone() for p in m.parameters()]
    m.zero_grad()
    set_mirroring(m, True, segment=2)
    assert type(m).mirror_segments == 3                 # 5 steps, two per segment
    out = m(Input=x)["Output"]
    out.sum().backward()
    torch.testing.assert_close(out, plain, rtol=0, atol=0)
    for p, g in zip(m.parameters(), grads, strict=True):
        torch.testing.assert_close(p.grad, g, rtol=0, atol=1e-12)


def test_ports_named_like_the_generated_codes_own_names_still_work():
    chain = NetChain([LinearLayer(3), Tanh, LinearLayer(2)], Input=2)
    net = NetInitialize(NetRename(chain, [(NetPort("Input"), NetPort("torch")),
                                          (NetPort("Output"), NetPort("_S"))]),
                        RandomSeeding=3)
    ref = NetInitialize(chain, RandomSeeding=3)
    x = np.array([0.5, -1.0], np.float32)
    np.testing.assert_allclose(net({"torch": x}), ref(x), rtol=1e-6)
    plan = type(lower(net)).plan
    assert plan.args == ("torch_2",) and plan.returns[0][0] == "_S"


def test_state_steps_and_optional_inputs_in_the_plan():
    net = NetGraph({"lstm": LongShortTermMemoryLayer(2), "last": SequenceLastLayer()},
                   [(NetPort("x"), "lstm", "last"),
                    (NetPort("h0"), NetPort("lstm", "State"))], x=("Varying", 3))
    plan = make_plan(net)
    assert plan.optional == {"h0"}
    assert plan.signature == "x, h0=None, "
    lstm = plan.steps[0]
    assert lstm.states == ("State", "CellState")
    assert dict(lstm.inputs)["CellState"] is None       # left to its zero default
    assert dict(lstm.lengths)["Input"] == ("x", 0)      # a varying sequence
