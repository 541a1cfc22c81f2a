"""WL source text -> tokens (see /work/shared/reference/wolfram-syntax.md, section 1.1).

Comments nest, ``1e-3`` is not a number (it reads as ``1 e - 3``), ``1.*^-3`` is,
named characters (``\\[Rule]``) become the operator or letter they stand for, and every
token remembers its line and column and whether a newline came before it (a newline
ends a complete top-level expression).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import WLSyntaxError

# Named characters the reader knows: operators and letters; anything else is refused by name.
NAMED_OPERATORS = {
    "Rule": "->", "RuleDelayed": ":>", "Function": "\uf4a1", "LeftAssociation": "<|",
    "RightAssociation": "|>", "Times": "*", "Equal": "==", "NotEqual": "!=",
    "LessEqual": "<=", "GreaterEqual": ">=", "RightArrow": "\u2192", "And": "&&", "Or": "||",
    "Not": "!", "Divide": "/", "Minus": "-", "TwoWayRule": "<->", "Span": ";;",
}
NAMED_LETTERS = {
    "Alpha": "α", "Beta": "β", "Gamma": "γ", "Delta": "δ", "Epsilon": "ε", "Zeta": "ζ",
    "Eta": "η", "Theta": "θ", "Iota": "ι", "Kappa": "κ", "Lambda": "λ", "Mu": "μ", "Nu": "ν",
    "Xi": "ξ", "Omicron": "ο", "Pi": "π", "Rho": "ρ", "Sigma": "σ", "Tau": "τ",
    "Upsilon": "υ", "Phi": "φ", "Chi": "χ", "Psi": "ψ", "Omega": "ω", "CapitalGamma": "Γ",
    "CapitalDelta": "Δ", "CapitalTheta": "Θ", "CapitalLambda": "Λ", "CapitalPi": "Π",
    "CapitalSigma": "Σ", "CapitalPhi": "Φ", "CapitalPsi": "Ψ", "CapitalOmega": "Ω",
}
NAMED_TEXT = {"Infinity": "∞", "Degree": "°", "InvisibleSpace": "", "NonBreakingSpace": " ",
              "LongDash": "—", "Bullet": "•", "Ellipsis": "…", "Mu": "μ"}
# Characters standing for operators or symbols when they appear in code.
CHAR_OPERATORS = {
    "\uf522": "->", "\uf51f": ":>", "\uf113": "<|", "\uf114": "|>", "×": "*", "\uf431": "==",
    "≠": "!=", "≤": "<=", "≥": ">=", "→": "\u2192", "\uf4a1": "\uf4a1",
}
CHAR_SYMBOLS = {"∞": "Infinity", "π": "Pi", "°": "Degree"}

# Longest first: the lexer tries each in order at the current position.
OPERATORS = sorted("""
    ->  :>  :=  ::  =.  ===  =!=  ==  =  !=  !  <=  >=  <>  <->  <|  |>  <  >  ||  |->  |
    &&  &  //@  //.  //  /@  /.  /;  /*  /=  /  @@@  @@  @*  @  **  *=  *  ++  +=  +
    --  -=  -  ^^  ^:=  ^=  ^  ;;  ;  ,  (  )  {  }  [[  [  ]]  ]  ~~  ~  ...  ..  .
    ?  '  \uf4a1  \u2192
""".split(), key=len, reverse=True)

_NUMBER = re.compile(
    r"(?P<base>\d+\^\^[0-9a-zA-Z]+(?:\.[0-9a-zA-Z]*)?)"
    r"|(?P<mant>(?:\d+\.(?!\.)\d*|\.\d+|\d+))"
    r"(?P<prec>``?[0-9.]*)?(?P<exp>\*\^[-+]?\d+)?")
_SYMBOL = re.compile(r"`?(?:[^\W\d_]|\$)(?:[^\W_]|\$)*(?:`(?:[^\W\d_]|\$)(?:[^\W_]|\$)*)*")
_BLANK = re.compile(r"_{1,3}\.?")
_SLOT = re.compile(r"##?(\d+|[^\W\d_][^\W_]*)?")
_OUT = re.compile(r"%(\d+|%*)")


@dataclass(frozen=True)
class Token:
    kind: str          # "num" "str" "sym" "slot" "slotseq" "out" "blank" "op" "eof"
    value: object
    line: int
    col: int
    nl: bool = False   # a newline stands between this token and the one before
    text: str = ""


class Lexer:
    """Tokenizes the whole text at once (``tokens``)."""

    def __init__(self, text: str) -> None:
        self.text = text.replace("\r\n", "\n")
        self.pos = 0
        self.line, self.col = 1, 1
        self.nl = False
        self.tokens: list[Token] = []
        self._run()

    # -- position bookkeeping -----------------------------------------------------------------
    def _advance(self, n: int) -> None:
        chunk = self.text[self.pos:self.pos + n]
        lines = chunk.count("\n")
        if lines:
            self.line += lines
            self.col = n - chunk.rfind("\n")
        else:
            self.col += n
        self.pos += n

    def error(self, message: str, line: int | None = None, col: int | None = None) -> WLSyntaxError:
        return WLSyntaxError(message, line or self.line, col or self.col)

    def _emit(self, kind: str, value: object, line: int, col: int, text: str) -> None:
        self.tokens.append(Token(kind, value, line, col, self.nl, text))
        self.nl = False

    # -- main loop ----------------------------------------------------------------------------
    def _run(self) -> None:
        text = self.text
        while self.pos < len(text):
            c = text[self.pos]
            if c == "\n":
                self.nl = True
                self._advance(1)
            elif c in " \t\f\v":
                self._advance(1)
            elif text.startswith("\\\n", self.pos):
                self._advance(2)  # an explicit line continuation
            elif text.startswith("(*", self.pos):
                self._comment()
            elif c == '"':
                self._string()
            elif c.isdigit() or (c == "." and text[self.pos + 1:self.pos + 2].isdigit()):
                self._number()
            elif c == "#":
                self._slot()
            elif c == "%":
                m = _OUT.match(text, self.pos)
                assert m is not None
                self._emit("out", m.group(0), self.line, self.col, m.group(0))
                self._advance(len(m.group(0)))
            elif c == "_":
                self._blank(None)
            elif text.startswith("\\[", self.pos):
                self._named()
            elif c in CHAR_SYMBOLS:
                self._emit("sym", CHAR_SYMBOLS[c], self.line, self.col, c)
                self._advance(1)
            elif c in CHAR_OPERATORS:
                self._emit("op", CHAR_OPERATORS[c], self.line, self.col, c)
                self._advance(1)
            elif _SYMBOL.match(text, self.pos):
                self._symbol()
            else:
                self._operator()
        self._emit("eof", None, self.line, self.col, "")

    def _comment(self) -> None:
        line, col, depth = self.line, self.col, 0
        i = self.pos
        while i < len(self.text):
            if self.text.startswith("(*", i):
                depth, i = depth + 1, i + 2
            elif self.text.startswith("*)", i):
                depth, i = depth - 1, i + 2
                if depth == 0:
                    self._advance(i - self.pos)
                    return
            else:
                i += 1
        raise self.error("the comment (* ... is never closed by *)", line, col)

    def _number(self) -> None:
        m = _NUMBER.match(self.text, self.pos)
        assert m is not None
        s = m.group(0)
        value: int | float
        if m.group("base"):
            base_s, digits = s.split("^^")
            base = int(base_s)
            if not 2 <= base <= 36:
                raise self.error(f"the base of {s} must be between 2 and 36")
            try:
                if "." in digits:
                    whole, frac = digits.split(".")
                    value = float(int(whole or "0", base)) + sum(
                        int(d, base) * base ** -(k + 1) for k, d in enumerate(frac))
                else:
                    value = int(digits, base)
            except ValueError:
                raise self.error(f"{s} has a digit that is not valid in base {base}") from None
        else:
            mant = m.group("mant")
            exp = int(m.group("exp")[2:]) if m.group("exp") else None
            if "." in mant or m.group("prec"):
                value = float(mant) * (10.0 ** exp if exp is not None else 1.0)
                if exp is not None:
                    value = float(f"{mant}e{exp}")
            else:
                value = int(mant) * 10 ** exp if exp is not None and exp >= 0 else int(mant)
                if exp is not None and exp < 0:
                    from fractions import Fraction
                    value = Fraction(int(mant), 10 ** -exp)  # type: ignore[assignment]
        self._emit("num", value, self.line, self.col, s)
        self._advance(len(s))

    def _slot(self) -> None:
        m = _SLOT.match(self.text, self.pos)
        assert m is not None
        s, arg = m.group(0), m.group(1)
        value: int | str = 1 if arg is None else (int(arg) if arg.isdigit() else arg)
        self._emit("slotseq" if s.startswith("##") else "slot", value, self.line, self.col, s)
        self._advance(len(s))

    def _symbol(self) -> None:
        m = _SYMBOL.match(self.text, self.pos)
        assert m is not None
        name = m.group(0)
        line, col = self.line, self.col
        self._advance(len(name))
        # \[Alpha] and friends continue a symbol name
        while self.text.startswith("\\[", self.pos):
            n = self._named_name()
            if n not in NAMED_LETTERS:
                break
            name += NAMED_LETTERS[n]
            self._advance(len(n) + 3)
        name = name.rsplit("`", 1)[-1]  # contexts (System`, Global`) are dropped
        if self.text.startswith("_", self.pos):
            self._blank(name, line, col)
            return
        self._emit("sym", name, line, col, name)

    def _blank(self, name: str | None, line: int | None = None, col: int | None = None) -> None:
        line, col = line or self.line, col or self.col
        m = _BLANK.match(self.text, self.pos)
        assert m is not None
        blank = m.group(0)
        self._advance(len(blank))
        head = None
        h = _SYMBOL.match(self.text, self.pos)
        if h and not blank.endswith("."):
            head = h.group(0)
            self._advance(len(head))
        self._emit("blank", (name, blank, head), line, col, blank)

    def _named_name(self) -> str:
        end = self.text.find("]", self.pos)
        if end < 0:
            raise self.error("a named character \\[ ... is not closed by ]")
        return self.text[self.pos + 2:end]

    def _named(self) -> None:
        name = self._named_name()
        line, col = self.line, self.col
        if name in NAMED_OPERATORS:
            self._emit("op", NAMED_OPERATORS[name], line, col, f"\\[{name}]")
            self._advance(len(name) + 3)
        elif name in NAMED_LETTERS:
            # a symbol that starts with a Greek letter
            rest = NAMED_LETTERS[name]
            self._advance(len(name) + 3)
            m = _SYMBOL.match(self.text, self.pos)
            tail = m.group(0) if m else ""
            self._advance(len(tail))
            self._emit("sym", rest + tail, line, col, rest + tail)
        elif name == "Infinity":
            self._emit("sym", "Infinity", line, col, "\\[Infinity]")
            self._advance(len(name) + 3)
        else:
            raise self.error(f"the named character \\[{name}] is not one the reader knows")

    def _operator(self) -> None:
        for op in OPERATORS:
            if self.text.startswith(op, self.pos):
                if op == "=." and self.text[self.pos + 2:self.pos + 3].isdigit():
                    continue  # x=.5 is Set[x, 0.5]
                self._emit("op", op, self.line, self.col, op)
                self._advance(len(op))
                return
        raise self.error(f"unexpected character {self.text[self.pos]!r}")

    # -- strings ------------------------------------------------------------------------------
    def _string(self) -> None:
        line, col = self.line, self.col
        text, i = self.text, self.pos + 1
        out: list[str] = []
        while True:
            if i >= len(text):
                raise self.error("the string is never closed by \"", line, col)
            c = text[i]
            if c == '"':
                break
            if c != "\\":
                out.append(c)
                i += 1
                continue
            s, i = self._escape(i, line, col)
            out.append(s)
        self._emit("str", "".join(out), line, col, text[self.pos:i + 1])
        self._advance(i + 1 - self.pos)

    def _escape(self, i: int, line: int, col: int) -> tuple[str, int]:
        """The character(s) a backslash escape at ``i`` stands for, and where the text goes on."""
        text = self.text
        e = text[i + 1:i + 2]
        simple = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f",
                  "\n": "", "<": "<", ">": ">", "!": "", "`": "`", "*": "*", "(": "(", ")": ")",
                  "@": "@", "%": "%", "&": "&", "^": "^", "_": "_", "/": "/", " ": " "}
        if e in simple:
            return simple[e], i + 2
        for lead, width in ((":", 4), (".", 2), ("|", 6)):
            if e == lead:
                digits = text[i + 2:i + 2 + width]
                try:
                    return chr(int(digits, 16)), i + 2 + width
                except ValueError:
                    raise self.error(f"\\{lead} must be followed by {width} hex digits",
                                     line, col) from None
        if e.isdigit():
            digits = text[i + 1:i + 4]
            try:
                return chr(int(digits, 8)), i + 4
            except ValueError:
                raise self.error("\\nnn needs three octal digits", line, col) from None
        if e == "[":
            end = text.find("]", i)
            name = text[i + 2:end] if end > 0 else ""
            table = {**NAMED_LETTERS, **NAMED_TEXT, **{
                k: {"->": "\uf522", ":>": "\uf51f"}.get(v, v) for k, v in NAMED_OPERATORS.items()}}
            if name in table:
                return table[name], end + 1
            raise self.error(f"the named character \\[{name}] is not one the reader knows",
                             line, col)
        raise self.error(f"unknown escape \\{e} in a string", line, col)


def tokenize(text: str) -> list[Token]:
    return Lexer(text).tokens
