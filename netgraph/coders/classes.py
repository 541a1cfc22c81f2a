"""The "Class" encoder and decoder: labels <-> 1-based class indices or probability vectors.

Class indices are 1-based, as in WL (and as CrossEntropyLossLayer("Index") takes them).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ..shapes import PortType
from ..symbols import Automatic
from .base import REQUIRED, CoderError, is_number, show, suggest
from .values import NetDecoder, NetEncoder


def label_key(x: Any) -> Any:
    """A dict key for a label: numpy scalars as Python values, lists as tuples, and booleans
    kept apart from 0 and 1."""
    if isinstance(x, (bool, np.bool_)):
        return ("Boolean", bool(x))
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (list, tuple)):
        return tuple(label_key(v) for v in x)
    if isinstance(x, np.ndarray):
        return label_key(x.tolist())
    return x


def _plain(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (list, tuple, np.ndarray)):
        return tuple(_plain(v) for v in x)
    return x


def normalize_labels(cls: Any, labels: Any, allow_automatic: bool = False) -> Any:
    if allow_automatic and labels is Automatic:
        return Automatic
    if isinstance(labels, range | np.ndarray):
        labels = list(labels)
    if not isinstance(labels, (list, tuple)) or not labels:
        raise cls.bad('the class labels ("Labels")', "a non-empty list", labels)
    out = tuple(_plain(v) for v in labels)
    try:
        keys = [label_key(v) for v in out]
        distinct = len(set(keys)) == len(keys)
    except TypeError:
        raise cls.bad("each class label", "hashable (a string, number, tuple ...)",
                      labels) from None
    if not distinct:
        dup = next(v for v, k in zip(out, keys, strict=True) if keys.count(k) > 1)
        raise cls.bad("the class labels", "distinct", f"{show(dup)} more than once")
    return out


def _dimensions(cls: Any, dims: Any) -> tuple[Any, ...]:
    if isinstance(dims, int) and not isinstance(dims, bool):
        dims = (dims,)
    if isinstance(dims, (list, tuple)):
        dims = tuple(Automatic if d is None else d for d in dims)
    if not isinstance(dims, (list, tuple)) or not all(
            d is Automatic or (isinstance(d, int) and not isinstance(d, bool) and d >= 1)
            for d in dims):
        raise cls.bad('"Dimensions"', "a list of positive sizes (or Automatic)", dims)
    return tuple(dims)


def unknown_label(side: str, label: Any, labels: Sequence[Any], index: int | None) -> CoderError:
    hint = suggest(label, list(labels))
    more = f" Did you mean {show(hint)}?" if hint is not None else ""
    return CoderError(side, f"{show(label)} is not one of {show(list(labels))}.{more}",
                      index=index, label=label, suggestion=hint)


class ClassEncoder(NetEncoder, kind="Class"):
    """``["Class", labels]``, ``["Class", labels, "UnitVector"]``: a label -> its 1-based index
    ("Index", the default) or a one-hot vector ("UnitVector"; WL's "IndicatorVector" too).

    Options: "Dimensions" (an array of labels of these dimensions per example) and
    "Multilabel" (with "UnitVector": a list of labels -> a vector with 1 at each).
    """

    PARAMS: ClassVar[dict[str, Any]] = {"Labels": REQUIRED, "OutputForm": "Index",
                                        "Dimensions": (), "Multilabel": False}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Labels", "OutputForm")

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["Labels"] = normalize_labels(cls, p["Labels"])
        if p["OutputForm"] == "IndicatorVector":
            p["OutputForm"] = "UnitVector"
        if p["OutputForm"] not in ("Index", "UnitVector"):
            raise cls.bad("the output form", '"Index" or "UnitVector"', p["OutputForm"])
        p["Dimensions"] = _dimensions(cls, p["Dimensions"])
        if not isinstance(p["Multilabel"], bool):
            raise cls.bad('"Multilabel"', "True or False", p["Multilabel"])
        if p["Multilabel"] and (p["OutputForm"] != "UnitVector" or p["Dimensions"]):
            raise cls.bad('"Multilabel" -> True', 'used with "UnitVector" and no "Dimensions"',
                          p["OutputForm"])
        return p

    def _setup(self) -> None:
        labels = self.params["Labels"]
        self._set("_index", {label_key(v): i + 1 for i, v in enumerate(labels)})
        self._set("_bypass", not any(isinstance(v, int) and not isinstance(v, bool)
                                     for v in labels))
        # string labels: look the items up as they are (no key to build; True is never "a")
        self._set("_plain", {v: i + 1 for i, v in enumerate(labels)}
                  if all(isinstance(v, str) for v in labels) else None)

    @property
    def labels(self) -> tuple[Any, ...]:
        return self.params["Labels"]

    @property
    def port_type(self) -> PortType:
        n, dims = len(self.labels), tuple(None if d is Automatic else d
                                          for d in self.params["Dimensions"])
        if self.params["OutputForm"] == "Index":
            return PortType(dims, "Integer", (1, n))
        return PortType((*dims, n), "Real")

    def is_batch(self, x: Any) -> bool:
        if self.params["Multilabel"]:
            return isinstance(x, (list, tuple)) and any(isinstance(v, (list, tuple, set))
                                                        for v in x)
        if self.params["Dimensions"]:
            rank = np.asarray(x, dtype=object).ndim
            return rank == len(self.params["Dimensions"]) + 1 or self._bypass_rank(x) == 1
        try:
            if label_key(x) in self._index:  # type: ignore[attr-defined]
                return False
        except TypeError:
            pass
        if self._bypass_rank(x) == 0:
            return False
        return isinstance(x, (list, tuple, np.ndarray))

    def _bypass_rank(self, x: Any) -> int | None:
        """0 if ``x`` is one encoded example, 1 if a batch of them, else None."""
        if not self._bypass or isinstance(x, str):  # type: ignore[attr-defined]
            return None
        try:
            a = np.asarray(x)
        except (ValueError, TypeError):
            return None
        if a.dtype.kind not in "iuf" or a.dtype == np.bool_:
            return None
        t = self.port_type
        if t.kind == "Integer" and (a.dtype.kind == "f" or (a.size and (
                a.min() < 1 or a.max() > len(self.labels)))):
            return None
        want = t.dims or ()
        for extra in (0, 1):
            if a.ndim == len(want) + extra and all(
                    d is None or d == s for d, s in zip(want, a.shape[extra:], strict=True)):
                return extra
        return None

    def _encode(self, items: list[Any]) -> np.ndarray:
        if self.params["Multilabel"]:
            return self._multilabel(items)
        if self.params["Dimensions"]:
            return self._encode_arrays(items)
        return self._encode_flat(items)

    def _encode_flat(self, items: list[Any]) -> np.ndarray:
        index, plain = self._index, self._plain  # type: ignore[attr-defined]
        try:
            idx = [plain[x] for x in items] if plain is not None else [
                index[label_key(x)] for x in items]
        except (KeyError, TypeError):
            return self._encode_slowly(items)
        return self._finish(np.asarray(idx, dtype=np.int64).reshape(len(items)))

    def _finish(self, idx: np.ndarray) -> np.ndarray:
        if self.params["OutputForm"] == "Index":
            return idx
        return np.eye(len(self.labels), dtype=np.float32)[idx - 1]

    def _encode_slowly(self, items: list[Any]) -> np.ndarray:
        """One example at a time: encoded examples pass through; a bad label is named."""
        rows = []
        for i, x in enumerate(items):
            try:
                k = label_key(x)
                if k in self._index:  # type: ignore[attr-defined]
                    rows.append(self._finish(np.asarray([self._index[k]]))[0])  # type: ignore
                    continue
            except TypeError:
                pass
            if self._bypass_rank(x) == 0:
                rows.append(np.asarray(x, dtype=self._dtype()))
                continue
            raise unknown_label(self.side, x, self.labels, i)
        return np.stack(rows) if rows else np.zeros((0, *self.port_type.fixed_shape()),
                                                    self._dtype())

    def _dtype(self) -> type:
        return np.int64 if self.params["OutputForm"] == "Index" else np.float32

    def _encode_arrays(self, items: list[Any]) -> Any:
        dims = self.params["Dimensions"]
        out: list[np.ndarray] = []
        for i, x in enumerate(items):
            if self._bypass_rank(x) == 0:
                out.append(np.asarray(x, dtype=self._dtype()))
                continue
            a = np.asarray(x, dtype=object)
            if a.ndim != len(dims) or any(d is not Automatic and d != s
                                          for d, s in zip(dims, a.shape, strict=True)):
                raise CoderError(self.side, f"{self!r} expects an array of labels of "
                                 f"dimensions {show(list(dims))}, but received {show(x)}.",
                                 index=i)
            try:
                flat = self._encode_flat(a.reshape(-1).tolist()) if a.size else np.zeros(
                    (0,), np.int64)
            except CoderError as e:
                raise unknown_label(self.side, e.label, self.labels, i) from None
            out.append(flat.reshape(*a.shape, *flat.shape[1:]))
        if len({o.shape for o in out}) <= 1 and out:
            return np.stack(out)
        return out

    def _multilabel(self, items: list[Any]) -> np.ndarray:
        out = np.zeros((len(items), len(self.labels)), np.float32)
        for i, x in enumerate(items):
            if not isinstance(x, (list, tuple, set, frozenset)):
                x = [x]
            for v in x:
                k = self._index.get(label_key(v))  # type: ignore[attr-defined]
                if k is None:
                    raise unknown_label(self.side, v, self.labels, i)
                out[i, k - 1] = 1.0
        return out

    def counterpart_params(self) -> dict[str, Any]:
        return {"Labels": self.labels, "InputDepth": 1 + len(self.params["Dimensions"]),
                "Multilabel": self.params["Multilabel"]}


class ClassDecoder(NetDecoder, kind="Class"):
    """``"Class"`` or ``["Class", labels]``: probability vectors -> labels and properties.

    Labels default to 1, 2, ..., n (Automatic). "InputDepth" n: the input is an array of rank
    n whose last dimension holds the classes. "Multilabel" -> True: every class with a value
    above 0.5 is decided.
    """

    PARAMS: ClassVar[dict[str, Any]] = {"Labels": Automatic, "InputDepth": 1,
                                        "Multilabel": False}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Labels",)
    PROPERTIES: ClassVar[tuple[str, ...]] = (
        "Decision", "Probabilities", "Probability", "TopProbabilities", "TopDecisions",
        "Entropy", "RandomSample")

    @property
    def loss_hint(self) -> str:  # type: ignore[override]
        return "BinaryCrossEntropy" if self.params["Multilabel"] else "CrossEntropy"

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["Labels"] = normalize_labels(cls, p["Labels"], allow_automatic=True)
        d = p["InputDepth"]
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise cls.bad('"InputDepth"', "a positive integer", d)
        if not isinstance(p["Multilabel"], bool):
            raise cls.bad('"Multilabel"', "True or False", p["Multilabel"])
        return p

    @property
    def labels(self) -> Any:
        """The class labels, or Automatic (1, 2, ..., n for n classes)."""
        return self.params["Labels"]

    @property
    def port_type(self) -> PortType:
        n = None if self.labels is Automatic else len(self.labels)
        return PortType((None,) * (self.params["InputDepth"] - 1) + (n,), "Real")

    def _labels_for(self, n: int) -> np.ndarray:
        labels = list(range(1, n + 1)) if self.labels is Automatic else list(self.labels)
        if len(labels) != n:
            raise CoderError(self.side, f"{self!r} has {len(labels)} classes, but received "
                             f"probability vectors of size {n}.")
        out = np.empty(n, dtype=object)
        for i, v in enumerate(labels):
            out[i] = v
        return out

    def _check_property(self, name: str, arg: Any) -> Any:
        if name in ("TopProbabilities", "TopDecisions"):
            if arg is None and name == "TopProbabilities":
                return None
            if isinstance(arg, bool) or not isinstance(arg, int) or arg < 1:
                raise self.bad_property(name, f'("{name}", n) with a positive integer n', arg)
            return arg
        if name == "Probability":
            if self.labels is not Automatic and label_key(arg) not in {
                    label_key(v) for v in self.labels}:
                raise CoderError(self.side, f"requested the probability of {show(arg)}, "
                                 f"which is not one of the classes {show(list(self.labels))}.",
                                 label=arg, suggestion=suggest(arg, list(self.labels)))
            return arg
        if name == "RandomSample":
            return sample_options(self, arg)
        return super()._check_property(name, arg)

    def bad_property(self, name: str, expected: str, arg: Any) -> Exception:
        from ..errors import OptionError
        return OptionError(self.side, f'"{self.kind}" decoder property "{name}" expects '
                           f"{expected}, but received {show(arg)}.")

    def _decode(self, batch: Any, name: str, arg: Any) -> list[Any]:
        if isinstance(batch, list):  # ragged: decode one example at a time
            return [self._decode(np.asarray(a, np.float64)[None], name, arg)[0] for a in batch]
        p = self.numeric(batch)  # (batch, ..., n)
        if p.ndim != self.params["InputDepth"] + 1:
            raise CoderError(self.side, f"{self!r} expects a batch of arrays of rank "
                             f"{self.params['InputDepth']}, but received dimensions "
                             f"{list(p.shape)}.")
        labels = self._labels_for(p.shape[-1])
        return class_property(self, p, labels, name, arg)

    def counterpart_params(self) -> dict[str, Any]:
        labels = self.labels
        if labels is Automatic:
            raise CoderError("NetEncoder", f"{self!r} has no labels to encode; give them, as in "
                             'NetDecoder(["Class", [...]]).')
        depth = self.params["InputDepth"]
        return {"Labels": labels, "Dimensions": (Automatic,) * (depth - 1),
                "Multilabel": self.params["Multilabel"],
                "OutputForm": "UnitVector" if self.params["Multilabel"] else "Index"}

    def encode_target(self, labels: Sequence[Any]) -> Any:
        """Labels -> 1-based class indices (indicator vectors with "Multilabel")."""
        if self.labels is Automatic:
            a = np.asarray(labels)
            if a.dtype.kind not in "iu" or (a.size and a.min() < 1):
                raise CoderError(self.side, f"{self!r} has labels 1, 2, ..., so targets must "
                                 f"be positive integers, but received {show(labels)}.")
            return a.astype(np.int64)
        return NetEncoder(self).encode(labels)


def sample_options(dec: Any, arg: Any) -> dict[str, Any]:
    """("RandomSample", t) or ("RandomSample", {"Temperature": t, ...}) -> options."""
    if arg is None:
        return {}
    if is_number(arg):
        arg = {"Temperature": arg}
    if not isinstance(arg, dict) or not set(arg) <= {"Temperature", "TopProbabilities",
                                                     "TotalProbabilityCutoff"}:
        raise dec.bad_property("RandomSample", 'a temperature t or a dict of "Temperature", '
                               '"TopProbabilities" and "TotalProbabilityCutoff"', arg)
    t = arg.get("Temperature", 1)
    if not is_number(t) or t < 0:
        raise dec.bad_property("RandomSample", "a temperature t >= 0", t)
    k = arg.get("TopProbabilities")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise dec.bad_property("RandomSample", '"TopProbabilities" -> a positive integer', k)
    c = arg.get("TotalProbabilityCutoff")
    if c is not None and (not is_number(c) or not 0 < c <= 1):
        raise dec.bad_property("RandomSample", '"TotalProbabilityCutoff" -> p in (0, 1]', c)
    return {"Temperature": float(t), "TopProbabilities": k, "TotalProbabilityCutoff": c}


def _nested(values: np.ndarray) -> list[Any]:
    """An object or numeric array (batch, ...) -> a list of Python values per example."""
    return values.tolist()


def _rows(p: np.ndarray) -> np.ndarray:
    return p.reshape(-1, p.shape[-1])  # (batch * positions, n)


def _unrows(items: list[Any], p: np.ndarray) -> list[Any]:
    lead = p.shape[:-1]
    arr = np.empty(len(items), dtype=object)
    for i, v in enumerate(items):
        arr[i] = v
    return arr.reshape(lead).tolist()


def entropy(p: np.ndarray) -> np.ndarray:
    """-sum p log p over the last axis, skipping p < 4.44e-16 (as WL)."""
    safe = np.where((p >= 4.440892098500626e-16) & (p <= 1), p, 1.0)
    return -(safe * np.log(safe)).sum(-1)


def sample(p: np.ndarray, opts: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """0-based class indices sampled from each row of ``p`` (rows, n)."""
    t = opts.get("Temperature", 1.0)
    if t == 0:
        return p.argmax(-1)
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        q = np.exp(np.log(np.clip(p, 0, None)) / t)
    k, cut = opts.get("TopProbabilities"), opts.get("TotalProbabilityCutoff")
    order = np.argsort(-q, axis=-1, kind="stable")
    keep = np.ones_like(q, dtype=bool)
    if k is not None:
        keep &= np.argsort(order, axis=-1) < k
    if cut is not None:
        sq = np.take_along_axis(q, order, -1)
        csum = np.cumsum(sq, -1) / np.maximum(sq.sum(-1, keepdims=True), 1e-300)
        rank_keep = np.concatenate([np.ones_like(csum[:, :1], bool), csum[:, :-1] < cut], -1)
        keep &= np.take_along_axis(rank_keep, np.argsort(order, axis=-1), -1)
    q = np.where(keep, q, 0.0)
    total = q.sum(-1, keepdims=True)
    out = p.argmax(-1)
    ok = (total[:, 0] > 0) & np.isfinite(total[:, 0])
    u = rng.random(len(p))
    cdf = np.cumsum(q[ok] / total[ok], -1)
    out[ok] = np.minimum((cdf < u[ok, None]).sum(-1), p.shape[-1] - 1)
    return out


def class_property(dec: Any, p: np.ndarray, labels: np.ndarray, name: str, arg: Any
                   ) -> list[Any]:
    """The property ``name`` of each probability vector of ``p`` (batch, ..., n)."""
    rows = _rows(p)
    if name == "Decision" and dec.params["Multilabel"]:
        return _unrows([list(labels[r > 0.5]) for r in rows], p)
    if name == "Decision":
        return _nested(labels[p.argmax(-1)])
    if name == "Probabilities":
        if p.ndim == 2:
            return [dict(zip(labels.tolist(), map(float, r), strict=True)) for r in p]
        return [{c: p[b, ..., i].tolist() for i, c in enumerate(labels.tolist())}
                for b in range(len(p))]
    if name == "Probability":
        i = next(j for j, c in enumerate(labels.tolist()) if label_key(c) == label_key(arg)) \
            if dec.labels is not Automatic else int(arg) - 1
        if not 0 <= i < p.shape[-1]:
            raise CoderError(dec.side, f"requested the probability of {show(arg)}, which is "
                             f"not one of the classes 1 to {p.shape[-1]}.", label=arg)
        return p[..., i].tolist()
    if name == "Entropy":
        return entropy(p).tolist()
    if name == "RandomSample":
        rng = np.random.default_rng()
        return _nested(labels[sample(rows, arg, rng).reshape(p.shape[:-1])])
    order = np.argsort(-rows, axis=-1, kind="stable")  # most likely first; ties: first class
    if name == "TopDecisions":
        k = min(arg, p.shape[-1])
        return _unrows([list(labels[o[:k]]) for o in order], p)
    if arg is None:  # "TopProbabilities": classes above a tenth of the largest
        items = [[(labels[j], float(r[j])) for j in o if r[j] > 0.1 * r[o[0]]]
                 for r, o in zip(rows, order, strict=True)]
    else:
        k = min(arg, p.shape[-1])
        items = [[(labels[j], float(r[j])) for j in o[:k]] for r, o in zip(rows, order,
                                                                             strict=True)]
    return _unrows(items, p)
