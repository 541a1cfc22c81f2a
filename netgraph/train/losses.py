"""The objective: a loss spec -> a training net, as a net transform.

The training net is a NetGraph that holds the user's net as its node ``"net"`` and attaches
a loss layer to each output that needs one. As in WL, a loss attached to output port ``p``
reads its target from a training input also named ``p`` and is reported as ``"<p>Loss"``;
a port used as a loss directly keeps its name. Every other output of the user's net stays an
output of the training net (so StateTransfer and ``trainer["OutputArrays"]`` can read it).

Spec forms: ``Automatic``, ``"port"``, a loss layer, ``("port", spec)``, ``{port: spec}``
and lists of these, where ``spec`` is ``Scaled(w)``, ``Automatic``, a loss layer or
``(layer, Scaled(w))``.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import OptionError, ShapeError, TrainingError, nearest
from ..graph.net import Container, NetGraph
from ..layers.base import Layer
from ..layers.basic import ElementwiseLayer, SoftmaxLayer
from ..layers.loss import CrossEntropyLossLayer, MeanSquaredLossLayer
from ..ports import NetPort, PortRef
from ..shapes import VARYING, PortType
from ..symbols import Automatic, LogisticSigmoid, Scaled

HEAD = "NetTrain"
NODE = "net"  # the user's net inside the training net


@dataclass(frozen=True)
class LossTerm:
    """One loss output of the training net: its name, the user's port, and its weight.

    ``layer`` is the attached loss layer, or None when the port itself is the loss.
    """

    name: str
    port: str
    weight: float
    layer: Layer | None = None


@dataclass(frozen=True)
class Objective:
    """The training net and its loss terms (target inputs are named after their ports)."""

    net: Container
    terms: tuple[LossTerm, ...]

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(t.port for t in self.terms if t.layer is not None
                     and "Target" in t.layer.input_ports())


def feeding_layer(net: Layer, port: str) -> Layer | None:
    """The leaf layer whose output becomes ``net``'s output ``port`` (None for a pass-through)."""
    return _feeding(net, port)[0]


def _feeding(net: Layer, port: str) -> tuple[Layer | None, str]:
    """The leaf layer (None for a pass-through) and its port behind ``net``'s output port."""
    while isinstance(net, Container):
        src = net.edges.get(PortRef(None, port))
        if src is None or src.node is None:
            return None, port
        net, port = net.nodes[src.node], src.port
    return net, port


def is_loss_port(net: Layer, port: str) -> bool:
    layer, src = _feeding(net, port)
    if layer is None or not layer.is_loss:
        return False
    return src in getattr(layer, "loss_outputs", (src,))  # NetGANOperator: some ports only


def automatic_loss(net: Layer, port: str, target: np.ndarray | None) -> Layer:
    """The loss WL attaches to ``port``: the one its decoder asks for (cross-entropy for
    "Class", binary cross-entropy for "Boolean"), else cross-entropy after a softmax, binary
    cross-entropy after a logistic sigmoid, the layer's own choice where it declares one
    (``automatic_loss()``: a contrastive loss after NetPairEmbeddingOperator), mean squared
    otherwise.

    >>> automatic_loss(NetChain([LinearLayer(3), SoftmaxLayer()]), "Output", None).head
    'CrossEntropyLossLayer'
    """
    hint = getattr(net.coders.get(port), "loss_hint", None)   # a decoder decides first
    if hint == "CrossEntropy":
        return CrossEntropyLossLayer(_ce_form(net, port, target))
    if hint == "BinaryCrossEntropy":
        return CrossEntropyLossLayer("Binary")
    if hint == "MeanSquared":
        return MeanSquaredLossLayer()
    layer = feeding_layer(net, port)
    if isinstance(layer, SoftmaxLayer):
        return CrossEntropyLossLayer(_ce_form(net, port, target))
    if isinstance(layer, ElementwiseLayer) and layer.params["function"] == LogisticSigmoid:
        return CrossEntropyLossLayer("Binary")
    own = getattr(layer, "automatic_loss", None)
    if own is not None:
        return own()  # type: ignore[no-any-return]
    return MeanSquaredLossLayer()


def _ce_form(net: Layer, port: str, target: np.ndarray | None) -> str:
    """"Index" for class-index targets, "Probabilities" for targets shaped like the output."""
    if target is None or target.dtype.kind in "iub":
        return "Index"
    rank = net.out_types.get(port)
    out_rank = rank.rank if rank is not None else None
    integral = bool(np.all(np.mod(target, 1) == 0))
    if out_rank is not None:
        return "Probabilities" if target.ndim - 1 == out_rank else "Index"
    return "Index" if integral else "Probabilities"


def loss_terms(net: Layer, spec: Any, columns: Mapping[str, np.ndarray]) -> list[LossTerm]:
    """The loss spec resolved against the net's outputs and the data's columns."""
    outputs = net_outputs(net)
    if spec is Automatic or spec is None:
        return _automatic(net, outputs, columns)
    rules = _rules(spec)
    terms = []
    for port, sub in rules:
        if port is None:  # a bare loss layer: the net's one output
            port = _single_output(net, outputs)
        terms.append(_term(net, outputs, columns, port, sub))
    names = [t.name for t in terms]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise OptionError(HEAD, f'the loss "{dup}" is given twice in LossFunction.')
    return terms


def _automatic(net: Layer, outputs: list[str], columns: Collection[str]) -> list[LossTerm]:
    losses = [p for p in outputs if is_loss_port(net, p)]
    if losses:
        return [LossTerm(p, p, 1.0) for p in losses]
    cols = columns if isinstance(columns, Mapping) else {}
    terms = [LossTerm(f"{p}Loss", p, 1.0, automatic_loss(net, p, cols.get(p)))
             for p in outputs if p in columns]
    if not terms:
        raise TrainingError(HEAD, f"the net has no loss output and the data has no target for "
                            f"any of its outputs ({', '.join(outputs)}); give target data under "
                            "an output's name or a LossFunction.")
    return terms


def _rules(spec: Any) -> list[tuple[str | None, Any]]:
    """A spec as a list of (port or None, sub-spec)."""
    if isinstance(spec, Layer):
        return [(None, spec)]
    if isinstance(spec, (str, NetPort)):
        return [(_port_name(spec), Automatic)]
    if isinstance(spec, Mapping):
        return [(_port_name(k), v) for k, v in spec.items()]
    if isinstance(spec, tuple) and len(spec) >= 2 and isinstance(spec[0], (str, NetPort)):
        rest = spec[1] if len(spec) == 2 else tuple(spec[1:])
        return [(_port_name(spec[0]), rest)]
    if isinstance(spec, list):
        return [r for s in spec for r in _rules(s)]
    raise OptionError(HEAD, f'expected LossFunction to be Automatic, a port name, a loss layer, '
                      f'("port", Scaled(w)), a dict {{port: spec}} or a list of these, but '
                      f"received {spec!r}.")


def _port_name(p: Any) -> str:
    if isinstance(p, NetPort) and p.is_graph_port:
        return p.port  # type: ignore[attr-defined,no-any-return]
    if isinstance(p, str):
        return p
    raise OptionError(HEAD, f"expected a port name in LossFunction, but received {p!r}.")


def _single_output(net: Layer, outputs: list[str]) -> str:
    plain = [p for p in outputs if not is_loss_port(net, p)]
    if len(plain) != 1:
        raise OptionError(HEAD, f"a loss layer as LossFunction needs a net with one output, "
                          f"but the net has {', '.join(outputs)}; give (\"port\", layer).")
    return plain[0]


def _term(net: Layer, outputs: list[str], columns: Mapping[str, np.ndarray], port: str,
          sub: Any) -> LossTerm:
    if port not in outputs:
        raise OptionError(HEAD, f'LossFunction names the port "{port}", but the net has no such '
                          f"output.{nearest(port, outputs)} Its outputs are "
                          f"{', '.join(outputs)}.")
    layer, weight = _layer_and_weight(sub)
    if layer is None and not is_loss_port(net, port) and port in columns:
        layer = automatic_loss(net, port, columns.get(port))
    if layer is None:
        return LossTerm(port, port, weight)
    return LossTerm(f"{port}Loss", port, weight, layer)


def _layer_and_weight(sub: Any) -> tuple[Layer | None, float]:
    parts = sub if isinstance(sub, tuple) else (sub,)
    layer, weight = None, 1.0
    for part in parts:
        if isinstance(part, Scaled):
            weight = float(part.value)
        elif isinstance(part, Layer):
            layer = part
        elif part is not Automatic:
            raise OptionError(HEAD, f"expected a loss layer, Scaled(w) or Automatic for a port "
                              f"in LossFunction, but received {part!r}.")
    return layer, weight


def training_net(net: Layer, terms: list[LossTerm], expose: Collection[str] = ()
                 ) -> Objective:
    """The NetGraph that holds ``net`` as node "net" with the terms' loss layers attached.

    Each port in ``expose`` is also an output ``"$port"`` (what measurements read of an
    output that a loss layer consumes)."""
    attached = [t for t in terms if t.layer is not None]
    direct = {t.port for t in terms if t.layer is None}
    # The loss layers come first so the targets (required inputs) precede the net's optional
    # state inputs in the generated forward's signature.
    nodes: dict[str, Layer] = {}
    conns: list[tuple] = []
    for t in attached:
        nodes[t.name] = t.layer  # type: ignore[assignment]
        conns.append((NetPort(NODE, t.port), NetPort(t.name, "Input")))
        if "Target" in t.layer.input_ports():  # type: ignore[union-attr]
            conns.append((NetPort(t.port), NetPort(t.name, "Target")))
        conns.append((NetPort(t.name, _loss_output(t.layer)), NetPort(t.name)))  # type: ignore
    nodes[NODE] = net
    consumed = {t.port for t in attached}
    for p in net_outputs(net):
        if p not in consumed or p in direct:
            conns.append((NetPort(NODE, p), NetPort(p)))
    for p in expose:
        conns.append((NetPort(NODE, p), NetPort("$" + p)))
    return Objective(NetGraph(nodes, conns), tuple(terms))


def _loss_output(layer: Layer) -> str:
    outs = layer.params["outputs"] if isinstance(layer, Container) else layer.visible_outputs()
    if len(outs) != 1:
        raise OptionError(HEAD, f"a loss layer must have one output, but {layer.head} has "
                          f"{', '.join(outs) or 'none'}.")
    return outs[0]


def net_outputs(net: Layer) -> list[str]:
    """The output ports of the user's net as a node of the training net sees them."""
    return list(net.params["outputs"] if isinstance(net, Container) else net.visible_outputs())


def data_type(port: str, t: PortType, column: np.ndarray) -> PortType:
    """What the data says about a port: its example shape, where the net leaves it open."""
    shape = tuple(int(s) for s in column.shape[1:])
    kind = t.kind or "Real"
    if t.dims is None:
        return PortType(shape, kind, t.bound)
    if len(t.dims) != len(shape) or any(isinstance(d, int) and d != s and d is not VARYING
                                        for d, s in zip(t.dims, shape, strict=True)):
        raise ShapeError(HEAD, f'port "{port}" expects {t.describe()}, but the training data '
                         f"has examples of dimensions {{{', '.join(map(str, shape))}}}.")
    dims = tuple(s if d is None else d for d, s in zip(t.dims, shape, strict=True))
    return PortType(dims, kind, t.bound)


def typed(objective: Objective, columns: Mapping[str, np.ndarray]) -> Objective:
    """The training net with the port shapes the data fixes inferred through it."""
    g = objective.net
    ins = {}
    for p in g.params["inputs"]:
        t = g.in_types[p]
        ins[p] = data_type(p, t, columns[p]) if p in columns else t
    try:
        net = g.specialize(ins, dict(g.out_types))
    except ShapeError as e:
        raise ShapeError(HEAD, f"the training data does not fit the net: {e}") from None
    return Objective(net, objective.terms)  # type: ignore[arg-type]


def transfer_spec(spec: Any) -> dict[str, str]:
    """StateTransfer as ``{output port: input port}`` (a dict, or a list of pairs)."""
    if spec is None:
        return {}
    if isinstance(spec, dict) and all(isinstance(k, str) and isinstance(v, str)
                                      for k, v in spec.items()):
        return dict(spec)
    if isinstance(spec, list) and all(isinstance(r, tuple) and len(r) == 2 for r in spec):
        return transfer_spec(dict(spec))
    raise OptionError(HEAD, f'expected StateTransfer to be a dict {{"OutputPort": '
                      f'"InputPort", ...}}, but received {spec!r}.')


def check_transfer(objective: Objective, transfer: dict[str, str]) -> None:
    """Each mapped output exists, feeds an input that exists, and keeps its shape."""
    g = objective.net
    for out, inp in transfer.items():
        if out not in g.params["outputs"]:
            raise OptionError(HEAD, f'StateTransfer maps "{out}", but the net has no such '
                              f"output.{nearest(out, g.params['outputs'])} Its outputs are "
                              f"{', '.join(g.params['outputs'])}.")
        if inp not in g.params["inputs"]:
            raise OptionError(HEAD, f'StateTransfer maps "{out}" to "{inp}", but the net has '
                              f"no such input.{nearest(inp, g.params['inputs'])} Its inputs "
                              f"are {', '.join(g.params['inputs'])}.")
        if g.out_types[out] != g.in_types[inp]:
            raise OptionError(HEAD, f'StateTransfer maps "{out}" ({g.out_types[out].describe()})'
                              f' to "{inp}" ({g.in_types[inp].describe()}); a state must keep '
                              "its shape.")
