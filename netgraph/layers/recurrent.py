"""Recurrent layers: LongShortTermMemoryLayer, GatedRecurrentLayer, BasicRecurrentLayer.

Each has a sequence "Input" (T x k) and "Output" (T x n) and state ports that are both inputs
(initial state, zeros when not connected) and outputs (final state), with WL's array names.
"""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar

from ..errors import LayerError
from ..shapes import VARYING, PortType, real
from .base import ArraySpec, Layer, PortMismatch, Types, check_size

GATES = {
    "LongShortTermMemoryLayer": ("Input", "Forget", "Memory", "Output"),  # torch order i, f, g, o
    "GatedRecurrentLayer": ("Reset", "Input", "Memory"),                  # torch order r, z, n
}


class RecurrentLayer(Layer):
    """Shared shape logic of the three recurrent layers."""

    states: ClassVar[tuple[str, ...]] = ("State",)
    time = "lengths"
    last_of = MappingProxyType({"Output": "State"})   # the state is the last output
    options = ("Dropout", "LearningRateMultipliers")

    def __init__(self, n: int, **opts: Any) -> None:
        arrays = {k: opts.pop(k) for k in list(opts) if k in self._array_names()}
        params = {"n": n, "dropout": opts.pop("Dropout", None)}
        self._init(params, opts, arrays)

    @classmethod
    def check_params(cls, params: Any) -> None:
        check_size(cls.__name__, params["n"], "the state size n", allow_none=False)
        if params["dropout"] is not None:  # refused rather than accepted and ignored
            raise LayerError(cls.__name__, 'recurrent dropout (the "Dropout" option: a '
                             'probability or "VariationalWeights", "VariationalInput", '
                             '"VariationalState", "StateUpdate" rules) is not supported; '
                             f"expected Dropout=None, but received {params['dropout']!r}. "
                             "A DropoutLayer before the recurrent layer drops its inputs.")

    @classmethod
    def _array_names(cls) -> tuple[str, ...]:
        return ()

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        n = self.params["n"]
        x = ins.get("Input", PortType())
        y = outs.get("Output", PortType())
        if x.dims is not None and len(x.dims) != 2:
            raise PortMismatch("Input", "a sequence of vectors", x.describe())
        t = x.dims[0] if x.dims else VARYING
        if y.dims is not None and len(y.dims) == 2 and isinstance(y.dims[0], int):
            t = y.dims[0]
        k = x.dims[1] if x.dims else None
        state = real(n)
        cin = {s: state for s in self.states}
        return ({"Input": PortType((t, k), "Real"), **cin},
                {"Output": PortType((t, n), "Real"), **cin})

    def input_size(self) -> int | None:
        x = self.in_types.get("Input")
        return x.dims[1] if x is not None and x.dims else None  # type: ignore[return-value]

    def _gate_specs(self, gates: tuple[str, ...]) -> dict[str, ArraySpec]:
        n, k = self.params["n"], self.input_size()
        specs: dict[str, ArraySpec] = {}
        for g in gates:
            specs[f"{g}GateInputWeights"] = ArraySpec(None if k is None else (n, k), "weights",
                                                      k, n)
            specs[f"{g}GateStateWeights"] = ArraySpec((n, n), "weights", n, n)
            specs[f"{g}GateBiases"] = ArraySpec((n,), "biases")
        return specs

    def _param_repr(self) -> str:
        return str(self.params["n"])


class LongShortTermMemoryLayer(RecurrentLayer):
    """LongShortTermMemoryLayer(n): an LSTM with state size n; ports "State" and "CellState".

    >>> LongShortTermMemoryLayer(2).output_ports()
    ('Output', 'State', 'CellState')
    """

    states = ("State", "CellState")

    @classmethod
    def _array_names(cls) -> tuple[str, ...]:
        return tuple(f"{g}Gate{w}" for g in GATES["LongShortTermMemoryLayer"]
                     for w in ("InputWeights", "StateWeights", "Biases"))

    def array_specs(self) -> dict[str, ArraySpec]:
        return self._gate_specs(GATES["LongShortTermMemoryLayer"])


class GatedRecurrentLayer(RecurrentLayer):
    """GatedRecurrentLayer(n): a GRU with state size n; port "State"."""

    @classmethod
    def _array_names(cls) -> tuple[str, ...]:
        return tuple(f"{g}Gate{w}" for g in GATES["GatedRecurrentLayer"]
                     for w in ("InputWeights", "StateWeights", "Biases"))

    def array_specs(self) -> dict[str, ArraySpec]:
        return self._gate_specs(GATES["GatedRecurrentLayer"])


class BasicRecurrentLayer(RecurrentLayer):
    """BasicRecurrentLayer(n): s_t = tanh(wi . x_t + ws . s_{t-1} + b); port "State"."""

    @classmethod
    def _array_names(cls) -> tuple[str, ...]:
        return ("InputWeights", "StateWeights", "Biases")

    def array_specs(self) -> dict[str, ArraySpec]:
        n, k = self.params["n"], self.input_size()
        return {"InputWeights": ArraySpec(None if k is None else (n, k), "weights", k, n),
                "StateWeights": ArraySpec((n, n), "weights", n, n),
                "Biases": ArraySpec((n,), "biases")}
