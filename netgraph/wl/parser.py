"""Tokens -> a FullForm tree with positions, by precedence climbing (a Pratt parser).

Why not a lark grammar: WL's implicit multiplication (``2 x``, ``f[x] g[y]``), the optional
operands of ``;;`` and ``;``, postfix ``&`` and the newline rule (a newline ends a complete
top-level expression) are all decisions about the *next token*, which a Pratt parser makes
in one line each; written as a grammar they need lexer states and conflict resolution.
The precedences are WL's ``Precedence[]`` values in the real parsing order
(/work/shared/reference/wolfram-syntax.md, section 1.3).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from .errors import WLSyntaxError
from .lexer import Token, tokenize


# -- the tree --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """``head[args...]``; ``head`` is a Node too (usually a Symbol)."""

    head: Expr
    args: tuple[Expr, ...]
    line: int = field(default=0, compare=False)
    col: int = field(default=0, compare=False)
    grouped: bool = field(default=False, compare=False)  # written in parentheses

    @property
    def name(self) -> str | None:
        """The head's name when it is a symbol (``f`` in ``f[x]``), else None."""
        return self.head.name if isinstance(self.head, Symbol) else None

    def fullform(self) -> str:
        return f"{self.head.fullform()}[{', '.join(a.fullform() for a in self.args)}]"


@dataclass(frozen=True)
class Symbol:
    name: str
    line: int = field(default=0, compare=False)
    col: int = field(default=0, compare=False)

    def fullform(self) -> str:
        return self.name


@dataclass(frozen=True)
class Atom:
    """A number or a string literal (``value`` is int, float, Fraction or str)."""

    value: Any
    line: int = field(default=0, compare=False)
    col: int = field(default=0, compare=False)

    def fullform(self) -> str:
        v = self.value
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(v, Fraction):
            return f"Rational[{v.numerator}, {v.denominator}]"
        if isinstance(v, float):
            r = repr(v)
            return r.replace("e", "*^") if "e" in r else r
        return str(v)


Expr = Node | Symbol | Atom


def call(head: str, args: list[Expr] | tuple[Expr, ...], at: Token | Expr) -> Node:
    return Node(Symbol(head, at.line, at.col), tuple(args), at.line, at.col)


# -- precedences (left binding powers of infix and postfix operators) ------------------------
INFIX: dict[str, tuple[int, str, str]] = {
    # op: (precedence, head, kind) kind: left | right | flat | <special>
    "@*": (650, "Composition", "flat"), "/*": (650, "RightComposition", "flat"),
    "@": (640, "", "apply"), "~": (630, "", "tilde"),
    "/@": (620, "Map", "right"), "@@": (620, "Apply", "right"),
    "@@@": (620, "MapApply", "right"), "//@": (620, "MapAll", "right"),
    "<>": (600, "StringJoin", "flat"), "^": (590, "Power", "right"),
    ".": (490, "Dot", "flat"), "/": (470, "", "divide"),
    "*": (400, "Times", "flat"), "**": (400, "NonCommutativeMultiply", "flat"),
    "+": (310, "Plus", "flat"), "-": (310, "Plus", "flat"),
    ";;": (305, "Span", "span"),
    "==": (290, "Equal", "compare"), "!=": (290, "Unequal", "compare"),
    "<": (290, "Less", "compare"), ">": (290, "Greater", "compare"),
    "<=": (290, "LessEqual", "compare"), ">=": (290, "GreaterEqual", "compare"),
    "\u2192": (270, "RightArrow", "left"), "<->": (270, "TwoWayRule", "right"),
    "===": (285, "SameQ", "flat"), "=!=": (285, "UnsameQ", "flat"),
    "&&": (220, "And", "flat"), "||": (215, "Or", "flat"),
    "::": (750, "MessageName", "left"), "|": (160, "Alternatives", "flat"),
    "~~": (165, "StringExpression", "flat"),
    "/;": (130, "Condition", "left"),
    "->": (120, "Rule", "right"), ":>": (120, "RuleDelayed", "right"),
    "/.": (110, "ReplaceAll", "left"), "//.": (110, "ReplaceRepeated", "left"),
    "+=": (100, "AddTo", "right"), "-=": (100, "SubtractFrom", "right"),
    "*=": (100, "TimesBy", "right"), "/=": (100, "DivideBy", "right"),
    "//": (70, "", "postapply"),
    "=": (40, "Set", "right"), ":=": (40, "SetDelayed", "right"),
    "^=": (40, "UpSet", "right"), "^:=": (40, "UpSetDelayed", "right"),
    "|->": (40, "Function", "right"), "\uf4a1": (40, "Function", "right"),
    ";": (10, "CompoundExpression", "compound"),
}
POSTFIX: dict[str, tuple[int, str]] = {
    "[": (670, ""), "[[": (670, "Part"), "++": (660, "Increment"), "--": (660, "Decrement"),
    "!": (610, "Factorial"), "..": (170, "Repeated"), "...": (170, "RepeatedNull"),
    "&": (90, "Function"), "=.": (40, "Unset"), "'": (670, "Derivative"),
}
PREFIX: dict[str, tuple[int, str]] = {
    "-": (480, "Minus"), "+": (480, "Plus"), "!": (230, "Not"),
    "++": (660, "PreIncrement"), "--": (660, "PreDecrement"),
}
TIMES = 400
CLOSERS = {")", "]", "]]", "}", "|>", ",", "eof"}


def _starts_expression(t: Token) -> bool:
    if t.kind in ("num", "str", "sym", "slot", "slotseq", "out", "blank"):
        return True
    return t.kind == "op" and t.value in ("(", "{", "<|", "!", "++", "--", "#")


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0  # open brackets: inside any, a newline is whitespace

    # -- token helpers ------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in ops

    def fix_closer(self, close: str) -> None:
        """``]]`` closes two calls, ``] ]`` one Part: the lexer cannot know which it is."""
        t = self.tok
        if t.kind != "op":
            return
        if close == "]" and t.value == "]]":
            a = Token("op", "]", t.line, t.col, t.nl, "]")
            b = Token("op", "]", t.line, t.col + 1, False, "]")
            self.tokens[self.i:self.i + 1] = [a, b]
        elif close == "]]" and t.value == "]":
            nxt = self.tokens[self.i + 1]
            if nxt.kind == "op" and nxt.value == "]" and (nxt.line, nxt.col) == (t.line, t.col + 1):
                self.tokens[self.i:self.i + 2] = [Token("op", "]]", t.line, t.col, t.nl, "]]")]

    def expect(self, op: str, opener: Token) -> Token:
        self.fix_closer(op)
        if not self.is_op(op):
            t = self.tok
            found = "the end of the text" if t.kind == "eof" else repr(t.text or t.value)
            raise WLSyntaxError(f"expected {op!r} to close {opener.text!r} opened at line "
                                f"{opener.line}, column {opener.col}, but found {found}",
                                t.line, t.col)
        return self.next()

    def stops_here(self) -> bool:
        """At top level, a newline after a complete expression ends it."""
        return self.depth == 0 and self.tok.nl

    def error(self, message: str, t: Token | None = None) -> WLSyntaxError:
        t = t or self.tok
        return WLSyntaxError(message, t.line, t.col)

    # -- statements ---------------------------------------------------------------------------
    def statements(self) -> list[tuple[Expr, bool]]:
        """Top-level expressions, each with whether its text ended in ``;``."""
        out = []
        while self.tok.kind != "eof":
            e = self.expression(0)
            if self.tok.kind != "eof" and not self.tok.nl:
                raise self.error(f"unexpected {self.tok.text or self.tok.value!r}")
            silent = isinstance(e, Node) and e.name == "CompoundExpression" and \
                isinstance(e.args[-1], Symbol) and e.args[-1].name == "Null" and \
                e.args[-1].line == -1
            out.append((e, silent))
        return out

    # -- expressions --------------------------------------------------------------------------
    def expression(self, rbp: int) -> Expr:
        left = self.prefix()
        while True:
            t = self.tok
            if t.kind == "eof" or self.stops_here():
                return left
            if t.kind == "op" and t.value in POSTFIX:
                prec, _ = POSTFIX[t.value]
                if prec <= rbp:
                    return left
                left = self.postfix(left)
                continue
            if t.kind == "op" and t.value in INFIX:
                prec = INFIX[t.value][0]
                if prec <= rbp:
                    return left
                left = self.infix(left)
                continue
            if _starts_expression(t) or self.is_op("\u2192"):
                if TIMES <= rbp:
                    return left
                left = self.times(left)
                continue
            return left

    def prefix(self) -> Expr:
        t = self.next()
        k = t.kind
        if k == "num":
            return Atom(t.value, t.line, t.col)
        if k == "str":
            return Atom(t.value, t.line, t.col)
        if k == "sym":
            return Symbol(str(t.value), t.line, t.col)
        if k in ("slot", "slotseq"):
            return call("Slot" if k == "slot" else "SlotSequence", [Atom(t.value, t.line, t.col)],
                        t)
        if k == "out":
            s = str(t.value)
            n: int = int(s[1:]) if s[1:].isdigit() else -len(s)
            return call("Out", [Atom(n, t.line, t.col)] if n != -1 else [], t)
        if k == "blank":
            return self.pattern(t)
        if k == "eof":
            raise self.error("the text ends where an expression was expected", t)
        v = t.value
        if v == "(":
            return self.group(t)
        if v == "{":
            return call("List", self.sequence("}", t), t)
        if v == "<|":
            return call("Association", self.sequence("|>", t), t)
        if v == ";;":
            return self.span(None, t)
        if v in PREFIX:
            prec, head = PREFIX[v]
            operand = self.expression(prec)
            if head == "Minus":
                return _negate(operand, t)
            if head == "Plus":
                return operand
            return call(head, [operand], t)
        raise self.error(f"unexpected {t.text or v!r}", t)

    def pattern(self, t: Token) -> Expr:
        name: str | None
        blank: str
        head: str | None
        name, blank, head = t.value  # type: ignore[misc]
        kind = {"_": "Blank", "__": "BlankSequence", "___": "BlankNullSequence"}[blank.rstrip(".")]
        b = call(kind, [Symbol(head, t.line, t.col)] if head else [], t)
        if blank.endswith("."):
            b = call("Optional", [b], t)
        return call("Pattern", [Symbol(name, t.line, t.col), b], t) if name else b

    def group(self, t: Token) -> Expr:
        self.depth += 1
        if self.is_op(")"):
            raise self.error("() holds no expression", self.tok)
        e = self.expression(0)
        self.expect(")", t)
        self.depth -= 1
        return replace(e, grouped=True) if isinstance(e, Node) else e

    def sequence(self, close: str, opener: Token) -> list[Expr]:
        """Comma-separated expressions up to ``close``; an empty slot is Null."""
        self.depth += 1
        items: list[Expr] = []
        self.fix_closer(close)
        if self.is_op(close):
            self.next()
            self.depth -= 1
            return items
        while True:
            self.fix_closer(close)
            if self.is_op(",", close):
                items.append(Symbol("Null", self.tok.line, self.tok.col))
            else:
                items.append(self.expression(0))
            if self.is_op(","):
                self.next()
                continue
            self.expect(close, opener)
            self.depth -= 1
            return items

    def postfix(self, left: Expr) -> Expr:
        t = self.next()
        v = t.value
        if v == "[":
            return Node(left, tuple(self.sequence("]", t)), *_pos(left))
        if v == "[[":
            return call("Part", [left, *self.sequence("]]", t)], left)
        head = POSTFIX[str(v)][1]
        if head == "Function":
            return call("Function", [left], left)
        return call(head, [left], left)

    def times(self, left: Expr) -> Expr:
        right = self.expression(TIMES)
        return _flat("Times", left, right)

    def infix(self, left: Expr) -> Expr:
        t = self.next()
        op = str(t.value)
        prec, head, kind = INFIX[op]
        if kind == "compound":
            return self.compound(left, t)
        if kind == "span":
            return self.span(left, t)
        right = self.expression(prec - 1 if kind in ("right", "apply") else prec)
        if kind == "apply":
            return Node(left, (right,), *_pos(left))
        if kind == "postapply":
            return Node(right, (left,), *_pos(right))
        if kind == "divide":  # a/b/c is Times[a, Power[b, -1], Power[c, -1]]
            return _flat("Times", left, call("Power", [right, Atom(-1, t.line, t.col)], t))
        if kind == "tilde":
            self._expect_tilde(t)
            last = self.expression(prec)
            return Node(right, (left, last), *_pos(left))
        if op == "-":
            right = _negate(right, t)
        if kind == "flat":
            return _flat(head, left, right)
        if kind == "compare":
            return _compare(head, left, right)
        return call(head, [left, right], left)

    def _expect_tilde(self, t: Token) -> None:
        if not self.is_op("~"):
            raise self.error("x ~ f ~ y needs a second ~", t)
        self.next()

    def compound(self, left: Expr, t: Token) -> Expr:
        items = [left]
        while True:
            nxt = self.tok
            ends = (nxt.kind == "eof" or (nxt.kind == "op" and nxt.value in CLOSERS)
                    or self.stops_here()
                    or not _starts_expression(nxt) and not self.is_op(";;", "-", "+"))
            if ends:
                items.append(Symbol("Null", -1, -1))
                break
            items.append(self.expression(10))
            if not self.is_op(";"):
                break
            self.next()
        return call("CompoundExpression", items, left)

    def span(self, left: Expr | None, t: Token) -> Expr:
        """``i ;; j ;; k`` with any part left out (1 and All fill in)."""
        start = left if left is not None else Atom(1, t.line, t.col)
        parts: list[Expr] = [start]
        if self._span_operand():
            parts.append(self.expression(305))
        else:
            parts.append(Symbol("All", t.line, t.col))
        if self.is_op(";;") and self._span_step_follows():
            self.next()
            parts.append(self.expression(305))
        return call("Span", parts, left if left is not None else t)

    def _span_operand(self) -> bool:
        t = self.tok
        if self.stops_here():
            return False
        return _starts_expression(t) or (t.kind == "op" and t.value in ("-", "+"))

    def _span_step_follows(self) -> bool:
        nxt = self.tokens[self.i + 1]
        return _starts_expression(nxt) or (nxt.kind == "op" and nxt.value in ("-", "+"))


def _negate(e: Expr, t: Token) -> Expr:
    """``-e`` as WL reads it: a negative number, or ``Times[-1, ...]``."""
    if isinstance(e, Atom) and not isinstance(e.value, str):
        return Atom(-e.value, e.line, e.col)
    if isinstance(e, Node) and e.name == "Times" and not e.grouped:
        return Node(e.head, (Atom(-1, t.line, t.col), *e.args), e.line, e.col)
    return call("Times", [Atom(-1, t.line, t.col), e], t)


def _pos(e: Expr) -> tuple[int, int]:
    return e.line, e.col


def _flat(head: str, left: Expr, right: Expr) -> Node:
    """``head[left, right]`` with unparenthesised ``head[...]`` operands spliced in
    (``a*b/c`` is ``Times[a, b, Power[c, -1]]``)."""
    rights = right.args if isinstance(right, Node) and right.name == head and \
        not right.grouped else (right,)
    if isinstance(left, Node) and left.name == head and not left.grouped:
        return Node(left.head, (*left.args, *rights), left.line, left.col)
    return Node(Symbol(head, left.line, left.col), (left, *rights), left.line, left.col)


def _compare(head: str, left: Expr, right: Expr) -> Node:
    """``a == b == c`` is ``Equal[a, b, c]``; mixed operators give ``Inequality``."""
    ops = {"Equal", "Unequal", "Less", "Greater", "LessEqual", "GreaterEqual"}
    if isinstance(left, Node) and left.grouped:
        return call(head, [left, right], left)
    if isinstance(left, Node) and left.name == head:
        return Node(left.head, (*left.args, right), left.line, left.col)
    if isinstance(left, Node) and left.name in ops and len(left.args) == 2:
        a, b = left.args
        return call("Inequality", [a, Symbol(str(left.name)), b, Symbol(head), right], left)
    if isinstance(left, Node) and left.name == "Inequality":
        return Node(left.head, (*left.args, Symbol(head), right), left.line, left.col)
    return call(head, [left, right], left)


def parse(text: str) -> list[tuple[Expr, bool]]:
    """The top-level expressions of ``text``, each with whether it ended in ``;``.

    >>> [e.fullform() for e, _ in parse("a -> b -> c")]
    ['Rule[a, Rule[b, c]]']
    """
    return Parser(text).statements()


def parse_one(text: str) -> Expr:
    """``text`` as one expression (several top-level lines become a CompoundExpression)."""
    exprs = parse(text)
    if not exprs:
        return Symbol("Null", 1, 1)
    if len(exprs) == 1:
        return exprs[0][0]
    return call("CompoundExpression", [e for e, _ in exprs], exprs[0][0])


def fullform(text: str) -> str:
    """FullForm of ``text``: one line per top-level expression."""
    return "\n".join(e.fullform() for e, _ in parse(text))
