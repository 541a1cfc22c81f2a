"""NetTrain's options table: WL names, defaults, validation, nearest-name errors."""
import pytest

from netgraph import *  # noqa: F403
from netgraph.train.options import OPTIONS, parse_options, time_goal_seconds


def test_defaults_and_snake_case():
    o = parse_options({})
    assert o.batch_size is Automatic and o.max_training_rounds is Automatic
    assert o.random_seeding == 1234 and o.target_device == "CPU"
    assert parse_options({"MaxTrainingRounds": 3}).max_training_rounds == 3
    assert len({f for f, _ in OPTIONS.values()}) == len(OPTIONS)


def test_unknown_option_names_the_nearest():
    with pytest.raises(OptionError, match='unknown option MaxTrainingRound. Did you mean '
                                          '"MaxTrainingRounds"'):
        parse_options({"MaxTrainingRound": 3})


@pytest.mark.parametrize("name,value,fragment", [
    ("BatchSize", 0, "BatchSize to be a positive integer"),
    ("MaxTrainingRounds", 2.5, "MaxTrainingRounds to be a positive integer"),
    ("WorkingPrecision", "Real16", "WorkingPrecision to be one of"),
    ("Mirroring", "yes", "Mirroring to be one of"),
    ("RandomSeeding", 1.5, "RandomSeeding to be"),
    ("ValidationSet", Scaled(1.5), "0 < f < 1"),
    ("TimeGoal", "soon", "TimeGoal"),
])
def test_invalid_values(name, value, fragment):
    with pytest.raises(OptionError, match=fragment):
        parse_options({name: value})


def test_time_goal():
    assert time_goal_seconds(Automatic) is None
    assert time_goal_seconds(2) == 2.0
    assert time_goal_seconds((1.5, "Minutes")) == 90.0


def test_measurements_beyond_the_loss_are_refused():
    assert parse_options({"TrainingProgressMeasurements": "Loss"})
    with pytest.raises(OptionError, match="TrainingProgressMeasurements other than the loss"):
        parse_options({"TrainingProgressMeasurements": "Accuracy"})
