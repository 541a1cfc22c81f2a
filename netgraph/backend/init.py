"""NetInitialize: fill uninitialized arrays (numpy only; deterministic under RandomSeeding)."""
from __future__ import annotations

import math
import os
import secrets
import zlib
from typing import Any

import numpy as np

from ..errors import LayerError, OptionError, ShapeError, check_options
from ..graph.shared import shared_arrays
from ..graph.walk import Path, leaves, map_leaves, path_label
from ..layers.base import ArraySpec, Layer
from ..symbols import All, Automatic, Inherited

METHODS = ("Kaiming", "Xavier", "Orthogonal", "Random", "Identity")


def NetInitialize(net: Layer, which: Any = None, **options: Any) -> Layer:
    """NetInitialize(net) gives a net whose uninitialized arrays are initialized.

    ``NetInitialize(net, All)`` re-initializes every array. Options: ``Method`` ("Kaiming",
    the default, "Xavier", "Orthogonal", "Random", "Identity", or ``(name, {suboptions})``)
    and ``RandomSeeding`` (1234 by default; ``Automatic`` for a fresh seed each call,
    ``Inherited`` for one drawn from numpy's global generator).

    >>> net = NetInitialize(LinearLayer(2, Input=3))
    >>> NetExtract(net, "Weights").shape
    (2, 3)
    """
    check_options("NetInitialize", options, ("Method", "RandomSeeding"))
    if which is not None and which is not All:
        raise OptionError("NetInitialize", f"expected All as the second argument, but received "
                          f"{which!r}.")
    method, sub = _method(options.get("Method", "Kaiming"))
    rng = np.random.default_rng(seed_of(options.get("RandomSeeding", 1234)))
    everything = which is All
    _check_size(net, everything)
    # a shared array is initialized once, at its first use, and every use holds that value
    shared: dict[str, np.ndarray] = {} if everything else {
        n: v for n, (v, _, _) in shared_arrays("NetInitialize", net).items() if v is not None}

    def init_leaf(path: Path, layer: Layer) -> Layer:
        if getattr(layer, "stand_in", False):   # PlaceholderLayer: nothing to initialize
            name = layer.describe()  # type: ignore[attr-defined]
            where = f"layer {path_label(path)} ({name})" if path else name
            raise LayerError("NetInitialize", f"{where} is a placeholder: it "
                             "declares ports but computes nothing, so the net cannot be "
                             "initialized; replace it with real layers (NetReplacePart).")
        todo = _todo(layer, everything)
        if not todo:
            return layer
        specs, names = layer.array_specs(), layer.shared_names()
        new = dict(layer.arrays)
        for k in todo:
            if names.get(k) in shared:
                new[k] = shared[names[k]]
                continue
            spec = specs[k]
            if spec.shape is None or any(d is None for d in spec.shape):
                raise ShapeError("NetInitialize", f'the shape of array "{k}" of '
                                 f"{_where(path, layer)} is not known: {_unknown_port(layer)} "
                                 "could not be inferred; specify it (e.g. Input=... on the "
                                 "net or on the layer).")
            arr = make_array(spec, method, sub, rng)
            arr.flags.writeable = False
            new[k] = arr
            if k in names:
                shared[names[k]] = arr
        return layer._replace(arrays=new)

    out = map_leaves(net, init_leaf)
    shared_arrays("NetInitialize", out)  # uses of one name must have one shape
    return out


def _todo(layer: Layer, everything: bool) -> list[str]:
    return [k for k, a in layer.arrays.items() if everything or a is None]


def _check_size(net: Layer, everything: bool) -> None:
    """Refuse, before allocating anything, a net whose new arrays exceed the free memory."""
    total, largest = 0, (0, "")
    for path, layer in leaves(net):
        todo = _todo(layer, everything)
        specs = layer.array_specs() if todo else {}
        for k in todo:
            shape = specs[k].shape
            if shape is None or any(d is None for d in shape):
                continue  # init_leaf says which shape is unknown
            n = math.prod(int(d) for d in shape)
            total += n
            largest = max(largest, (n, f'"{k}" of {_where(path, layer)}'))
    need, free = 4 * total, available_memory()   # Real32: 4 bytes an element
    if free is not None and need > free:
        raise ShapeError("NetInitialize", f"the net asks for {total:,} parameters "
                         f"({_bytes(need)} as Real32), more than the {_bytes(free)} of memory "
                         f"available; the largest array is {largest[1]} with {largest[0]:,} "
                         "elements. Check the layer sizes.")


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (MemAvailable), None when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _bytes(n: int) -> str:
    size, unit = float(n), "bytes"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024 or unit == "PiB":
            break
        size /= 1024
    return f"{size:.1f} {unit}" if unit != "bytes" else f"{n} bytes"


def _unknown_port(layer: Layer) -> str:
    for side, types, ports in (("input", layer.in_types, layer.input_ports()),
                               ("output", layer.out_types, layer.output_ports())):
        for p in ports:
            t = types.get(p)
            if t is None or not t.is_known():
                return f'the shape of its {side} port "{p}"'
    return "some of its port shapes"


def _where(path: Path, layer: Layer) -> str:
    return f"layer {path_label(path)} ({layer.head})" if path else layer.head


def check_seed(head: str, seed: Any) -> None:
    """Raise an OptionError unless ``seed`` is a RandomSeeding value: an integer, a string,
    Automatic or Inherited."""
    ok = seed is Automatic or seed is Inherited or isinstance(seed, str) or (
        isinstance(seed, (int, np.integer)) and not isinstance(seed, bool))
    if not ok:
        raise OptionError(head, f"expected RandomSeeding to be an integer, a string, Automatic "
                          f"or Inherited, but received {seed!r}.")


def seed_of(seed: Any, head: str = "NetInitialize") -> int:
    """RandomSeeding -> a seed in [0, 2**63): an integer as given (mod 2**63), a string's
    CRC-32, fresh bits for Automatic, a draw from numpy's global generator for Inherited.
    The one seed function of netgraph (NetInitialize, NetTrain, evaluation)."""
    check_seed(head, seed)
    if seed is Automatic:
        return secrets.randbits(63)
    if seed is Inherited:
        return int(np.random.randint(0, 2**31 - 1))
    if isinstance(seed, str):
        return zlib.crc32(seed.encode())
    return int(seed) % (2**63)


def _method(m: Any) -> tuple[str, dict]:
    sub: dict = {}
    if isinstance(m, tuple) and len(m) == 2 and isinstance(m[1], dict):
        m, sub = m
    if m is Automatic:
        m = "Kaiming"
    if m not in METHODS:
        from ..errors import nearest
        raise OptionError("NetInitialize", f"unknown Method {m!r}.{nearest(str(m), METHODS)} "
                          f"Valid methods are {', '.join(METHODS)}.")
    return m, sub


def _sd(value: Any, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) else default


# Random values are drawn in float64 (the stream NetInitialize has always used, so a seed gives
# the same arrays as before) a chunk at a time into the float32 array: never a float64 copy of
# a whole array.
CHUNK = 1 << 20


def _fill(shape: tuple[int, ...], draw: Any) -> np.ndarray:
    """A float32 array of ``shape`` filled by ``draw(n)`` (n float64 values), chunk by chunk."""
    out = np.empty(shape, np.float32)
    flat = out.reshape(-1)
    for i in range(0, flat.size, CHUNK):
        flat[i:i + CHUNK] = draw(min(CHUNK, flat.size - i))
    return out


def make_array(spec: ArraySpec, method: str, sub: dict, rng: np.random.Generator) -> np.ndarray:
    shape = tuple(int(d) for d in spec.shape or ())
    if spec.init in ("biases", "zeros"):
        return np.zeros(shape, np.float32)
    if spec.init == "ones":
        return np.ones(shape, np.float32)
    if spec.init == "constant":
        return np.full(shape, spec.value, np.float32)
    fan_in = spec.fan_in or (int(np.prod(shape[1:])) if len(shape) > 1 else 1)
    fan_out = spec.fan_out or (shape[0] if shape else 1)
    if method == "Kaiming":
        return _fill(shape, lambda n: rng.normal(0.0, np.sqrt(2.0 / fan_in), n))
    if method == "Xavier":
        if sub.get("Distribution", "Normal") == "Uniform":
            lim = np.sqrt(6.0 / (fan_in + fan_out))
            return _fill(shape, lambda n: rng.uniform(-lim, lim, n))
        return _fill(shape, lambda n: rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), n))
    if method == "Orthogonal":
        return np.asarray(_orthogonal(shape, rng), np.float32)
    if method == "Random":
        return _fill(shape, lambda n: rng.normal(0.0, _sd(sub.get("Weights"), 1.0), n))
    # Identity: the identity plus small noise
    rows = shape[0] if shape else 1
    w = _fill(shape, lambda n: rng.normal(0.0, _sd(sub.get("Distribution"), 0.01), n))
    w.reshape(rows, -1)[np.arange(min(rows, w.size // max(rows, 1))),
                        np.arange(min(rows, w.size // max(rows, 1)))] += 1
    return w


def _orthogonal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if len(shape) < 2:
        return rng.normal(0.0, 1.0, shape)
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    q = q if rows >= cols else q.T
    return q[:rows, :cols].reshape(shape)
