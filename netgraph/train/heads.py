"""The public training heads: NetTrain, NetMeasurements, TrainerUpdate, TrainerCurrentLoss.

This module imports no torch: ``from netgraph import *`` stays light, and the work happens
in :mod:`netgraph.train.nettrain` and :mod:`netgraph.train.trainer` on the first call.
"""
from __future__ import annotations

from typing import Any

from ..errors import TrainingError
from ..layers.base import Layer


def NetTrain(net: Layer, data: Any, *args: Any, **options: Any) -> Any:
    """NetTrain(net, data) trains net on data and gives the trained net.

    ``NetTrain(net, data, prop)`` gives a property of the run: "TrainedNet" (the default; with
    a ValidationSet the net of the lowest validation loss), "FinalNet", "TrainingNet",
    "LossPlot"/"LossEvolutionPlot", "RoundLoss"/"FinalRoundLoss", "RoundLossList",
    "BatchLossList", "ValidationLoss", "ValidationLossList", "TotalTrainingTime",
    "MeanExamplesPerSecond", "ResultsObject" (a :class:`NetTrainResultsObject`), All,
    "$Trainer" (the trainer, for :func:`TrainerUpdate`), "$TrainingGenerator" (``(gen,
    nmax)``: ``gen(i)`` is the i-th batch of the first round exactly as NetTrain feeds it), or
    a list of these. ``NetTrain(net, data, lossSpec, prop)`` is WL's older form of
    ``LossFunction=lossSpec``.

    Data: ``{input: output}``, ``[(input, output), ...]``, ``([inputs], [outputs])``,
    ``{port: column}``, ``[{port: value}, ...]``, or a generator function ``f`` (or ``(f,
    {"RoundLength": n})``) called with ``{"BatchSize": n, "Round": r, "Batch": b,
    "AbsoluteBatch": k}``. Targets of attached losses are named after the output ports.

    Loss specs (LossFunction): Automatic (the net's loss outputs, else a loss on each output
    that has target data: cross-entropy after a SoftmaxLayer, binary cross-entropy after a
    LogisticSigmoid, mean squared otherwise, reported as "<Port>Loss"), a port name, a loss
    layer, ``("port", spec)`` or ``{port: Scaled(w)}`` and lists. Losses are summed with their
    weights; a Scaled(0) port is computed (see ``trainer["OutputArrays"]``) but adds nothing
    to the gradient.

    Options (WL's): BatchSize, MaxTrainingRounds, TimeGoal, Method ("ADAM", "SGD", "RMSProp",
    "SignSGD", or ``(name, {suboption: value})``), LearningRate, LearningRateMultipliers,
    ValidationSet (data or Scaled(fraction)), TrainingStoppingCriterion,
    TrainingProgressReporting, TrainingProgressFunction, TrainingProgressCheckpointing,
    RandomSeeding (1234 by default: runs are reproducible unless it is Automatic),
    TargetDevice, WorkingPrecision, Mirroring, and:

    - ``StateTransfer={"FinalState": "InitialState", ...}`` maps outputs to inputs of the
      same shape: no shuffling; the N examples form BatchSize contiguous streams
      (stream i is examples [i*L, (i+1)*L), L = N // BatchSize, the rest dropped), so row i
      of batch k+1 continues row i of batch k; each batch starts from the previous batch's
      final states (detached: truncated backpropagation through time); states are zeros
      at the start of each round. Data given as a list of independent series
      (``[{port: column}, ...]``, one dict per series) runs in BatchSize lanes instead: each
      lane goes through whole series one after another, and a lane's state is reset where a
      new series starts in it (the generator's batches mark those rows in "$SeriesStart").
    - ``ResumeFrom=path`` continues a run from a checkpoint written by
      ``TrainingProgressCheckpointing=("Directory", dir)`` (a checkpoint file, or the
      directory for its newest checkpoint). Give the same net, data and options as the
      interrupted run: under RandomSeeding the resumed run ends with the same weights.

    The input net never changes. An uninitialized net is initialized first (under
    RandomSeeding), after the port shapes the data fixes are inferred, so
    ``NetTrain(LinearLayer(), {1: 1.9, 2: 4.1})`` trains a scalar-to-scalar map. A NaN or
    infinite loss stops training; "ReasonTrainingStopped" names the round and batch and the
    result is the last net with a finite loss.

    >>> net = NetTrain(LinearLayer(), {1: 2.0, 2: 4.0, 3: 6.0}, MaxTrainingRounds=3,
    ...                TrainingProgressReporting=None)
    >>> net.head, net.is_initialized()
    ('LinearLayer', True)
    """
    from .nettrain import net_train
    return net_train(net, data, *args, **options)


def NetMeasurements(net: Layer, data: Any, measurement: Any, **options: Any) -> Any:
    """NetMeasurements(net, data, measurement) gives the measurement of net on data.

    ``measurement`` is any TrainingProgressMeasurements form ("Accuracy", ("Accuracy", 2),
    "Precision", "ConfusionMatrix", "RSquared", NetPort("port"), a dict with suboptions, a
    function in {"Measurement": f, "Key": name}), "Loss", or the plots
    "ConfusionMatrixPlot" and "ROCCurvePlot"; a list of them gives a list of values in the
    same order. ``data`` is in any NetTrain form. Options: BatchSize, TargetDevice,
    WorkingPrecision, LossFunction (as NetTrain), NetEvaluationMode ("Test").

    >>> import numpy as np
    >>> net = NetInitialize(NetChain([LinearLayer(2), SoftmaxLayer()], Input=1))
    >>> x = np.array([[-1.0], [1.0]])
    >>> y = np.asarray(net(x)).argmax(1) + 1       # what the net predicts: all correct
    >>> NetMeasurements(net, {"Input": x, "Output": y}, ["Accuracy", "ConfusionMatrix"])[0]
    1.0
    """
    from .netmeasurements import net_measurements
    return net_measurements(net, data, measurement, **options)


def _trainer(head: str, trainer: Any) -> Any:
    from .trainer import Trainer
    if not isinstance(trainer, Trainer):
        raise TrainingError(head, f'expected a trainer from NetTrain(..., "$Trainer"), but '
                            f"received {type(trainer).__name__}.")
    return trainer


def TrainerUpdate(trainer: Any, batch: Any) -> None:
    """TrainerUpdate(trainer, batch) queues one optimisation step on batch and returns at once.

    The step runs on the trainer's worker thread; :func:`TrainerCurrentLoss` (or any other
    use of the trainer) waits for it. ``batch`` is a dict ``{port: array}`` as ``gen(i)`` of
    "$TrainingGenerator" gives it (any NetTrain data form works). An exception raised by the
    step is raised by the next call on the trainer. See ``help(trainer)``.

    >>> trainer = NetTrain(LinearLayer(), {1: 2.0, 2: 4.0}, "$Trainer", MaxTrainingRounds=1,
    ...                    TrainingProgressReporting=None)
    >>> TrainerUpdate(trainer, {"Input": [1.0, 2.0], "Output": [2.0, 4.0]})
    >>> sorted(TrainerCurrentLoss(trainer))
    ['OutputLoss']
    """
    _trainer("TrainerUpdate", trainer).update(batch)


def TrainerCurrentLoss(trainer: Any) -> dict[str, float]:
    """TrainerCurrentLoss(trainer) waits for the queued steps and gives {loss port: loss}.

    Each value is the port's unweighted mean loss over the last batch (weight-0 ports too).
    """
    return _trainer("TrainerCurrentLoss", trainer).current_loss()  # type: ignore[no-any-return]
