"""How netgraph scales with the number of layers: chains and wide DAGs of 10 to 10,000 layers.

Two families of nets, each at every size n:
  * chain: NetChain of n layers, LinearLayer(8) and Tanh alternating;
  * dag:   a NetGraph of about n layers in levels of width ~sqrt(n)/2: a level of
           LinearLayer(8) per column, then a level where each column adds its neighbour's
           value (ThreadingLayer(Plus)), and so on; one CatenateLayer joins the columns.
Stages timed (seconds, best of ``--repeat`` runs): construction (edges, ports, order and
shape inference, as NetChain/NetGraph do it), inference alone (re-specializing the built
net), NetInitialize, lowering (torch modules, generated forward, Python's compile of it),
the first and a later evaluation of one example, repr, Information, NetExtract of a
layer and of its weights, Export and Import of a .netgraph file.

For each stage the growth exponent k of time ~ n^k is fitted by least squares on log-log
axes over all sizes, and over the two largest ("top"); linear is k ~ 1, the target k <= 1.2.
The script also checks that no stage recurses per layer: it runs with the recursion limit
lowered to 400, far below the largest size.

    .venv/bin/python benchmarks/graph_scale.py [--sizes 10 100 1000 10000] [--repeat 1]
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np

from netgraph import (
    CatenateLayer,
    Export,
    Import,
    Information,
    LinearLayer,
    NetChain,
    NetExtract,
    NetGraph,
    NetInitialize,
    NetPort,
    Plus,
    Tanh,
    ThreadingLayer,
)

WIDTH = 8                  # features per layer: small, so the graph machinery dominates
RECURSION_LIMIT = 400      # well below every large size: recursion per layer would fail
CONSTRUCT_TARGET_S = 5.0   # construction + inference of 10,000 layers
EXPONENT_TARGET = 1.2


def chain(n: int) -> NetChain:
    return NetChain([LinearLayer(WIDTH) if i % 2 == 0 else Tanh for i in range(n)], Input=WIDTH)


def dag(n: int) -> NetGraph:
    """About n layers: columns of Linear / pairwise-Plus levels, joined by one CatenateLayer."""
    w = max(2, int(math.sqrt(n) / 2))
    levels = max(1, (n - 1) // w)
    layers: dict[str, object] = {}
    conns: list[tuple] = []
    for lv in range(levels):
        for j in range(w):
            key = f"l{lv}c{j}"
            if lv == 0:
                layers[key] = LinearLayer(WIDTH)
                conns.append((NetPort("Input"), key))
            elif lv % 2 == 1:
                layers[key] = ThreadingLayer(Plus)
                conns.append(([f"l{lv - 1}c{j}", f"l{lv - 1}c{(j + 1) % w}"], key))
            else:
                layers[key] = LinearLayer(WIDTH)
                conns.append((f"l{lv - 1}c{j}", key))
    layers["cat"] = CatenateLayer()
    conns.append(([f"l{levels - 1}c{j}" for j in range(w)], "cat"))
    return NetGraph(layers, conns, Input=WIDTH)


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def stages(make: Callable[[int], object], n: int, repeat: int, folder: str
           ) -> tuple[int, dict[str, float]]:
    """Seconds per stage for one net of about n layers; returns (layer count, times)."""
    from netgraph.backend.lower import lower
    t: dict[str, float] = {}
    t["construct"], net = _timed(lambda: make(n), repeat)
    t["infer"], _ = _timed(lambda: net.specialize(dict(net.in_types), dict(net.out_types)),
                           repeat)
    t["initialize"], net = _timed(lambda: NetInitialize(net, RandomSeeding=1), repeat)
    t["lower"], module = _timed(lambda: lower(net), repeat)
    code = module.code
    t["compile"], _ = _timed(lambda: compile(code, "<scale>", "exec"), repeat)
    x = np.ones(WIDTH, np.float32)
    t["eval first"], _ = _timed(lambda: NetInitialize(net, RandomSeeding=2)(x), 1)
    net(x)
    t["eval"], _ = _timed(lambda: net(x), max(repeat, 3))
    t["repr"], _ = _timed(lambda: repr(net), repeat)
    t["Information"], _ = _timed(lambda: Information(net, "ArraysTotalElementCount"), repeat)
    last = list(net.nodes)[len(net.nodes) // 2]
    key = last if isinstance(net, NetGraph) else int(last)
    t["NetExtract"], _ = _timed(lambda: NetExtract(net, key), repeat)
    first = next(k for k, v in net.nodes.items() if v.arrays)
    fkey = first if isinstance(net, NetGraph) else int(first)
    t["NetExtract arr"], _ = _timed(lambda: NetExtract(net, (fkey, "Weights")), repeat)
    path = os.path.join(folder, f"scale{n}.netgraph")
    t["Export"], _ = _timed(lambda: Export(path, net), repeat)
    t["Import"], back = _timed(lambda: Import(path), repeat)
    if len(back.nodes) != len(net.nodes):
        raise SystemExit("Import gave a different net")
    return len(net.nodes), t


def exponent(ns: list[int], ts: list[float]) -> float:
    """Least-squares slope of log(time) against log(size)."""
    xs, ys = np.log(np.array(ns, float)), np.log(np.maximum(np.array(ts), 1e-7))
    return float(np.polyfit(xs, ys, 1)[0]) if len(ns) > 1 else float("nan")


def run(name: str, make: Callable[[int], object], sizes: list[int], repeat: int) -> bool:
    results: list[tuple[int, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            results.append(stages(make, n, repeat, folder))
            print(f"  ({name}: {results[-1][0]} layers done)", file=sys.stderr)
    names = list(results[0][1])
    ns = [r[0] for r in results]
    print(f"== {name}: seconds per stage (recursion limit {RECURSION_LIMIT})")
    print(f"  {'stage':<15}" + "".join(f"{n:>10}" for n in ns) + f"{'k(all)':>9}{'k(top)':>9}")
    ok = True
    for s in names:
        ts = [r[1][s] for r in results]
        k_all, k_top = exponent(ns, ts), exponent(ns[-2:], ts[-2:])
        # the fit over all sizes is the figure; a stage too fast to time at the top is linear
        flag = "" if k_all <= EXPONENT_TARGET or ts[-1] < 0.05 else "  ABOVE TARGET"
        ok = ok and not flag
        print(f"  {s:<15}" + "".join(f"{x:10.4f}" for x in ts) + f"{k_all:9.2f}{k_top:9.2f}{flag}")
    if ns[-1] >= 10_000:
        built = results[-1][1]["construct"]
        verdict = "OK" if built < CONSTRUCT_TARGET_S else "ABOVE TARGET"
        ok = ok and verdict == "OK"
        print(f"  construct+infer of {ns[-1]} layers: {built:.2f} s "
              f"(target < {CONSTRUCT_TARGET_S:.0f} s): {verdict}")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10_000])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--families", nargs="+", default=["chain", "dag"])
    args = ap.parse_args()
    sys.setrecursionlimit(RECURSION_LIMIT)
    ok = True
    for fam in args.families:
        ok = run(fam, {"chain": chain, "dag": dag}[fam], args.sizes, args.repeat) and ok
    print("all stages within targets" if ok else "some stages ABOVE TARGET")


if __name__ == "__main__":
    main()
