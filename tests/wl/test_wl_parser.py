"""The WL reader's parser: FullForm of the forms in wolfram-syntax.md (section 1), and
positioned syntax errors."""
import pytest

from netgraph.wl import WLSyntaxError, fullform, parse

# (input, FullForm): the expected trees are the ones wolfram-syntax.md gives (Mathics3 runs
# and WL's own CodeParser precedence table).
CASES = [
    ("a -> b -> c", "Rule[a, Rule[b, c]]"),
    ("{a, b} -> c", "Rule[List[a, b], c]"),
    ("f -> # + 1 &", "Function[Rule[f, Plus[Slot[1], 1]]]"),
    ("TrainingProgressFunction -> (Print[#] &)",
     "Rule[TrainingProgressFunction, Function[Print[Slot[1]]]]"),
    ("X = data[[;; -2]] // Partition[#, 1] &",
     "Set[X, Function[Partition[Slot[1], 1]][Part[data, Span[1, -2]]]]"),
    ("net = NetGraph[x] // NetInitialize", "Set[net, NetInitialize[NetGraph[x]]]"),
    ("x // f @ y", "f[y][x]"),
    ("f @ x // g", "g[f[x]]"),
    ("a -> b // f", "f[Rule[a, b]]"),
    ("f @ g @ x", "f[g[x]]"),
    ("x // f // g", "g[f[x]]"),
    ("a /@ b @@ c", "Map[a, Apply[b, c]]"),
    ("f @@@ x", "MapApply[f, x]"),
    ("-2^2", "Times[-1, Power[2, 2]]"),
    ("- - a", "Times[-1, -1, a]"),
    ("-a b", "Times[-1, a, b]"),
    ("x - 4", "Plus[x, -4]"),
    ("a^b^c", "Power[a, Power[b, c]]"),
    ("a/b/c", "Times[a, Power[b, -1], Power[c, -1]]"),
    ("a*b/c", "Times[a, b, Power[c, -1]]"),
    ("a (* c (* n *) *) + b", "Plus[a, b]"),
    ('"abc(*def*)"', '"abc(*def*)"'),
    ("1.*^-3", "0.001"),
    ("10*^-3", "Rational[1, 100]"),
    ("2^^101", "5"),
    (".5 + 1.", "Plus[0.5, 1.0]"),
    ("1e-3", "Plus[Times[1, e], -3]"),
    ("{a,}", "List[a, Null]"),
    ("f[,]", "f[Null, Null]"),
    ("{-1, 1}", "List[-1, 1]"),
    ("2x", "Times[2, x]"),
    ("(a)(b)", "Times[a, b]"),
    ("f[x] g[y]", "Times[f[x], g[y]]"),
    ("{LinearLayer[10] Ramp}", "List[Times[LinearLayer[10], Ramp]]"),
    ("1 -> 2 \"Input\" -> {1,1}", 'Rule[1, Rule[Times[2, "Input"], List[1, 1]]]'),
    ("i+1 ;; j", "Span[Plus[i, 1], j]"),
    ("x[[;;]]", "Part[x, Span[1, All]]"),
    ("x[[2 ;;]]", "Part[x, Span[2, All]]"),
    ("x[[;; j ;; k]]", "Part[x, Span[1, j, k]]"),
    ("x[[i ;; ;; k]]", "Part[x, Span[i, All, k]]"),
    ("x[[;; ;; -1]]", "Part[x, Span[1, All, -1]]"),
    ("a == b == c", "Equal[a, b, c]"),
    ("a < b <= c", "Inequality[a, Less, b, LessEqual, c]"),
    ("a == b === c", "SameQ[Equal[a, b], c]"),
    ("a || b && c", "Or[a, And[b, c]]"),
    ("!a && b", "And[Not[a], b]"),
    ("x = a; b", "CompoundExpression[Set[x, a], b]"),
    ("a = b = c", "Set[a, Set[b, c]]"),
    ("a;", "CompoundExpression[a, Null]"),
    ("(a;b);c", "CompoundExpression[CompoundExpression[a, b], c]"),
    ("f[x][y]", "f[x][y]"),
    ("a[[1]][[2]]", "Part[Part[a, 1], 2]"),
    ("a[[f[1]]]", "Part[a, f[1]]"),
    ("f[g[h[1]]]", "f[g[h[1]]]"),
    ('<|"a" -> 1, "b" -> 2|>', 'Association[Rule["a", 1], Rule["b", 2]]'),
    ("a \\[Rule] b", "Rule[a, b]"),
    ("a \uf522 b", "Rule[a, b]"),
    ("a \u2192 b", "RightArrow[a, b]"),
    ("\\[Alpha] + \\[Alpha]x", "Plus[α, αx]"),
    ("x_ -> x^2", "Rule[Pattern[x, Blank[]], Power[x, 2]]"),
    ("x |-> x + 1", "Function[x, Plus[x, 1]]"),
    ("#name &", 'Function[Slot["name"]]'),
    ("#2 + ## &", "Function[Plus[Slot[2], SlotSequence[1]]]"),
    ("x ~ f ~ y", "f[x, y]"),
    ("x=.5", "Set[x, 0.5]"),
    ("x += 1", "AddTo[x, 1]"),
    ("i++", "Increment[i]"),
    ("a <> b", "StringJoin[a, b]"),
    ("x -> y /. z", "ReplaceAll[Rule[x, y], z]"),
    ("Global`x + System`Plus", "Plus[x, Plus]"),
    ('"a\\"b\\\\c\\n\\[Alpha]\\:0041"', '"a\\"b\\\\c\\nαA"'),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_fullform(text, expected):
    assert fullform(text) == expected


def test_the_three_example_lines_of_the_reference():
    text = '''net = NetGraph[{LongShortTermMemoryLayer[2], SequenceLastLayer[], LinearLayer[]},
  {NetPort["InitialState"] -> NetPort[1, "State"], 1 -> 2 -> 3},
  "Input" -> {1, 1}, "Output" -> "Scalar"] // NetInitialize
data = Accumulate@RandomInteger[{-1, 1}, 1000]; X = data[[;; -2]] // Partition[#, 1] &; \
Y = data[[2 ;;]];
{trainer, {gen, nmax}} = NetTrain[net, data, Automatic, {"$Trainer", "$TrainingGenerator"},
  Method -> {"ADAM", "LearningRateSchedule" -> None}]'''
    assert fullform(text).splitlines() == [
        'Set[net, NetInitialize[NetGraph[List[LongShortTermMemoryLayer[2], SequenceLastLayer[], '
        'LinearLayer[]], List[Rule[NetPort["InitialState"], NetPort[1, "State"]], Rule[1, Rule['
        '2, 3]]], Rule["Input", List[1, 1]], Rule["Output", "Scalar"]]]]',
        'CompoundExpression[Set[data, Accumulate[RandomInteger[List[-1, 1], 1000]]], Set[X, '
        'Function[Partition[Slot[1], 1]][Part[data, Span[1, -2]]]], Set[Y, Part[data, Span[2, '
        'All]]], Null]',
        'Set[List[trainer, List[gen, nmax]], NetTrain[net, data, Automatic, List["$Trainer", '
        '"$TrainingGenerator"], Rule[Method, List["ADAM", Rule["LearningRateSchedule", None]]]]]']


def test_newlines_end_complete_top_level_expressions():
    assert [e.fullform() for e, _ in parse("a\nb")] == ["a", "b"]
    assert [e.fullform() for e, _ in parse("a +\nb")] == ["Plus[a, b]"]
    assert [e.fullform() for e, _ in parse("f[a,\nb]")] == ["f[a, b]"]
    assert [e.fullform() for e, _ in parse("(a\nb)")] == ["Times[a, b]"]
    assert [e.fullform() for e, _ in parse("a \\\n+ b")] == ["Plus[a, b]"]
    # a line ending in ; is complete: the next line is the next expression (book A.2.10)
    assert [e.fullform() for e, _ in parse("x = 1;\ny = 2")] == [
        "CompoundExpression[Set[x, 1], Null]", "Set[y, 2]"]


def test_trailing_semicolon_marks_the_statement_silent():
    assert [s for _, s in parse("a;\nb\nc;")] == [True, False, True]


def test_positions_are_line_and_column():
    (e, _), = parse("\n  f[x,\n    Nest[g, x, 3]]")
    assert (e.line, e.col) == (2, 3)
    inner = e.args[1]
    assert inner.name == "Nest" and (inner.line, inner.col) == (3, 5)


# (text, line, column, stable fragment of the message)
SYNTAX_ERRORS = [
    ("f[x", 1, 4, "expected ']' to close '[' opened at line 1, column 2"),
    ("{1, 2", 1, 6, "expected '}'"),
    ("<|a -> 1", 1, 9, "expected '|>'"),
    ("a[[1]", 1, 5, "expected ']]'"),
    ("f[x]]", 1, 5, "unexpected ']'"),
    ("(a (* open", 1, 4, "comment (* ... is never closed"),
    ('x = "abc', 1, 5, "string is never closed"),
    ("x = \\[Bogus] + 1", 1, 5, "named character \\[Bogus]"),
    ("a +", 1, 4, "the text ends where an expression was expected"),
    ("()", 1, 2, "() holds no expression"),
    ("x = 3 $$ 4 `", 1, 12, "unexpected"),
    ("f[1,\n  2 * * 3]", 2, 7, "unexpected"),
    ('"\\q"', 1, 1, "unknown escape \\q"),
    ("37^^12", 1, 1, "base of 37^^12"),
    ("\n\n  ]", 3, 3, "unexpected ']'"),
]


@pytest.mark.parametrize("text, line, col, fragment", SYNTAX_ERRORS)
def test_syntax_errors_name_the_position(text, line, col, fragment):
    with pytest.raises(WLSyntaxError, match="syntax error") as info:
        parse(text)
    err = info.value
    assert (err.line, err.col) == (line, col), str(err)
    assert f"line {line}, column {col}" in str(err)
    assert fragment in str(err)
