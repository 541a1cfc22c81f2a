"""TrainingProgressMeasurements in NetTrain: which output each measurement reads, the
training net's extra outputs it needs, and the meters of a run.

A built-in classification measurement reads the output that feeds the run's one
CrossEntropyLossLayer (or the one its "Source" names); a regression measurement the one
feeding a MeanSquaredLossLayer or MeanAbsoluteLossLayer. Such an output is consumed by its
loss layer, so the training net also exposes it as the output ``"$<port>"``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError
from ..layers.base import Layer
from ..layers.loss import CrossEntropyLossLayer, MeanAbsoluteLossLayer, MeanSquaredLossLayer
from ..measure.meter import Meter, Source
from ..measure.spec import Measurement, parse_measurements, parse_one
from ..measure.stats import ClassStats, RegressionStats
from ..ports import NetPort
from ..shapes import VARYING
from ..symbols import Automatic
from .losses import LossTerm

HEAD = "NetTrain"
PREFIX = "$"  # the training net's output "$port" exposes the user's output "port"
REGRESSION = (MeanSquaredLossLayer, MeanAbsoluteLossLayer)


def exposed(port: str) -> str:
    return PREFIX + port


def resolve(spec: Any, terms: Sequence[LossTerm], head: str = HEAD) -> list[Measurement]:
    """TrainingProgressMeasurements -> measurements; Automatic measures "ErrorRate" when the
    run has exactly one CrossEntropyLossLayer, as WL does."""
    if spec is Automatic:
        ce = [t for t in terms if isinstance(t.layer, CrossEntropyLossLayer)]
        ms = parse_measurements("ErrorRate", head) if len(ce) == 1 else []
    else:
        ms = parse_measurements(spec, head)
        _check_plots(ms, head)
    return _port_losses(terms, ms, head) + ms


def _port_losses(terms: Sequence[LossTerm], ms: list[Measurement], head: str
                 ) -> list[Measurement]:
    """With several losses, each loss port's own loss (its key, e.g. "OutputLoss"), after the
    total "Loss", as WL reports them."""
    if len(terms) < 2:
        return []
    keys = {m.key for m in ms}
    return [parse_one({"Measurement": NetPort(t.name), "Aggregation": "Total"}, head)
            for t in terms if t.name not in keys]


def _check_plots(ms: list[Measurement], head: str) -> None:
    for m in ms:
        if m.builtin is not None and m.builtin.shape == "plot":
            raise OptionError(head, f'"{m.builtin.name}" is a plot: ask NetMeasurements for it, '
                              'or measure "ConfusionMatrix" while training.')


def term_of(m: Measurement, terms: Sequence[LossTerm], head: str = HEAD) -> LossTerm:
    """The loss term whose output a built-in measurement reads."""
    b = m.builtin
    assert b is not None
    kinds = (CrossEntropyLossLayer,) if b.task == "classification" else REGRESSION
    what = ("a CrossEntropyLossLayer" if b.task == "classification"
            else "a MeanSquaredLossLayer or MeanAbsoluteLossLayer")
    if m.source is not None:
        found = [t for t in terms if t.port == m.source]
        if not found or not isinstance(found[0].layer, kinds):
            raise OptionError(head, f'the measurement "{m.key}" reads the output "{m.source}" '
                              f"(its \"Source\"), which must be trained with {what}.")
        return found[0]
    found = [t for t in terms if isinstance(t.layer, kinds)]
    if len(found) != 1:
        ports = ", ".join(t.port for t in found)
        raise OptionError(head, f'the measurement "{m.key}" needs exactly one output trained '
                          f"with {what}, but the run has "
                          f"{len(found) if found else 'none'}{f' ({ports})' if found else ''};"
                          ' name one with {"Measurement": ..., "Source": "port"}.')
    return found[0]


def exposures(ms: Sequence[Measurement], terms: Sequence[LossTerm], outputs: Sequence[str],
              head: str = HEAD) -> list[str]:
    """The user's output ports the training net must also expose for the measurements."""
    ports: list[str] = []
    consumed = {t.port for t in terms if t.layer is not None}
    loss_names = {t.name for t in terms}
    for m in ms:
        if m.builtin is not None:
            ports.append(term_of(m, terms, head).port)
        elif m.port is not None:
            if m.port not in outputs and m.port not in loss_names:
                valid = sorted({*outputs, *loss_names})
                raise OptionError(head, f'the measurement NetPort("{m.port}") names no output '
                                  f"of the net; its outputs are {', '.join(valid)}.")
            if m.port in consumed:
                ports.append(m.port)
    return list(dict.fromkeys(ports))


def class_labels(net: Layer) -> dict[str, list]:
    """The class labels of each output whose "Class" decoder lists them (WL's measurements
    are keyed by them; without one, classes are 1..n)."""
    found = {}
    for port, coder in getattr(net, "coders", {}).items():
        labels = getattr(coder, "labels", None)
        if getattr(coder, "kind", None) == "Class" and isinstance(labels, (list, tuple)):
            found[port] = list(labels)
    return found


@dataclass
class Meters:
    """The training and the validation meter of a run."""

    train: Meter
    val: Meter
    measurements: list[Measurement]


def meters(ms: list[Measurement], terms: Sequence[LossTerm], net: Layer,
           keys: Mapping[str, str], exposed_ports: Sequence[str], labels: Any = None,
           reduce: Any = None, head: str = HEAD) -> Meters:
    """The meters of a run: ``keys`` maps the training net's inputs to the forward's argument
    names; ``labels`` gives a port's class labels when its decoder knows them; ``reduce``
    sums the training meter's counts over the processes of a distributed run (each measures
    its share of every batch; validation runs whole in every process)."""
    sources: dict[str, Source] = {}
    by_port: dict[str, Source] = {}
    for m in ms:
        if m.builtin is None:
            continue
        term = term_of(m, terms, head)
        src = by_port.get(term.port)
        if src is None:
            src = by_port[term.port] = Source(term.port, exposed(term.port), keys[term.port],
                                              _stats(ms, terms, term, net, labels, head))
        sources[m.key] = src
    ports = {m.key: (exposed(m.port) if m.port in exposed_ports else m.port)
             for m in ms if m.port is not None}
    return Meters(Meter(ms, sources, ports, True, head, reduce),
                  Meter(ms, sources, ports, False, head), ms)


def _stats(ms: list[Measurement], terms: Sequence[LossTerm], term: LossTerm, net: Layer,
           labels: Any, head: str) -> ClassStats | RegressionStats:
    t = net.out_types.get(term.port)
    if t is not None and t.dims is not None and VARYING in t.dims:
        raise OptionError(head, f'measurements of the variable-length output "{term.port}" are '
                          "not available yet.")
    if isinstance(term.layer, REGRESSION):
        return RegressionStats()
    mine = [m for m in ms if m.builtin is not None and term_of(m, terms, head) is term]
    needs = set().union(*(m.builtin.needs for m in mine if m.builtin is not None))
    ks = tuple(sorted({int(m.param) for m in mine if m.builtin is not None and
                       m.builtin.name in ("Accuracy", "ErrorRate") and m.param}))
    binary = term.layer is not None and term.layer.params["form"] == "Binary"
    last = t.dims[-1] if t is not None and t.dims else None
    classes = 2 if binary else last if isinstance(last, int) else 0
    if classes < 2:
        raise OptionError(head, f'classification measurements of the output "{term.port}" need '
                          f"its number of classes, but its type is "
                          f"{t.describe() if t is not None else 'unknown'}.")
    if ks and max(ks) >= classes:
        raise OptionError(head, f"a top-k measurement needs k below the number of classes "
                          f'({classes} for the output "{term.port}"), but k = {max(ks)}.')
    names = (labels.get(term.port) if isinstance(labels, Mapping) else None) or (
        [False, True] if binary else list(range(1, classes + 1)))
    return ClassStats(classes, list(names), ks if "topk" in needs else (),
                      "entropy" in needs, "roc" in needs, binary)
