"""Per-array training settings: LearningRateMultipliers and the per-array Method suboptions.

Rules are given as WL gives them: a number (every array), or rules ``[(spec, value), ...]``
(also a dict, or one ``(spec, value)`` pair) where the first matching rule wins. A spec is
``All``, a layer position ``n`` (1-based; negative counts from the end), a layer name, a
``slice(m, n)`` (WL ``m;;n``, inclusive), or a path tuple such as ``("lstm", "Biases")`` or
``(2, 1, "Weights")`` that matches the arrays under it. A multiplier of 0 or None freezes an
array; a negative one ascends its gradient. A NetGraph's own ``LearningRateMultipliers``
option applies inside it after NetTrain's rules.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..errors import OptionError, TrainingError
from ..graph.net import Container
from ..graph.walk import children
from ..layers.base import Layer
from ..symbols import All, Automatic

HEAD = "NetTrain"


@dataclass(frozen=True)
class ArrayRef:
    """One WL array of the net: its path, name, torch parameters and the keys at each level."""

    path: tuple[str, ...]
    name: str
    params: tuple[nn.Parameter, ...]
    levels: tuple[tuple[str, ...], ...]

    @property
    def full(self) -> tuple[str, ...]:
        return (*self.path, self.name)

    def label(self) -> str:
        return "(" + ", ".join(k if not k.isdigit() else k for k in self.full) + ")"


def array_refs(net: Layer, module: Any, path: tuple[str, ...] = (),
               levels: tuple[tuple[str, ...], ...] = ()) -> Iterator[ArrayRef]:
    """Every array of ``net`` with the torch parameters behind it in ``module``."""
    if isinstance(net, Container):
        keys = tuple(net.nodes)
        for k, layer in net.nodes.items():
            yield from array_refs(layer, module.layers[k.replace(".", "_")],
                                  path + (k,), levels + (keys,))
        return
    if not hasattr(module, "array_parameters") and hasattr(module, "layers"):
        module = module.layers["1"]
    nets = children(net)
    if nets and hasattr(module, "inner"):  # an operator: the arrays of its nets
        keys = tuple(nets)
        for k, sub in nets.items():
            yield from array_refs(sub, module.inner[k], path + (k,), levels + (keys,))
    mapping = module.array_parameters() if hasattr(module, "array_parameters") else {}
    names = tuple(mapping)
    for name, ps in mapping.items():
        yield ArrayRef(path, name, tuple(ps), levels + (names,))


Rule = tuple[tuple[str, ...], Any, Any]  # (scope prefix, spec, value)


def parse_rules(option: str, given: Any, default: Any) -> list[Rule]:
    """A number, None, a dict, a list of (spec, value) pairs or one pair -> rules."""
    if given is Automatic:
        return []
    if given is None or isinstance(given, (int, float)) and not isinstance(given, bool):
        return [((), All, given)]
    if isinstance(given, Mapping):
        items = list(given.items())
    elif isinstance(given, tuple) and len(given) == 2 and _is_value(given[1]):
        items = [given]
    elif isinstance(given, list) and all(isinstance(r, tuple) and len(r) == 2 for r in given):
        items = list(given)
    else:
        raise OptionError(HEAD, f"expected {option} to be a number, None or a list of rules "
                          f"(spec, value), but received {given!r}.")
    for _, v in items:
        if not _is_value(v):
            raise OptionError(HEAD, f"expected the values of {option} to be numbers or None, "
                              f"but received {v!r}.")
    return [((), spec, v) for spec, v in items]


def _is_value(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def graph_rules(net: Layer, path: tuple[str, ...] = ()) -> list[Rule]:
    """The LearningRateMultipliers of NetGraph/NetChain values inside ``net``, and of layers
    that take the option themselves (their param "lrm"), scoped."""
    if not isinstance(net, Container):
        own_lrm = net.params.get("lrm", Automatic)
        return [(path, s, v) for _, s, v in parse_rules("LearningRateMultipliers", own_lrm, 1.0)]
    own = [(path, s, v) for _, s, v in parse_rules("LearningRateMultipliers",
                                                     net.params.get("lrm") or Automatic, 1.0)]
    return own + [r for k, layer in net.nodes.items() for r in graph_rules(layer, path + (k,))]


def lookup(rules: list[Rule], ref: ArrayRef, default: Any) -> Any:
    """The value of the first rule that matches the array (WL's first-match order)."""
    for scope, spec, value in rules:
        if ref.full[:len(scope)] == scope and matches(spec, ref, len(scope)):
            return value
    return default


def matches(spec: Any, ref: ArrayRef, start: int = 0) -> bool:
    """Whether ``spec`` selects ``ref`` (``start``: the level the spec is relative to)."""
    parts = spec if isinstance(spec, tuple) else (spec,)
    full = ref.full[start:]
    if len(parts) > len(full):
        return False
    return all(_part(p, full[i], ref.levels[start + i]) for i, p in enumerate(parts))


def _part(p: Any, key: str, keys: tuple[str, ...]) -> bool:
    if p is All:
        return True
    pos = keys.index(key) + 1 if key in keys else 0
    if isinstance(p, bool):
        return False
    if isinstance(p, int):
        return pos == (p if p > 0 else len(keys) + 1 + p)
    if isinstance(p, str):
        return p == key
    if isinstance(p, slice):
        lo = 1 if p.start is None else (p.start if p.start > 0 else len(keys) + 1 + p.start)
        hi = len(keys) if p.stop is None else (p.stop if p.stop > 0 else len(keys) + 1 + p.stop)
        return lo <= pos <= hi
    raise OptionError(HEAD, f"expected an array spec (a layer position or name, a slice, All "
                      f"or a path tuple), but received {p!r}.")


@dataclass
class Settings:
    """Training settings of one torch parameter."""

    multiplier: float
    l2: float | None
    grad_clip: float | None
    weight_clip: float | None

    def key(self) -> tuple:
        return (self.multiplier, self.l2, self.grad_clip, self.weight_clip)


def param_settings(refs: list[ArrayRef], lrm: list[Rule], per_array: Mapping[str, list[Rule]]
                   ) -> dict[nn.Parameter, tuple[Settings, str]]:
    """Each parameter's settings; arrays sharing one parameter must agree."""
    out: dict[nn.Parameter, tuple[Settings, str]] = {}
    for ref in refs:
        m = lookup(lrm, ref, 1.0)
        s = Settings(0.0 if m is None else float(m),
                     *(lookup(per_array[k], ref, None) for k in
                       ("L2Regularization", "GradientClipping", "WeightClipping")))
        for p in ref.params:
            if p in out and out[p][0].key() != s.key():
                raise TrainingError(HEAD, f"arrays {out[p][1]} and {ref.label()} are stored in "
                                    "one torch parameter, so they cannot have different "
                                    "LearningRateMultipliers or per-array settings.")
            out.setdefault(p, (s, ref.label()))
    return out


def param_groups(module: nn.Module, settings: Mapping[nn.Parameter, tuple[Settings, str]],
                 base_lr: float, fallback: Settings) -> tuple[list[dict], list, list]:
    """Torch parameter groups (one per distinct settings) and the clipping lists.

    Frozen parameters stop requiring gradients; negative multipliers negate the gradient
    (so the optimizer ascends) and use the absolute value as the rate.
    """
    groups: dict[tuple, dict[str, Any]] = {}
    for p in module.parameters():
        if not p.requires_grad:
            continue
        s = settings.get(p, (fallback, ""))[0]
        if s.multiplier == 0:
            p.requires_grad_(False)
            continue
        if s.multiplier < 0:
            p.register_hook(torch.neg)
        g = groups.setdefault(s.key(), {"params": [], "lr": base_lr * abs(s.multiplier),
                                        "weight_decay": float(s.l2 or 0.0), "_s": s})
        g["params"].append(p)
    gclip = [(g["params"], float(g["_s"].grad_clip)) for g in groups.values()
             if g["_s"].grad_clip is not None]
    wclip = [(g["params"], float(g["_s"].weight_clip)) for g in groups.values()
             if g["_s"].weight_clip is not None]
    for g in groups.values():
        del g["_s"]
    return list(groups.values()), gclip, wclip
