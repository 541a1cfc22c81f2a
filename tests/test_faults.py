"""Faults during training: killed processes, failing callbacks, Ctrl-C, concurrent updates.

Decisions (documented in docs/guide/training.md):

- A process killed while it writes a checkpoint leaves every checkpoint written before it
  complete and loadable (each file is written to a temporary file, then renamed), and
  ``ResumeFrom`` continues from the newest one; the resumed run ends with exactly the
  weights of an uninterrupted run.
- An exception inside a TrainingProgressFunction (or TrainingProgressReporting function,
  or generator) stops training, as an error in WL aborts: NetTrain raises a TrainingError
  that names the function, the round and the batch, chained to the original exception,
  after closing the progress bar and restoring the global torch random state. Its
  ``results`` attribute holds the run so far: "TrainedNet" is the net after the last
  completed batch.
- KeyboardInterrupt (Ctrl-C, or raised by a progress function or a generator) stops
  training like WL's abort: NetTrain returns the current net and results, with
  "ReasonTrainingStopped" "ManualStop".
- TrainerUpdate from several threads loses no update: the updates run one at a time on the
  trainer's worker, so n updates on one batch equal n sequential updates, bit for bit.
"""
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import torch

from netgraph import *  # noqa: F403
from netgraph.io.archive import read_archive
from netgraph.train import checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = {"TrainingProgressReporting": None}
X = np.random.default_rng(0).normal(size=(16, 3))
DATA = {"Input": X, "Output": X.sum(1)}


def net():
    return NetChain([LinearLayer(8), Tanh, LinearLayer()], Input=3, Output="Real")


def weights(n):
    return {k: np.array(v) for k, v in Information(n, "Arrays").items()}


def same(a, b):
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


# -- a process killed while it writes checkpoints -------------------------------------------
# A server process imports netgraph once, then forks one training process per request (no
# torch op runs before a fork), prints its pid and, once it is gone, the signal that ended
# it; the test SIGKILLs the training process. Each run resumes from what the killed ones left.
SERVER = textwrap.dedent("""
    import os, sys
    import numpy as np
    import torch._dynamo               # what the first torch optimizer imports: once, here
    import netgraph.train.nettrain     # noqa: F401
    from netgraph import *
    d, f = sys.argv[1], sys.argv[2]

    def train():
        X = np.random.default_rng(0).normal(size=(64, 64))
        data = {"Input": X, "Output": X[:, :32]}
        net = NetChain([LinearLayer(256), Tanh, LinearLayer(32)], Input=64)
        resume = {"ResumeFrom": d} if any(n.endswith(".netgraph") for n in os.listdir(d)) else {}
        NetTrain(net, data, BatchSize=16, MaxTrainingRounds=ROUNDS,
                 TrainingProgressReporting=None,
                 TrainingProgressCheckpointing=[("Directory", d, {"Interval": (1, "Batches")}),
                                                ("File", f, {"Interval": (1, "Batches")})],
                 **resume)

    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            try:
                train()
            finally:
                os._exit(0)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1, flush=True)
""")
ROUNDS = 40   # 4 batches a round: long enough that every kill lands before the run ends


def _checkpoints(d):
    return sorted(n for n in os.listdir(d) if n.endswith(".netgraph") and not n.startswith("."))


def _temporaries(*folders):
    return [n for d in folders for n in os.listdir(d) if n.endswith(".tmp")]


def _kill_while_training(server, d, f, rng, mid_write):
    """Start a training process and SIGKILL it after its first new checkpoint: as soon as
    the next one is being written (``mid_write``), else at a random moment."""
    before = set(_checkpoints(d))
    server.stdin.write("train\n")
    server.stdin.flush()
    pid = int(server.stdout.readline())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if set(_checkpoints(d)) - before and os.path.exists(f):
            if not mid_write:
                time.sleep(rng.uniform(0.0, 0.3))
                break
            if _temporaries(d, os.path.dirname(f)):
                break
        time.sleep(0.0005)
    os.kill(pid, signal.SIGKILL)
    ended = server.stdout.readline().strip()
    assert ended == str(int(signal.SIGKILL)), "the training process ended before it was killed"


def test_a_killed_process_leaves_loadable_checkpoints(tmp_path):
    d, f = str(tmp_path / "ck"), str(tmp_path / "last.netgraph")
    os.makedirs(d)
    script = str(tmp_path / "server.py")
    with open(script, "w") as fh:
        fh.write(SERVER.replace("ROUNDS", str(ROUNDS)))
    with subprocess.Popen([sys.executable, script, d, f], cwd=ROOT, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT},
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as server:
        try:
            _kill_several_times(server, d, f)
        except BaseException:
            server.kill()
            raise
        finally:
            server.stdin.close()    # the server ends with its input
    _resume_ends_as_an_uninterrupted_run(d)


def _kill_several_times(server, d, f):
    """Kill while a checkpoint is being written (retried in the rare case the write ended
    before the signal landed), then at random moments; every time, each complete
    checkpoint loads, and so do the newest one and the overwritten file."""
    rng = random.Random(1234)
    plan, leftovers = [True] * 4 + [False] * 2, 0
    while plan:
        mid_write = plan.pop(0)
        _kill_while_training(server, d, f, rng, mid_write)
        found = len(_temporaries(d, os.path.dirname(f)))
        leftovers += found
        if mid_write and found:
            plan = [p for p in plan if not p]
        names = _checkpoints(d)
        assert names, "no checkpoint was written"
        for n in names:
            meta, _ = read_archive(os.path.join(d, n))
            assert meta["kind"] == "TrainingCheckpoint"
        ck = checkpoint.load(d)                  # the newest, as ResumeFrom picks it
        assert ck.net.is_initialized() and ck.path.endswith(names[-1])
        assert checkpoint.load(f).net.is_initialized()
    assert leftovers >= 1, "no kill landed while a checkpoint was being written"


def _resume_ends_as_an_uninterrupted_run(d):
    """The killed runs resumed from each other; one more resume finishes the run, and ends
    where an uninterrupted run ends."""
    x = np.random.default_rng(0).normal(size=(64, 64))
    data = {"Input": x, "Output": x[:, :32]}
    big = NetChain([LinearLayer(256), Tanh, LinearLayer(32)], Input=64)
    opts = {"BatchSize": 16, "MaxTrainingRounds": ROUNDS, **QUIET}
    done = checkpoint.load(d).meta["checkpoint"]["batches"]
    resumed = NetTrain(big, data, All, ResumeFrom=d, **opts)
    assert done > 0 and resumed["TotalBatches"] == 4 * ROUNDS
    assert len(resumed["BatchLossList"]) == 4 * ROUNDS
    assert same(resumed["TrainedNet"], NetTrain(big, data, **opts))


# -- an exception in a progress function ----------------------------------------------------
def _stop_at(k):
    return (lambda info: "StopTraining" if info["AbsoluteBatch"] >= k else None,
            {"Interval": (1, "Batches")})


def _fail_at(k, exc):
    def f(info):
        if info["AbsoluteBatch"] >= k:
            raise exc
    return (f, {"Interval": (1, "Batches")})


def test_an_error_in_the_progress_function_stops_training_cleanly(tmp_path):
    from tqdm import tqdm
    d = str(tmp_path / "ck")
    torch.manual_seed(7)
    state = torch.get_rng_state()
    opts = {"BatchSize": 4, "MaxTrainingRounds": 5}
    with pytest.raises(TrainingError, match=r"NetTrain: the TrainingProgressFunction raised "
                       r"ZeroDivisionError: boom \(round 2, batch 2\); training stopped") as info:
        NetTrain(net(), DATA, TrainingProgressFunction=_fail_at(6, ZeroDivisionError("boom")),
                 TrainingProgressReporting="ProgressIndicator",
                 TrainingProgressCheckpointing=("Directory", d), **opts)
    err = info.value
    assert isinstance(err.__cause__, ZeroDivisionError)          # the original is kept
    assert not list(tqdm._instances)                             # the bar was closed
    assert torch.equal(torch.get_rng_state(), state)             # the user's RNG is back
    results = err.results                                        # the run so far
    assert results["TotalBatches"] == 6 and "ZeroDivisionError" in results[
        "ReasonTrainingStopped"]
    stopped = NetTrain(net(), DATA, TrainingProgressFunction=_stop_at(6), **opts, **QUIET)
    assert same(results["TrainedNet"], stopped)                  # the last good net
    assert checkpoint.load(d).net.is_initialized()               # round 1's checkpoint
    assert NetTrain(net(), DATA, All, ResumeFrom=d, **opts, **QUIET)["TotalBatches"] == 20


def test_an_error_in_a_reporting_function_names_it():
    def report(info):
        raise RuntimeError("no screen")
    with pytest.raises(TrainingError, match=r"the TrainingProgressReporting raised "
                       r"RuntimeError: no screen \(round 1, batch 4\)"):
        NetTrain(net(), DATA, BatchSize=4, MaxTrainingRounds=2,
                 TrainingProgressReporting=report)


# -- KeyboardInterrupt ----------------------------------------------------------------------
def test_keyboard_interrupt_in_the_progress_function_returns_the_net_so_far():
    opts = {"BatchSize": 4, "MaxTrainingRounds": 5, **QUIET}
    r = NetTrain(net(), DATA, All, TrainingProgressFunction=_fail_at(6, KeyboardInterrupt),
                 **opts)
    assert r["ReasonTrainingStopped"] == "ManualStop"
    assert r["TotalBatches"] == 6 and len(r["RoundLossList"]) == 1
    stopped = NetTrain(net(), DATA, TrainingProgressFunction=_stop_at(6), **opts)
    assert same(r["TrainedNet"], stopped)


def test_keyboard_interrupt_in_a_generator_returns_the_net_so_far():
    def gen(info):
        if info["AbsoluteBatch"] > 5:
            raise KeyboardInterrupt
        x = np.random.default_rng(info["AbsoluteBatch"]).normal(size=(4, 3))
        return {"Input": x, "Output": x.sum(1)}
    trained, reason, total = NetTrain(
        net(), (gen, {"RoundLength": 8}), ["TrainedNet", "ReasonTrainingStopped",
                                           "TotalBatches"],
        BatchSize=4, MaxTrainingRounds=5, **QUIET)
    assert reason == "ManualStop" and total == 5 and trained.is_initialized()


def test_a_real_sigint_stops_training_like_an_abort():
    def interrupt(info):
        if info["AbsoluteBatch"] == 3:
            signal.raise_signal(signal.SIGINT)   # Python's handler: KeyboardInterrupt
    # A shell starts background jobs with SIGINT ignored: put Python's handler in place.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        r = NetTrain(net(), DATA, All, BatchSize=4, MaxTrainingRounds=5, **QUIET,
                     TrainingProgressFunction=(interrupt, {"Interval": (1, "Batches")}))
    finally:
        signal.signal(signal.SIGINT, before)
    assert r["ReasonTrainingStopped"] == "ManualStop" and r["TotalBatches"] == 3


# -- TrainerUpdate from several threads -----------------------------------------------------
def _trainer():
    return NetTrain(net(), DATA, "$Trainer", BatchSize=8, MaxTrainingRounds=1, **QUIET,
                    TrainingProgressFunction=lambda info: "StopTraining")


def test_concurrent_updates_lose_nothing():
    threaded, sequential = _trainer(), _trainer()
    start = threaded["AbsoluteBatch"]
    batch = {"Input": X[:8], "Output": X[:8].sum(1)}
    barrier = threading.Barrier(4)
    errors = []

    def work():
        try:
            barrier.wait()
            for _ in range(10):
                TrainerUpdate(threaded, batch)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert threaded["AbsoluteBatch"] == start + 40
    for _ in range(40):
        TrainerUpdate(sequential, batch)
    assert TrainerCurrentLoss(threaded) == TrainerCurrentLoss(sequential)
    assert same(threaded["Net"], sequential["Net"])


def test_readers_and_writers_together():
    trainer = _trainer()
    start = trainer["AbsoluteBatch"]
    batch = {"Input": X[:8], "Output": X[:8].sum(1)}
    seen = []

    def write():
        for _ in range(10):
            TrainerUpdate(trainer, batch)

    def read():
        for _ in range(10):
            seen.append(trainer["AbsoluteBatch"])
            assert np.isfinite(TrainerCurrentLoss(trainer)["OutputLoss"])
            assert trainer["Net"].is_initialized()
    threads = [threading.Thread(target=f) for f in (write, write, read, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert trainer["AbsoluteBatch"] == start + 20
    assert all(start <= s <= start + 20 for s in seen)
