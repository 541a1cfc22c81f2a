"""Differential test: netgraph.wl parses the parser cases and the whole corpus to the same
FullForm as Mathics3's parser (a GPL-3.0 re-implementation of WL, a test-only extra:
``pip install netgraph[wl-oracle]``). Skipped when Mathics3 is not installed.

Known differences, where Mathics3 is not WL (wolfram-syntax.md section 3): ``f @@@ x`` is
``MapApply[f, x]`` since WL 13.1 (Mathics3 gives the older ``Apply[f, x, {1}]``), and
Mathics3 rejects ``x |-> body`` and named letters such as ``\\[Alpha]`` in symbols.
"""
import importlib.util
import sys
from fractions import Fraction
from pathlib import Path

import pytest

if importlib.util.find_spec("mathics") is None:
    pytest.skip("Mathics3 is not installed (pip install netgraph[wl-oracle])",
                allow_module_level=True)

# Importing Mathics3 raises the interpreter-wide limit on int <-> str digits (its
# settings.py); put it back so that the rest of the suite sees Python's default.
_DIGITS = sys.get_int_max_str_digits()
from mathics.core.parser import ast as M  # noqa: E402
from mathics.core.parser.parser import Parser  # noqa: E402
from mathics_scanner import MultiLineFeeder  # noqa: E402
from mathics_scanner.location import ContainerKind  # noqa: E402

sys.set_int_max_str_digits(_DIGITS)

from netgraph.wl.parser import Atom, Symbol, parse  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_wl_corpus  # noqa: E402
import test_wl_parser  # noqa: E402

KNOWN = {"f @@@ x", "x |-> x + 1", "\\[Alpha] + \\[Alpha]x"}


def _number(n):
    if n.base != 10:
        v = int(n.value, n.base)
    elif "." in n.value or n.suffix is not None:
        v = float(f"{n.value}e{n.exp}")
    else:
        v = int(n.value) * 10 ** n.exp if n.exp >= 0 else Fraction(int(n.value), 10 ** -n.exp)
    return -v if n.sign == -1 else v


def canon_mathics(x):
    if isinstance(x, M.Number):
        return ("num", _number(x))
    if isinstance(x, (M.String, M.Filename)):
        return ("str", x.value)
    if isinstance(x, M.Symbol):
        return ("sym", x.value.rsplit("`", 1)[-1])
    head = ("sym", x.head) if isinstance(x.head, str) else canon_mathics(x.head)
    return (head, tuple(canon_mathics(c) for c in x.children))


def canon_ours(x):
    if isinstance(x, Atom):
        return ("str", x.value) if isinstance(x.value, str) else ("num", x.value)
    if isinstance(x, Symbol):
        return ("sym", x.name)
    return (canon_ours(x.head), tuple(canon_ours(a) for a in x.args))


def mathics(text):
    parser, feeder, out = Parser(), MultiLineFeeder(text, "<wl>", ContainerKind.STRING), []
    while not feeder.empty():
        e = parser.parse(feeder)
        if e is not None:
            out.append(canon_mathics(e))
    return out


TEXTS = ([t for t, _ in test_wl_parser.CASES if t not in KNOWN]
         + [f"(* {u} *)\n{t}" for u, t, _ in test_wl_corpus.CORPUS])


@pytest.mark.parametrize("text", TEXTS)
def test_same_fullform_as_mathics(text):
    assert [canon_ours(e) for e, _ in parse(text)] == mathics(text)
