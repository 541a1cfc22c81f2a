"""Data-parallel NetTrain on torch.distributed: the same script, launched with torchrun.

A script that calls NetTrain and is started with ``torchrun --nproc_per_node=N script.py``
trains one net with :class:`~torch.nn.parallel.DistributedDataParallel`; nothing in the
script changes. :func:`setup` reads the launcher's environment (``WORLD_SIZE``, ``RANK``,
``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``) or a process group the script created
itself, and joins the group when needed (``nccl`` for GPUs, ``gloo`` on CPUs).

What every process does, so that the result does not depend on the number of processes:

- every process holds the whole data set and draws the same global batches (the same
  seed, shared from rank 0); ``BatchSize`` is the *global* batch size, as in WL;
- each process trains on its contiguous share of the rows of every batch
  (:func:`shard_bounds`); a process whose share is empty runs one row with weight 0;
- each share's loss is weighted by its share of the batch, so DDP's gradient average is
  the gradient of the mean loss over the global batch; the reported loss is that mean
  (one all-reduce per step, before the backward pass, so every process takes the same
  decision on a NaN loss);
- only rank 0 reports progress, calls TrainingProgressFunction and writes checkpoints; its
  decisions to stop reach the others at the end of every batch where one is possible, and
  at the end of every round;
- rank 0's arrays and buffers are sent to every process at the end of every round and of
  the run, so every process returns the same trained net.

Stochastic layers (DropoutLayer) draw from a generator seeded per process, and
BatchNormalizationLayer uses the statistics of each process's share, so such nets train
as well as on one process but not bit for bit like it.

Without a launcher (or with ``NETGRAPH_DISTRIBUTED=0``) every hook is the identity:
:class:`Single`.
"""
from __future__ import annotations

import atexit
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor
from torch.nn.parallel import DistributedDataParallel as DDP

from ..errors import OptionError, TrainingError
from ..symbols import All
from .options import TrainOptions, time_goal_seconds
from .progress import _forms, parse_interval
from .step import port_loss
from .trainer import Trainer, TrainerSpec, with_states

SWITCH = "NETGRAPH_DISTRIBUTED"   # "0" turns data-parallel training off under a launcher
# Reasons to stop that rank 0 decides and sends to the others ("" = go on).
REASONS = ("", "StopTraining", "TimeGoalReached", "StoppingCriterionSatisfied")


def shard_bounds(n: int, world: int, rank: int) -> tuple[int, int]:
    """The rows ``[lo, hi)`` of an ``n``-row batch that process ``rank`` of ``world`` takes.

    >>> [shard_bounds(7, 2, r) for r in range(2)]
    [(0, 3), (3, 7)]
    """
    return n * rank // world, n * (rank + 1) // world


def world_size() -> int:
    """The number of processes training together (1 without a launcher)."""
    if os.environ.get(SWITCH, "1") == "0":
        return 1
    if dist.is_available() and dist.is_initialized():
        return int(dist.get_world_size())
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def _all_gpus(spec: Any) -> bool:
    return isinstance(spec, (tuple, list)) and len(spec) == 2 and spec[1] is All


def setup(head: str, opts: TrainOptions, device: str) -> Single:
    """The distribution context of one NetTrain call on ``device`` (from TargetDevice)."""
    if world_size() <= 1:
        if _all_gpus(opts.target_device) and torch.cuda.device_count() > 1:
            warnings.warn(f'{head}: TargetDevice ("GPU", All) in a single process trains on '
                          f"the first of this machine's {torch.cuda.device_count()} GPUs "
                          "only; launch the script with torchrun --nproc_per_node="
                          f"{torch.cuda.device_count()} to train on all of them.",
                          UserWarning, stacklevel=4)
        return Single(device)
    return Group(head, opts, device)


class Single:
    """One process: every hook leaves NetTrain as it is."""

    rank, world = 0, 1

    def __init__(self, device: str) -> None:
        self.device = device

    def trainer(self, spec: TrainerSpec) -> Trainer:
        return Trainer(spec)

    def same(self, value: int) -> int:
        """``value`` as rank 0 has it (a seed, a number of rounds)."""
        return value

    def lead(self, option: Any) -> Any:
        """An option that only rank 0 acts on (reporting, checkpoints); None elsewhere."""
        return option

    def torch_seed(self, seed: int) -> int:
        return seed

    def agree(self, reason: str, batch: bool = False) -> str:
        """The reason to stop, as rank 0 decided it (after a batch or a round)."""
        return reason

    def sync(self, trainer: Trainer) -> None:
        """Give every process rank 0's arrays and buffers."""


class Group(Single):
    """Several processes in a torch.distributed process group, one trainer each."""

    def __init__(self, head: str, opts: TrainOptions, device: str) -> None:
        check_supported(head, opts)
        self.head = head
        self.local = int(os.environ.get("LOCAL_RANK", "0"))
        self.device = self._device(opts.target_device, device)
        if not dist.is_initialized():
            self._join()
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.comm = self.device if dist.get_backend() == "nccl" else "cpu"
        self.per_batch = _may_stop_per_batch(opts)

    def _device(self, spec: Any, device: str) -> str:
        """Each process takes the GPU of its LOCAL_RANK for "GPU" and ("GPU", All)."""
        if not device.startswith("cuda"):
            return device
        count = torch.cuda.device_count()
        named = isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[1], int)
        if named and int(os.environ.get("LOCAL_WORLD_SIZE", "1")) > 1:
            raise OptionError(self.head, f"TargetDevice {tuple(spec)!r} names one GPU, but "
                              "several processes train on this machine; use \"GPU\" or "
                              '("GPU", All): each process takes the GPU of its LOCAL_RANK.')
        if named:
            return device
        if self.local >= count:
            raise OptionError(self.head, f"process LOCAL_RANK {self.local} has no GPU of its "
                              f"own: this machine has {count}; start at most {count} "
                              f"processes per machine (torchrun --nproc_per_node={count}).")
        torch.cuda.set_device(self.local)
        return f"cuda:{self.local}"

    def _join(self) -> None:
        backend = ("nccl" if self.device.startswith("cuda") and dist.is_nccl_available()
                   else "gloo")
        try:
            dist.init_process_group(backend)
        except (ValueError, RuntimeError) as e:
            raise TrainingError(self.head, f"WORLD_SIZE is {os.environ.get('WORLD_SIZE')}, "
                                f"but joining the torch.distributed process group failed "
                                f"({e}). Launch the script with torchrun, or set "
                                f"{SWITCH}=0 to train in this process alone.") from e
        atexit.register(_leave)

    # -- hooks ----------------------------------------------------------------------
    def trainer(self, spec: TrainerSpec) -> Trainer:
        return DistributedTrainer(spec, self)

    def same(self, value: int) -> int:
        t = torch.tensor([value], dtype=torch.int64, device=self.comm)
        dist.broadcast(t, 0)
        return int(t.item())

    def lead(self, option: Any) -> Any:
        return option if self.rank == 0 else None

    def torch_seed(self, seed: int) -> int:
        return (seed + self.rank) % (2**62)

    def agree(self, reason: str, batch: bool = False) -> str:
        if batch and not self.per_batch:
            return reason  # rank 0 cannot stop in the middle of a round
        code = REASONS.index(reason) if reason in REASONS else -1
        code = self.same(code)
        if code >= 0:
            return REASONS[code]
        return reason or "StopTraining"

    def sync(self, trainer: Trainer) -> None:
        tensors = [t for t in trainer.module.state_dict().values() if isinstance(t, Tensor)]
        broadcast_tensors(tensors, self.comm)


def check_supported(head: str, opts: TrainOptions) -> None:
    """Refuse what distributed training cannot do yet, before joining the group."""
    if opts.resume_from is not None and opts.state_transfer:
        raise TrainingError(head, "ResumeFrom with StateTransfer is not supported in "
                            "distributed training yet: the carried states belong to each "
                            "process; resume in a single process.")


def _may_stop_per_batch(opts: TrainOptions) -> bool:
    """Whether rank 0 may decide to stop after a batch: a TimeGoal, or a progress function
    that runs per batch or per second (the progress bar and "Print" never stop a run)."""
    if time_goal_seconds(opts.time_goal) is not None:
        return True
    specs = (_forms(opts.training_progress_reporting, "TrainingProgressReporting")
             + _forms(opts.training_progress_function, "TrainingProgressFunction"))
    for form, sub in specs:
        if callable(form) and "Interval" in sub:
            if parse_interval(sub["Interval"], "progress").unit != "round":
                return True
    return False


def broadcast_tensors(tensors: list[Tensor], comm: str) -> None:
    """Rank 0's values of ``tensors`` on every process: one broadcast per dtype."""
    by_dtype: dict[torch.dtype, list[Tensor]] = {}
    for t in tensors:
        by_dtype.setdefault(t.dtype, []).append(t)
    with torch.no_grad():
        for group in by_dtype.values():
            flat = torch.cat([t.detach().reshape(-1).to(comm) for t in group])
            dist.broadcast(flat, 0)
            offset = 0
            for t in group:
                t.copy_(flat[offset:offset + t.numel()].view_as(t))
                offset += t.numel()


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


class DistributedTrainer(Trainer):
    """A :class:`Trainer` whose step trains this process's share of each global batch
    under DistributedDataParallel (see the module docstring)."""

    distributed = True   # the step's gradients are DDP's: never compiled whole

    def __init__(self, spec: TrainerSpec, group: Group) -> None:
        super().__init__(spec)
        self.group = group
        self.ddp: DDP | None = None  # made at the first step (see _wrap)
        self._plain_forward, self.forward = self.forward, self._ddp_forward(spec)
        self._base_objective, self.objective = self.objective, self._objective
        self._per_port = not (len(self.terms) == 1 and self.terms[0].weight == 1)
        self._share: float | None = None
        self._ports: Tensor | None = None

    def _ddp_forward(self, spec: TrainerSpec) -> Any:
        def forward(**feeds: Tensor) -> dict[str, Tensor]:
            return self.ddp(**feeds)  # type: ignore[misc,no-any-return]
        if not spec.mixed:
            return forward
        kind = "cuda" if spec.device.startswith("cuda") else "cpu"

        def mixed(**feeds: Tensor) -> dict[str, Tensor]:
            with torch.autocast(kind, dtype=torch.bfloat16):
                out = forward(**feeds)
            return {k: v.float() for k, v in out.items()}
        return mixed

    def _wrap(self, feeds: Mapping[str, Tensor]) -> None:
        """Wrap the module in DDP. An array that no weighted loss depends on (a branch that
        only feeds a Scaled(0) port) never gets a gradient; DDP must then look for unused
        arrays at every step, so find them once, from the graph of one forward pass."""
        feeds = with_states(feeds, self.zero_states(feeds)) if self.transfer else feeds
        self.module.eval()  # no running statistics may move, no random numbers drawn
        try:
            used = _leaves(self._base_objective(self._plain_forward(**feeds)))
        finally:
            self.module.train()
        unused = any(p.requires_grad and p not in used for p in self.module.parameters())
        device = torch.device(self.spec.device)
        self.ddp = DDP(self.module, device_ids=None if device.type != "cuda" else [device],
                       find_unused_parameters=unused)

    # -- the step -------------------------------------------------------------------
    def step(self, feeds: Mapping[str, Tensor]) -> float:
        """One step: this process's rows of the global batch ``feeds``."""
        if self.ddp is None:
            self._check_same(feeds)
        n = next(_tensors(feeds.values())).shape[0]
        lo, hi = shard_bounds(n, self.group.world, self.group.rank)
        share = (hi - lo) / n
        self.last_weight = 0.0 if hi == lo else 1.0   # measurements skip an empty share
        if hi == lo:  # more processes than rows: run one row that weighs nothing
            lo, hi = 0, 1
        local = {k: _rows(v, n, lo, hi) for k, v in feeds.items()}
        if self.ddp is None:
            self._wrap(local)
        self._share = share
        try:
            return super().step(local)
        finally:
            self._share = None

    def _objective(self, out: Mapping[str, Tensor]) -> Tensor:
        """The loss of this share, weighted so that DDP's average of the gradients is the
        gradient of the global batch's mean loss; its value is that global mean."""
        loss = self._base_objective(out)
        if self._share is None:  # validation and the timing probe: no collective
            return loss
        parts = [loss.detach()]
        if self._per_port:
            parts += [port_loss(out[t.name].detach()) for t in self.terms]
        total = torch.stack([p.to(torch.float64) for p in parts]) * self._share
        total = total.to(self.group.comm)
        dist.all_reduce(total)                                  # (1 + ports,) global means
        self._ports = total[1:] if self._per_port else None
        scaled = loss * (self._share * self.group.world)
        return total[0].to(loss) + (scaled - scaled.detach())  # value: exactly the mean

    def reduce_sum(self, t: Tensor) -> Tensor:
        if not t.numel():
            return t
        total = t.to(self.group.comm)
        dist.all_reduce(total)
        return total.to(t.device)

    def losses(self) -> dict[str, float]:
        if self._ports is not None and self.last_out:
            return dict(zip((t.name for t in self.terms), self._ports.tolist(), strict=True))
        return super().losses()

    def _check_same(self, feeds: Mapping[str, Tensor]) -> None:
        """Every process must draw the same global batch: compare sums of the first one."""
        sums = [torch.nan_to_num(v.detach().to(torch.float64)).sum()
                for v in _tensors(feeds.values())]
        stats = torch.stack(sums).to(self.group.comm)
        both = torch.cat([stats, -stats])
        dist.all_reduce(both, op=dist.ReduceOp.MAX)
        high, low = both[:len(sums)], -both[len(sums):]
        if not bool(torch.all((high - low).abs() <= 1e-6 * (1 + high.abs()))):
            raise TrainingError(self.group.head, "the processes of a distributed run drew "
                                "different batches: every process must hold the same data "
                                "(BatchSize is the global batch, and each process trains on "
                                "its share of it). Load the data the same way in every "
                                "process; a generator function must return the same batch "
                                'for the same info (seed it from info["AbsoluteBatch"]).')

    # -- no collectives outside a step ------------------------------------------------
    @contextmanager
    def _plain(self) -> Iterator[None]:
        ddp_forward, self.forward = self.forward, self._plain_forward
        try:
            yield
        finally:
            self.forward = ddp_forward

    def probe_time(self, feeds: Mapping[str, Tensor]) -> float:
        with self._plain():
            return super().probe_time(feeds)

    def evaluate(self, batches: Any, on_batch: Any = None) -> float:
        with self._plain():
            return super().evaluate(batches, on_batch)


def _rows(v: Any, n: int, lo: int, hi: int) -> Any:
    """Rows ``[lo, hi)`` of a batch entry: a ``(n, ...)`` tensor, or a dict of them (the
    forward's ``_lengths``); anything else is passed as it is."""
    if isinstance(v, Mapping):
        return {k: _rows(t, n, lo, hi) for k, t in v.items()}
    if isinstance(v, Tensor) and v.dim() and v.shape[0] == n:
        return v[lo:hi]                                         # (hi - lo, ...)
    return v


def _tensors(values: Any) -> Iterator[Tensor]:
    for v in values:
        if isinstance(v, Mapping):
            yield from _tensors(v.values())
        elif isinstance(v, Tensor):
            yield v


def _leaves(loss: Tensor) -> set[Tensor]:
    """The arrays ``loss`` depends on: the leaves of its autograd graph."""
    seen, stack, leaves = set(), [loss.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        var = getattr(fn, "variable", None)  # an AccumulateGrad node holds its leaf
        if var is not None:
            leaves.add(var)
        stack.extend(f for f, _ in fn.next_functions)
    return leaves
