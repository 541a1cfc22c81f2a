"""PerformanceGoal at evaluation (WL: ``net[x, PerformanceGoal -> "TrainingSpeed"]``).

"TrainingSpeed" compiles the evaluator's generated forward with ``torch.compile`` (one graph
per input shape, torch's guards; on a GPU also replayed as a CUDA graph), which pays off
for repeated calls of one shape; the first call of a shape is slow (compiling). A failure
to compile falls back to the eager forward for good, with one warning naming the reason.
"TrainingMemory" is accepted and changes nothing: evaluation already keeps no activations
(it runs under ``torch.inference_mode``). Automatic and None evaluate eagerly.
"""
from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

import torch

from ..errors import OptionError, nearest
from ..symbols import Automatic

GOALS = ("TrainingSpeed", "TrainingMemory")
Forward = Callable[..., dict[str, torch.Tensor]]


class CompileFallback(RuntimeWarning):
    """Compiling a forward failed; the eager forward is used instead."""


def wants_compiled(head: str, goal: Any) -> bool:
    """Whether PerformanceGoal ``goal`` asks for the compiled forward (raises on bad input)."""
    if goal is None or goal is Automatic:
        return False
    goals = list(goal) if isinstance(goal, (list, tuple, frozenset, set)) else [goal]
    for g in goals:
        if g not in GOALS:
            raise OptionError(head, f'expected PerformanceGoal to be Automatic, None, '
                              f'"TrainingSpeed", "TrainingMemory" or a list of them, but '
                              f"received {g!r}.{nearest(str(g), GOALS)}")
    return "TrainingSpeed" in goals


def quiet_compile(fn: Callable[..., Any], cuda_graphs: bool, backend: Any = "inductor",
                  guard_filter: Callable[[list], list[bool]] | None = None,
                  shapes: int = 8) -> Any:
    """``torch.compile(fn)`` for one graph per input shape, up to ``shapes`` of them (CUDA
    graphs on a GPU: what "reduce-overhead" does). Its compiled graphs are its own
    (``isolate_recompiles``): two nets whose steps run the same Python function never share
    a graph or a recompile limit. ``guard_filter`` keeps only some of torch's guards
    (torch's ``guard_filter_fn``), for a caller that knows what cannot change between
    calls. Call the result under :func:`quietly`."""
    options: dict[str, Any] = {}
    if guard_filter is not None:
        options["guard_filter_fn"] = guard_filter
    if cuda_graphs and backend == "inductor":
        options["triton.cudagraphs"] = True
    return torch.compile(fn, dynamic=False, backend=backend,  # type: ignore[call-overload]
                         options=options or None, isolate_recompiles=True,
                         recompile_limit=shapes)


_COMPILING = threading.RLock()


class quietly(warnings.catch_warnings):
    """Torch's own deprecation warnings, raised while it compiles, kept from the user.

    ``warnings.catch_warnings`` swaps the process's warning filters, which is not safe
    from two threads at once (two trainers compiling, one on a "$Trainer" worker): such
    sections run one at a time.
    """

    def __enter__(self) -> Any:
        _COMPILING.acquire()
        try:
            out = super().__enter__()
        except BaseException:
            _COMPILING.release()
            raise
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return out

    def __exit__(self, *exc: Any) -> None:
        try:
            super().__exit__(*exc)
        finally:
            _COMPILING.release()


def failure_reason(e: BaseException) -> str:
    """One line naming why compiling failed (torch wraps the compiler's own error)."""
    cause = getattr(e, "inner_exception", None) or e
    text = str(cause).strip()
    return f"{type(cause).__name__}: {text.splitlines()[0] if text else ''}"


def copied_out(out: dict[str, torch.Tensor], cuda_graphs: bool) -> dict[str, torch.Tensor]:
    """A CUDA graph's next replay writes over its outputs: copies of those that outlive
    the call (they are small)."""
    return {k: v.clone() for k, v in out.items()} if cuda_graphs else out


class CompiledForward:
    """An evaluator's forward under ``torch.compile``, eager again if compiling fails."""

    def __init__(self, eager: Forward, head: str, device: str) -> None:
        self.eager, self.head = eager, head
        self.cuda_graphs = device.startswith("cuda")
        self.compiled: Forward | None = None
        self.shapes: set[tuple] = set()
        self.failed: str | None = None

    def __call__(self, **feeds: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.failed is not None:
            return self.eager(**feeds)
        key = tuple((k, tuple(v.shape)) for k, v in feeds.items())
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()
        if key in self.shapes:
            return copied_out(self.compiled(**feeds), self.cuda_graphs)  # type: ignore[misc]
        try:
            with quietly():
                if self.compiled is None:
                    self.compiled = quiet_compile(self.eager, self.cuda_graphs)
                out = copied_out(self.compiled(**feeds), self.cuda_graphs)
        except Exception as e:  # noqa: BLE001 - any compiler failure means: run eagerly
            self.failed = failure_reason(e)
            warnings.warn(f'{self.head}: PerformanceGoal "TrainingSpeed" could not compile the '
                          f"net ({self.failed[:300]}); evaluating without compiling.",
                          CompileFallback, stacklevel=4)
            return self.eager(**feeds)
        self.shapes.add(key)
        return out
