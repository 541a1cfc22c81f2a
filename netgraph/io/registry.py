"""Which classes a .netgraph file may name, and how it names the layers inside a net.

A file never names a module to import: its heads are looked up in a registry of
netgraph's own layer classes (and of the frozen dataclasses their params may hold).
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..graph.net import Container
from ..layers.base import Layer
from ..ports import PortRef
from ..shapes import PortType, Restricted
from ..symbols import Scaled

Path = tuple[str, ...]

_SCANNED = ("netgraph.shapes", "netgraph.symbols", "netgraph.ports", "netgraph.graph.net")


def _scanned_modules() -> list[Any]:
    """netgraph's own layer modules: netgraph.layers.* and the containers (nothing else)."""
    import netgraph.layers as pkg
    mods = [importlib.import_module(f"netgraph.layers.{m.name}")
            for m in pkgutil.iter_modules(pkg.__path__)]
    return mods + [importlib.import_module(m) for m in _SCANNED]


def _by_name(classes: list[type]) -> dict[str, type]:
    """Classes by name; a name two modules share gets the module-qualified spelling."""
    counts: dict[str, int] = {}
    for c in classes:
        counts[c.__name__] = counts.get(c.__name__, 0) + 1
    return {(c.__name__ if counts[c.__name__] == 1 else f"{c.__module__}.{c.__name__}"): c
            for c in classes}


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# The package's public names (``netgraph.__all__``), registered by ``netgraph/__init__.py``
# (the package root sits above io: io never imports it).
PUBLIC: set[str] = set()


def register_public(names: Iterable[str]) -> None:
    PUBLIC.update(names)


def layer_registry() -> dict[str, type[Layer]]:
    """The layer classes files may name: public Layer subclasses in netgraph.layers.* and
    netgraph.graph.net, by head name."""
    mods = {m.__name__ for m in _scanned_modules()}
    found = {c for c in _subclasses(Layer)
             if c.__module__ in mods and not c.__name__.startswith("_")}
    # Shared bases (Container, LossLayer, ...) are no heads: a class with subclasses counts
    # only when it is itself a public head.
    found = {c for c in found
             if c.__name__ in PUBLIC or not any(s in found for s in _subclasses(c))}
    return _by_name(sorted(found, key=lambda c: (c.__module__, c.__name__)))


def dataclass_registry() -> dict[str, type]:
    """Frozen dataclasses defined in the scanned modules, for params that hold them."""
    special = {PortType, PortRef, Scaled, Restricted}
    found = []
    for m in _scanned_modules():
        for v in vars(m).values():
            if (isinstance(v, type) and dataclasses.is_dataclass(v) and v.__module__ == m.__name__
                    and v not in special and not issubclass(v, Layer)):
                found.append(v)
    return _by_name(found)


def layer_label(path: Path, head: str) -> str:
    if not path:
        return head
    return "layer " + " ".join(k if k.isdigit() else repr(k) for k in path) + f" ({head})"


def params_path(layer: Layer, path: Path, key: str) -> Path:
    """Where a param's nested layers live: a container's nodes sit right under it."""
    return path if isinstance(layer, Container) and key == "nodes" else path + (key,)


def all_layers(net: Layer, path: Path = ()) -> Iterator[tuple[Path, Layer]]:
    """Every layer value in ``net`` (itself, container nodes, layers held in params)."""
    yield path, net
    for k, v in net.params.items():
        yield from _layers_in(v, params_path(net, path, k))


def _layers_in(v: Any, path: Path) -> Iterator[tuple[Path, Layer]]:
    if isinstance(v, Layer):
        yield from all_layers(v, path)
    elif isinstance(v, Mapping):
        for k, x in v.items():
            yield from _layers_in(x, path + (str(k),))
    elif isinstance(v, (tuple, list, set, frozenset)):
        for i, x in enumerate(v):
            yield from _layers_in(x, path + (str(i),))
