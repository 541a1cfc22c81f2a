"""NetTrain's options table: WL names, defaults, validation, nearest-name errors."""
import pytest

from netgraph import *  # noqa: F403
from netgraph.train.options import OPTIONS, TrainOptions, parse_options, time_goal_seconds


def test_defaults_and_snake_case():
    o = parse_options({})
    assert o.batch_size is Automatic and o.max_training_rounds is Automatic
    assert o.random_seeding == 1234 and o.target_device == "CPU"
    assert parse_options({"MaxTrainingRounds": 3}).max_training_rounds == 3
    assert len({o.field for o in OPTIONS.values()}) == len(OPTIONS)
    assert OPTIONS["TrainingProgressMeasurements"].field == "training_progress_measurements"


def test_each_option_is_defined_once_with_a_doc_line():
    """The table is the only place defaults live: TrainOptions() holds exactly them."""
    o = TrainOptions()
    for name, opt in OPTIONS.items():
        assert getattr(o, opt.field) is opt.default or getattr(o, opt.field) == opt.default
        assert opt.doc and opt.name == name
    with pytest.raises(AttributeError):
        o.batch_size = 3
    assert o.replace(batch_size=3).batch_size == 3 and o.batch_size is Automatic
    assert parse_options({"BatchSize": 3}) == o.replace(batch_size=3)


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


def test_measurements_are_parsed_with_the_options():
    assert parse_options({}).training_progress_measurements is Automatic
    assert parse_options({"TrainingProgressMeasurements": None}).training_progress_measurements \
        == []
    ms = parse_options({"TrainingProgressMeasurements": ["Loss", "Accuracy"]})
    assert [m.key for m in ms.training_progress_measurements] == ["Accuracy"]
    with pytest.raises(OptionError, match='"Acuracy" is not a supported measurement'):
        parse_options({"TrainingProgressMeasurements": "Acuracy"})


def test_one_seed_function():
    import zlib

    import numpy as np

    from netgraph.backend.init import seed_of
    assert seed_of(5) == 5 and seed_of(2**63 + 5) == 5 and seed_of(-1) == 2**63 - 1
    assert seed_of(np.int64(7)) == 7
    assert seed_of("abc") == zlib.crc32(b"abc")
    assert seed_of(Automatic) != seed_of(Automatic)
    np.random.seed(3)
    a = seed_of(Inherited)
    np.random.seed(3)
    assert seed_of(Inherited) == a
    with pytest.raises(OptionError, match="NetTrain: expected RandomSeeding to be an integer"):
        seed_of(1.5, "NetTrain")
    with pytest.raises(OptionError, match="NetInitialize: expected RandomSeeding"):
        NetInitialize(LinearLayer(2, Input=3), RandomSeeding=True)


def test_nettrain_initializes_as_netinitialize_with_the_same_seed():
    import numpy as np
    net = LinearLayer(2, Input=3)
    trained = NetTrain(net, {"Input": np.zeros((4, 3)), "Output": np.zeros((4, 2))},
                       "TrainingNet", MaxTrainingRounds=1,  # zero inputs: Weights get no gradient
                       RandomSeeding="s", TrainingProgressReporting=None)
    ref = NetInitialize(net, RandomSeeding="s")
    w = NetExtract(NetExtract(trained, "net"), "Weights")
    assert np.array_equal(np.asarray(w), np.asarray(NetExtract(ref, "Weights")))


def test_run_construction_does_no_work():
    from netgraph.train.nettrain import Run
    run = Run(LinearLayer(2, Input=3), "no data", Automatic,
              parse_options({"ResumeFrom": "/nonexistent/checkpoint"}))
    assert not run.started
    with pytest.raises(NetGraphError):
        run.start()
