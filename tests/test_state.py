"""NetStateObject and NetPort(All, "States"): recurrent states kept between calls."""
import math

import numpy as np
import pytest
from seed_nets import seed_graph

from netgraph import *  # noqa: F403

RNG = np.random.default_rng(11)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def close(a, b, tol=2e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@pytest.mark.parametrize("head", [LongShortTermMemoryLayer, GatedRecurrentLayer,
                                  BasicRecurrentLayer])
def test_ten_windows_equal_one_long_sequence(head):
    net = NetInitialize(head(3, Input=("Varying", 2)))
    x = rand(50, 2)
    whole = net(x)
    sobj = NetStateObject(net)
    parts = [sobj(x[5 * i:5 * i + 5]) for i in range(10)]
    close(np.concatenate(parts), whole)
    final = net(x, NetPort(All, "States"))
    got = NetExtract(sobj, "States")
    assert set(got) == set(final)
    for k in final:
        close(got[k], final[k])


def test_seed_graph_one_step_at_a_time_equals_the_whole_sequence():
    trained = NetInitialize(seed_graph())
    x = rand(50, 1, 1)
    sobj = NetStateObject(trained)
    outs = [sobj({"Input": xt}) for xt in x]
    assert all(isinstance(o["Output"], float) and math.isfinite(o["Output"]) for o in outs)
    # the same weights on a "Varying" input, evaluated on the whole sequence at once
    lstm, lin = trained.nodes["1"], trained.nodes["3"]
    whole = NetGraph([LongShortTermMemoryLayer(2, **dict(lstm.arrays)), SequenceLastLayer(),
                      LinearLayer(**dict(lin.arrays))],
                     [(1, 2, 3)], Input=("Varying", 1), Output="Scalar")
    close(outs[-1]["Output"], whole(x[:, 0]))
    states = NetExtract(sobj, "States")
    assert set(states) == {(1, "State"), (1, "CellState")}
    close(outs[-1]["FinalState"], states[(1, "State")])


def test_the_acceptance_call_form():
    sobj = NetStateObject(NetInitialize(seed_graph()))
    outs = [sobj({"Input": x}) for x in rand(5, 1, 1)]
    assert all(math.isfinite(o["Output"]) for o in outs)


def test_reset_and_initial_states():
    net = NetInitialize(GatedRecurrentLayer(2, Input=("Varying", 1)))
    x = rand(4, 1)
    sobj = NetStateObject(net)
    first = sobj(x)
    assert not np.allclose(sobj(x), first)
    sobj.reset()
    close(sobj(x), first)
    s0 = rand(2)
    seeded = NetStateObject(net, {"State": s0})
    close(seeded(x), net({"Input": x, NetPort(All, "States"): {("State",): s0}}))
    close(NetExtract(NetStateObject(net, {("State",): s0}), "States")[("State",)], s0)
    g = NetInitialize(seed_graph())
    by_port = NetStateObject(g, {"InitialState": [0.5, -0.5]})
    close(NetExtract(by_port, "States")[(1, "State")], [0.5, -0.5])
    feed = {"Input": [[1.0]], "InitialState": [0.5, -0.5]}
    close(by_port({"Input": [[1.0]]})["Output"], g(feed)["Output"])


def test_batches_keep_one_state_per_row():
    net = NetInitialize(LongShortTermMemoryLayer(2, Input=("Varying", 1)))
    xs = rand(3, 8, 1)
    sobj = NetStateObject(net)
    a, b = sobj(xs[:, :4]), sobj(xs[:, 4:])
    close(np.concatenate([a, b], 1), net(xs))
    assert NetExtract(sobj, "States")[("State",)].shape == (3, 2)
    with pytest.raises(EvaluationError, match="holds a batch of 3"):
        sobj(rand(2, 4, 1))


def test_hidden_states_inside_a_graph():
    net = NetInitialize(NetChain({"enc": GatedRecurrentLayer(3), "last": SequenceLastLayer()},
                                 Input=("Varying", 2)))
    x = rand(10, 2)
    sobj = NetStateObject(net)
    sobj(x[:6])
    close(sobj(x[6:]), net(x))
    assert list(NetExtract(sobj, "States")) == [("enc", "State")]


def test_all_states_port_reads_and_sets():
    net = NetInitialize(NetChain([LongShortTermMemoryLayer(2), GatedRecurrentLayer(2)],
                                 Input=("Varying", 1)))
    x = rand(6, 1)
    states = net(x[:3], NetPort(All, "States"))
    assert set(states) == {(1, "State"), (1, "CellState"), (2, "State")}
    rest = net({"Input": x[3:], NetPort(All, "States"): states})
    close(rest, net(x)[3:])
    both = net(x, ["Output", NetPort(All, "States")])
    close(both["Output"], net(x))
    assert set(both[NetPort(All, "States")]) == set(states)


def test_errors():
    with pytest.raises(EvaluationError, match="NetStateObject: the net has no recurrent state"):
        NetStateObject(NetInitialize(LinearLayer(2, Input=3)))
    with pytest.raises(EvaluationError, match="NetStateObject: 'Nope' is not a state this "
                                              "object keeps"):
        NetStateObject(NetInitialize(GatedRecurrentLayer(2, Input=("Varying", 1))), {"Nope": 1})
    net = NetInitialize(GatedRecurrentLayer(2, Input=("Varying", 1)))
    with pytest.raises(EvaluationError, match=r"\(5, 'State'\) is not a recurrent state"):
        net({"Input": rand(3, 1), NetPort(All, "States"): {(5, "State"): [0, 0]}})
    with pytest.raises(EvaluationError, match="expects an array of rank 1"):
        net({"Input": rand(3, 1), NetPort(All, "States"): {("State",): [[[0.0]]]}})
    with pytest.raises(EvaluationError, match='a NetStateObject has the parts "States"'):
        NetExtract(NetStateObject(net), "Arrays")


def test_a_bare_input_goes_to_the_one_input_without_default():
    sobj = NetStateObject(NetInitialize(seed_graph()))
    out = sobj([[0.5]])
    assert set(out) == {"FinalState", "FinalCellState", "Output"}


def test_a_layers_state_ports_are_taken_by_name():
    # WL: lstm[<|"Input" -> x, "State" -> s, "CellState" -> c|>] (was: "the net has no input
    # port State" although input_ports() lists it)
    rng = np.random.default_rng(0)
    lstm = NetInitialize(LongShortTermMemoryLayer(2, Input=(3, 1)), Method="Random")
    assert lstm.input_ports() == ("Input", "State", "CellState")
    x, s, c = rng.normal(size=(3, 1)), rng.normal(size=2), rng.normal(size=2)
    got = lstm({"Input": x, "State": s, "CellState": c})
    via_states = lstm({"Input": x, NetPort(All, "States"): {("State",): s, ("CellState",): c}})
    assert np.allclose(got, via_states) and not np.allclose(got, lstm(x))
    # by hand: LSTM recurrence from (s, c) with WL's gates
    ws = {k: np.asarray(v, np.float64) for k, v in Information(lstm, "Arrays").items()}

    def gate(g, xt, st):
        return ws[((g + "GateInputWeights"),)] @ xt + ws[((g + "GateStateWeights"),)] @ st + \
            ws[((g + "GateBiases"),)]
    sig = lambda z: 1 / (1 + np.exp(-z))   # noqa: E731
    st, ct, ys = s, c, []
    for xt in x:
        i, o = sig(gate("Input", xt, st)), sig(gate("Output", xt, st))
        f = sig(gate("Forget", xt, st))
        ct = f * ct + i * np.tanh(gate("Memory", xt, st))
        st = o * np.tanh(ct)
        ys.append(st)
    assert np.allclose(got, ys, atol=1e-5)
    # a batch equals one example at a time; a state left out starts at zero
    xs, ss = rng.normal(size=(4, 3, 1)), rng.normal(size=(4, 2))
    batch = lstm({"Input": xs, "State": ss})
    one = [lstm({"Input": a, "State": b}) for a, b in zip(xs, ss, strict=True)]
    assert np.allclose(batch, one, atol=1e-6)
    with pytest.raises(EvaluationError, match=r'no input port "Stat". Did you mean "State"\? Its '
                       r"input ports are Input; its state ports State, CellState take initial"):
        lstm({"Input": x, "Stat": s})


def test_a_fold_operators_state_port_is_taken_by_name():
    cell = NetGraph({"cat": CatenateLayer(), "lin": LinearLayer(2), "t": Tanh},
                    [([NetPort("Input"), NetPort("State")], "cat", "lin", "t")],
                    Input=1, State=2)
    fold = NetInitialize(NetFoldOperator(cell, Input=(4, 1)))
    assert "State" in fold.input_ports()
    x, s0 = np.linspace(0, 1, 4).reshape(4, 1), np.array([0.5, -0.5])
    got = fold({"Input": x, "State": s0})
    step, s, want = NetExtract(fold, "Net"), s0, []
    for xt in x:
        s = step({"Input": xt, "State": s})
        want.append(s)
    assert np.allclose(got, want, atol=1e-6)
