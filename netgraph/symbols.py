"""WL symbols: Automatic, All, Scaled, and the function names layers accept."""
from __future__ import annotations

from dataclasses import dataclass


class Symbol:
    """A WL symbol such as ``Automatic`` or ``Tanh``: compares by name."""

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError("symbols are immutable")

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Symbol) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("Symbol", self.name))

    def __reduce__(self):  # pragma: no cover - symbols survive copy/deepcopy
        return (Symbol, (self.name,))


Automatic = Symbol("Automatic")
All = Symbol("All")
Inherited = Symbol("Inherited")

# Elementwise functions (ElementwiseLayer).
Ramp = Symbol("Ramp")
Tanh = Symbol("Tanh")
LogisticSigmoid = Symbol("LogisticSigmoid")
Sin = Symbol("Sin")
Cos = Symbol("Cos")
Exp = Symbol("Exp")
Log = Symbol("Log")
Sqrt = Symbol("Sqrt")
Abs = Symbol("Abs")
Sign = Symbol("Sign")
Square = Symbol("Square")
Erf = Symbol("Erf")
SoftRamp = Symbol("SoftRamp")
ELU = Symbol("ELU")
SELU = Symbol("SELU")
GELU = Symbol("GELU")
Swish = Symbol("Swish")
HardTanh = Symbol("HardTanh")
HardSigmoid = Symbol("HardSigmoid")
Identity = Symbol("Identity")

# Threading functions (ThreadingLayer) and aggregations.
Plus = Symbol("Plus")
Times = Symbol("Times")
Subtract = Symbol("Subtract")
Divide = Symbol("Divide")
Max = Symbol("Max")
Min = Symbol("Min")
Power = Symbol("Power")
Mean = Symbol("Mean")
Total = Symbol("Total")
Catenate = Symbol("Catenate")
EuclideanDistance = Symbol("EuclideanDistance")   # NetPairEmbeddingOperator's distances
CosineDistance = Symbol("CosineDistance")

ELEMENTWISE = frozenset({Ramp, Tanh, LogisticSigmoid, Sin, Cos, Exp, Log, Sqrt, Abs, Sign,
                         Square, Erf, SoftRamp, ELU, SELU, GELU, Swish, HardTanh,
                         HardSigmoid, Identity})
THREADING = frozenset({Plus, Times, Subtract, Divide, Max, Min, Power})


@dataclass(frozen=True)
class Scaled:
    """``Scaled(w)``: a loss weight (WL ``Scaled[w]``), or a fraction of the data."""

    value: float

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            from .errors import OptionError
            raise OptionError("Scaled", f"expected a real number, but received {self.value!r}.")

    def __repr__(self) -> str:
        return f"Scaled({self.value})"


@dataclass(frozen=True)
class File:
    """``File(path)``: a file, as WL's ``File["path"]`` (e.g.
    ``TrainingProgressReporting=File("log.csv")``)."""

    path: str

    def __post_init__(self) -> None:
        import os
        if not isinstance(self.path, (str, os.PathLike)):
            from .errors import OptionError
            raise OptionError("File", f"expected a file path, but received {self.path!r}.")
        object.__setattr__(self, "path", os.fspath(self.path))

    def __repr__(self) -> str:
        return f'File("{self.path}")'
