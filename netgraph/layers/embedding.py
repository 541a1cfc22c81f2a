"""Sequence layers with learned lookups: EmbeddingLayer and AttentionLayer."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import LayerError
from ..shapes import PortType, UnifyError, parse, unify_dim
from .base import ArraySpec, Layer, PortMismatch, Types


def _positive(head: str, what: str, v: Any, allow_none: bool = False) -> int | None:
    if v is None and allow_none:
        return None
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1:
        return int(v)
    raise LayerError(head, f"expected {what} to be a positive integer, but received {v!r}.")


class EmbeddingLayer(Layer):
    """EmbeddingLayer(size, n): embeds the integers 1..n as learned vectors of length size.

    ``EmbeddingLayer(size)`` infers n from its input (``Input=Restricted("Integer", n)`` or
    ``Input=("Varying", Restricted("Integer", n))``). An integer gives a vector, an array of
    integers an array of vectors. Array "Weights" (n x size).

    >>> emb = EmbeddingLayer(4, 10, Input="Varying")
    >>> Information(emb, "OutputPorts")["Output"], emb.array_specs()["Weights"].shape
    (('Varying', 4), (10, 4))
    """

    time = "pointwise"

    options = ("Weights",)

    def __init__(self, size: int, n: int | None = None, **opts: Any) -> None:
        head = "EmbeddingLayer"
        size = _positive(head, "the embedding size", size)  # type: ignore[assignment]
        n = _positive(head, "the number of integers n", n, allow_none=True)
        w = opts.pop("Weights", None)
        if w is not None:
            shape = np.shape(w)
            if len(shape) != 2 or shape[1] != size or (n is not None and shape[0] != n):
                raise LayerError(head, f'expected "Weights" of dimensions {{{n or "n"}, {size}}}, '
                                 f"but received an array of dimensions {list(shape)}.")
            n = shape[0]
        if opts.get("Input") is not None:
            opts["Input"] = _integer_input(head, opts["Input"])
        self._init({"size": size, "n": n}, opts, {} if w is None else {"Weights": w})

    @classmethod
    def check_params(cls, params: Any) -> None:
        _positive("EmbeddingLayer", "the embedding size", params["size"])
        _positive("EmbeddingLayer", "the number of integers n", params["n"], allow_none=True)

    def count(self, x: PortType) -> int | None:
        """n: from the parameters or the input's integer bound."""
        return self.params["n"] or (x.bound[1] if x.bound is not None else None)

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        n, size = self.params["n"], self.params["size"]
        want = "integers between 1 and " + (str(n) if n else "n")
        if x.kind == "Real":
            raise PortMismatch("Input", want, x.describe())
        if x.bound is not None and (x.bound[0] < 1 or (n is not None and x.bound[1] > n)):
            raise PortMismatch("Input", want, x.describe())
        if y.dims is not None and (not y.dims or y.dims[-1] not in (None, size)):
            raise PortMismatch("Output", f"an array of vectors of size {size}", y.describe())
        bound = x.bound if x.bound is not None else (None if n is None else (1, n))
        xin = PortType(y.dims[:-1] if y.dims is not None else None, "Integer", bound)
        out = PortType(None if x.dims is None else (*x.dims, size), "Real")
        return {"Input": xin}, {"Output": out}

    def array_specs(self) -> dict[str, ArraySpec]:
        n, size = self.count(self.in_types.get("Input", PortType())), self.params["size"]
        return {"Weights": ArraySpec(None if n is None else (n, size), "weights", size, size)}

    def _param_repr(self) -> str:
        n = self.params["n"]
        return f"{self.params['size']}" + ("" if n is None else f", {n}")


def _integer_input(head: str, spec: Any, port: str = "Input") -> PortType:
    """EmbeddingLayer's Input=d, (d1, d2), "Varying", ... mean integers, as in WL."""
    t = parse(spec, head, f'port "{port}"')
    explicit = spec in ("Real", "Scalar") or (isinstance(spec, (tuple, list)) and spec
                                              and spec[-1] in ("Real", "Scalar"))
    return PortType(t.dims, "Integer", t.bound) if t.kind == "Real" and not explicit else t


RESCALINGS = (None, "DimensionSqrt", "LengthSqrt")


def _mask(head: str, m: Any) -> tuple[str, int | None] | None:
    """None, "Causal" or ("Causal", n) (WL "Causal" -> n: a window of n keys)."""
    if m is None or m == "None":
        return None
    if m == "Causal":
        return ("Causal", None)
    if isinstance(m, tuple) and len(m) == 2 and m[0] == "Causal":
        return ("Causal", _positive(head, "the causal window n", m[1]))
    raise LayerError(head, f'expected Mask to be None, "Causal" or ("Causal", n), but received '
                     f"{m!r}.")


def _check_net(net: Any) -> None:
    if net not in ("Bilinear", "Dot"):
        raise LayerError("AttentionLayer", f'expected the scoring net to be "Bilinear" or "Dot" '
                         f"(custom scoring nets are not supported yet), but received {net!r}.")


class AttentionLayer(Layer):
    """AttentionLayer(net): weights "Value" vectors by softmax scores of "Key" and "Query".

    ``net`` is "Bilinear" (the default: s = q . (W . k) with a learned "Weights" array of
    dimensions query size x key size) or "Dot" (s = q . k). "Key" (d1 x ... x dn x k) and
    "Value" (d1 x ... x dn x v) share their leading dimensions; "Query" is one vector of
    size q or an array of them, and "Output" has the query's leading dimensions and size v.
    Options: "Mask" (None, "Causal" or ("Causal", n): query i sees keys i-n+1..i; keys,
    values and queries are then sequences of one length), "ScoreRescaling" (None,
    "DimensionSqrt": divide scores by the square root of the key size, or "LengthSqrt":
    by the square root of the number of keys attended), "Dropout" (on the attention
    weights, in training).

    >>> att = AttentionLayer("Dot", Key=("Varying", 3), Value=("Varying", 5), Query=3)
    >>> Information(att, "OutputPorts")
    {'Output': 5}
    """

    time = "whole"  # every step attends to every other

    inputs = ("Key", "Value", "Query")
    options = ("Mask", "ScoreRescaling", "Dropout", "MultiHead", "Weights")

    def __init__(self, net: str = "Bilinear", **opts: Any) -> None:
        head = "AttentionLayer"
        _check_net(net)
        resc = opts.pop("ScoreRescaling", None)
        p = opts.pop("Dropout", 0)
        if opts.pop("MultiHead", False) is not False:
            raise LayerError(head, 'the option "MultiHead" -> True is not supported yet.')
        w = opts.pop("Weights", None)
        if w is not None and (net != "Bilinear" or np.ndim(w) != 2):
            raise LayerError(head, 'expected "Weights" only with the "Bilinear" scoring net, as '
                             f"a matrix, but received an array of dimensions {list(np.shape(w))}.")
        params = {"net": net, "mask": _mask(head, opts.pop("Mask", None)), "rescaling": resc,
                  "dropout": float(p) if isinstance(p, (int, float)) else p,
                  "weights": None if w is None else np.shape(w)}
        self._init(params, opts, {} if w is None else {"Weights": w})

    @classmethod
    def check_params(cls, params: Any) -> None:
        head = "AttentionLayer"
        _check_net(params["net"])
        resc, p, mask, w = params["rescaling"], params["dropout"], params["mask"], params["weights"]
        if resc not in RESCALINGS:
            raise LayerError(head, f'expected ScoreRescaling to be None, "DimensionSqrt" or '
                             f'"LengthSqrt", but received {resc!r}.')
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p < 1:
            raise LayerError(head, f"expected Dropout to be a probability p with 0 <= p < 1, "
                             f"but received {p!r}.")
        if mask is not None and not (isinstance(mask, tuple) and len(mask) == 2
                                     and mask[0] == "Causal" and (mask[1] is None or _mask(
                                         head, mask) == mask)):
            raise LayerError(head, f'expected Mask to be None, "Causal" or ("Causal", n), but '
                             f"received {mask!r}.")
        if w is not None and not (isinstance(w, tuple) and len(w) == 2 and all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in w)):
            raise LayerError(head, f"expected the dimensions of the weights, but received {w!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        kt, vt, qt = (ins.get(p, PortType()) for p in self.inputs)
        ot = outs.get("Output", PortType())
        self._check_ranks(kt, vt, qt, ot)
        causal = self.params["mask"] is not None
        lead = _unify_lists("Value", vt, _lead(kt, 2 if causal else None), _lead(vt))
        qlead = _unify_lists("Output", ot, _lead(qt, 2 if causal else None), _lead(ot))
        if causal:
            lead = qlead = _unify_lists("Query", qt, lead, qlead)
        k, q = self._sizes(kt, qt)
        v = _unify("Output", ot, _last(vt), _last(ot))
        key, value = _with_last(lead, k), _with_last(lead, v)
        return ({"Key": key, "Value": value, "Query": _with_last(qlead, q)},
                {"Output": _with_last(qlead, v)})

    def _check_ranks(self, kt: PortType, vt: PortType, qt: PortType, ot: PortType) -> None:
        causal = self.params["mask"] is not None
        for port, t in (("Key", kt), ("Value", vt)):
            if t.dims is not None and (len(t.dims) < 2 or causal and len(t.dims) != 2):
                want = "a sequence of vectors (with a causal mask)" if causal else \
                    "an array of vectors (rank at least 2)"
                raise PortMismatch(port, want, t.describe())
        for port, t in (("Query", qt), ("Output", ot)):
            if t.dims is not None and (len(t.dims) < 1 or causal and len(t.dims) != 2):
                want = "a sequence of vectors (with a causal mask)" if causal else \
                    "a vector or an array of vectors"
                raise PortMismatch(port, want, t.describe())

    def _sizes(self, kt: PortType, qt: PortType) -> tuple[Any, Any]:
        """Key and query vector sizes, tied by "Dot" or by given bilinear weights."""
        k, q, w = _last(kt), _last(qt), self.params["weights"]
        if w is not None:
            q = _unify("Query", qt, w[0], q)
            k = _unify("Key", kt, w[1], k)
        elif self.params["net"] == "Dot":
            k = q = _unify("Query", qt, k, q)
        return k, q

    def array_specs(self) -> dict[str, ArraySpec]:
        if self.params["net"] != "Bilinear":
            return {}
        k = _last(self.in_types.get("Key", PortType()))
        q = _last(self.in_types.get("Query", PortType()))
        shape = (q, k) if isinstance(k, int) and isinstance(q, int) else None
        return {"Weights": ArraySpec(shape, "weights", k, q)}

    def _param_repr(self) -> str:
        p, parts = self.params, [] if self.params["net"] == "Bilinear" else ['"Dot"']
        if p["mask"] is not None:
            parts.append('Mask="Causal"' if p["mask"][1] is None
                         else f'Mask=("Causal", {p["mask"][1]})')
        if p["rescaling"] is not None:
            parts.append(f'ScoreRescaling="{p["rescaling"]}"')
        if p["dropout"]:
            parts.append(f'Dropout={p["dropout"]:g}')
        return ", ".join(parts)


def _lead(t: PortType, rank: int | None = None) -> list | None:
    """The leading dimensions (all but the vector dimension), when the rank is known."""
    if t.dims is not None:
        return list(t.dims[:-1])
    return None if rank is None else [None] * (rank - 1)


def _last(t: PortType) -> Any:
    return t.dims[-1] if t.dims else None


def _with_last(lead: list | None, last: Any) -> PortType:
    return PortType(None if lead is None else (*lead, last), "Real")


def _unify(port: str, t: PortType, a: Any, b: Any) -> Any:
    try:
        return unify_dim(a, b)
    except UnifyError:
        raise PortMismatch(port, f"vectors of size {a}", t.describe()) from None


def _unify_lists(port: str, t: PortType, a: list | None, b: list | None) -> list | None:
    """Unify two lists of leading dimensions (None: rank unknown)."""
    if a is None or b is None:
        return a if b is None else b
    if len(a) != len(b):
        raise PortMismatch(port, f"{len(a)} leading dimension{'s' if len(a) != 1 else ''} "
                           "(as its companion port)", t.describe())
    try:
        return [unify_dim(x, y) for x, y in zip(a, b, strict=True)]
    except UnifyError:
        shown = ", ".join("?" if d is None else "n" if not isinstance(d, int) else str(d)
                          for d in a)
        raise PortMismatch(port, f"leading dimensions {{{shown}}}", t.describe()) from None
