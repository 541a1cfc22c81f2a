"""TrainingProgressCheckpointing, and resuming a run from a checkpoint.

A checkpoint is one ``.netgraph`` archive (netgraph's own no-pickle format, written
atomically: a temporary file, then a rename) holding the current net, the optimizer state,
the trainer's counters, carried StateTransfer states, the torch generator state and the
run's history. Arrays go to the safetensors part under ``net/``, ``best/``, ``optimizer/``,
``states/`` and ``history/``; the rest is JSON under ``"checkpoint"``, the measurement history
as tagged JSON (:func:`to_json`: no pickles, each value reads back as its type).

Forms: ``("File", path)`` (one file, overwritten), ``("Directory", dir)`` (a new file each
time, named ``start_counter_round_batch_loss[_validationloss].netgraph`` as WL names them),
either with ``{"Interval": n | (n, "Rounds"|"Batches"|"Seconds")}`` as a third element (one
round by default), or a list of these. ``NetTrain(net, data, ..., ResumeFrom=path)``
continues from a checkpoint file, or from the newest one in a directory.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch

from ..errors import OptionError, TrainingError
from ..layers.base import Layer
from .formats import archive
from .progress import Interval, parse_interval
from .results import History

HEAD = "NetTrain"
KIND = "TrainingCheckpoint"
SUFFIX = ".netgraph"
HISTORY_LISTS = ("batch_losses", "round_losses", "validation_losses", "validation_rounds")
# Not in the history scalars: clocks, and the measurement history (saved apart, tagged JSON).
NOT_SAVED = ("start", "offset", "round_measurements", "validation_measurements", "latest")


@dataclass
class Target:
    """Where and how often to write checkpoints."""

    kind: str                 # "File" or "Directory"
    path: str
    interval: Interval
    last_time: float = field(default_factory=time.perf_counter)
    last_batch: int = 0
    last_round: int = 0


def parse_targets(spec: Any) -> list[Target]:
    if spec is None:
        return []
    if isinstance(spec, list):
        return [t for s in spec for t in parse_targets(s)]
    ok = isinstance(spec, tuple) and len(spec) in (2, 3) and spec[0] in ("File", "Directory")
    ok = ok and isinstance(spec[1], (str, os.PathLike))
    if ok and len(spec) == 3:
        ok = isinstance(spec[2], dict) and set(spec[2]) <= {"Interval", "MinimumInterval"}
    if not ok:
        raise OptionError(HEAD, f'expected TrainingProgressCheckpointing to be ("File", path), '
                          f'("Directory", dir), either with {{"Interval": ...}}, or a list, but '
                          f"received {spec!r}.")
    opts = spec[2] if len(spec) == 3 else {}
    iv = parse_interval(opts.get("Interval", 1), "TrainingProgressCheckpointing")
    path = os.fspath(spec[1])
    if spec[0] == "Directory":
        os.makedirs(path, exist_ok=True)
    return [Target(spec[0], path, iv)]


class Checkpointer:
    """Writes checkpoints at each target's interval (after a batch or a round)."""

    def __init__(self, spec: Any, head: str = HEAD) -> None:
        self.targets = parse_targets(spec)
        self.stamp = time.strftime("%Y%m%dT%H%M%S")
        self.counter = 0

    def after_batch(self, loop: Any) -> None:
        self._maybe(loop, lambda t: t.interval.unit != "round")

    def after_round(self, loop: Any) -> None:
        self._maybe(loop, lambda t: True)

    def _maybe(self, loop: Any, eligible: Any) -> None:
        h: History = loop.h
        now = time.perf_counter()
        due = [t for t in self.targets if eligible(t) and _due(t, h, now)]
        if not due:
            return
        meta, arrays = snapshot(loop)
        for t in due:
            t.last_time, t.last_batch, t.last_round = now, h.absolute_batch, len(h.round_losses)
            path = t.path if t.kind == "File" else os.path.join(t.path, self._name(h))
            archive("write_archive")(path, meta, arrays)
            h.checkpoints.append(path)

    def _name(self, h: History) -> str:
        self.counter += 1
        loss = h.batch_losses[-1] if h.batch_losses else math.nan
        val = f"_{h.validation_losses[-1]:.4e}" if h.validation_losses else ""
        return (f"{self.stamp}_{self.counter:04d}_{len(h.round_losses):04d}_"
                f"{h.absolute_batch:06d}_{loss:.4e}{val}{SUFFIX}")


def _due(t: Target, h: History, now: float) -> bool:
    iv = t.interval
    if iv.unit == "second":
        return now - t.last_time >= iv.n
    if iv.unit == "batch":
        return h.absolute_batch - t.last_batch >= iv.n
    return len(h.round_losses) - t.last_round >= iv.n


# -- writing -----------------------------------------------------------------------
def snapshot(loop: Any) -> tuple[dict, dict[str, np.ndarray]]:
    """The checkpoint of a running loop: (JSON meta, arrays)."""
    net_to_archive = archive("net_to_archive")
    t, h = loop.t, loop.h
    net_meta, net_arrays = net_to_archive(t.current_net())
    arrays = {f"net/{k}": v for k, v in net_arrays.items()}
    best_meta = None
    if loop.best_net is not None:
        best_meta, best_arrays = net_to_archive(loop.best_net)
        arrays.update({f"best/{k}": v for k, v in best_arrays.items()})
    opt_meta = _optimizer_state(t, arrays)
    names = {v: k for k, v in t.keys.items()}
    arrays.update({f"states/{names[k]}": v.detach().cpu().numpy() for k, v in t.states.items()})
    arrays.update({f"history/{k}": np.asarray(getattr(h, k), dtype=np.float64)
                   for k in HISTORY_LISTS})
    arrays["rng/torch"] = torch.get_rng_state().numpy()
    scalars = {f.name: getattr(h, f.name) for f in fields(History)
               if f.name not in (*HISTORY_LISTS, *NOT_SAVED)}
    scalars["offset"] = h.elapsed
    meta = {"kind": KIND, "net": net_meta, "best": best_meta, "checkpoint": {
        "batches": t.batches, "batches_per_round": t.bpr, "optimizer": opt_meta,
        "history": scalars, "best_score": [_json_float(x) for x in loop.best_score],
        "stopping": {"best": _json_float(loop.stopping.best), "bad": loop.stopping.bad},
        "measurements": {"rounds": to_json(h.round_measurements),
                         "validation": to_json(h.validation_measurements),
                         "batches": to_json(_batch_lists(loop))}}}
    return meta, arrays


def _batch_lists(loop: Any) -> dict[Any, list[Any]]:
    meters = getattr(loop, "meters", None)
    return {} if meters is None else meters.train.lists


# -- measurement values as JSON ---------------------------------------------------------
# A measurement is a number, a string, an array, a dict keyed by class, a list... (or what a
# user's function returns). Checkpoints hold no pickles: each value is written as tagged
# JSON that reads back as the same type; a value of another type (a user function's object)
# reads back as None, and its repr is kept in the file.
_SCALARS = {bool: "b", int: "i", str: "s"}


def to_json(v: Any) -> Any:
    """``v`` as tagged JSON (see above)."""
    if v is None:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    for kind, tag in _SCALARS.items():
        if type(v) is kind:
            return {tag: v}
    if isinstance(v, float):
        return {"f": v if math.isfinite(v) else repr(v)}
    if isinstance(v, np.ndarray) and v.dtype.kind in "biuf":
        return {"a": v.dtype.str, "shape": list(v.shape),
                "data": [x if math.isfinite(x) else repr(x) for x in v.astype(float).ravel()
                         .tolist()] if v.dtype.kind == "f" else v.ravel().tolist()}
    if isinstance(v, dict):
        return {"d": [[to_json(k), to_json(x)] for k, x in v.items()]}
    if isinstance(v, (list, tuple)):
        return {"l" if isinstance(v, list) else "t": [to_json(x) for x in v]}
    return {"x": repr(v)[:200]}


def from_json(v: Any) -> Any:
    """The value :func:`to_json` wrote."""
    if v is None:
        return None
    (tag, x), *rest = v.items()
    if tag in ("b", "i", "s"):
        return x
    if tag == "f":
        return float(x)
    if tag == "a":
        data = [float(e) for e in v["data"]] if np.dtype(x).kind == "f" else v["data"]
        return np.asarray(data, dtype=np.dtype(x)).reshape(v["shape"])
    if tag == "d":
        return {_key(from_json(k)): from_json(e) for k, e in x}
    if tag in ("l", "t"):
        items = [from_json(e) for e in x]
        return items if tag == "l" else tuple(items)
    return None


def _key(k: Any) -> Any:
    return tuple(_key(e) for e in k) if isinstance(k, list) else k


def _optimizer_state(t: Any, arrays: dict[str, np.ndarray]) -> dict:
    sd = t.updater.optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if isinstance(v, torch.Tensor):
                arrays[f"optimizer/{pid}/{k}"] = v.detach().cpu().numpy()
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                scalars.setdefault(str(pid), {})[k] = v
    return {"count": t.updater.count, "scalars": scalars,
            "lr": [g["lr"] for g in t.updater.optimizer.param_groups]}


def _json_float(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


# -- resuming -------------------------------------------------------------------------
@dataclass
class Checkpoint:
    """A checkpoint read back: the net to continue from and everything else."""

    path: str
    net: Layer
    best: Layer | None
    meta: dict
    arrays: dict[str, np.ndarray]


def load(path: Any) -> Checkpoint:
    """Read a checkpoint file, or the newest checkpoint in a directory."""
    read_archive, net_from_archive = archive("read_archive"), archive("net_from_archive")
    path = _newest(os.fspath(path))
    meta, arrays = read_archive(path, HEAD)
    if meta.get("kind") != KIND or not isinstance(meta.get("checkpoint"), dict):
        raise TrainingError(HEAD, f'"{path}" is not a training checkpoint (it holds '
                            f"{meta.get('kind')!r}); ResumeFrom expects a file written by "
                            "TrainingProgressCheckpointing.")

    def part(prefix: str, m: Any) -> Layer | None:
        if m is None:
            return None
        sub = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        return net_from_archive(m, sub, HEAD)
    net = part("net/", meta["net"])
    return Checkpoint(path, net, part("best/", meta.get("best")), meta, arrays)  # type: ignore


def _newest(path: str) -> str:
    if not os.path.isdir(path):
        return path
    names = sorted(n for n in os.listdir(path) if n.endswith(SUFFIX) and not n.startswith("."))
    if not names:
        raise TrainingError(HEAD, f'the directory "{path}" holds no checkpoint to resume from.')
    return os.path.join(path, names[-1])


def restore(ck: Checkpoint, loop: Any) -> tuple[int, int]:
    """Put the trainer, history and loop back where the checkpoint left them; returns the
    (round, batch) to continue from."""
    t, h, c = loop.t, loop.h, ck.meta["checkpoint"]
    if c["batches_per_round"] != t.bpr:
        raise TrainingError(HEAD, f'the checkpoint "{ck.path}" was written with '
                            f"{c['batches_per_round']} batches per round, but this run has "
                            f"{t.bpr}; resume with the same data, BatchSize and options.")
    _restore_optimizer(t, c["optimizer"], ck.arrays)
    t.batches = int(c["batches"])
    t.states = {t.keys[k[len("states/"):]]: torch.from_numpy(v.copy()).to(
        device=t.spec.device, dtype=t.spec.dtype)
        for k, v in ck.arrays.items() if k.startswith("states/")}
    t.rng_state = torch.from_numpy(ck.arrays["rng/torch"].copy())
    for k in HISTORY_LISTS:
        vals = ck.arrays[f"history/{k}"].tolist()
        setattr(h, k, [int(v) for v in vals] if k == "validation_rounds" else vals)
    for k, v in c["history"].items():
        if k not in ("batches_per_round", "total_rounds", "batch_size", "reason"):
            setattr(h, k, v)
    h.start = time.perf_counter()
    loop.best_net = ck.best
    best = c.get("best_score", [c.get("best_loss")])  # "best_loss": older checkpoints
    loop.best_score = tuple(math.inf if x is None else x for x in best)
    loop.stopping.best, loop.stopping.bad = c["stopping"]["best"], c["stopping"]["bad"]
    _restore_measurements(c.get("measurements"), h, loop)   # absent in older checkpoints
    return h.round, h.batch


def _restore_measurements(m: dict | None, h: History, loop: Any) -> None:
    """The measurement history (round, validation and per-batch lists) of the run so far."""
    if not m:
        return
    h.round_measurements = from_json(m["rounds"])
    h.validation_measurements = from_json(m["validation"])
    lists = _batch_lists(loop)
    for k, vals in from_json(m["batches"]).items():
        if k in lists:
            lists[k][:] = vals


def _restore_optimizer(t: Any, m: dict, arrays: dict[str, np.ndarray]) -> None:
    opt = t.updater.optimizer
    sd = opt.state_dict()
    state: dict[int, dict[str, Any]] = {}
    for key, a in arrays.items():
        if key.startswith("optimizer/"):
            _, pid, name = key.split("/", 2)
            state.setdefault(int(pid), {})[name] = torch.from_numpy(a.copy())
    for pid, vals in m["scalars"].items():
        state.setdefault(int(pid), {}).update(vals)
    if len(m["lr"]) != len(sd["param_groups"]):
        raise TrainingError(HEAD, "the checkpoint's optimizer does not match this run's; "
                            "resume with the same net, Method and LearningRateMultipliers.")
    for g, lr in zip(sd["param_groups"], m["lr"], strict=True):
        g["lr"] = lr
    sd["state"] = state
    opt.load_state_dict(sd)
    t.updater.count = int(m["count"])
