"""Higher-order operators: NetMapOperator, NetMapThreadOperator, NetFoldOperator,
NetNestOperator and NetBidirectionalOperator; NetUnfold (a recurrent layer's single step)
is in :mod:`netgraph.layers.unfold` and importable from here too.

An operator holds inner nets (any layer or graph) in ``params["nets"]``, keyed as WL's
NetExtract names them ("Net", or "ForwardNet"/"BackwardNet"). It exposes them through
``inner_nets()`` and ``map_inner(fn)``, so NetInitialize, Information and NetExtract see
their arrays; its own port types come from solving the inner nets on one step (or one
element) of its inputs, in both directions.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ..errors import LayerError
from ..shapes import PortType, UnifyError, unify
from ..symbols import Automatic, Catenate, Mean, Total
from .base import ArraySpec, Layer, PortMismatch, Types, check_size
from .inner import as_net, inner_ports, lift, meet, meet_dims, one_in_one_out, short, solve, strip
from .unfold import NetUnfold, RecurrentStep

__all__ = ["Operator", "NetMapOperator", "NetMapThreadOperator", "NetNestOperator",
           "NetBidirectionalOperator", "NetFoldOperator", "NetUnfold", "RecurrentStep"]


class Operator(Layer):
    """Shared machinery: inner nets in ``params["nets"]``, walked and specialized.

    Subclasses implement ``_solve(ins, outs) -> (nets, in_types, out_types)``: the inner nets
    solved for the given outer port types, and what that implies for the outer ports.
    ``net_keys`` names the inner nets (as NetExtract does); :meth:`check_params` checks that
    ``params["nets"]`` holds exactly those, each a layer or net (a subclass with more params
    extends it with ``super().check_params(params)``).
    """

    net_keys: ClassVar[tuple[str, ...]] = ("Net",)

    @classmethod
    def check_params(cls, params: Any) -> None:
        nets, keys = params.get("nets"), cls.net_keys
        if not (isinstance(nets, Mapping) and tuple(nets) == keys
                and all(isinstance(n, Layer) for n in nets.values())):
            want = ", ".join(f'"{k}" -> net' for k in keys)
            raise LayerError(cls.__name__, f"expected the inner nets <|{want}|>, but "
                             f"received {nets!r}.")

    def _setup(self, params: dict[str, Any], opts: Mapping[str, Any]) -> None:
        self._init(params, opts)
        spec = self.specialize(dict(self.in_types), dict(self.out_types))
        self._set(spec.params, spec.in_types, spec.out_types, {})

    def inner_nets(self) -> dict[str, Layer]:
        return dict(self.params["nets"])

    def map_inner(self, fn: Callable[[str, Layer], Layer]) -> Layer:
        new = {k: fn(k, net) for k, net in self.params["nets"].items()}
        if all(new[k] is self.params["nets"][k] for k in new):
            return self
        return self._replace(params={**self.params, "nets": new})

    def is_initialized(self) -> bool:
        return all(net.is_initialized() for net in self.params["nets"].values())

    def array_specs(self) -> dict[str, ArraySpec]:
        return {}

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        _, tin, tout = self._solve(ins, outs)
        return tin, tout

    def specialize(self, ins: Types, outs: Types) -> Layer:
        nets, tin, tout = self._solve(ins, outs)
        return self._replace(
            params={**self.params, "nets": nets},
            in_types={p: meet(p, ins.get(p, PortType()), tin.get(p, PortType()))
                      for p in self.input_ports()},
            out_types={p: meet(p, outs.get(p, PortType()), tout.get(p, PortType()))
                       for p in self.output_ports()})

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        raise NotImplementedError

    def _net(self, key: str = "Net") -> Layer:
        return self.params["nets"][key]

    def _param_repr(self) -> str:
        return ", ".join(short(n) for n in self.params["nets"].values())


class NetMapOperator(Operator):
    """NetMapOperator(net): applies net to each element of a sequence, with shared weights.

    ``net`` has one input and one output; the operator's "Input" is a sequence (or array) of
    what net takes and its "Output" the sequence of what net gives. NetExtract name "Net".

    >>> m = NetMapOperator(LinearLayer(2, Input=3))
    >>> Information(m, "InputPorts"), Information(m, "OutputPorts")
    ({'Input': ('Varying', 3)}, {'Output': ('Varying', 2)})
    """

    time = "pointwise"  # each element is mapped alone

    def __init__(self, net: Any, **opts: Any) -> None:
        net = as_net("NetMapOperator", net)
        one_in_one_out("NetMapOperator", net)
        self._setup({"nets": {"Net": net}}, opts)

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        net = self._net()
        i, o = one_in_one_out(self.head, net)
        lx, x = strip("Input", ins.get("Input"), 1)
        ly, y = strip("Output", outs.get("Output"), 1)
        lead = meet_dims("Input", [lx, ly])
        new, ti, to = solve(self.head, net, {i: x}, {o: y})
        return {"Net": new}, {"Input": lift(lead, ti[i])}, {"Output": lift(lead, to[o])}


class NetMapThreadOperator(Operator):
    """NetMapThreadOperator(net, n): maps net over the first n levels of all its inputs at once.

    ``NetMapThreadOperator(net)`` maps over one level; ``NetMapThreadOperator(net,
    {"port": n, ...})`` maps the named inputs over n levels and gives the others unchanged to
    every element. The ports keep net's names; mapped inputs must have equal dimensions.

    >>> t = NetMapThreadOperator(ThreadingLayer(Plus, InputPorts=2, Input1=2))
    >>> Information(t, "OutputPorts")
    {'Output': ('Varying', 2)}
    """

    time = "pointwise"

    def __init__(self, net: Any, levels: Any = 1, **opts: Any) -> None:
        net = as_net("NetMapThreadOperator", net)
        ins, _ = inner_ports(net)
        self._setup({"nets": {"Net": net}, "levels": _thread_levels(ins, levels)}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        super().check_params(params)
        ins, levels = inner_ports(params["nets"]["Net"])[0], params["levels"]
        if not (isinstance(levels, Mapping) and tuple(levels) == ins):
            raise LayerError(cls.__name__, f"expected a level for each input of the net ("
                             f"{', '.join(ins)}), but received {levels!r}.")
        _thread_levels(ins, levels)

    @classmethod
    def input_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return inner_ports(params["nets"]["Net"])[0]

    @classmethod
    def output_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return inner_ports(params["nets"]["Net"])[1]

    def depth(self) -> int:
        return max(self.params["levels"].values())

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        net, levels, d = self._net(), self.params["levels"], self.depth()
        split = {p: strip(p, ins.get(p), d) for p in self.input_ports() if levels[p]}
        osplit = {p: strip(p, outs.get(p), d) for p in self.output_ports()}
        lead = meet_dims(next(iter(split)), [v[0] for v in (*split.values(), *osplit.values())])
        inner_in = {p: split[p][1] if levels[p] else ins.get(p, PortType())
                    for p in self.input_ports()}
        new, ti, to = solve(self.head, net, inner_in, {p: v[1] for p, v in osplit.items()})
        tin = {p: lift(lead, ti[p]) if levels[p] else ti[p] for p in self.input_ports()}
        return {"Net": new}, tin, {p: lift(lead, to[p]) for p in self.output_ports()}

    def _param_repr(self) -> str:
        lv = set(self.params["levels"].values())
        levels = {p: n for p, n in self.params["levels"].items() if n}
        if len(levels) == len(self.params["levels"]):      # every input mapped alike
            return short(self._net()) + ("" if lv == {1} else f", {lv.pop()}")
        return f"{short(self._net())}, {levels}"


def _thread_levels(ins: tuple[str, ...], levels: Any) -> dict[str, int]:
    head = "NetMapThreadOperator"
    if isinstance(levels, Mapping):
        for p in levels:
            if p not in ins:
                raise LayerError(head, f'the net has no input "{p}"; its inputs are '
                                 f"{', '.join(ins)}.")
        out = {p: levels.get(p, 0) for p in ins}
    else:
        out = {p: levels for p in ins}
    for p, n in out.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise LayerError(head, f'expected a nonnegative level for "{p}", but received {n!r}.')
    used = {n for n in out.values() if n}
    if len(used) != 1:
        raise LayerError(head, "expected the mapped inputs to share one positive depth, but "
                         f"received {out}.")
    return out


class NetNestOperator(Operator):
    """NetNestOperator(net, n): applies net n times, with shared weights.

    ``net`` has one input and one output of the same shape; "Input" is the start value and
    "Output" the value after n applications. NetExtract name "Net".

    >>> Information(NetNestOperator(LinearLayer(3, Input=3), 4), "OutputPorts")
    {'Output': 3}
    """

    time = "lengths"

    def __init__(self, net: Any, n: int, **opts: Any) -> None:
        net = as_net("NetNestOperator", net)
        one_in_one_out("NetNestOperator", net)
        params = {"nets": {"Net": net}, "n": n}
        self._setup(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        super().check_params(params)
        check_size("NetNestOperator", params["n"], "the number of applications n",
                   allow_none=False)

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        net = self._net()
        i, o = one_in_one_out(self.head, net)
        t = meet("Output", ins.get("Input", PortType()), outs.get("Output"))
        new, ti, to = solve(self.head, net, {i: t}, {o: t})
        try:
            t = unify(ti[i], to[o])
        except UnifyError:
            raise PortMismatch("Output", f"the shape of its input ({ti[i].describe()}), as the "
                               "net is applied to its own output", to[o].describe()) from None
        if t != ti[i] or t != to[o]:
            new, _, _ = solve(self.head, new, {i: t}, {o: t})
        return {"Net": new}, {"Input": t}, {"Output": t}

    def _param_repr(self) -> str:
        return f"{short(self._net())}, {self.params['n']}"


AGGREGATES = {"Catenate": Catenate, "Total": Total, "Mean": Mean}


class NetBidirectionalOperator(Operator):
    """NetBidirectionalOperator(net) runs net forward and a copy on the reversed sequence.

    ``NetBidirectionalOperator([fnet, bnet])`` uses two nets; ``[net]`` alone makes two
    independent copies. The backward output is reversed back and joined per element with
    Catenate (the default: vectors of size d give 2d), Total or Mean. NetExtract names
    "ForwardNet" and "BackwardNet".

    >>> b = NetBidirectionalOperator(GatedRecurrentLayer(3), Input=("Varying", 2))
    >>> Information(b, "OutputPorts")
    {'Output': ('Varying', 6)}
    """

    time = "lengths"
    net_keys = ("ForwardNet", "BackwardNet")

    def __init__(self, nets: Any, aggregation: Any = Catenate, **opts: Any) -> None:
        head = "NetBidirectionalOperator"
        pair = list(nets) if isinstance(nets, (list, tuple)) else [nets, nets]
        if len(pair) != 2:
            raise LayerError(head, f"expected a net or a list of two nets, but received "
                             f"{len(pair)} nets.")
        f, b = (as_net(head, n) for n in pair)
        for n in (f, b):
            one_in_one_out(head, n)
        self._setup({"nets": {"ForwardNet": f, "BackwardNet": b},
                     "aggregation": getattr(aggregation, "name", aggregation),
                     "copies": not isinstance(nets, (list, tuple))}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        super().check_params(params)
        head = "NetBidirectionalOperator"
        agg = params["aggregation"]
        if not isinstance(agg, str) or agg not in AGGREGATES:
            raise LayerError(head, f"expected the aggregation to be Catenate, Total or Mean, "
                             f"but received {params['aggregation']!r}.")
        if not isinstance(params["copies"], bool):
            raise LayerError(head, f"expected the copies switch to be True or False, but "
                             f"received {params['copies']!r}.")

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        if x.dims is not None and not x.dims:
            raise PortMismatch("Input", "a sequence", x.describe())
        agg = self.params["aggregation"]
        new, got = {}, []
        for key in ("ForwardNet", "BackwardNet"):
            i, o = one_in_one_out(self.head, self._net(key))
            want = y if agg != "Catenate" else PortType(None if y.dims is None else
                                                        (*y.dims[:-1], None), y.kind)
            new[key], ti, to = solve(self.head, self._net(key), {i: x}, {o: want})
            x = meet("Input", x, ti[i])
            got.append(to[o])
        return new, {"Input": x}, {"Output": self._join(*got)}

    def _join(self, f: PortType, b: PortType) -> PortType:
        if self.params["aggregation"] != "Catenate":
            return meet("Output", f, b)
        if f.dims is None or b.dims is None:
            return PortType(None, "Real")
        if len(f.dims) < 2 or len(f.dims) != len(b.dims):
            raise PortMismatch("Output", "the two nets to give sequences of vectors to catenate",
                               f"{f.describe()} and {b.describe()}")
        last = f.dims[-1] + b.dims[-1] if isinstance(f.dims[-1], int) and isinstance(
            b.dims[-1], int) else None
        return PortType((*f.dims[:-1], last), "Real")

    def _param_repr(self) -> str:
        f, b = self._net("ForwardNet"), self._net("BackwardNet")
        nets = short(f) if self.params["copies"] else f"[{short(f)}, {short(b)}]"
        agg = self.params["aggregation"]
        return nets if agg == "Catenate" else f"{nets}, {agg}"


class NetFoldOperator(Operator):
    """NetFoldOperator(net, feedback, consts, outputs): folds net over a sequence with state.

    ``NetFoldOperator(net)`` is ``NetFoldOperator(net, {"Output": "State"})``: step i computes
    ``net({"Input": x_i, "State": s_(i-1)})`` and feeds its "Output" back as the next
    "State" (s_0 = zeros). ``feedback`` maps outputs of net to its inputs (a dict or a list of
    pairs); ``consts`` lists inputs given whole to every step; the other inputs are mapped
    over the sequence. ``outputs`` chooses which outputs of net come back as sequences (all
    but those named like a state, by default). Each fed-back input is a state port of the
    operator: connecting it sets the initial state, reading it gives the final one.
    NetExtract name "Net".

    >>> step = NetGraph([LinearLayer(2), Tanh], [(NetPort("Input"), 1), (1, 2)], Input=3)
    >>> fold = NetFoldOperator(NetGraph({"s": ThreadingLayer(Plus), "f": step},
    ...     [(NetPort("Input"), "f"), (["f", NetPort("State")], "s")]))
    >>> fold.input_ports(), Information(fold, "OutputPorts")
    (('Input', 'State'), {'Output': ('Varying', 2)})
    """

    time = "lengths"

    def __init__(self, net: Any, feedback: Any = Automatic, consts: Any = (),
                 outputs: Any = Automatic, **opts: Any) -> None:
        net = as_net("NetFoldOperator", net)
        fb = _feedback(net, feedback)
        ins, outs = inner_ports(net)
        consts = (consts,) if isinstance(consts, str) else tuple(consts)
        for c in consts:
            if c not in ins or c in dict((b, a) for a, b in fb):
                raise LayerError("NetFoldOperator", f'"{c}" is not an input of the net that '
                                 "can be held constant; its inputs are "
                                 f"{', '.join(ins)}.")
        states = tuple(b for _, b in fb)
        chosen = tuple(o for o in outs if o not in states) if outputs is Automatic else (
            (outputs,) if isinstance(outputs, str) else tuple(outputs))
        for o in chosen:
            if o not in outs:
                raise LayerError("NetFoldOperator", f'the net has no output "{o}"; its outputs '
                                 f"are {', '.join(outs)}.")
        mapped = tuple(p for p in ins if p not in states and p not in consts)
        if not mapped:
            raise LayerError("NetFoldOperator", "expected the net to have an input to fold "
                             "over (one that is neither fed back nor constant), but it has "
                             "none.")
        self._setup({"nets": {"Net": net}, "feedback": fb, "consts": consts,
                     "outputs": chosen, "mapped": mapped}, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        super().check_params(params)
        ins, outs = inner_ports(params["nets"]["Net"])
        fb = params["feedback"]
        if not (isinstance(fb, tuple) and fb):
            raise LayerError(cls.__name__, f"expected the feedback as (output, input) pairs, "
                             f"but received {fb!r}.")
        _feedback(params["nets"]["Net"], fb)
        states = {b for _, b in fb}
        for key, allowed in (("consts", ins), ("outputs", outs), ("mapped", ins)):
            v = params[key]
            if not (isinstance(v, tuple) and all(isinstance(p, str) and p in allowed
                                                 and (key == "outputs" or p not in states)
                                                 for p in v)):
                raise LayerError(cls.__name__, f'expected "{key}" to be a list of ports of '
                                 f"the net among {', '.join(allowed) or 'none'} (not fed back), "
                                 f"but received {v!r}.")
        if not params["mapped"] or set(params["mapped"]) & set(params["consts"]):
            raise LayerError(cls.__name__, "expected the net to have an input to fold over "
                             f"(neither fed back nor constant), but received "
                             f"{params['mapped']!r}.")

    @property
    def states(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(b for _, b in self.params["feedback"])

    @classmethod
    def input_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return (*params["mapped"], *params["consts"], *(b for _, b in params["feedback"]))

    @classmethod
    def output_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        return (*params["outputs"], *(b for _, b in params["feedback"]))

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        p = self.params
        split = {m: strip(m, ins.get(m), 1) for m in p["mapped"]}
        osplit = {o: strip(o, outs.get(o), 1) for o in p["outputs"]}
        lead = meet_dims(p["mapped"][0], [v[0] for v in (*split.values(), *osplit.values())])
        inner_in = {m: v[1] for m, v in split.items()}
        inner_in.update({c: ins.get(c, PortType()) for c in p["consts"]})
        inner_out = {o: v[1] for o, v in osplit.items()}
        for a, b in p["feedback"]:
            st = meet(b, ins.get(b, PortType()), outs.get(b))
            inner_in[b] = meet(b, inner_in.get(b, PortType()), st)
            inner_out[a] = meet(a, inner_out.get(a, PortType()), st)
        new, ti, to = solve(self.head, self._net(), inner_in, inner_out)
        state = {b: _feedback_type(b, a, ti[b], to[a]) for a, b in p["feedback"]}
        tin = {m: lift(lead, ti[m]) for m in p["mapped"]}
        tin.update({c: ti[c] for c in p["consts"]}, **state)
        tout = {o: lift(lead, to[o]) for o in p["outputs"]}
        tout.update(state)
        return {"Net": new}, tin, tout

    def _param_repr(self) -> str:
        fb = dict(self.params["feedback"])
        return short(self._net()) + ("" if fb == {"Output": "State"} else f", {fb}")


def _feedback_type(b: str, a: str, tin: PortType, tout: PortType) -> PortType:
    try:
        return unify(tin, tout)
    except UnifyError:
        raise PortMismatch(b, f"what the fed-back output \"{a}\" gives ({tout.describe()})",
                           tin.describe()) from None


def _feedback(net: Layer, feedback: Any) -> tuple[tuple[str, str], ...]:
    """Feedback as (output, input) pairs. Automatic: "Output" -> "State", and each other
    output named like an input (a step's "CellState") feeds that input."""
    ins, outs = inner_ports(net)
    if feedback is Automatic:
        if "Output" not in outs or "State" not in ins:
            raise LayerError("NetFoldOperator", 'expected the net to have an output "Output" '
                             'and an input "State" (or give the feedback {"out": "in"}), but its '
                             f"inputs are {', '.join(ins)} and outputs {', '.join(outs)}.")
        pairs = [("Output", "State")] + [(o, o) for o in outs if o in ins and o != "State"]
    elif isinstance(feedback, (Mapping, list, tuple)):
        pairs = list(feedback.items() if isinstance(feedback, Mapping) else feedback)
    else:
        raise LayerError("NetFoldOperator", f'expected the feedback as {{"out" -> "in", ...}}, '
                         f"but received {feedback!r}.")
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and pair[0] in outs
                and pair[1] in ins):
            raise LayerError("NetFoldOperator", f"expected feedback from an output ("
                             f"{', '.join(outs)}) to an input ({', '.join(ins)}), but received "
                             f"{pair!r}.")
    return tuple(pairs)
