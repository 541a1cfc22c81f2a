"""PerformanceGoal "TrainingSpeed": the training step compiled with ``torch.compile``.

What is compiled is the whole step where it can be (train/whole_step.py): forward, batch
loss, gradients and the optimizer's update as one graph per batch shape, so torch's inductor
fuses the generated forward's small operations, their gradients and the update, and a step
costs one call. Where the step cannot take that form (:func:`~.whole_step.refusal`:
Mirroring, a TrainingUpdateSchedule, a negative learning-rate multiplier, a distributed
step, an optimizer without a functional form) the forward and loss are compiled (through
AOTAutograd, with their backward) and the update stays the eager fused or foreach one. On a
GPU the compiled step is also replayed as a CUDA graph (torch's "reduce-overhead" mode);
the outputs kept past a step are copied out of the graph's memory. Mixed precision
(WorkingPrecision "Mixed") is the forward's autocast, compiled with it.

``StepCompiler`` runs one trainer's step (one net, device and precision); torch keeps one
compiled graph per batch shape under it (guards), so length buckets each compile once, up to
:data:`MAX_SHAPES` shapes (torch's own recompile limit); batches of further shapes take the
eager step. Time spent in first calls of new shapes is counted as compile time.

Choosing (``mode``): the first steps are eager (the first makes the optimizer's state, the
next :data:`TIMED_STEPS` are timed). True ("TrainingSpeed") then compiles; Automatic
compiles only when the remaining steps would save more than compiling is expected to cost
(:data:`EXPECTED_COMPILE_SECONDS`, :data:`EXPECTED_GAIN`), so a short run never pays for it.
Either way the next :data:`TIMED_STEPS` compiled steps are timed too, and the eager step is
used for good unless the compiled one is faster (for Automatic, at least :data:`MIN_GAIN`
faster): measured on 2 CPU cores, the compiled small-DAG step runs at about 0.5x the eager
one, but a LeNet-style convolutional step at about 1.15x (the eager step's channels-last
convolutions and poolings are torch's fastest CPU kernels; inductor's fused ones are
slower), and "TrainingSpeed" asks for the faster step. Any failure to compile falls back to
the eager step for the rest of the run, with one warning that names the reason; so does a
change to an optimizer setting the whole step holds as a constant (quietly: nothing failed).
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from ..runtime.speed import copied_out, failure_reason, quiet_compile, quietly
from ..symbols import Automatic
from .step import eager_step, train_step
from .whole_step import NotCompiled, WholeStep, kept_guards, refusal

EXPECTED_COMPILE_SECONDS = 30.0   # a first compile on a CPU (measured 5-30 s on 2 cores)
EXPECTED_GAIN = 0.25              # the share of an eager step a compiled one saves
TIMED_STEPS = 3                   # eager steps, then compiled steps, timed before deciding
MIN_GAIN = 0.05                   # Automatic keeps the compiled step only if this much faster
MAX_SHAPES = 8                    # batch shapes compiled (torch's recompile limit); then eager
BACKEND = "inductor"

Step = Callable[[Mapping[str, Tensor]], tuple[float, dict[str, Tensor]]]


class CompileFallback(RuntimeWarning):
    """Compiling the training step failed; training goes on with the eager step."""


class StepCompiler:
    """Runs a trainer's whole step eagerly or compiled, as ``mode`` decides (see module).

    ``eager(feeds)`` and the step ``make()`` returns both run one step (forward, backward,
    update) and return (batch loss, outputs); ``make`` is called once, when compiling starts.
    """

    def __init__(self, eager: Step, make: Callable[[], Step], mode: Any,
                 total: Callable[[], int], device: str = "cpu") -> None:
        self.eager, self.make, self.total = eager, make, total
        # On a GPU, "reduce-overhead" replays the step as a CUDA graph (one launch per step).
        self.cuda_graphs = device.startswith("cuda")
        self.mode = mode if mode is Automatic else bool(mode)
        self.compiled: Step | None = None
        self.on = False
        self.failed: str | None = None
        self.compile_seconds = 0.0
        self.shapes: set[tuple] = set()
        self.steps = 0
        self.timed: list[float] = []            # eager steps timed before deciding
        self.timed_compiled: list[float] = []   # compiled steps timed after compiling
        self.rejected = False                   # the compiled step measured slower: eager

    def __call__(self, feeds: Mapping[str, Tensor]) -> tuple[float, dict[str, Tensor]]:
        self.steps += 1
        if self.on and getattr(self.compiled, "changed", bool)():
            self.on, self.compiled = False, None   # optimizer settings changed: eager now
        if not self.on:
            return self._eager(feeds)
        key = tuple((k, tuple(v.shape)) for k, v in feeds.items() if isinstance(v, Tensor))
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()   # the last step's outputs are done
        if key not in self.shapes:
            if len(self.shapes) >= MAX_SHAPES:   # many length buckets: the rest run eagerly
                return self.eager(feeds)
            return self._first_call(key, feeds)
        if len(self.timed_compiled) < TIMED_STEPS:
            return self._compiled_timed(feeds)
        return self._run(feeds)

    def _run(self, feeds: Mapping[str, Tensor]) -> tuple[float, dict[str, Tensor]]:
        """The compiled step; the eager one where torch ran the whole step's function
        uncompiled (it refuses before changing anything)."""
        try:
            return self._kept(self.compiled(feeds))  # type: ignore[misc]
        except NotCompiled:
            return self.eager(feeds)

    def _eager(self, feeds: Mapping[str, Tensor]) -> tuple[float, dict[str, Tensor]]:
        """Eager steps; the first few after the first are timed, then compiling is decided."""
        if self.mode is False or self.steps == 1 or len(self.timed) >= TIMED_STEPS:
            return self.eager(feeds)
        t = time.perf_counter()
        result = self.eager(feeds)
        self.timed.append(time.perf_counter() - t)
        if len(self.timed) == TIMED_STEPS:
            self.on = self.failed is None and (
                self.mode is True or pays_off(min(self.timed), self.total() - self.steps))
        return result

    def _compiled_timed(self, feeds: Mapping[str, Tensor]) -> tuple[float, dict[str, Tensor]]:
        """Time the compiled step too; no faster than the eager one, go back to eager."""
        t = time.perf_counter()
        result = self._run(feeds)
        self.timed_compiled.append(time.perf_counter() - t)
        if len(self.timed_compiled) == TIMED_STEPS:
            gain = MIN_GAIN if self.mode is Automatic else 0.0
            if min(self.timed_compiled) >= min(self.timed) * (1 - gain):
                self.on, self.rejected, self.compiled = False, True, None
        return result

    def _kept(self, result: tuple[float, dict[str, Tensor]]
              ) -> tuple[float, dict[str, Tensor]]:
        """Outputs that outlive the step (states, "OutputArrays"), out of a CUDA graph."""
        return result[0], copied_out(result[1], self.cuda_graphs)

    def _first_call(self, key: tuple, feeds: Mapping[str, Tensor]
                    ) -> tuple[float, dict[str, Tensor]]:
        """A new batch shape: compile (timed) and run, or fall back for good on failure."""
        t = time.perf_counter()
        try:
            with quietly():
                if self.compiled is None:
                    self.compiled = self.make()
                result = self._kept(self.compiled(feeds))
        except Exception as e:  # noqa: BLE001 - any compiler failure means: run eagerly
            self._fall_back(e)
            return self.eager(feeds)
        self.compile_seconds += time.perf_counter() - t
        self.shapes.add(key)
        return result

    def _fall_back(self, e: BaseException) -> None:
        self.on, self.compiled = False, None
        self.failed = failure_reason(e)
        warnings.warn(f'NetTrain: PerformanceGoal "TrainingSpeed" could not compile the '
                      f"training step ({self.failed[:300]}); training goes on with the "
                      "eager step.", CompileFallback, stacklevel=4)


def compiled_step(trainer: Any) -> Step:
    """A trainer's step compiled: whole (:class:`~.whole_step.WholeStep`) where it can be,
    else its forward and loss compiled with the eager update (see the module docstring).
    Compiling itself happens at the first call of each batch shape."""
    cuda_graphs = trainer.spec.device.startswith("cuda")
    whole = None if refusal(trainer) else WholeStep.build(
        trainer.module, trainer.forward, trainer.objective, trainer.updater)
    if whole is not None:
        if cuda_graphs:   # what the graph updates in place stays at one address (no copies)
            for t in (*whole.mutated, *whole.buffers, *whole.lrs):
                torch._dynamo.mark_static_address(t)
        whole.compiled = quiet_compile(whole.fn, cuda_graphs, backend=BACKEND,
                                       guard_filter=kept_guards, shapes=MAX_SHAPES)
        return whole
    run = quiet_compile(eager_step(trainer.forward, trainer.objective), cuda_graphs,
                        backend=BACKEND, shapes=MAX_SHAPES)
    u = trainer.updater
    return lambda feeds: train_step(run, u, u.step, feeds)


def pays_off(step_seconds: float, remaining_steps: int) -> bool:
    """Whether compiling saves more time over the remaining steps than it costs.

    >>> pays_off(0.001, 3), pays_off(0.05, 10_000)
    (False, True)
    """
    return remaining_steps * step_seconds * EXPECTED_GAIN > EXPECTED_COMPILE_SECONDS


def compile_mode(opts: Any) -> Any:
    """Whether to compile the training step: True for PerformanceGoal "TrainingSpeed",
    Automatic (compile where it pays off, train/compiled.py) for Automatic, else False."""
    goal = opts.performance_goal
    if goal is Automatic:
        return Automatic
    return goal is not None and "TrainingSpeed" in goal
