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
