"""Griffe extension: render doctest examples in docstrings as Python code blocks.

netgraph's docstrings carry bare doctests (``>>> net = ...`` followed by the output), which
pytest runs. Markdown would read ``>>>`` as a block quote and ``['a', 'b']`` as a link, so
each run of doctest lines (a ``>>>`` line and everything up to the next blank line) is
wrapped in a ```` ```pycon ```` fence before mkdocstrings renders it.
"""
from __future__ import annotations

from typing import Any

from griffe import Extension, Object


def fence_doctests(text: str) -> str:
    """Wrap each run of doctest lines in a fenced pycon block."""
    out: list[str] = []
    in_block = in_fence = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if not in_fence and not in_block and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            in_block = True
        elif in_block and not stripped:
            out.append(f"{indent}```")
            in_block = False
        out.append(line)
    if in_block:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestBlocks(Extension):
    """Fence bare doctests in every docstring of the loaded package."""

    def on_object(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
