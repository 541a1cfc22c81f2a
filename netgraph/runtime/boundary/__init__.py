"""The one plain-data boundary: user data -> dicts of tensors, and tensors -> user data.

Everything below this package (lowered modules, the trainer's step) sees dicts of tensors
keyed by port. Each port has a :class:`PortCodec`: its type plus, when attached, its
NetEncoder (inputs) or NetDecoder (outputs).

- ``values``: one evaluation input (numbers, lists, numpy, torch) -> a checked array or
  tensor, batch detection by rank, outputs back to numbers/numpy;
- ``feeds``: evaluation's feeds and results: the data as ``{port: value}``, example or
  batch, the fast path's per-port facts, ``net(x, "Port")``'s selection, outputs back to
  plain data, a coded net's inputs and outputs, ragged batches split into examples and
  stacked into padded tensors;
- ``codec``: coded ports: encoding inputs (with WL's bypass of already-encoded arrays),
  decoding outputs with a property, the ``net(x, ...)`` port/property selection, and
  NetTrain's targets encoded through the output's decoder;
- ``columns``: NetTrain's columns of examples, checked (missing values, NaN, strings,
  indices out of range) and converted to device tensors;
- ``batches``: training batches: columns -> tensors on the device (ragged columns stored
  flat and gathered padded), a batch's ``"$Lengths"``, tensors -> numpy for the
  "$TrainingGenerator".

Evaluation (``runtime/evaluate.py``, ``runtime/sequences.py``, ``runtime/stateful.py``,
``runtime/gradients.py``), NetTrain, the trainer and the "$TrainingGenerator"
(``train/data.py``) call these and keep only orchestration (paths, buckets, rounds).
"""
from __future__ import annotations

from .values import PortCodec

__all__ = ["PortCodec"]
