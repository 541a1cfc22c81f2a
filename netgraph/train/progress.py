"""TrainingProgressReporting and TrainingProgressFunction.

Reporting forms: ``Automatic`` (a live tqdm bar when stderr is a terminal; otherwise quiet
but for one final line), ``"Print"`` (a line every 2 s), ``"ProgressIndicator"``/``"Panel"``
(the bar), ``None``, a function of the progress info, ``(form, {"Interval": spec})`` and a
list of forms. TrainingProgressFunction is ``f``, ``(f, {"Interval": spec})`` or a list; f
receives WL's keys (Round, Batch, BatchLoss, RoundLoss, ValidationLoss, Net,
ExamplesProcessed, TimeElapsed, ...) after every round by default, and returning
``"StopTraining"`` stops training. An interval is a number of rounds or ``(n, unit)`` with
unit "Rounds", "Batches", "Seconds" or "Minutes".
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError, TrainingError, nearest
from ..symbols import Automatic, File
from .logs import FileLog, TensorBoardLog
from .results import History, ProgressInfo, shown

HEAD = "NetTrain"
UNITS = {"Rounds": ("round", 1.0), "Batches": ("batch", 1.0), "Seconds": ("second", 1.0),
         "Minutes": ("second", 60.0), "Hours": ("second", 3600.0)}


@dataclass
class Interval:
    """Every ``n`` rounds, batches or seconds."""

    unit: str
    n: float


def parse_interval(spec: Any, option: str) -> Interval:
    if isinstance(spec, (int, float)) and not isinstance(spec, bool) and spec > 0:
        return Interval("round", float(spec))
    if isinstance(spec, tuple) and len(spec) == 2 and spec[1] in UNITS \
            and isinstance(spec[0], (int, float)) and spec[0] > 0:
        unit, scale = UNITS[spec[1]]
        return Interval(unit, float(spec[0]) * scale)
    raise OptionError(HEAD, f'expected the "Interval" of {option} to be a positive number of '
                      f'rounds or (n, "Rounds"|"Batches"|"Seconds"|"Minutes"), but received '
                      f"{spec!r}.")


class Channel:
    """One reporter called at its interval; ``stops`` when its "StopTraining" counts.

    ``option`` names the option that gave a user's function: an exception in it stops
    training as a TrainingError that names the option, round and batch (chained to it).
    """

    def __init__(self, fn: Callable[[ProgressInfo], Any], interval: Interval,
                 option: str | None = None) -> None:
        self.fn, self.interval, self.option = fn, interval, option
        self.last_time, self.last_batch, self.last_round = time.perf_counter(), 0, 0

    def due(self, h: History, end_of_round: bool, now: float) -> bool:
        iv = self.interval
        if iv.unit == "second":
            return now - self.last_time >= iv.n
        if iv.unit == "batch":
            return h.absolute_batch - self.last_batch >= iv.n
        return end_of_round and len(h.round_losses) - self.last_round >= iv.n

    def fire(self, h: History, info: ProgressInfo, now: float) -> bool:
        self.last_time, self.last_batch, self.last_round = (now, h.absolute_batch,
                                                            len(h.round_losses))
        if self.option is None:
            return _stops(self.fn(info))
        try:
            return _stops(self.fn(info))
        except Exception as e:
            raise TrainingError(HEAD, f"the {self.option} raised {type(e).__name__}: "
                                f"{e} (round {info['Round']}, batch {info['Batch']}); training "
                                "stopped.") from e


def _stops(value: Any) -> bool:
    """Whether a progress function's value asks to stop: only the string "StopTraining" does
    (anything else, an array included, is ignored, as WL ignores other values)."""
    return isinstance(value, str) and value == "StopTraining"


class Bar:
    """The tqdm bar: round, batch, loss, validation loss, rate and time left."""

    def __init__(self, h: History) -> None:
        from tqdm.auto import tqdm
        self.bar = tqdm(total=h.total_batches, unit="batch", dynamic_ncols=True,
                        leave=True, file=sys.stderr)

    def __call__(self, info: ProgressInfo) -> None:
        self.bar.n = info["AbsoluteBatch"]
        post = {"round": f"{info['Round']}/{info['TotalRounds']}",
                "loss": _fmt(info["BatchLoss"])}
        post.update({k: _fmt(v) for k, v in shown(info.get("BatchMeasurements")).items()})
        if info["ValidationLoss"] is not None:
            post["val"] = _fmt(info["ValidationLoss"])
        post.update({f"val {k}": _fmt(v)
                     for k, v in shown(info.get("ValidationMeasurements")).items()})
        self.bar.set_postfix(post, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def _measured(values: Any) -> str:
    return "".join(f", {k} {_fmt(v)}" for k, v in shown(values).items())


def print_line(info: ProgressInfo) -> None:
    """One "Print" line."""
    val = "" if info["ValidationLoss"] is None else f", validation {_fmt(info['ValidationLoss'])}"
    val += _measured(info.get("ValidationMeasurements")) if val else ""
    left = info["TimeRemaining"]
    print(f"Round {info['Round']}/{info['TotalRounds']}, batch {info['Batch']}/"
          f"{info['BatchesPerRound']}: loss {_fmt(info['BatchLoss'])}"
          f"{_measured(info.get('BatchMeasurements'))}{val}, "
          f"{info['ExamplesPerSecond']:.0f} examples/s, {info['TimeElapsed']:.1f} s elapsed"
          + ("" if left is None else f", {left:.1f} s left"), flush=True)


def final_line(h: History) -> str:
    el = h.elapsed
    val = ("" if not h.validation_losses
           else f"; validation loss {_fmt(h.validation_losses[-1])}")
    if h.validation_measurements:
        val += _measured(h.validation_measurements[-1])
    loss = _fmt(h.round_losses[-1]) if h.round_losses else "none"
    compiled = (f", {h.compile_seconds:.1f} s of it compiling the step"
                if h.compile_seconds else "")
    loss += _measured(h.round_measurements[-1]) if h.round_measurements else ""
    return (f"NetTrain: {len(h.round_losses)} round(s), {h.absolute_batch} batch(es) in "
            f"{el:.2f} s{compiled} ({h.examples / el if el > 0 else 0:.0f} examples/s); final "
            f"round loss {loss}{val}.")


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.4g}"


class Progress:
    """Every reporter and progress function of one run; ``batch()``/``round()`` return True
    when one asked to stop."""

    def __init__(self, reporting: Any, function: Any, h: History,
                 net: Callable[[], Any]) -> None:
        self.h, self.net = h, net
        self.channels: list[Channel] = []
        self.bar: Bar | None = None
        self.logs: list[FileLog | TensorBoardLog] = []
        self.final = False
        for form, opts in _forms(reporting, "TrainingProgressReporting"):
            self._add_reporting(form, opts)
        for f, opts in _forms(function, "TrainingProgressFunction"):
            if not callable(f):
                raise OptionError(HEAD, f"expected TrainingProgressFunction to be a function, "
                                  f"but received {f!r}.")
            self._add(f, opts, Interval("round", 1.0), "TrainingProgressFunction")
        self.next_check = 0.0
        self.by_batch = any(c.interval.unit != "round" for c in self.channels)

    def _add_reporting(self, form: Any, opts: dict) -> None:
        if form is Automatic:
            if sys.stderr.isatty():
                form = "ProgressIndicator"
            else:
                self.final = True
                return
        if form in ("ProgressIndicator", "Panel"):
            self.bar = Bar(self.h)
            self._add(self.bar, opts, Interval("second", 0.1))
        elif form == "Print":
            self._add(print_line, opts, Interval("second", 2.0))
        elif isinstance(form, File):
            log = FileLog(form.path)
            self.logs.append(log)
            self._add(log, opts, Interval("round", 1.0))
        elif form == "TensorBoard" or (isinstance(form, tuple) and len(form) == 2
                                       and form[0] == "TensorBoard"):
            tb = TensorBoardLog(None if isinstance(form, str) else os.fspath(form[1]))
            self.logs.append(tb)
            self._add(tb.batch, opts, Interval("batch", 1.0))
            self._add(tb.end_round, {}, Interval("round", 1.0))
        elif callable(form):
            self._add(form, opts, Interval("round", 1.0), "TrainingProgressReporting")
        else:
            raise OptionError(HEAD, f'expected TrainingProgressReporting to be Automatic, '
                              f'"Print", "ProgressIndicator", File("log.csv"), "TensorBoard", '
                              f'("TensorBoard", dir), None or a function, but received '
                              f"{form!r}.")

    def _add(self, fn: Callable, opts: dict, default: Interval, option: str | None = None
             ) -> None:
        for k in opts:
            if k not in ("Interval", "MinimumInterval"):
                raise OptionError(HEAD, f'unknown suboption "{k}"; expected "Interval".')
        iv = parse_interval(opts["Interval"], "progress") if "Interval" in opts else default
        self.channels.append(Channel(fn, iv, option))

    def batch(self) -> bool:
        """After each batch: cheap unless a batch- or time-based reporter is due."""
        if not self.by_batch:
            return False
        return self._dispatch(False, "BatchComplete")

    def round(self) -> bool:
        return self._dispatch(True, "RoundComplete")

    def _dispatch(self, end_of_round: bool, event: str) -> bool:
        now = time.perf_counter()
        due = [c for c in self.channels if c.due(self.h, end_of_round, now)]
        if not due:
            return False
        info = self.h.info(self.net, event)
        return any([c.fire(self.h, info, now) for c in due])

    def close(self) -> None:
        """Close the bar without a final report (training failed), and the logs."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        for log in self.logs:
            log.close()
        self.logs = []

    def finish(self) -> None:
        for log in self.logs:
            log.close()
        self.logs = []
        if self.bar is not None:
            self.bar(self.h.info(self.net, "TrainingComplete"))
            self.bar.close()
        if self.final or self.bar is not None or any(c.fn is print_line
                                                     for c in self.channels):
            print(final_line(self.h), flush=True)
            if self.h.reason.startswith("the loss became"):
                print(f"NetTrain: training stopped: {self.h.reason}.", flush=True)


def _forms(spec: Any, option: str) -> list[tuple[Any, dict]]:
    """A reporting/function spec as a list of (form, suboptions)."""
    if spec is None:
        return []
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], dict):
        return [(spec[0], dict(spec[1]))]
    if isinstance(spec, list):
        return [f for s in spec for f in _forms(s, option)]
    return [(spec, {})]


class StoppingCriterion:
    """TrainingStoppingCriterion: None, "Loss", a measurement key, Automatic, or
    ``{"Criterion": "Loss" | key | f, "Patience": n, "InitialPatience": n,
    "AbsoluteChange": v | "RelativeChange": v}`` (also ``"Improvement": {...}``).

    It watches the validation value of its measurement (the round value without a validation
    set) after every round, in the measurement's direction ("Accuracy" must grow, "Loss"
    fall); a criterion function receives the progress info and returns True to stop.
    """

    KEYS = ("Criterion", "Patience", "InitialPatience", "Improvement", "AbsoluteChange",
            "RelativeChange")

    def __init__(self, spec: Any) -> None:
        self.active = spec is not None
        if spec is Automatic or isinstance(spec, str):
            spec = {"Criterion": "Loss" if spec is Automatic else spec}
        spec = spec or {}
        if not isinstance(spec, dict) or any(k not in self.KEYS for k in spec):
            raise OptionError(HEAD, f'expected TrainingStoppingCriterion to be None, "Loss", a '
                              f'measurement or a dict with keys {", ".join(self.KEYS)}, but '
                              f"received {spec!r}.")
        self.criterion = spec.get("Criterion", "Loss")
        if not isinstance(self.criterion, str) and not callable(self.criterion):
            raise OptionError(HEAD, f'expected the "Criterion" of TrainingStoppingCriterion to '
                              f'be "Loss", a measurement or a function, but received '
                              f"{self.criterion!r}.")
        self.patience = int(spec.get("Patience", 0))
        self.initial = int(spec.get("InitialPatience", 0))
        self.kind, self.change = _improvement(_change_spec(spec))
        self.sign = 1.0
        self.best: float | None = None
        self.bad = 0

    def check(self, measurements: list, validating: bool) -> None:
        """A criterion naming a measurement must be one the run measures."""
        if not self.active or not isinstance(self.criterion, str) or self.criterion == "Loss":
            return
        found = {m.key: m for m in measurements}
        if self.criterion not in found:
            raise OptionError(HEAD, f'the TrainingStoppingCriterion "{self.criterion}" is not '
                              f"measured.{nearest(self.criterion, ['Loss', *found])} Add it to "
                              f"TrainingProgressMeasurements (measured: "
                              f"{', '.join(['Loss', *found])}).")
        m = found[self.criterion]
        if m.builtin is not None and not m.scalar:
            raise OptionError(HEAD, f'the TrainingStoppingCriterion "{self.criterion}" is not a '
                              f"single number ({m.builtin.name} gives a value per class or a "
                              'matrix); give the measurement a "ClassAveraging".')
        self.sign = -1.0 if m.direction == "Increasing" else 1.0

    def stop(self, h: History, info: Callable[[], ProgressInfo]) -> bool:
        """After a round: True when training should stop."""
        if not self.active:
            return False
        if callable(self.criterion):
            return bool(self.criterion(info()))
        m = self.sign * self._value(h)
        rounds = len(h.round_losses)
        margin = self.change if self.kind == "AbsoluteChange" else self.change * abs(
            self.best or 0.0)
        if self.best is None or m < self.best - margin:
            self.best, self.bad = m if self.best is None else min(m, self.best), 0
            return False
        self.bad += 1
        return rounds > self.initial and self.bad > self.patience

    def _value(self, h: History) -> float:
        if self.criterion == "Loss":
            return h.validation_losses[-1] if h.validation_losses else h.round_losses[-1]
        rows = h.validation_measurements or h.round_measurements
        return scalar_of(str(self.criterion), rows[-1][self.criterion])


def scalar_of(key: str, value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict) and len(value) == 1:
        return scalar_of(key, next(iter(value.values())))
    raise TrainingError(HEAD, f'the TrainingStoppingCriterion "{key}" is not a single number '
                        f"(it gives {type(value).__name__} values); give the measurement a "
                        '"ClassAveraging" or an "Aggregation".')


def _change_spec(spec: dict) -> Any:
    given = [k for k in ("AbsoluteChange", "RelativeChange") if k in spec]
    if len(given) > 1 or (given and "Improvement" in spec):
        raise OptionError(HEAD, 'give only one of "AbsoluteChange" and "RelativeChange" in '
                          "TrainingStoppingCriterion.")
    if given:
        return {given[0]: spec[given[0]]}
    return spec.get("Improvement", {"AbsoluteChange": 0})


def _improvement(spec: Any) -> tuple[str, float]:
    if isinstance(spec, dict) and len(spec) == 1:
        (kind, v), = spec.items()
    elif isinstance(spec, tuple) and len(spec) == 2:
        kind, v = spec
    else:
        kind, v = None, None
    if isinstance(v, tuple) and len(v) == 2 and v[1] == "Percent":
        v = v[0] / 100.0
    if kind not in ("AbsoluteChange", "RelativeChange") or not isinstance(v, (int, float)):
        raise OptionError(HEAD, f'expected "Improvement" to be {{"AbsoluteChange": v}} or '
                          f'{{"RelativeChange": v}}, but received {spec!r}.')
    return kind, float(v)
