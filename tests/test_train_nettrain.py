"""NetTrain end to end: call forms, data forms, properties, options, reproducibility, NaN."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.train.losses import NODE

QUIET = {"TrainingProgressReporting": None}
RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 3))
Y = X @ np.array([1.0, -2.0, 0.5]) + 0.1
DATA = {"Input": X, "Output": Y}


def mlp():
    return NetChain([LinearLayer(6), Tanh, LinearLayer()], Input=3, Output="Real")


def weights(net, *parts):
    return [np.asarray(NetExtract(net, (p, "Weights"))) for p in parts]


def same(a, b, parts=(1, 3)):
    pairs = zip(weights(a, *parts), weights(b, *parts), strict=True)
    return all(np.array_equal(x, y) for x, y in pairs)


def train(net=None, data=DATA, *args, **opts):
    kw = {"MaxTrainingRounds": 2, "BatchSize": 8, **QUIET, **opts}
    return NetTrain(mlp() if net is None else net, data, *args, **kw)


# -- call forms and data forms -----------------------------------------------------------
def test_scalar_map_from_uninitialized_linear_layer():
    net = LinearLayer()
    trained = NetTrain(net, {1: 1.9, 2: 4.1, 3: 6.0, 4: 8.1}, MaxTrainingRounds=2, **QUIET)
    assert trained.head == "LinearLayer" and trained.is_initialized()
    assert Information(trained, "InputPorts") == {"Input": "Real"}
    assert isinstance(trained(2.0), float)
    assert not net.is_initialized()  # the input net never changes


def test_call_forms_agree():
    a = train()
    b = train(None, DATA, "TrainedNet")
    c = train(None, DATA, Automatic, "TrainedNet")
    d = train(None, DATA, LossFunction="Output")
    e = train(None, DATA, "Output", "TrainedNet")
    for other in (b, c, d, e):
        assert same(a, other)


def test_loss_given_twice_is_an_error():
    with pytest.raises(OptionError, match="given twice"):
        train(None, DATA, "Output", "TrainedNet", LossFunction="Output")


@pytest.mark.parametrize("form", ["rules", "pairs", "pair_of_lists", "list_of_dicts"])
def test_data_forms_train_the_same(form):
    xs, ys = [1.0, 2.0, 3.0, 4.0], [2.0, 4.1, 5.9, 8.0]
    data = {"rules": dict(zip(xs, ys, strict=True)), "pairs": list(zip(xs, ys, strict=True)),
            "pair_of_lists": (xs, ys),
            "list_of_dicts": [{"Input": x, "Output": y} for x, y in zip(xs, ys, strict=True)]}[form]
    ref = NetTrain(LinearLayer(), {"Input": xs, "Output": ys}, MaxTrainingRounds=2, **QUIET)
    got = NetTrain(LinearLayer(), data, MaxTrainingRounds=2, **QUIET)
    assert np.array_equal(NetExtract(ref, "Weights"), NetExtract(got, "Weights"))


def test_generator_function_and_round_length():
    seen = []

    def f(info):
        seen.append(dict(info))
        x = np.full((info["BatchSize"], 3), float(info["Batch"]))
        return {"Input": x, "Output": x.sum(1)}
    r = train(None, (f, {"RoundLength": 16}), All, BatchSize=4)
    assert r["BatchesPerRound"] == 4 and r["TotalBatches"] == 8
    assert {"BatchSize", "Round", "Batch", "AbsoluteBatch"} <= set(seen[0])
    assert [s["Batch"] for s in seen[-4:]] == [1, 2, 3, 4]
    r = train(None, f, All)  # without RoundLength: one batch per round
    assert r["BatchesPerRound"] == 1


def test_unknown_column_and_missing_column():
    with pytest.raises(TrainingError, match='no such input. Did you mean "Input"'):
        train(None, {"Inptu": X, "Output": Y})
    with pytest.raises(TrainingError, match="no loss output"):
        train(None, {"Input": X})


def test_data_of_the_wrong_shape():
    with pytest.raises(ShapeError, match="expects a vector of size 3"):
        train(None, {"Input": X[:, :2], "Output": Y})


# -- properties --------------------------------------------------------------------------
def test_properties_and_lists():
    r = train(None, DATA, All)
    assert isinstance(r, NetTrainResultsObject)
    assert len(r["RoundLossList"]) == 2 and len(r["BatchLossList"]) == 8
    assert r["FinalRoundLoss"] == r["RoundLoss"] == r["RoundLossList"][-1]
    assert r["TotalRounds"] == 2 and r["BatchesPerRound"] == 4 and r["ExamplesProcessed"] == 64
    assert r["MeanExamplesPerSecond"] > 0 and r["TotalTrainingTime"] > 0
    assert r["TrainingNet"].nodes[NODE].head == "NetChain"
    net, losses = train(None, DATA, ["TrainedNet", "RoundLossList"])
    assert net.head == "NetChain" and len(losses) == 2
    assert train(None, DATA, "ResultsObject")["TotalRounds"] == 2


def test_unknown_property_names_the_nearest():
    with pytest.raises(TrainingError, match='Did you mean "RoundLoss"'):
        train(None, DATA, "RoundLos")


def test_loss_plot_is_a_figure():
    from matplotlib.figure import Figure
    assert isinstance(train(None, DATA, "LossEvolutionPlot"), Figure)


# -- options -----------------------------------------------------------------------------
def test_unknown_option_names_the_nearest():
    with pytest.raises(OptionError, match='Did you mean "BatchSize"'):
        train(None, DATA, BatchSise=4)


def test_reproducible_under_random_seeding():
    assert same(train(), train())
    assert same(train(RandomSeeding=7), train(RandomSeeding=7))
    assert not same(train(RandomSeeding=7), train(RandomSeeding=8))


def test_global_torch_rng_is_left_alone():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    train(NetChain([LinearLayer(6), DropoutLayer(0.5), LinearLayer()], Input=3))
    assert torch.equal(torch.rand(3), expected)


def test_validation_set_gives_the_best_net():
    r = train(None, DATA, All, ValidationSet=Scaled(0.25), MaxTrainingRounds=4)
    assert r["ValidationExamples"] == 8 and r["TrainingExamples"] == 24
    vl = r["ValidationLossList"]
    assert len(vl) == 4 and r["ValidationLoss"] == vl[-1]
    assert r["BestValidationRound"] == int(np.argmin(vl)) + 1
    r2 = train(None, DATA, All, ValidationSet={"Input": X[:8], "Output": Y[:8]})
    assert r2["ValidationExamples"] == 8 and r2["TrainingExamples"] == 32


def test_validation_set_trained_net_is_the_lowest_validation_loss():
    vx = RNG.normal(size=(8, 3))
    # A validation set the net cannot fit: the loss rises while the training loss falls.
    r = train(None, DATA, All, ValidationSet={"Input": vx, "Output": -(vx @ [1.0, -2, 0.5])},
              MaxTrainingRounds=5, Method=("ADAM", {"LearningRate": 0.05}))
    best = r["BestValidationRound"]
    assert best < 5 and not same(r["TrainedNet"], r["FinalNet"])


def test_max_training_rounds_and_time_goal():
    r = train(None, DATA, All, MaxTrainingRounds=Automatic, TimeGoal=0.3)
    assert r["ReasonTrainingStopped"] in ("TimeGoalReached", "MaxTrainingRoundsReached")
    assert r["TotalTrainingTime"] < 5
    with pytest.raises(OptionError, match="TimeGoal"):
        train(None, DATA, TimeGoal=-1)


def test_working_precision_real64_keeps_real32_arrays():
    net = train(WorkingPrecision="Real64")
    assert NetExtract(net, (1, "Weights")).dtype == np.float32
    with pytest.raises(OptionError, match="WorkingPrecision"):
        train(WorkingPrecision="Real16")


def test_target_device_gpu_without_gpu():
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(OptionError, match="no GPU"):
        train(TargetDevice="GPU")


def test_mirroring_is_accepted():
    assert same(train(Mirroring=True), train())


# -- faults ------------------------------------------------------------------------------
def test_nan_loss_stops_with_the_last_finite_net():
    # NaN in the data is refused (tests/test_bad_data.py); a target too large for float32
    # makes the loss overflow instead
    data = {"Input": X, "Output": np.where(np.arange(32) == 20, 1e30, Y)}
    r = train(None, data, All, BatchSize=8, MaxTrainingRounds=3,
              Method=("SGD", {"LearningRate": 0.01}))
    reason = r["ReasonTrainingStopped"]
    assert "the loss became inf in round 1, batch" in reason
    assert np.isfinite(r["BatchLossList"]).all()
    for w in weights(r["TrainedNet"], 1, 3):
        assert np.isfinite(w).all()


def test_nan_message_is_printed_when_reporting(capsys):
    data = {"Input": X, "Output": np.full(32, 1e30)}
    NetTrain(mlp(), data, MaxTrainingRounds=1, TrainingProgressReporting="Print")
    assert "the loss became" in capsys.readouterr().out


def test_generator_order_is_what_netTrain_trains_on():
    net = NetChain([LinearLayer()], Input=3, Output="Real")
    sgd = ("SGD", {"Momentum": None, "LearningRateSchedule": None, "LearningRate": 0.1})
    trained, (gen, nmax), tnet = train(net, DATA, ["TrainedNet", "$TrainingGenerator",
                                                   "TrainingNet"], MaxTrainingRounds=1,
                                       Method=sgd)
    init = NetInitialize(tnet.nodes[NODE], All)   # the arrays NetTrain started from
    w = torch.tensor(NetExtract(init, (1, "Weights")), requires_grad=True)
    b = torch.tensor(NetExtract(init, (1, "Biases")), requires_grad=True)
    assert nmax == 4
    for i in range(1, nmax + 1):
        batch = gen(i)
        x, y = torch.tensor(batch["Input"]), torch.tensor(batch["Output"])
        loss = torch.square(x @ w.T + b - y[:, None]).mean()
        loss.backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            b -= 0.1 * b.grad
            w.grad = b.grad = None
    np.testing.assert_allclose(NetExtract(trained, (1, "Weights")), w.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(TrainingError, match="between 1 and 4"):
        gen(5)


def test_training_net_holds_the_trained_net():
    trained, tnet = train(None, DATA, ["TrainedNet", "TrainingNet"])
    assert same(trained, tnet.nodes[NODE])
    assert "OutputLoss" in tnet.params["outputs"]


def test_mixed_precision_needs_a_gpu():
    with pytest.raises(OptionError, match='"Mixed" needs TargetDevice "GPU"'):
        train(WorkingPrecision="Mixed")


def test_random_seeding_automatic_and_inherited():
    assert not same(train(RandomSeeding=Automatic), train(RandomSeeding=Automatic))
    np.random.seed(11)
    a = train(RandomSeeding=Inherited)
    np.random.seed(11)
    assert same(a, train(RandomSeeding=Inherited))
