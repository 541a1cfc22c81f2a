"""Evaluating a net on plain data: ``net(x)``, ``net({...})``, ``net(x, "Port")``."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..errors import EvaluationError, OptionError, check_options, nearest
from ..graph.net import Container, wrap
from ..layers.base import Layer
from ..ports import NetPort
from .data import (DTYPES, PortSpec, as_array, batch_rank, check_shape, check_values, to_plain,
                   to_tensor)
from .state import wants_states
from .stateful import evaluate_with_states

EVAL_OPTIONS = ("TargetDevice", "WorkingPrecision", "BatchSize", "NetEvaluationMode",
                "RandomSeeding")


def device_of(head: str, spec: Any) -> str:
    """TargetDevice -> a torch device string ("CPU" -> "cpu", "GPU" -> "cuda")."""
    name = spec[0] if isinstance(spec, (tuple, list)) and spec else spec
    if name in ("CPU", None):
        return "cpu"
    if name in ("GPU", "CUDA"):
        if not torch.cuda.is_available():
            raise OptionError(head, 'TargetDevice "GPU" was requested, but no GPU is available '
                              "to torch on this machine.")
        if isinstance(spec, (tuple, list)) and len(spec) > 1 and isinstance(spec[1], int):
            return f"cuda:{spec[1] - 1}"
        return "cuda"
    raise OptionError(head, f'expected TargetDevice to be "CPU", "GPU" or ("GPU", n), but '
                      f"received {spec!r}.")


def dtype_of(head: str, spec: Any) -> torch.dtype:
    if spec in (None, "Automatic") or spec is None:
        return torch.float32
    from ..symbols import Automatic
    if spec is Automatic:
        return torch.float32
    if spec not in DTYPES:
        raise OptionError(head, f'expected WorkingPrecision to be "Real32" or "Real64", but '
                          f"received {spec!r}.")
    return DTYPES[spec]


class Evaluator:
    """A net lowered for one device and precision, with its input and output port specs."""

    def __init__(self, net: Layer, device: str, dtype: torch.dtype) -> None:
        from ..backend.lower import lower, optional_ports
        g = wrap(net)
        self.head = g.head if isinstance(net, Container) else net.head
        self.module = lower(net, dtype, device).eval()  # errors name net's head
        self.device, self.dtype = device, dtype
        self.inputs = [PortSpec(p, g.in_types[p], g.in_types[p].kind == "Integer")
                       for p in g.params["inputs"]]
        self.optional = optional_ports(g)
        self.outputs = list(g.params["outputs"])
        self.scalar_out = {p: not g.out_types[p].dims for p in self.outputs}
        self.by_name = {s.name: s for s in self.inputs}
        self.args = dict(zip((s.name for s in self.inputs), self.module.arg_names))
        self.forward = self.module.forward  # our own module: no hooks to run
        self.required = sum(1 for s in self.inputs if s.name not in self.optional)

    def run(self, feeds: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        args = self.args
        with torch.inference_mode():
            return self.forward(**{args[k]: v for k, v in feeds.items()})

    def fast(self, feeds: Mapping[str, Any]) -> Any:
        """The common case: numpy/list examples or batches for every required port, all
        outputs wanted. Returns None to fall back to the general path (which words errors)."""
        tensors, flag = {}, None
        for name, value in feeds.items():
            spec = self.by_name.get(name)
            if spec is None or isinstance(value, torch.Tensor):
                return None
            try:
                arr = value if isinstance(value, np.ndarray) else np.asarray(value)
            except (ValueError, TypeError):  # ragged examples: the general path groups them
                return None
            batched = arr.ndim == spec.rank + 1
            if arr.dtype.kind not in "biuf" or (not batched and arr.ndim != spec.rank) or (
                    flag is not None and flag != batched):
                return None  # None, strings, ...: the general path words the error
            flag = batched
            check_shape(self.head, spec, arr.shape, batched)
            check_values(self.head, spec, arr, batched)
            t = to_tensor(arr, spec.integer, self.dtype, self.device)
            tensors[name] = t if batched else t.unsqueeze(0)
        if len(tensors) < self.required or (flag and len({t.shape[0] for t in tensors.values()}) > 1):
            return None
        return _result(self, self.run(tensors), None, bool(flag), False)


_DEFAULT = ("evaluator", "cpu", torch.float32)


def evaluator(net: Layer, device: str = "cpu", dtype: torch.dtype = torch.float32) -> Evaluator:
    key = ("evaluator", device, dtype)
    ev = net._cache.get(key)  # type: ignore[attr-defined]
    if ev is None:
        ev = net._cache[key] = Evaluator(net, device, dtype)  # type: ignore[attr-defined]
    return ev


def evaluate(net: Layer, data: Any, *ports: Any, **options: Any) -> Any:
    """Evaluate ``net`` on plain data (see :meth:`Layer.__call__`)."""
    head = net.head
    if options:
        check_options(head, options, EVAL_OPTIONS)
        ev = evaluator(net, device_of(head, options.get("TargetDevice", "CPU")),
                       dtype_of(head, options.get("WorkingPrecision")))
    else:
        ev = net._cache.get(_DEFAULT) or evaluator(net)  # type: ignore[attr-defined]
        if not ports and ev.inputs:
            if isinstance(data, Mapping):
                result = ev.fast(data) if all(type(k) is str for k in data) else None
            elif len(ev.inputs) == 1 and not isinstance(data, torch.Tensor):
                result = ev.fast({ev.inputs[0].name: data})
            else:
                result = None
            if result is not None:
                return result
    if wants_states(data, ports):
        return evaluate_with_states(net, ev, data, ports, options.get("BatchSize"))
    feeds = _feeds(ev, data)
    want = _selected_ports(ev, ports)
    as_torch = any(isinstance(v, torch.Tensor) for v in feeds.values())
    arrays = {k: as_array(head, k, v, _spec(ev, k).integer, _spec(ev, k).rank)
              for k, v in feeds.items()}
    if any(isinstance(v, list) for v in arrays.values()):
        return _evaluate_ragged(ev, arrays, want, as_torch, options.get("BatchSize"))
    batched, n = _batching(ev, arrays)
    tensors = {k: to_tensor(v, _spec(ev, k).integer, ev.dtype, ev.device)
               for k, v in arrays.items()}
    if not batched:
        tensors = {k: t.unsqueeze(0) for k, t in tensors.items()}
    _default_states(ev, tensors, n if batched else 1)
    out = _run_chunked(ev, tensors, options.get("BatchSize"))
    return _result(ev, out, want, batched, as_torch)


def _spec(ev: Evaluator, name: str) -> PortSpec:
    return ev.by_name[name]


def _feeds(ev: Evaluator, data: Any) -> dict[str, Any]:
    names = [s.name for s in ev.inputs]
    if isinstance(data, Mapping) and data and all(isinstance(k, (str, NetPort)) for k in data):
        feeds = {}
        for k, v in data.items():
            name = k.port if isinstance(k, NetPort) else k
            if name not in names:
                raise EvaluationError(ev.head, f'the net has no input port "{name}".'
                                      f"{nearest(name, names)} Its input ports are "
                                      f"{', '.join(names) or 'none'}.")
            feeds[name] = v
    elif len(names) == 1:
        feeds = {names[0]: data}
    elif not names and (data is None or (isinstance(data, Mapping) and not data)):
        feeds = {}  # a net without inputs (NetArrayLayer): net() or net({})
    elif not names:
        raise EvaluationError(ev.head, "the net has no input ports.")
    else:
        raise EvaluationError(ev.head, f"the net has several input ports "
                              f"({', '.join(names)}); give a dict {{port: data}}.")
    missing = [n for n in names if n not in feeds and n not in ev.optional]
    if missing:
        raise EvaluationError(ev.head, f'no data was given for input port "{missing[0]}"; the '
                              f"net's input ports are {', '.join(names)}.")
    return feeds


def _batching(ev: Evaluator, arrays: Mapping[str, Any]) -> tuple[bool, int]:
    kinds = {}
    for k, v in arrays.items():
        spec = _spec(ev, k)
        shape = tuple(v.shape)
        b = batch_rank(ev.head, spec, shape)
        check_shape(ev.head, spec, shape, b)
        check_values(ev.head, spec, v, b)
        kinds[k] = (b, shape[0] if b else 1)
    flags = {b for b, _ in kinds.values()}
    if len(flags) > 1:
        raise EvaluationError(ev.head, "some inputs are single examples and others batches: "
                              + ", ".join(f'"{k}" {"batch" if b else "example"}'
                                          for k, (b, _) in kinds.items()) + ".")
    sizes = {n for b, n in kinds.values()}
    if len(sizes) > 1:
        raise EvaluationError(ev.head, "the input batches have different lengths: "
                              + ", ".join(f'"{k}" {n}' for k, (_, n) in kinds.items()) + ".")
    batched = flags.pop() if flags else False
    return batched, sizes.pop() if sizes else 1


def _default_states(ev: Evaluator, tensors: dict[str, torch.Tensor], n: int) -> None:
    for s in ev.inputs:
        if s.name not in tensors and s.name in ev.optional:
            continue  # the module defaults an omitted state to zeros


def _run_chunked(ev: Evaluator, tensors: dict[str, torch.Tensor], batch_size: Any
                 ) -> dict[str, torch.Tensor]:
    from ..symbols import Automatic
    if batch_size in (None, Automatic):
        return ev.run(tensors)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise OptionError(ev.head, f"expected BatchSize to be a positive integer, but received "
                          f"{batch_size!r}.")
    n = next(iter(tensors.values())).shape[0] if tensors else 1
    parts = [ev.run({k: t[i:i + batch_size] for k, t in tensors.items()})
             for i in range(0, n, batch_size)]
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}


def _selected_ports(ev: Evaluator, ports: tuple[Any, ...]) -> list[str] | str | None:
    if not ports:
        return None
    if len(ports) > 1:
        raise EvaluationError(ev.head, "expected one port spec after the data, but received "
                              f"{len(ports)}; give a list of ports to get several.")
    spec = ports[0]
    if isinstance(spec, list):
        return [_one_port(ev, p) for p in spec]
    return _one_port(ev, spec)


def _one_port(ev: Evaluator, p: Any) -> str:
    name = p.port if isinstance(p, NetPort) and p.is_graph_port else p
    if not isinstance(name, str) or name not in ev.outputs:
        shown = name if isinstance(name, str) else repr(p)
        raise EvaluationError(ev.head, f'the net has no output port "{shown}".'
                              f"{nearest(str(shown), ev.outputs)} Its output ports are "
                              f"{', '.join(ev.outputs)}.")
    return name


def _result(ev: Evaluator, out: Mapping[str, torch.Tensor], want: Any, batched: bool,
            as_torch: bool) -> Any:
    def value(p: str) -> Any:
        t = out[p] if batched else out[p][0]
        return to_plain(t, ev.scalar_out[p] and not batched, as_torch)
    if isinstance(want, str):
        return value(want)
    names = want if want is not None else ev.outputs
    if want is None and len(names) == 1:
        return value(names[0])
    return {p: value(p) for p in names}


def _evaluate_ragged(ev: Evaluator, arrays: dict[str, Any], want: Any, as_torch: bool,
                     batch_size: Any = None) -> Any:
    """A batch whose examples differ in shape (sequences of several lengths): length buckets,
    each padded to its longest example and masked (runtime/sequences.py)."""
    from .sequences import run_ragged
    outs, _ = run_ragged(ev, arrays, None, _check_batch_size(ev, batch_size))
    names = want if isinstance(want, list) else ([want] if isinstance(want, str)
                                                 else ev.outputs)
    per_port = {p: [to_plain(t, ev.scalar_out[p], as_torch) for t in outs[p]] for p in names}
    if isinstance(want, str) or (want is None and len(names) == 1):
        return per_port[names[0]]
    return per_port


def _check_batch_size(ev: Evaluator, batch_size: Any) -> int | None:
    from ..symbols import Automatic
    if batch_size in (None, Automatic):
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise OptionError(ev.head, f"expected BatchSize to be a positive integer, but received "
                          f"{batch_size!r}.")
    return batch_size
