"""NetArray: a reference to one learned array shared by several layers (WL ``NetArray``).

A layer given ``Weights=NetArray("W")`` records in its params that its array "Weights" is
the shared array "W" (``params["shared"] = {"Weights": "W"}``). Every use holds the same
value (one immutable numpy array, or ``None`` while uninitialized); NetInitialize fills all
uses at once, lowering ties them to one torch parameter (gradients sum over the uses) and
NetReplacePart replaces every use. The graph level (``graph/shared.py``) keeps these
invariants; this module is only the value the user types.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from ..errors import LayerError
from ..symbols import Automatic

NET_ARRAY_KEYS = ("Name", "Array", "Dimensions")


class NetArray:
    """NetArray("name"): one learned array, shared by every layer that names it.

    ``NetArray()`` gets a fresh unique name; ``NetArray(Name="W", Array=values)`` also gives
    initial values; ``Dimensions=(3, 3)`` states the dimensions, checked against each layer
    that uses it. ``NetArray(All)`` addresses every shared array in NetExtract.

    >>> NetArray("W")
    NetArray("W")
    >>> NetArray("W") == NetSharedArray("W")
    True
    """

    __slots__ = ("name", "array", "dims")
    name: Any                       # a str, or All (only to address every shared array)
    array: Any                      # initial values, or None
    dims: tuple[int, ...] | None

    def __init__(self, name: Any = Automatic, **props: Any) -> None:
        bad = [k for k in props if k not in NET_ARRAY_KEYS]
        if bad:
            from ..errors import nearest
            raise LayerError("NetArray", f"unknown property {bad[0]!r}."
                             f"{nearest(bad[0], NET_ARRAY_KEYS)} The properties are "
                             f"{', '.join(NET_ARRAY_KEYS)}.")
        if "Name" in props:
            if name is not Automatic:
                raise LayerError("NetArray", "give the name once: NetArray(\"W\") or "
                                 "NetArray(Name=\"W\"), not both.")
            name = props["Name"]
        if name is Automatic:
            name = str(uuid.uuid4())
        from ..symbols import All
        if name is not All and (not isinstance(name, str) or not name):
            raise LayerError("NetArray", f"expected a name (a non-empty string), but received "
                             f"{name!r}.")
        dims = props.get("Dimensions")
        if dims is not None:
            dims = (dims,) if isinstance(dims, int) else dims
            if not isinstance(dims, (tuple, list)) or not all(
                    isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in dims):
                raise LayerError("NetArray", f"expected Dimensions to be a tuple of positive "
                                 f"integers, but received {props['Dimensions']!r}.")
            dims = tuple(dims)
        array = props.get("Array")
        if isinstance(array, str):
            raise LayerError("NetArray", f"Array={array!r}: an initialization method as the "
                             "array is not supported; give numbers, or leave Array out and "
                             "use NetInitialize(net, Method=...).")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "array", array)
        object.__setattr__(self, "dims", dims)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("NetArray is an immutable value.")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NetArray) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("NetArray", self.name))

    def __repr__(self) -> str:
        return f"NetArray({json.dumps(self.name)})" if isinstance(self.name, str) \
            else "NetArray(All)"


def NetSharedArray(name: str) -> NetArray:
    """NetSharedArray("name") is NetArray("name") (WL's spelling before 12.2).

    >>> NetSharedArray("W")
    NetArray("W")
    """
    return NetArray(name)

