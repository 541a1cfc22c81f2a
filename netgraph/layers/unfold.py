"""NetUnfold and RecurrentStep: a recurrent layer's single step, its states exposed."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import LayerError
from ..shapes import VARYING, PortType
from .base import ArraySpec, Layer, PortMismatch, Types, check_size
from .inner import GRAPHS, short
from .recurrent import RecurrentLayer


class RecurrentStep(Layer):
    """One step of a recurrent layer, as NetUnfold gives it: its state ports exposed.

    Inputs "Input" (a vector), "State" (and "CellState" for an LSTM); outputs "Output" (the
    new state) (and "CellState"). The arrays are the recurrent layer's.
    ``NetFoldOperator(NetUnfold(layer))`` computes what ``layer`` computes, on the same
    fused kernel.
    """

    time = "pointwise"  # one step: no time dimension

    def __init__(self, kind: str, n: int, **opts: Any) -> None:
        self.check_params({"kind": kind, "n": n})
        cls = self._recurrent(kind)
        arrays = {k: opts.pop(k) for k in list(opts) if k in cls._array_names()}
        self._init({"kind": kind, "n": n}, opts, arrays)

    @staticmethod
    def _recurrent(kind: Any) -> type[RecurrentLayer]:
        from . import recurrent as R
        found = getattr(R, kind, None) if isinstance(kind, str) else None
        if not (isinstance(found, type) and issubclass(found, RecurrentLayer)):
            raise LayerError("RecurrentStep", f"expected the name of a recurrent layer, but "
                             f"received {kind!r}.")
        return found

    @classmethod
    def check_params(cls, params: Any) -> None:
        cls._recurrent(params["kind"])
        check_size("RecurrentStep", params["n"], "the state size n", allow_none=False)

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
    from .operators import NetFoldOperator  # lazily: operators re-exports this module's names
    if isinstance(net, RecurrentLayer):
        x = net.in_types.get("Input", PortType())
        k = x.dims[1] if x.dims and len(x.dims) == 2 else None
        step = RecurrentStep(net.head, net.params["n"], **({"Input": k} if k else {}))
        return step._replace(arrays=dict(net.arrays))
    if isinstance(net, NetFoldOperator):
        return net._net()
    if isinstance(net, GRAPHS["Container"]) and len(net.nodes) == 2:
        first, last = (net.nodes[k] for k in net.params["order"])
        if last.head == "SequenceLastLayer":
            return NetUnfold(first)
    raise LayerError("NetUnfold", f"expected a recurrent layer or a NetFoldOperator (possibly "
                     f"followed by a SequenceLastLayer), but received {short(net)}.")
