"""The netgraph error hierarchy.

Every error a user can cause is a :class:`NetGraphError`. Messages start with the
WL head that was called, say what is wrong, what was expected and what was
received, in WL notation, and add a hint where one exists.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class NetGraphError(ValueError):
    """Base class of netgraph's user-facing errors; also a ``ValueError``.

    ``str(e)`` is ``"head: message"``; ``e.head`` and ``e.message`` keep the two apart, so
    that an error can be raised again under another head without cutting strings:
    ``raise type(e)("NetTrain", e.message)``.
    """

    def __init__(self, head: str, message: str) -> None:
        self.head, self._message = head, message
        super().__init__(f"{head}: {message}")

    @property
    def message(self) -> str:
        """The message without the head (an error built without one: its whole text)."""
        return getattr(self, "_message", str(self))


class ShapeError(NetGraphError):
    """Incompatible or uninferable port shapes."""


class ConnectionError_(NetGraphError):
    """A bad connection: unknown layer or port, a port fed twice, a cycle."""


class EvaluationError(NetGraphError):
    """Bad input to a net evaluation, or a net that cannot be evaluated."""


class OptionError(NetGraphError, TypeError):
    """An unknown option or an option with an invalid value."""


class TrainingError(NetGraphError, RuntimeError):
    """NetTrain or a trainer could not proceed."""


class NetImportError(NetGraphError):
    """A file could not be imported."""


class NetExportError(NetGraphError):
    """A net could not be exported (e.g. it holds Python code, which files never hold)."""


class LayerError(NetGraphError):
    """A layer was constructed with invalid parameters."""


def nearest(name: str, valid: Iterable[str]) -> str:
    """A hint naming the nearest valid spelling of ``name``, or ``""``."""
    valid = list(valid)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    if not close:
        close = [v for v in valid if v.lower() == name.lower()]
    return f' Did you mean "{close[0]}"?' if close else ""


def check_options(head: str, given: dict, valid: Iterable[str]) -> None:
    """Raise an :class:`OptionError` for the first unknown option in ``given``."""
    valid = list(valid)
    for key in given:
        if key not in valid:
            raise OptionError(
                head, f"unknown option {key}.{nearest(key, valid)} "
                f"Valid options are: {', '.join(sorted(valid))}.")
