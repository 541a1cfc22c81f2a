"""Higher-order operators against hand-written loops on the same weights."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower
from netgraph.backend.operators import module_at

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def lin(net, path):
    return NetExtract(net, (*path, "Weights")), NetExtract(net, (*path, "Biases"))


def ref_lstm(x, lstm, s=None, c=None):
    """A hand-written WL LSTM (gates i, f, m, o) over one sequence."""
    n = lstm.params["n"]
    s = np.zeros(n) if s is None else s
    c = np.zeros(n) if c is None else c
    a = {k: np.asarray(v, np.float64) for k, v in lstm.arrays.items()}

    def gate(g, f, xt, s):
        return f(a[f"{g}GateInputWeights"] @ xt + a[f"{g}GateStateWeights"] @ s
                 + a[f"{g}GateBiases"])
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    out = []
    for xt in x:
        i, f, o = (gate(g, sig, xt, s) for g in ("Input", "Forget", "Output"))
        m = gate("Memory", np.tanh, xt, s)
        c = f * c + i * m
        s = o * np.tanh(c)
        out.append(s)
    return np.array(out), s, c


# -- NetMapOperator ---------------------------------------------------------------------------
def test_map_equals_a_loop_and_batches():
    net = NetInitialize(NetMapOperator(LinearLayer(2, Input=3)))
    w, b = lin(net, ("Net",))
    x = rand(5, 3)
    close(net(x), np.stack([w @ xt + b for xt in x]))
    xs = rand(4, 5, 3)
    close(net(xs), np.stack([net(e) for e in xs]))


def test_map_over_a_graph_with_a_recurrent_layer_folds_time_into_the_batch():
    inner = NetChain([LongShortTermMemoryLayer(2), SequenceLastLayer()], Input=("Varying", 3))
    net = NetInitialize(NetMapOperator(inner))
    assert Information(net, "InputPorts") == {"Input": ("Varying", "Varying", 3)}
    x = rand(4, 6, 3)                    # 4 sequences of 6 vectors each
    lstm = NetExtract(net, ("Net", 1))
    close(net(x), np.stack([ref_lstm(seq, lstm)[1] for seq in x]))


def test_map_needs_one_input_and_one_output():
    with pytest.raises(LayerError, match="NetMapOperator: expected a net with one input and "
                                         "one output"):
        NetMapOperator(ThreadingLayer(Plus, InputPorts=2))


# -- NetMapThreadOperator ---------------------------------------------------------------------
def test_mapthread_threads_all_inputs():
    net = NetMapThreadOperator(ThreadingLayer(Times, InputPorts=2, Input1=2))
    a, b = rand(4, 2), rand(4, 2)
    close(net({"Input1": a, "Input2": b}), a * b)
    close(net({"Input1": rand(3, 4, 2), "Input2": rand(3, 4, 2)}).shape, (3, 4, 2))


def test_mapthread_dict_form_repeats_the_other_inputs():
    inner = NetGraph({"w": LinearLayer(3), "plus": ThreadingLayer(Plus)},
                     [(NetPort("x"), "w"), (["w", NetPort("bias")], "plus")], x=2, bias=3)
    net = NetInitialize(NetMapThreadOperator(inner, {"x": 1}))
    assert Information(net, "InputPorts") == {"x": ("Varying", 2), "bias": 3}
    w, b = lin(net, ("Net", "w"))
    x, bias = rand(5, 2), rand(3)
    close(net({"x": x, "bias": bias}), np.stack([w @ xt + b + bias for xt in x]))


def test_mapthread_depth_two():
    net = NetMapThreadOperator(ElementwiseLayer(Tanh, Input=3), 2)
    x = rand(2, 4, 3)
    close(net(x), np.tanh(x))


def test_mapthread_errors():
    with pytest.raises(LayerError, match='NetMapThreadOperator: the net has no input "z"'):
        NetMapThreadOperator(ThreadingLayer(Plus, InputPorts=2), {"z": 1})
    with pytest.raises(LayerError, match="one positive depth"):
        NetMapThreadOperator(ThreadingLayer(Plus, InputPorts=2), {"Input1": 1, "Input2": 2})


# -- NetNestOperator --------------------------------------------------------------------------
def test_nest_applies_the_net_n_times():
    net = NetInitialize(NetNestOperator(NetChain([LinearLayer(3), Tanh]), 4, Input=3))
    w, b = lin(net, ("Net", 1))
    x = rand(3)
    want = x.astype(np.float64)
    for _ in range(4):
        want = np.tanh(w @ want + b)
    close(net(x), want)
    close(net(rand(5, 3)).shape, (5, 3))


def test_nest_needs_output_like_input():
    with pytest.raises(ShapeError, match="NetNestOperator"):
        NetNestOperator(LinearLayer(2, Input=3), 2)


# -- NetBidirectionalOperator -----------------------------------------------------------------
@pytest.mark.parametrize("agg", [Catenate, Total, Mean])
def test_bidirectional_matches_forward_and_reversed_backward(agg):
    net = NetInitialize(NetBidirectionalOperator(LongShortTermMemoryLayer(2), agg,
                                                 Input=("Varying", 3)))
    f, b = NetExtract(net, "ForwardNet"), NetExtract(net, "BackwardNet")
    # [net] means two independent copies: initialized apart
    assert not np.allclose(f.arrays["InputGateInputWeights"], b.arrays["InputGateInputWeights"])
    x = rand(5, 3)
    yf, yb = ref_lstm(x, f)[0], ref_lstm(x[::-1], b)[0][::-1]
    want = {"Catenate": np.concatenate([yf, yb], -1), "Total": yf + yb,
            "Mean": (yf + yb) / 2}[agg.name]
    close(net(x), want)


def test_bidirectional_two_nets_and_errors():
    net = NetBidirectionalOperator([GatedRecurrentLayer(2), BasicRecurrentLayer(3)],
                                   Input=("Varying", 4))
    assert Information(net, "OutputPorts") == {"Output": ("Varying", 5)}
    with pytest.raises(LayerError, match="Catenate, Total or Mean"):
        NetBidirectionalOperator(GatedRecurrentLayer(2), Max)
    with pytest.raises(ShapeError, match="NetBidirectionalOperator"):
        NetBidirectionalOperator([GatedRecurrentLayer(2), GatedRecurrentLayer(3)], Total,
                                 Input=("Varying", 1))


# -- NetFoldOperator --------------------------------------------------------------------------
def step_graph():
    """s' = tanh(W x + s): inputs "Input" and "State", output "Output"."""
    return NetGraph({"w": LinearLayer(2), "plus": ThreadingLayer(Plus), "t": Tanh},
                    [(NetPort("Input"), "w"), (["w", NetPort("State")], "plus", "t")],
                    Input=3)


def test_fold_equals_a_loop():
    fold = NetInitialize(NetFoldOperator(step_graph()))
    assert fold.input_ports() == ("Input", "State") and fold.states == ("State",)
    w, b = lin(fold, ("Net", "w"))
    x = rand(6, 3)
    s, want = np.zeros(2), []
    for xt in x:
        s = np.tanh(w @ xt + b + s)
        want.append(s)
    close(fold(x), np.array(want))
    close(fold(rand(4, 6, 3)).shape, (4, 6, 2))


def test_fold_state_port_in_a_graph_sets_the_initial_state_and_gives_the_final_one():
    fold = NetInitialize(NetFoldOperator(step_graph()))
    g = NetGraph([fold], [(NetPort("s0"), NetPort(1, "State")),
                          (NetPort(1, "State"), NetPort("sT"))])
    x, s0 = rand(4, 3), rand(2)
    w, b = lin(fold, ("Net", "w"))
    s = s0.astype(np.float64)
    for xt in x:
        s = np.tanh(w @ xt + b + s)
    out = g({"Input": x, "s0": s0})
    close(out["sT"], s)
    close(out["Output"][-1], s)


def test_fold_constants_and_output_selection():
    inner = NetGraph({"a": ThreadingLayer(Plus), "b": ThreadingLayer(Times)},
                     [([NetPort("Input"), NetPort("State")], "a"),
                      (["a", NetPort("k")], "b", NetPort("Output")),
                      ("a", NetPort("Sum"))], Input=2)
    fold = NetFoldOperator(inner, {"Output": "State"}, ["k"], ["Sum"])
    assert fold.input_ports() == ("Input", "k", "State")
    assert fold.output_ports() == ("Sum", "State")
    x, k = rand(5, 2), rand(2)
    s, sums = np.zeros(2), []
    for xt in x:
        a = xt + s
        sums.append(a)
        s = a * k
    out = fold({"Input": x, "k": k})
    close(out, np.array(sums))


def test_fold_over_an_unfolded_lstm_uses_the_fused_kernel():
    lstm = NetInitialize(LongShortTermMemoryLayer(3, Input=("Varying", 2)))
    step = NetUnfold(lstm)
    assert step.input_ports() == ("Input", "State", "CellState")
    assert step.output_ports() == ("Output", "CellState")
    fold = NetFoldOperator(step)
    assert fold.input_ports() == lstm.input_ports()
    assert fold.output_ports() == lstm.output_ports()
    assert lower(fold).layers["1"].fused == ()
    x = rand(7, 2)
    want, s, c = ref_lstm(x, lstm)
    close(fold(x), want)
    states = fold(x, NetPort(All, "States"))
    close(states[("State",)], s)
    close(states[("CellState",)], c)
    # one step of the unfolded net is one step of the layer
    one = step({"Input": x[0], "State": np.zeros(3), "CellState": np.zeros(3)})
    close(one["Output"], want[0])


@pytest.mark.parametrize("head", [GatedRecurrentLayer, BasicRecurrentLayer])
def test_fold_over_unfolded_gru_and_rnn(head):
    rec = NetInitialize(head(3, Input=("Varying", 2)))
    fold = NetFoldOperator(NetUnfold(rec))
    assert lower(fold).layers["1"].fused == ()
    xs = rand(3, 5, 2)
    close(fold(xs), rec(xs))


def test_a_general_fold_does_not_claim_the_fused_path():
    assert lower(NetInitialize(NetFoldOperator(step_graph()))).layers["1"].fused is None


def test_fold_errors():
    with pytest.raises(LayerError, match='NetFoldOperator: expected the net to have an output '
                                         '"Output" and an input "State"'):
        NetFoldOperator(LinearLayer(2))
    with pytest.raises(LayerError, match="expected feedback from an output"):
        NetFoldOperator(step_graph(), {"Nope": "State"})
    with pytest.raises(LayerError, match='"Zap" is not an input of the net'):
        NetFoldOperator(step_graph(), {"Output": "State"}, ["Zap"])
    with pytest.raises(LayerError, match='the net has no output "Zap"'):
        NetFoldOperator(step_graph(), {"Output": "State"}, [], ["Zap"])


def test_netunfold_forms_and_error():
    lstm = LongShortTermMemoryLayer(2, Input=("Varying", 3))
    chain = NetChain([lstm, SequenceLastLayer()])
    assert NetUnfold(chain).head == "RecurrentStep"
    inner = step_graph()
    assert NetUnfold(NetFoldOperator(inner)) is not None
    with pytest.raises(LayerError, match="NetUnfold: expected a recurrent layer"):
        NetUnfold(LinearLayer(2))


# -- inner nets: walk, initialize, extract, modules --------------------------------------------
def test_inner_arrays_are_seen_by_initialize_information_and_extract():
    g = NetGraph([NetMapOperator(LinearLayer(3)), NetFoldOperator(step_graph())],
                 [(1, NetPort(2, "Input"))], Input=("Varying", 4))
    assert not g.is_initialized()
    net = NetInitialize(g)
    assert net.is_initialized()
    assert Information(net, "ArraysCount") == 4
    assert NetExtract(net, (1, "Net", "Weights")).shape == (3, 4)
    assert NetExtract(net, (2, "Net", "w", "Weights")).shape == (2, 3)
    m = lower(net)
    got = module_at(m, ("2", "Net", "w")).get_arrays()
    close(got["Weights"], NetExtract(net, (2, "Net", "w", "Weights")))
    assert set(m.layers["1"].inner) == {"Net"}


def test_bidirectional_inner_modules_are_keyed_like_inner_nets():
    net = NetInitialize(NetBidirectionalOperator(GatedRecurrentLayer(2), Input=("Varying", 1)))
    m = lower(net)
    assert set(m.layers["1"].inner) == {"ForwardNet", "BackwardNet"}
    got = module_at(m, ("1", "BackwardNet")).get_arrays()
    close(got["ResetGateBiases"], NetExtract(net, ("BackwardNet", "ResetGateBiases")))


def test_uninitialized_inner_net_is_a_clear_error():
    with pytest.raises(EvaluationError, match="not initialized"):
        NetMapOperator(LinearLayer(2, Input=3))(rand(4, 3))


def test_operator_modules_are_plain_torch():
    net = NetInitialize(NetMapOperator(LinearLayer(2, Input=3)))
    m = lower(net)
    x = torch.randn(2, 5, 3)
    assert m(Input=x)["Output"].shape == (2, 5, 2)


def test_fold_over_a_one_layer_graph_of_a_step_is_fused_too():
    rec = NetInitialize(GatedRecurrentLayer(2, Input=("Varying", 3)))
    fold = NetFoldOperator(NetGraph([NetUnfold(rec)], []))
    assert lower(fold).layers["1"].fused == ("1",)
    x = rand(2, 6, 3)
    close(fold(x), rec(x))
