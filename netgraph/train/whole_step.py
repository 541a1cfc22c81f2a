"""The whole training step as one function: forward, loss, gradients and update.

PerformanceGoal "TrainingSpeed" compiles this function with ``torch.compile`` (see
train/compiled.py), so a step is one compiled graph and one guard check, not three (the
forward, autograd's backward, the optimizer). On small nets, where a step is mostly Python
and dispatch overhead, that is what makes the compiled step fast: measured on 2 CPU cores,
a small-DAG step of forward, backward and Adam takes 0.3x the eager hand-written loop,
where compiling the forward and loss alone (the usual ``torch.compile(model)``) gives 0.8x.

How: ``torch.func.grad_and_value`` of the batch loss over aliases of the trainable arrays
(``functional_call``), then each parameter group's update in place through torch's own
functional optimizer (:func:`~netgraph.train.optim.functional_update`: foreach kernels, the
learning rate a tensor, so a LearningRateSchedule never recompiles), with the group's
GradientClipping before it and WeightClipping after it. The step stays what the eager one is:

- A non-finite loss changes no array and no optimizer state (each updated tensor keeps its
  old value, selected in the graph), so the caller keeps the last finite net.
- Buffers a layer updates in its forward pass (BatchNormalization's running statistics) are
  updated once per step, as in the eager step: the forward updates copies made inside the
  transform (torch.func cannot update tensors captured from outside), copied back after.
- The optimizer's state tensors are the ones its eager step uses (and its ``state_dict``
  saves), updated in place, so eager and compiled steps can alternate. An array no gradient
  reached in the eager step is left out of the update, as torch's optimizers skip it.
- The optimizer's settings other than the learning rate are constants of the graph; a
  change to them (``trainer["Optimizer"].param_groups``) sends the rest of the run to the
  eager step (:meth:`WholeStep.changed`).

Guards: torch re-checks before each call that nothing its trace read has changed (hundreds
of checks on the module tree and closures, a third of a small step). A trainer's module,
arrays, optimizer settings and closures are fixed for its life, so :func:`kept_guards`
keeps only the checks on the batch (its keys, shapes, dtypes, lengths) and on torch's global
state; each new batch shape still compiles its own graph.

Not every step has this form: :func:`refusal` names what keeps a trainer on the eager
backward (the compiled step is then the forward and loss only).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import torch
import torch.optim.optimizer as _optim_mod
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value

from ..symbols import Automatic
from .optim import GroupUpdate, Updater, functional_update

Forward = Callable[..., dict[str, Tensor]]


class _Loss(nn.Module):
    """The trainer's forward and objective over its module (a submodule, so that
    ``functional_call`` can swap the module's arrays for the transform's)."""

    def __init__(self, module: nn.Module, forward: Forward,
                 objective: Callable[[Mapping[str, Tensor]], Tensor]) -> None:
        super().__init__()
        self.module = module
        self.run, self.objective = forward, objective

    def forward(self, feeds: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        out = self.run(**feeds)            # {port: (batch, ...)}
        return self.objective(out), out    # () batch loss


def refusal(trainer: Any) -> str | None:
    """Why a trainer's step cannot be compiled whole, or None when it can."""
    o: Any = trainer.updater.optimizer
    if getattr(trainer, "distributed", False):
        return "a distributed step (DDP reduces the gradients in its backward pass)"
    if trainer.spec.gradients:
        return 'a "Gradients" property (the whole step keeps no gradients on the arrays)'
    if trainer.spec.mirroring not in (False, None):
        return "Mirroring"
    if trainer.spec.update_schedule is not Automatic:
        return "a TrainingUpdateSchedule"
    if any(m < 0 for m in getattr(trainer, "multipliers", {}).values()):
        return "a negative LearningRateMultiplier"
    if o._optimizer_step_pre_hooks or o._optimizer_step_post_hooks or \
            _optim_mod._global_optimizer_pre_hooks or _optim_mod._global_optimizer_post_hooks:
        return "hooks on the optimizer's step"
    return None


class NotCompiled(RuntimeError):
    """The whole step's function ran as plain Python (see :meth:`WholeStep.fn`)."""


def _settings(updater: Updater) -> list[tuple]:
    """Every group's optimizer settings but its arrays and learning rate."""
    skip = ("params", "lr", "base_lr")
    return [tuple((k, v) for k, v in g.items() if k not in skip)
            for g in updater.optimizer.param_groups]


KEPT_GUARD_TYPES = frozenset({"TENSOR_MATCH", "GLOBAL_STATE", "TORCH_FUNCTION_STATE",
                              "DEFAULT_DEVICE", "GRAD_MODE", "DETERMINISTIC_ALGORITHMS"})


def kept_guards(entries: list[Any]) -> list[bool]:
    """torch's ``guard_filter_fn`` for :meth:`WholeStep.fn`: the guards on tensors (the
    batch's, the arrays' and the state's shapes, dtypes and devices), on anything read from
    the batch (``feeds``: its keys, its lengths) and on torch's global state."""
    return [e.guard_type in KEPT_GUARD_TYPES or e.name.startswith(("feeds", "L['feeds']"))
            for e in entries]


class Group(NamedTuple):
    """One parameter group of the update: its arrays (indices into the step's arrays), its
    functional update ``(grads, lr)``, the optimizer state that changes, and its
    GradientClipping and WeightClipping (None where unset)."""

    members: list[int]
    update: GroupUpdate
    state: list[Tensor]
    grad_clip: float | None
    weight_clip: float | None


class WholeStep:
    """One trainer's step as one function (see the module docstring).

    ``fn(feeds, lrs)`` is the function to compile; calling the ``WholeStep`` with the
    compiled form set (:attr:`compiled`) runs a step and returns (batch loss, outputs).
    :meth:`build` returns None when the optimizer has no functional form or its state does
    not exist yet (before the first eager step).
    """

    def __init__(self, loss: _Loss, updater: Updater, params: list[Tensor],
                 groups: list[Group]) -> None:
        self.updater, self.params, self.groups = updater, params, groups
        names = [k for k, p in loss.named_parameters() if p.requires_grad]
        buffers = dict(loss.named_buffers())
        self.buffers = list(buffers.values())
        device = params[0].device
        self.lrs = [torch.tensor(g["lr"], dtype=params[0].dtype, device=device)
                    for g in updater.optimizer.param_groups]
        self.lr_values = [float(g["lr"]) for g in updater.optimizer.param_groups]
        self.settings = _settings(updater)     # traced into the graph as constants
        state = [t for g in groups for t in g.state]
        self.mutated = [*[params[i] for g in groups for i in g.members], *state]

        def loss_of(ps: list[Tensor], feeds: Mapping[str, Tensor]
                    ) -> tuple[Tensor, tuple[dict[str, Tensor], list[Tensor]]]:
            bufs = {k: b.clone() for k, b in buffers.items()}   # updated by the forward
            value, out = functional_call(loss, {**dict(zip(names, ps, strict=True)), **bufs},
                                         (feeds,))
            return value, ({k: v.detach() for k, v in out.items()}, list(bufs.values()))
        self._grads = grad_and_value(loss_of, has_aux=True)
        self.compiled: Callable[..., tuple[Tensor, dict[str, Tensor]]] | None = None

    @classmethod
    def build(cls, module: nn.Module, forward: Forward,
              objective: Callable[[Mapping[str, Tensor]], Tensor],
              updater: Updater) -> WholeStep | None:
        """After an eager step: an array that got no gradient in it (a branch only a
        weight-0 loss reads) is left out of the update, as torch's optimizers skip it."""
        loss = _Loss(module, forward, objective)
        trainable = [p for p in loss.parameters() if p.requires_grad]
        index = {id(p): i for i, p in enumerate(trainable)}
        params = [p.detach() for p in trainable]     # aliases: updated in place
        groups = []
        for g, clip in zip(updater.optimizer.param_groups, updater.group_clipping(),
                           strict=True):
            live = [p for p in g["params"] if p.grad is not None]
            members = [index[id(p)] for p in live]
            update = functional_update(updater.optimizer, g, live,
                                       [params[i] for i in members])
            if update is None:
                return None
            groups.append(Group(members, *update, *clip))
        return cls(loss, updater, params, groups)

    def fn(self, feeds: Mapping[str, Tensor], lrs: list[Tensor]
           ) -> tuple[Tensor, dict[str, Tensor]]:
        """The step: (batch loss, outputs); arrays and optimizer state updated in place.
        Only ever run compiled (its updates need it on a CPU): run as plain Python (torch
        gave up compiling a new shape) it raises :class:`NotCompiled` before changing
        anything."""
        if not torch.compiler.is_compiling():
            raise NotCompiled("the whole training step ran without being compiled")
        grads, (loss, (out, bufs)) = self._grads(self.params, feeds)
        for b, new in zip(self.buffers, bufs, strict=True):
            b.copy_(new)
        before = [t.clone() for t in self.mutated]
        for group, lr in zip(self.groups, lrs, strict=True):
            g = [grads[i] for i in group.members]
            if group.grad_clip is not None:
                torch._foreach_clamp_min_(g, -group.grad_clip)
                torch._foreach_clamp_max_(g, group.grad_clip)
            group.update(g, lr)
            if group.weight_clip is not None:
                p = [self.params[i] for i in group.members]
                torch._foreach_clamp_min_(p, -group.weight_clip)
                torch._foreach_clamp_max_(p, group.weight_clip)
        finite = torch.isfinite(loss)
        for t, old in zip(self.mutated, before, strict=True):
            t.copy_(torch.where(finite, t, old))
        return loss, out

    def changed(self) -> bool:
        """Whether an optimizer setting the graph holds as a constant (betas, eps, weight
        decay, momentum...) was changed since it was built (``trainer["Optimizer"]``)."""
        return _settings(self.updater) != self.settings

    def __call__(self, feeds: Mapping[str, Tensor]) -> tuple[float, dict[str, Tensor]]:
        """One step with the compiled :meth:`fn`: the learning rates of this step (the
        schedule's factor) go in as tensors; ``updater.count`` moves as the eager step's."""
        u = self.updater
        u.apply_schedule()
        for i, g in enumerate(u.optimizer.param_groups):
            if g["lr"] != self.lr_values[i]:
                self.lrs[i].fill_(g["lr"])
                self.lr_values[i] = float(g["lr"])
        loss, out = self.compiled(feeds, self.lrs)  # type: ignore[misc]
        value = loss.item()                        # the step's one host sync
        if math.isfinite(value):
            u.count += 1
        return value, out
