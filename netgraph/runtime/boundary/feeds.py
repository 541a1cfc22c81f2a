"""Evaluation's feeds and results: ``net(x)``'s data -> checked per-port arrays and tensors,
outputs -> plain values.

- :func:`feeds_of`: the data as ``{port: value}`` (one port's data, a dict by name or
  NetPort), with the errors for unknown and missing ports;
- :func:`batching`: whether the inputs are one example or a batch, shapes and values checked;
- :class:`FastPort`: one input port's precomputed facts for ``Evaluator.fast``;
- :func:`selected_ports` / :func:`one_port`: ``net(x, "Port")``'s output selection;
- :func:`result_of` / :func:`plain_output`: output tensors -> numbers, numpy or torch;
- :func:`coded_feeds` / :func:`stacked` / :func:`decoded_output`: a net with coders (inputs
  encoded, outputs decoded with a property; ``codec.py`` does the coding);
- :func:`examples_of` / :func:`stack_examples`: a batch of examples of several shapes, split
  into checked examples and stacked (padded) back into tensors for the length buckets
  (``runtime/sequences.py`` groups and runs them).

``ev`` is the net's ``runtime.evaluate.Evaluator`` (its ports, head, device and dtype).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ...errors import EvaluationError, nearest
from ...ports import NetPort
from ..buckets import pad_examples
from .codec import DEFAULT, decode, encode_value
from .values import (
    PortCodec,
    as_array,
    batch_rank,
    check_shape,
    check_values,
    to_plain,
    to_tensor,
)

NUMPY_DTYPES = {torch.float32: np.dtype(np.float32), torch.float64: np.dtype(np.float64),
                torch.int64: np.dtype(np.int64)}


class FastPort:
    """What :meth:`Evaluator.fast` needs of one input port, computed once."""

    __slots__ = ("spec", "arg", "rank", "dims", "integer", "np_dtype", "dtype", "device")

    def __init__(self, spec: PortCodec, arg: str, dtype: torch.dtype, device: str) -> None:
        self.spec, self.arg, self.rank, self.integer = spec, arg, spec.rank, spec.integer
        dims = tuple(spec.type.dims or ())
        # the exact example shape, or None when a dimension varies (check_shape decides)
        self.dims = dims if all(type(d) is int for d in dims) else None
        self.dtype = torch.int64 if spec.integer else dtype
        self.np_dtype = NUMPY_DTYPES.get(self.dtype)
        self.device = device

    def tensor(self, value: np.ndarray) -> torch.Tensor:
        if value.dtype == self.np_dtype and self.device == "cpu":
            return torch.from_numpy(value)
        return to_tensor(value, self.integer, self.dtype, self.device)


def _spec(ev: Any, name: str) -> PortCodec:
    return ev.by_name[name]


def feeds_of(ev: Any, data: Any) -> dict[str, Any]:
    names = [s.name for s in ev.inputs]
    if isinstance(data, Mapping) and data and all(isinstance(k, (str, NetPort)) for k in data):
        feeds = {}
        for k, v in data.items():
            name = k.port if isinstance(k, NetPort) else k
            if name not in names:
                known = names + list(ev.state_ports)
                states = (f"; its state ports {', '.join(ev.state_ports)} take initial states"
                          if ev.state_ports else "")
                raise EvaluationError(ev.head, f'the net has no input port "{name}".'
                                      f"{nearest(name, known)} Its input ports are "
                                      f"{', '.join(names) or 'none'}{states}.")
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


def batching(ev: Any, arrays: Mapping[str, Any]) -> tuple[bool, int]:
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


def selected_ports(ev: Any, ports: tuple[Any, ...]) -> list[str] | str | None:
    if not ports:
        return None
    if len(ports) > 1:
        raise EvaluationError(ev.head, "expected one port spec after the data, but received "
                              f"{len(ports)}; give a list of ports to get several.")
    spec = ports[0]
    if isinstance(spec, list):
        return [one_port(ev, p) for p in spec]
    return one_port(ev, spec)


def one_port(ev: Any, p: Any) -> str:
    name = p.port if isinstance(p, NetPort) and p.is_graph_port else p
    if not isinstance(name, str) or name not in ev.outputs:
        shown = name if isinstance(name, str) else repr(p)
        raise EvaluationError(ev.head, f'the net has no output port "{shown}".'
                              f"{nearest(str(shown), ev.outputs)} Its output ports are "
                              f"{', '.join(ev.outputs)}.")
    return name


def result_of(ev: Any, out: Mapping[str, torch.Tensor], want: Any, batched: bool,
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


def plain_output(ev: Any, out: Mapping[str, torch.Tensor], port: str, batched: bool) -> Any:
    """What :func:`to_plain` gives for an output on the CPU, from its numpy view."""
    t = out[port]
    y = (t.detach() if t.requires_grad else t).numpy()  # (a parameter can be an output)
    if batched:
        return y
    y = y[0]
    if y.ndim == 0:  # numpy hands out a scalar; to_plain gives a float or a 0-d array
        return y.item() if ev.scalar_out[port] else np.asarray(y)
    return y


def stacked(v: Any) -> Any:
    """An encoder's list of examples as one array when they share a shape."""
    if isinstance(v, list) and len({np.shape(e) for e in v}) == 1:
        return np.stack([np.asarray(e) for e in v])
    return v


def decoded_output(ev: Any, port: str, value: Any, prop: Any, batched: bool) -> Any:
    codec = ev.out_codecs[port]
    if codec.coder is not None and prop is not None:
        return decode(ev.head, codec, value, prop, batched)
    if prop is not None and prop is not DEFAULT:
        raise EvaluationError(ev.head, f'output port "{port}" has no decoder, so it has no '
                              f"property {prop!r}.")
    items = value if isinstance(value, list) else list(value)
    plain = [v.item() if ev.scalar_out[port] and np.ndim(v) == 0 else v for v in items]
    if isinstance(value, list) or not batched:
        return plain if batched else plain[0]
    return value


def coded_feeds(ev: Any, data: Any) -> tuple[dict[str, Any], bool]:
    """A coded net's inputs: through their encoders (or bypassing them when already
    encoded), raw ports as checked arrays; each a batch, and whether the data was one."""
    head = ev.head
    arrays: dict[str, Any] = {}
    flags: dict[str, bool] = {}
    encoded = set()   # ports whose encoder ran: their arrays are batches already
    for k, v in feeds_of(ev, data).items():
        codec = _spec(ev, k)
        if codec.coder is not None:
            arrays[k], flags[k] = encode_value(head, codec, v)
            encoded.add(k)
            continue
        arrays[k] = as_array(head, k, v, codec.integer, codec.rank)
        flags[k] = True if isinstance(arrays[k], list) else batch_rank(
            head, codec, tuple(arrays[k].shape))
        if not isinstance(arrays[k], list):   # checked before a lone example gets its axis
            check_shape(head, codec, tuple(arrays[k].shape), flags[k])
    if len(set(flags.values())) > 1:
        raise EvaluationError(head, "some inputs are single examples and others batches: "
                              + ", ".join(f'"{k}" {"batch" if b else "example"}'
                                          for k, b in flags.items()) + ".")
    batched = next(iter(flags.values()), False)
    if not batched:   # encoders give batches of one; a raw example gets its batch axis
        arrays = {k: v if k in encoded else v[None] for k, v in arrays.items()}
    return arrays, batched


def examples_of(ev: Any, arrays: Mapping[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """Split per-port batches (lists or arrays) into checked per-example arrays."""
    sizes = {len(v) if isinstance(v, list) else v.shape[0] for v in arrays.values()}
    if len(sizes) != 1:
        raise EvaluationError(ev.head, "the input batches have different lengths: " + ", ".join(
            f'"{k}" {len(v) if isinstance(v, list) else v.shape[0]}' for k, v in arrays.items())
            + ".")
    count = sizes.pop()
    examples = []
    for i in range(count):
        ex = {}
        for k, v in arrays.items():
            spec = ev.by_name[k]
            e = example_array(ev.head, spec, v[i], i)
            if e.ndim != spec.rank:
                raise EvaluationError(ev.head, f'port "{k}" expects {spec.type.describe()}, but '
                                      f"example {i + 1} has dimensions {tuple(e.shape)}.")
            check_shape(ev.head, spec, tuple(e.shape), False, i)
            ex[k] = e
        examples.append(ex)
    return count, examples


def example_array(head: str, spec: Any, value: Any, i: int) -> Any:
    """Example ``i`` as a checked numeric array (or tensor); errors name the example."""
    try:
        e = value if isinstance(value, torch.Tensor) else as_array(head, spec.name, value,
                                                                   spec.integer, spec.rank)
        if not isinstance(e, list):
            check_values(head, spec, e, False)
            return e
    except EvaluationError as err:
        words = err.message.rstrip(".")
        raise EvaluationError(head, f"{words} (example {i + 1}).") from None
    raise EvaluationError(head, f'port "{spec.name}" expects {spec.type.describe()}, but '
                          f"example {i + 1} is not a regular array.")


def stack_examples(ev: Any, name: str, items: list[Any], pad: bool
                   ) -> tuple[torch.Tensor, np.ndarray]:
    """One port's batch tensor, padded at the end when ``pad``, and each example's length."""
    spec = ev.by_name[name]
    lens = np.array([len(e) if getattr(e, "ndim", 0) else 1 for e in items], dtype=np.int64)
    if any(isinstance(e, torch.Tensor) for e in items):
        ts = [torch.as_tensor(e) for e in items]
        if pad:
            width = int(lens.max())
            ts = [torch.cat([t, t[-1:].expand(width - len(t), *t.shape[1:])]) for t in ts]
        arr: Any = torch.stack(ts)
    else:
        arr = pad_examples(items)[0] if pad else np.stack(items)
    return to_tensor(arr, spec.integer, ev.dtype, ev.device), lens
