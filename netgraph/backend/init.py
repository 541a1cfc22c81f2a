"""NetInitialize: fill uninitialized arrays (numpy only; deterministic under RandomSeeding)."""
from __future__ import annotations

import secrets
import zlib
from typing import Any

import numpy as np

from ..errors import OptionError, ShapeError, check_options
from ..graph.walk import Path, map_leaves, path_label
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

    def init_leaf(path: Path, layer: Layer) -> Layer:
        specs = layer.array_specs()
        todo = [k for k, a in layer.arrays.items() if everything or a is None]
        if not todo:
            return layer
        new = dict(layer.arrays)
        for k in todo:
            spec = specs[k]
            if spec.shape is None or any(d is None for d in spec.shape):
                raise ShapeError("NetInitialize", f'the shape of array "{k}" of '
                                 f"{_where(path, layer)} is not known: {_unknown_port(layer)} "
                                 "could not be inferred; specify it (e.g. Input=... on the "
                                 "net or on the layer).")
            arr = make_array(spec, method, sub, rng)
            arr.flags.writeable = False
            new[k] = arr
        return layer._replace(arrays=new)

    return map_leaves(net, init_leaf)


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


def make_array(spec: ArraySpec, method: str, sub: dict, rng: np.random.Generator) -> np.ndarray:
    shape = tuple(int(d) for d in spec.shape or ())
    if spec.init in ("biases", "zeros"):
        return np.zeros(shape, np.float32)
    if spec.init == "ones":
        return np.ones(shape, np.float32)
    fan_in = spec.fan_in or (int(np.prod(shape[1:])) if len(shape) > 1 else 1)
    fan_out = spec.fan_out or (shape[0] if shape else 1)
    if method == "Kaiming":
        w = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
    elif method == "Xavier":
        if sub.get("Distribution", "Normal") == "Uniform":
            lim = np.sqrt(6.0 / (fan_in + fan_out))
            w = rng.uniform(-lim, lim, shape)
        else:
            w = rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), shape)
    elif method == "Orthogonal":
        w = _orthogonal(shape, rng)
    elif method == "Random":
        w = rng.normal(0.0, _sd(sub.get("Weights"), 1.0), shape)
    else:  # Identity
        rows = shape[0] if shape else 1
        eye = np.eye(rows, int(np.prod(shape[1:])) if len(shape) > 1 else 1).reshape(shape)
        w = eye + rng.normal(0.0, _sd(sub.get("Distribution"), 0.01), shape)
    return np.asarray(w, np.float32)


def _orthogonal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    if len(shape) < 2:
        return rng.normal(0.0, 1.0, shape)
    rows, cols = shape[0], int(np.prod(shape[1:]))
    a = rng.normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    q = q if rows >= cols else q.T
    return q[:rows, :cols].reshape(shape)
