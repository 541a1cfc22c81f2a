"""Net surgery, part 2: NetTake, NetDrop, NetDelete, NetAppend, NetPrepend, NetJoin,
NetInsert and NetFlatten.

They live in :mod:`~netgraph.graph.subnet` (parts of a net), :mod:`~netgraph.graph.join`
(nets end to end) and :mod:`~netgraph.graph.flatten`; this module keeps the names
importable from here.
"""
from __future__ import annotations

from .flatten import NetFlatten
from .join import NetAppend, NetInsert, NetJoin, NetPrepend, merge
from .parts import chain_parts
from .subnet import NetDelete, NetDrop, NetTake

__all__ = ["NetTake", "NetDrop", "NetDelete", "NetAppend", "NetPrepend", "NetJoin",
           "NetInsert", "NetFlatten", "merge", "chain_parts"]
