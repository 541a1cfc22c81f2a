"""Recurrent states across calls: ``NetPort(All, "States")`` and :class:`NetStateObject`.

A *state key* names one recurrent state: the position path of its layer and the port, as a
tuple, e.g. ``(1, "State")`` or ``("enc", 2, "CellState")`` (a standalone layer: ``("State",)``).
``net(x, NetPort(All, "States"))`` gives the final value of every recurrent state;
``net({..., NetPort(All, "States"): {key: value}})`` sets initial values of states whose input
is not connected (the others come from their connection).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import EvaluationError
from ..graph.net import Container, wrap
from ..layers.base import Layer
from ..ports import NetPort, PortRef
from ..symbols import All

ALL_STATES = NetPort(All, "States")


def is_all_states(x: Any) -> bool:
    return isinstance(x, NetPort) and x.path == (All,) and x.port == "States"


def wants_states(data: Any, ports: tuple[Any, ...]) -> bool:
    """True when a call reads or sets ``NetPort(All, "States")``."""
    if isinstance(data, Mapping) and any(is_all_states(k) for k in data):
        return True
    return any(is_all_states(p) or (isinstance(p, list) and any(map(is_all_states, p)))
               for p in ports)


def state_ports_as_states(net: Layer, data: Any) -> Any:
    """A standalone layer's state ports given by name, as WL's
    ``lstm[<|"Input" -> x, "State" -> s, "CellState" -> c|>]``: ``data`` with those entries
    moved under ``NetPort(All, "States")`` (the initial states); other data unchanged."""
    if (isinstance(net, Container) or not net.states or not isinstance(data, Mapping)
            or not any(isinstance(k, str) and k in net.states for k in data)):
        return data
    moved = {k: v for k, v in data.items() if not (isinstance(k, str) and k in net.states)}
    states = dict(moved.pop(ALL_STATES, None) or {})
    states.update({(k,): v for k, v in data.items() if isinstance(k, str) and k in net.states})
    moved[ALL_STATES] = states
    return moved


# -- keys -------------------------------------------------------------------------------------
def user_key(net: Layer, key: tuple[str, ...]) -> tuple:
    path = key[:-1] if isinstance(net, Container) else key[1:-1]   # a bare layer: no path
    return tuple(int(k) if k.isdigit() else k for k in path) + (key[-1],)


def internal_key(net: Layer, key: Any) -> tuple[str, ...]:
    if isinstance(key, NetPort):
        parts: tuple = (*key.path, key.port)
    elif isinstance(key, tuple):
        parts = key
    else:
        parts = (key,)
    parts = tuple(str(p) for p in parts)
    return parts if isinstance(net, Container) else ("1", *parts)


def _show(key: tuple) -> str:
    return "(" + ", ".join(repr(k) for k in key) + ("," if len(key) == 1 else "") + ")"


def _valid_keys(head: str, net: Layer, given: Mapping, valid: set, what: str) -> dict:
    out = {}
    for k, v in given.items():
        ik = internal_key(net, k)
        if ik not in valid:
            names = ", ".join(_show(user_key(net, s)) for s in sorted(valid)) or "none"
            raise EvaluationError(head, f"{k!r} is not {what}; the states that can be set "
                                  f"are {names}.")
        out[ik] = v
    return out


def paired_states(net: Layer) -> list[tuple[tuple[str, ...], str, str]]:
    """``(state key, graph input, graph output)`` for each recurrent state that a graph input
    sets and a graph output reads (WL's "InitialState" -> layer -> "FinalState" pattern)."""
    g = wrap(net)
    out: list[tuple[tuple[str, ...], str, str]] = []
    for k, layer in g.nodes.items():
        if isinstance(layer, Container):
            continue
        for p in layer.states:
            src = g.edges.get(PortRef(k, p))
            if src is None or src.node is not None:
                continue
            reads = [d.port for d, s in g.edges.items() if d.node is None and s == PortRef(k, p)]
            if reads:
                out.append(((k, p), src.port, reads[0]))
    return out


class NetStateObject:
    """NetStateObject(net) evaluates net while keeping its recurrent states between calls.

    ``NetStateObject(net, initialStates)`` starts from the given states
    (``{state key: value}``; a graph input name also names the state it sets). The states
    kept are those no other layer feeds: hidden states of recurrent layers whose state
    ports are not connected, and states set by a graph input and read by a graph output
    (``"InitialState"`` -> layer -> ``"FinalState"``), which are fed back on the next call
    unless the caller gives that input. ``sobj(x)`` returns what ``net(x)`` returns and
    stores the final states; ``sobj.reset()`` goes back to the initial states;
    ``NetExtract(sobj, "States")`` gives the current ones.

    >>> sobj = NetStateObject(NetInitialize(BasicRecurrentLayer(2, Input=("Varying", 1))))
    >>> a, b = sobj([[1.0]]), sobj([[1.0]])     # same input, different state
    >>> bool((a != b).any()), list(NetExtract(sobj, "States"))
    (True, [('State',)])
    """

    def __init__(self, net: Layer, initialStates: Mapping | None = None) -> None:  # noqa: N803
        from .evaluate import evaluator
        if not isinstance(net, Layer):
            raise EvaluationError("NetStateObject", f"expected a net, but received "
                                  f"{type(net).__name__}.")
        self._net = net
        ev: Any = evaluator(net)
        self._paired = paired_states(net)
        paired_keys = {k for k, _, _ in self._paired}
        self._hidden = sorted(set(ev.module.free_states) - paired_keys)
        if not self._paired and not self._hidden:
            raise EvaluationError("NetStateObject", "the net has no recurrent state that is "
                                  "not fed by another layer, so there is no state to keep; "
                                  "expected a net with a recurrent layer whose state ports "
                                  "are free.")
        self._initial = self._check_initial(ev, initialStates or {})
        self._states: dict[tuple, Any] = dict(self._initial)

    def _check_initial(self, ev: Any, given: Mapping) -> dict[tuple, Any]:
        alias = {gin: k for k, gin, _ in self._paired}
        valid = {k for k, _, _ in self._paired} | set(self._hidden)
        named = {k: v for k, v in given.items() if isinstance(k, str) and k in alias}
        rest = {k: v for k, v in given.items() if k not in named}
        out = _valid_keys("NetStateObject", self._net, rest, valid, "a state this object keeps")
        out.update({alias[k]: v for k, v in named.items()})
        return {k: np.asarray(_as_numpy(v), dtype=np.float64) for k, v in out.items()}

    @property
    def net(self) -> Layer:
        return self._net

    def __call__(self, data: Any, *ports: Any, **options: Any) -> Any:
        """Evaluate on ``data`` from the current states, store the final ones, and return what
        ``net(data, *ports)`` returns."""
        from ..errors import check_options
        from .evaluate import EVAL_OPTIONS, device_of, dtype_of, evaluator
        check_options("NetStateObject", options, EVAL_OPTIONS)
        head = self._net.head
        ev = evaluator(self._net, device_of(head, options.get("TargetDevice", "CPU")),
                       dtype_of(head, options.get("WorkingPrecision")))
        stored = {gin: self._states[k] for k, gin, _ in self._paired if k in self._states}
        hidden = {k: self._states[k] for k in self._hidden if k in self._states}
        from .stateful import decoded, evaluate_ext, format_result
        outcome = evaluate_ext(self._net, ev, data, hidden, stored, options.get("BatchSize"))
        for k, _, gout in self._paired:
            self._states[k] = _as_numpy(outcome.outputs[gout])
        for k in self._hidden:
            self._states[k] = _as_numpy(outcome.states[k])
        states = {user_key(self._net, k): v for k, v in outcome.states.items()}
        return format_result(ev, decoded(ev, outcome), states, ports)

    def reset(self) -> None:
        """Go back to the initial states (zeros unless initialStates were given)."""
        self._states = dict(self._initial)

    def states(self) -> dict[tuple, np.ndarray]:
        """The current states by state key (zeros for a state not yet set)."""
        from .evaluate import evaluator
        ev: Any = evaluator(self._net)
        out = {}
        for k, gin, _ in self._paired:
            out[user_key(self._net, k)] = self._states.get(k, _zeros(ev.by_name[gin].type))
        for k in self._hidden:
            out[user_key(self._net, k)] = self._states.get(k, _zeros(ev.module.state_types[k]))
        return out

    def net_extract(self, spec: Any) -> Any:
        """What ``NetExtract(sobj, spec)`` gives: "States" (current states) or "Net"."""
        if spec == "States":
            return self.states()
        if spec == "Net":
            return self._net
        raise EvaluationError("NetExtract", f'a NetStateObject has the parts "States" and '
                              f'"Net", but {spec!r} was requested.')

    def __repr__(self) -> str:
        keys = ", ".join(_show(k) for k in self.states())
        return f"NetStateObject({self._net.head}, states: {keys})"


def _as_numpy(v: Any) -> np.ndarray:
    if isinstance(v, list):
        return np.stack([_as_numpy(x) for x in v])
    if hasattr(v, "detach"):     # a torch tensor
        return v.detach().cpu().numpy()
    return np.asarray(v)


def _zeros(t: Any) -> np.ndarray:
    return np.zeros(tuple(int(d) for d in t.dims or ()), dtype=np.float32)
