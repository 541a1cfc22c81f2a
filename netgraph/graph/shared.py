"""Shared arrays in a net: where each ``NetArray("name")`` is used, and keeping the uses one.

A layer records its shared arrays in ``params["shared"]`` (see ``layers/shared.py``); every
use of a name holds the same value. The functions here find the uses, check that they
agree (shapes and values), give all of them one value (NetInitialize, NetReplacePart), and
make a net's arrays shared (``NetInsertSharedArrays``).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConnectionError_, ShapeError
from ..layers.base import Layer
from ..layers.shared import NetArray
from ..symbols import All
from .walk import Path, leaves, map_leaves, path_label


@dataclass(frozen=True)
class Use:
    """One use of a shared array: the layer's path, the layer and its array name."""

    path: Path
    layer: Layer
    array: str

    def where(self) -> str:
        what = f'array "{self.array}" of '
        return what + (f"layer {path_label(self.path)} ({self.layer.head})" if self.path
                       else self.layer.head)


def uses(net: Layer) -> dict[str, list[Use]]:
    """{shared name: its uses, in the net's order}."""
    out: dict[str, list[Use]] = {}
    for path, layer in leaves(net):
        for k, name in layer.shared_names().items():
            out.setdefault(name, []).append(Use(path, layer, k))
    return out


def _shape(u: Use) -> tuple | None:
    a = u.layer.arrays.get(u.array)
    if a is not None:
        return tuple(a.shape)
    spec = u.layer.array_specs().get(u.array)
    shape = None if spec is None else spec.shape
    return tuple(shape) if shape is not None and all(isinstance(d, int) for d in shape) else None


def shared_arrays(head: str, net: Layer) -> dict[str, tuple[np.ndarray | None, tuple | None,
                                                            list[Use]]]:
    """{name: (value or None, dims or None, uses)}, refusing uses that disagree."""
    out = {}
    for name, us in uses(net).items():
        dims, value, first = None, None, None
        for u in us:
            s, a = _shape(u), u.layer.arrays.get(u.array)
            if s is not None and dims is not None and s != dims:
                raise ShapeError(head, f"{NetArray(name)!r} is used with dimensions "
                                 f"{list(dims)} by {first.where()}, but with {list(s)} "  # type: ignore[union-attr]
                                 f"by {u.where()}.")
            if s is not None and dims is None:
                dims, first = s, u
            if a is not None and value is not None and a is not value and not np.array_equal(
                    a, value):
                raise ShapeError(head, f"{NetArray(name)!r} holds different values in "
                                 f"{_first_valued(us).where()} and {u.where()} (nets combined "
                                 f"after they were initialized?); set one value with "
                                 f"NetReplacePart(net, ({NetArray(name)!r}, value)).")
            value = a if value is None else value
        out[name] = (value, dims, us)
    return out


def _first_valued(us: list[Use]) -> Use:
    return next(u for u in us if u.layer.arrays.get(u.array) is not None)


def with_shared_values(net: Layer, values: dict[str, np.ndarray | None]) -> Layer:
    """``net`` with every use of each name in ``values`` set to that value."""
    def fill(path: Path, layer: Layer) -> Layer:
        names = layer.shared_names()
        new = {k: values[n] for k, n in names.items() if n in values}
        if not new or all(layer.arrays.get(k) is v for k, v in new.items()):
            return layer
        return layer._replace(arrays={**layer.arrays, **new})
    return map_leaves(net, fill)


def shared_part(head: str, net: Layer, ref: NetArray) -> Any:
    """NetExtract(net, NetArray("W")): its value (``Automatic`` while uninitialized);
    ``NetArray(All)``: a dict {NetArray(name): value} of every shared array."""
    from ..symbols import Automatic
    found = shared_arrays(head, net)
    if ref.name is All:
        return {NetArray(n): Automatic if v is None else v for n, (v, _, _) in found.items()}
    if ref.name not in found:
        raise ConnectionError_(head, f"the net has no shared array {ref.name!r}; its shared "
                               f"arrays are {', '.join(map(repr, found)) or 'none'}.")
    value = found[ref.name][0]
    return Automatic if value is None else value


def expand_rules(head: str, net: Layer, items: list[tuple[tuple, Any]]
                 ) -> list[tuple[tuple, Any]]:
    """NetReplacePart rules with each shared array, named by ``NetArray("W")`` or by any one
    of its uses' paths, replaced at every use (so the uses stay one array)."""
    if not any(isinstance(p[0], NetArray) for p, _ in items) and not uses(net):
        return items
    found = shared_arrays(head, net)
    by_path = {(*u.path, u.array): n for n, (_, _, us) in found.items() for u in us}
    out = []
    for part, value in items:
        key = _key_path(net, part)
        name = part[0].name if len(part) == 1 and isinstance(part[0], NetArray) else \
            None if key is None else by_path.get(key)
        if name is None:
            out.append((part, value))
            continue
        if name not in found:
            raise ConnectionError_(head, f"the net has no shared array {name!r}; its shared "
                                   f"arrays are {', '.join(map(repr, found)) or 'none'}.")
        out += [((*_user_path(u.path), u.array), value) for u in found[name][2]]
    return out


def _key_path(net: Layer, part: tuple) -> tuple | None:
    """A user path (positions or names, then an array name) as node keys, if it is one."""
    from .parts import children
    keys: list[str] = []
    node = net
    for p in part[:-1]:
        kids = children(node)
        if p not in kids:
            return None
        keys.append(str(p))
        node = kids[p]
    return (*keys, part[-1]) if part else None


def _user_path(path: Path) -> tuple:
    return tuple(int(k) if k.isdigit() else k for k in path)


def NetInsertSharedArrays(net: Layer, prefix: str = "") -> Layer:
    """NetInsertSharedArrays(net) gives net with every array a shared ``NetArray``.

    Each array is named after its position in ``net`` ("1/Weights", or "prefix/1/Weights"
    with a prefix), so copies of the result inside a larger net use one set of arrays
    (BatchNormalization's moving statistics stay per layer, as in WL).

    >>> shared = NetInsertSharedArrays(NetChain([LinearLayer(2)], Input=3))
    >>> NetExtract(shared, 1).shared_names()
    {'Weights': '1/Weights', 'Biases': '1/Biases'}
    """
    if not isinstance(prefix, str):
        from ..errors import OptionError
        raise OptionError("NetInsertSharedArrays", f"expected a prefix string, but received "
                          f"{prefix!r}.")

    def share(path: Path, layer: Layer) -> Layer:
        specs = layer.array_specs()
        names = {k: "/".join(p for p in (prefix, *path, k) if p)
                 for k in layer.arrays if specs.get(k) is None or not specs[k].auxiliary}
        names = {**names, **layer.shared_names()}  # already shared arrays keep their names
        if not names:
            return layer
        return layer._replace(params={**layer.params, "shared": names})
    return map_leaves(net, share)


def iter_shared(net: Layer) -> Iterator[tuple[str, Use]]:
    for name, us in uses(net).items():
        for u in us:
            yield name, u
