"""Coded ports: user data -> encoded arrays through a port's NetEncoder, and outputs ->
labels (or a property) through its NetDecoder.

A port's :class:`~.values.PortCodec` holds its coder. An input value that is already in
encoded form (a numeric array of the encoded shape) bypasses the encoder, as in WL, except
for a "Class" encoder whose labels are integers. NetTrain encodes its columns here too:
inputs through their encoders, targets through the output's decoder (``encode_target``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from ...errors import EvaluationError, NetGraphError, nearest
from ...ports import NetPort
from .values import PortCodec

CHUNK = 512          # examples per encoding task when a column is encoded in parallel
WORKERS = 2


def message(e: NetGraphError) -> str:
    """An error's words without its head (to say them again under another head)."""
    text = str(e)
    return text[len(e.head) + 2:] if text.startswith(e.head + ": ") else text


def _numeric(value: Any) -> np.ndarray | None:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "biuf" else None
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], (str, bytes)):
        try:
            a = np.asarray(value)
        except (ValueError, TypeError):
            return None
        return a if a.dtype.kind in "biuf" else None
    return None


def _integer_labels(coder: Any) -> bool:
    labels = getattr(coder, "labels", None)
    return bool(labels) and any(isinstance(x, (int, np.integer)) for x in labels)


def bypass(codec: PortCodec, value: Any) -> bool | None:
    """True/False (a batch or one example) when ``value`` is already encoded, as WL bypasses
    an encoder for input of its output shape; None when it must be encoded."""
    if isinstance(value, (bool, str, bytes)) or _integer_labels(codec.coder):
        return None
    a = value if isinstance(value, (int, float)) else _numeric(value)
    if a is None:
        return None
    shape = np.shape(a)
    dims = codec.type.dims or ()
    for batched in (False, True):
        got = shape[1:] if batched else shape
        if len(got) == len(dims) and all(not isinstance(d, int) or d == g
                                          for d, g in zip(dims, got, strict=True)):
            return batched
    return None


def encode_value(head: str, codec: PortCodec, value: Any) -> tuple[Any, bool]:
    """(encoded batch, whether ``value`` was a batch) for one input port of an evaluation.

    The batch is an array, or a list of arrays for a variable-length encoding (characters,
    tokens). Errors name the port."""
    enc = codec.coder
    batched = enc.is_batch(value)
    items = list(value) if batched else [value]
    return encode_items(head, codec, items, EvaluationError), batched


def encode_items(head: str, codec: PortCodec, items: Sequence[Any],
                 error: type[NetGraphError] = EvaluationError) -> Any:
    """``items`` (a list of examples) through the port's encoder; a large list is encoded
    in chunks on a small thread pool (image decoding releases the GIL)."""
    check_labels(head, codec, items, error)
    enc = codec.coder
    try:
        if len(items) <= CHUNK:
            return enc.encode(list(items))
        chunks = [list(items[i:i + CHUNK]) for i in range(0, len(items), CHUNK)]
        with ThreadPoolExecutor(WORKERS) as pool:
            parts = list(pool.map(enc.encode, chunks))
    except NetGraphError as e:
        raise error(head, f'port "{codec.name}": {message(e)}') from None
    if any(isinstance(p, list) for p in parts):
        return [x for p in parts for x in p]
    return np.concatenate(parts)


def encode_targets(head: str, codec: PortCodec, items: Sequence[Any],
                   error: type[NetGraphError]) -> np.ndarray:
    """Targets given as labels (or booleans, strings) -> what the loss compares with, through
    the output's decoder (``encode_target``); errors name the port and the example."""
    check_labels(head, codec, items, error)
    try:
        return np.asarray(codec.coder.encode_target(list(items)))
    except NetGraphError as e:
        raise error(head, f'port "{codec.name}": {message(e)}') from None


def check_labels(head: str, codec: PortCodec, items: Sequence[Any],
                 error: type[NetGraphError]) -> None:
    """A label that is not one of a "Class" coder's classes: an error naming the port, the
    example and the label, and the nearest class."""
    labels = getattr(codec.coder, "labels", None)
    if not labels or getattr(codec.coder, "kind", None) != "Class":
        return
    known = set(labels)
    for i, x in enumerate(items):
        try:
            ok = x in known
        except TypeError:  # an unhashable value (a list): never a label
            ok = False
        if not ok:
            hint = nearest(str(x), [str(c) for c in labels])
            raise error(head, f'port "{codec.name}": example {i + 1} is {x!r}, which is not '
                        f"one of the classes {_classes(labels)}.{hint}")


def _classes(labels: Sequence[Any]) -> str:
    shown = ", ".join(repr(c) for c in list(labels)[:8])
    return "{" + shown + (", ..." if len(labels) > 8 else "") + "}"


# -- decoding ---------------------------------------------------------------------------
DEFAULT = object()   # the decoder's default property ("Decision" for "Class")


def decode(head: str, codec: PortCodec, out: Any, prop: Any, batched: bool) -> Any:
    """One output port's value for the user: decoded with ``prop`` (``DEFAULT``: the
    decoder's default; None: the raw array, as WL's ``net[x, None]``)."""
    dec = codec.coder
    arrays = out if isinstance(out, list) else None
    try:
        if arrays is not None:   # outputs of several lengths: decoded one at a time
            values = [_decode(dec, a[None], prop)[0] for a in arrays]
        else:
            values = _decode(dec, out, prop)
    except NetGraphError as e:
        raise EvaluationError(head, f'port "{codec.name}": {message(e)}') from None
    return values if batched else values[0]


def _decode(dec: Any, batch: np.ndarray, prop: Any) -> list:
    return list(dec.decode(batch) if prop is DEFAULT else dec.decode(batch, prop))


def selection(head: str, outputs: Sequence[str], coders: Mapping[str, Any], ports: tuple
              ) -> tuple[list[tuple[str, Any]], str]:
    """What ``net(x, *ports)`` asks for: (port, property) pairs and the result's form
    ("one": a value, "dict": ``{port: value}``).

    ``net(x)`` decodes every output; ``net(x, "Out")`` one port; ``net(x, "Probabilities")``
    a property of the one decoded output; ``net(x, ("Out", prop))`` or ``net(x,
    {"Out": prop})`` a port's property (WL ``net[x, "Out" -> prop]``); ``None`` the raw
    output; a list of these gives ``{port: value}``.
    """
    if not ports:
        pairs = [(p, DEFAULT) for p in outputs]
        return pairs, "one" if len(pairs) == 1 else "dict"
    if len(ports) > 1:
        raise EvaluationError(head, "expected one port or property spec after the data, but "
                              f"received {len(ports)}; give a list to get several.")
    spec = ports[0]
    if isinstance(spec, Mapping):
        return [(_port(head, outputs, k), v) for k, v in spec.items()], "dict"
    if isinstance(spec, list):
        return [_pair(head, outputs, coders, s) for s in spec], "dict"
    return [_pair(head, outputs, coders, spec)], "one"


def _pair(head: str, outputs: Sequence[str], coders: Mapping[str, Any], spec: Any
          ) -> tuple[str, Any]:
    name = spec.port if isinstance(spec, NetPort) and spec.is_graph_port else spec
    if isinstance(name, str) and name in outputs:
        return name, DEFAULT
    if (isinstance(spec, tuple) and len(spec) == 2 and (
            isinstance(spec[0], NetPort) or spec[0] in outputs)):
        return _port(head, outputs, spec[0]), spec[1]
    decoded = [p for p in outputs if p in coders]
    if spec is None:
        if len(outputs) == 1:
            return outputs[0], None
    elif len(decoded) == 1 and len(outputs) == 1:
        return decoded[0], spec
    elif isinstance(name, str) and not decoded:
        _port(head, outputs, name)   # raises: no such port
    shown = repr(spec)
    raise EvaluationError(head, f"{shown} is neither an output port nor a property of the "
                          "net's one decoded output; give (port, property), as WL's "
                          f'"port" -> property. The output ports are {", ".join(outputs)}.')


def _port(head: str, outputs: Sequence[str], p: Any) -> str:
    name = p.port if isinstance(p, NetPort) and p.is_graph_port else p
    if not isinstance(name, str) or name not in outputs:
        shown = name if isinstance(name, str) else repr(p)
        raise EvaluationError(head, f'the net has no output port "{shown}".'
                              f"{nearest(str(shown), outputs)} Its output ports are "
                              f"{', '.join(outputs)}.")
    return name
