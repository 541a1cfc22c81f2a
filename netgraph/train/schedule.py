"""TrainingUpdateSchedule: which arrays each optimization step updates, as WL.

The option is ``Automatic`` (every array at every step) or a list of groups that successive
steps cycle through: step k updates group ((k - 1) mod n) + 1, and an array in no group is
held constant for the whole of training. A group is an array spec as
LearningRateMultipliers takes it (a layer name or position, ``slice(m, n)`` for WL's
``m;;n``, a path tuple such as ``("Discriminator", 2, "Weights")``, ``All`` for WL's
``_``), a list of specs (WL's ``spec1 | spec2``: any of them), or ``(spec, s)`` with an int
``s`` (WL's ``spec -> s``: this group for s consecutive steps; so a two-part path ending in
a layer position is read as a repeat: name that layer, or give the path down to an array).
A shared array is one array: it follows one group.

A step that does not update an array leaves it exactly as it is, optimizer state included
(its gradient is dropped before the optimizer runs, and torch's optimizers skip a parameter
without a gradient).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import OptionError, TrainingError
from ..symbols import All, Automatic

if TYPE_CHECKING:  # the option's parser is read with the options table: no torch at import
    from torch import nn

    from .arrays import ArrayRef

HEAD = "NetTrain"
Group = tuple[tuple[Any, ...], int]   # (specs, any of which selects an array; repeat count)


def _spec_ok(spec: Any) -> bool:
    if spec is All or isinstance(spec, (str, slice)):
        return True
    if isinstance(spec, int) and not isinstance(spec, bool):
        return True
    return isinstance(spec, tuple) and bool(spec) and all(
        p is All or isinstance(p, (str, slice)) or isinstance(p, int) and not isinstance(p, bool)
        for p in spec)


def parse_schedule(head: str, value: Any) -> Any:
    """``Automatic`` or a list of groups -> a tuple of :data:`Group` (checked forms)."""
    if value is Automatic or value is None:
        return Automatic
    if not isinstance(value, list) or not value:
        raise OptionError(head, f"expected TrainingUpdateSchedule to be Automatic or a "
                          f"non-empty list of array groups, but received {value!r}.")
    return tuple(_group(head, g) for g in value)


def _group(head: str, g: Any) -> Group:
    repeat = 1
    if isinstance(g, tuple) and len(g) == 2 and isinstance(g[1], int) and not isinstance(
            g[1], bool):
        g, repeat = g   # (spec, s): WL's spec -> s (so a path never ends in a position)
    if repeat < 1:
        raise OptionError(head, f"expected a positive number of steps in TrainingUpdateSchedule, "
                          f"but received {repeat!r}.")
    specs = tuple(g) if isinstance(g, list) else (g,)
    for s in specs:
        if not _spec_ok(s):
            raise OptionError(head, f"expected each TrainingUpdateSchedule group to be an array "
                              f"spec (a layer name or position, a slice, a path tuple, All), "
                              f"a list of them, or (spec, steps), but received {s!r}.")
    return specs, repeat


def step_groups(groups: Sequence[Group], refs: Sequence[ArrayRef]
                ) -> list[frozenset[int]]:
    """For each step of one cycle, the ids of the torch parameters it updates."""
    from .arrays import matches
    out = []
    for specs, repeat in groups:
        params = {id(p) for ref in refs for p in ref.params
                  if any(matches(s, ref) for s in specs)}
        if not params:
            shown = specs[0] if len(specs) == 1 else list(specs)
            raise TrainingError(HEAD, f"the TrainingUpdateSchedule group {shown!r} selects no "
                                "array of the net.")
        out += [frozenset(params)] * repeat
    return out


def scheduled(update: Callable[[], None], count: Callable[[], int], params: list[nn.Parameter],
              steps: list[frozenset[int]]) -> Callable[[], None]:
    """``update`` applying only the arrays of the current step's group."""
    def step() -> None:
        active = steps[count() % len(steps)]
        for p in params:
            if id(p) not in active:
                p.grad = None       # torch's optimizers skip it: no update, no state change
        update()
    return step
