"""The "$Trainer": a training net, its optimizer and one worker thread.

NetTrain drives a :class:`Trainer` directly, in the calling thread (:meth:`Trainer.step`).
Once it is handed to the user (``NetTrain(..., "$Trainer")``), operations run one at a time,
in the order they were asked for: :func:`TrainerUpdate` queues a step and returns at once,
everything else waits for the queued steps first. A queued step runs on the trainer's worker
thread while the caller does work of its own (preparing the next batch overlaps the step),
and in the caller's thread when the caller waits for it at once (no thread switch); see
:class:`Worker`. An exception raised by a queued step is kept and raised by the next call on
the trainer.
"""
from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..backend.lower import lower
from ..backend.sync import arrays_from_module
from ..errors import NetGraphError, TrainingError, nearest
from ..graph.walk import array_items, leaves, path_keys
from ..layers.base import Layer
from ..layers.shared import NetArray
from ..symbols import Automatic
from .arrays import Settings, array_refs, param_groups, param_settings
from .compiled import StepCompiler, compiled_step
from .data import SERIES_START, Feeder
from .losses import NODE, Objective
from .optim import MethodSpec, Updater, schedule_of, torch_optimizer
from .schedule import scheduled, step_groups
from .step import apply_mirroring, eager_step, make_objective, port_losses, train_step

# Seconds of the caller's own work between TrainerUpdate and its next wait from which the
# step runs on the worker thread, overlapped (a few thread switches' worth; see Worker).
OVERLAP_GAP = 100e-6

PROPERTIES = ("Net", "OutputArrays", "CurrentLoss", "Optimizer", "LearningRate", "Round",
              "Batch", "AbsoluteBatch", "BatchesPerRound", "TotalBatches", "States",
              "TrainingNet", "Module", "CompileTime", "Properties")


@dataclass
class TrainerSpec:
    """Everything a trainer is built from (NetTrain assembles it)."""

    net: Layer                      # the user's net, typed and initialized
    objective: Objective            # the training net and its loss terms
    method: MethodSpec
    lrm: list                       # LearningRateMultipliers rules
    per_array: dict[str, list]      # L2Regularization/GradientClipping/WeightClipping rules
    device: str
    dtype: torch.dtype
    mixed: bool
    mirroring: Any
    transfer: dict[str, str]        # StateTransfer: output port -> input port
    compile: Any = False            # compile the step: True, False or Automatic (compiled.py)
    update_schedule: Any = Automatic  # TrainingUpdateSchedule groups (schedule.py)
    gradients: bool = False         # keep every step's gradients on the arrays ("Gradients")


class Trainer:
    """The "$Trainer" of NetTrain: the training net, its optimizer and a worker thread.

    Use it as WL's trainer::

        TrainerUpdate(trainer, batch)   # queue one optimisation step; returns at once
        TrainerCurrentLoss(trainer)     # wait for the queued steps -> {loss port: float}
        trainer["Net"]                  # the current net, as a value

    Prepare the next batch between ``TrainerUpdate`` and ``TrainerCurrentLoss``: the step
    runs on the worker thread meanwhile (numpy and torch release the GIL in their loops).

    ``batch`` is a dict ``{port: array}`` as the "$TrainingGenerator" gives it (any NetTrain
    data form works). Properties: "Net", "OutputArrays" (every output of the last step as
    tensors, weight-0 loss ports included), "CurrentLoss", "Optimizer" (the torch optimizer),
    "LearningRate", "Round" (the round the next update belongs to, from 1), "Batch" (updates
    done in that round), "AbsoluteBatch", "BatchesPerRound", "TotalBatches" (what the
    learning-rate schedule counts towards), "States", "TrainingNet", "Module".

    With StateTransfer, the trainer carries the mapped outputs of each update into the
    inputs of the next (detached: gradients stop at the batch boundary) and resets them to
    zeros at the start of every round; ``trainer["States"]`` shows them and
    ``trainer.reset_states()`` resets them by hand. A batch that gives a state input itself
    overrides the carried value. Calls from several threads are safe; an exception raised by
    a queued step is raised by the next call.
    """

    def __init__(self, spec: TrainerSpec) -> None:
        self.spec = spec
        self.net = spec.net
        self.terms = spec.objective.terms
        module: Any = lower(spec.objective.net, spec.dtype, spec.device).train()
        self.keys = dict(zip(module.input_names, module.arg_names, strict=True))
        self.module: Any = apply_mirroring(module, spec.mirroring)
        self.forward = self._forward_fn(spec)
        self.objective = make_objective(self.terms)
        self.updater = self._updater(spec)
        self.bpr = self.total = 1
        self.feeder: Feeder | None = None
        self.transfer = {o: self.keys[i] for o, i in spec.transfer.items()}
        self.batches = 0
        self.states: dict[str, Tensor] = {}
        self.last_loss = float("nan")
        self.last_out: dict[str, Tensor] = {}
        self.last_feeds: Mapping[str, Tensor] = {}
        self.last_weight = 1.0     # 0 when a process's share of the batch was empty
        self.rng_state: Tensor | None = None
        self._worker = Worker()
        weakref.finalize(self, self._worker.close)
        self._error: BaseException | None = None
        self._error_lock = threading.Lock()
        self._run_step: StepCompiler | None = None   # made at the first step (see run_step)

    @property
    def run_step(self) -> StepCompiler:
        """The whole step (forward, loss, backward, update), eager or compiled as
        ``spec.compile`` says; made at the first step, after subclasses have set their
        forward and objective."""
        if self._run_step is None:
            run = eager_step(self.forward, self.objective)
            self._run_step = StepCompiler(
                lambda feeds: train_step(run, self.updater, self.updater.step, feeds),
                lambda: compiled_step(self), self.spec.compile, lambda: self.total,
                self.spec.device)
        return self._run_step

    # -- construction ---------------------------------------------------------
    def _forward_fn(self, spec: TrainerSpec) -> Callable[..., dict[str, Tensor]]:
        forward = self.module.forward  # our own module: no hooks to run
        if not spec.mixed:
            return forward  # type: ignore[no-any-return]
        kind = "cuda" if spec.device.startswith("cuda") else "cpu"

        def mixed(**feeds: Tensor) -> dict[str, Tensor]:
            with torch.autocast(kind, dtype=torch.bfloat16):
                out = forward(**feeds)
            return {k: v.float() for k, v in out.items()}
        return mixed

    def _updater(self, spec: TrainerSpec) -> Updater:
        refs = list(array_refs(spec.net, self.module.layers[NODE]))
        settings = param_settings(refs, spec.lrm, spec.per_array)
        fallback = Settings(1.0, *(_plain(spec.method.sub[k]) for k in
                                   ("L2Regularization", "GradientClipping", "WeightClipping")))
        groups, gclip, wclip = param_groups(self.module, settings, spec.method.learning_rate,
                                            fallback)
        if not groups:
            raise TrainingError("NetTrain", "every array of the net is frozen (learning rate "
                                "multiplier 0 or None), so there is nothing to train.")
        self.multipliers = {ref.full: settings[ref.params[0]][0].multiplier for ref in refs
                            if ref.params}
        self.ascending = {p for p, (s, _) in settings.items() if s.multiplier < 0}
        updater = Updater(torch_optimizer(spec.method, groups),
                          schedule_of(spec.method.sub["LearningRateSchedule"]), 1, gclip, wclip)
        if spec.update_schedule is not Automatic:  # TrainingUpdateSchedule
            steps = step_groups(spec.update_schedule, refs)
            updater.step = scheduled(updater.step, lambda: updater.count, updater.params,
                                     steps)
        return updater

    def set_schedule(self, batches_per_round: int, rounds: int) -> None:
        """The round length and count: what Round/Batch and the schedule count against."""
        self.bpr = max(1, batches_per_round)
        self.total = self.updater.total = self.bpr * max(1, rounds)

    def probe_time(self, feeds: Mapping[str, Tensor]) -> float:
        """Seconds per step, from a forward and backward pass that changes nothing."""
        feeds = with_states(feeds, self.zero_states(feeds)) if self.transfer else feeds
        self.module.eval()  # no running statistics may move
        try:
            with torch.random.fork_rng(devices=[]):
                times = []
                for _ in range(2):
                    t0 = time.perf_counter()
                    loss = self.objective(self.forward(**feeds))
                    if loss.requires_grad:
                        loss.backward()
                    times.append(time.perf_counter() - t0)
                self.updater.zero_grad()
        finally:
            self.module.train()
        return min(times) * 1.3  # the update and the loop's own work

    # -- the step (caller's thread for NetTrain, the worker for TrainerUpdate) -----------
    def step(self, feeds: Mapping[str, Tensor]) -> float:
        """One optimisation step on a batch keyed by the forward's argument names."""
        if self.transfer:
            if self.batches % self.bpr == 0 or not self.states:
                self.states = self.zero_states(feeds)
            feeds = with_states(feeds, self.states)
        self.last_feeds = feeds    # what last_out was computed from (a process's share)
        self.last_loss, self.last_out = self.run_step(feeds)
        if self.transfer:
            out = self.last_out
            self.states = {k: out[o].detach() for o, k in self.transfer.items()}
        self.batches += 1
        return self.last_loss

    def zero_states(self, feeds: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Zeros for every StateTransfer input: the state at the start of a round."""
        ref = next(iter(feeds.values()))
        types = self.spec.objective.net.in_types
        names = {v: k for k, v in self.keys.items()}
        return {k: torch.zeros((ref.shape[0], *types[names[k]].fixed_shape()),
                               dtype=self.spec.dtype, device=ref.device)
                for k in self.transfer.values()}

    def evaluate(self, batches: Any,
                 on_batch: Callable[[Mapping[str, Tensor], Mapping[str, Tensor]], None]
                 | None = None) -> float:
        """The mean loss over batches without training (validation); states start at zero.
        ``on_batch(out, feeds)`` sees each batch's outputs (the measurements)."""
        total, count, states = 0.0, 0, None
        self.module.eval()
        try:
            with torch.no_grad():
                for feeds in batches:
                    states = self.zero_states(feeds) if states is None else states
                    out = self.forward(**with_states(feeds, states))
                    if on_batch is not None:
                        on_batch(out, feeds)
                    n = next(iter(out.values())).shape[0]
                    total += self.objective(out).item() * n
                    count += n
                    states = {k: out[o] for o, k in self.transfer.items()}
        finally:
            self.module.train()
        return total / max(count, 1)

    def reduce_sum(self, t: Tensor) -> Tensor:
        """``t`` summed over the processes of a distributed run (measurement counts)."""
        return t

    def current_net(self) -> Layer:
        return arrays_from_module(self.net, self.module.layers[NODE])

    def gradients(self) -> dict[Any, np.ndarray]:
        """The gradient of the last step's batch loss for every trained array, keyed as
        ``Information(net, "Arrays")``: what the update used (after GradientClipping; for
        a negative LearningRateMultiplier the loss's own gradient, not its negation). An
        array no gradient reached has zeros; frozen arrays (multiplier 0 or None) and
        arrays that are not learned (BatchNormalization's moving statistics) have none.

        Needs the gradients on the arrays: a whole compiled step (whole_step.py) keeps
        none, so NetTrain refuses it when "Gradients" is asked for (``spec.gradients``)."""
        node = self.module.layers[NODE]
        refs = list(array_refs(self.net, node))
        trained: set[Tensor] = {p for r in refs for p in r.params if p.requires_grad}
        layers = dict(leaves(self.net))
        keys = set()
        for r in refs:
            if any(p in trained for p in r.params):
                shared = layers[r.path].shared_names() if r.path in layers else {}
                keys.add(NetArray(shared[r.name]) if r.name in shared else
                         (*path_keys(r.path), r.name))
        saved: dict[Tensor, Tensor] = {}
        try:   # the module's arrays read as their gradients, sliced and keyed as the arrays
            with torch.no_grad():
                for p in trained:
                    g = torch.zeros_like(p) if p.grad is None else p.grad
                    saved[p] = p.data
                    p.data = -g if p in self.ascending else g
                grads = arrays_from_module(self.net, node)
        finally:
            for p, data in saved.items():
                p.data = data
        return {k: a for k, a, _ in array_items(grads) if k in keys and a is not None}

    def losses(self) -> dict[str, float]:
        """The unweighted loss of every loss port in the last step."""
        if not self.last_out:
            return {t.name: float("nan") for t in self.terms}
        if len(self.terms) == 1 and self.terms[0].weight == 1:
            return {self.terms[0].name: self.last_loss}
        return port_losses(self.terms, self.last_out)

    def reset_states(self) -> None:
        """Set the carried StateTransfer states back to zeros (the start of a round)."""
        self._run(lambda: self.states.clear())

    # -- the worker ---------------------------------------------------------------
    def update(self, batch: Any) -> None:
        """Queue one step on ``batch`` (see :func:`TrainerUpdate`)."""
        self._raise_pending()
        if self.feeder is None:
            raise TrainingError("TrainerUpdate", "this trainer has no data description yet.")
        try:
            feeds = self.feeder(batch)
        except NetGraphError as e:  # the user called TrainerUpdate: name it
            raise type(e)("TrainerUpdate", e.message) from None
        threads = torch.get_num_threads()
        self._worker.submit(lambda: self._queued_step(feeds, threads))

    def _queued_step(self, feeds: Mapping[str, Tensor], threads: int) -> None:
        if self._error is not None:
            return  # a failed step stops the queue until the error is reported
        if torch.get_num_threads() != threads:
            # A new thread starts with OpenMP's and MKL's default team (every core), not
            # what the caller set: the worker would oversubscribe the cores (measured: 10x
            # slower steps when the caller runs numpy meanwhile on 2 cores).
            torch.set_num_threads(threads)
        try:
            with self._rng():
                self.step(feeds)
        except BaseException as e:  # kept for the next call; never lost
            e.add_note("(raised by a step queued with TrainerUpdate)")
            with self._error_lock:
                self._error = e

    def _rng(self) -> Any:
        """Stochastic layers draw from the trainer's own torch generator state."""
        if self.rng_state is None:
            return nullcontext()
        return _SwapRNG(self)

    def _raise_pending(self) -> None:
        with self._error_lock:  # not the run lock: TrainerUpdate must not wait for a step
            err, self._error = self._error, None
        if err is not None:
            raise err

    def _run(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` after every queued step (see :class:`Worker`)."""
        result = self._worker.call(fn)
        self._raise_pending()
        return result

    def current_loss(self) -> dict[str, float]:
        return self._run(self.losses)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Run the queued steps and stop the worker thread."""
        self._worker.close()

    # -- properties ---------------------------------------------------------------
    def __getitem__(self, prop: str) -> Any:
        if prop not in PROPERTIES:
            raise TrainingError("Trainer", f'unknown property "{prop}".'
                                f"{nearest(str(prop), PROPERTIES)} Properties are "
                                f"{', '.join(PROPERTIES)}.")
        return self._run(lambda: self._property(prop))

    def _property(self, prop: str) -> Any:
        names = {v: k for k, v in self.keys.items()}
        return {
            "Net": self.current_net, "CurrentLoss": self.losses,
            "OutputArrays": lambda: {k: v.detach() for k, v in self.last_out.items()},
            "Optimizer": lambda: self.updater.optimizer,
            "LearningRate": lambda: self.updater.learning_rate,
            "Round": lambda: self.batches // self.bpr + 1,
            "Batch": lambda: self.batches % self.bpr, "AbsoluteBatch": lambda: self.batches,
            "BatchesPerRound": lambda: self.bpr, "TotalBatches": lambda: self.total,
            "States": lambda: {names[k]: v for k, v in self.states.items()},
            "TrainingNet": lambda: self.spec.objective.net, "Module": lambda: self.module,
            "CompileTime": lambda: self.run_step.compile_seconds,
            "Properties": lambda: list(PROPERTIES),
        }[prop]()

    def __repr__(self) -> str:
        loss = ", ".join(t.name for t in self.terms)
        return (f"Trainer[{self.net.head}, losses: {loss}, round {self.batches // self.bpr + 1}"
                f", batch {self.batches % self.bpr}/{self.bpr}, "
                f"{self.spec.method.name}]")



def with_states(feeds: Mapping[str, Tensor], states: Mapping[str, Tensor]
                ) -> dict[str, Tensor]:
    """The forward's arguments: the carried states (zeros in the rows where a series starts,
    with data given as a list of series), overridden by whatever the batch gives."""
    start = feeds.get(SERIES_START)
    if start is None:
        return {**states, **feeds}
    fresh = {k: v.masked_fill(start.view(-1, *[1] * (v.dim() - 1)), 0.0)   # (batch, ...)
             for k, v in states.items()}
    return {**fresh, **{k: v for k, v in feeds.items() if k != SERIES_START}}


class Worker:
    """One background thread that runs queued tasks in order.

    Tasks run holding ``run_lock``, and are taken off the queue only while it is held, so
    they run one at a time in the order they were queued. :meth:`call` runs the tasks still
    queued in the calling thread, then ``fn``.

    When to wake the thread: waking it costs thread switches (the woken thread takes the GIL
    from the caller at its next release, and the caller sleeps until it gets it back), which
    is worth paying only when the caller has work of its own to overlap with the task.
    :meth:`submit` wakes it when the caller's last wait (:meth:`call`) came at least
    :data:`OVERLAP_GAP` seconds after the submit before it (the caller did something in
    between, such as preparing the next batch), or when tasks are already queued, or before
    any wait; otherwise the task stays queued for the next :meth:`call`, which runs it in
    the calling thread with no switch at all (an update followed at once by a wait).
    """

    def __init__(self) -> None:
        self.queue: deque[Callable[[], None] | None] = deque()
        self.ready = threading.Condition(threading.Lock())
        self.run_lock = threading.RLock()
        self.thread: threading.Thread | None = None
        self.overlap = True                  # wake the thread at submit
        self.submitted: float | None = None  # when the last task was queued, until a wait

    def submit(self, task: Callable[[], None]) -> None:
        with self.ready:
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="netgraph-trainer",
                                               daemon=True)
                self.thread.start()
            wake = self.overlap or bool(self.queue)
            self.queue.append(task)
            if wake:
                self.ready.notify()
            self.submitted = time.perf_counter()

    def _loop(self) -> None:
        while True:
            with self.ready:
                while not self.queue:
                    self.ready.wait()
            with self.run_lock:
                if not self._drain():
                    return

    def _drain(self) -> bool:
        """Run the queued tasks (holding run_lock); False once told to stop."""
        while True:
            with self.ready:
                if not self.queue:
                    return True
                task = self.queue.popleft()
            if task is None:
                return False
            task()

    def call(self, fn: Callable[[], Any]) -> Any:
        with self.ready:
            if self.submitted is not None:
                self.overlap = time.perf_counter() - self.submitted >= OVERLAP_GAP
                self.submitted = None
        with self.run_lock:
            self._drain()
            return fn()

    def close(self) -> None:
        with self.ready:
            if self.thread is None:
                return
            self.queue.append(None)
            self.ready.notify()
            thread, self.thread = self.thread, None
        if thread is not threading.current_thread():
            thread.join()


class _SwapRNG:
    """Swap the trainer's torch generator state in for a step and back out after it."""

    def __init__(self, trainer: Trainer) -> None:
        self.t = trainer

    def __enter__(self) -> None:
        self.saved = torch.get_rng_state()
        torch.set_rng_state(self.t.rng_state)  # type: ignore[arg-type]

    def __exit__(self, *exc: Any) -> None:
        self.t.rng_state = torch.get_rng_state()
        torch.set_rng_state(self.saved)


def _plain(v: Any) -> Any:
    return v if v is None or isinstance(v, (int, float)) else None
