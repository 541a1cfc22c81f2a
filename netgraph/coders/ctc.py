"""The "CTCBeamSearch" decoder: CTC prefix beam search over a sequence of class probabilities."""
from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..shapes import VARYING, PortType
from .base import REQUIRED, show
from .values import NetDecoder

Prefix = tuple[int, ...]


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def beam_search(p: np.ndarray, beam: int) -> list[tuple[Prefix, float]]:
    """CTC prefix beam search over one length x (n+1) array of probabilities (blank last).

    Each prefix keeps the log-probabilities of the alignments so far that end in a blank and
    that end in its last label; the ``beam`` most likely prefixes survive each step. Gives
    (prefix of 0-based labels, negative log-likelihood), the most likely first.
    """
    blank = p.shape[1] - 1
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    beams: dict[Prefix, tuple[float, float]] = {(): (0.0, -math.inf)}  # (blank, label) ends
    for t in range(p.shape[0]):
        nxt: dict[Prefix, list[float]] = {}

        def add(prefix: Prefix, b: float, nb: float, into: dict = nxt) -> None:
            cur = into.setdefault(prefix, [-math.inf, -math.inf])
            cur[0], cur[1] = _logsumexp(cur[0], b), _logsumexp(cur[1], nb)
        for prefix, (pb, pnb) in beams.items():
            total = _logsumexp(pb, pnb)
            add(prefix, total + logp[t, blank], -math.inf)            # a blank: same prefix
            for k in range(blank):
                lp = logp[t, k]
                if lp == -math.inf:
                    continue
                if prefix and prefix[-1] == k:
                    add(prefix, -math.inf, pnb + lp)                  # a repeat merges
                    add(prefix + (k,), -math.inf, pb + lp)            # unless a blank split it
                else:
                    add(prefix + (k,), -math.inf, total + lp)
        ranked = sorted(nxt.items(), key=lambda kv: -_logsumexp(*kv[1]))[:beam]
        beams = {k: (v[0], v[1]) for k, v in ranked}
    out = [(k, -_logsumexp(*v)) for k, v in beams.items()]
    return sorted(out, key=lambda kv: kv[1])


class CTCBeamSearchDecoder(NetDecoder, kind="CTCBeamSearch"):
    """``["CTCBeamSearch", alphabet]``: a sequence of probability vectors of size n+1 (n letters
    of the alphabet, then the blank) -> the most likely label sequence, by CTC prefix beam
    search with "BeamSize" (100) prefixes kept; a beam of 1 is greedy. A string alphabet
    decodes to strings, a list to lists. Properties "Decoding" (the default), "Decodings",
    ("TopDecodings", k), "NegativeLogLikelihoods" (a dict decoding -> its negative
    log-likelihood), ("TopNegativeLogLikelihoods", k).

    >>> dec = NetDecoder(["CTCBeamSearch", "ab"])
    >>> probs = [[0.6, 0.1, 0.3], [0.1, 0.1, 0.8], [0.5, 0.2, 0.3]]
    >>> dec(probs), NetDecoder(["CTCBeamSearch", "ab"], BeamSize=1)(probs)
    ('a', 'aa')
    """

    PARAMS: ClassVar[dict[str, Any]] = {"Alphabet": REQUIRED, "BeamSize": 100}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Alphabet",)
    PROPERTIES: ClassVar[tuple[str, ...]] = ("Decoding", "Decodings", "TopDecodings",
                                             "NegativeLogLikelihoods",
                                             "TopNegativeLogLikelihoods")

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        a = p["Alphabet"]
        if isinstance(a, str):
            if not a:
                raise cls.bad("the alphabet", "a non-empty string or list", a)
        elif isinstance(a, (list, tuple)) and a:
            p["Alphabet"] = tuple(a)
        else:
            raise cls.bad("the alphabet", "a non-empty string or list", a)
        b = p["BeamSize"]
        if isinstance(b, bool) or not isinstance(b, int) or b < 1:
            raise cls.bad('"BeamSize"', "a positive integer", b)
        return p

    @property
    def port_type(self) -> PortType:
        return PortType((VARYING, len(self.params["Alphabet"]) + 1), "Real")

    def _check_property(self, name: str, arg: Any) -> Any:
        if name.startswith("Top"):
            if isinstance(arg, bool) or not isinstance(arg, int) or arg < 1:
                from ..errors import OptionError
                raise OptionError(self.side, f'"CTCBeamSearch" decoder property "{name}" '
                                  f"expects a positive integer k, as (\"{name}\", k), but "
                                  f"received {show(arg)}.")
            return arg
        return super()._check_property(name, arg)

    def _word(self, prefix: Prefix) -> Any:
        a = self.params["Alphabet"]
        letters = [a[k] for k in prefix]
        return "".join(letters) if isinstance(a, str) else letters

    def _decode(self, batch: Any, name: str, arg: Any) -> list[Any]:
        return [self._one(self.numeric(x), name, arg) for x in batch]

    def _one(self, p: np.ndarray, name: str, arg: Any) -> Any:
        n = len(self.params["Alphabet"]) + 1
        if p.ndim != 2 or p.shape[1] != n:
            raise self.fail(f"input to {self!r} should be a sequence of vectors of size {n}, "
                            f"but received an array of dimensions {list(p.shape)}.")
        width = max(self.params["BeamSize"], arg or 1)
        found = beam_search(p, width)
        if name == "Decoding":
            return self._word(found[0][0])
        top = found if name in ("Decodings", "NegativeLogLikelihoods") else found[:arg]
        if name.endswith("Decodings"):
            return [self._word(k) for k, _ in top]
        return {_key(self._word(k)): float(nll) for k, nll in top}


def _key(word: Any) -> Any:
    return tuple(word) if isinstance(word, list) else word

