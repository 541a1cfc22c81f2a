"""Fuzzing Import: malformed .netgraph files must be refused with a NetImportError, nothing else.

A coverage-guided run with atheris (libFuzzer) for a bounded time, from a seed corpus of
valid files of several nets that the script writes itself. Besides libFuzzer's byte-level
mutations, a structure-aware mutator rewrites the parts of a file: the zip (members added,
dropped, renamed, duplicated, compressed otherwise, declared sizes tampered with,
truncated), the JSON metadata (values replaced, keys dropped, subtrees spliced, heads and
tags swapped for other valid ones, deep nesting, huge numbers and strings) and the
safetensors header (dtypes, shapes, offsets, names, header length).

Each input is written to a file and imported. It is a **crash** when Import raises anything
but a NetGraphError (NetImportError included), takes longer than ``--hang`` seconds, or
raises the peak resident memory by more than ``--memory`` MiB. A file that imports is then
shown (repr), asked for its arrays, and evaluated (on zeros, or the lowest index) when it is
initialized and small: those stages may raise NetGraphErrors only. The first input of each
kind of crash (stage, exception type, innermost netgraph frame) is saved under ``--crashes``
with its traceback. The address space is capped (``--address-space``) so that a blow-up
raises MemoryError instead of calling in the machine's OOM killer. Kinds start with the
stage: "Import-..." are Import's own; "use-..." come after a successful Import (a net that
imports may still legitimately ask for endless work, e.g. a NetNestOperator of 10**9 steps).

    .venv/bin/python benchmarks/fuzz_import.py [seconds=60] [--crashes DIR] [--engine random]

``--engine random`` (the default when atheris is not installed) mutates without coverage
feedback, keeping inputs that give a new kind of error message. Exit status 1 when a crash
was found.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import random
import resource
import signal
import sys
import tempfile
import time
import traceback
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

META, ARRAYS = "netgraph.json", "arrays.safetensors"
Mutator = Callable[[bytes, int], bytes]


# -- seeds ------------------------------------------------------------------------------
def seed_nets() -> dict[str, Any]:
    """Small nets of several families and one of every layer head, initialized and not."""
    import netgraph as ng
    from netgraph import NetChain, NetGraph, NetInitialize, NetPort, Plus, Ramp, Tanh
    from netgraph.layers.operators import RecurrentStep
    nets = {
        "graph": NetGraph({"a": ng.LinearLayer(3), "b": ng.ElementwiseLayer(Tanh),
                           "t": ng.ThreadingLayer(Plus), "c": ng.CatenateLayer()},
                          [(NetPort("X"), "a", "b"), (["a", "b"], "t"),
                           (["t", NetPort("Y")], "c")], X=2, Y=3),
        "lstm": NetChain([ng.LongShortTermMemoryLayer(3), ng.SequenceLastLayer(),
                          ng.LinearLayer(2)], Input=("Varying", 2)),
        "conv": NetChain([ng.ConvolutionLayer(2, 3), ng.BatchNormalizationLayer(),
                          ng.PoolingLayer(2), ng.FlattenLayer(), ng.LinearLayer(2)],
                         Input=(1, 6, 6)),
        "embed": NetChain([ng.EmbeddingLayer(3, 5), ng.SequenceLastLayer(), ng.LinearLayer(2)],
                          Input="Varying"),
        "loss": NetGraph({"net": NetChain([ng.LinearLayer(3), ng.SoftmaxLayer()]),
                          "loss": ng.CrossEntropyLossLayer("Index")},
                         [("net", NetPort("loss", "Input"))], Input=2),
        # one of every head, shapes known (as tests/test_io_netfile.py's samples)
        "LinearLayer": ng.LinearLayer(3, Input=2),
        "ElementwiseLayer": ng.ElementwiseLayer(Tanh, Input=3),
        "ThreadingLayer": ng.ThreadingLayer(Plus, InputPorts=2, Input1=3),
        "SoftmaxLayer": ng.SoftmaxLayer(Input=4),
        "GatedRecurrentLayer": ng.GatedRecurrentLayer(2, Input=(4, 3)),
        "BasicRecurrentLayer": ng.BasicRecurrentLayer(2, Input=("Varying", 1)),
        "SequenceMostLayer": ng.SequenceMostLayer(Input=(3, 2)),
        "SequenceRestLayer": ng.SequenceRestLayer(Input=(3, 2)),
        "SequenceReverseLayer": ng.SequenceReverseLayer(Input=("Varying", 2)),
        "MeanSquaredLossLayer": ng.MeanSquaredLossLayer(Input=3),
        "MeanAbsoluteLossLayer": ng.MeanAbsoluteLossLayer(Input=3),
        "ContrastiveLossLayer": ng.ContrastiveLossLayer(0.5, Input="Real"),
        "DropoutLayer": ng.DropoutLayer(0.2, Input=3),
        "NormalizationLayer": ng.NormalizationLayer(Input=(2, 3)),
        "DeconvolutionLayer": ng.DeconvolutionLayer(2, 2, Stride=2, Input=(3, 2, 2)),
        "AttentionLayer": ng.AttentionLayer("Dot", Key=("Varying", 3), Value=("Varying", 5),
                                            Query=3),
        "AppendLayer": ng.AppendLayer(Input=3),
        "PrependLayer": ng.PrependLayer(Input=("Varying", 2)),
        "ReplicateLayer": ng.ReplicateLayer(3, 2, Input=(2, 4)),
        "PaddingLayer": ng.PaddingLayer([(1, 2)], Input=3),
        "ReshapeLayer": ng.ReshapeLayer((2, ng.Automatic), Input=6),
        "TransposeLayer": ng.TransposeLayer((1, 3), Input=(1, 2, 3)),
        "PartLayer": ng.PartLayer(ng.Span(2, -1), Input=5),
        "TotalLayer": ng.TotalLayer(InputPorts=3, Output=2),
        "DotLayer": ng.DotLayer(InputPorts=[(2, 3), 3]),
        "AggregationLayer": ng.AggregationLayer(ng.Max, Input=(2, 3)),
        "SummationLayer": ng.SummationLayer(Input=(2, 2)),
        "NetArrayLayer": ng.NetArrayLayer(Array=[[1.0, 2.0], [3.0, 4.0]]),
        "NetMapOperator": ng.NetMapOperator(ng.LinearLayer(2), Input=(4, 3)),
        "NetMapThreadOperator": ng.NetMapThreadOperator(
            ng.ThreadingLayer(Plus, InputPorts=2, Input1=2)),
        "NetNestOperator": ng.NetNestOperator(ng.LinearLayer(3, Input=3), 4),
        "NetBidirectionalOperator": ng.NetBidirectionalOperator(ng.GatedRecurrentLayer(3),
                                                                Input=("Varying", 2)),
        "NetFoldOperator": ng.NetFoldOperator(NetGraph(
            {"s": ng.ThreadingLayer(Plus),
             "f": NetGraph([ng.LinearLayer(2), Tanh], [(NetPort("Input"), 1), (1, 2)],
                           Input=3)},
            [(NetPort("Input"), "f"), (["f", NetPort("State")], "s")])),
        "RecurrentStep": RecurrentStep("LongShortTermMemoryLayer", 2, Input=3),
    }
    out = {k: NetInitialize(v, RandomSeeding=1) for k, v in nets.items()}
    out["uninitialized"] = NetChain([ng.LinearLayer(5), Ramp, ng.LinearLayer(1)], Input=4)
    return out


def write_seeds(folder: str) -> list[bytes]:
    from netgraph import Export
    seeds = []
    for name, net in seed_nets().items():
        path = os.path.join(folder, f"seed-{name}.netgraph")
        Export(path, net)
        with open(path, "rb") as f:
            seeds.append(f.read())
    return seeds


# -- the structure-aware mutator ----------------------------------------------------------
def split_archive(data: bytes) -> tuple[bytes, bytes] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read(META), z.read(ARRAYS)
    except Exception:  # noqa: BLE001 - any unreadable input is mutated as bytes
        return None


def build_zip(members: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as z:
        warnings.simplefilter("ignore")   # a member twice is what we want here
        for name, data, method in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)
    return buf.getvalue()


def _nested(rng: random.Random) -> Any:
    depth = rng.choice([10, 200, 900, 2000, 50_000])
    v: Any = 0
    for _ in range(depth):
        v = [v] if rng.random() < 0.5 else {"a": v}
    return v


def random_value(rng: random.Random, doc: Any) -> Any:
    from netgraph.io.registry import layer_registry
    choices: list[Callable[[], Any]] = [
        lambda: None, lambda: True, lambda: False, lambda: 0, lambda: -1, lambda: 1,
        lambda: rng.randint(-5, 5), lambda: 2**31, lambda: 2**63, lambda: 10**30,
        lambda: -10**20, lambda: 0.5, lambda: math.nan, lambda: math.inf, lambda: -math.inf,
        lambda: 1e308, lambda: "", lambda: "x", lambda: "Varying", lambda: "Real",
        lambda: "Integer", lambda: "Input", lambda: "Output", lambda: "1/Weights",
        lambda: "\u0000\ud7ff\u00e9", lambda: "a" * rng.choice([100, 10_000, 1_000_000]),
        lambda: [], lambda: {}, lambda: [1, 2, 3], lambda: [0] * rng.choice([10, 100_000]),
        lambda: {"$symbol": rng.choice(["Automatic", "All", "Tanh", "Plus", "x", "1"])},
        lambda: {"$varying": True}, lambda: {"$scaled": rng.choice([0, -1, "x", None, []])},
        lambda: {"$restricted": rng.choice([[0, 5], [5, 0], 3, None, ["a"], [0, 10**40]])},
        lambda: {"$port": rng.choice([[None, "Input"], ["1", "Output"], ["9", "x"], [1, 2]])},
        lambda: {"$netport": rng.choice([["Input"], [1, "Output"], [], [None], [[1]]])},
        lambda: {"$type": {"dims": rng.choice([None, [], [3], [0], [-1], ["Varying", 2],
                                               [10**12, 10**12]]),
                           "kind": rng.choice([None, "Real", "Integer", "x"]),
                           "bound": rng.choice([None, [0, 3], [3, 0]])}},
        lambda: {"$list": [1, 2]}, lambda: {"$set": [[1], [1]]},
        lambda: {"$dict": [[1, 2], [1, 3]]}, lambda: {"$array": rng.choice(["1/Weights", 3])},
        lambda: {"$dataclass": rng.choice(["Span", "ArraySpec", "Nope"]),
                 "fields": rng.choice([{}, {"x": 1}, {"start": 1, "stop": 0}])},
        lambda: {"$layer": rng.choice(_subtrees(doc, "head") or [{}])},
        lambda: {"head": rng.choice(sorted(layer_registry())), "params": {}, "inputs": {},
                 "outputs": {}, "arrays": {}},
        lambda: _nested(rng),
        lambda: rng.choice(_subtrees(doc)),   # splice a piece of the same file
    ]
    return rng.choice(choices)()


def _subtrees(doc: Any, key: str | None = None) -> list[Any]:
    out, stack = [], [doc]
    while stack and len(out) < 5000:
        v = stack.pop()
        if key is None or (isinstance(v, dict) and key in v):
            out.append(v)
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


def mutate_json(rng: random.Random, doc: Any) -> Any:
    """One edit at a random place in the JSON tree (in place where possible)."""
    from netgraph.io.registry import layer_registry
    spots = [v for v in _subtrees(doc) if isinstance(v, (dict, list)) and v]
    if not spots:
        return random_value(rng, doc)
    at = rng.choice(spots)
    key = rng.choice(list(at)) if isinstance(at, dict) else rng.randrange(len(at))
    op = rng.randrange(8)
    if op == 0 and isinstance(at, dict):
        del at[key]
    elif op == 0:
        at.pop(key)
    elif op == 1 and isinstance(at, dict) and "head" in at:
        at["head"] = rng.choice(sorted(layer_registry()))
    elif op == 2 and isinstance(at[key], int) and not isinstance(at[key], bool):
        at[key] = rng.choice([at[key] + 1, at[key] - 1, -at[key], 0, at[key] * 1000])
    elif op == 3 and isinstance(at, dict):
        at[rng.choice(["$list", "$x", "extra", "Input", "Output2", "1", str(key) + "x"])] = (
            at[key])
    elif op == 4 and isinstance(at, dict) and len(at) > 1:
        a, b = rng.sample(list(at), 2)
        at[a], at[b] = at[b], at[a]
    elif op == 5 and isinstance(at, list):
        at.insert(rng.randrange(len(at) + 1), rng.choice(at))
    else:
        at[key] = random_value(rng, doc)
    return doc


def mutate_meta(rng: random.Random, meta: bytes, raw: Mutator) -> bytes:
    r = rng.random()
    if r < 0.2:
        return raw(meta, len(meta) * 2 + 64)
    try:
        doc = json.loads(meta)
    except (ValueError, RecursionError):
        return raw(meta, len(meta) * 2 + 64)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        doc = mutate_json(rng, doc)
    try:
        text = json.dumps(doc)
    except (ValueError, RecursionError):
        return meta
    if r < 0.3:   # a key twice in one object, which json.dumps cannot write
        text = text.replace('{"', '{"format": 1, "', 1)
    return text.encode("utf-8", "surrogatepass")


def split_safetensors(data: bytes) -> tuple[dict, bytes] | None:
    if len(data) < 8:
        return None
    n = int.from_bytes(data[:8], "little")
    try:
        header = json.loads(data[8:8 + n])
    except (ValueError, RecursionError):
        return None
    return (header, data[8 + n:]) if isinstance(header, dict) else None


def join_safetensors(header: Any, body: bytes, rng: random.Random) -> bytes:
    text = json.dumps(header).encode()
    n = len(text)
    if rng.random() < 0.1:
        n = rng.choice([n + 1, n - 1, 0, 2**63, 2**40, len(text) + len(body) + 8])
    return (n % 2**64).to_bytes(8, "little") + text + body


def mutate_safetensors(rng: random.Random, data: bytes, raw: Mutator) -> bytes:
    parts = split_safetensors(data)
    if parts is None or rng.random() < 0.15:
        return raw(data, len(data) * 2 + 64)
    header, body = parts
    names = [k for k in header if k != "__metadata__"]
    op = rng.randrange(10)
    if not names or op == 0:
        header[rng.choice(["__metadata__", "", "x", "1/Weights"])] = random_value(rng, header)
    elif op == 1:
        body = raw(body, len(body) * 2 + 16)
    elif op == 2:
        body = body[:rng.randrange(len(body) + 1)] if rng.random() < 0.7 else body + bytes(9)
    elif op == 3:
        header[rng.choice(names)]["dtype"] = rng.choice(
            ["F16", "F32", "F64", "I8", "I64", "U8", "BOOL", "BF16", "F8_E4M3", "x", 3])
    elif op == 4:
        header[rng.choice(names)]["shape"] = rng.choice(
            [[], [0], [1], [-1], [2**62, 0], [0, 10**30], [3, 2], ["3"], [True], None, [1] * 70])
    elif op == 5:
        e = header[rng.choice(names)]
        e["data_offsets"] = rng.choice([[0, 0], [0, len(body)], [len(body), 0], [-4, 4],
                                        [0, len(body) + 4], [1, 5], [0.0, 4.0], [0], None])
    elif op == 6 and len(names) > 1:
        a, b = rng.sample(names, 2)
        header[a], header[b] = header[b], header[a]
    elif op == 7:
        header[rng.choice(names) + rng.choice(["~2", "/x", ""])] = header.pop(rng.choice(names))
    elif op == 8:
        del header[rng.choice(names)]
    else:
        return raw(data, len(data) * 2 + 64)
    return join_safetensors(header, body, rng)


def mutate_zip(rng: random.Random, meta: bytes, arrays: bytes) -> bytes:
    """Container-level edits: members, names, methods, declared sizes, truncation."""
    members = [(META, meta, zipfile.ZIP_DEFLATED), (ARRAYS, arrays, zipfile.ZIP_STORED)]
    op = rng.randrange(8)
    if op == 0:
        members.append((rng.choice(["../evil", "/abs", "C:x", "a\\b", "extra.txt", META,
                                    ARRAYS, "dir/"]), b"x" * rng.choice([0, 10, 10**6]),
                        zipfile.ZIP_DEFLATED))
    elif op == 1:
        members.pop(rng.randrange(2))
    elif op == 2:
        i = rng.randrange(2)
        members[i] = (members[i][0], members[i][1],
                      rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                  zipfile.ZIP_LZMA]))
    elif op == 3:
        members.reverse()
    elif op == 4:   # a bomb: a tiny deflated member that expands a lot
        members[0] = (META, meta + b" " * rng.choice([2**20, 2**23]), zipfile.ZIP_DEFLATED)
    data = bytearray(build_zip(members))
    if op == 5:     # tamper with a declared size or method field in a zip header
        sig = rng.choice([b"PK\x03\x04", b"PK\x01\x02"])
        at = data.find(sig)
        if at >= 0:
            field = rng.choice([8, 10, 18, 22, 24] if sig == b"PK\x03\x04" else [10, 20, 24, 28])
            size = 2 if field in (8, 10, 28) else 4
            value = rng.choice([0, 1, 2**(8 * size) - 1, rng.randrange(2**(8 * size))])
            data[at + field:at + field + size] = value.to_bytes(size, "little")
    elif op == 6:
        data = data[:rng.randrange(len(data))]
    elif op == 7:
        data = bytearray(rng.randbytes(rng.randrange(64))) + data
    return bytes(data)


def mutate(data: bytes, max_size: int, seed: int, raw: Mutator) -> bytes:
    """One structure-aware or byte-level mutation of ``data``, at most ``max_size`` bytes."""
    rng = random.Random(seed)
    parts = split_archive(data)
    try:
        if parts is None or rng.random() < 0.15:
            out = raw(data, max_size)
        else:
            meta, arrays = parts
            kind = rng.randrange(4)
            if kind in (0, 3):
                meta = mutate_meta(rng, meta, raw)
            if kind in (1, 3):
                arrays = mutate_safetensors(rng, arrays, raw)
            out = (mutate_zip(rng, meta, arrays) if kind == 2 else
                   build_zip([(META, meta, zipfile.ZIP_DEFLATED),
                              (ARRAYS, arrays, zipfile.ZIP_STORED)]))
    except (ValueError, TypeError, OverflowError, RecursionError):
        out = raw(data, max_size)
    return out if len(out) <= max_size else raw(data, max_size)


def random_bytes_mutator(rng: random.Random) -> Mutator:
    """Byte-level mutations for the engine without atheris: flips, inserts, cuts, copies."""
    def raw(data: bytes, max_size: int) -> bytes:
        b = bytearray(data)
        for _ in range(rng.choice([1, 1, 2, 4, 16])):
            op = rng.randrange(5)
            i = rng.randrange(len(b) + 1)
            if op == 0 and b:
                b[min(i, len(b) - 1)] ^= 1 << rng.randrange(8)
            elif op == 1:
                b[i:i] = rng.randbytes(rng.randrange(1, 8))
            elif op == 2:
                del b[i:i + rng.randrange(1, 64)]
            elif op == 3 and b:
                j = rng.randrange(len(b))
                b[i:i] = b[j:j + rng.randrange(1, 128)]
            elif b:
                b[min(i, len(b) - 1)] = rng.choice([0, 0xFF, 0x7F, 0x80, ord('"'), ord("{")])
        return bytes(b[:max_size])
    return raw


# -- the target ---------------------------------------------------------------------------
class Hang(BaseException):
    """Raised by the interval timer: a BaseException, so no ``except Exception`` hides it."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang


class Target:
    """Imports one input; records crashes (a kind once), slow inputs and memory jumps."""

    def __init__(self, folder: str, crashes: str, hang_s: float, memory_mb: float,
                 deadline: float) -> None:
        self.path = os.path.join(folder, "input.netgraph")
        self.crashes, self.hang_s, self.deadline = crashes, hang_s, deadline
        self.memory_kb = memory_mb * 1024
        self.kinds: dict[str, str] = {}
        self.messages: set[str] = set()
        self.runs = self.imported = 0
        self.start = time.monotonic()
        self.peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        signal.signal(signal.SIGALRM, _alarm)

    def __call__(self, data: bytes) -> bool:
        """Run one input; True when it gave a new kind of outcome (the random engine's
        feedback)."""
        from netgraph import NetGraphError
        if time.monotonic() > self.deadline:
            self.finish()
        self.runs += 1
        with open(self.path, "wb") as f:
            f.write(data)
        t = time.monotonic()
        stage, new, hung = "Import", False, False
        try:
            signal.setitimer(signal.ITIMER_REAL, self.hang_s if self.hang_s < math.inf else 0)
            try:
                net = self.import_net()
                stage = "use"
                self.use(net)
                self.imported += 1
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except Hang:
            hung = True
            new = self.record(data, f"hang-{stage}", f"over {self.hang_s:.0f} s for one input\n")
        except NetGraphError as e:
            key = _message_shape(str(e))
            new = key not in self.messages
            self.messages.add(key)
            if "MemoryError" in str(e):   # an allocation hit the address-space limit
                new = self.record(data, f"memory-{stage}", str(e)) or new
        except Exception as e:  # noqa: BLE001 - this is what the fuzzer looks for
            new = self.crash(data, stage, e)
        secs = time.monotonic() - t
        if secs > self.hang_s and not hung:   # the timer waits for C code to return
            new = self.record(data, f"slow-{stage}", f"{secs:.1f} s for one input\n") or new
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if peak - self.peak_kb > self.memory_kb:
            new = self.record(data, f"memory-{stage}",
                              f"peak RSS grew by {(peak - self.peak_kb) / 1024:.0f} MiB\n") or new
        self.peak_kb = max(self.peak_kb, peak)
        return new

    def import_net(self) -> Any:
        from netgraph import Import
        return Import(self.path)

    def use(self, net: Any) -> None:
        """What a user does next with an imported net: look at it, evaluate it."""
        import numpy as np

        from netgraph import Information
        repr(net)
        Information(net, "Arrays")
        if not net.is_initialized() or not net.in_types:
            return
        feeds = {}
        for p in net.visible_inputs():   # recurrent states are optional
            t = net.in_types[p]
            shape = tuple(2 if d is None or not isinstance(d, int) else d for d in t.dims or ())
            if math.prod(shape) > 10_000 or len(shape) > 32:   # numpy stops at 64 dims
                return
            if t.kind == "Integer":   # the lowest valid index
                feeds[p] = np.full(shape, t.bound[0] if t.bound else 1, np.int64)
            else:
                feeds[p] = np.zeros(shape, np.float32)
        net(feeds)

    def crash(self, data: bytes, stage: str, e: BaseException) -> bool:
        frames = [f for f in traceback.extract_tb(e.__traceback__) if "netgraph" in f.filename]
        where = (f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames
                 else "outside netgraph")
        kind = f"{stage}-{type(e).__name__}-{where}"
        return self.record(data, kind, "".join(traceback.format_exception(e)))

    def record(self, data: bytes, kind: str, detail: str) -> bool:
        if kind in self.kinds:
            return False
        self.kinds[kind] = detail.strip().splitlines()[-1]
        name = "".join(c if c.isalnum() or c in "-." else "_" for c in kind)
        with open(os.path.join(self.crashes, f"{name}.netgraph"), "wb") as f:
            f.write(data)
        with open(os.path.join(self.crashes, f"{name}.txt"), "w") as f:
            f.write(detail)
        print(f"\nCRASH {kind}: {self.kinds[kind]}", file=sys.stderr, flush=True)
        return True

    def finish(self) -> None:
        secs = time.monotonic() - self.start
        print(f"== fuzz_import: {self.runs} inputs in {secs:.0f} s "
              f"({self.runs / max(secs, 1e-9):.0f}/s), {self.imported} imported, "
              f"{len(self.messages)} kinds of NetGraphError")
        for kind, line in self.kinds.items():
            print(f"  CRASH {kind}: {line}")
        print(f"  {len(self.kinds)} kinds of crash" + (f", inputs in {self.crashes}"
                                                       if self.kinds else ""))
        sys.stdout.flush()
        os._exit(1 if self.kinds else 0)   # libFuzzer must not print its own epilogue


def _message_shape(msg: str) -> str:
    """An error message without its variable parts: the random engine's coverage proxy."""
    words = msg.split(": ", 2)[-1].split()
    return " ".join(w for w in words[:12] if not any(c.isdigit() or c in "\"'" for c in w))


# -- engines ------------------------------------------------------------------------------
def run_atheris(target: Target, corpus: str, seconds: float) -> None:
    import atheris

    def one(data: bytes) -> None:
        target(data)

    def custom(data: bytes, max_size: int, seed: int) -> bytes:
        return mutate(data, max_size, seed, atheris.Mutate)

    argv = [sys.argv[0], f"-max_total_time={int(seconds) + 60}", "-max_len=4000000",
            f"-timeout={int(target.hang_s * 10) + 10}", "-rss_limit_mb=8192", corpus]
    atheris.Setup(argv, one, custom_mutator=custom)
    atheris.Fuzz()


def run_random(target: Target, seeds: list[bytes], seed: int) -> None:
    rng = random.Random(seed)
    raw = random_bytes_mutator(rng)
    corpus = list(seeds)
    for s in seeds:
        target(s)
    while True:
        data = mutate(rng.choice(corpus), 4_000_000, rng.randrange(2**32), raw)
        if target(data) and len(corpus) < 5000:
            corpus.append(data)


def load_netgraph(instrument: bool) -> None:
    """Import netgraph (and zipfile), with atheris's coverage instrumentation if asked."""
    if not instrument:
        import netgraph  # noqa: F401
        return
    import atheris
    with atheris.instrument_imports(include=["netgraph", "zipfile"]):
        import zipfile as _zip  # noqa: F401

        import netgraph  # noqa: F401
        import netgraph.io.archive  # noqa: F401
        import netgraph.io.files  # noqa: F401
        import netgraph.io.netfile  # noqa: F401
        import netgraph.runtime.evaluate  # noqa: F401


def limit_address_space(mib: float) -> None:
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
    limit = int(vm * 1024 + mib * 2**20)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("seconds", nargs="?", type=float, default=60.0)
    ap.add_argument("--crashes", default=None, help="folder for crashing inputs "
                    "(default: a new temporary folder)")
    ap.add_argument("--corpus", default=None, help="folder for the corpus (default: temporary)")
    ap.add_argument("--engine", choices=["atheris", "random"], default=None)
    ap.add_argument("--hang", type=float, default=5.0, help="seconds that count as a hang")
    ap.add_argument("--memory", type=float, default=1024.0, help="MiB of peak RSS growth "
                    "for one input that count as a blow-up")
    ap.add_argument("--address-space", type=float, default=4096.0, help="MiB of address "
                    "space beyond the start's: a blow-up raises MemoryError, not the OOM killer")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "random"
    load_netgraph(engine == "atheris")
    limit_address_space(args.address_space)
    crashes = args.crashes or tempfile.mkdtemp(prefix="fuzz-crashes-")
    corpus = args.corpus or tempfile.mkdtemp(prefix="fuzz-corpus-")
    os.makedirs(crashes, exist_ok=True)
    os.makedirs(corpus, exist_ok=True)
    seeds = write_seeds(corpus)
    work = tempfile.mkdtemp(prefix="fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    print(f"fuzz_import: engine {engine}, {args.seconds:.0f} s, {len(seeds)} seed files",
          file=sys.stderr)
    target = Target(work, crashes, math.inf, args.memory, math.inf)
    for data in seeds:  # warm-up: first imports and evaluations load torch, build caches
        if target(data):
            raise SystemExit("a seed file does not import and evaluate")
    target.hang_s, target.start = args.hang, time.monotonic()
    target.deadline = target.start + args.seconds
    target.runs = target.imported = 0
    if engine == "atheris":
        run_atheris(target, corpus, args.seconds)
    else:
        run_random(target, seeds, args.seed)
    target.finish()


if __name__ == "__main__":
    main()
