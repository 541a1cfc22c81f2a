"""Higher-order operators: NetMapOperator, NetMapThreadOperator, NetFoldOperator,
NetNestOperator, NetBidirectionalOperator, and NetUnfold (a recurrent layer's single step).

An operator holds inner nets (any layer or graph) in ``params["nets"]``, keyed as WL's
NetExtract names them ("Net", or "ForwardNet"/"BackwardNet"). It exposes them through
``inner_nets()`` and ``map_inner(fn)``, so NetInitialize, Information and NetExtract see
their arrays; its own port types come from solving the inner nets on one step (or one
element) of its inputs, in both directions.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import LayerError, ShapeError
from ..shapes import VARYING, Dim, PortType, UnifyError, unify, unify_dim
from ..symbols import Automatic, Catenate, Mean, Total
from .base import ArraySpec, Layer, PortMismatch, Types, check_size
from .recurrent import RecurrentLayer


def inner_ports(net: Layer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ports an operator sees on an inner net: its visible inputs and outputs."""
    return net.visible_inputs(), net.visible_outputs()


def solve(head: str, net: Layer, ins: Types, outs: Types) -> tuple[Layer, Types, Types]:
    """Infer an inner net given constraints on its visible ports; return it specialized with
    the types of those ports."""
    from ..graph.net import Container, wrap
    g = wrap(net)
    try:
        gi = {p: _meet(p, g.in_types.get(p, PortType()), ins.get(p)) for p in g.params["inputs"]}
        go = {p: _meet(p, g.out_types.get(p, PortType()), outs.get(p))
              for p in g.params["outputs"]}
        s = g.specialize(gi, go)
    except ShapeError as e:
        raise ShapeError(head, f"in its inner net, {str(e)}") from None
    new = s if isinstance(net, Container) else s.nodes["1"]  # type: ignore[attr-defined]
    return new, dict(s.in_types), dict(s.out_types)


def _meet(port: str, a: PortType, b: PortType | None) -> PortType:
    if b is None:
        return a
    try:
        return unify(a, b)
    except UnifyError:
        raise PortMismatch(port, a.describe(), b.describe()) from None


def strip(port: str, t: PortType | None, k: int) -> tuple[list[Dim], PortType]:
    """Split a type into its ``k`` leading (mapped) dims and the element type."""
    t = t or PortType()
    if t.dims is None:
        return [None] * k, PortType(None, t.kind, t.bound)
    if len(t.dims) < k:
        raise PortMismatch(port, f"an array of rank at least {k}", t.describe())
    return list(t.dims[:k]), PortType(t.dims[k:], t.kind, t.bound)


def lift(lead: list[Dim], t: PortType) -> PortType:
    """The type of an array of elements of type ``t`` with leading dims ``lead``."""
    return PortType(None if t.dims is None else (*lead, *t.dims), t.kind, t.bound)


def meet_dims(port: str, leads: list[list[Dim]], default: Dim = VARYING) -> list[Dim]:
    """Unify the mapped dims of several ports level by level (unknown ones: sequences)."""
    out: list[Dim] = []
    for level in zip(*leads, strict=False):
        d: Dim = None
        for v in level:
            try:
                d = unify_dim(d, v)
            except UnifyError:
                raise PortMismatch(port, f"mapped dimensions of equal length, but {level[0]}",
                                   f"{v}") from None
        out.append(default if d is None else d)
    return out


def _short(net: Layer) -> str:
    from ..graph.net import Container
    if isinstance(net, Container):
        return f"{net.head}[{len(net.nodes)} layers]"
    return f"{net.head}({net._param_repr()})"


class Operator(Layer):
    """Shared machinery: inner nets in ``params["nets"]``, walked and specialized.

    Subclasses implement ``_solve(ins, outs) -> (nets, in_types, out_types)``: the inner nets
    solved for the given outer port types, and what that implies for the outer ports.
    """

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
            in_types={p: _meet(p, ins.get(p, PortType()), tin.get(p, PortType()))
                      for p in self.input_ports()},
            out_types={p: _meet(p, outs.get(p, PortType()), tout.get(p, PortType()))
                       for p in self.output_ports()})

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        raise NotImplementedError

    def _net(self, key: str = "Net") -> Layer:
        return self.params["nets"][key]

    def _param_repr(self) -> str:
        return ", ".join(_short(n) for n in self.params["nets"].values())


def _one_in_one_out(head: str, net: Layer) -> tuple[str, str]:
    ins, outs = inner_ports(net)
    if len(ins) != 1 or len(outs) != 1:
        raise LayerError(head, f"expected a net with one input and one output, but received a "
                         f"net with inputs {list(ins)} and outputs {list(outs)}.")
    return ins[0], outs[0]


def _as_net(head: str, net: Any) -> Layer:
    from ..graph.specs import to_layer
    return to_layer(head, net, "Net")


class NetMapOperator(Operator):
    """NetMapOperator(net): applies net to each element of a sequence, with shared weights.

    ``net`` has one input and one output; the operator's "Input" is a sequence (or array) of
    what net takes and its "Output" the sequence of what net gives. NetExtract name "Net".

    >>> m = NetMapOperator(LinearLayer(2, Input=3))
    >>> Information(m, "InputPorts"), Information(m, "OutputPorts")
    ({'Input': ('Varying', 3)}, {'Output': ('Varying', 2)})
    """

    def __init__(self, net: Any, **opts: Any) -> None:
        net = _as_net("NetMapOperator", net)
        _one_in_one_out("NetMapOperator", net)
        self._setup({"nets": {"Net": net}}, opts)

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        net = self._net()
        i, o = _one_in_one_out(self.head, net)
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

    def __init__(self, net: Any, levels: Any = 1, **opts: Any) -> None:
        net = _as_net("NetMapThreadOperator", net)
        ins, _ = inner_ports(net)
        self._setup({"nets": {"Net": net}, "levels": _thread_levels(ins, levels)}, opts)

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
            return _short(self._net()) + ("" if lv == {1} else f", {lv.pop()}")
        return f"{_short(self._net())}, {levels}"


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

    def __init__(self, net: Any, n: int, **opts: Any) -> None:
        net = _as_net("NetNestOperator", net)
        _one_in_one_out("NetNestOperator", net)
        check_size("NetNestOperator", n, "the number of applications n", allow_none=False)
        self._setup({"nets": {"Net": net}, "n": n}, opts)

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        net = self._net()
        i, o = _one_in_one_out(self.head, net)
        t = _meet("Output", ins.get("Input", PortType()), outs.get("Output"))
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
        return f"{_short(self._net())}, {self.params['n']}"


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

    def __init__(self, nets: Any, aggregation: Any = Catenate, **opts: Any) -> None:
        head = "NetBidirectionalOperator"
        pair = list(nets) if isinstance(nets, (list, tuple)) else [nets, nets]
        if len(pair) != 2:
            raise LayerError(head, f"expected a net or a list of two nets, but received "
                             f"{len(pair)} nets.")
        f, b = (_as_net(head, n) for n in pair)
        for n in (f, b):
            _one_in_one_out(head, n)
        name = getattr(aggregation, "name", aggregation)
        if name not in AGGREGATES:
            raise LayerError(head, f"expected the aggregation to be Catenate, Total or Mean, "
                             f"but received {aggregation!r}.")
        self._setup({"nets": {"ForwardNet": f, "BackwardNet": b}, "aggregation": name,
                     "copies": not isinstance(nets, (list, tuple))}, opts)

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        if x.dims is not None and not x.dims:
            raise PortMismatch("Input", "a sequence", x.describe())
        agg = self.params["aggregation"]
        new, got = {}, []
        for key in ("ForwardNet", "BackwardNet"):
            i, o = _one_in_one_out(self.head, self._net(key))
            want = y if agg != "Catenate" else PortType(None if y.dims is None else
                                                        (*y.dims[:-1], None), y.kind)
            new[key], ti, to = solve(self.head, self._net(key), {i: x}, {o: want})
            x = _meet("Input", x, ti[i])
            got.append(to[o])
        return new, {"Input": x}, {"Output": self._join(*got)}

    def _join(self, f: PortType, b: PortType) -> PortType:
        if self.params["aggregation"] != "Catenate":
            return _meet("Output", f, b)
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
        nets = _short(f) if self.params["copies"] else f"[{_short(f)}, {_short(b)}]"
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

    def __init__(self, net: Any, feedback: Any = Automatic, consts: Any = (),
                 outputs: Any = Automatic, **opts: Any) -> None:
        net = _as_net("NetFoldOperator", net)
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
            st = _meet(b, ins.get(b, PortType()), outs.get(b))
            inner_in[b] = _meet(b, inner_in.get(b, PortType()), st)
            inner_out[a] = _meet(a, inner_out.get(a, PortType()), st)
        new, ti, to = solve(self.head, self._net(), inner_in, inner_out)
        state = {b: _feedback_type(b, a, ti[b], to[a]) for a, b in p["feedback"]}
        tin = {m: lift(lead, ti[m]) for m in p["mapped"]}
        tin.update({c: ti[c] for c in p["consts"]}, **state)
        tout = {o: lift(lead, to[o]) for o in p["outputs"]}
        tout.update(state)
        return {"Net": new}, tin, tout

    def _param_repr(self) -> str:
        fb = dict(self.params["feedback"])
        return _short(self._net()) + ("" if fb == {"Output": "State"} else f", {fb}")


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
    else:
        pairs = list(feedback.items() if isinstance(feedback, Mapping) else feedback)
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and pair[0] in outs
                and pair[1] in ins):
            raise LayerError("NetFoldOperator", f"expected feedback from an output ("
                             f"{', '.join(outs)}) to an input ({', '.join(ins)}), but received "
                             f"{pair!r}.")
    return tuple(pairs)


class RecurrentStep(Layer):
    """One step of a recurrent layer, as NetUnfold gives it: its state ports exposed.

    Inputs "Input" (a vector), "State" (and "CellState" for an LSTM); outputs "Output" (the
    new state) (and "CellState"). The arrays are the recurrent layer's.
    ``NetFoldOperator(NetUnfold(layer))`` computes what ``layer`` computes, on the same
    fused kernel.
    """

    def __init__(self, kind: str, n: int, **opts: Any) -> None:
        from . import recurrent as R
        cls = getattr(R, kind, None)
        if not (isinstance(cls, type) and issubclass(cls, RecurrentLayer)):
            raise LayerError("RecurrentStep", f"expected the name of a recurrent layer, but "
                             f"received {kind!r}.")
        check_size("RecurrentStep", n, "the state size n", allow_none=False)
        arrays = {k: opts.pop(k) for k in list(opts) if k in cls._array_names()}
        self._init({"kind": kind, "n": n}, opts, arrays)

    @classmethod
    def input_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        lstm = params["kind"] == "LongShortTermMemoryLayer"
        return ("Input", "State", "CellState") if lstm else ("Input", "State")

    @classmethod
    def output_ports_of(cls, params: Mapping[str, Any]) -> tuple[str, ...]:
        lstm = params["kind"] == "LongShortTermMemoryLayer"
        return ("Output", "CellState") if lstm else ("Output",)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x = ins.get("Input", PortType())
        if x.dims is not None and len(x.dims) != 1:
            raise PortMismatch("Input", "a vector", x.describe())
        state = PortType((self.params["n"],), "Real")
        tin = {p: state for p in self.input_ports()}
        tin["Input"] = PortType(x.dims or (None,), "Real")
        return tin, {p: state for p in self.output_ports()}

    def as_recurrent(self) -> RecurrentLayer:
        """The recurrent layer this is one step of (same arrays)."""
        from . import recurrent as R
        cls = getattr(R, self.params["kind"])
        x = self.in_types.get("Input", PortType())
        k = x.dims[0] if x.dims else None
        state = PortType((self.params["n"],), "Real")
        ins = {"Input": PortType((VARYING, k), "Real"), **{s: state for s in cls.states}}
        outs = {"Output": PortType((VARYING, self.params["n"]), "Real"),
                **{s: state for s in cls.states}}
        return cls._make({"n": self.params["n"], "dropout": None}, ins, outs,
                         dict(self.arrays))  # type: ignore[return-value]

    def array_specs(self) -> dict[str, ArraySpec]:
        return self.as_recurrent().array_specs()

    def _param_repr(self) -> str:
        return f'"{self.params["kind"]}", {self.params["n"]}'


def NetUnfold(net: Layer) -> Layer:
    """NetUnfold(fnet) gives the single step of a folded net, with its states exposed.

    ``fnet`` is a recurrent layer (giving a :class:`RecurrentStep`), a NetFoldOperator (giving
    its inner net), or either one followed by a SequenceLastLayer in a two-layer chain (the
    SequenceLastLayer is dropped).

    >>> NetUnfold(GatedRecurrentLayer(3, Input=("Varying", 2))).input_ports()
    ('Input', 'State')
    """
    from ..graph.net import Container
    if isinstance(net, RecurrentLayer):
        x = net.in_types.get("Input", PortType())
        k = x.dims[1] if x.dims and len(x.dims) == 2 else None
        step = RecurrentStep(net.head, net.params["n"], **({"Input": k} if k else {}))
        return step._replace(arrays=dict(net.arrays))
    if isinstance(net, NetFoldOperator):
        return net._net()
    if isinstance(net, Container) and len(net.nodes) == 2:
        first, last = (net.nodes[k] for k in net.params["order"])
        if last.head == "SequenceLastLayer":
            return NetUnfold(first)
    raise LayerError("NetUnfold", f"expected a recurrent layer or a NetFoldOperator (possibly "
                     f"followed by a SequenceLastLayer), but received {_short(net)}.")
