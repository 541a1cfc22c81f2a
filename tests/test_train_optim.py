"""WL methods on torch optimizers: defaults, suboptions, schedules, clipping."""
import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.train.optim import SignSGD, Updater, parse_method, schedule_of, torch_optimizer

QUIET = {"TrainingProgressReporting": None}
X = np.random.default_rng(0).normal(size=(16, 3))
DATA = {"Input": X, "Output": X.sum(1)}


def net():
    return NetChain([LinearLayer(4), Tanh, LinearLayer()], Input=3, Output="Real")


def test_wl_defaults():
    adam = parse_method(Automatic)
    assert adam.name == "ADAM" and adam.learning_rate == 0.001
    assert (adam.sub["Beta1"], adam.sub["Beta2"], adam.sub["Epsilon"]) == (0.9, 0.999, 1e-5)
    assert adam.sub["LearningRateSchedule"] is None
    sgd = parse_method("SGD")
    assert (sgd.learning_rate, sgd.sub["Momentum"], sgd.sub["LearningRateSchedule"]) == (
        0.01, 0.93, "Polynomial")
    rms = parse_method("RMSProp")
    assert (rms.learning_rate, rms.sub["Beta"], rms.sub["Momentum"], rms.sub["Epsilon"]) == (
        0.001, 0.95, 0.9, 1e-6)
    assert parse_method("SignSGD").sub["Momentum"] == 0.93
    assert parse_method("ADAM", 0.05).learning_rate == 0.05     # NetTrain's LearningRate
    assert parse_method(("ADAM", {"InitialLearningRate": 0.2})).learning_rate == 0.2


def test_method_errors_name_the_nearest():
    with pytest.raises(OptionError, match='Did you mean "ADAM"'):
        parse_method("ADAMM")
    with pytest.raises(OptionError, match='Did you mean "Beta1"'):
        parse_method(("ADAM", {"Beta_1": 0.5}))
    with pytest.raises(OptionError, match="LearningRate to be a positive number"):
        parse_method(("SGD", {"LearningRate": -1}))


def params():
    torch.manual_seed(0)
    return [torch.nn.Parameter(torch.randn(3))]


def test_torch_optimizers():
    opt = torch_optimizer(parse_method("ADAM"), [{"params": params()}])
    assert isinstance(opt, torch.optim.Adam)
    g = opt.param_groups[0]
    assert g["betas"] == (0.9, 0.999) and g["eps"] == 1e-5
    opt = torch_optimizer(parse_method(("SGD", {"Momentum": None})), [{"params": params()}])
    assert isinstance(opt, torch.optim.SGD) and opt.param_groups[0]["momentum"] == 0.0
    opt = torch_optimizer(parse_method("RMSProp"), [{"params": params()}])
    g = opt.param_groups[0]
    assert g["alpha"] == 0.95 and g["centered"] and g["momentum"] == 0.9
    assert isinstance(torch_optimizer(parse_method("SignSGD"), [{"params": params()}]),
                      SignSGD)


def test_sign_sgd_steps_by_the_sign():
    p = params()
    before = p[0].detach().clone()
    p[0].grad = torch.tensor([0.5, -3.0, 0.0])
    SignSGD(p, lr=0.1, momentum=0.0).step()
    assert torch.allclose(p[0], before - 0.1 * torch.tensor([1.0, -1.0, 0.0]))


def test_schedules():
    assert schedule_of(None) is None
    poly = schedule_of("Polynomial")
    assert poly(1, 10) == 1.0 and poly(11, 10) == pytest.approx(np.sqrt(1 - 10 / 11))
    with pytest.raises(OptionError, match="LearningRateSchedule"):
        schedule_of("Cosine")


def test_updater_applies_the_schedule_and_clipping():
    p = params()
    opt = torch.optim.SGD([{"params": p, "lr": 1.0}], lr=1.0)
    up = Updater(opt, lambda b, total: 0.5, 4, [(p, 0.1)], [(p, 0.2)])
    p[0].grad = torch.tensor([5.0, -5.0, 0.01])
    before = p[0].detach().clone()
    up.step()
    assert opt.param_groups[0]["lr"] == 0.5 and up.count == 1
    step = before - 0.5 * torch.tensor([0.1, -0.1, 0.01])    # gradient clipped to 0.1
    assert torch.allclose(p[0], step.clamp(-0.2, 0.2))       # weights clipped to 0.2
    bad = Updater(opt, lambda b, total: -1.0, 4, [], [])
    with pytest.raises(TrainingError, match="returned -1.0 for batch 1 of 4"):
        bad.step()


def test_schedule_sees_every_batch_of_the_known_total():
    seen = []

    def f(batch, total):
        seen.append((batch, total))
        return 1.0
    NetTrain(net(), DATA, Method=("ADAM", {"LearningRateSchedule": f}), BatchSize=4,
             MaxTrainingRounds=3, **QUIET)
    assert seen == [(b, 12) for b in range(1, 13)]


def test_polynomial_schedule_in_netTrain():
    r = NetTrain(net(), DATA, All, Method="SGD", BatchSize=4, MaxTrainingRounds=2, **QUIET)
    assert r["InitialLearningRate"] == 0.01
    assert r["FinalLearningRate"] == pytest.approx(0.01 * np.sqrt(1 - 7 / 9))


@pytest.mark.parametrize("method", ["ADAM", "SGD", "RMSProp", "SignSGD"])
def test_every_method_trains(method):
    r = NetTrain(net(), DATA, All, Method=(method, {"LearningRate": 0.01}), BatchSize=4,
                 MaxTrainingRounds=3, **QUIET)
    assert r["OptimizationMethod"] == method
    assert r["RoundLossList"][-1] < r["RoundLossList"][0]


def test_per_array_suboptions():
    trainer = NetTrain(net(), DATA, "$Trainer", MaxTrainingRounds=1, BatchSize=4, **QUIET,
                       Method=("ADAM", {"L2Regularization": [(1, 0.1), (All, None)],
                                        "WeightClipping": 0.05}))
    decays = sorted(g["weight_decay"] for g in trainer["Optimizer"].param_groups)
    assert decays == [0.0, 0.1]
    w = Normal(NetExtract(trainer["Net"], (3, "Weights")))
    assert np.abs(w).max() <= 0.05 + 1e-7
