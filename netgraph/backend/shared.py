"""Shared arrays in a lowered module: every use of a ``NetArray`` is one torch parameter.

After lowering, each use of a shared array has its own parameter holding the same value;
:func:`tie_shared` points every use at the first use's parameter, so the module has one
parameter per shared array, the optimizer updates it once and its gradient is the sum over
the uses (autograd accumulates into one ``.grad``).

A layer may store several WL arrays in one torch parameter (a recurrent layer's gates are
fused); such a parameter is shared only when all of the arrays in it are shared, with the
same names in every use.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import EvaluationError
from ..graph.shared import shared_arrays
from ..layers.base import Layer
from .operators import module_at


def _key(head: str, module: Any, use_array: str, names: dict[str, str]) -> tuple[nn.Parameter,
                                                                                tuple]:
    """The parameter behind one use, and the names of every array it stores (its key)."""
    mapping = module.array_parameters() if hasattr(module, "array_parameters") else {}
    ps = mapping.get(use_array, [])
    if len(ps) != 1:
        raise EvaluationError(head, f'array "{use_array}" of {type(module).__name__} is not one '
                              "torch parameter, so it cannot be shared.")
    p = ps[0]
    together = sorted(k for k, qs in mapping.items() if any(q is p for q in qs))
    unshared = [k for k in together if k not in names]
    if unshared:
        others = ", ".join(repr(k) for k in together if k != use_array)
        raise EvaluationError(head, f'array "{use_array}" is stored in one torch parameter '
                              f"together with {others}; share all of them "
                              f"(NetInsertSharedArrays does) or none, but {unshared[0]!r} is "
                              "not shared.")
    return p, tuple((k, names[k]) for k in together)


def tie_shared(net: Layer, module: nn.Module, head: str = "NetGraph") -> None:
    """Make every use of each shared array of ``net`` use one parameter of ``module``."""
    found = shared_arrays(head, net)
    if not found:
        return
    owners = {id(p): (m, n) for m in module.modules() for n, p in m.named_parameters(
        recurse=False)}
    first: dict[tuple, nn.Parameter] = {}
    for _, (_, _, us) in found.items():
        for u in us:
            sub = module_at(module, u.path)
            p, key = _key(head, sub, u.array, dict(u.layer.shared_names()))
            canonical = first.setdefault(key, p)
            if canonical is p:
                continue
            if canonical.shape != p.shape:
                raise EvaluationError(head, f"{u.where()} cannot share its parameter: it has "
                                      f"dimensions {list(p.shape)}, the first use "
                                      f"{list(canonical.shape)}.")
            owner, attr = owners[id(p)]
            setattr(owner, attr, canonical)
