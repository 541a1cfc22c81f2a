"""One optimisation step, as close to a hand-written PyTorch loop as it can be.

:func:`train_step` is the whole step: forward and batch loss (:func:`eager_step`, or compiled
for PerformanceGoal "TrainingSpeed"), one host sync for the loss value,
backward, update. :func:`make_objective` turns the loss terms into the batch loss: each loss
port gives per-example losses ``(batch, ...)``; an array-valued one is summed per example; the
batch loss of a port is the mean over the batch; the objective is the weighted sum. A port of
weight 0 is computed (it is an output of the forward) but left out of the sum, so it changes
nothing in the gradient, bit for bit.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import TrainingError
from .losses import LossTerm

Objective = Callable[[Mapping[str, Tensor]], Tensor]
StepRun = Callable[..., tuple[Tensor, dict[str, Tensor]]]


def apply_mirroring(module: nn.Module, mode: Any) -> nn.Module:
    """The Mirroring option's hook (True, False or Automatic): activation recomputation.

    Returns the module to train, switched in place by backend/mirror.py (recurrent layers
    run in chunks recomputed in the backward pass, the plan in checkpointed segments), so
    the step itself never changes. False leaves the module as it is.
    """
    if mode is False or mode is None:
        return module
    from ..backend.mirror import set_mirroring
    return set_mirroring(module, mode)


def mirroring_mode(opts: Any) -> Any:
    """The Mirroring to use: "TrainingMemory" turns it on unless Mirroring is Automatic."""
    goal = opts.performance_goal
    if isinstance(goal, frozenset) and "TrainingMemory" in goal and opts.mirroring is False:
        return True
    return opts.mirroring


def port_loss(t: Tensor) -> Tensor:
    """The batch loss of one loss port: per-example values ``(batch, ...)`` -> scalar."""
    if t.dim() <= 1:
        return t.mean()                                        # (batch,) -> ()
    return t.reshape(t.shape[0], -1).sum(dim=1).mean()         # (batch, n...) -> ()


def make_objective(terms: Sequence[LossTerm]) -> Objective:
    """The batch loss as a function of the training net's outputs."""
    active = [(t.name, float(t.weight)) for t in terms if t.weight != 0]
    if not active:
        raise TrainingError("NetTrain", "every loss has weight 0, so there is nothing to "
                            "minimize; give at least one loss a nonzero Scaled weight.")
    if len(active) == 1 and active[0][1] == 1.0:
        name = active[0][0]
        return lambda out: port_loss(out[name])

    def objective(out: Mapping[str, Tensor]) -> Tensor:
        total = None
        for name, w in active:
            term = port_loss(out[name])
            term = term if w == 1.0 else term * w
            total = term if total is None else total + term
        return total  # type: ignore[return-value]
    return objective


def port_losses(terms: Sequence[LossTerm], out: Mapping[str, Tensor]) -> dict[str, float]:
    """The unweighted batch loss of every loss port (weight-0 ones included), as floats."""
    with torch.no_grad():
        values = torch.stack([port_loss(out[t.name].detach()).float() for t in terms])
    return dict(zip((t.name for t in terms), values.tolist(), strict=True))


def example_losses(terms: Sequence[LossTerm], out: Mapping[str, Tensor]) -> Tensor:
    """The loss of every example of the batch ``(batch,)``: what the batch loss averages,
    the weighted sum over the loss ports of each port's per-example loss (an array-valued
    one summed); a port of weight 0 adds nothing."""
    total: Tensor | None = None
    with torch.no_grad():
        for t in terms:
            if t.weight == 0:
                continue
            v = out[t.name].detach().float()                      # (batch, ...)
            v = v.reshape(v.shape[0], -1).sum(dim=1) if v.dim() > 1 else v  # (batch,)
            v = v if t.weight == 1 else v * float(t.weight)
            total = v if total is None else total + v
    assert total is not None   # make_objective refuses a run where every weight is 0
    return total


def eager_step(forward: Callable[..., dict[str, Tensor]], objective: Objective) -> StepRun:
    """The forward and batch loss of one step, as one function of the feeds."""
    def run(**feeds: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        out = forward(**feeds)             # {port: (batch, ...)}
        return objective(out), out         # () weighted sum of the batch losses
    return run


def train_step(run: StepRun, optimizer: Any, update: Callable[[], None],
               feeds: Mapping[str, Tensor]) -> tuple[float, dict[str, Tensor]]:
    """One step on one batch: returns (the batch loss, the training net's outputs).

    ``run`` computes (batch loss, outputs) from the feeds (:func:`eager_step`, or its
    compiled form, train/compiled.py). ``optimizer`` is anything with
    ``zero_grad(set_to_none=True)`` (a torch optimizer, or the trainer's
    :class:`~netgraph.train.optim.Updater`, which does it without torch's profiler range);
    ``update`` applies the step. A non-finite loss is returned without touching the weights
    or the optimizer state, so the caller keeps the last finite net.
    """
    loss, out = run(**feeds)               # (), {port: (batch, ...)}
    value = loss.item()                    # the step's one host sync
    if not math.isfinite(value):
        return value, out
    optimizer.zero_grad(set_to_none=True)
    if loss.requires_grad:                 # False when every array is frozen
        loss.backward()
        update()
    return value, out
