"""TrainingProgressCheckpointing and resuming (placeholder until netgraph.io.archive lands)."""
from __future__ import annotations

from typing import Any

from ..errors import OptionError


class Checkpointer:
    def __init__(self, spec: Any, head: str) -> None:
        if spec is not None:
            raise OptionError(head, "TrainingProgressCheckpointing is not available yet.")

    def after_batch(self, trainer: Any, h: Any) -> None:
        pass

    def after_round(self, trainer: Any, h: Any) -> None:
        pass


def resume(path: Any, trainer: Any, h: Any) -> tuple[int, int]:
    raise OptionError("NetTrain", "ResumeFrom is not available yet.")
