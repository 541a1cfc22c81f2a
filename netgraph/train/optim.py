"""WL's optimization methods on torch optimizers, with WL's defaults and extras.

``Method`` is a name or ``(name, {suboption: value})``. Every method takes ``"LearningRate"``,
``"LearningRateSchedule"`` (None, "Polynomial" or a function ``f(batch, total_batches)``
returning the factor on the learning rate, ``batch`` counting from 1), and the per-array
``"L2Regularization"`` (added to the gradient as ``lambda * w``), ``"GradientClipping"``
(each gradient element clipped to [-c, c]) and ``"WeightClipping"`` (each weight clipped to
[-c, c] after the update): a number, None, or rules ``[(array spec, value), ...]`` matched as
LearningRateMultipliers are (see :mod:`netgraph.train.arrays`).

The torch optimizers run their fused (or foreach) kernels where torch has them.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.optim.optimizer as _optim_mod
from torch import Tensor
from torch.optim import Optimizer
from torch.optim.adam import adam as adam_update
from torch.optim.rmsprop import rmsprop as rmsprop_update
from torch.optim.sgd import sgd as sgd_update

from ..errors import OptionError, TrainingError, nearest
from ..symbols import Automatic

HEAD = "NetTrain"
COMMON = {"LearningRate": Automatic, "LearningRateSchedule": None, "L2Regularization": None,
          "GradientClipping": None, "WeightClipping": None}
METHODS: dict[str, dict[str, Any]] = {
    "ADAM": {"Beta1": 0.9, "Beta2": 0.999, "Epsilon": 1e-5},
    "SGD": {"Momentum": 0.93, "LearningRateSchedule": "Polynomial"},
    "SignSGD": {"Momentum": 0.93},
    "RMSProp": {"Beta": 0.95, "Momentum": 0.9, "Epsilon": 1e-6},
}
DEFAULT_LR = {"ADAM": 0.001, "SGD": 0.01, "SignSGD": 0.01, "RMSProp": 0.001}
ALIASES = {"Adam": "ADAM", "StochasticGradientDescent": "SGD", "RMSprop": "RMSProp"}


@dataclass(frozen=True)
class MethodSpec:
    """A parsed Method: its WL name and every sub-option (defaults filled in)."""

    name: str
    sub: Mapping[str, Any]

    @property
    def learning_rate(self) -> float:
        return float(self.sub["LearningRate"])


def parse_method(method: Any, learning_rate: Any = Automatic) -> MethodSpec:
    """``Method`` (and NetTrain's ``LearningRate`` option) -> a :class:`MethodSpec`.

    >>> parse_method("SGD").sub["Momentum"], parse_method("SGD").learning_rate
    (0.93, 0.01)
    """
    name, given = method, {}  # type: tuple[Any, Mapping[str, Any]]
    if isinstance(method, tuple) and len(method) == 2 and isinstance(method[1], Mapping):
        name, given = method
    if name is Automatic:
        name = "ADAM"
    name = ALIASES.get(name, name)
    if name not in METHODS:
        raise OptionError(HEAD, f"unknown Method {name!r}.{nearest(str(name), METHODS)} Valid "
                          f"methods are {', '.join(METHODS)}.")
    sub = {**COMMON, **METHODS[name]}
    given = {("LearningRate" if k == "InitialLearningRate" else k): v for k, v in given.items()}
    for k in given:
        if k not in sub:
            raise OptionError(HEAD, f'unknown suboption "{k}" of Method "{name}".'
                              f"{nearest(k, sub)} Valid suboptions are {', '.join(sub)}.")
    sub.update(given)
    if sub["LearningRate"] is Automatic:
        sub["LearningRate"] = DEFAULT_LR[name] if learning_rate is Automatic else learning_rate
    _check_number("LearningRate", sub["LearningRate"], positive=True)
    return MethodSpec(name, sub)


def _check_number(name: str, v: Any, positive: bool = False) -> None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (positive and v <= 0):
        raise OptionError(HEAD, f"expected {name} to be a {'positive ' if positive else ''}"
                          f"number, but received {v!r}.")


Schedule = Callable[[int, int], float]


def schedule_of(spec: Any) -> Schedule | None:
    """LearningRateSchedule -> ``factor(batch, total)`` (batch from 1), or None (constant).

    >>> f = schedule_of("Polynomial")
    >>> f(1, 10), round(f(10, 10), 4)
    (1.0, 0.4264)
    """
    if spec is None or spec is Automatic:
        return None
    if spec == "Polynomial":
        return lambda b, total: math.sqrt(1.0 - min(b - 1, total) / (total + 1))
    if callable(spec):
        return spec  # type: ignore[no-any-return]
    raise OptionError(HEAD, f'expected LearningRateSchedule to be None, "Polynomial" or a '
                      f"function f(batch, totalBatches), but received {spec!r}.")


class SignSGD(Optimizer):
    """Signum (MXNet's signum_update): w -= lr * sign(momentum average of the gradient)."""

    def __init__(self, params: Any, lr: float, momentum: float = 0.93,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Any = None) -> None:  # type: ignore[override]
        for g in self.param_groups:
            params = [p for p in g["params"] if p.grad is not None]
            if not params:
                continue
            bufs = [self.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
                    for p in params] if g["momentum"] else []
            sign_sgd(params, [p.grad for p in params], bufs, lr=g["lr"],
                     momentum=g["momentum"] or 0.0, weight_decay=g["weight_decay"])


def sign_sgd(params: list[Tensor], grads: list[Tensor], bufs: list[Tensor], *,
             lr: float | Tensor, momentum: float, weight_decay: float) -> None:
    """SignSGD's update of one group, in place (``bufs`` empty without momentum); ``lr``
    may be a tensor (the compiled step, train/whole_step.py)."""
    if weight_decay:
        grads = list(torch._foreach_add(grads, params, alpha=weight_decay))
    if momentum:
        torch._foreach_mul_(bufs, momentum)
        torch._foreach_add_(bufs, grads, alpha=1.0 - momentum)
        grads = bufs
    torch._foreach_sub_(params, torch._foreach_mul(torch._foreach_sign(grads), lr))


GroupUpdate = Callable[[list[Tensor], Tensor], None]


def functional_update(optimizer: Optimizer, group: Mapping[str, Any], live: list[Tensor],
                      params: list[Tensor]) -> tuple[GroupUpdate, list[Tensor]] | None:
    """The update of some of a parameter group's arrays (``live``, the ones a gradient
    reaches) as a traceable function ``(grads, lr) -> None`` that changes ``params`` (their
    aliases) and the optimizer's own state tensors in place, and the list of those state
    tensors; None for an optimizer without one. torch's functional forms (foreach,
    ``capturable``: the learning rate is a tensor, so a schedule never recompiles) or
    :func:`sign_sgd`.

    The optimizer's state must exist (one eager step made it): the same tensors serve the
    eager and the compiled step, and the optimizer's ``state_dict`` (checkpoints).
    """
    st = [optimizer.state[p] for p in live]
    stateless = type(optimizer) in (torch.optim.SGD, SignSGD) and not group["momentum"]
    if any(not s for s in st) and not stateless:
        return None
    if type(optimizer) is torch.optim.Adam and not group["amsgrad"] \
            and not group["maximize"]:
        exp_avg, exp_avg_sq = [s["exp_avg"] for s in st], [s["exp_avg_sq"] for s in st]
        # the bias corrections beta ** step are computed from the step count: for float64
        # arrays in float64 (torch keeps the count in float32, which would cost Real64 its
        # precision); float32 arrays keep it (measured 15% faster on a small step)
        steps = [_on(s, "step", p, torch.float64 if p.dtype == torch.float64 else None)
                 for s, p in zip(st, params, strict=True)]
        b1, b2 = group["betas"]

        def adam(grads: list[Tensor], lr: Tensor) -> None:
            adam_update(params, grads, exp_avg, exp_avg_sq, [], steps, foreach=True,
                        capturable=True, amsgrad=False, beta1=b1, beta2=b2, lr=lr,
                        weight_decay=group["weight_decay"], eps=group["eps"], maximize=False)
        return adam, [*exp_avg, *exp_avg_sq, *steps]
    # torch types sgd's and rmsprop's lr as a float; under torch.compile they take a tensor
    if type(optimizer) is torch.optim.SGD and not group["maximize"]:
        bufs = [s["momentum_buffer"] for s in st] if group["momentum"] else []

        def sgd(grads: list[Tensor], lr: Tensor) -> None:
            sgd_update(params, grads, bufs or [None] * len(params), foreach=True,
                       lr=lr, weight_decay=group["weight_decay"],  # type: ignore[arg-type]
                       momentum=group["momentum"], dampening=group["dampening"],
                       nesterov=group["nesterov"], maximize=False)
        return sgd, bufs
    if type(optimizer) is torch.optim.RMSprop and group["centered"] \
            and not group["maximize"]:
        sq, avg = [s["square_avg"] for s in st], [s["grad_avg"] for s in st]
        mom = [s["momentum_buffer"] for s in st] if group["momentum"] else []
        steps = [_on(s, "step", p) for s, p in zip(st, params, strict=True)]

        def rmsprop(grads: list[Tensor], lr: Tensor) -> None:
            rmsprop_update(params, grads, sq, avg, mom, steps, foreach=True, capturable=True,
                           lr=lr, alpha=group["alpha"],  # type: ignore[arg-type]
                           eps=group["eps"], weight_decay=group["weight_decay"],
                           momentum=group["momentum"], centered=True)
        return rmsprop, [*sq, *avg, *mom, *steps]
    if type(optimizer) is SignSGD:
        bufs = [s["momentum_buffer"] for s in st] if group["momentum"] else []

        def signum(grads: list[Tensor], lr: Tensor) -> None:
            sign_sgd(params, grads, bufs, lr=lr, momentum=group["momentum"] or 0.0,
                     weight_decay=group["weight_decay"])
        return signum, bufs
    return None


def _on(state: dict[str, Any], key: str, p: Tensor, dtype: torch.dtype | None = None
        ) -> Tensor:
    """``state[key]`` on ``p``'s device (torch keeps an unfused optimizer's step count on
    the CPU; a compiled update needs it beside the parameter) and in ``dtype`` if given,
    converted in the optimizer's state once (its eager step takes either)."""
    t = state[key]
    if t.device != p.device or (dtype is not None and t.dtype != dtype):
        state[key] = t.to(p.device, dtype or t.dtype)
    return state[key]  # type: ignore[no-any-return]


def torch_optimizer(spec: MethodSpec, groups: list[dict[str, Any]]) -> Optimizer:
    """The torch optimizer of a method over parameter groups (each with lr, weight_decay)."""
    s, lr = spec.sub, spec.learning_rate
    fast = _fast_flag(groups)
    if spec.name == "ADAM":
        return torch.optim.Adam(groups, lr=lr, betas=(s["Beta1"], s["Beta2"]),
                                eps=s["Epsilon"], **fast)
    if spec.name == "SGD":
        return torch.optim.SGD(groups, lr=lr, momentum=s["Momentum"] or 0.0, **fast)
    if spec.name == "RMSProp":
        return torch.optim.RMSprop(groups, lr=lr, alpha=s["Beta"], eps=s["Epsilon"],
                                   momentum=s["Momentum"] or 0.0, centered=True, foreach=True)
    return SignSGD(groups, lr=lr, momentum=s["Momentum"] or 0.0)


def _fast_flag(groups: list[dict[str, Any]]) -> dict[str, bool]:
    """fused=True where torch has fused kernels for these tensors, else foreach=True."""
    params = [p for g in groups for p in g["params"]]
    ok = params and all(p.dtype in (torch.float32, torch.float64, torch.float16,
                                    torch.bfloat16) and p.device.type in ("cpu", "cuda")
                        for p in params)
    return {"fused": True} if ok else {"foreach": True}


class Updater:
    """The update half of a step: learning-rate schedule, gradient clipping, the torch
    optimizer, weight clipping. ``count`` is the number of updates applied so far; the
    schedule sees ``(count + 1, total)`` so it always knows the total number of batches."""

    def __init__(self, optimizer: Optimizer, schedule: Schedule | None, total: int,
                 grad_clip: list[tuple[list[torch.Tensor], float]],
                 weight_clip: list[tuple[list[torch.Tensor], float]]) -> None:
        self.optimizer, self.schedule, self.total = optimizer, schedule, total
        self.grad_clip, self.weight_clip = grad_clip, weight_clip
        self.count = 0
        for g in optimizer.param_groups:
            g.setdefault("base_lr", g["lr"])
        self.params = [p for g in optimizer.param_groups for p in g["params"]]
        # Optimizer.step is wrapped (profiler range, step hooks): unwrapped when neither is used
        step = type(optimizer).step
        self._bare_step = getattr(step, "__wrapped__", None) if getattr(step, "hooked", False) \
            else None
        self.step = self._plain if not (schedule or grad_clip or weight_clip) else self._full

    def zero_grad(self, set_to_none: bool = True) -> None:
        """``optimizer.zero_grad()``: every gradient set to None, as a plain loop (torch's
        method opens a profiler range per call, tens of microseconds on a small step)."""
        if not set_to_none:
            self.optimizer.zero_grad(set_to_none=False)
            return
        for p in self.params:
            p.grad = None

    def optimizer_step(self) -> None:
        """``optimizer.step()``, without its wrapper when no step hook is registered and no
        profiler runs (the wrapper only opens a profiler range and calls the hooks)."""
        o: Any = self.optimizer
        if (self._bare_step is None or o._optimizer_step_pre_hooks
                or o._optimizer_step_post_hooks or _optim_mod._global_optimizer_pre_hooks
                or _optim_mod._global_optimizer_post_hooks
                or torch.autograd._profiler_enabled()):
            o.step()
        else:
            self._bare_step(o)

    def _plain(self) -> None:
        self.optimizer_step()
        self.count += 1

    def _full(self) -> None:
        self.apply_schedule()
        for params, c in self.grad_clip:
            torch.nn.utils.clip_grad_value_(params, c, foreach=True)
        self.optimizer_step()
        if self.weight_clip:
            with torch.no_grad():
                for params, c in self.weight_clip:
                    torch._foreach_clamp_min_(params, -c)
                    torch._foreach_clamp_max_(params, c)
        self.count += 1

    def group_clipping(self) -> list[tuple[float | None, float | None]]:
        """(GradientClipping, WeightClipping) of each parameter group, None where unset."""
        grad = {id(p): c for ps, c in self.grad_clip for p in ps}
        weight = {id(p): c for ps, c in self.weight_clip for p in ps}
        return [(grad.get(id(g["params"][0])), weight.get(id(g["params"][0])))
                for g in self.optimizer.param_groups]

    def apply_schedule(self) -> None:
        """Set this update's learning rates from the LearningRateSchedule (if any)."""
        if self.schedule is not None:
            self.set_factor(self._factor())

    def _factor(self) -> float:
        f = self.schedule(self.count + 1, self.total)  # type: ignore[misc]
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not math.isfinite(f) \
                or f < 0:
            raise TrainingError(HEAD, f"the LearningRateSchedule function returned {f!r} for "
                                f"batch {self.count + 1} of {self.total}; expected a "
                                "nonnegative number (the factor on the learning rate).")
        return float(f)

    def set_factor(self, f: float) -> None:
        for g in self.optimizer.param_groups:
            g["lr"] = g["base_lr"] * f

    @property
    def learning_rate(self) -> float:
        """The current learning rate of the first group (what the schedule last set)."""
        g = self.optimizer.param_groups[0] if self.optimizer.param_groups else {"lr": 0.0}
        return float(g["lr"])

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "count": self.count}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.count = int(state["count"])
