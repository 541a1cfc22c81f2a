"""Interleaved timing: run the contenders in alternation, report medians and ratios.

These machines are shared and noisy; interleaving and medians keep the ratios honest.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def interleave(contenders: dict[str, Callable[[], object]], repeats: int = 7,
               inner: int = 200, warmup: int = 20) -> dict[str, float]:
    """Median seconds per call of each contender, timed in alternation."""
    for f in contenders.values():
        for _ in range(warmup):
            f()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):
        for name, f in contenders.items():
            t = time.perf_counter()
            for _ in range(inner):
                f()
            times[name].append((time.perf_counter() - t) / inner)
    return {k: statistics.median(v) for k, v in times.items()}


def report(title: str, medians: dict[str, float], baseline: str, target: float | None = None
           ) -> float:
    """Print each contender's median and its ratio to ``baseline``; return the first ratio."""
    print(f"== {title}")
    base = medians[baseline]
    first = None
    for name, t in medians.items():
        ratio = t / base
        first = ratio if first is None and name != baseline else first
        print(f"  {name:<34} {t * 1e6:9.1f} us   {ratio:5.2f}x {baseline}")
    if target is not None and first is not None:
        verdict = "OK" if first <= target else "ABOVE TARGET"
        print(f"  target <= {target:.2f}x: {verdict}")
    return first if first is not None else 1.0


def interleaved_turns(contenders: dict[str, Callable[[], tuple[float, int]]], repeats: int
                      ) -> dict[str, list[float]]:
    """Seconds per unit of each contender, turn by turn: each call returns (seconds, units);
    one warm-up turn each, then ``repeats`` rounds of one turn each, in alternation."""
    for f in contenders.values():
        f()
    times: dict[str, list[float]] = {k: [] for k in contenders}
    for _ in range(repeats):
        for name, f in contenders.items():
            seconds, units = f()
            times[name].append(seconds / units)
    return times


def paired_report(title: str, times: dict[str, list[float]], baseline: str,
                  target: float | None = None) -> float:
    """Like :func:`report`, from per-turn times; the ratio is the median of the ratios of
    turns run back to back (load that drifts between turns cancels out), and the fastest
    turn of each is shown too."""
    print(f"== {title}")
    base = times[baseline]
    first = None
    for name, ts in times.items():
        ratio = statistics.median(t / b for t, b in zip(ts, base, strict=True))
        first = ratio if first is None and name != baseline else first
        print(f"  {name:<34} median {statistics.median(ts) * 1e6:9.1f} us  fastest "
              f"{min(ts) * 1e6:9.1f} us   {ratio:5.2f}x {baseline}")
    if target is not None and first is not None:
        verdict = "OK" if first <= target else "ABOVE TARGET"
        print(f"  target <= {target:.2f}x: {verdict}")
    return first if first is not None else 1.0


def hand_step(loss: Callable[[], object], optimizer: object) -> Callable[[], float]:
    """A hand-written training step: zero the gradients, ``loss()``, backward, update, and
    ``loss.item()`` (the host sync every loop has)."""
    def step() -> float:
        optimizer.zero_grad()       # type: ignore[attr-defined]
        value = loss()
        value.backward()            # type: ignore[attr-defined]
        optimizer.step()            # type: ignore[attr-defined]
        return value.item()         # type: ignore[attr-defined]
    return step


def trainer_step(trainer: object, batch: dict) -> Callable[[], dict]:
    """One "$Trainer" step: TrainerUpdate then TrainerCurrentLoss."""
    from netgraph import TrainerCurrentLoss, TrainerUpdate

    def step() -> dict:
        TrainerUpdate(trainer, batch)
        return TrainerCurrentLoss(trainer)
    return step


def warm_up(trainer: object, batch: dict) -> None:
    """Enough "$Trainer" steps for PerformanceGoal to have decided, compiled and timed its
    step (train/compiled.py: eager steps first, then the compiled ones)."""
    from netgraph import TrainerCurrentLoss, TrainerUpdate
    from netgraph.train.compiled import TIMED_STEPS
    for _ in range(2 * TIMED_STEPS + 3):
        TrainerUpdate(trainer, batch)
    TrainerCurrentLoss(trainer)
    step = trainer._run_step  # type: ignore[attr-defined]
    if step is not None and step.rejected:
        print("  (the compiled step measured slower than the eager one: eager kept)")


def first_call(f: Callable[[], object]) -> float:
    """Seconds of one call of ``f`` (a first call: compiling included)."""
    t = time.perf_counter()
    f()
    return time.perf_counter() - t
