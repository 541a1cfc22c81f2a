"""The "Characters", "Tokens" and "UTF8" encoders and decoders: strings <-> sequences of
1-based codes.

A "Characters" table is WL's: ``"abc"`` gives each character the next code, ``("abc", n)``
gives them all code n, ``("abc", Automatic)`` all the next code, a Python ``range`` of
character codes is the string of those characters, and the groups ``LetterCharacter``,
``DigitCharacter``, ``WordCharacter``, ``PunctuationCharacter``, ``WhitespaceCharacter``,
the virtual ``StartOfString``/``EndOfString`` and ``Blank`` (WL's ``_``: any character not
otherwise in the table) may appear in the list. ``Automatic`` (the default table, or an
element of a list) is tab, newline and the printable ASCII characters (97 codes). WL's
``n;;m -> spec`` is ``(range(n, m + 1), spec)``.
"""
from __future__ import annotations

import re
import string
from typing import Any, ClassVar

import numpy as np

from ..shapes import VARYING, PortType, UnifyError, unify
from ..symbols import All, Automatic, Symbol
from .base import CoderError, show
from .values import NetDecoder, NetEncoder

LetterCharacter = Symbol("LetterCharacter")
DigitCharacter = Symbol("DigitCharacter")
WordCharacter = Symbol("WordCharacter")
PunctuationCharacter = Symbol("PunctuationCharacter")
WhitespaceCharacter = Symbol("WhitespaceCharacter")
StartOfString = Symbol("StartOfString")
EndOfString = Symbol("EndOfString")
Blank = Symbol("Blank")  # WL's _
GROUPS = {LetterCharacter: string.ascii_lowercase + string.ascii_uppercase,
          DigitCharacter: string.digits,
          WordCharacter: string.ascii_lowercase + string.ascii_uppercase + string.digits,
          PunctuationCharacter: string.punctuation,
          WhitespaceCharacter: " \t\n",
          Automatic: "\t\n" + "".join(chr(c) for c in range(32, 127))}
VIRTUAL = (StartOfString, EndOfString, Blank)
DEFAULT_TABLE = (Automatic,)
UNKNOWN_TEXT = "\ufffd"  # how a decoder shows a code with no character of its own


def _table_element(cls: Any, x: Any) -> Any:
    if isinstance(x, range):
        return "".join(chr(c) for c in x)
    if isinstance(x, str) or (isinstance(x, Symbol) and (x in GROUPS or x in VIRTUAL)):
        return x
    if isinstance(x, (tuple, list)) and len(x) == 2:
        chars = _table_element(cls, x[0])
        ok = x[1] is Automatic or (isinstance(x[1], int) and not isinstance(x[1], bool)
                                   and x[1] >= 1)
        if ok and (isinstance(chars, str) or (isinstance(chars, Symbol) and chars in GROUPS)):
            return (chars, x[1])
    raise cls.bad("each element of the character table", 'a string, (chars, n), (chars, '
                  "Automatic), a range of character codes, a character group, "
                  "StartOfString, EndOfString or Blank", x)


def normalize_table(cls: Any, table: Any) -> Any:
    if table is Automatic:
        return Automatic
    if isinstance(table, (str, range)):
        return _table_element(cls, table)  # one string: each character the next code
    if isinstance(table, Symbol):
        table = [table]
    if not isinstance(table, (list, tuple)) or not table:
        raise cls.bad("the character table", "Automatic, a string or a non-empty list", table)
    return tuple(_table_element(cls, x) for x in table)


class CharTable:
    """The codes of a character table: char -> code, the virtual codes, the alphabet."""

    def __init__(self, table: Any, ignore_case: bool) -> None:
        self.codes: dict[str, int] = {}
        self.special: dict[Symbol, int] = {}
        self.alphabet: dict[int, str] = {}
        nxt = 1
        for x in DEFAULT_TABLE if table is Automatic else table:
            chars, code = (x, None) if not isinstance(x, tuple) else x
            if chars in VIRTUAL:
                self.special.setdefault(chars, nxt)
                nxt += 1
                continue
            chars = str(GROUPS.get(chars, chars))
            if code is None:
                for c in chars:
                    if c not in self.codes:
                        self._add(c, nxt)
                        nxt += 1
                continue
            code = nxt if code is Automatic else code
            for c in chars:
                self.codes.setdefault(c, code)
            self.alphabet.setdefault(code, chars[:1])
            nxt = max(nxt, code + 1)
        self.count = max([nxt - 1, *self.codes.values()])
        if ignore_case:
            for c, k in list(self.codes.items()):
                for v in (c.lower(), c.upper()):
                    if len(v) == 1:
                        self.codes.setdefault(v, k)
        size = max([128, *(ord(c) + 1 for c in self.codes)])
        self.lut = np.zeros(size, np.int64)  # code point -> code; 0: not in the table
        for c, k in self.codes.items():
            self.lut[ord(c)] = k

    def _add(self, c: str, code: int) -> None:
        self.codes[c] = code
        self.alphabet.setdefault(code, c)

    def encode(self, s: str) -> np.ndarray | str:
        """The codes of ``s``, or the characters not in the table (as a string)."""
        cps = np.frombuffer(s.encode("utf-32-le"), np.uint32).astype(np.int64)
        inside = cps < len(self.lut)
        codes = np.zeros(len(cps), np.int64)
        codes[inside] = self.lut[cps[inside]]
        missing = codes == 0
        if missing.any():
            if Blank not in self.special:
                return "".join(dict.fromkeys(np.asarray(list(s))[missing]))
            codes[missing] = self.special[Blank]
        parts = [codes]
        if StartOfString in self.special:
            parts.insert(0, np.asarray([self.special[StartOfString]]))
        if EndOfString in self.special:
            parts.append(np.asarray([self.special[EndOfString]]))
        return np.concatenate(parts) if len(parts) > 1 else codes

    def pad_code(self) -> int:
        return self.special.get(EndOfString, self.count)

    def chars(self) -> list[str]:
        """The character each code decodes to ("" for the virtual ones), codes 1..count."""
        return [self.alphabet.get(k, "") for k in range(1, self.count + 1)]


def _target_length(cls: Any, n: Any) -> Any:
    if n is All or (isinstance(n, str) and n == "All"):
        return All
    if isinstance(n, int) and not isinstance(n, bool) and n >= 1:
        return n
    raise cls.bad('"TargetLength"', "All or a positive integer", n)


def _bool(cls: Any, p: dict[str, Any], k: str) -> None:
    if not isinstance(p[k], bool):
        raise cls.bad(f'"{k}"', "True or False", p[k])


def _output_form(cls: Any, p: dict[str, Any]) -> None:
    if p["OutputForm"] not in ("Index", "UnitVector"):
        raise cls.bad("the output form", '"Index" or "UnitVector"', p["OutputForm"])


def fit_length(codes: np.ndarray, n: Any, pad: int) -> np.ndarray:
    if not isinstance(n, int):
        return codes
    if len(codes) >= n:
        return codes[:n]
    return np.concatenate([codes, np.full(n - len(codes), pad, np.int64)])


class SequenceEncoder(NetEncoder):
    """What "Characters" and "Tokens" share: one string -> a sequence of codes."""

    def count(self) -> int:
        raise NotImplementedError

    def one_hot(self) -> bool:
        return self.params.get("OutputForm") == "UnitVector"

    def target_length(self) -> Any:
        """All, or the fixed length n (a type without "TargetLength" is always All)."""
        return self.params.get("TargetLength", All)

    @property
    def port_type(self) -> PortType:
        n = self.target_length()
        length = n if isinstance(n, int) else VARYING
        if self.one_hot():
            return PortType((length, self.count()), "Real")
        return PortType((length,), "Integer", (1, self.count()))

    def is_batch(self, x: Any) -> bool:
        if isinstance(x, str):
            return False
        if isinstance(x, np.ndarray):
            return x.ndim == len(self.port_type.dims or ()) + 1
        return isinstance(x, (list, tuple)) and self._encoded(x) is None and all(
            isinstance(v, (str, list, tuple, np.ndarray)) for v in x)

    def _encoded(self, x: Any) -> np.ndarray | None:
        """``x`` as codes when it is already an encoded sequence (WL's bypass)."""
        if isinstance(x, str) or not isinstance(x, (list, tuple, np.ndarray)):
            return None
        try:
            a = np.asarray(x)
        except ValueError:
            return None
        if self.one_hot():
            if a.ndim == 2 and a.shape[1] == self.count() and a.dtype.kind in "iuf":
                return a.astype(np.float32)
            return None
        if a.ndim == 1 and a.dtype.kind in "iu" and (not a.size or (
                a.min() >= 1 and a.max() <= self.count())):
            return a.astype(np.int64)
        return None

    def _encode(self, items: list[Any]) -> Any:
        out = []
        for i, x in enumerate(items):
            done = self._encoded(x)
            if done is None:
                done = self._codes(x, i)
                if isinstance(self.target_length(), int):
                    done = fit_length(done, self.target_length(), self._pad())
                if self.one_hot():
                    done = np.eye(self.count(), dtype=np.float32)[done - 1]
            out.append(done)
        if isinstance(self.target_length(), int):
            return np.stack(out) if out else np.zeros((0, *self.port_type.fixed_shape()))
        return out

    def _codes(self, x: Any, index: int) -> np.ndarray:
        raise NotImplementedError

    def _pad(self) -> int:
        """The code that pads to "TargetLength" (types that have one)."""
        raise NotImplementedError


class CharactersEncoder(SequenceEncoder, kind="Characters"):
    """``"Characters"``, ``["Characters", table]``, ``["Characters", table, "UnitVector"]``:
    a string -> the codes of its characters. Options "IgnoreCase" (False) and
    "TargetLength" (All, or n: crop or pad with the EndOfString code, else the last code)."""

    PARAMS: ClassVar[dict[str, Any]] = {"Encoding": Automatic, "OutputForm": "Index",
                                        "IgnoreCase": False, "TargetLength": All}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Encoding", "OutputForm")

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["Encoding"] = normalize_table(cls, p["Encoding"])
        _output_form(cls, p)
        _bool(cls, p, "IgnoreCase")
        p["TargetLength"] = _target_length(cls, p["TargetLength"])
        return p

    def _setup(self) -> None:
        self._set("_table", CharTable(self.params["Encoding"], self.params["IgnoreCase"]))

    def count(self) -> int:
        return self._table.count  # type: ignore[attr-defined]

    def _pad(self) -> int:
        return self._table.pad_code()  # type: ignore[attr-defined]

    def _codes(self, x: Any, index: int) -> np.ndarray:
        if not isinstance(x, str):
            raise CoderError(self.side, f"{self!r} expects a string, but received {show(x)}.",
                             index=index)
        codes = self._table.encode(x)  # type: ignore[attr-defined]
        if isinstance(codes, str):
            raise CoderError(self.side, f"the string {show(x)} contains characters that are "
                             f"not in the table: {show(codes)}; add them, or Blank (WL's _) "
                             "for any other character.", index=index)
        return codes

    def _extra_information(self) -> dict[str, Any]:
        return {"Alphabet": "".join(self._table.chars())}  # type: ignore[attr-defined]

    def counterpart_params(self) -> dict[str, Any]:
        return {"Encoding": self.params["Encoding"], "IgnoreCase": self.params["IgnoreCase"]}


def split_tokens(s: str, pattern: Any) -> list[str]:
    """WL's StringSplit of ``s`` at ``pattern`` (a regex); Automatic splits at word
    boundaries (WL's WordBoundary) and drops the pieces that are only whitespace."""
    if pattern is Automatic:
        return [p.strip() for p in re.split(r"\b", s) if p.strip()]
    return [p for p in re.split(pattern, s) if p]


class TokensEncoder(SequenceEncoder, kind="Tokens"):
    """``["Tokens", [tok1, tok2, ...]]``: a string -> the 1-based codes of its tokens; a
    token not in the list gets d + 1 (d tokens). Options "IgnoreCase" (True),
    "SplitPattern" (Automatic: word boundaries; a regex; None: the input is a list of
    tokens) and "TargetLength" (All, or n: crop or pad with d + 1)."""

    PARAMS: ClassVar[dict[str, Any]] = {"Tokens": "English", "IgnoreCase": True,
                                        "SplitPattern": Automatic, "TargetLength": All}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Tokens",)

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["Tokens"] = normalize_tokens(cls, p["Tokens"])
        _bool(cls, p, "IgnoreCase")
        sp = p["SplitPattern"]
        if sp is not None and sp is not Automatic:
            try:
                re.compile(sp)
            except (TypeError, re.error) as e:
                raise cls.bad('"SplitPattern"', "Automatic, None or a regular expression",
                              f"{show(sp)} ({e})") from None
        p["TargetLength"] = _target_length(cls, p["TargetLength"])
        return p

    def _setup(self) -> None:
        fold = self.params["IgnoreCase"]
        index: dict[str, int] = {}
        for i, t in enumerate(self.params["Tokens"]):
            index.setdefault(t.lower() if fold else t, i + 1)
        self._set("_index", index)

    def count(self) -> int:
        return len(self.params["Tokens"]) + 1

    def _pad(self) -> int:
        return self.count()

    def is_batch(self, x: Any) -> bool:
        if self.params["SplitPattern"] is None and isinstance(x, (list, tuple)):
            return bool(x) and all(isinstance(v, (list, tuple)) for v in x)
        return super().is_batch(x)

    def _codes(self, x: Any, index: int) -> np.ndarray:
        if self.params["SplitPattern"] is None:
            if not isinstance(x, (list, tuple)) or not all(isinstance(t, str) for t in x):
                raise CoderError(self.side, f'{self!r} ("SplitPattern" -> None) expects a '
                                 f"list of token strings, but received {show(x)}.", index=index)
            toks = list(x)
        elif isinstance(x, str):
            toks = split_tokens(x, self.params["SplitPattern"])
        else:
            raise CoderError(self.side, f"{self!r} expects a string, but received {show(x)}.",
                             index=index)
        get, unknown = self._index.get, self.count()  # type: ignore[attr-defined]
        if self.params["IgnoreCase"]:
            toks = [t.lower() for t in toks]
        return np.fromiter((get(t, unknown) for t in toks), np.int64, len(toks))

    def counterpart_params(self) -> dict[str, Any]:
        return {"Tokens": self.params["Tokens"], "IgnoreCase": self.params["IgnoreCase"]}


def normalize_tokens(cls: Any, tokens: Any) -> tuple[str, ...]:
    if isinstance(tokens, str):
        raise cls.bad("the token list", f"a list of strings (the standard {tokens} "
                      "vocabulary of WL is not bundled with netgraph)", tokens)
    if not isinstance(tokens, (list, tuple)) or not tokens or not all(
            isinstance(t, str) and t for t in tokens):
        raise cls.bad("the token list", "a non-empty list of non-empty strings", tokens)
    return tuple(tokens)


class SequenceDecoder(NetDecoder):
    """What the "Characters", "Tokens" and "UTF8" decoders share: argmax at each position."""

    loss_hint: ClassVar[str | None] = "CrossEntropy"

    def texts(self) -> list[str]:
        """The text of each code 1..size."""
        raise NotImplementedError

    def join(self, parts: list[str]) -> str:
        raise NotImplementedError

    def size(self) -> int:
        """The length of one probability vector (the number of codes)."""
        return len(self.texts())

    def text_of(self, codes: np.ndarray) -> str:
        """The text of a sequence of 1-based codes (the most likely code at each position)."""
        return self.join(list(np.asarray(self.texts(), dtype=object)[codes - 1]))

    @property
    def port_type(self) -> PortType:
        return PortType((VARYING, self.size()), "Real")

    @property
    def depth(self) -> int | None:
        return None  # a vector (one element) or a sequence of vectors

    def check_port(self, port_type: PortType, where: str) -> PortType:
        """A sequence of vectors, or (as WL) a single vector decoded as one element."""
        if port_type.rank == 1:
            try:
                return unify(PortType((self.size(),), "Real"), port_type)
            except UnifyError:
                pass
        return super().check_port(port_type, where)

    def as_batch(self, x: Any) -> tuple[Any, bool]:
        if isinstance(x, (list, tuple)) and x and all(
                isinstance(a, np.ndarray) and a.ndim == 2 for a in x):
            return list(x), True
        arr = self.numeric(x)
        if arr.ndim in (1, 2):
            return arr[None], False
        if arr.ndim == 3:
            return arr, True
        raise CoderError(self.side, f"input to {self!r} is not a vector, a sequence of vectors "
                         f"or a batch of sequences; received an array of dimensions "
                         f"{list(arr.shape)}.")

    def _decode(self, batch: Any, name: str, arg: Any) -> list[Any]:
        seqs = batch if isinstance(batch, list) else list(self.numeric(batch))
        out = []
        for s in seqs:
            s = np.asarray(s, np.float64)
            if s.shape[-1] != self.size():
                raise CoderError(self.side, f"{self!r} expects vectors of size {self.size()}, "
                                 f"but received vectors of size {s.shape[-1]}.")
            out.append(self.text_of(np.atleast_1d(s.argmax(-1)) + 1))
        return out


class CharactersDecoder(SequenceDecoder, kind="Characters"):
    """``"Characters"``, ``["Characters", table]``: probability vectors -> the most likely
    character at each position, joined into a string (a single vector: one character)."""

    PARAMS: ClassVar[dict[str, Any]] = {"Encoding": Automatic, "IgnoreCase": False}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Encoding",)

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["Encoding"] = normalize_table(cls, p["Encoding"])
        _bool(cls, p, "IgnoreCase")
        return p

    def _setup(self) -> None:
        self._set("_table", CharTable(self.params["Encoding"], self.params["IgnoreCase"]))

    def texts(self) -> list[str]:
        return self._table.chars()  # type: ignore[attr-defined]

    def join(self, parts: list[str]) -> str:
        return "".join(parts)

    def counterpart_params(self) -> dict[str, Any]:
        return dict(self.params)


class TokensDecoder(SequenceDecoder, kind="Tokens"):
    """``["Tokens", [tok1, ...]]``: probability vectors of size d + 1 -> the most likely
    token at each position, joined with single spaces (d + 1, the unknown token, shows as
    "\ufffd"); "IgnoreCase" -> True (the default) lower-cases the tokens."""

    PARAMS: ClassVar[dict[str, Any]] = {"Tokens": "English", "IgnoreCase": True}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("Tokens",)

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["Tokens"] = normalize_tokens(cls, p["Tokens"])
        _bool(cls, p, "IgnoreCase")
        return p

    def texts(self) -> list[str]:
        toks = [t.lower() if self.params["IgnoreCase"] else t for t in self.params["Tokens"]]
        return [*toks, UNKNOWN_TEXT]

    def join(self, parts: list[str]) -> str:
        return " ".join(parts)

    def counterpart_params(self) -> dict[str, Any]:
        return dict(self.params)


# -- "UTF8": the bytes of a string ------------------------------------------------------------
UTF8_CODES = 248  # bytes 0..247 (0xF8..0xFF never occur in UTF-8) -> codes 1..248


class UTF8Encoder(SequenceEncoder, kind="UTF8"):
    """``"UTF8"``, ``["UTF8", "UnitVector"]``: a string -> its UTF-8 bytes plus one (WL's
    ``ToCharacterCode[s, "UTF8"] + 1``), codes 1..248; a character outside ASCII gives
    several codes. "UnitVector": 248-dimensional one-hot vectors instead."""

    PARAMS: ClassVar[dict[str, Any]] = {"OutputForm": "Index"}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("OutputForm",)

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        _output_form(cls, p)
        return p

    def count(self) -> int:
        return UTF8_CODES

    def _codes(self, x: Any, index: int) -> np.ndarray:
        if not isinstance(x, str):
            raise CoderError(self.side, f"{self!r} expects a string, but received {show(x)}.",
                             index=index)
        try:
            raw = x.encode("utf-8")
        except UnicodeEncodeError as e:  # a lone surrogate ("\ud800") has no UTF-8 bytes
            bad = x[e.start:e.end]
            raise CoderError(self.side, f"the string {show(x)} contains characters that have "
                             "no UTF-8 encoding (lone surrogates): "
                             f"{', '.join(f'U+{ord(c):04X}' for c in bad)}.",
                             index=index) from None
        return np.frombuffer(raw, np.uint8).astype(np.int64) + 1

    def counterpart_params(self) -> dict[str, Any]:
        return {}


class UTF8Decoder(SequenceDecoder, kind="UTF8"):
    """``"UTF8"`` (WL's ``NetDecoder[NetEncoder["UTF8"]]``): 248-dimensional probability
    vectors -> the most likely byte at each position (code - 1), read as UTF-8 text; a byte
    sequence that is not valid UTF-8 decodes to "\ufffd" (one per maximal bad subpart)."""

    def size(self) -> int:
        return UTF8_CODES

    def text_of(self, codes: np.ndarray) -> str:
        return (codes - 1).astype(np.uint8).tobytes().decode("utf-8", errors="replace")

    def counterpart_params(self) -> dict[str, Any]:
        return {}
