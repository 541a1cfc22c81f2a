"""NetTrain's options: the WL names users type, one snake_case table behind them.

Every option NetTrain accepts is a row of :data:`OPTIONS`; :func:`parse_options` checks the
names (an unknown one gets an error naming the nearest valid spelling), fills in WL's
defaults, validates the simple values and returns a frozen :class:`TrainOptions`. Structured
values (Method, loss specs, progress forms) are validated by the module that uses them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ..errors import OptionError, nearest
from ..symbols import Automatic, Inherited, Scaled

HEAD = "NetTrain"

# WL option name -> (field name, default).
OPTIONS: dict[str, tuple[str, Any]] = {
    "BatchSize": ("batch_size", Automatic),
    "MaxTrainingRounds": ("max_training_rounds", Automatic),
    "TimeGoal": ("time_goal", Automatic),
    "Method": ("method", Automatic),
    "LearningRate": ("learning_rate", Automatic),
    "LossFunction": ("loss_function", Automatic),
    "LearningRateMultipliers": ("learning_rate_multipliers", Automatic),
    "ValidationSet": ("validation_set", None),
    "TrainingStoppingCriterion": ("training_stopping_criterion", None),
    "TrainingProgressReporting": ("training_progress_reporting", Automatic),
    "TrainingProgressFunction": ("training_progress_function", None),
    "TrainingProgressCheckpointing": ("training_progress_checkpointing", None),
    "TrainingProgressMeasurements": ("training_progress_measurements", Automatic),
    "RandomSeeding": ("random_seeding", 1234),
    "TargetDevice": ("target_device", "CPU"),
    "WorkingPrecision": ("working_precision", Automatic),
    "StateTransfer": ("state_transfer", None),
    "Mirroring": ("mirroring", False),
    "ResumeFrom": ("resume_from", None),
}


@dataclass(frozen=True)
class TrainOptions:
    """NetTrain's options under snake_case names (see :data:`OPTIONS` for the WL names)."""

    batch_size: Any = Automatic
    max_training_rounds: Any = Automatic
    time_goal: Any = Automatic
    method: Any = Automatic
    learning_rate: Any = Automatic
    loss_function: Any = Automatic
    learning_rate_multipliers: Any = Automatic
    validation_set: Any = None
    training_stopping_criterion: Any = None
    training_progress_reporting: Any = Automatic
    training_progress_function: Any = None
    training_progress_checkpointing: Any = None
    training_progress_measurements: Any = Automatic
    random_seeding: Any = 1234
    target_device: Any = "CPU"
    working_precision: Any = Automatic
    state_transfer: Any = None
    mirroring: Any = False
    resume_from: Any = None


def parse_options(given: Mapping[str, Any], head: str = HEAD) -> TrainOptions:
    """WL-named keyword options -> :class:`TrainOptions`, with WL's defaults and checks.

    >>> parse_options({"BatchSize": 8}).batch_size
    8
    >>> parse_options({"BatchSise": 8})
    Traceback (most recent call last):
    ...
    netgraph.errors.OptionError: NetTrain: unknown option BatchSise. Did you mean "BatchSize"? ...
    """
    values: dict[str, Any] = {}
    for name, value in given.items():
        if name not in OPTIONS:
            raise OptionError(head, f"unknown option {name}.{nearest(name, OPTIONS)} Valid "
                              f"options are: {', '.join(sorted(OPTIONS))}.")
        values[OPTIONS[name][0]] = value
    opts = TrainOptions(**values)
    _check_positive(head, "BatchSize", opts.batch_size)
    _check_positive(head, "MaxTrainingRounds", opts.max_training_rounds)
    time_goal_seconds(opts.time_goal, head)
    _check_choice(head, "WorkingPrecision", opts.working_precision,
                  (Automatic, "Real32", "Real64", "Mixed"))
    _check_choice(head, "Mirroring", opts.mirroring, (True, False, Automatic))
    _check_seed(head, opts.random_seeding)
    _check_validation(head, opts.validation_set)
    if opts.training_progress_measurements not in (Automatic, None, "Loss"):
        raise OptionError(head, "TrainingProgressMeasurements other than the loss (Automatic, "
                          f'"Loss" or None) are not supported yet, but received '
                          f"{opts.training_progress_measurements!r}.")
    return opts


def option_name(field: str) -> str:
    """The WL name of a :class:`TrainOptions` field (for messages)."""
    for wl, (f, _) in OPTIONS.items():
        if f == field:
            return wl
    raise KeyError(field)  # pragma: no cover - fields mirror the table


def _check_positive(head: str, name: str, value: Any) -> None:
    if value is Automatic:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(head, f"expected {name} to be a positive integer or Automatic, but "
                          f"received {value!r}.")


def _check_choice(head: str, name: str, value: Any, allowed: tuple) -> None:
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        words = ", ".join(repr(a) for a in allowed)
        raise OptionError(head, f"expected {name} to be one of {words}, but received "
                          f"{value!r}.")


def _check_seed(head: str, seed: Any) -> None:
    ok = seed is Automatic or seed is Inherited or isinstance(seed, str) or (
        isinstance(seed, int) and not isinstance(seed, bool))
    if not ok:
        raise OptionError(head, f"expected RandomSeeding to be an integer, a string, Automatic "
                          f"or Inherited, but received {seed!r}.")


def _check_validation(head: str, v: Any) -> None:
    if isinstance(v, Scaled) and not 0 < v.value < 1:
        raise OptionError(head, f"expected ValidationSet=Scaled(f) with 0 < f < 1, but "
                          f"received {v!r}.")


SECONDS = {"Seconds": 1.0, "Minutes": 60.0, "Hours": 3600.0, "Days": 86400.0}


def time_goal_seconds(goal: Any, head: str = HEAD) -> float | None:
    """TimeGoal as seconds: a number of seconds, ``(n, "Minutes")``, or None for Automatic."""
    if goal is Automatic or goal is None:
        return None
    if isinstance(goal, tuple) and len(goal) == 2 and goal[1] in SECONDS:
        goal = goal[0] * SECONDS[goal[1]]
    if isinstance(goal, bool) or not isinstance(goal, (int, float)) or goal <= 0:
        raise OptionError(head, f'expected TimeGoal to be a positive number of seconds or (n, '
                          f'"Minutes"), but received {goal!r}.')
    return float(goal)


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(TrainOptions))
