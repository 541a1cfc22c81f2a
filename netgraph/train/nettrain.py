"""NetTrain: orchestration of the call forms, data, objective, trainer and progress.

The pieces live next door: options (WL names), data (forms, batches, streams), losses (the
training net), step (one step), optim (methods), trainer (the "$Trainer"), progress
(reporting, stopping) and results (the NetTrainResultsObject). This module only wires them.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..backend.init import NetInitialize, seed_of
from ..backend.lower import optional_ports
from ..errors import NetGraphError, OptionError, TrainingError, nearest
from ..graph.net import Container
from ..graph.walk import array_items
from ..layers.base import Layer
from ..runtime.boundary.codec import port_codecs
from ..runtime.evaluate import device_of
from ..symbols import All, Automatic, Scaled
from . import checkpoint, distributed, measuring
from .arrays import graph_rules, parse_rules
from .compiled import compile_mode
from .data import (
    DEFAULT_BATCH_SIZE,
    ExampleData,
    Feeder,
    Generator,
    GeneratorData,
    PortFeed,
    call_generator,
    check_ports,
    data_columns,
    series_columns,
    split_rows,
    split_validation,
    typing_sample,
    unsafe_heads,
)
from .losses import (
    NODE,
    Objective,
    check_transfer,
    loss_terms,
    net_outputs,
    training_net,
    transfer_spec,
    typed,
)
from .optim import parse_method
from .options import TrainOptions, parse_options, time_goal_seconds
from .progress import Progress, StoppingCriterion, scalar_of
from .results import LEGACY, History, NetTrainResultsObject, measurement_results
from .step import example_losses, mirroring_mode
from .trainer import TrainerSpec

HEAD = "NetTrain"
ENCODE_AHEAD = True   # large encoded columns are encoded while round 1 trains (train/data.py)
HIDDEN = ("$Trainer", "$TrainingGenerator")
# Kept only when the NetTrain call asks for them (its third argument), as WL keeps them: the
# last step's gradients (the whole compiled step is refused for them) and the loss of every
# example (recorded after every step).
GRADIENTS = ("Gradients", "GradientsVector", "GradientsRMS")
ASKED = (*GRADIENTS, "ExampleLosses")
PROPERTIES = ("TrainedNet", "FinalNet", "TrainingNet", "LossPlot", "FinalPlots", "RoundLoss",
              "RoundLossList", "RoundMeasurements", "RoundMeasurementsLists",
              "ValidationMeasurements", "ValidationMeasurementsLists", "BatchMeasurementsLists",
              "BatchLossList", "BatchLoss", "ValidationLoss", "ValidationLossList",
              "BestValidationRound", "TotalTrainingTime", "CompileTime",
              "MeanExamplesPerSecond",
              "MeanBatchesPerSecond", "ExamplesProcessed", "TotalBatches", "TotalRounds",
              "BatchesPerRound", "BatchSize", "TrainingExamples", "ValidationExamples",
              "InitialLearningRate", "FinalLearningRate", "OptimizationMethod",
              "ReasonTrainingStopped", "CheckpointingFiles", "TargetDevice", "RoundPositions",
              "ValidationPositions", "ArraysLearningRateMultipliers", "ResultsObject",
              "Properties", "NetTrainInputForm", "Weights", "WeightsVector", "WeightsRMS",
              *ASKED, *HIDDEN)


def net_train(net: Layer, data: Any, *args: Any, **options: Any) -> Any:
    """The implementation of :func:`netgraph.NetTrain` (see its docstring)."""
    call = input_form(args, options)
    loss_spec, prop = _positional(args, options, net_outputs(net))
    opts = parse_options(options)
    _check_property(prop)
    asked = {str(LEGACY.get(p, p)) for p in (prop if isinstance(prop, list) else [prop])
             if LEGACY.get(p, p) in ASKED}
    results = Run(net, data, loss_spec, opts, asked, call).start().train()
    return results[prop]


def input_form(args: tuple, options: dict[str, Any]) -> str:
    """WL's "NetTrainInputForm": the call as Python text, the net and the data standing as
    ``net`` and ``data`` (WL's ``Placeholder["net"]``, ``Placeholder["data"]``); values
    as their repr, a function by its name."""
    def source(v: Any) -> str:
        if callable(v) and not isinstance(v, Layer) and hasattr(v, "__name__"):
            return str(v.__name__)
        return repr(v)
    parts = ["net", "data", *map(source, args), *(f"{k}={source(v)}"
                                                  for k, v in options.items())]
    return f"NetTrain({', '.join(parts)})"


def _positional(args: tuple, options: dict, outputs: list[str]) -> tuple[Any, Any]:
    """(loss spec, property) from the positional forms (a lone string is a property unless
    it names an output port: WL's older NetTrain[net, data, "port"])."""
    if len(args) > 2:
        raise TrainingError(HEAD, f"expected at most 4 arguments (net, data, lossSpec, prop), "
                            f"but received {len(args) + 2}.")
    if len(args) == 2:
        loss, prop = args
    elif len(args) == 1 and _is_property(args[0]):
        loss, prop = Automatic, args[0]
    elif len(args) == 1 and isinstance(args[0], str) and args[0] not in outputs:
        raise TrainingError(HEAD, f"unknown property {args[0]!r}."
                            f"{nearest(args[0], [*PROPERTIES, *outputs])} Properties are "
                            f"{', '.join(PROPERTIES)}; a loss port is one of "
                            f"{', '.join(outputs)}.")
    elif len(args) == 1:
        loss, prop = args[0], "TrainedNet"
    else:
        loss, prop = Automatic, "TrainedNet"
    if "LossFunction" in options:
        if loss is not Automatic:
            raise OptionError(HEAD, "the loss is given twice: as an argument and as "
                              "LossFunction.")
        loss = options.pop("LossFunction")
    return loss, prop


def _is_property(p: Any) -> bool:
    if isinstance(p, list):
        return bool(p) and all(_is_property(q) for q in p)
    return p is All or (isinstance(p, str) and (p in PROPERTIES or p in LEGACY))


def _check_property(prop: Any) -> None:
    for p in prop if isinstance(prop, list) else [prop]:
        if not _is_property(p):
            raise TrainingError(HEAD, f"unknown property {p!r}.{nearest(str(p), PROPERTIES)} "
                                f"Properties are {', '.join(PROPERTIES)}.")


@dataclass
class Prepared:
    """The typed, initialized net and its training net, with the data columns."""

    net: Layer
    objective: Objective
    columns: Any
    validation: Any
    probe: Any = None


class Run:
    """One NetTrain call: preparation, the training loop and the results.

    Constructing a Run only records the call; :meth:`start` does the work before the first
    step (distribution, checkpoint, data, trainer, the timing probe) and :meth:`train` runs
    the loop: ``Run(net, data, loss_spec, opts).start().train()``.
    """

    def __init__(self, net: Layer, data: Any, loss_spec: Any, opts: TrainOptions,
                 asked: set[str] | frozenset[str] = frozenset(), call: str | None = None
                 ) -> None:
        self.net, self.data_spec, self.loss_spec, self.opts = net, data, loss_spec, opts
        self.asked, self.call = asked, call   # the ASKED properties; the call as text
        self.train_rows: np.ndarray | None = None  # data rows trained on (ValidationSet)
        self.given = 0                              # examples given, before that split
        self.dtype = torch.float64 if opts.working_precision == "Real64" else torch.float32
        self.batch_size = DEFAULT_BATCH_SIZE if opts.batch_size is Automatic else opts.batch_size
        self.transfer = transfer_spec(opts.state_transfer)
        self.series: dict[str, list[int] | None] = {"train": None, "val": None}
        self.started = False

    def start(self) -> Run:
        """Set up everything the loop needs; returns the run."""
        opts = self.opts
        # Under torchrun: one process per device, same seed everywhere (distributed.py).
        self.dist = distributed.setup(HEAD, opts, device_of(HEAD, opts.target_device))
        self.device = self.dist.device
        self.seed = self.dist.same(seed_of(opts.random_seeding, HEAD))
        if opts.working_precision == "Mixed" and self.device == "cpu":
            raise OptionError(HEAD, 'WorkingPrecision "Mixed" needs TargetDevice "GPU"; on the '
                              'CPU use "Real32" or "Real64".')
        self.resume = None if opts.resume_from is None else checkpoint.load(opts.resume_from)
        net = self.net if self.resume is None else self.resume.net  # typed and initialized
        self.p = self._prepare(net, self.data_spec, self.loss_spec)
        self.trainer = self.dist.trainer(self._spec())
        self.feeder = self.trainer.feeder = self._feeder()
        self.meters = None if not self.measurements else measuring.meters(
            self.measurements, self.p.objective.terms, self.p.net, self.trainer.keys,
            self.exposed, measuring.class_labels(self.p.net), self.trainer.reduce_sum)
        self.data = self._data(self.p.columns, not self.transfer, self.p.probe, "train")
        self.val = (None if self.p.validation is None else
                    self._data(self.p.validation, False, None, "val"))
        self.trainer.set_schedule(self.data.batches_per_round, 1)
        self.rounds = self.dist.same(self._rounds())
        self.trainer.set_schedule(self.data.batches_per_round, self.rounds)
        self.started = True
        return self

    # -- preparation --------------------------------------------------------------
    def _prepare(self, net: Layer, data: Any, loss_spec: Any) -> Prepared:
        inputs = [p for p in _net_inputs(net) if p not in optional_ports(net)]
        cols = self._columns(data, inputs, net, "train")
        probe = None
        if isinstance(cols, Generator):
            probe = call_generator(cols.f, {"BatchSize": self.batch_size, "Round": 1,
                                            "Batch": 1, "AbsoluteBatch": 1})
            sample = typing_sample(data_columns(probe, inputs, net_outputs(net), HEAD,
                                                port_codecs(net)))
        else:
            sample = typing_sample(cols)
        if isinstance(sample, Generator):
            raise TrainingError(HEAD, "the generator function returned a function; it must "
                                "return a batch of data.")
        val = self._validation(cols, inputs, net)
        if isinstance(val, tuple):
            cols, val = val
        terms = loss_terms(net, loss_spec, sample)
        self.measurements = measuring.resolve(self.opts.training_progress_measurements, terms)
        self.exposed = measuring.exposures(self.measurements, terms, net_outputs(net))
        objective = typed(training_net(net, terms, self.exposed), sample)
        if not objective.net.is_initialized():
            init: Any = NetInitialize(objective.net, RandomSeeding=self.seed)
            objective = Objective(init, objective.terms)
        check_transfer(objective, self.transfer)
        return Prepared(objective.net.nodes[NODE], objective, cols, val, probe)

    def _validation(self, cols: Any, inputs: list[str], net: Layer) -> Any:
        v = self.opts.validation_set
        if v is None:
            return None
        if isinstance(v, Scaled):
            if self.series["train"] is not None:
                raise TrainingError(HEAD, "ValidationSet=Scaled(f) would cut series apart; "
                                    "give the validation series themselves.")
            if isinstance(cols, Generator):
                raise TrainingError(HEAD, "ValidationSet=Scaled(f) needs a data set, not a "
                                    "generator function; give the validation data itself.")
            self.given = len(next(iter(cols.values())))
            self.train_rows = split_rows(self.given, float(v.value), self.seed,
                                         bool(self.transfer))[0]
            return split_validation(cols, float(v.value), self.seed, bool(self.transfer))
        val = self._columns(v, inputs, net, "val")
        if isinstance(val, Generator):
            raise TrainingError(HEAD, "expected ValidationSet to be data or Scaled(f), but "
                                "received a function.")
        return val

    def _columns(self, data: Any, inputs: list[str], net: Layer, which: str) -> Any:
        """Columns of examples; with StateTransfer, data may be a list of series."""
        if self.transfer:
            ranks = {**{p: t.rank for p, t in net.out_types.items()},
                     **{p: t.rank for p, t in net.in_types.items()}}
            found = series_columns(data, ranks)
            if found is not None:
                cols, self.series[which] = found
                return cols
        return data_columns(data, inputs, net_outputs(net), HEAD, port_codecs(net),
                            defer=ENCODE_AHEAD)

    def _feeder(self) -> Feeder:
        g = self.p.objective.net
        keys = self.trainer.keys
        feeds = {p: PortFeed(keys[p], g.in_types[p].kind == "Integer", g.in_types[p])
                 for p in keys}
        required = [p for p in g.params["inputs"] if p not in optional_ports(g)
                    and p not in self.transfer.values()]
        return Feeder(feeds, required, [p for p in _net_inputs(self.p.net)
                                        if p not in optional_ports(self.p.net)],
                      net_outputs(self.p.net), self.dtype, self.device,
                      unsafe=unsafe_heads(self.trainer.module), codecs=port_codecs(self.p.net))

    def _data(self, cols: Any, shuffle: bool, probe: Any, which: str
              ) -> ExampleData | GeneratorData:
        if isinstance(cols, Generator):
            return GeneratorData(cols, self.feeder, self.batch_size, probe)
        check_ports(HEAD, cols, self.feeder.feeds, self.feeder.required)
        series = self.series[which]
        bs = min(self.batch_size, len(next(iter(cols.values()))) if series is None
                 else len(series))
        if self.opts.batch_size is not Automatic and self.transfer:
            bs = self.batch_size
        return ExampleData(cols, self.feeder.feeds, bs, self.seed, bool(self.transfer),
                           shuffle, self.dtype, self.device, series,
                           exact=bool(self.feeder.unsafe))

    def _spec(self) -> TrainerSpec:
        o = self.opts
        method = parse_method(o.method, o.learning_rate)
        lrm = parse_rules("LearningRateMultipliers", o.learning_rate_multipliers, 1.0)
        per_array = {k: parse_rules(k, method.sub[k], None) for k in
                     ("L2Regularization", "GradientClipping", "WeightClipping")}
        return TrainerSpec(self.p.net, self.p.objective, method,
                           lrm + graph_rules(self.p.net), per_array, self.device, self.dtype,
                           o.working_precision == "Mixed", mirroring_mode(o), self.transfer,
                           compile_mode(o), o.training_update_schedule,
                           gradients=any(p in GRADIENTS for p in self.asked))

    def _rounds(self) -> int:
        """MaxTrainingRounds, or for Automatic the rounds that fit the TimeGoal (20 s by
        default, as WL), from the time of a probe step, between 1 and 10000."""
        if self.opts.max_training_rounds is not Automatic:
            return int(self.opts.max_training_rounds)
        goal = time_goal_seconds(self.opts.time_goal) or 20.0
        per_batch = self.trainer.probe_time(self.data.batch(1, 0))
        per_round = max(per_batch * self.data.batches_per_round, 1e-9)
        return max(1, min(10000, int(goal / per_round)))

    # -- training -------------------------------------------------------------------
    def generator(self) -> tuple[Callable[[int], dict], int]:
        nmax = self.data.batches_per_round

        def gen(i: int) -> dict[str, np.ndarray]:
            if isinstance(i, bool) or not isinstance(i, int) or not 1 <= i <= nmax:
                raise TrainingError("TrainingGenerator", f"expected a batch index between 1 "
                                    f"and {nmax}, but received {i!r}.")
            return self.feeder.numpy(self.data.batch(1, i - 1))
        return gen, nmax

    def train(self) -> NetTrainResultsObject:
        if not self.started:
            self.start()
        t = self.trainer
        h = History(self.data.batches_per_round, self.rounds, self.data.batch_size)
        lead = self.dist.lead  # only rank 0 reports and writes checkpoints
        ckpt = checkpoint.Checkpointer(lead(self.opts.training_progress_checkpointing), HEAD)
        progress = Progress(lead(self.opts.training_progress_reporting),
                            lead(self.opts.training_progress_function), h, t.current_net)
        loop = Loop(self, h, progress, StoppingCriterion(self.opts.training_stopping_criterion),
                    ckpt)
        start = None if self.resume is None else checkpoint.restore(self.resume, loop)
        # The run's generators are forked: the user's global torch RNG state is restored
        # afterwards (the CUDA one too when training on a GPU; only the CPU state is
        # carried into checkpoints and the "$Trainer").
        cuda = [torch.device(self.device).index or 0] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda):
            if t.rng_state is None:
                torch.manual_seed(self.dist.torch_seed(self.seed))
            else:
                torch.set_rng_state(t.rng_state)
            self._run_loop(loop, start, progress)
            self.dist.sync(t)
            t.rng_state = torch.get_rng_state()
        h.compile_seconds = t.run_step.compile_seconds
        progress.finish()
        return self._results(h, loop)

    def example_rows(self) -> tuple[list[Any], np.ndarray]:
        """For "ExampleLosses": a None for every example of the training data as given
        (before a ValidationSet is cut from it), and the given row of each training row."""
        if not isinstance(self.data, ExampleData) or self.series["train"] is not None:
            raise TrainingError(HEAD, '"ExampleLosses" needs the training examples as a '
                                "data set; it is not available for a generator function or "
                                "a list of series.")
        if getattr(self.trainer, "distributed", False):
            raise TrainingError(HEAD, '"ExampleLosses" is not available in a distributed '
                                "run.")
        if self.train_rows is None:
            return [None] * self.data.n, np.arange(self.data.n)
        return [None] * self.given, self.train_rows

    def _run_loop(self, loop: Loop, start: tuple[int, int] | None, progress: Progress) -> None:
        """Train, stopping cleanly: Ctrl-C (KeyboardInterrupt) ends training with the net so
        far, as WL's abort does ("ManualStop"). Any other error closes the progress bar and
        is raised; a netgraph error carries the results so far as ``err.results``."""
        try:
            loop.run(start)
        except KeyboardInterrupt:
            loop.h.reason = "ManualStop"
        except NetGraphError as e:
            progress.close()
            loop.h.reason = e.message
            e.results = self._results(loop.h, loop)  # type: ignore[attr-defined]
            raise
        except BaseException:
            progress.close()
            raise

    def _results(self, h: History, loop: Loop) -> NetTrainResultsObject:
        t, el = self.trainer, h.elapsed
        final = loop.final_net or t.current_net()
        v = {"FinalNet": final, "TrainedNet": loop.best_net or final,
             "TrainingNet": with_net(self.p.objective.net, final),
             "BatchLossList": list(h.batch_losses),
             "BatchLoss": h.batch_losses[-1] if h.batch_losses else None,
             "RoundLossList": list(h.round_losses),
             "RoundLoss": h.round_losses[-1] if h.round_losses else None,
             "ValidationLossList": list(h.validation_losses),
             "ValidationLoss": h.validation_losses[-1] if h.validation_losses else None,
             "ValidationPositions": list(h.validation_rounds),
             "RoundPositions": [(i + 1) * h.batches_per_round
                                for i in range(len(h.round_losses))],
             "BestValidationRound": h.best_round, "TotalTrainingTime": el,
             "CompileTime": h.compile_seconds,
             "MeanExamplesPerSecond": h.examples / el if el else 0.0,
             "MeanBatchesPerSecond": h.absolute_batch / el if el else 0.0,
             "ExamplesProcessed": h.examples, "TotalBatches": h.absolute_batch,
             "TotalRounds": len(h.round_losses), "BatchesPerRound": h.batches_per_round,
             "BatchSize": self.data.batch_size, "TrainingExamples": self.data.n,
             "ValidationExamples": 0 if self.val is None else self.val.n,
             "InitialLearningRate": t.spec.method.learning_rate,
             "FinalLearningRate": t.updater.learning_rate,
             "OptimizationMethod": t.spec.method.name,
             "ReasonTrainingStopped": h.reason or "MaxTrainingRoundsReached",
             "CheckpointingFiles": list(h.checkpoints), "TargetDevice": self.device,
             "ArraysLearningRateMultipliers": dict(t.multipliers), "$Trainer": t,
             **measurement_results(h, loop.meters)}
        if self.call is not None:
            v["NetTrainInputForm"] = self.call
        if loop.example_losses is not None:
            v["ExampleLosses"] = list(loop.example_losses)
        if self.asked & set(GRADIENTS):
            v.update(gradient_results(t.gradients() if h.absolute_batch else None))
        return NetTrainResultsObject(v, {"$TrainingGenerator": self.generator,
                                         **weight_results(final)}, ASKED)


class Loop:
    """The rounds and batches of one run, and what happens between them."""

    def __init__(self, run: Run, h: History, progress: Progress, stopping: StoppingCriterion,
                 ckpt: checkpoint.Checkpointer) -> None:
        self.run_, self.h, self.progress, self.stopping, self.ckpt = (run, h, progress,
                                                                      stopping, ckpt)
        self.t = run.trainer
        self.goal = time_goal_seconds(run.opts.time_goal)
        self.best_net: Layer | None = None
        self.best_score: tuple[float, ...] = (math.inf,)   # the best net's (see best_key)
        self.final_net: Layer | None = None
        self.meters = run.meters
        self.choose = best_key(self.meters, self.stopping)
        if self.meters is not None:
            h.latest = self.meters.train.latest
        self.stopping.check(self.meters.measurements if self.meters else [],
                            run.val is not None)
        self.example_losses: list[Any] | None = None   # "ExampleLosses": per data row
        if "ExampleLosses" in run.asked:
            self.example_losses, self.rows = run.example_rows()

    def run(self, start: tuple[int, int] | None) -> None:
        rnd, first = start or (1, 0)
        while rnd <= self.run_.rounds and not self.h.reason:
            self.round(rnd, first)
            rnd, first = rnd + 1, 0

    def round(self, rnd: int, first: int) -> None:
        t, h = self.t, self.h
        data = self.run_.data
        collect = isinstance(data, ExampleData) and self.example_losses is not None
        plan = data.rows(rnd) if collect else None  # type: ignore[union-attr]
        for i, feeds in enumerate(data.round(rnd, first), first):
            loss = t.step(feeds)
            if not math.isfinite(loss):
                h.reason = (f"the loss became {loss} in round {rnd}, batch {h.batch + 1}; "
                            "the result is the last net with a finite loss")
                self.final_net = t.current_net()
                break
            h.record_batch(loss, next(iter(feeds.values())).shape[0])
            if plan is not None:
                self.record_examples(plan[i])
            if self.meters is not None:
                # the step's own feeds: under torchrun, this process's share of the batch
                self.meters.train.batch(t.last_out, t.last_feeds,
                                        lambda: h.info(t.current_net, "BatchComplete"),
                                        counts=bool(t.last_weight))
            h.learning_rate = t.updater.learning_rate
            if self.progress.batch():
                h.reason = "StopTraining"
            elif self.goal is not None and h.elapsed >= self.goal:
                h.reason = "TimeGoalReached"
            self.ckpt.after_batch(self)
            h.reason = self.run_.dist.agree(h.reason, batch=True)
            if h.reason:
                break
        if h.batch:
            self.end_round()

    def record_examples(self, rows: np.ndarray) -> None:
        """The last step's per-example losses, at the data rows of its examples."""
        losses = example_losses(self.t.terms, self.t.last_out).tolist()   # (batch,)
        for r, x in zip(self.rows[rows].tolist(), losses, strict=True):
            self.example_losses[r] = x  # type: ignore[index]

    def end_round(self) -> None:
        t, h = self.t, self.h
        self.run_.dist.sync(t)
        loss = h.finish_round()
        m = self.meters
        info = lambda: h.info(t.current_net, "RoundComplete")  # noqa: E731
        if m is not None:
            h.round_measurements.append({"Loss": loss, **m.train.end(info)})
            m.train.start()
        if self.run_.val is not None:
            vloss = t.evaluate(self.run_.val.round(1), None if m is None else m.val.batch)
            h.validation_losses.append(vloss)
            h.validation_rounds.append(len(h.round_losses))
            values = {"Loss": vloss, **({} if m is None else m.val.end(info))}
            if m is not None:
                h.validation_measurements.append(values)
                m.val.start()
            score = self.choose(values)
            if score < self.best_score:
                self.best_score, self.best_net = score, t.current_net()
                h.best_round = len(h.round_losses)
        if not h.reason and self.stopping.stop(h, lambda: h.info(t.current_net,
                                                                "RoundComplete")):
            h.reason = "StoppingCriterionSatisfied"
        self.ckpt.after_round(self)
        if self.progress.round() and not h.reason:
            h.reason = "StopTraining"
        h.reason = self.run_.dist.agree(h.reason)


def best_key(meters: measuring.Meters | None, stopping: StoppingCriterion
             ) -> Callable[[dict[str, Any]], tuple[float, ...]]:
    """How "TrainedNet" is chosen among the validated nets, as WL chooses it: by the stopping
    criterion's measurement when it names one; else by the lowest validation ErrorRate when
    it is measured (ties go to the lower validation loss); else by the lowest validation
    loss. Returns a score to minimize."""
    ms = {m.key: m for m in (meters.measurements if meters else [])}
    crit = stopping.criterion
    if isinstance(crit, str) and crit in ms:
        sign = -1.0 if ms[crit].direction == "Increasing" else 1.0
        return lambda v: (sign * scalar_of(crit, v[crit]), v["Loss"])
    if "ErrorRate" in ms:
        return lambda v: (v["ErrorRate"], v["Loss"])
    return lambda v: (v["Loss"],)


def weight_results(net: Layer) -> dict[str, Callable[[], Any]]:
    """"Weights" (the arrays at the end, keyed as ``Information(net, "Arrays")``),
    "WeightsVector" (all of them flattened, in that order) and "WeightsRMS" (the root mean
    square of each), computed when read."""
    def weights() -> dict[Any, np.ndarray]:
        return {k: a for k, a, _ in array_items(net) if a is not None}
    return {"Weights": weights, "WeightsVector": lambda: _flat(weights()),
            "WeightsRMS": lambda: _rms(weights())}


def gradient_results(grads: dict[Any, np.ndarray] | None) -> dict[str, Any]:
    """"Gradients", "GradientsVector" and "GradientsRMS" from the last step's gradients
    (None before any step)."""
    if grads is None:
        return dict.fromkeys(GRADIENTS)
    return {"Gradients": grads, "GradientsVector": _flat(grads), "GradientsRMS": _rms(grads)}


def _flat(arrays: dict[Any, np.ndarray]) -> np.ndarray:
    if not arrays:
        return np.zeros(0, np.float32)
    return np.concatenate([np.asarray(a).ravel() for a in arrays.values()])


def _rms(arrays: dict[Any, np.ndarray]) -> dict[Any, float]:
    return {k: float(np.sqrt(np.mean(np.square(np.asarray(a, np.float64)))))
            for k, a in arrays.items()}


def with_net(training: Container, net: Layer) -> Layer:
    """The training net holding ``net`` (the trained user's net) as its node "net"."""
    return training.with_nodes({**training.nodes, NODE: net})


def _net_inputs(net: Layer) -> list[str]:
    return list(net.params["inputs"] if isinstance(net, Container) else net.visible_inputs())
