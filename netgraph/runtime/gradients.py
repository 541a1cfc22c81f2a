"""Port gradients: ``net(x, NetPortGradient("Input"))`` and the other forms WL documents.

What is differentiated, as in WL: the sum of every element of every output port, or, where
the data give an output's gradient (``{..., NetPortGradient("Output"): g}``), the dot
product of that output with ``g`` (a vector-Jacobian product; outputs given no gradient
keep the default of ones). Gradients are taken with respect to:

- an input port (``NetPortGradient("Input")``): one gradient per example, shaped like the
  input, so a batch gives what one-at-a-time evaluation gives (WL 12 refused batches here);
- a learned array (``NetPortGradient((2, "Weights"))``, or ``"Weights"`` for a standalone
  layer; ``NetPortGradient(NetArray("W"))`` for a shared array, summed over its uses):
  summed over the examples of a batch, as in WL;
- ``NetPortGradient(All)``: every real-valued input and every learned array (not the
  running statistics of BatchNormalization, which have no gradient), as a dict.

A batch of sequences of different lengths is differentiated one example at a time (input
gradients and outputs as lists, array gradients summed).

The net is evaluated in evaluation mode (``NetEvaluationMode="Train"`` runs the training
behaviour, e.g. dropout). An array's gradient is read in WL's layout by the same code that
reads the array's value (``get_arrays`` of its module), applied to the gradients of the
torch parameters: that read is linear (slices of fused recurrent weights, sums), so it maps
parameter gradients to array gradients exactly.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ..errors import EvaluationError, check_options
from ..graph.net import Container, wrap
from ..graph.parts import children, layer_key
from ..graph.walk import leaves
from ..layers.base import Layer
from ..ports import NetPortGradient
from ..symbols import All
from .boundary.codec import DEFAULT, PortCodec, decode, encode_input
from .boundary.feeds import batching, feeds_of
from .boundary.values import as_array, to_plain, to_tensor
from .cache import GRADIENT_MODULES

HEAD_OPTIONS = ("TargetDevice", "WorkingPrecision", "NetEvaluationMode")
_LOCK = threading.Lock()  # the gradient module's parameters are swapped while reading


def wants_gradients(data: Any, ports: tuple[Any, ...]) -> bool:
    """Whether a call asks for gradients (a NetPortGradient as the port or a data key)."""
    if ports and (isinstance(ports[0], NetPortGradient) or isinstance(ports[0], list) and any(
            isinstance(p, NetPortGradient) for p in ports[0])):
        return True
    return isinstance(data, Mapping) and any(isinstance(k, NetPortGradient) for k in data)


class _Target:
    """One gradient asked for: an input port, or a learned array at a path of node keys."""

    def __init__(self, key: Any, port: str | None = None, path: tuple[str, ...] = (),
                 array: str | None = None) -> None:
        self.key, self.port, self.path, self.array = key, port, path, array


def port_gradients(net: Layer, data: Any, spec: Any, options: Mapping[str, Any]) -> Any:
    """``net(data, spec)`` where ``spec`` holds NetPortGradients (see the module docstring)."""
    from .evaluate import device_of, dtype_of
    head = net.head
    check_options(head, dict(options), HEAD_OPTIONS)
    g = wrap(net)
    seeds = {k: v for k, v in data.items() if isinstance(k, NetPortGradient)} \
        if isinstance(data, Mapping) else {}
    if isinstance(data, Mapping) and seeds:
        data = {k: v for k, v in data.items() if not isinstance(k, NetPortGradient)}
    for k in seeds:
        if not isinstance(k.spec, str) or k.spec not in g.params["outputs"]:
            raise EvaluationError(head, f"{k!r} in the data must name an output port of the net "
                                  f"(its output ports are {', '.join(g.params['outputs'])}).")
    if spec is None:
        raise EvaluationError(head, "output gradients (NetPortGradient(port) keys in the data) "
                              "need a gradient to compute: give NetPortGradient(\"Input\"), "
                              "an array's NetPortGradient or NetPortGradient(All) as the port.")
    specs = spec if isinstance(spec, list) else [spec]
    targets = [t for s in specs if isinstance(s, NetPortGradient)
               for t in _targets(head, net, s)]
    device = device_of(head, options.get("TargetDevice", "CPU"))
    dtype = dtype_of(head, options.get("WorkingPrecision"))
    module = _module(net, device, dtype)
    train = options.get("NetEvaluationMode", "Test") == "Train"
    try:
        tensors, batched, as_torch = _inputs(net, data, dtype, device)
    except _Ragged as r:  # sequences of several lengths: one example at a time
        return _per_example(net, r.arrays, seeds, spec, options)
    prefix = () if isinstance(net, Container) else ("1",)  # a standalone layer is wrapped
    values = _compute(head, g, module, tensors, seeds, targets, batched, train, prefix)
    result: dict[Any, Any] = {}
    for s in specs:
        if isinstance(s, NetPortGradient):
            found = {t.key: values[t.key] for t in targets if _belongs(t, s)}
            result[s] = found if s.spec is All else found[s]
        else:
            result[s] = _output(head, g, values["$outputs"], s, batched)
    result = {k: _plain(v, batched, as_torch) for k, v in result.items()}
    return result if isinstance(spec, list) else result[spec]


def _belongs(t: _Target, s: NetPortGradient) -> bool:
    return s.spec is All or t.key == s


def _plain(v: Any, batched: bool, as_torch: bool) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x, batched, as_torch) for k, x in v.items()}
    return v if as_torch else (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v)


# -- what is asked for ----------------------------------------------------------------------
def _targets(head: str, net: Layer, s: NetPortGradient) -> list[_Target]:
    g = wrap(net)
    if s.spec is All:
        ins = [_Target(NetPortGradient(p), port=p) for p in g.params["inputs"]
               if g.in_types[p].kind != "Integer"]
        return ins + _all_arrays(net)
    if isinstance(s.spec, str) and s.spec in g.params["inputs"]:
        if g.in_types[s.spec].kind == "Integer":
            raise EvaluationError(head, f'the gradient is not available for the integer-valued '
                                  f'input port "{s.spec}".')
        return [_Target(s, port=s.spec)]
    if type(s.spec).__name__ == "NetArray":
        return [_shared_target(head, net, s)]
    path = s.spec if isinstance(s.spec, tuple) else (s.spec,)
    keys, layer = _resolve(head, net, s, path[:-1])
    name = path[-1]
    if name not in layer.arrays:
        raise EvaluationError(head, f"{s!r} does not correspond to an input or an array of the "
                              f"net; its inputs are {', '.join(g.params['inputs']) or 'none'}"
                              + (f" and the arrays of {layer.head} are "
                                 f"{', '.join(layer.arrays) or 'none'}." if not
                                 isinstance(layer, Container) else "."))
    if layer.array_specs()[name].auxiliary:
        raise EvaluationError(head, f'the auxiliary array "{name}" of {layer.head} (a running '
                              "statistic) has no gradient.")
    return [_Target(s, path=keys, array=name)]


def _resolve(head: str, net: Layer, s: NetPortGradient, parts: tuple) -> tuple[tuple[str, ...],
                                                                              Layer]:
    keys: list[str] = []
    layer = net
    for p in parts:
        if isinstance(layer, Container):
            try:
                k = layer_key(head, layer, p)
            except Exception:  # noqa: BLE001 - worded below, naming the gradient asked for
                k = None
            if k is None:
                raise EvaluationError(head, f"{s!r} does not correspond to a layer of the net: "
                                      f"it has no layer {p!r}.") from None
            keys.append(k)
            layer = layer.nodes[k]  # type: ignore[attr-defined]
        elif p in children(layer):
            keys.append(str(p))
            layer = children(layer)[p]
        else:
            raise EvaluationError(head, f"{s!r} does not correspond to a layer of the net: "
                                  f"{layer.head} has no part {p!r}.")
    return tuple(keys), layer


def _all_arrays(net: Layer) -> list[_Target]:
    out, seen = [], set()
    for path, layer in leaves(net):
        specs, names = layer.array_specs(), layer.shared_names()
        for k in layer.arrays:
            if specs[k].auxiliary:
                continue
            if k in names:
                if names[k] in seen:
                    continue
                seen.add(names[k])
                from ..layers.shared import NetArray
                key = NetPortGradient(NetArray(names[k]))
            else:
                key = NetPortGradient(tuple(int(p) if p.isdigit() else p for p in path) + (k,)
                                      if path else k)
            out.append(_Target(key, path=path, array=k))
    return out


def _shared_target(head: str, net: Layer, s: NetPortGradient) -> _Target:
    from ..graph.shared import uses
    found = uses(net)
    if s.spec.name not in found:
        raise EvaluationError(head, f"{s!r}: the net has no shared array {s.spec.name!r}; its "
                              f"shared arrays are {', '.join(map(repr, found)) or 'none'}.")
    u = found[s.spec.name][0]
    return _Target(s, path=u.path, array=u.array)


# -- computing ------------------------------------------------------------------------------
def _module(net: Layer, device: str, dtype: torch.dtype) -> Any:
    """A lowered module of ``net`` used only for gradients (its own, so that evaluation never
    sees its parameters swapped), cached outside the net (runtime/cache.py)."""
    from ..backend.lower import lower
    return GRADIENT_MODULES.get_or_make(net, (device, dtype), lambda: lower(net, dtype, device))


def _inputs(net: Layer, data: Any, dtype: torch.dtype, device: str
            ) -> tuple[dict[str, torch.Tensor], bool, bool]:
    """The data as batched tensors, checked as evaluation checks them."""
    from .evaluate import evaluator
    ev = evaluator(net, device, dtype)  # the port facts and the words of its errors
    feeds = feeds_of(ev, data)
    as_torch = any(isinstance(v, torch.Tensor) for v in feeds.values())
    arrays = {k: _encoded(ev, k, v) for k, v in feeds.items()}
    if any(isinstance(v, list) for v in arrays.values()):
        raise _Ragged(arrays)
    batched, _ = batching(ev, arrays)
    tensors = {k: to_tensor(v, ev.by_name[k].integer, dtype, device) for k, v in arrays.items()}
    if not batched:
        tensors = {k: t.unsqueeze(0) for k, t in tensors.items()}
    return tensors, batched, as_torch


class _Ragged(Exception):
    """Raised by :func:`_inputs` for a batch of examples of different shapes."""

    def __init__(self, arrays: dict[str, Any]) -> None:
        super().__init__()
        self.arrays = arrays


def _per_example(net: Layer, arrays: dict[str, Any], seeds: Mapping[Any, Any], spec: Any,
                 options: Mapping[str, Any]) -> Any:
    """Gradients of a ragged batch, one example at a time: input gradients and outputs as
    lists (one per example), array gradients summed over the examples (as for a batch)."""
    n = len(next(v for v in arrays.values() if isinstance(v, list)))
    results = [port_gradients(net, {**{k: v[i] for k, v in arrays.items()},
                                    **{k: v[i] for k, v in seeds.items()}}, spec, options)
               for i in range(n)]
    inputs = set(wrap(net).params["inputs"])
    return _combine(results, inputs, None if isinstance(spec, list) else spec)


def _combine(results: list, inputs: set[str], key: Any) -> Any:
    first = results[0]
    if isinstance(first, dict):
        return {k: _combine([r[k] for r in results], inputs, k) for k in first}
    return _join(key, results, inputs)


def _join(key: Any, values: list, inputs: set[str]) -> Any:
    if isinstance(key, NetPortGradient) and not (isinstance(key.spec, str)
                                                 and key.spec in inputs):
        return sum(values[1:], values[0])        # an array's gradient: summed over examples
    return values                                # an input's gradient or an output: a list


def _encoded(ev: Any, port: str, value: Any) -> Any:
    """One input's data as an array (a batch, or one example without its batch axis): through
    the port's encoder when it has one (an image, a label ...), as evaluation encodes it."""
    codec = ev.by_name[port]
    if codec.coder is None:
        return as_array(ev.head, port, value, codec.integer, codec.rank)
    return encode_input(ev.head, codec, value)


def _seed(head: str, g: Container, port: Any, value: Any, out: torch.Tensor, batched: bool
          ) -> torch.Tensor:
    name = port.spec
    t = torch.as_tensor(np.asarray(value, dtype=np.float64) if not isinstance(
        value, torch.Tensor) else value, dtype=out.dtype, device=out.device)
    if not batched:
        t = t.unsqueeze(0)
    if tuple(t.shape) != tuple(out.shape):
        want = tuple(out.shape) if batched else tuple(out.shape[1:])
        got = tuple(t.shape) if batched else tuple(t.shape[1:])
        raise EvaluationError(head, f'the gradient given for output port "{name}" has '
                              f"dimensions {list(got)}, but the port gives {list(want)}.")
    return t


def _compute(head: str, g: Container, module: Any, tensors: dict[str, torch.Tensor],
             seeds: Mapping[Any, Any], targets: list[_Target], batched: bool, train: bool,
             prefix: tuple[str, ...]) -> dict[Any, Any]:
    args = dict(zip(g.params["inputs"], module.arg_names, strict=True))
    for t in targets:
        if t.port is not None and t.port not in tensors:
            raise EvaluationError(head, f'the gradient at input port "{t.port}" needs data for '
                                  "it.")
    with _LOCK:
        module.train(train)
        wanted_inputs = {t.port for t in targets if t.port is not None}
        feeds = {k: v.detach().requires_grad_(True) if k in wanted_inputs else v
                 for k, v in tensors.items()}
        params = [p for p in module.parameters() if p.requires_grad]
        with torch.enable_grad():
            out = module(**{args[k]: v for k, v in feeds.items()})
            terms = [_objective(head, g, p, out[p], seeds, batched)
                     for p in g.params["outputs"] if out[p].is_floating_point()]
            total = torch.stack(terms).sum() if terms else None
            wrt = [feeds[p] for p in sorted(wanted_inputs)] + params
            grads = torch.autograd.grad(total, wrt, allow_unused=True) if (
                total is not None and total.requires_grad) else [None] * len(wrt)
        values: dict[Any, Any] = {"$outputs": {k: v.detach() for k, v in out.items()}}
        ins = dict(zip(sorted(wanted_inputs), grads[:len(wanted_inputs)], strict=True))
        for t in targets:
            if t.port is not None:
                gi = ins[t.port]
                gi = torch.zeros_like(feeds[t.port]) if gi is None else gi
                values[t.key] = gi if batched else gi[0]
        pgrads = dict(zip(map(id, params), grads[len(wanted_inputs):], strict=True))
        arrays = [t for t in targets if t.array is not None]
        if arrays:
            _read_array_gradients(module, arrays, params, pgrads, values, prefix)
        module.train(False)
    return values


def _objective(head: str, g: Container, port: str, y: torch.Tensor, seeds: Mapping[Any, Any],
               batched: bool) -> torch.Tensor:
    seed = seeds.get(NetPortGradient(port))
    if seed is None:
        return y.sum()
    return (y * _seed(head, g, NetPortGradient(port), seed, y, batched)).sum()


def _read_array_gradients(module: Any, targets: list[_Target], params: list,
                          pgrads: dict[int, Any], values: dict[Any, Any],
                          prefix: tuple[str, ...]) -> None:
    """Each target array's gradient, read in WL's layout through its module's get_arrays."""
    from ..backend.operators import module_at
    params = [p for p in module.parameters()]  # frozen ones (a bias held at zero) read as 0
    saved = [p.detach().clone() for p in params]
    try:
        with torch.no_grad():
            for p in params:
                gp = pgrads.get(id(p))
                p.copy_(torch.zeros_like(p) if gp is None else gp)
            for t in targets:
                sub = module_at(module, (*prefix, *t.path))
                values[t.key] = torch.as_tensor(sub.get_arrays()[t.array])
    finally:
        with torch.no_grad():
            for p, s in zip(params, saved, strict=True):
                p.copy_(s)


def _output(head: str, g: Container, outs: Mapping[str, torch.Tensor], spec: Any,
            batched: bool) -> Any:
    from ..ports import NetPort
    name = spec.port if isinstance(spec, NetPort) and spec.is_graph_port else spec
    if not isinstance(name, str) or name not in outs:
        raise EvaluationError(head, f"the net has no output port {spec!r}; its output ports "
                              f"are {', '.join(g.params['outputs'])}.")
    coder = (getattr(g, "coders", None) or {}).get(name)
    if coder is not None:   # a decoded output: its label(s), as net(x) gives them
        codec = PortCodec(name, g.out_types[name], False, coder)
        return decode(head, codec, outs[name].detach().cpu().numpy(), DEFAULT, batched)
    t = outs[name] if batched else outs[name][0]
    return to_plain(t, False, True)
