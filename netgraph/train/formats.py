"""The file format of training checkpoints: .netgraph archives, whose functions live a level
up (io). ``netgraph.io.netfile`` registers them here when it loads (``import netgraph`` loads
it), so that train never imports io.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

ARCHIVE: dict[str, Callable[..., Any]] = {}
NAMES = ("write_archive", "read_archive", "net_to_archive", "net_from_archive")


def register_archive(**functions: Callable[..., Any]) -> None:
    """Register the .netgraph archive functions (see :data:`NAMES`)."""
    unknown = set(functions) - set(NAMES)
    if unknown:
        raise KeyError(f"unknown archive functions: {', '.join(sorted(unknown))}")
    ARCHIVE.update(functions)


def archive(name: str) -> Callable[..., Any]:
    """The registered archive function ``name``."""
    try:
        return ARCHIVE[name]
    except KeyError:
        raise RuntimeError(f"netgraph: the archive function {name} is not registered "
                           "(import netgraph registers it).") from None
