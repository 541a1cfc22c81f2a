"""NetTrain's "Weights", "Gradients" (and their Vector/RMS forms), "ExampleLosses" and
"NetTrainInputForm" properties, against hand-written torch and hand computations."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403

RNG = np.random.default_rng(0)
X = RNG.normal(size=(12, 3)).astype(np.float32)
Y = (X @ np.array([1.0, -2.0, 0.5], np.float32) + 0.3).astype(np.float32)
DATA = {"Input": X, "Output": Y}
RUN = {"Method": ("SGD", {"Momentum": None, "LearningRateSchedule": None}), "LearningRate": 0.1,
       "TrainingProgressReporting": None}


def linear():
    return NetInitialize(NetChain([LinearLayer("Real")], Input=3), RandomSeeding=1)


def by_hand(net, rounds):
    """SGD on the mean squared error, one batch of all examples a round: the gradients of
    the last step and the arrays after it."""
    w = torch.tensor(np.asarray(NetExtract(net, (1, "Weights"))), requires_grad=True)
    b = torch.tensor(np.asarray(NetExtract(net, (1, "Biases"))), requires_grad=True)
    x, y = torch.tensor(X), torch.tensor(Y)
    for _ in range(rounds):
        loss = ((x @ w.T + b)[:, 0] - y).square().mean()
        gw, gb = torch.autograd.grad(loss, [w, b])
        with torch.no_grad():
            w -= 0.1 * gw
            b -= 0.1 * gb
    return {(1, "Weights"): gw.numpy(), (1, "Biases"): gb.numpy()}, \
        {(1, "Weights"): w.detach().numpy(), (1, "Biases"): b.detach().numpy()}


def test_gradients_and_weights_equal_hand_written_sgd():
    net = linear()
    g, w, gv, grms, wv, wrms = NetTrain(
        net, DATA, ["Gradients", "Weights", "GradientsVector", "GradientsRMS",
                    "WeightsVector", "WeightsRMS"], BatchSize=12, MaxTrainingRounds=3, **RUN)
    hand_g, hand_w = by_hand(net, 3)
    assert g.keys() == hand_g.keys() and w.keys() == hand_w.keys()
    for k in hand_g:
        assert np.allclose(g[k], hand_g[k], rtol=1e-5, atol=1e-6), k
        assert np.allclose(w[k], hand_w[k], rtol=1e-5, atol=1e-6), k
        assert np.isclose(grms[k], np.sqrt(np.mean(hand_g[k] ** 2)), rtol=1e-5)
        assert np.isclose(wrms[k], np.sqrt(np.mean(hand_w[k] ** 2)), rtol=1e-5)
    assert np.allclose(gv, np.concatenate([hand_g[k].ravel() for k in hand_g]), rtol=1e-5)
    assert np.allclose(wv, np.concatenate([hand_w[k].ravel() for k in hand_w]), rtol=1e-5)


def test_weights_are_keyed_as_information_arrays():
    r = NetTrain(linear(), DATA, All, BatchSize=4, MaxTrainingRounds=1, **RUN)
    arrays = Information(r["FinalNet"], "Arrays")
    assert r["Weights"].keys() == arrays.keys()
    assert all(np.array_equal(r["Weights"][k], arrays[k]) for k in arrays)
    assert np.array_equal(r["FinalWeights"][(1, "Biases")], arrays[(1, "Biases")])


def test_gradients_under_training_speed_are_the_last_updates(steps):
    """The whole compiled step keeps no gradients: asking for them runs the forward-compiled
    step, whose gradients are the eager ones."""
    net = linear()
    fast = NetTrain(net, DATA, "Gradients", BatchSize=12, MaxTrainingRounds=6,
                    PerformanceGoal="TrainingSpeed", **RUN)
    assert steps == {"whole": 0, "forward": 1}
    hand_g, _ = by_hand(net, 6)
    for k in hand_g:
        assert np.allclose(fast[k], hand_g[k], rtol=1e-5, atol=1e-6), k
    NetTrain(net, DATA, "TrainedNet", BatchSize=12, MaxTrainingRounds=6,
             PerformanceGoal="TrainingSpeed", **RUN)
    assert steps == {"whole": 1, "forward": 1}   # unasked, the step is compiled whole


def test_frozen_arrays_have_no_gradients_and_ascending_ones_their_loss_gradient():
    net = linear()
    g = NetTrain(net, DATA, "Gradients", BatchSize=12, MaxTrainingRounds=1,
                 LearningRateMultipliers=[((1, "Biases"), 0)], **RUN)
    assert list(g) == [(1, "Weights")]
    hand_g, _ = by_hand(net, 1)
    assert np.allclose(g[(1, "Weights")], hand_g[(1, "Weights")], rtol=1e-5, atol=1e-6)
    up = NetTrain(net, DATA, "Gradients", BatchSize=12, MaxTrainingRounds=1,
                  LearningRateMultipliers=[((1, "Biases"), -1)], **RUN)
    assert np.allclose(up[(1, "Biases")], hand_g[(1, "Biases")], rtol=1e-5, atol=1e-6)


def test_an_array_no_gradient_reaches_has_zero_gradient():
    side = NetGraph({"out": LinearLayer(), "side": LinearLayer(2)},
                    [(NetPort("Input"), "out", NetPort("Output")),
                     (NetPort("Input"), "side", NetPort("Side"))], Input=3, Output="Real")
    g = NetTrain(NetInitialize(side, RandomSeeding=1), {**DATA, "Side": X[:, :2]},
                 {"Output": Scaled(1), "Side": Scaled(0)}, "Gradients", BatchSize=4,
                 MaxTrainingRounds=1, **RUN)
    assert not g[("side", "Weights")].any() and g[("out", "Weights")].any()


def test_example_losses_are_each_examples_last_loss_in_data_order():
    net = linear()
    losses = NetTrain(net, DATA, "ExampleLosses", BatchSize=5, MaxTrainingRounds=1,
                      LearningRate=1e-12, Method=RUN["Method"], TrainingProgressReporting=None)
    expected = (np.asarray(net(X)) - Y) ** 2     # rate ~0: every step sees the first net
    assert np.allclose(losses, expected, rtol=1e-5, atol=1e-6)


def test_example_losses_mean_over_a_batch_is_its_batch_loss():
    r = NetTrain(linear(), DATA, ["ExampleLosses", "BatchLossList"], BatchSize=12,
                 MaxTrainingRounds=2, **RUN)
    assert np.isclose(np.mean(r[0]), r[1][-1], rtol=1e-5)


def test_example_losses_sum_the_weighted_loss_ports():
    two = NetGraph({"out": LinearLayer(), "side": LinearLayer(2)},
                   [(NetPort("Input"), "out", NetPort("Output")),
                    (NetPort("Input"), "side", NetPort("Side"))], Input=3, Output="Real")
    two = NetInitialize(two, RandomSeeding=1)
    side = X[:, :2]
    losses = NetTrain(two, {**DATA, "Side": side}, {"Output": Scaled(1), "Side": Scaled(0.5)},
                      "ExampleLosses", BatchSize=12, MaxTrainingRounds=1, LearningRate=1e-12,
                      Method="SGD", TrainingProgressReporting=None)
    out = two(X)
    # a mean squared loss gives one number per example (the mean over its elements)
    expected = (out["Output"] - Y) ** 2 + 0.5 * ((out["Side"] - side) ** 2).mean(1)
    assert np.allclose(losses, expected, rtol=1e-5, atol=1e-5)


def test_example_losses_leave_the_validation_examples_out():
    losses = NetTrain(linear(), DATA, "FinalExampleLosses", BatchSize=4, MaxTrainingRounds=1,
                      ValidationSet=Scaled(0.25), **RUN)
    assert len(losses) == 12 and sum(x is None for x in losses) == 3


def test_example_losses_need_a_data_set():
    def gen(info):
        return {"Input": X[:4], "Output": Y[:4]}
    with pytest.raises(NetGraphError, match="ExampleLosses.*generator function"):
        NetTrain(linear(), gen, "ExampleLosses", BatchSize=4, MaxTrainingRounds=1, **RUN)


def test_asked_only_properties_are_refused_by_a_results_object():
    r = NetTrain(linear(), DATA, All, BatchSize=4, MaxTrainingRounds=1, **RUN)
    for p in ("Gradients", "ExampleLosses"):
        with pytest.raises(NetGraphError, match=f"'{p}' is kept only when the NetTrain call"):
            r[p]
    with pytest.raises(NetGraphError, match="unknown property 'Gradient'"):
        r["Gradient"]


def test_net_train_input_form_is_the_call():
    net = linear()
    opts = {"BatchSize": 4, "MaxTrainingRounds": 2, "RandomSeeding": 3, **RUN}
    form, losses = NetTrain(net, DATA, ["NetTrainInputForm", "BatchLossList"], **opts)
    assert form.startswith("NetTrain(net, data, ['NetTrainInputForm', 'BatchLossList'], ")
    import netgraph
    again = eval(form, {**vars(netgraph), "net": net, "data": DATA})  # noqa: S307
    assert again[1] == losses
