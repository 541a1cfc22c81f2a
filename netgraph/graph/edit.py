"""Net editing, part 1: NetExtract, NetReplacePart and NetRename.

Each head lives in its own module (:mod:`~netgraph.graph.extract`,
:mod:`~netgraph.graph.replace`, :mod:`~netgraph.graph.rename`) and what every edit shares
(:class:`~netgraph.graph.parts.Parts`, :func:`~netgraph.graph.parts.assemble`, ...) in
:mod:`netgraph.graph.parts`; the structural edits (NetTake, NetJoin, ...) are listed in
:mod:`netgraph.graph.surgery`. This module keeps the names importable from here.
"""
from __future__ import annotations

from .extract import NetExtract
from .parts import Parts, assemble, label, layer_key, port_spec, rehead
from .rename import NetRename
from .replace import NetReplacePart

__all__ = ["NetExtract", "NetReplacePart", "NetRename",
           "Parts", "assemble", "label", "layer_key", "port_spec", "rehead"]
