"""netgraph.wl.evaluate: the data-building subset with WL's semantics, netgraph heads,
and positioned errors."""
from fractions import Fraction

import numpy as np
import pytest

from netgraph import LinearLayer, NetGraphError, ShapeError
from netgraph.wl import WLEvaluationError, WLUnsupportedError, evaluate


def ev(text, env=None):
    return evaluate(text, env)


def same(a, b):
    if isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), a
        for x, y in zip(a, b, strict=False):
            same(x, y)
        return
    if isinstance(b, np.ndarray) or isinstance(a, np.ndarray):
        assert isinstance(a, np.ndarray), a
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b and type(a) is type(b), (a, b)


# (WL text, expected value): semantics from wolfram-syntax.md section 2
CASES = [
    ("Range[5]", np.array([1, 2, 3, 4, 5])),
    ("Range[2, 5]", np.array([2, 3, 4, 5])),
    ("Range[5, 1, -2]", np.array([5, 3, 1])),
    ("Range[5, 1]", []),
    ("Range[1.5, 4]", np.array([1.5, 2.5, 3.5])),
    ("Range[0, 1, 0.25]", np.array([0., .25, .5, .75, 1.])),
    ("Table[i^2, {i, 4}]", np.array([1, 4, 9, 16])),
    ("Table[i, {i, 2, 8, 3}]", np.array([2, 5, 8])),
    ("Table[x, {x, {5, 7}}]", np.array([5, 7])),
    ("Table[0, 3]", np.array([0, 0, 0])),
    ("Table[10 i + j, {i, 2}, {j, 3}]", np.array([[11, 12, 13], [21, 22, 23]])),
    ("Accumulate[{1, -1, 1, 1}]", np.array([1, 0, 1, 2])),
    ("Partition[Range[7], 3]", np.array([[1, 2, 3], [4, 5, 6]])),
    ("Partition[Range[5], 2, 1]", np.array([[1, 2], [2, 3], [3, 4], [4, 5]])),
    ("Partition[Range[5], UpTo[2]]", [np.array([1, 2]), np.array([3, 4]), np.array([5])]),
    ("Partition[Range[2], 3]", []),
    ("{1, 2, 3}[[1]]", 1),
    ("{1, 2, 3}[[-1]]", 3),
    ("{1, 2, 3, 4}[[;; -2]]", np.array([1, 2, 3])),
    ("{1, 2, 3, 4}[[2 ;;]]", np.array([2, 3, 4])),
    ("{1, 2, 3, 4, 5}[[1 ;; -1 ;; 2]]", np.array([1, 3, 5])),
    ("{1, 2, 3}[[;; ;; -1]]", np.array([3, 2, 1])),
    ("{1, 2, 3}[[{1, 3}]]", np.array([1, 3])),
    ("{{1, 2}, {3, 4}}[[All, 2]]", np.array([2, 4])),
    ("{{1, 2}, {3, 4}}[[2, 1]]", 3),
    ('<|"a" -> 1, "b" -> 2|>[["b"]]', 2),
    ("Map[#^2 &, {1, 2, 3}]", np.array([1, 4, 9])),
    ("f /@ {1, 2}", None),  # f has no definition: refused (see ERRORS)
    ("Plus @@ {1, 2, 3}", 6),
    ("f @@@ {{1, 2}, {3, 4}}", None),
    ("Apply[#1 * #2 &, {{1, 2}, {3, 4}}, {1}]", np.array([2, 12])),
    ("Thread[{a, b} -> {1, 2}] // Length", 2),
    ("Transpose[{{1, 2, 3}, {4, 5, 6}}]", np.array([[1, 4], [2, 5], [3, 6]])),
    ("Transpose[{1, 2}]", np.array([1, 2])),
    ("Length[{1, {2, 3}}]", 2),
    ("Length[7]", 0),
    ('Length[<|"a" -> 1|>]', 1),
    ("Dimensions[{{1, 2}, {3}}]", np.array([2])),
    ("Dimensions[ConstantArray[0, {2, 3}]]", np.array([2, 3])),
    ("First[{4, 5}]", 4), ("Last[{4, 5}]", 5), ("First[{}, 9]", 9),
    ("Rest[{1, 2, 3}]", np.array([2, 3])), ("Most[{1, 2, 3}]", np.array([1, 2])),
    ("Take[{1, 2, 3, 4}, 2]", np.array([1, 2])), ("Take[{1, 2, 3, 4}, -1]", np.array([4])),
    ("Take[{1, 2, 3, 4}, {2, 3}]", np.array([2, 3])),
    ("Drop[{1, 2, 3, 4}, 1]", np.array([2, 3, 4])),
    ("Drop[{1, 2, 3, 4}, {2}]", np.array([1, 3, 4])),
    ("Join[{1, 2}, {3}]", np.array([1, 2, 3])),
    ('Join[<|"a" -> 1|>, <|"a" -> 2, "b" -> 3|>]', {"a": 2, "b": 3}),
    ("Flatten[{{1, {2}}, {3}}]", np.array([1, 2, 3])),
    ("Flatten[{{1, {2}}, {3}}, 1]", [1, np.array([2]), 3]),
    ("ConstantArray[1.5, 2]", np.array([1.5, 1.5])),
    ('Keys[<|"a" -> 1, "b" -> 2|>]', ["a", "b"]),
    ('Values[<|"a" -> 1, "b" -> 2|>]', np.array([1, 2])),
    ('Lookup[<|"a" -> 1|>, "a"]', 1),
    ('Lookup[<|"a" -> 1|>, "z", 0]', 0),
    ("Mean[{1, 2}]", Fraction(3, 2)),
    ("Mean[{1., 2.}]", 1.5),
    ("Mean[{{1, 2}, {3, 4}}]", np.array([2, 3])),
    ("Total[{1, 2, 3}]", 6),
    ("Total[{{1, 2}, {3, 4}}]", np.array([4, 6])),
    ("1/2 + 1/3", Fraction(5, 6)),
    ("2^-1", Fraction(1, 2)),
    ("10^-3", Fraction(1, 1000)),
    ("4/2", 2),
    ("1/2 + 0.5", 1.0),
    ("{1, 2} + 1", np.array([2, 3])),
    ("{1, 2} {3, 4}", np.array([3, 8])),
    ("-2^2", -4),
    ("Round[2.5]", 2), ("Round[-2.5]", -2),
    ("Max[{1, 5}, 3]", 5), ("Min[4, {2, 7}]", 2),
    ("Ramp[{-1., 2.}]", np.array([0., 2.])),
    ("If[1 < 2, \"y\", \"n\"]", "y"),
    ("If[1 > 2, \"y\"]", None),
    ("Module[{x = 2, y}, x + 1]", 3),
    ("With[{n = 3}, Range[n]]", np.array([1, 2, 3])),
    ("x = 1; Do[x = x * 2, {3}]; x", 8),
    ("s = 0; Do[s += i, {i, 4}]; s", 10),
    ("l = {}; Do[AppendTo[l, i^2], {i, 3}]; l", np.array([1, 4, 9])),
    ("{a, {b, c}} = {1, {2, 3}}; a + b + c", 6),
    ("f[x_] := x + 1; f[2]", 3),
    ("g = Function[{x, y}, x y]; g[3, 4]", 12),
    ("(x |-> x + 1)[1]", 2),
    ("#a + #b &[<|\"a\" -> 1, \"b\" -> 2|>]", 3),
    ("(# + #2 &)[1, 2, 99]", 3),
    ("Function[\"StopTraining\"][<|\"Round\" -> 3|>]", "StopTraining"),
    ("ReleaseHold[Hold[1 + 1]]", 2),
    ('Normal[<|"a" -> 1|>] // Length', 1),
    ("x = 5; x;", None),
    ("1 == 1.", True), ("1 < 2 <= 2", True), ("!True", False),
    ("True && 1 > 2", False),
    ('"a" <> "b"', "ab"),
    ("StringJoin[\"a\", ToString[3]]", "a3"),
]


@pytest.mark.parametrize("text, expected", [c for c in CASES if c[1] is not None or
                                            c[0].endswith(";") or c[0].startswith("If")])
def test_semantics(text, expected):
    same(ev(text), expected)


def test_random_numbers_are_seeded_by_SeedRandom():
    a = ev("SeedRandom[7]; RandomInteger[{-1, 1}, 1000]")
    b = ev("SeedRandom[7]; RandomInteger[{-1, 1}, 1000]")
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {-1, 0, 1} and a.shape == (1000,)
    r = ev("SeedRandom[1]; RandomReal[{2, 3}, {4, 5}]")
    assert r.shape == (4, 5) and (r >= 2).all() and (r <= 3).all()
    assert ev("SeedRandom[1]; RandomInteger[3]") in range(4)
    assert 0 <= ev("RandomReal[]") <= 1
    # Table re-evaluates its body each time
    assert len(set(ev("Table[RandomReal[], 3]").tolist())) == 3


def test_env_carries_a_session_across_calls():
    env = {}
    assert ev("x = 2", env) == 2 and env["x"] == 2
    assert ev("x + 1", env) == 3
    env["y"] = 10
    assert ev("x y", env) == 20


def test_numeric_rectangular_lists_are_arrays_others_lists():
    assert isinstance(ev("{{1, 2}, {3, 4}}"), np.ndarray)
    assert ev("{{1, 2}, {3, 4}}").dtype == np.int64
    assert ev("{1., 2.}").dtype == np.float64
    assert ev("{1., 2}") == [1.0, 2]  # WL packs only all-integer or all-real lists
    assert isinstance(ev("{{1, 2}, {3}}"), list)
    assert isinstance(ev('{1, "a"}'), list)


def test_netgraph_heads_under_their_wl_names():
    env = {}
    out = ev('net = NetChain[{LinearLayer[3], Ramp, LinearLayer[]}, "Input" -> 2, '
             '"Output" -> "Scalar"] // NetInitialize; net[{1, 2}]', env)
    assert isinstance(out, float)
    assert out == pytest.approx(env["net"]([1, 2]))
    assert ev('Information[net, "OutputPorts"]', env) == {"Output": "Real"}
    assert ev("NetExtract[net, {1, \"Weights\"}] // Dimensions", env).tolist() == [3, 2]
    assert isinstance(ev("LinearLayer[5]"), LinearLayer)
    assert ev("net @ {1, 2}", env) == out
    assert ev("Map[net, {{1, 2}, {1, 2}}]", env).tolist() == pytest.approx([out, out])


# (text, exception class, line, column, stable fragment)
ERRORS = [
    ("Nest[f, x, 3]", WLUnsupportedError, 1, 1, "Unsupported WL function Nest at line 1, column 1"),
    ("x = 1;\ny = 2;\nz = Nest[f, x, 3]", WLUnsupportedError, 3, 5, "Unsupported WL function Nest"),
    ("f /@ {1, 2}", WLEvaluationError, 1, 1, "Unsupported WL function f"),
    ("LinearLayer[Foo]", WLUnsupportedError, 1, 1, "Unsupported WL symbol Foo"),
    ("a \u2192 b", WLUnsupportedError, 1, 1, "RightArrow"),
    ("x :> 2", WLUnsupportedError, 1, 1, "RuleDelayed"),
    ("{1, 2, 3}[[5]]", WLEvaluationError, 1, 1, "part 5 of {1, 2, 3} does not exist"),
    ("{1, 2}[[0]]", WLEvaluationError, 1, 1, "part 0"),
    ("Take[{1, 2, 3}, 5]", WLEvaluationError, 1, 1, "cannot take positions 1 through 5"),
    ("First[{}]", WLEvaluationError, 1, 1, "has zero length and no first element"),
    ("{a, b} = {1, 2, 3}", WLEvaluationError, 1, 1, "Set::shape"),
    ("If[x, 1, 2]", WLEvaluationError, 1, 1, "neither True nor False"),
    ("Thread[{1, 2} -> {1, 2, 3}]", WLEvaluationError, 1, 1, "Thread::tdlen"),
    ("a + 1", WLEvaluationError, 1, 1, "symbolic arithmetic is not supported"),
    ("Range[\"a\"]", WLEvaluationError, 1, 1, "Range"),
    ("#1 + 1", WLEvaluationError, 1, 1, "outside a function"),
    ("(#3 &)[1]", WLEvaluationError, 1, 2, "asks for argument 3"),
    ("Module[{1}, 2]", WLEvaluationError, 1, 9, "cannot localize 1"),
    ("x[[1]] = 2", WLUnsupportedError, 1, 1, "assignment to Part[x, 1]"),
    ("Block[{x = 1}, x]", WLUnsupportedError, 1, 1, "Unsupported WL function Block"),
    ("Range[3] // Nest", WLUnsupportedError, 1, 13, "Nest"),
    ("Pi = 3", WLEvaluationError, 1, 1, "Pi is protected"),
]


@pytest.mark.parametrize("text, cls, line, col, fragment", ERRORS)
def test_errors_name_the_position(text, cls, line, col, fragment):
    with pytest.raises(cls) as info:
        ev(text)
    err = info.value
    assert (err.line, err.col) == (line, col), str(err)
    assert f"line {line}, column {col}" in str(err)
    assert fragment in str(err)


def test_unsupported_lists_what_is_supported():
    with pytest.raises(WLUnsupportedError, match="supported: the netgraph heads.*Partition"):
        ev("Nest[f, x, 3]")


def test_netgraph_errors_keep_class_and_message_and_gain_the_position():
    text = 'net = NetChain[{LinearLayer[3], LinearLayer[]}, "Input" -> 2];\n' \
           'out = NetInitialize[net]'
    with pytest.raises(ShapeError) as info:
        ev(text)
    msg = str(info.value)
    assert msg.startswith("NetInitialize: the shape of array")
    assert "(in the WL call NetInitialize[...] at line 2, column 7)" in msg
    with pytest.raises(NetGraphError, match=r"LinearLayer: .*at line 1, column 1\)"):
        ev("LinearLayer[-3]")


def test_wl_functions_work_as_layer_functions():
    assert ev("ElementwiseLayer[#^2 + 1 &][{1., 2.}]").tolist() == [2.0, 5.0]
    f = ev("FunctionLayer[#a * #b + 1. &]")
    assert sorted(f.in_types) == ["a", "b"]
    out = ev('f[<|"a" -> {1., 2.}, "b" -> {3., 4.}|>]', {"f": f})
    assert out.tolist() == [4.0, 9.0]
    assert ev('FunctionLayer[Function[{a, b}, a b]][<|"a" -> 2., "b" -> 3.|>]') == 6.0


def test_net_called_with_a_port():
    env = {}
    ev('net = NetGraph[{LinearLayer[2], ElementwiseLayer[Tanh]}, {1 -> 2, 1 -> NetPort["Lin"]},'
       ' "Input" -> 3] // NetInitialize', env)
    lin = ev('net[{1, 2, 3}, NetPort["Lin"]]', env)
    assert lin.tolist() == pytest.approx(ev('net[{1, 2, 3}]["Lin"]', env).tolist())
    assert ev('net[{1, 2, 3}, "Output"]', env).tolist() == pytest.approx(np.tanh(lin).tolist())


def test_quantity_is_a_time_goal():
    q = ev('Quantity[2, "Seconds"]')
    assert repr(q) == 'Quantity[2, "Seconds"]'
    net = ev('NetTrain[LinearLayer[], {1 -> 2, 2 -> 4}, TimeGoal -> Quantity[2, "Seconds"], '
             'MaxTrainingRounds -> 3, TrainingProgressReporting -> None]')
    assert net.is_initialized()
    with pytest.raises(WLEvaluationError, match=r'Quantity: expected Quantity\[n, "unit"\]'):
        ev("Quantity[x, 2]")
