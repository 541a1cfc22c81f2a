"""NetMeasurements(net, data, measurement): measurements of a trained net on data.

The net is run as NetTrain would run it (the same data forms, the loss attached the same
way), once over the data in evaluation mode, and measured with the same counts as
``TrainingProgressMeasurements``: one pass, no training.
"""
from __future__ import annotations

from typing import Any

from ..errors import EvaluationError, NetGraphError, OptionError, check_options
from ..layers.base import Layer
from ..measure.meter import Meter
from ..measure.plots import confusion_matrix_plot, roc_curve_plot
from ..measure.spec import Measurement, parse_one
from ..symbols import Automatic
from .nettrain import Run
from .options import parse_options

HEAD = "NetMeasurements"
OPTIONS = ("BatchSize", "TargetDevice", "WorkingPrecision", "LossFunction",
           "NetEvaluationMode")
PLOTS = {"ConfusionMatrixPlot": "ConfusionMatrix", "ROCCurvePlot": "ROCCurve"}


def net_measurements(net: Layer, data: Any, measurement: Any, **options: Any) -> Any:
    """The implementation of :func:`netgraph.NetMeasurements` (see its docstring)."""
    check_options(HEAD, options, OPTIONS)
    if options.pop("NetEvaluationMode", "Test") != "Test":
        raise OptionError(HEAD, 'NetEvaluationMode "Train" is not available yet for '
                          'NetMeasurements; use "Test".')
    if not net.is_initialized():
        raise EvaluationError(HEAD, "the net is not initialized; train it, or give it to "
                              "NetInitialize first.")
    single = not isinstance(measurement, list)
    asked = [parse_one(m, HEAD) for m in ([measurement] if single else measurement)]
    try:
        values = _measure(net, data, asked, options)
    except NetGraphError as e:
        if e.head == HEAD:
            raise
        raise type(e)(HEAD, e.message) from None
    found = [values[m.key] for m in asked]
    return found[0] if single else found


def _measure(net: Layer, data: Any, asked: list[Measurement], options: dict) -> dict:
    measured: dict[str, Measurement] = {}
    for m in asked:
        if m.is_loss:
            continue
        if m.builtin is not None and m.builtin.name in PLOTS:
            inner = parse_one({"Measurement": PLOTS[m.builtin.name], "Key": "$" + m.key,
                               **({"Source": m.source} if m.source else {})}, HEAD)
            measured[inner.key] = inner
        else:
            measured[m.key] = m
    loss = options.pop("LossFunction", Automatic)
    opts = parse_options({**options, "MaxTrainingRounds": 1, "TrainingProgressReporting": None,
                          "TrainingProgressMeasurements": list(measured.values())}, HEAD)
    run = Run(net, data, loss, opts).start()
    meter: Meter | None = None if run.meters is None else run.meters.val
    value = run.trainer.evaluate(run.data.round(1), None if meter is None else meter.batch)
    values: dict[str, Any] = {"Loss": value}
    if meter is not None:
        values.update(meter.end(lambda: {"Net": net}))
    for m in asked:
        if m.builtin is not None and m.builtin.name in PLOTS:
            values[m.key] = _plot(m, values["$" + m.key], meter, "$" + m.key)
    return values


def _plot(m: Measurement, value: Any, meter: Meter | None, key: str) -> Any:
    if m.builtin is not None and m.builtin.name == "ConfusionMatrixPlot":
        labels = meter.sources[key].stats.labels if meter is not None else []  # type: ignore[union-attr]
        return confusion_matrix_plot(value, list(labels))
    return roc_curve_plot(value)
