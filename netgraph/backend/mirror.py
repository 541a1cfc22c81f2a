"""Mirroring: trade compute for memory by recomputing activations in the backward pass.

``set_mirroring(module, mode)`` switches a lowered module (a GraphModule, or any module that
holds some) in place, and ``mode=False`` switches it back. Nothing changes on the normal path:
mirroring swaps the classes of the modules it touches for subclasses, and swapping back
restores the original objects' behaviour exactly.

- **Recurrent layers** (``nn.LSTM``/``nn.GRU``/``nn.RNN`` anywhere in the module): the fused
  kernel runs over chunks of about sqrt(T) steps, carrying the state, and each chunk is
  recomputed in the backward pass (backend/chunked.py). ``chunk=`` sets the steps per chunk.
- **The graph's plan**: the generated ``forward`` is cut into segments of about sqrt(n) of
  its n layer statements, each run under ``torch.utils.checkpoint`` (``use_reentrant=False``,
  RNG state preserved so dropout masks repeat); only segment inputs are kept. Statements
  that call a recurrent layer or a nested graph are not wrapped: those mirror themselves.
  Buffers a segment updates in the forward pass (BatchNormalization running statistics)
  are restored after the recomputation, so they are updated once per step, as without it.

With grad disabled (evaluation) every mirrored module takes its plain path. Gradients equal
the plain ones (float64: to rounding); outputs are the same.

``mode=Automatic`` decides per batch shape (cached): mirroring is on when the batch's
**estimated activation memory** exceeds the **limit**.

- The estimate (:func:`activation_bytes`) is measured, not guessed: one forward pass of the
  plain module on the batch, with grad enabled, under ``saved_tensors_hooks`` that add up the
  storage bytes of every tensor autograd saves for the backward pass and drop it at once
  (so the measurement itself needs only forward memory). Parameters, buffers and the batch
  itself are not counted: they are held either way. RNG and buffers are restored after it.
- The limit, in bytes: ``limit=`` if given, else the environment variable
  ``NETGRAPH_MIRRORING_LIMIT``, else :data:`FRACTION` (half) of the memory available now on
  the module's device (free GPU memory from ``torch.cuda.mem_get_info``; on the CPU,
  ``MemAvailable`` of /proc/meminfo), else :data:`FALLBACK_LIMIT` (4 GiB).
- ``mode`` may also be ``(Automatic, {"MemoryLimit": bytes})``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import OptionError
from ..symbols import Automatic
from .chunked import mirrored_forward
from .init import available_memory as host_memory_available
from .lower import GraphModule
from .mirror_plan import kept_buffers, mirrored_graph_class

FRACTION = 0.5
FALLBACK_LIMIT = 4 << 30
ENV_LIMIT = "NETGRAPH_MIRRORING_LIMIT"
_RNN_CLASSES: dict[type, type] = {}


def set_mirroring(module: nn.Module, mode: Any, *, limit: int | None = None,
                  chunk: int | None = None, segment: int | None = None) -> nn.Module:
    """Switch mirroring of ``module`` to ``mode`` (True, False or Automatic), in place.

    Args:
        module: a lowered module (``lower(net)``) or a module holding some.
        mode: True, False (or None), Automatic, or ``(Automatic, {"MemoryLimit": bytes})``.
        limit: the memory limit of Automatic, in bytes (see the module docstring).
        chunk: steps per chunk of recurrent layers (default about sqrt(T)).
        segment: layer statements per checkpointed segment (default about sqrt(n)).

    Returns:
        ``module`` itself.
    """
    mode, limit = parse_mode(mode, limit)
    _unmirror(module)
    if mode is False:
        return module
    m: Any
    for m in module.modules():
        if isinstance(m, nn.RNNBase):
            m.__class__ = _rnn_class(type(m))
            m.mirror_chunk = chunk
        elif isinstance(m, GraphModule):
            m.__class__ = mirrored_graph_class(m, segment)
            setattr(m, "mirror_auto", None)  # noqa: B010 - typed Module
        else:
            continue
        m.mirror_on = mode is True
    if mode is Automatic:
        for root in roots(module):
            setattr(root, "mirror_auto", AutoMirror(limit))  # noqa: B010 - typed Module
    return module


def parse_mode(mode: Any, limit: int | None = None) -> tuple[Any, int | None]:
    """(True | False | Automatic, limit) from a Mirroring option value."""
    if isinstance(mode, (tuple, list)) and len(mode) == 2 and isinstance(mode[1], dict):
        mode, opts = mode
        limit = opts.get("MemoryLimit", limit)
    if mode is None:
        return False, limit
    if mode in (True, False) and isinstance(mode, bool) or mode is Automatic:
        return mode, limit
    if mode == "Automatic":
        return Automatic, limit
    raise OptionError("NetTrain", "expected Mirroring to be True, False or Automatic (or "
                      '(Automatic, {"MemoryLimit": bytes})), but received ' f"{mode!r}.")


def mirroring_state(module: nn.Module) -> bool:
    """Whether ``module`` currently runs mirrored (for Automatic: as last decided)."""
    return any(getattr(m, "mirror_on", False) for m in module.modules())


def roots(module: nn.Module) -> list[GraphModule]:
    """The outermost GraphModules in ``module`` (``module`` itself if it is one)."""
    if isinstance(module, GraphModule):
        return [module]
    return [r for c in module.children() for r in roots(c)]


def _rnn_class(base: type) -> type:
    if base not in _RNN_CLASSES:
        _RNN_CLASSES[base] = type(f"Mirrored{base.__name__}", (base,),
                                  {"forward": mirrored_forward, "mirror_base": base,
                                   "__module__": __name__})
    return _RNN_CLASSES[base]


def _unmirror(module: nn.Module) -> None:
    for m in module.modules():
        base = type(m).__dict__.get("mirror_base")
        if base is not None:
            m.__class__ = base
            for a in ("mirror_on", "mirror_chunk", "mirror_auto"):
                m.__dict__.pop(a, None)


def _switch(root: nn.Module, on: bool) -> None:
    m: Any
    for m in root.modules():
        if "mirror_on" in m.__dict__:
            m.mirror_on = on


@dataclass
class AutoMirror:
    """Mirroring=Automatic's state on a root module: the limit and the decision per shape."""

    limit: int | None = None
    decisions: dict[tuple, bool] = field(default_factory=dict)
    estimates: dict[tuple, int] = field(default_factory=dict)
    current: bool | None = None

    def decide(self, root: Any, args: tuple) -> bool:
        """Whether to mirror a call of ``root`` on ``args`` (measured once per shape)."""
        key = tuple((tuple(a.shape), a.dtype, a.device) if isinstance(a, Tensor) else None
                    for a in args)
        on = self.decisions.get(key)
        if on is None:
            _switch(root, False)
            self.current = False
            est = self.estimates[key] = activation_bytes(root.mirror_plain, root, *args)
            on = self.decisions[key] = est > memory_limit(_device_of(root), self.limit)
        if on is not self.current:
            _switch(root, on)
            self.current = on
        return on


def memory_limit(device: torch.device, limit: int | None = None) -> int:
    """Mirroring=Automatic's limit in bytes on ``device`` (see the module docstring)."""
    if limit is not None:
        return int(limit)
    env = os.environ.get(ENV_LIMIT)
    if env:
        try:
            return int(float(env))
        except ValueError:
            raise OptionError("NetTrain", f"expected the environment variable {ENV_LIMIT} to "
                              f"be a number of bytes, but received {env!r}.") from None
    free = available_memory(device)
    return int(FRACTION * free) if free else FALLBACK_LIMIT


def available_memory(device: torch.device) -> int | None:
    """Bytes of memory available now on ``device``, or None when unknown."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    return host_memory_available()


def _device_of(module: nn.Module) -> torch.device:
    for t in (*module.parameters(), *module.buffers()):
        return t.device
    return torch.device("cpu")


def activation_bytes(fn: Any, module: nn.Module, *args: Any, **kwargs: Any) -> int:
    """Bytes of activations autograd keeps for backward in ``fn(module, *args, **kwargs)``.

    The forward pass runs with grad enabled; each saved tensor's storage is counted once and
    dropped at once. Storages of parameters, buffers and tensor arguments are not counted.
    RNG state and buffers are restored afterwards, so the measurement changes nothing.

    >>> lin = torch.nn.Linear(3, 4)
    >>> activation_bytes(lambda m, x: torch.tanh(m(x)), lin, torch.zeros(5, 3))  # 5x4 floats
    80
    """
    held = {_ptr(t) for t in (*module.parameters(), *module.buffers())}
    held |= {_ptr(a) for a in (*args, *kwargs.values()) if isinstance(a, Tensor)}
    seen: dict[int, Any] = {}
    total = [0]

    def pack(t: Tensor) -> int:
        p = _ptr(t)
        if p not in held and (p not in seen or seen[p]() is None):
            seen[p] = _weak(t)
            total[0] += t.untyped_storage().nbytes()
        return 0

    dev = _device_of(module)
    devices = [dev.index or 0] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=devices), kept_buffers(list(module.buffers())), \
            torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(pack, _unpack):
        fn(module, *args, **kwargs)
    return total[0]


def _ptr(t: Tensor) -> int:
    return int(t.untyped_storage().data_ptr())


def _weak(t: Tensor) -> Any:
    import weakref
    return weakref.ref(t)


def _unpack(_: Any) -> Tensor:
    raise RuntimeError("activation_bytes: this forward pass was for measuring only.")
