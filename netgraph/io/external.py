"""NetExternalObject: an ONNX model run by onnxruntime, for evaluation only (as WL's).

``Import("model.onnx", "NetExternalObject")`` or ``NetExternalObject("model.onnx")`` reads
the file with the same checks as ``Import("model.onnx")`` (size limit, no external data, only
standard operators, onnx's checker) and runs any model onnxruntime runs, including
operators netgraph does not convert into layers. It is not a layer: it cannot go inside a
NetGraph or be trained (import the model as a net for that).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import EvaluationError, NetImportError, OptionError, nearest

HEAD = "NetExternalObject"
NUMPY = {"tensor(float)": np.float32, "tensor(double)": np.float64,
         "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}
PROPERTIES = ("Format", "Backend", "InputPortNames", "OutputPortNames", "InputPorts",
              "OutputPorts", "Properties")


class NetExternalObject:
    """NetExternalObject("model.onnx"): an external (ONNX) model, evaluated by onnxruntime.

    ``obj(x)`` for a model with one input, ``obj({"name": x, ...})`` for several; a single
    example is given a batch dimension when the model's first dimension is free (and the
    result loses it again). Outputs are numpy arrays: one, or a dict for several outputs.
    Option ``TargetDevice``: "CPU" only. ``Information(obj, prop)``: "Format" ("ONNX"),
    "InputPortNames", "OutputPortNames", "InputPorts", "OutputPorts" (dimensions, None where
    free, the batch included).
    """

    def __init__(self, path: Any) -> None:
        from .files import _path
        from .onnx_import import read_model
        path = _path(HEAD, path)
        model = read_model(path)
        try:
            import onnxruntime as ort
        except ImportError:
            raise NetImportError(HEAD, "NetExternalObject needs the onnxruntime package (pip "
                                 "install onnxruntime).") from None
        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(model.SerializeToString(), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001 - onnxruntime's errors vary
            raise NetImportError(HEAD, f'onnxruntime cannot run "{path}": '
                                 f"{str(e).splitlines()[0][:300]}") from None
        self.path = path
        self._inputs = {i.name: i for i in self._session.get_inputs()}
        self._outputs = [o.name for o in self._session.get_outputs()]

    def __repr__(self) -> str:
        return (f"NetExternalObject(<ONNX: {', '.join(self._inputs)} -> "
                f"{', '.join(self._outputs)}>)")

    def __call__(self, data: Any, **options: Any) -> Any:
        for k, v in options.items():
            if k != "TargetDevice":
                raise OptionError(HEAD, f"unknown option {k}.{nearest(k, ['TargetDevice'])} "
                                  "The option is TargetDevice.")
            if v != "CPU":
                raise OptionError(HEAD, f'TargetDevice {v!r} is not supported; onnxruntime '
                                  'runs this model on "CPU".')
        feeds = self._feeds(data)
        batched = {self._batched(k, v) for k, v in feeds.items()}
        if len(batched) > 1:
            raise EvaluationError(HEAD, "some inputs are single examples and others batches.")
        one = not batched.pop()
        run = {k: (v[None] if one else v) for k, v in feeds.items()}
        try:
            outs = self._session.run(self._outputs, run)
        except Exception as e:  # noqa: BLE001 - onnxruntime's errors vary
            raise EvaluationError(HEAD, f"onnxruntime could not evaluate the model: "
                                  f"{str(e).splitlines()[0][:300]}") from None
        values = [o[0] if one else o for o in outs]
        return values[0] if len(values) == 1 else dict(zip(self._outputs, values, strict=True))

    def _feeds(self, data: Any) -> dict[str, np.ndarray]:
        names = list(self._inputs)
        if isinstance(data, Mapping):
            unknown = [k for k in data if k not in names]
            if unknown:
                raise EvaluationError(HEAD, f'the model has no input "{unknown[0]}"; its inputs '
                                      f"are {', '.join(names)}.")
            missing = [k for k in names if k not in data]
            if missing:
                raise EvaluationError(HEAD, f'no data was given for input "{missing[0]}".')
            given = dict(data)
        elif len(names) == 1:
            given = {names[0]: data}
        else:
            raise EvaluationError(HEAD, f"the model has several inputs ({', '.join(names)}); "
                                  "give a dict {input: data}.")
        out: dict[str, np.ndarray] = {}
        for k, v in given.items():
            dtype = NUMPY.get(self._inputs[k].type)
            if dtype is None:
                raise EvaluationError(HEAD, f'input "{k}" has the type {self._inputs[k].type}, '
                                      "which NetExternalObject does not feed.")
            try:
                out[k] = np.asarray(v, dtype=dtype)
            except (TypeError, ValueError):
                raise EvaluationError(HEAD, f'input "{k}" expects numbers, but received '
                                      f"{str(v)[:60]}.") from None
        return out

    def _batched(self, name: str, x: np.ndarray) -> bool:
        shape = self._inputs[name].shape
        if x.ndim == len(shape):
            return True
        if x.ndim == len(shape) - 1 and not isinstance(shape[0], int):
            return False
        raise EvaluationError(HEAD, f'input "{name}" expects an array of dimensions '
                              f"{_dims(shape)} (or one example of it), but received dimensions "
                              f"{list(x.shape)}.")

    def information(self, prop: str | None = None) -> Any:
        """What ``Information(obj, prop)`` gives."""
        table = {"Format": "ONNX", "Backend": "ONNXRuntime",
                 "InputPortNames": list(self._inputs), "OutputPortNames": list(self._outputs),
                 "InputPorts": {k: _dims(i.shape) for k, i in self._inputs.items()},
                 "OutputPorts": {o.name: _dims(o.shape) for o in self._session.get_outputs()},
                 "Properties": list(PROPERTIES)}
        if prop is None:
            return {k: v for k, v in table.items() if k != "Properties"}
        if prop not in table:
            raise OptionError(HEAD, f"unknown property {prop!r}.{nearest(str(prop), PROPERTIES)}"
                              f" The properties are {', '.join(PROPERTIES)}.")
        return table[prop]


def _dims(shape: Any) -> list:
    return [d if isinstance(d, int) else None for d in shape]
