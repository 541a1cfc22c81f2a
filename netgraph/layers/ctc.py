"""CTCLossLayer: the connectionist temporal classification loss (Graves et al. 2006)."""
from __future__ import annotations

from typing import Any

from ..errors import LayerError
from ..shapes import REAL, VARYING, PortType, UnifyError, unify_dim
from .base import PortMismatch, Types
from .embedding import _integer_input
from .levels import _is_int
from .loss import LossLayer


class CTCLossLayer(LossLayer):
    """CTCLossLayer(): the CTC negative log-likelihood of a label sequence.

    "Input" is a sequence of probability vectors of size c+1 (each summing to 1), whose
    **last** component is the blank; "Target" a sequence of class indices 1..c, no longer
    than the input; "Loss" the negative log-likelihood of the target summed over all
    alignments (not normalized by length). ``CTCLossLayer(c)`` fixes c. Computed by torch's
    CTC kernel. :func:`ctc_greedy_decode` reads the best path of an input back as labels.

    >>> layer = CTCLossLayer(Input=(2, 2), Target=1)
    >>> round(layer({"Input": [[0.5, 0.5], [0.5, 0.5]], "Target": [1]}), 4)  # -log(3/4)
    0.2877
    """

    time = "whole"  # alignments span the whole sequence

    def __init__(self, n: int | None = None, **opts: Any) -> None:
        params = {"n": n}
        if opts.get("Target") is not None:
            opts["Target"] = _integer_input("CTCLossLayer", opts["Target"], "Target")
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        n = params["n"]
        if n is not None and (not _is_int(n) or n < 1):
            raise LayerError("CTCLossLayer", f"expected the class count c to be a positive "
                             f"integer, but received {n!r}.")

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, t = ins.get("Input", PortType()), ins.get("Target", PortType())
        if x.dims is not None and len(x.dims) != 2:
            raise PortMismatch("Input", "a sequence of probability vectors", x.describe())
        if t.kind == "Real" or (t.dims is not None and len(t.dims) != 1):
            raise PortMismatch("Target", "a sequence of class indices", t.describe())
        n = self.params["n"]
        size = n + 1 if n is not None else None
        if x.dims is not None:
            try:
                size = unify_dim(size, x.dims[1])
            except UnifyError:
                raise PortMismatch("Input", f"a sequence of vectors of size {size}",
                                   x.describe()) from None
            if size is VARYING or (_is_int(size) and size < 2):
                raise PortMismatch("Input", "a sequence of vectors of size greater than 1",
                                   x.describe())
        length = x.dims[0] if x.dims is not None else None
        tlen = t.dims[0] if t.dims is not None else None
        if _is_int(length) and _is_int(tlen) and tlen > length:
            raise PortMismatch("Target", f"a sequence no longer than the input ({length})",
                               t.describe())
        bound = (1, size - 1) if _is_int(size) else t.bound
        return ({"Input": PortType((length, size), "Real"),
                 "Target": PortType((tlen,), "Integer", bound)}, {"Loss": REAL})

    def _param_repr(self) -> str:
        return "" if self.params["n"] is None else str(self.params["n"])


def ctc_greedy_decode(probabilities: Any, labels: Any = None) -> list:
    """The best-path decoding of one CTC input (a length x (c+1) array, blank last).

    Takes the most likely class at each step, merges repeats and drops blanks; gives the
    1-based class indices, or the ``labels`` they index. (Beam search is the "CTCBeamSearch"
    NetDecoder's work.)

    >>> ctc_greedy_decode([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.7, 0.3]], ["a"])
    ['a', 'a']
    """
    import numpy as np
    p = np.asarray(probabilities, dtype=float)
    if p.ndim != 2 or p.shape[1] < 2:
        raise LayerError("CTCLossLayer", f"expected a sequence of probability vectors of size "
                         f"greater than 1, but received an array of dimensions {list(p.shape)}.")
    if labels is not None and len(labels) != p.shape[1] - 1:
        raise LayerError("CTCLossLayer", f"expected {p.shape[1] - 1} labels (one per class "
                         f"before the blank), but received {len(labels)}.")
    blank, out, prev = p.shape[1] - 1, [], None
    for k in p.argmax(axis=1).tolist():
        if k != prev and k != blank:
            out.append(k + 1 if labels is None else labels[k])
        prev = k
    return out
