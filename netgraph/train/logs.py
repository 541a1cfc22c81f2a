"""Training logs: ``TrainingProgressReporting=File("log.csv")`` and TensorBoard.

A :class:`FileLog` writes one record per report (every round by default), WL's fields:
ProgressFraction, Round, Batch, ExamplesProcessed, ExamplesPerSecond, LearningRate,
TimeElapsed, TimeRemaining, then for the loss and each measurement that is one number
``Current<key>`` (the last batch's, for per-batch measurements), ``Round<key>`` and
``Validation<key>`` (with a ValidationSet); per-class measurements as their macro average.
CSV and TSV write a header and a row per report, JSON an array of records (rewritten each
time). A :class:`TensorBoardLog` writes scalars per batch (``batch/<key>``) and per round
(``round/<key>``, ``validation/<key>``, ``round/LearningRate``) with the ``tensorboard``
package, imported only when used.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from ..errors import OptionError
from .results import ProgressInfo, shown

HEAD = "NetTrain"
FORMATS = {".csv": ",", ".tsv": "\t", ".json": None}
FIELDS = ("ProgressFraction", "Round", "Batch", "ExamplesProcessed", "ExamplesPerSecond",
          "LearningRate", "TimeElapsed", "TimeRemaining")


def record(info: ProgressInfo) -> dict[str, Any]:
    """One report's fields (WL's File record)."""
    rec: dict[str, Any] = {k: info[k] for k in FIELDS}
    rec["TimeElapsed"] = round(float(rec["TimeElapsed"]), 3)
    batch = {"Loss": info["BatchLoss"], **shown(info.get("BatchMeasurements"))}
    for k, v in batch.items():
        rec[f"Current{k}"] = v
    for prefix, values in (("Round", info.get("RoundMeasurements")),
                           ("Validation", info.get("ValidationMeasurements"))):
        if values:
            rec[f"{prefix}Loss"] = values.get("Loss")
            rec.update({f"{prefix}{k}": v for k, v in shown(values).items()})
    return rec


class FileLog:
    """``File(path)`` reporting: a .csv, .tsv or .json file of one record per report."""

    def __init__(self, path: str) -> None:
        ext = Path(path).suffix.lower()
        if ext not in FORMATS:
            raise OptionError(HEAD, f'expected TrainingProgressReporting=File(path) with a '
                              f'.csv, .tsv or .json file, but received File("{path}").')
        self.path, self.sep = path, FORMATS[ext]
        self.columns: list[str] | None = None
        self.rows: list[dict[str, Any]] = []
        try:
            Path(path).write_text("" if self.sep is not None else "[]\n")
        except OSError as e:
            raise OptionError(HEAD, f'TrainingProgressReporting cannot write File("{path}"): '
                              f"{e.strerror or e}.") from None

    def __call__(self, info: ProgressInfo) -> None:
        rec = record(info)
        if self.sep is None:
            self.rows.append(rec)
            tmp = f"{self.path}.tmp"
            with open(tmp, "w") as f:
                json.dump(self.rows, f, indent=1)
            os.replace(tmp, self.path)
            return
        with open(self.path, "a", newline="") as f:
            writer = csv.writer(f, delimiter=self.sep)
            if self.columns is None:
                self.columns = list(rec)
                writer.writerow(self.columns)
            writer.writerow(["" if rec.get(c) is None else rec.get(c) for c in self.columns])

    def close(self) -> None:
        """Nothing stays open between reports."""


class TensorBoardLog:
    """``"TensorBoard"`` or ``("TensorBoard", dir)`` reporting: scalars per batch and round."""

    def __init__(self, logdir: str | None) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise OptionError(HEAD, 'TrainingProgressReporting "TensorBoard" needs the '
                              "tensorboard package: pip install tensorboard (netgraph's "
                              '"tensorboard" extra).') from None
        self.writer = SummaryWriter(log_dir=logdir)
        self.logdir = self.writer.log_dir
        self.round = 0

    def batch(self, info: ProgressInfo) -> None:
        step = info["AbsoluteBatch"]
        self.writer.add_scalar("batch/Loss", info["BatchLoss"], step)
        for k, v in shown(info.get("BatchMeasurements")).items():
            self.writer.add_scalar(f"batch/{k}", v, step)

    def end_round(self, info: ProgressInfo) -> None:
        step = len(info["RoundLossList"])
        if step == self.round:
            return
        self.round = step
        for prefix, values in (("round", info.get("RoundMeasurements")),
                               ("validation", info.get("ValidationMeasurements"))):
            if values:
                self.writer.add_scalar(f"{prefix}/Loss", values["Loss"], step)
                for k, v in shown(values).items():
                    self.writer.add_scalar(f"{prefix}/{k}", v, step)
        self.writer.add_scalar("round/LearningRate", info["LearningRate"], step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
