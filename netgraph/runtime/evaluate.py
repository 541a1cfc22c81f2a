"""Evaluating a net on plain data: ``net(x)``, ``net({...})``, ``net(x, "Port")``.

The evaluator cache, the fast path, chunking by BatchSize and the choice of path (coded,
states, gradients, ragged); turning the data into tensors and the outputs back into plain
data is the boundary's (``boundary/feeds.py``, ``boundary/values.py``, ``boundary/codec.py``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..errors import OptionError, ShapeError, check_options
from ..graph.net import Container, wrap
from ..layers.base import Layer
from ..shapes import PortType
from .boundary.codec import selection
from .boundary.feeds import (
    FastPort,
    _spec,
    batching,
    coded_feeds,
    decoded_output,
    feeds_of,
    plain_output,
    result_of,
    selected_ports,
    stacked,
)
from .boundary.values import (
    DTYPES,
    PortCodec,
    as_array,
    check_shape,
    check_values,
    to_plain,
    to_tensor,
)
from .cache import EVALUATORS, TYPED
from .gradients import port_gradients, wants_gradients
from .modes import mode_of, seeded
from .speed import CompiledForward, wants_compiled
from .state import state_ports_as_states, wants_states
from .stateful import evaluate_with_states

EVAL_OPTIONS = ("TargetDevice", "WorkingPrecision", "BatchSize", "NetEvaluationMode",
                "RandomSeeding", "PerformanceGoal")


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

    def __init__(self, net: Layer, device: str, dtype: torch.dtype, mode: str = "Test",
                 compiled: bool = False) -> None:
        from ..backend.lower import inference_forward, lower, optional_ports
        g = wrap(net)
        self.head = g.head if isinstance(net, Container) else net.head
        # errors name net's head; "Train": dropout drops, batch norm uses the batch's statistics
        self.module = lower(net, dtype, device).train(mode == "Train")
        self.device, self.dtype = device, dtype
        self.inputs = [PortCodec(p, g.in_types[p], g.in_types[p].kind == "Integer",
                                 g.coders.get(p)) for p in g.params["inputs"]]
        self.out_codecs = {p: PortCodec(p, g.out_types[p], g.out_types[p].kind == "Integer",
                                        g.coders.get(p)) for p in g.params["outputs"]}
        self.coded = bool(g.coders)   # an encoder or decoder: the coded path (boundary)
        self.optional = optional_ports(g)
        # a standalone layer's state ports, which evaluation takes by name (initial states)
        self.state_ports = () if isinstance(net, Container) else tuple(net.states)
        self.outputs = list(g.params["outputs"])
        self.scalar_out = {p: not g.out_types[p].dims for p in self.outputs}
        self.by_name = {s.name: s for s in self.inputs}
        self.args = dict(zip((s.name for s in self.inputs), self.module.arg_names, strict=True))
        # our own module, never changed: no hooks to run, arrays read as plain attributes
        self.forward = inference_forward(self.module)
        if compiled:   # PerformanceGoal "TrainingSpeed" (runtime/speed.py)
            self.forward = CompiledForward(self.forward, self.head, device)
        self.required = sum(1 for s in self.inputs if s.name not in self.optional)
        self.fast_ports = {s.name: FastPort(s, self.args[s.name], dtype, device)
                           for s in self.inputs}

    def run(self, feeds: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        args = self.args
        with torch.inference_mode():
            return self.forward(**{args[k]: v for k, v in feeds.items()})

    def fast(self, feeds: Mapping[str, Any]) -> Any:
        """The common case: numpy/list examples or batches for every required port, all
        outputs wanted. Returns None to fall back to the general path (which words errors).

        Per-port facts are precomputed (:class:`FastPort`): a call costs a few attribute
        reads per port on top of the forward (benchmarks/graph_overhead.py).
        """
        args: dict[str, torch.Tensor] = {}
        flag = None
        for name, value in feeds.items():
            port = self.fast_ports.get(name)
            if port is None:
                return None
            if type(value) is not np.ndarray:
                if isinstance(value, torch.Tensor):
                    return None
                try:
                    value = np.asarray(value)
                except (ValueError, TypeError):  # ragged examples: the general path groups them
                    return None
            batched = value.ndim == port.rank + 1
            if (not batched and value.ndim != port.rank) or value.dtype.kind not in "biuf" or (
                    flag is not None and flag != batched):
                return None  # None, strings, ...: the general path words the error
            flag = batched
            if (value.shape[1:] if batched else value.shape) != port.dims:
                check_shape(self.head, port.spec, value.shape, batched)  # raises, or Varying
            if port.integer:
                check_values(self.head, port.spec, value, batched)
            args[port.arg] = port.tensor(value if batched else value[None])  # (batch, ...)
        if len(args) < self.required or (flag and len({t.shape[0] for t in args.values()}) > 1):
            return None
        with torch.inference_mode():
            out = self.forward(**args)
        if self.device != "cpu" or flag is None:
            return result_of(self, out, None, bool(flag), False)
        if len(self.outputs) == 1:
            return plain_output(self, out, self.outputs[0], flag)
        return {p: plain_output(self, out, p, flag) for p in self.outputs}



_DEFAULT = ("cpu", torch.float32)


def evaluator(net: Layer, device: str = "cpu", dtype: torch.dtype = torch.float32,
              mode: str = "Test", compiled: bool = False) -> Evaluator:
    """The evaluator of ``net`` for a device, precision, NetEvaluationMode and whether its
    forward is compiled (cached outside the net)."""
    key = (device, dtype) if mode == "Test" and not compiled else (device, dtype, mode,
                                                                     compiled)
    return EVALUATORS.get_or_make(net, key, lambda: Evaluator(net, device, dtype, mode,
                                                              compiled))


def evaluate(net: Layer, data: Any, *ports: Any, **options: Any) -> Any:
    """Evaluate ``net`` on plain data (see :meth:`Layer.__call__`)."""
    if type(data) is dict and net.states:   # a layer's own state ports, given by name
        data = state_ports_as_states(net, data)
    try:
        return _evaluate(net, data, *ports, **options)
    except ShapeError:
        typed = typed_by_data(net, data)
        if typed is None:
            raise
        return _evaluate(typed, data, *ports, **options)


def typed_by_data(net: Layer, data: Any) -> Layer | None:
    """``net`` with the shapes of its open input ports taken from ``data``, as WL does for
    ``ElementwiseLayer[Tanh][{0.5, 1}]``; None when the data cannot fix them.

    An input port of unknown rank takes the data as one example; a port of known rank and
    unknown sizes takes the sizes of an example or of a batch's first example.
    """
    g = wrap(net)
    open_ports = [p for p in g.params["inputs"] if not g.in_types[p].is_known()]
    if not open_ports:
        return None
    feeds = data if isinstance(data, Mapping) else (
        {g.params["inputs"][0]: data} if len(g.params["inputs"]) == 1 else {})
    types = dict(g.in_types)
    for p in open_ports:
        if p not in feeds:
            return None
        try:
            shape = tuple(np.shape(feeds[p]))
        except ValueError:
            return None
        t = g.in_types[p]
        dims = shape if t.dims is None else (
            shape[-len(t.dims):] if len(shape) in (len(t.dims), len(t.dims) + 1) else None)
        if dims is None or not dims and t.dims is None and not shape:
            dims = shape
        types[p] = PortType(tuple(int(d) for d in dims), t.kind, t.bound)
    key = ("typed", tuple(sorted((p, types[p]) for p in open_ports)))
    cached = TYPED.get(net, key)
    if cached is None:
        typed = g.specialize(types, dict(g.out_types))
        # A standalone layer stays a layer, so its errors keep naming its own head.
        cached = TYPED.put(net, key, typed if isinstance(net, Container)
                           else typed.nodes["1"])  # type: ignore[attr-defined]
    return cached


def _evaluate(net: Layer, data: Any, *ports: Any, **options: Any) -> Any:
    head = net.head
    if options:
        check_options(head, options, EVAL_OPTIONS)
        ev = evaluator(net, device_of(head, options.get("TargetDevice", "CPU")),
                       dtype_of(head, options.get("WorkingPrecision")),
                       mode_of(head, options.get("NetEvaluationMode")),
                       wants_compiled(head, options.get("PerformanceGoal")))
        if options.keys() == {"PerformanceGoal"} and not ports and ev.inputs and not ev.coded:
            result = _fast(ev, data)
            if result is not None:
                return result
        with seeded(head, options.get("RandomSeeding"), ev.device):
            return _evaluate_with(net, ev, data, ports, options)
    else:
        ev = EVALUATORS.get(net, _DEFAULT) or evaluator(net)
        if not ports and ev.inputs and not ev.coded:
            result = _fast(ev, data)
            if result is not None:
                return result
    return _evaluate_with(net, ev, data, ports, options)


def _fast(ev: Evaluator, data: Any) -> Any:
    """:meth:`Evaluator.fast` on a dict of ports or one port's data; None to fall back."""
    if type(data) is dict or isinstance(data, Mapping):
        return ev.fast(data)  # keys other than port names fall back
    if len(ev.inputs) == 1 and not isinstance(data, torch.Tensor):
        return ev.fast({ev.inputs[0].name: data})
    return None


def _evaluate_with(net: Layer, ev: Evaluator, data: Any, ports: tuple[Any, ...],
                   options: Mapping[str, Any]) -> Any:
    head = net.head
    if wants_gradients(data, ports):
        return port_gradients(net, data, ports[0] if ports else None, options)
    if wants_states(data, ports):   # encoders and decoders (default property) apply there too
        return evaluate_with_states(net, ev, data, ports, options.get("BatchSize"))
    if ev.coded:
        return _evaluate_coded(ev, data, ports, options.get("BatchSize"))
    feeds = feeds_of(ev, data)
    want = selected_ports(ev, ports)
    as_torch = any(isinstance(v, torch.Tensor) for v in feeds.values())
    arrays = {k: as_array(head, k, v, _spec(ev, k).integer, _spec(ev, k).rank)
              for k, v in feeds.items()}
    if any(isinstance(v, list) for v in arrays.values()):
        return _evaluate_ragged(ev, arrays, want, as_torch, options.get("BatchSize"))
    batched, _ = batching(ev, arrays)
    tensors = {k: to_tensor(v, _spec(ev, k).integer, ev.dtype, ev.device)
               for k, v in arrays.items()}
    if not batched:
        tensors = {k: t.unsqueeze(0) for k, t in tensors.items()}
    # an omitted state input (ev.optional) is left out: the module defaults it to zeros
    out = _run_chunked(ev, tensors, options.get("BatchSize"))
    return result_of(ev, out, want, batched, as_torch)


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


def _evaluate_coded(ev: Evaluator, data: Any, ports: tuple, batch_size: Any) -> Any:
    """A net with coders: inputs through their encoders (or bypassing them when already
    encoded), outputs through their decoders with the property asked for (boundary/codec.py).
    Variable-length encodings (characters, tokens) run through the length buckets."""
    head = ev.head
    coders = {p: c.coder for p, c in ev.out_codecs.items() if c.coder is not None}
    pairs, form = selection(head, ev.outputs, coders, ports)
    arrays, batched = coded_feeds(ev, data)
    outs = _run_examples(ev, {k: stacked(v) for k, v in arrays.items()}, batch_size)
    values = {p: decoded_output(ev, p, outs[p], prop, batched) for p, prop in pairs}
    return values[pairs[0][0]] if form == "one" else values


def _run_examples(ev: Evaluator, arrays: dict[str, Any], batch_size: Any) -> dict[str, Any]:
    """Batched outputs as numpy arrays, or per-example lists for examples of several
    lengths (run in length buckets)."""
    if any(isinstance(v, list) for v in arrays.values()):
        from .sequences import run_ragged
        outs, _ = run_ragged(ev, arrays, None, _check_batch_size(ev, batch_size))
        return {p: [t.detach().cpu().numpy() for t in ts] for p, ts in outs.items()}
    batching(ev, arrays)   # shapes and values, with the usual errors
    tensors = {k: to_tensor(v, _spec(ev, k).integer, ev.dtype, ev.device)
               for k, v in arrays.items()}
    out = _run_chunked(ev, tensors, batch_size)
    return {p: t.detach().cpu().numpy() for p, t in out.items()}


