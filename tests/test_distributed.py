"""Data-parallel NetTrain under torchrun (netgraph/train/distributed.py).

This file is also the script torchrun runs: ``python -m torch.distributed.run
--nproc_per_node=2 tests/test_distributed.py OUT`` runs every scenario below in two CPU
processes (gloo) and each process saves what it got to ``OUT/rank<r>.npz``. The test runs
the same scenarios in this process alone and compares: BatchSize is the global batch, so the
weights must agree to 1e-5, and both processes must return the very same net.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from netgraph import (
    All,
    Information,
    LinearLayer,
    LongShortTermMemoryLayer,
    NetChain,
    NetGraph,
    NetPort,
    NetTrain,
    OptionError,
    Scaled,
    SequenceLastLayer,
    SoftmaxLayer,
    Tanh,
    TrainerCurrentLoss,
    TrainerUpdate,
    TrainingError,
)
from netgraph.train import distributed
from netgraph.train.distributed import shard_bounds, world_size
from netgraph.train.options import parse_options

QUIET = {"TrainingProgressReporting": None}


def arrays(prefix: str, net) -> dict[str, np.ndarray]:
    return {f"{prefix}/{'/'.join(map(str, k))}": np.asarray(v)
            for k, v in Information(net, "Arrays").items()}


# -- scenarios: each returns {name: array}; run alike in one process and in two ----------
def classifier(out: Path) -> dict[str, np.ndarray]:
    """Shuffled batches of 7 (shares of 4 and 3; the last batch has 1 row, so one process
    trains on an empty share), a validation set, ADAM."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(45, 4))
    y = 1 + (x[:, 0] > 0) + (x[:, 1] > 0.5)
    net = NetChain([LinearLayer(6), Tanh, LinearLayer(3), SoftmaxLayer()], Input=4)
    r = NetTrain(net, {"Input": x, "Output": y}, All, BatchSize=7, MaxTrainingRounds=3,
                 ValidationSet=Scaled(0.2), **QUIET)
    return {**arrays("classifier", r["TrainedNet"]),
            "classifier/batch_losses": np.array(r["BatchLossList"]),
            "classifier/validation": np.array(r["ValidationLossList"])}


def weighted() -> object:
    """Three outputs: a loss, an auxiliary loss of weight 0.5 and a branch of weight 0 (its
    arrays get no gradient)."""
    return NetGraph({"a": LinearLayer(5), "t": Tanh, "out": LinearLayer(),
                     "aux": LinearLayer(), "side": LinearLayer(2)},
                    [(NetPort("Input"), "a", "t", "out", NetPort("Output")),
                     ("t", "aux", NetPort("Aux")), (NetPort("Input"), "side", NetPort("Side"))],
                    Input=3, Output="Real", Aux="Real")


def custom_loop(out: Path) -> dict[str, np.ndarray]:
    """The "$Trainer" driven by hand on the global batches of the "$TrainingGenerator"."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 3))
    data = {"Input": x, "Output": x.sum(1), "Aux": x[:, 0], "Side": x[:, :2]}
    trainer, (gen, nmax) = NetTrain(
        weighted(), data, {"Output": Scaled(1), "Aux": Scaled(0.5), "Side": Scaled(0)},
        ["$Trainer", "$TrainingGenerator"], BatchSize=6, Method="SGD", MaxTrainingRounds=2,
        TrainingProgressFunction=lambda info: "StopTraining", **QUIET)
    for i in (1, 2, 3, 4, 2):
        TrainerUpdate(trainer, gen(i))
    loss = TrainerCurrentLoss(trainer)
    return {**arrays("custom", trainer["Net"]),
            "custom/losses": np.array([loss[k] for k in sorted(loss)])}


def stateful(out: Path) -> dict[str, np.ndarray]:
    """StateTransfer: 5 streams (shares of 2 and 3 rows) carried from batch to batch."""
    series = np.cumsum(np.random.default_rng(2).integers(-1, 2, 61)).astype(float)
    net = NetGraph([LongShortTermMemoryLayer(3), SequenceLastLayer(), LinearLayer()],
                   [(NetPort("InitialState"), NetPort(1, "State")),
                    (NetPort("InitialCellState"), NetPort(1, "CellState")),
                    (NetPort(1, "State"), NetPort("FinalState")),
                    (NetPort(1, "CellState"), NetPort("FinalCellState")), (1, 2, 3)],
                   Input=(1, 1), Output="Scalar")
    r = NetTrain(net, {"Input": series[:-1].reshape(-1, 1, 1), "Output": series[1:]}, All,
                 StateTransfer={"FinalState": "InitialState",
                                "FinalCellState": "InitialCellState"},
                 BatchSize=5, MaxTrainingRounds=2, **QUIET)
    return {**arrays("stateful", r["TrainedNet"]),
            "stateful/batch_losses": np.array(r["BatchLossList"])}


def generated(out: Path) -> dict[str, np.ndarray]:
    """A generator function that gives the same batch for the same info in every process."""
    def batches(info):
        x = np.random.default_rng(info["AbsoluteBatch"]).normal(size=(info["BatchSize"], 2))
        return {"Input": x, "Output": x @ [1.0, -2.0]}
    net = NetTrain(LinearLayer(), (batches, {"RoundLength": 24}), BatchSize=6,
                   MaxTrainingRounds=2, **QUIET)
    return arrays("generated", net)


def rank_zero_only(out: Path) -> dict[str, np.ndarray]:
    """Only rank 0 calls the progress function and writes checkpoints; its "StopTraining"
    stops every process."""
    calls = []

    def progress(info):
        calls.append(info["Round"])
        return "StopTraining" if info["Round"] >= 2 else None
    ckpt = out / "ckpt"
    x = np.linspace(-1, 1, 16)
    r = NetTrain(LinearLayer(), {"Input": x, "Output": 3 * x}, All, BatchSize=4,
                 MaxTrainingRounds=5, TrainingProgressFunction=progress,
                 TrainingProgressCheckpointing=("Directory", str(ckpt)), **QUIET)
    return {"rank0/calls": np.array(len(calls)), "rank0/rounds": np.array(r["TotalRounds"]),
            "rank0/files": np.array(len(list(ckpt.iterdir())))}


def measured(out: Path) -> dict[str, np.ndarray]:
    """Training measurements are each process's share of every batch summed over the
    processes (batches of 7: one process's share of the last is empty), so they equal one
    process's; validation runs whole in every process."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(45, 4))
    y = 1 + (x[:, 0] > 0) + (x[:, 1] > 0.5)
    net = NetChain([LinearLayer(6), Tanh, LinearLayer(3), SoftmaxLayer()], Input=4)
    r = NetTrain(net, {"Input": x, "Output": y}, All, BatchSize=7, MaxTrainingRounds=2,
                 ValidationSet=Scaled(0.2), **QUIET,
                 TrainingProgressMeasurements=["Accuracy", "ConfusionMatrix",
                                               {"Measurement": NetPort("Output"),
                                                "Aggregation": "Total"}])
    rounds, val = r["RoundMeasurementsLists"], r["ValidationMeasurementsLists"]
    return {"measured/confusion": np.array(rounds["ConfusionMatrix"]),
            "measured/accuracy": np.array(rounds["Accuracy"]),
            "measured/output": np.array(rounds["Output"]),
            "measured/validation": np.array(val["ConfusionMatrix"])}


SCENARIOS = [classifier, custom_loop, stateful, generated, rank_zero_only, measured]


def different_batches(out: Path) -> str:
    """A generator that draws different data in each process: a clear error everywhere."""
    def batches(info):
        x = np.random.default_rng(os.getpid()).normal(size=(info["BatchSize"], 1))
        return {"Input": x, "Output": x}
    try:
        NetTrain(LinearLayer(), batches, BatchSize=4, MaxTrainingRounds=1, **QUIET)
    except TrainingError as e:
        return str(e)
    return "no error"


def worker(out: Path) -> None:
    """What each torchrun process does."""
    rank = int(os.environ["RANK"])
    mine = out / f"rank{rank}"
    mine.mkdir()
    results: dict[str, np.ndarray] = {}
    for scenario in SCENARIOS:
        results.update(scenario(out if scenario is rank_zero_only else mine))
    np.savez(out / f"rank{rank}.npz", **results)
    (out / f"rank{rank}.json").write_text(json.dumps({
        "world": world_size(), "error": different_batches(mine)}))


# -- the tests ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK")}
    env.update(OMP_NUM_THREADS="1", PYTHONWARNINGS="error", MPLBACKEND="Agg")
    for _ in range(2):  # a second try if another program took the free port meanwhile
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
               "--master_addr=127.0.0.1", f"--master_port={_free_port()}", __file__, str(out)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
        if "address already in use" not in proc.stderr.lower():
            break
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    runs = [dict(np.load(out / f"rank{r}.npz")) for r in (0, 1)]
    infos = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    return runs, infos


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    out = tmp_path_factory.mktemp("one")
    results: dict[str, np.ndarray] = {}
    for scenario in SCENARIOS:
        results.update(scenario(out))
    return results


def test_every_process_returns_the_same_net(two_processes):
    (r0, r1), infos = two_processes
    assert [i["world"] for i in infos] == [2, 2]
    assert r0.keys() == r1.keys()
    for k in r0:
        if not k.startswith("rank0/"):
            assert np.array_equal(r0[k], r1[k]), k


def test_two_processes_train_like_one_with_the_same_global_batch(two_processes, one_process):
    (r0, _), _ = two_processes
    assert one_process.keys() == r0.keys()
    for k, v in one_process.items():
        if not k.startswith("rank0/"):
            np.testing.assert_allclose(r0[k], v, rtol=1e-5, atol=1e-5, err_msg=k)


def test_only_rank_zero_reports_and_checkpoints(two_processes, one_process):
    (r0, r1), _ = two_processes
    assert int(one_process["rank0/calls"]) == 2 and int(one_process["rank0/rounds"]) == 2
    assert (int(r0["rank0/calls"]), int(r1["rank0/calls"])) == (2, 0)
    assert int(r0["rank0/rounds"]) == int(r1["rank0/rounds"]) == 2  # rank 0 stopped both
    assert int(r0["rank0/files"]) == 2  # one checkpoint per round, from rank 0 alone


def test_processes_that_draw_different_batches_are_refused(two_processes):
    _, infos = two_processes
    for info in infos:
        assert "drew different batches" in info["error"]


def test_shares_cover_the_batch_in_order():
    for n in (1, 2, 7, 64):
        for world in (2, 3, 8):
            bounds = [shard_bounds(n, world, r) for r in range(world)]
            assert bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
            assert max(hi - lo for lo, hi in bounds) - min(hi - lo for lo, hi in bounds) <= 1


def test_without_a_launcher_training_stays_in_this_process(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert world_size() == 1
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv(distributed.SWITCH, "0")
    assert world_size() == 1  # NETGRAPH_DISTRIBUTED=0 opts out under a launcher


def test_a_world_without_a_process_group_is_a_clear_error(monkeypatch):
    for k in ("MASTER_ADDR", "MASTER_PORT", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(TrainingError, match="joining the torch.distributed process group"):
        NetTrain(LinearLayer(), {1: 2.0, 2: 4.0}, MaxTrainingRounds=1, **QUIET)


def test_one_process_with_all_gpus_says_it_uses_the_first(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    opts = parse_options({"TargetDevice": ("GPU", All)})
    with pytest.warns(UserWarning, match="trains on the first of this machine's 4 GPUs only"):
        ctx = distributed.setup("NetTrain", opts, "cuda")
    assert ctx.device == "cuda" and ctx.world == 1
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert distributed.setup("NetTrain", opts, "cuda").device == "cuda"  # no warning


def _group(monkeypatch, local_rank: int, local_world: int, gpus: int):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(torch.cuda, "set_device", lambda i: None)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", str(local_world))
    group = object.__new__(distributed.Group)  # no process group: only _device is used
    group.head, group.local = "NetTrain", local_rank
    return group


def test_each_process_takes_the_gpu_of_its_local_rank(monkeypatch):
    group = _group(monkeypatch, 1, 2, 2)
    assert group._device("GPU", "cuda") == "cuda:1"
    assert group._device(("GPU", All), "cuda") == "cuda:1"
    assert group._device("CPU", "cpu") == "cpu"
    with pytest.raises(OptionError, match="names one GPU, but several processes"):
        group._device(("GPU", 2), "cuda:1")
    assert _group(monkeypatch, 0, 1, 2)._device(("GPU", 2), "cuda:1") == "cuda:1"
    with pytest.raises(OptionError, match="LOCAL_RANK 2 has no GPU of its own"):
        _group(monkeypatch, 2, 3, 2)._device("GPU", "cuda")


def test_resuming_a_stateful_run_on_several_processes_is_refused():
    opts = parse_options({"ResumeFrom": "ckpt", "StateTransfer": {"FinalState": "State"}})
    with pytest.raises(TrainingError, match="ResumeFrom with StateTransfer is not supported"):
        distributed.check_supported("NetTrain", opts)


def test_stop_decisions_are_shared_per_batch_only_when_rank_zero_can_take_them():
    def per_batch(**options):
        return distributed._may_stop_per_batch(parse_options(options))
    assert not per_batch()
    assert not per_batch(TrainingProgressReporting="Print")      # never stops a run
    assert not per_batch(TrainingProgressFunction=print)         # after rounds only
    assert per_batch(TrainingProgressFunction=(print, {"Interval": (1, "Batches")}))
    assert per_batch(TrainingProgressReporting=(print, {"Interval": (2, "Seconds")}))
    assert per_batch(TimeGoal=30)


if __name__ == "__main__":
    worker(Path(sys.argv[1]))
