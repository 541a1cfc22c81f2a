"""Coded ports: user data -> encoded arrays through a port's NetEncoder, and outputs ->
labels (or a property) through its NetDecoder.

A port's :class:`~.values.PortCodec` holds its coder. NetTrain encodes its columns here
too: inputs through their encoders, targets through the output's decoder
(``encode_target``). A coder's error (``CoderError``: a label not in the class list, an
unreadable image file) is said again naming the port and the example.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ...errors import EvaluationError, NetGraphError, nearest
from ...ports import NetPort
from ...shapes import PortType
from .values import PortCodec

CHUNK = 512          # examples per encoding task when a column is encoded in parallel
WORKERS = 2          # threads that encode a large column


def message(e: NetGraphError) -> str:
    """An error's words without its head (to say them again under another head)."""
    text = str(e)
    return text[len(e.head) + 2:] if text.startswith(e.head + ": ") else text


def encode_value(head: str, codec: PortCodec, value: Any) -> tuple[Any, bool]:
    """(encoded batch, whether ``value`` was a batch) for one input port of an evaluation.

    The batch is an array, or a list of arrays for a variable-length encoding (characters,
    tokens). The encoder bypasses data already in its encoded form, as in WL. Errors name
    the port (and the example of a batch)."""
    enc = codec.coder
    batched = enc.is_batch(value)
    items = list(value) if batched else [value]
    return encode_items(head, codec, items, EvaluationError, batched), batched


def encode_input(head: str, codec: PortCodec, value: Any) -> Any:
    """One coded input's data as its encoder makes it: a batch array (or list), or one
    example without its batch axis, as the raw-array path of a port gives it."""
    batch, batched = encode_value(head, codec, value)
    if isinstance(batch, list):
        return batch if batched else np.asarray(batch[0])
    return batch if batched else batch[0]


def encode_items(head: str, codec: PortCodec, items: Sequence[Any],
                 error: type[NetGraphError] = EvaluationError, batched: bool = True) -> Any:
    """``items`` (a list of examples) through the port's encoder; a large list is encoded
    in chunks on a small thread pool (image decoding and resizing release the GIL)."""
    enc = codec.coder
    if len(items) <= CHUNK:
        return _guarded(head, codec, enc.encode, items, 0, error, batched)
    starts = range(0, len(items), CHUNK)
    with ThreadPoolExecutor(WORKERS) as pool:
        parts = list(pool.map(lambda i: _guarded(head, codec, enc.encode, items[i:i + CHUNK],
                                                 i, error, True), starts))
    if any(isinstance(p, list) for p in parts):
        return [x for p in parts for x in p]
    return np.concatenate(parts)


def encode_targets(head: str, codec: PortCodec, items: Sequence[Any],
                   error: type[NetGraphError]) -> np.ndarray:
    """Targets given as labels (or booleans, strings) -> what the loss compares with, through
    the output's decoder (``encode_target``); errors name the port and the example."""
    return np.asarray(_guarded(head, codec, codec.coder.encode_target, items, 0, error, True))


def _guarded(head: str, codec: PortCodec, f: Any, items: Sequence[Any], offset: int,
             error: type[NetGraphError], batched: bool) -> Any:
    """``f(list(items))``; a coder's error said again by ``head``, naming the port and, in
    a batch, the example (``CoderError.index`` counts from ``offset``)."""
    try:
        return f(list(items))
    except NetGraphError as e:
        index = getattr(e, "index", None)
        where = f'port "{codec.name}"'
        if batched and index is not None:
            where += f", example {offset + index + 1}"
        raise error(head, f"{where}: {getattr(e, 'reason', None) or message(e)}") from None


def encoded_column(head: str, codec: PortCodec | None, values: Any,
                   error: type[NetGraphError], defer: bool = False) -> Any:
    """NetTrain's column for a port: input data through the port's encoder, target data
    through the output's decoder (``encode_target``); unchanged without a coder. With
    ``defer``, a large input column comes back as a :class:`Deferred` one, encoded while
    training runs."""
    if codec is None or codec.coder is None:
        return values
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        return values   # a lone value: the column checks word the error
    items = values if isinstance(values, list) else list(values)
    if hasattr(codec.coder, "encode_target"):
        return encode_targets(head, codec, items, error)
    if defer and deferrable(codec, len(items)):
        column = np.empty(len(items), dtype=object)
        for i, x in enumerate(items):
            column[i] = x
        return Deferred(head, codec, column, error)
    return encode_items(head, codec, items, error)


def port_codecs(net: Any) -> dict[str, PortCodec]:
    """The coded ports of a net: {port: PortCodec} for each port with a coder."""
    types = {**net.out_types, **net.in_types}
    return {p: PortCodec(p, types.get(p, PortType()), False, c) for p, c in net.coders.items()}


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
    if isinstance(spec, list) and not _parameterized(outputs, spec):
        return [_pair(head, outputs, coders, s) for s in spec], "dict"
    if isinstance(spec, list):   # WL's {"TopProbabilities", 2}: one property with its argument
        spec = tuple(spec)
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


def _parameterized(outputs: Sequence[str], spec: list) -> bool:
    """``[name, arg]`` with a name that is no output port: WL's ``{"TopProbabilities", 2}``,
    a property with its argument, rather than a list of ports."""
    return (len(spec) == 2 and isinstance(spec[0], str) and spec[0] not in outputs
            and not (isinstance(spec[1], str) and spec[1] in outputs))


def _port(head: str, outputs: Sequence[str], p: Any) -> str:
    name = p.port if isinstance(p, NetPort) and p.is_graph_port else p
    if not isinstance(name, str) or name not in outputs:
        shown = name if isinstance(name, str) else repr(p)
        raise EvaluationError(head, f'the net has no output port "{shown}".'
                              f"{nearest(str(shown), outputs)} Its output ports are "
                              f"{', '.join(outputs)}.")
    return name


# -- encoding ahead of training ----------------------------------------------------------------
class Deferred:
    """A large input column to be encoded while training runs (NetTrain's round 1 overlaps
    the encoding with the steps): the examples, their port's codec, and the first examples
    encoded now (for shape inference). Behaves as a column for counting, checking and
    splitting (``len``, ``shape``, indexing by an index array). ``first`` is a sample for
    shape inference only (a subset keeps its column's sample)."""

    ndim = 1

    def __init__(self, head: str, codec: PortCodec, items: np.ndarray,
                 error: type[NetGraphError], head_rows: np.ndarray | None = None) -> None:
        self.head, self.codec, self.items, self.error = head, codec, items, error
        self.first = head_rows if head_rows is not None else np.asarray(
            encode_items(head, codec, list(items[:2]), error))
        self.dtype = self.first.dtype
        self.shape = (len(items), *self.first.shape[1:])

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, idx: Any) -> Deferred:
        idx = np.asarray(idx)
        return Deferred(self.head, self.codec, self.items[idx], self.error, self.first)

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """The encoded examples ``rows`` (errors name the example of the whole column)."""
        try:
            return np.asarray(self.codec.coder.encode(list(self.items[rows])))
        except NetGraphError as e:
            index = getattr(e, "index", None)
            where = f'port "{self.codec.name}"'
            if index is not None:
                where += f", example {int(rows[index]) + 1}"
            raise self.error(self.head, f"{where}: {getattr(e, 'reason', None) or message(e)}"
                             ) from None


def deferrable(codec: PortCodec | None, n: int) -> bool:
    """Whether a column is encoded while training runs: a large column of an input port
    whose encoder gives arrays of one fixed shape (images, classes, booleans ...)."""
    return (codec is not None and codec.coder is not None and n >= 2 * CHUNK
            and not hasattr(codec.coder, "encode_target") and codec.type is not None
            and codec.type.is_known() and not codec.type.is_sequence()
            and codec.type.kind != "Integer")
