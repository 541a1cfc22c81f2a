"""NetTrain's options: the WL names users type, one table behind them.

Every option NetTrain accepts is one :class:`Option` row of :data:`OPTIONS`: its WL name,
its default, its parser and one line of documentation; the snake_case field name is derived
from the WL name. :func:`parse_options` checks the names (an unknown one gets an error
naming the nearest valid spelling), fills in WL's defaults, runs each parser and returns a
frozen :class:`TrainOptions`. Structured values (Method, loss specs, progress forms) are
validated in depth by the module that uses them; their parser here is ``None``.

Adding an option is one ``Option(...)`` line here and the code that reads
``opts.<snake_case_name>``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..backend.init import check_seed
from ..errors import OptionError, nearest
from ..measure.spec import parse_measurements
from ..symbols import Automatic, Scaled
from .schedule import parse_schedule

HEAD = "NetTrain"

Parser = Callable[[str, Any], Any]   # (head, value) -> the value NetTrain uses


@dataclass(frozen=True)
class Option:
    """One NetTrain option: WL name, default, parser (None: checked where used), doc line."""

    name: str
    default: Any
    parse: Parser | None
    doc: str

    @property
    def field(self) -> str:
        """The snake_case name under which :class:`TrainOptions` holds the value."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower()


def _positive(name: str) -> Parser:
    def parse(head: str, value: Any) -> Any:
        if value is not Automatic and (isinstance(value, bool) or not isinstance(value, int)
                                       or value < 1):
            raise OptionError(head, f"expected {name} to be a positive integer or Automatic, "
                              f"but received {value!r}.")
        return value
    return parse


def _choice(name: str, allowed: tuple) -> Parser:
    def parse(head: str, value: Any) -> Any:
        if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
            words = ", ".join(repr(a) for a in allowed)
            raise OptionError(head, f"expected {name} to be one of {words}, but received "
                              f"{value!r}.")
        return value
    return parse


def _seed(head: str, value: Any) -> Any:
    check_seed(head, value)
    return value


def _validation(head: str, v: Any) -> Any:
    if isinstance(v, Scaled) and not 0 < v.value < 1:
        raise OptionError(head, f"expected ValidationSet=Scaled(f) with 0 < f < 1, but "
                          f"received {v!r}.")
    return v


def _time_goal(head: str, value: Any) -> Any:
    time_goal_seconds(value, head)
    return value


def _measurements(head: str, value: Any) -> Any:
    """Automatic stays (NetTrain resolves it once it knows the losses); anything else is
    parsed into measurements here, so a bad one fails before any work."""
    return value if value is Automatic else parse_measurements(value, head)


GOALS = ("TrainingSpeed", "TrainingMemory")


def _goal(head: str, value: Any) -> Any:
    """PerformanceGoal: Automatic, None, a goal, or a list of goals (WL's forms)."""
    if value is Automatic or value is None:
        return value
    listed = list(value) if isinstance(value, (list, tuple)) else [value]
    for g in listed:
        if g not in GOALS:
            raise OptionError(head, f"expected PerformanceGoal to be Automatic, None, "
                              f'"TrainingSpeed", "TrainingMemory" or a list of them, but '
                              f"received {g!r}.{nearest(str(g), GOALS)}")
    return frozenset(listed)


OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("BatchSize", Automatic, _positive("BatchSize"), "examples per batch (64)"),
    Option("MaxTrainingRounds", Automatic, _positive("MaxTrainingRounds"),
           "rounds (epochs); Automatic: as many as fit the TimeGoal"),
    Option("TimeGoal", Automatic, _time_goal, 'seconds or (n, "Minutes") to train for'),
    Option("Method", Automatic, None, '"ADAM", "SGD", "RMSProp", ... with suboptions'),
    Option("LearningRate", Automatic, None, "the base learning rate"),
    Option("LossFunction", Automatic, None, "which outputs are losses, with Scaled weights"),
    Option("LearningRateMultipliers", Automatic, None,
           "per-layer or per-array rates; 0 or None freezes"),
    Option("ValidationSet", None, _validation, "data, or Scaled(f) of the training data"),
    Option("TrainingStoppingCriterion", None, None, "early stopping"),
    Option("TrainingProgressReporting", Automatic, None, 'progress bar, "Print", None, ...'),
    Option("TrainingProgressFunction", None, None,
           'called during training; "StopTraining" stops'),
    Option("TrainingProgressCheckpointing", None, None, "save the net while training"),
    Option("TrainingProgressMeasurements", Automatic, _measurements,
           'measurements such as "Accuracy"'),
    Option("RandomSeeding", 1234, _seed, "seed of initialization and shuffling"),
    Option("TargetDevice", "CPU", None, '"CPU", "GPU", ("GPU", n), ("GPU", All)'),
    Option("WorkingPrecision", Automatic,
           _choice("WorkingPrecision", (Automatic, "Real32", "Real64", "Mixed")),
           '"Real32", "Real64", "Mixed"'),
    Option("StateTransfer", None, None, "output ports fed into input ports across batches"),
    Option("Mirroring", False, _choice("Mirroring", (True, False, Automatic)),
           "recompute activations to save memory"),
    Option("ResumeFrom", None, None, "continue a run from a checkpoint"),
    Option("TrainingUpdateSchedule", Automatic, parse_schedule,
           "which arrays each step updates, cycled; arrays in no group are held constant"),
    Option("PerformanceGoal", Automatic, _goal, '"TrainingSpeed" compiles the step, '
           '"TrainingMemory" turns on Mirroring; Automatic compiles long runs'),
)}
FIELDS = {o.field: o for o in OPTIONS.values()}


class TrainOptions:
    """NetTrain's options, frozen, under snake_case names (``opts.batch_size``); see
    :data:`OPTIONS` for the WL names."""

    __slots__ = ("_values",)

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise TypeError(f"TrainOptions: unknown fields {sorted(unknown)}")
        full = {f: values.get(f, o.default) for f, o in FIELDS.items()}
        object.__setattr__(self, "_values", MappingProxyType(full))

    def __getattr__(self, field: str) -> Any:
        try:
            return self._values[field]
        except KeyError:
            raise AttributeError(field) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("TrainOptions are frozen")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrainOptions) and dict(self._values) == dict(other._values)

    __hash__ = None  # type: ignore[assignment]

    def replace(self, **changes: Any) -> TrainOptions:
        return TrainOptions(**{**self._values, **changes})

    def __repr__(self) -> str:
        given = ", ".join(f"{f}={v!r}" for f, v in self._values.items()
                          if v is not FIELDS[f].default)
        return f"TrainOptions({given})"


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
        option = OPTIONS.get(name)
        if option is None:
            raise OptionError(head, f"unknown option {name}.{nearest(name, OPTIONS)} Valid "
                              f"options are: {', '.join(sorted(OPTIONS))}.")
        values[option.field] = value if option.parse is None else option.parse(head, value)
    return TrainOptions(**values)


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
