"""Errors of the WL reader: each names a position in the text (line and column, 1-based)."""
from __future__ import annotations

from ..errors import NetGraphError


def at(line: int, col: int) -> str:
    return f"line {line}, column {col}"


class WLSyntaxError(NetGraphError):
    """The text is not Wolfram Language syntax that the reader understands."""

    def __init__(self, message: str, line: int, col: int) -> None:
        self.line, self.col = line, col
        NetGraphError.__init__(self, "WL", f"syntax error at {at(line, col)}: {message}")


class WLEvaluationError(NetGraphError):
    """A WL call failed: an unsupported function, bad arguments, or an error from a netgraph head.

    ``cause`` is the netgraph error it wraps (its message is kept whole); ``line``/``col`` locate
    the call in the text.
    """

    def __init__(self, head: str, message: str, line: int, col: int) -> None:
        self.line, self.col = line, col
        NetGraphError.__init__(self, head, f"{message} (at {at(line, col)})")


class WLUnsupportedError(WLEvaluationError):
    """A WL function, symbol or form outside the subset that netgraph.wl evaluates."""

    def __init__(self, head: str, message: str, line: int, col: int) -> None:
        self.line, self.col, self.head = line, col, head
        ValueError.__init__(self, message)
