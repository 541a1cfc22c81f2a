"""Operators whose meaning shows in training: NetPairEmbeddingOperator and NetGANOperator.

Both hold inner nets like the other operators (``params["nets"]``, ``inner_nets()``,
``map_inner``), so NetInitialize, NetExtract, Information, Export and LearningRateMultipliers
see their arrays; their torch modules are in ``backend/training_ops.py``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import LayerError
from ..ports import PortRef
from ..shapes import REAL, PortType
from ..symbols import Automatic, CosineDistance, EuclideanDistance, LogisticSigmoid, Symbol
from .base import Layer, PortMismatch, Types
from .basic import ElementwiseLayer
from .inner import GRAPHS, as_net, lift, meet, one_in_one_out, short, solve, strip
from .operators import Operator

DISTANCES = (EuclideanDistance, CosineDistance)


class NetPairEmbeddingOperator(Operator):
    """NetPairEmbeddingOperator(net): the distance between the embeddings of a pair.

    Both members of the "Input" pair (an array of dimensions ``(2, ...)``) go through the
    same ``net`` (one input, one output); "Output" is their distance. ``DistanceFunction``
    is ``EuclideanDistance`` (the default; the sum of squared differences, as WL's own
    implementation computes it, with no square root) or ``CosineDistance``
    (``1 - a.b / (|a| |b|)``). NetTrain attaches ``ContrastiveLossLayer()`` to "Output" and
    takes pairs as WL does: ``[([a, b], True), ...]`` where True means "push apart".

    >>> op = NetPairEmbeddingOperator(LinearLayer(2, Input=3))
    >>> Information(op, "InputPorts"), Information(op, "OutputPorts")
    ({'Input': (2, 3)}, {'Output': 'Real'})
    """

    time = "inner"
    options = ("DistanceFunction",)

    def __init__(self, net: Any, **opts: Any) -> None:
        head = "NetPairEmbeddingOperator"
        net = as_net(head, net)
        one_in_one_out(head, net)
        dist = opts.pop("DistanceFunction", EuclideanDistance)
        if isinstance(dist, str):
            dist = Symbol(dist)
        self.check_params({"nets": {"Net": net}, "distance": dist})
        self._setup({"nets": {"Net": net}, "distance": dist}, opts)

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> None:
        super().check_params(params)
        if params["distance"] not in DISTANCES:
            raise LayerError("NetPairEmbeddingOperator", f"expected DistanceFunction to be "
                             f"EuclideanDistance or CosineDistance, but received "
                             f"{params['distance']!r}.")

    @staticmethod
    def automatic_loss() -> Layer:
        """The loss NetTrain attaches to "Output" (WL: a ContrastiveLossLayer)."""
        from .loss import ContrastiveLossLayer
        return ContrastiveLossLayer()

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        net = self._net()
        i, o = one_in_one_out(self.head, net)
        lead, x = strip("Input", ins.get("Input"), 1)
        if lead[0] not in (None, 2):
            raise PortMismatch("Input", "a pair (an array of dimensions (2, ...))",
                               ins["Input"].describe())
        new, ti, to = solve(self.head, net, {i: x}, {})
        y = to[o]
        if y.kind == "Integer":
            raise PortMismatch("Output", "a real embedding from the inner net", y.describe())
        meet("Output", outs.get("Output", PortType()), REAL)
        return {"Net": new}, {"Input": lift([2], ti[i])}, {"Output": REAL}

    def _param_repr(self) -> str:
        d = self.params["distance"]
        return short(self._net()) + ("" if d == EuclideanDistance else
                                     f", DistanceFunction={d}")


GAN_LOSSES = ("JensenShannon", "Wasserstein")


class NetGANOperator(Operator):
    """NetGANOperator([generator, discriminator], loss): a generative adversarial pair.

    Inputs "Sample" (a real example) and "Latent" (the generator's seed); outputs
    "LossReal" and "LossFake" (the discriminator's losses on the real example and on the
    generated one) and "GeneratedFake". Losses, as WL: "JensenShannon" (``-log D(sample)``
    and ``-log(1 - D(G(latent)))``; D must give probabilities, e.g. end in LogisticSigmoid)
    or "Wasserstein" (``-D(sample)`` and ``D(G(latent))``); ``Automatic`` picks
    JensenShannon when the discriminator ends in a LogisticSigmoid, Wasserstein otherwise.
    NetTrain minimizes LossReal + LossFake; the gradient that flows from the discriminator
    into the generator is sign-flipped, so the generator maximizes LossFake. Use
    ``TrainingUpdateSchedule=["Discriminator", "Generator"]`` to update them in turn.

    >>> gan = NetGANOperator([LinearLayer(2, Input=1), NetChain([LinearLayer(1), LogisticSigmoid])])
    >>> Information(gan, "OutputPorts")["GeneratedFake"], gan.params["loss"]
    (2, 'JensenShannon')
    """

    time = "inner"
    inputs = ("Sample", "Latent")
    outputs = ("LossReal", "LossFake", "GeneratedFake")
    is_loss = True
    loss_outputs = ("LossReal", "LossFake")
    net_keys = ("Generator", "Discriminator")

    def __init__(self, nets: Any, loss: Any = Automatic, **opts: Any) -> None:
        head = "NetGANOperator"
        if not isinstance(nets, (list, tuple)) or len(nets) != 2:
            raise LayerError(head, f"expected [generator, discriminator], but received "
                             f"{nets!r}.")
        g, d = as_net(head, nets[0]), as_net(head, nets[1])
        for name, n in (("generator", g), ("discriminator", d)):
            ins, outs = n.visible_inputs(), n.visible_outputs()
            if len(ins) != 1 or len(outs) != 1:
                raise LayerError(head, f"expected the {name} to have one input and one output, "
                                 f"but it has inputs {list(ins)} and outputs {list(outs)}.")
        if loss is Automatic:
            loss = "JensenShannon" if _ends_in_sigmoid(d) else "Wasserstein"
        params = {"nets": {"Generator": g, "Discriminator": d}, "loss": loss}
        self.check_params(params)
        self._setup(params, opts)

    @classmethod
    def check_params(cls, params: Mapping[str, Any]) -> None:
        super().check_params(params)
        if params["loss"] not in GAN_LOSSES:
            raise LayerError("NetGANOperator", f'expected the loss to be Automatic, '
                             f'"JensenShannon" or "Wasserstein", but received '
                             f"{params['loss']!r}.")

    def _solve(self, ins: Types, outs: Types) -> tuple[dict[str, Layer], Types, Types]:
        g, d = self._net("Generator"), self._net("Discriminator")
        (gi,), (go,) = g.visible_inputs(), g.visible_outputs()
        (di,), (do,) = d.visible_inputs(), d.visible_outputs()
        sample = meet("Sample", ins.get("Sample", PortType()),
                      outs.get("GeneratedFake", PortType()))
        g2, tgi, tgo = solve(self.head, g, {gi: ins.get("Latent", PortType())}, {go: sample})
        d2, tdi, tdo = solve(self.head, d, {di: meet("Sample", sample, tgo[go])}, {})
        g3, tgi, tgo = solve(self.head, g2, {}, {go: tdi[di]})
        if tdo[do].dims not in (None, (), (1,)):
            raise PortMismatch("Sample", "a discriminator that gives one number (a real or a "
                               "vector of size 1)", tdo[do].describe())
        return ({"Generator": g3, "Discriminator": d2},
                {"Sample": tdi[di], "Latent": tgi[gi]},
                {"LossReal": REAL, "LossFake": REAL, "GeneratedFake": tgo[go]})

    def _param_repr(self) -> str:
        return (f"[{short(self._net('Generator'))}, {short(self._net('Discriminator'))}], "
                f'"{self.params["loss"]}"')


def _ends_in_sigmoid(net: Layer) -> bool:
    """Whether the net's output comes from a LogisticSigmoid (the Automatic GAN loss)."""
    port = net.visible_outputs()[0]
    while isinstance(net, GRAPHS["Container"]):
        src = net.edges.get(PortRef(None, port))
        if src is None or src.node is None:
            return False
        net, port = net.nodes[src.node], src.port
    return isinstance(net, ElementwiseLayer) and net.params["function"] == LogisticSigmoid
