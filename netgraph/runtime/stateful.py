"""Evaluation that reads or sets hidden recurrent states (``NetPort(All, "States")``), and the
one call a NetStateObject makes per evaluation: every output and every final state."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import EvaluationError
from ..layers.base import Layer
from .boundary.codec import DEFAULT, decode, encode_input
from .boundary.feeds import batching, feeds_of, one_port
from .boundary.values import as_array, to_plain, to_tensor
from .sequences import run_ext, run_ragged
from .state import ALL_STATES, _show, _valid_keys, is_all_states, user_key


# -- evaluation with states --------------------------------------------------------------------
@dataclass
class Outcome:
    """Everything one call produced, as plain data: every output port and every final state."""

    outputs: dict[str, Any]
    states: dict[tuple, Any]   # internal keys
    batched: bool


def _fit(ev: Any, what: str, value: Any, rank: int, batched: bool, n: int,
         integer: bool = False) -> torch.Tensor:
    """A state value as a (batch, ...) tensor for a call on ``n`` examples (or one)."""
    t = to_tensor(value if isinstance(value, torch.Tensor) else np.asarray(value, np.float64),
                  integer, ev.dtype, ev.device)
    if t.dim() == rank:
        return t.unsqueeze(0).expand(n if batched else 1, *t.shape)
    if t.dim() == rank + 1 and (t.shape[0] == n if batched else t.shape[0] == 1):
        return t
    if t.dim() == rank + 1:
        raise EvaluationError(ev.head, f"the state {what} holds a batch of {t.shape[0]}, but "
                              f"the call has {n if batched else 'one example'}.")
    raise EvaluationError(ev.head, f"the state {what} expects an array of rank {rank} (or a "
                          f"batch of them), but received dimensions {tuple(t.shape)}.")


def evaluate_ext(net: Layer, ev: Any, data: Any, hidden: Mapping[tuple, Any],
                 stored: Mapping[str, Any], batch_size: Any = None) -> Outcome:
    """Evaluate with initial hidden states (internal keys) and stored values for graph
    inputs the caller did not give; return every output and every final hidden state."""
    required = [s.name for s in ev.inputs if s.name not in ev.optional]
    if not isinstance(data, Mapping) and len(ev.inputs) > 1 and len(required) == 1:
        data = {required[0]: data}        # sobj(x): x is the one input that has no default
    feeds = feeds_of(ev, data)
    stored = {k: v for k, v in stored.items() if k not in feeds}
    as_torch = any(isinstance(v, torch.Tensor) for v in feeds.values())
    arrays = {k: as_array(ev.head, k, v, ev.by_name[k].integer)
              if ev.by_name[k].coder is None else encode_input(ev.head, ev.by_name[k], v)
              for k, v in feeds.items()}
    if any(isinstance(v, list) for v in arrays.values()):
        return _ext_ragged(net, ev, arrays, hidden, stored, batch_size, as_torch)
    return _ext_regular(net, ev, arrays, hidden, stored, as_torch)


def _init_states(net: Layer, ev: Any, hidden: Mapping[tuple, Any], batched: bool, n: int
                 ) -> dict[tuple, torch.Tensor]:
    types = ev.module.state_types
    return {k: _fit(ev, _show(user_key(net, k)), v, len(types[k].dims or ()), batched, n)
            for k, v in hidden.items()}


def _ext_ragged(net: Layer, ev: Any, arrays: dict[str, Any], hidden: Mapping, stored: Mapping,
                batch_size: Any, as_torch: bool) -> Outcome:
    n = len(next(v for v in arrays.values() if isinstance(v, list)))
    for k, v in stored.items():
        arrays[k] = _fit(ev, f'"{k}"', v, ev.by_name[k].rank, True, n).cpu().numpy()
    outs, finals = run_ragged(ev, arrays, _init_states(net, ev, hidden, True, n), batch_size)
    outputs = {p: [to_plain(t, ev.scalar_out[p], as_torch) for t in ts] for p, ts in outs.items()}
    states = {k: to_plain(v, False, as_torch) for k, v in (finals or {}).items()}
    return Outcome(outputs, states, True)


def _ext_regular(net: Layer, ev: Any, arrays: dict[str, Any], hidden: Mapping, stored: Mapping,
                 as_torch: bool) -> Outcome:
    batched, n = batching(ev, arrays)
    tensors = {k: to_tensor(v, ev.by_name[k].integer, ev.dtype, ev.device)
               for k, v in arrays.items()}
    tensors = tensors if batched else {k: t.unsqueeze(0) for k, t in tensors.items()}
    for k, v in stored.items():
        tensors[k] = _fit(ev, f'"{k}"', v, ev.by_name[k].rank, batched, n)
    out = run_ext(ev, tensors, None, _init_states(net, ev, hidden, batched, n))

    def plain(t: torch.Tensor, scalar: bool) -> Any:
        return to_plain(t if batched else t[0], scalar and not batched, as_torch)
    return Outcome({p: plain(out[p], ev.scalar_out[p]) for p in ev.outputs},
                   {k: plain(v, False) for k, v in out["_states"].items()}, batched)


def evaluate_with_states(net: Layer, ev: Any, data: Any, ports: tuple[Any, ...],
                         batch_size: Any = None) -> Any:
    """``net(data, *ports)`` where data or ports use ``NetPort(All, "States")``."""
    init: Mapping = {}
    if isinstance(data, Mapping) and any(is_all_states(k) for k in data):
        init = next(v for k, v in data.items() if is_all_states(k))
        data = {k: v for k, v in data.items() if not is_all_states(k)}
        if not isinstance(init, Mapping):
            raise EvaluationError(ev.head, 'NetPort(All, "States") expects a dict {state: '
                                  f"value}}, but received {type(init).__name__}.")
    hidden = _valid_keys(ev.head, net, init, set(ev.module.free_states),
                         "a recurrent state whose input is free")
    outcome = evaluate_ext(net, ev, data, hidden, {}, batch_size)
    states = {user_key(net, k): v for k, v in outcome.states.items()}
    return format_result(ev, decoded(ev, outcome), states, ports)


def decoded(ev: Any, outcome: Outcome) -> dict[str, Any]:
    """Every output as the caller sees it: through its decoder (its default property) where
    the port has one, as ``net(x)`` gives it."""
    out = dict(outcome.outputs)
    for p, v in out.items():
        codec = ev.out_codecs[p]
        if codec.coder is not None:
            batch = v if isinstance(v, list) else (np.asarray(v) if outcome.batched
                                                   else np.asarray(v)[None])
            out[p] = decode(ev.head, codec, batch, DEFAULT, outcome.batched)
    return out


def format_result(ev: Any, outputs: Mapping[str, Any], states: Mapping, ports: tuple) -> Any:
    """What ``net(x, *ports)`` returns, given every output and the final states."""
    if len(ports) > 1:
        raise EvaluationError(ev.head, "expected one port spec after the data, but received "
                              f"{len(ports)}; give a list of ports to get several.")
    if not ports:
        return dict(outputs) if len(outputs) != 1 else next(iter(outputs.values()))
    spec = ports[0]
    if isinstance(spec, list):
        return {ALL_STATES if is_all_states(p) else one_port(ev, p):
                dict(states) if is_all_states(p) else outputs[one_port(ev, p)] for p in spec}
    return dict(states) if is_all_states(spec) else outputs[one_port(ev, spec)]
