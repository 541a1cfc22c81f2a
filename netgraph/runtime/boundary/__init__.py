"""The one plain-data boundary: user data -> dicts of tensors, and tensors -> user data.

Everything below this package (lowered modules, the trainer's step) sees dicts of tensors
keyed by port. Each port has a :class:`PortCodec`: its type plus, when attached, its
NetEncoder (inputs) or NetDecoder (outputs).

- ``values``: one evaluation input (numbers, lists, numpy, torch) -> a checked array or
  tensor, batch detection by rank, outputs back to numbers/numpy;
- ``codec``: coded ports: encoding inputs (with WL's bypass of already-encoded arrays),
  decoding outputs with a property, the ``net(x, ...)`` port/property selection, and
  NetTrain's targets encoded through the output's decoder;
- ``columns``: NetTrain's columns of examples, checked (missing values, NaN, strings,
  indices out of range) and converted to device tensors.

Evaluation (``runtime/evaluate.py``, ``runtime/sequences.py``, ``runtime/stateful.py``),
NetTrain, the trainer and the "$TrainingGenerator" (``train/data.py``) go through here.
"""
from __future__ import annotations

from .values import PortCodec

__all__ = ["PortCodec"]
