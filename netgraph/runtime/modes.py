"""NetEvaluationMode and RandomSeeding at evaluation (WL: ``net[x, NetEvaluationMode -> "Train"]``).

"Test" (the default) is the normal behaviour; "Train" is the training-specific behaviour of
layers such as DropoutLayer (elements dropped) and BatchNormalizationLayer (the batch's own
statistics): the evaluator's module runs in torch's training mode. The net value is never
changed (the moving statistics of the module's private copy are not written back).
``RandomSeeding`` seeds that randomness for one evaluation: an integer or a string gives the
same result every time, ``Automatic`` fresh randomness, ``Inherited`` a seed drawn from
numpy's global generator; torch's global generator is left as it was.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch

from ..backend.init import seed_of
from ..errors import OptionError

MODES = ("Test", "Train")


def mode_of(head: str, spec: Any) -> str:
    """The NetEvaluationMode: "Test" (also for None) or "Train"."""
    if spec is None:
        return "Test"
    if spec not in MODES:
        raise OptionError(head, f'expected NetEvaluationMode to be "Test" or "Train", but '
                          f"received {spec!r}.")
    return str(spec)


@contextmanager
def seeded(head: str, spec: Any, device: str) -> Iterator[None]:
    """Run the block with torch's generators seeded from RandomSeeding (None: as they are)."""
    if spec is None:
        yield
        return
    seed = seed_of(spec, head)  # raises OptionError on a bad seed
    cuda = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        yield
