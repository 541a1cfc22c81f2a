"""StateTransfer: stream layout, states carried across batches and reset per round, and a
dependency across batch boundaries that only stateful training can learn."""
import math

import numpy as np
import pytest

from netgraph import *  # noqa: F403

QUIET = {"TrainingProgressReporting": None}
STOP = {"TrainingProgressFunction": lambda info: "StopTraining"}


def accumulator():
    """FinalState = InitialState + Input: the carried state counts what the stream saw."""
    return NetGraph({"acc": ThreadingLayer(Plus), "lin": LinearLayer()},
                    [([NetPort("InitialState"), NetPort("Input")], "acc"),
                     ("acc", NetPort("FinalState")), ("acc", "lin", NetPort("Output"))],
                    Input="Real", InitialState="Real", Output="Real")


def memory():
    """Output reads the carried state; FinalState stores the input: y_t = x_{t-1} is learnable
    only when the state reaches the next batch."""
    return NetGraph({"store": LinearLayer(), "read": LinearLayer()},
                    [(NetPort("Input"), "store", NetPort("FinalState")),
                     (NetPort("InitialState"), "read", NetPort("Output"))],
                    Input="Real", InitialState="Real", FinalState="Real", Output="Real")


def test_stream_layout_continues_row_by_row():
    n, b = 22, 4                                # L = 5 examples per stream, 2 dropped
    data = {"Input": np.arange(n, dtype=float), "Output": np.zeros(n)}
    trainer, (gen, nmax) = NetTrain(accumulator(), data, ["$Trainer", "$TrainingGenerator"],
                                    StateTransfer={"FinalState": "InitialState"},
                                    BatchSize=b, **QUIET, **STOP)
    assert nmax == 5
    assert gen(1)["Input"].tolist() == [0, 5, 10, 15]
    for k in range(1, nmax):
        assert (gen(k + 1)["Input"] == gen(k)["Input"] + 1).all()
    assert "InitialState" not in gen(1)       # the trainer carries the state itself


def test_states_are_carried_and_reset_each_round():
    n, b = 12, 3
    data = {"Input": np.ones(n), "Output": np.zeros(n)}
    trainer, (gen, nmax) = NetTrain(accumulator(), data, ["$Trainer", "$TrainingGenerator"],
                                    StateTransfer={"FinalState": "InitialState"},
                                    BatchSize=b, **QUIET, **STOP)
    # NetTrain ran round 1: the state counted its nmax batches.
    assert Normal(trainer["States"]["InitialState"]).tolist() == [nmax] * b
    TrainerUpdate(trainer, gen(1))              # a new round starts from zeros
    assert Normal(trainer["States"]["InitialState"]).tolist() == [1.0] * b
    TrainerUpdate(trainer, gen(2))
    assert Normal(trainer["States"]["InitialState"]).tolist() == [2.0] * b
    trainer.reset_states()
    TrainerUpdate(trainer, gen(3))
    assert Normal(trainer["States"]["InitialState"]).tolist() == [1.0] * b


def test_stateful_training_learns_across_batch_boundaries():
    rng = np.random.default_rng(1)
    x = rng.choice([-1.0, 1.0], size=256)
    y = np.concatenate([[0.0], x[:-1]])         # y_t = x_{t-1}: the previous example
    opts = {"BatchSize": 8, "MaxTrainingRounds": 8, "Method": ("ADAM", {"LearningRate": 0.05}),
            **QUIET}
    stateful = NetTrain(memory(), {"Input": x, "Output": y}, "RoundLoss",
                        StateTransfer={"FinalState": "InitialState"}, **opts)
    stateless = NetTrain(memory(), {"Input": x, "Output": y, "InitialState": np.zeros(256)},
                         "RoundLoss", **opts)
    assert stateless > 0.8                      # nothing to learn from a zero state
    assert stateful < 0.2


def test_lstm_seed_example():
    series = np.cumsum(np.random.default_rng(0).integers(-1, 2, 81))
    X, Y = series[:-1].reshape(-1, 1, 1).astype(float), series[1:].astype(float)
    net = NetGraph(
        [LongShortTermMemoryLayer(2), SequenceLastLayer(), LinearLayer()],
        [(NetPort("InitialState"), NetPort(1, "State")),
         (NetPort("InitialCellState"), NetPort(1, "CellState")),
         (NetPort(1, "State"), NetPort("FinalState")),
         (NetPort(1, "CellState"), NetPort("FinalCellState")),
         (1, 2, 3)],
        Input=(1, 1), Output="Scalar")
    r = NetTrain(net, {"Input": X, "Output": Y}, All,
                 StateTransfer={"FinalState": "InitialState",
                                "FinalCellState": "InitialCellState"},
                 BatchSize=8, MaxTrainingRounds=2, **QUIET)
    assert r["BatchesPerRound"] == 80 // 8
    assert all(math.isfinite(v) for v in r["RoundLossList"])
    out = r["TrainedNet"]({"Input": X[:3]})
    assert np.isfinite(out["Output"]).all()


def test_state_transfer_errors():
    data = {"Input": np.ones(8), "Output": np.zeros(8)}
    with pytest.raises(OptionError, match='Did you mean "FinalState"'):
        NetTrain(accumulator(), data, StateTransfer={"FinalStat": "InitialState"}, **QUIET)
    with pytest.raises(OptionError, match='no such input. Did you mean "InitialState"'):
        NetTrain(accumulator(), data, StateTransfer={"FinalState": "InitState"}, **QUIET)
    with pytest.raises(TrainingError, match="only 8 examples"):
        NetTrain(accumulator(), data, StateTransfer={"FinalState": "InitialState"},
                 BatchSize=16, **QUIET)
    with pytest.raises(OptionError, match="StateTransfer"):
        NetTrain(accumulator(), data, StateTransfer="FinalState", **QUIET)


def test_a_list_of_series_runs_in_lanes_and_resets_where_a_series_starts():
    series = [{"Input": np.ones(n), "Output": np.zeros(n)} for n in (3, 2, 2)]
    trainer, (gen, nmax) = NetTrain(accumulator(), series, ["$Trainer", "$TrainingGenerator"],
                                    StateTransfer={"FinalState": "InitialState"},
                                    BatchSize=2, **QUIET, **STOP)
    assert nmax == 3          # lane 1: series 1; lane 2: series 2 then 3 (cut to 3 steps)
    assert [gen(k)["$SeriesStart"].tolist() for k in (1, 2, 3)] == [
        [True, True], [False, False], [False, True]]
    # after round 1 the counts restart where series 3 began in lane 2
    assert Normal(trainer["States"]["InitialState"]).tolist() == [3.0, 1.0]
    TrainerUpdate(trainer, gen(1))
    TrainerUpdate(trainer, gen(2))
    assert Normal(trainer["States"]["InitialState"]).tolist() == [2.0, 2.0]
    TrainerUpdate(trainer, gen(3))
    assert Normal(trainer["States"]["InitialState"]).tolist() == [3.0, 1.0]


def test_series_errors():
    series = [{"Input": np.ones(n), "Output": np.zeros(n)} for n in (3, 2)]
    with pytest.raises(TrainingError, match="only 2 series"):
        NetTrain(accumulator(), series, StateTransfer={"FinalState": "InitialState"},
                 BatchSize=3, **QUIET)
    with pytest.raises(TrainingError, match="cut series apart"):
        NetTrain(accumulator(), series, StateTransfer={"FinalState": "InitialState"},
                 BatchSize=2, ValidationSet=Scaled(0.5), **QUIET)
    with pytest.raises(TrainingError, match="series 2 has the columns"):
        NetTrain(accumulator(), [series[0], {"Input": np.ones(2)}],
                 StateTransfer={"FinalState": "InitialState"}, BatchSize=2, **QUIET)
