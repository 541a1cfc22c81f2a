"""Measurement specs: what TrainingProgressMeasurements and NetMeasurements accept.

Forms (WL's, spelled in Python): ``"Accuracy"``; ``("Accuracy", k)`` for WL's
``"Accuracy" -> k`` (also "ErrorRate" and ``("FScore", beta)``); ``NetPort("port")``; a dict
``{"Measurement": spec, "Key": ..., "ClassAveraging": ..., "Aggregation": ..., "Source": ...,
"Interval": ..., "Direction": ...}``; a Python function (in a dict with a "Key"); a list of
these. Synonyms (``"F1Score"``'s "FMeasure", "Kappa", "AUC", ...) resolve to their names.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError, nearest
from ..ports import NetPort
from ..symbols import Automatic
from .builtin import BUILTINS, SYNONYMS, Builtin

AGGREGATIONS = ("L1Norm", "L2Norm", "Total", "Mean", "RootMeanSquare", "StandardDeviation",
                "Min", "Max")
KEYS = ("Measurement", "Key", "ClassAveraging", "Aggregation", "Source", "Interval",
        "Direction", "ShortName", "PlotType", "PlotRange")
LOSS = "Loss"


@dataclass(frozen=True)
class Measurement:
    """One parsed measurement: its result key and what it measures.

    Exactly one of ``builtin``, ``port`` and ``function`` is set, or none for the loss.
    """

    key: str
    builtin: Builtin | None = None
    param: float | None = None          # k of ("Accuracy", k), beta of ("FScore", beta)
    averaging: str | None = None        # None, "Macro" or "Micro"
    aggregation: str | None = None
    source: str | None = None           # the output port a built-in reads
    port: str | None = None             # a NetPort measurement
    function: Callable[[Any], Any] | None = None
    per_batch: bool = True
    direction: str = "Decreasing"

    @property
    def is_loss(self) -> bool:
        return self.builtin is None and self.port is None and self.function is None

    @property
    def scalar(self) -> bool:
        """Whether its value is one number (a per-class one needs ClassAveraging)."""
        b = self.builtin
        if b is None:
            return self.port is None or self.aggregation is not None
        return b.shape == "scalar" or (b.shape == "class" and self.averaging is not None)


def parse_measurements(spec: Any, head: str) -> list[Measurement]:
    """A spec (or list of specs) -> measurements with unique keys, the loss first."""
    if spec is Automatic or spec is None:
        return []
    items = spec if isinstance(spec, list) else [spec]
    found = [parse_one(s, head) for s in items]
    found = [m for m in found if not m.is_loss]
    keys = [m.key for m in found]
    dup = next((k for k in keys if keys.count(k) > 1), None)
    if dup is not None:
        raise OptionError(head, f'the measurement key "{dup}" is given twice; give one of them '
                          'a different "Key".')
    return found


def parse_one(spec: Any, head: str) -> Measurement:
    """One measurement spec -> a :class:`Measurement` (one already parsed is kept)."""
    if isinstance(spec, Measurement):
        return spec
    if isinstance(spec, dict):
        return _from_dict(spec, head)
    if callable(spec) and not isinstance(spec, NetPort):
        raise OptionError(head, 'a function measurement needs a name: give {"Measurement": f, '
                          '"Key": "name"}.')
    return _plain(spec, head, {})


def _plain(spec: Any, head: str, sub: dict) -> Measurement:
    key = sub.get("Key", Automatic)
    if isinstance(spec, NetPort):
        port = _port_name(spec, head)
        return Measurement(port if key is Automatic else key, port=port,
                           aggregation=_aggregation(sub, head),
                           per_batch=_per_batch(sub, True, head),
                           direction=sub.get("Direction", "Decreasing"))
    if callable(spec):
        if key is Automatic:
            raise OptionError(head, 'a function measurement needs a "Key": give '
                              '{"Measurement": f, "Key": "name"}.')
        return Measurement(key, function=spec, aggregation=_aggregation(sub, head),
                           per_batch=_per_batch(sub, True, head),
                           direction=sub.get("Direction", "Decreasing"))
    name, param = _name_and_param(spec, head)
    if name == LOSS:
        return Measurement(LOSS)
    b = _builtin(name, head)
    param = _check_param(b, param, head)
    averaging = sub.get("ClassAveraging")
    if averaging not in (None, "Macro", "Micro"):
        raise OptionError(head, f'expected "ClassAveraging" to be None, "Macro" or "Micro", but '
                          f"received {averaging!r}.")
    if key is Automatic:
        key = b.name if param is None else f"{b.name}{_num(param)}"
    return Measurement(key, builtin=b, param=param, averaging=averaging,
                       source=_source(sub, head), per_batch=_per_batch(sub, b.per_batch, head),
                       direction=sub.get("Direction", b.direction))


def _from_dict(spec: dict, head: str) -> Measurement:
    bad = [k for k in spec if k not in KEYS]
    if bad:
        raise OptionError(head, f'unknown measurement suboption "{bad[0]}".'
                          f"{nearest(str(bad[0]), KEYS)} Suboptions are {', '.join(KEYS)}.")
    if "Measurement" not in spec:
        raise OptionError(head, f'a measurement given as a dict needs "Measurement", but '
                          f"received {spec!r}.")
    if spec.get("Direction", "Decreasing") not in ("Decreasing", "Increasing"):
        raise OptionError(head, f'expected "Direction" to be "Decreasing" or "Increasing", but '
                          f"received {spec['Direction']!r}.")
    key = spec.get("Key", Automatic)
    if key is not Automatic and not isinstance(key, str):
        raise OptionError(head, f'expected the "Key" of a measurement to be a string, but '
                          f"received {key!r}.")
    return _plain(spec["Measurement"], head, spec)


def _name_and_param(spec: Any, head: str) -> tuple[str, Any]:
    if isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str):
        return _canonical(spec[0], head), spec[1]
    if isinstance(spec, str):
        return _canonical(spec, head), None
    raise OptionError(head, f'expected a measurement: a name such as "Accuracy", ("Accuracy", '
                      f'k), NetPort("port"), a dict {{"Measurement": ...}} or a list of these, '
                      f"but received {spec!r}.")


def _canonical(name: str, head: str) -> str:
    if name == LOSS or name in BUILTINS:
        return name
    if name in SYNONYMS:
        return SYNONYMS[name]
    valid = [LOSS, *BUILTINS, *SYNONYMS]
    raise OptionError(head, f'"{name}" is not a supported measurement.{nearest(name, valid)} '
                      'Valid measurements are NetPort("port"), functions ({"Measurement": f, '
                      '"Key": name}) and built-in measurements including "Accuracy", '
                      '"ErrorRate", "F1Score", "Precision", "Recall", "ConfusionMatrix", '
                      '"MeanSquare" and "RSquared".')


def _builtin(name: str, head: str) -> Builtin:
    b = BUILTINS[name]
    if b.refused:
        raise OptionError(head, f'the measurement "{name}" is not available yet ({b.refused}).')
    return b


def _check_param(b: Builtin, param: Any, head: str) -> float | None:
    if param is None:
        if b.name == "FScore":
            return 1.0
        return None
    if b.name in ("Accuracy", "ErrorRate"):
        if isinstance(param, bool) or not isinstance(param, int) or param < 1:
            raise OptionError(head, f'expected ("{b.name}", k) with a positive integer k, but '
                              f"received k = {param!r}.")
        return None if param == 1 else int(param)
    if b.name == "FScore":
        if isinstance(param, bool) or not isinstance(param, (int, float)) or param <= 0:
            raise OptionError(head, f'expected ("FScore", beta) with a positive number beta, '
                              f"but received beta = {param!r}.")
        return float(param)
    raise OptionError(head, f'the measurement "{b.name}" takes no parameter, but received '
                      f"({b.name!r}, {param!r}).")


def _aggregation(sub: dict, head: str) -> str | None:
    a = sub.get("Aggregation")
    if a is not None and a not in AGGREGATIONS:
        raise OptionError(head, f'expected "Aggregation" to be None or one of '
                          f"{', '.join(AGGREGATIONS)}, but received {a!r}.")
    return a  # type: ignore[no-any-return]


def _per_batch(sub: dict, default: bool, head: str) -> bool:
    iv = sub.get("Interval", Automatic)
    if iv not in (Automatic, "Round", "Batch"):
        raise OptionError(head, f'expected the "Interval" of a measurement to be '
                          f'Automatic, "Round" or "Batch", but received {iv!r}.')
    return default and iv != "Round"


def _source(sub: dict, head: str) -> str | None:
    s = sub.get("Source")
    if s is None:
        return None
    if isinstance(s, NetPort):
        return _port_name(s, head)
    if not isinstance(s, str):
        raise OptionError(head, f'expected "Source" to be an output port name, but received '
                          f"{s!r}.")
    return s


def _port_name(p: NetPort, head: str) -> str:
    if p.is_graph_port:
        return p.port  # type: ignore[attr-defined,no-any-return]
    raise OptionError(head, f"measurements of interior ports ({p!r}) are not available yet; "
                      'measure an output port, NetPort("port").')


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
