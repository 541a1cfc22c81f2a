"""What a training run leaves behind: its history and the NetTrainResultsObject.

:class:`History` is the running record NetTrain and the progress reporters share;
:class:`NetTrainResultsObject` answers WL's properties about a finished run
(``results["RoundLoss"]``, ``results[["TrainedNet", "LossPlot"]]``).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import TrainingError, nearest
from ..symbols import All

LEGACY = {"LossEvolutionPlot": "LossPlot", "FinalRoundLoss": "RoundLoss",
          "FinalValidationLoss": "ValidationLoss", "MeanInputsPerSecond": "MeanExamplesPerSecond",
          "TotalInputs": "ExamplesProcessed", "LossNet": "TrainingNet",
          "ValidationLossSeries": "ValidationLossList", "CheckpointFiles": "CheckpointingFiles",
          "FinalWeights": "Weights", "FinalWeightsVector": "WeightsVector",
          "FinalExampleLosses": "ExampleLosses"}


@dataclass
class History:
    """The running record of a training run (what reporters and results read)."""

    batches_per_round: int
    total_rounds: int
    batch_size: int
    batch_losses: list[float] = field(default_factory=list)
    round_losses: list[float] = field(default_factory=list)
    validation_losses: list[float] = field(default_factory=list)
    validation_rounds: list[int] = field(default_factory=list)
    round: int = 1                  # the round in progress (from 1)
    batch: int = 0                  # batches done in it
    examples: int = 0               # examples processed
    round_sum: float = 0.0          # sum of example losses in the round so far
    round_examples: int = 0
    start: float = field(default_factory=time.perf_counter)
    offset: float = 0.0             # time spent before a resume
    reason: str = ""
    best_round: int | None = None
    checkpoints: list[str] = field(default_factory=list)
    learning_rate: float = 0.0
    compile_seconds: float = 0.0    # spent compiling the step (PerformanceGoal "TrainingSpeed")
    # {"Loss": ..., key: value} after each round, and after each validation pass
    round_measurements: list[dict[str, Any]] = field(default_factory=list)
    validation_measurements: list[dict[str, Any]] = field(default_factory=list)
    latest: Callable[[], dict[str, Any]] | None = None  # the last batch's measurements

    @property
    def absolute_batch(self) -> int:
        return len(self.batch_losses)

    @property
    def elapsed(self) -> float:
        return self.offset + time.perf_counter() - self.start

    @property
    def total_batches(self) -> int:
        return self.batches_per_round * self.total_rounds

    def record_batch(self, loss: float, n: int) -> None:
        self.batch_losses.append(loss)
        self.batch += 1
        self.examples += n
        self.round_sum += loss * n
        self.round_examples += n

    def finish_round(self) -> float:
        loss = self.round_sum / max(self.round_examples, 1)
        self.round_losses.append(loss)
        self.round, self.batch, self.round_sum, self.round_examples = self.round + 1, 0, 0.0, 0
        return loss

    def info(self, net: Callable[[], Any], event: str) -> ProgressInfo:
        """The association a progress function receives (WL's keys)."""
        el = self.elapsed
        done = self.absolute_batch / max(self.total_batches, 1)
        # At a round's end (and at the end of training, unless stopped mid-round) the info
        # speaks of the round just completed, not of the next one.
        ended = event == "RoundComplete" or (event == "TrainingComplete" and self.batch == 0
                                             and bool(self.round_losses))
        vals = {
            "Event": event, "Round": len(self.round_losses) if ended else self.round,
            "Batch": self.batches_per_round if ended else self.batch,
            "AbsoluteBatch": self.absolute_batch,
            "BatchesPerRound": self.batches_per_round, "BatchSize": self.batch_size,
            "TotalRounds": self.total_rounds, "TotalBatches": self.total_batches,
            "BatchLoss": self.batch_losses[-1] if self.batch_losses else None,
            "RoundLoss": self.round_losses[-1] if self.round_losses else None,
            "ValidationLoss": self.validation_losses[-1] if self.validation_losses else None,
            "BestValidationRound": self.best_round, "ExamplesProcessed": self.examples,
            "TimeElapsed": el, "ProgressFraction": min(done, 1.0),
            "TimeRemaining": el * (1 - done) / done if done > 0 else None,
            "ExamplesPerSecond": self.examples / el if el > 0 else 0.0,
            "MeanExamplesPerSecond": self.examples / el if el > 0 else 0.0,
            "MeanBatchesPerSecond": self.absolute_batch / el if el > 0 else 0.0,
            "LearningRate": self.learning_rate, "CheckpointingFiles": list(self.checkpoints),
            "RoundMeasurements": self.last_round_measurements(),
            "ValidationMeasurements": (dict(self.validation_measurements[-1])
                                       if self.validation_measurements else
                                       self._loss_only(self.validation_losses)),
        }
        latest = self.latest

        def batch() -> dict[str, Any]:
            return {"Loss": vals["BatchLoss"], **(latest() if latest else {})}
        # The lists are copied when read: a report per batch stays O(1) per batch.
        return ProgressInfo(vals, {"Net": net, "BatchMeasurements": batch,
                                   "BatchLossList": lambda: list(self.batch_losses),
                                   "RoundLossList": lambda: list(self.round_losses),
                                   "ValidationLossList": lambda: list(self.validation_losses)})

    def last_round_measurements(self) -> dict[str, Any] | None:
        if self.round_measurements:
            return dict(self.round_measurements[-1])
        return self._loss_only(self.round_losses)

    @staticmethod
    def _loss_only(losses: list[float]) -> dict[str, Any] | None:
        return {"Loss": losses[-1]} if losses else None


class ProgressInfo(dict):
    """A dict of progress values whose costly entries ("Net") are computed when read."""

    def __init__(self, values: dict[str, Any], lazy: dict[str, Callable[[], Any]]) -> None:
        super().__init__(values)
        for k in lazy:
            super().__setitem__(k, None)
        self._lazy = lazy

    def __getitem__(self, key: str) -> Any:
        if key in self._lazy:
            super().__setitem__(key, self._lazy.pop(key)())
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def values(self) -> Any:  # type: ignore[override]
        return [self[k] for k in self]

    def items(self) -> Any:  # type: ignore[override]
        return [(k, self[k]) for k in self]


class NetTrainResultsObject:
    """NetTrainResultsObject: the results of a NetTrain run, queried by WL property name.

    ``results["TrainedNet"]``, ``results["RoundLossList"]``, ``results["LossPlot"]`` (a
    matplotlib figure), ``results[["RoundLoss", "TotalTrainingTime"]]`` (a list), and
    ``results["Properties"]`` for the full list.
    """

    def __init__(self, values: dict[str, Any], lazy: dict[str, Callable[[], Any]],
                 asked_only: tuple[str, ...] = ()) -> None:
        self._values = values
        self._lazy = lazy
        self._asked_only = asked_only   # kept only when the NetTrain call asked for them

    @property
    def properties(self) -> list[str]:
        return sorted({*self._values, *self._lazy, "Properties", "ResultsObject", "LossPlot",
                       "FinalPlots"})

    def __getitem__(self, prop: Any) -> Any:
        if isinstance(prop, list):
            return [self[p] for p in prop]
        if prop is All or prop == "ResultsObject":
            return self
        if prop == "Properties":
            return self.properties
        name = LEGACY.get(prop, prop) if isinstance(prop, str) else prop
        if name == "LossPlot":
            return loss_plot(self)
        if name == "FinalPlots":
            return final_plots(self)
        if name in self._lazy:
            self._values[name] = self._lazy.pop(name)()
        if name in self._asked_only and name not in self._values:
            raise TrainingError("NetTrain", f"{name!r} is kept only when the NetTrain call "
                                f"asks for it: NetTrain(net, data, {name!r}) or a list of "
                                "properties that holds it.")
        if name not in self._values:
            valid = self.properties + list(LEGACY)
            raise TrainingError("NetTrain", f"unknown property {prop!r}."
                                f"{nearest(str(prop), valid)} Properties are "
                                f"{', '.join(self.properties)}.")
        return self._values[name]

    def __repr__(self) -> str:
        v = self._values
        parts = [f"TrainedNet: {getattr(v.get('TrainedNet'), 'head', '?')}",
                 f"TotalRounds: {v.get('TotalRounds')}",
                 f"TotalBatches: {v.get('TotalBatches')}",
                 f"RoundLoss: {_num(v.get('RoundLoss'))}"]
        if v.get("ValidationLoss") is not None:
            parts.append(f"ValidationLoss: {_num(v.get('ValidationLoss'))}")
        parts += [f"TotalTrainingTime: {_num(v.get('TotalTrainingTime'))} s",
                  f"Method: {v.get('OptimizationMethod')}",
                  f"ReasonTrainingStopped: {v.get('ReasonTrainingStopped')}"]
        return "NetTrainResultsObject[" + ", ".join(parts) + "]"


def shown(values: Any) -> dict[str, float]:
    """The measurements a text report shows: numbers as they are, per-class ones as their
    macro average (WL's text reports); the loss, matrices and curves are left out."""
    out: dict[str, float] = {}
    for k, v in (values or {}).items():
        if k == "Loss":
            continue
        if isinstance(v, dict):
            nums = [x for x in v.values() if isinstance(x, (int, float)) and x == x]
            if len(nums) == len(v) and nums:
                out[k] = sum(nums) / len(nums)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = float(v)
    return out


def measurement_results(h: History, meters: Any) -> dict[str, Any]:
    """The measurement properties of a run: each a dict keyed by measurement with the loss
    first ("Loss"), as WL's associations; the *Lists ones map each key to a list."""
    rounds = h.round_measurements or [{"Loss": x} for x in h.round_losses]
    vals = h.validation_measurements or [{"Loss": x} for x in h.validation_losses]
    batch = {"Loss": list(h.batch_losses),
             **(meters.train.batch_lists() if meters is not None else {})}
    return {"RoundMeasurements": dict(rounds[-1]) if rounds else None,
            "RoundMeasurementsLists": _lists(rounds),
            "ValidationMeasurements": dict(vals[-1]) if vals else None,
            "ValidationMeasurementsLists": _lists(vals),
            "BatchMeasurementsLists": batch}


def _lists(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    return {k: [r.get(k) for r in rows] for k in keys}


def _num(x: Any) -> str:
    return "None" if x is None else f"{x:.4g}"


def loss_plot(results: NetTrainResultsObject) -> Any:
    """The loss evolution plot: batch losses, round losses and validation losses by round."""
    from matplotlib.figure import Figure
    batch = results["BatchLossList"]
    rounds = results["RoundLossList"]
    val = results["ValidationLossList"]
    bpr = max(results["BatchesPerRound"], 1)
    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    if batch:
        ax.plot([(i + 1) / bpr for i in range(len(batch))], batch, color="#9ecae1", lw=0.8,
                label="batch loss")
    if rounds:
        ax.plot(range(1, len(rounds) + 1), rounds, "o-", color="#3182bd", ms=3,
                label="round loss")
    if val:
        ax.plot(results["ValidationPositions"], val, "o-", color="#e6550d", ms=3,
                label="validation loss")
    values = [x for x in (*batch, *rounds, *val) if x == x]
    if values and min(values) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("rounds")
    ax.set_ylabel("loss")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def final_plots(results: NetTrainResultsObject) -> dict[str, Any]:
    """WL's "FinalPlots": ``{key: figure}`` for the loss and every measurement that is one
    number per round (per-class ones with a ClassAveraging, aggregated ports, ...)."""
    from matplotlib.figure import Figure
    rounds = results["RoundMeasurementsLists"]
    val = results["ValidationMeasurementsLists"]
    plots: dict[str, Any] = {"Loss": loss_plot(results)}
    for key, values in rounds.items():
        if key == "Loss" or not _numbers(values):
            continue
        fig = Figure(figsize=(6, 3.5))
        ax = fig.add_subplot()
        ax.plot(range(1, len(values) + 1), values, "o-", color="#3182bd", ms=3,
                label=f"round {key}")
        if key in val and _numbers(val[key]):
            ax.plot(results["ValidationPositions"], val[key], "o-", color="#e6550d", ms=3,
                    label=f"validation {key}")
        ax.set_xlabel("rounds")
        ax.set_ylabel(key)
        ax.legend(loc="best", fontsize=8)
        fig.tight_layout()
        plots[key] = fig
    return plots


def _numbers(values: list[Any]) -> bool:
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                for v in values)
