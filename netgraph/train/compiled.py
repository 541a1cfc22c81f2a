"""PerformanceGoal "TrainingSpeed": the training step compiled with ``torch.compile``.

What is compiled is the step's forward, batch loss and (through AOTAutograd) backward: one
graph per batch shape, so torch's inductor fuses the generated forward's small operations and
their gradients. On a GPU the compiled step is also replayed as a CUDA graph (torch's
"reduce-overhead" mode): one launch per step; the outputs kept past a step are copied out of
the graph's memory. Mixed precision (WorkingPrecision "Mixed") is the forward's autocast,
compiled with it. The update stays the fused (or foreach) torch optimizer the eager step uses,
already one kernel per parameter group; compiling it as well would recompile whenever a
learning-rate schedule changes the rate.

``StepCompiler`` holds the compiled callable of one trainer (one net, device and precision);
torch keeps one compiled graph per batch shape under it (guards), so length buckets each
compile once. Time spent in first calls of new shapes is counted as compile time.

Choosing (``mode``): True compiles from the first step; Automatic times a few eager steps and
compiles only when the remaining steps would save more than compiling is expected to cost
(:data:`EXPECTED_COMPILE_SECONDS`, :data:`EXPECTED_GAIN`), so a short run never pays for it;
it then times a few compiled steps and goes back to the eager step for good unless the
compiled one is at least :data:`MIN_GAIN` faster (on these 2-core CPUs the compiled step of
small nets measured slower than the eager one: benchmarks/graph_overhead.py, train_step.py).
Any failure to compile falls back to the eager step for the rest of the run, with one
warning that names the reason.
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
from .step import StepRun

EXPECTED_COMPILE_SECONDS = 30.0   # a first compile on a CPU (measured 10-30 s on 2 cores)
EXPECTED_GAIN = 0.25              # the share of an eager step a compiled one saves
TIMED_STEPS = 3                   # eager steps timed by Automatic before it decides
MIN_GAIN = 0.05                   # Automatic keeps the compiled step only if this much faster
BACKEND = "inductor"


class CompileFallback(RuntimeWarning):
    """Compiling the training step failed; training goes on with the eager step."""


class StepCompiler:
    """Runs a trainer's forward+loss eagerly or compiled, as ``mode`` decides (see module)."""

    def __init__(self, eager: StepRun, mode: Any, total: Callable[[], int],
                 device: str = "cpu") -> None:
        self.eager, self.total = eager, total
        # On a GPU, "reduce-overhead" replays the step as a CUDA graph (one launch per step).
        self.cuda_graphs = device.startswith("cuda")
        self.automatic = mode is Automatic
        self.compiled: StepRun | None = None
        self.on = mode is True
        self.failed: str | None = None
        self.compile_seconds = 0.0
        self.shapes: set[tuple] = set()
        self.steps = 0
        self.timed: list[float] = []            # eager steps timed by Automatic
        self.timed_compiled: list[float] = []   # compiled steps timed by Automatic
        self.rejected = False                   # Automatic measured no gain: eager for good

    def __call__(self, **feeds: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        self.steps += 1
        if not self.on:
            return self._eager_timed(feeds) if self.automatic else self.eager(**feeds)
        key = tuple((k, tuple(v.shape)) for k, v in feeds.items())
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()   # the last step's outputs are done
        if key not in self.shapes:
            return self._first_call(key, feeds)
        if self.automatic and len(self.timed_compiled) < TIMED_STEPS:
            return self._compiled_timed(feeds)
        return self._kept(self.compiled(**feeds))  # type: ignore[misc]

    def _compiled_timed(self, feeds: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Automatic: time the compiled step too; no faster than the eager one, drop it."""
        t = time.perf_counter()
        result = self._kept(self.compiled(**feeds))  # type: ignore[misc]
        self.timed_compiled.append(time.perf_counter() - t)
        if len(self.timed_compiled) == TIMED_STEPS and \
                min(self.timed_compiled) >= min(self.timed) * (1 - MIN_GAIN):
            self.on, self.automatic, self.rejected = False, False, True
        return result

    def _kept(self, result: tuple[Tensor, dict[str, Tensor]]
              ) -> tuple[Tensor, dict[str, Tensor]]:
        """Outputs that outlive the step (states, "OutputArrays"), out of a CUDA graph."""
        return result[0], copied_out(result[1], self.cuda_graphs)

    def _eager_timed(self, feeds: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Automatic: time the eager steps after the first, then decide once."""
        if self.steps == 1 or len(self.timed) >= TIMED_STEPS:
            return self.eager(**feeds)
        t = time.perf_counter()
        result = self.eager(**feeds)
        self.timed.append(time.perf_counter() - t)
        if len(self.timed) == TIMED_STEPS:
            self.on = self.failed is None and pays_off(min(self.timed),
                                                       self.total() - self.steps)
        return result

    def _first_call(self, key: tuple, feeds: Mapping[str, Tensor]
                    ) -> tuple[Tensor, dict[str, Tensor]]:
        """A new batch shape: compile (timed) and run, or fall back for good on failure."""
        t = time.perf_counter()
        try:
            with quietly():
                if self.compiled is None:
                    self.compiled = quiet_compile(self.eager, self.cuda_graphs,
                                                  backend=BACKEND)
                result = self._kept(self.compiled(**feeds))
        except Exception as e:  # noqa: BLE001 - any compiler failure means: run eagerly
            self._fall_back(e)
            return self.eager(**feeds)
        self.compile_seconds += time.perf_counter() - t
        self.shapes.add(key)
        return result

    def _fall_back(self, e: BaseException) -> None:
        self.on, self.compiled = False, None
        self.failed = failure_reason(e)
        self.automatic = False
        warnings.warn(f'NetTrain: PerformanceGoal "TrainingSpeed" could not compile the '
                      f"training step ({self.failed[:300]}); training goes on with the "
                      "eager step.", CompileFallback, stacklevel=4)


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
