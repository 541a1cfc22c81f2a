"""Values derived from a net (evaluators, nets retyped by the data), kept outside the net.

A net is a value: evaluating it must not make it grow. What evaluation derives from a net is
kept here, keyed by the net's identity through a weak reference (an entry goes when its net
does; the derived values must therefore not hold their net) and by the rest of the key
(device and precision, the data's shapes). Each net keeps at most ``per_net`` entries, the
oldest going first, so a net evaluated on ever new shapes holds a bounded amount.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ..layers.base import Layer

T = TypeVar("T")


class NetCache:
    """Bounded per-net caches of derived values (see the module docstring)."""

    def __init__(self, per_net: int = 8) -> None:
        self.per_net = per_net
        self._nets: weakref.WeakKeyDictionary[Layer, dict[Hashable, Any]] = \
            weakref.WeakKeyDictionary()

    def get(self, net: Layer, key: Hashable) -> Any:
        """The value stored for ``(net, key)``, or None."""
        entries = self._nets.get(net)
        return None if entries is None else entries.get(key)

    def put(self, net: Layer, key: Hashable, value: T) -> T:
        entries = self._nets.setdefault(net, {})
        entries[key] = value
        while len(entries) > self.per_net:
            del entries[next(iter(entries))]   # the oldest
        return value

    def get_or_make(self, net: Layer, key: Hashable, make: Callable[[], T]) -> T:
        found = self.get(net, key)
        return found if found is not None else self.put(net, key, make())

    def entries(self, net: Layer) -> int:
        """How many values are stored for ``net``."""
        return len(self._nets.get(net, ()))


EVALUATORS = NetCache(per_net=4)   # by (device, dtype)
TYPED = NetCache(per_net=16)       # nets retyped by the data, by the open ports' types
GRADIENT_MODULES = NetCache(per_net=4)   # modules for NetPortGradient, by (device, dtype)
