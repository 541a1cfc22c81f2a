"""The contract's examples written in WL give the same results as their Python versions."""
import sys
from pathlib import Path

import numpy as np
import pytest

from netgraph import (
    Automatic,
    LinearLayer,
    MeanAbsoluteLossLayer,
    NetChain,
    NetGraph,
    NetInitialize,
    NetPort,
    NetTrain,
    Normal,
    Plus,
    Ramp,
    Scaled,
    ThreadingLayer,
    TrainerCurrentLoss,
    TrainerUpdate,
)
from netgraph.wl import evaluate, to_wl
from netgraph.wl.writer import same_net

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import seed_nets  # noqa: E402 - the Python seed graph the other tests share

SEED_GRAPH_WL = '''
net = NetInitialize[NetGraph[
  {LongShortTermMemoryLayer[2], SequenceLastLayer[], LinearLayer[]},
  {NetPort["InitialState"] -> NetPort[1, "State"],
   NetPort["InitialCellState"] -> NetPort[1, "CellState"],
   NetPort[1, "State"] -> NetPort["FinalState"],
   NetPort[1, "CellState"] -> NetPort["FinalCellState"],
   1 -> 2 -> 3},
  "Input" -> {1, 1}, "Output" -> "Scalar"]];
net[<|"Input" -> {{1}}, "InitialState" -> {0, 0}, "InitialCellState" -> {0, 0}|>]
'''


def seed_graph_py():
    return NetInitialize(seed_nets.seed_graph())


def test_seed_example_1_graph_construction_and_evaluation():
    env = {}
    out = evaluate(SEED_GRAPH_WL, env)
    net = seed_graph_py()
    assert same_net(env["net"], net, arrays=True)
    expected = net({"Input": [[1]], "InitialState": [0, 0], "InitialCellState": [0, 0]})
    assert out.keys() == expected.keys()
    for k in out:
        np.testing.assert_array_equal(out[k], expected[k])
    assert to_wl(env["net"]) == to_wl(net)


def test_seed_example_2_trainer_and_generator():
    wl = '''
net = LinearLayer[];
data = {1 -> 1.9, 2 -> 4.1, 3 -> 6.0, 4 -> 8.1};
{trainer, {gen, nmax}} = NetTrain[net, data, Automatic, {"$Trainer", "$TrainingGenerator"},
  Method -> {"ADAM", "LearningRateSchedule" -> None}, TrainingProgressReporting -> None,
  TrainingProgressFunction -> Function["StopTraining"]];
batch = gen[1];
TrainerUpdate[trainer, batch];
{batch, TrainerCurrentLoss[trainer], nmax}'''
    batch_wl, loss_wl, nmax_wl = evaluate(wl)
    trainer, (gen, nmax) = NetTrain(
        LinearLayer(), {1: 1.9, 2: 4.1, 3: 6.0, 4: 8.1}, Automatic,
        ["$Trainer", "$TrainingGenerator"],
        Method=("ADAM", {"LearningRateSchedule": None}), TrainingProgressReporting=None,
        TrainingProgressFunction=lambda info: "StopTraining")
    batch = gen(1)
    TrainerUpdate(trainer, batch)
    assert nmax_wl == nmax
    for k in batch:
        np.testing.assert_array_equal(batch_wl[k], batch[k])
    assert loss_wl == TrainerCurrentLoss(trainer)


def test_seed_example_3_scaled_zero_state_output():
    wl = '''
net = NetGraph[{ThreadingLayer[Plus], LinearLayer[], MeanAbsoluteLossLayer[]},
  {{NetPort["Input"], NetPort["StateIn"]} -> 1 -> 2 -> 3 -> NetPort["Loss"],
   2 -> NetPort["StateOut"]},
  "Input" -> "Real", "Target" -> "Real"];
data = <|"Input" -> {1, 2, 3, 4}, "StateIn" -> {1, 2, 3, 4}, "Target" -> {5, 6, 8, 9}|>;
{trainer, {gen, nmax}} = NetTrain[net, data, <|"Loss" -> Scaled[1], "StateOut" -> Scaled[0]|>,
  {"$Trainer", "$TrainingGenerator"}, TrainingProgressReporting -> None,
  TrainingProgressFunction -> Function["StopTraining"]];
TrainerUpdate[trainer, gen[1]];
Normal[trainer["OutputArrays"]["StateOut"]]'''
    state_wl = evaluate(wl)
    net = NetGraph(
        [ThreadingLayer(Plus), LinearLayer(), MeanAbsoluteLossLayer()],
        [([NetPort("Input"), NetPort("StateIn")], 1, 2, 3, NetPort("Loss")),
         (2, NetPort("StateOut"))],
        Input="Real", Target="Real")
    data = {"Input": [1, 2, 3, 4], "StateIn": [1, 2, 3, 4], "Target": [5, 6, 8, 9]}
    trainer, (gen, nmax) = NetTrain(
        net, data, {"Loss": Scaled(1), "StateOut": Scaled(0)},
        ["$Trainer", "$TrainingGenerator"], TrainingProgressReporting=None,
        TrainingProgressFunction=lambda info: "StopTraining")
    TrainerUpdate(trainer, gen(1))
    np.testing.assert_array_equal(state_wl, Normal(trainer["OutputArrays"]["StateOut"]))


def test_stateful_training_with_StateTransfer():
    wl = SEED_GRAPH_WL.split("net[<|")[0] + '''
SeedRandom[1];
series = Accumulate[RandomInteger[{-1, 1}, 41]];
X = Partition[Partition[series[[;; -2]], 1], 1];
Y = series[[2 ;;]];
trained = NetTrain[net, <|"Input" -> X, "Output" -> Y|>,
  StateTransfer -> <|"FinalState" -> "InitialState", "FinalCellState" -> "InitialCellState"|>,
  BatchSize -> 4, MaxTrainingRounds -> 2, TrainingProgressReporting -> None];'''
    env = {}
    evaluate(wl, env)
    trained = NetTrain(seed_graph_py(), {"Input": env["X"], "Output": env["Y"]},
                       StateTransfer={"FinalState": "InitialState",
                                      "FinalCellState": "InitialCellState"},
                       BatchSize=4, MaxTrainingRounds=2, TrainingProgressReporting=None)
    assert env["X"].shape == (40, 1, 1) and env["Y"].shape == (40,)
    assert same_net(env["trained"], trained, arrays=True)


def test_wl_text_section_of_the_contract():
    env = {}
    out = evaluate('net = NetChain[{LinearLayer[3], Ramp, LinearLayer[]}, "Input" -> 2, '
                   '"Output" -> "Scalar"] // NetInitialize; net[{1, 2}]', env)
    py = NetInitialize(NetChain([LinearLayer(3), Ramp, LinearLayer()], Input=2,
                                Output="Scalar"))
    assert out == py([1, 2])
    assert to_wl(env["net"]).startswith('NetChain[{LinearLayer[3, "Input" -> 2')
    assert same_net(evaluate(to_wl(env["net"])), py, arrays=False)


@pytest.mark.parametrize("text", ["NetTrain[LinearLayer[], {1 -> 2}, \"Bogus\"]"])
def test_netgraph_errors_come_through_with_the_position(text):
    from netgraph import NetGraphError
    with pytest.raises(NetGraphError, match=r"NetTrain: .*at line 1, column 1\)"):
        evaluate(text)
