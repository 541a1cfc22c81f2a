"""Paste Mathematica: read, run and write Wolfram Language net code.

``evaluate(text, env)`` parses WL source and evaluates it (the data-building subset of WL
and every netgraph head under its WL name).

>>> evaluate('Information[NetChain[{LinearLayer[3], Ramp}, "Input" -> 2], "OutputPorts"]')
{'Output': 3}
>>> evaluate("Partition[Range[7], 3]")
array([[1, 2, 3],
       [4, 5, 6]])
"""
from __future__ import annotations

from typing import Any

from .errors import WLEvaluationError, WLSyntaxError, WLUnsupportedError
from .parser import fullform, parse

__all__ = ["evaluate", "run_script", "to_wl", "parse", "fullform", "WLSyntaxError",
           "WLEvaluationError", "WLUnsupportedError"]


def evaluate(text: str, env: dict | None = None) -> Any:
    """Evaluate WL ``text``; the value of its last expression (None when it ends in ``;``).

    Assignments (``x = ...``) are stored in ``env`` (a dict), so a session can go on across
    calls: ``env = {}; evaluate("x = 2", env); evaluate("x + 1", env)`` gives 3.
    """
    out = None
    for value, _silent in run_script(text, env):
        out = value
    return out


def run_script(text: str, env: dict | None = None) -> Any:
    """Evaluate each top-level expression of ``text`` in turn; yields ``(value, silent)``
    (silent: the expression ended in ``;``, so a notebook would print nothing)."""
    from .evaluator import _EVALUATORS, Evaluator
    statements = parse(text)  # a syntax error anywhere stops the script before it runs
    ev = Evaluator(env if env is not None else {})
    _EVALUATORS.append(ev)
    try:
        for expr, silent in statements:
            value = ev.run(expr)
            yield (None if silent else value), silent
    finally:
        _EVALUATORS.pop()


def to_wl(net: Any, arrays: bool = False) -> str:
    """``net`` as WL InputForm text that :func:`evaluate` reads back to an equal net.

    Learned arrays are left out unless ``arrays=True`` (then they are ``NumericArray[...]``).
    ``Information(net, "WLInputForm")`` gives the same text.
    """
    from .writer import to_wl as write
    return write(net, arrays=arrays)


def _register() -> None:
    from ..info import register_property
    register_property("WLInputForm", to_wl)


_register()
