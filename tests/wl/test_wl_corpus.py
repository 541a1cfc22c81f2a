"""A corpus of WL snippets retyped from Wolfram documentation pages and public Q&A threads.

Each snippet starts with a comment giving its source. Where a page describes an example in
words ("Create a LinearLayer whose output is a length-5 vector") the snippet is that
example typed out; where a Q&A post has code, the code is kept as written, with data sizes
and training rounds cut down (said in the comment) so that the test stays fast. Every
snippet is read and evaluated, and its result checked: port shapes, outputs against a hand
computation, or training that lowers the loss.
"""
import math

import numpy as np
import pytest

from netgraph import NetExtract
from netgraph.wl import evaluate
from netgraph.wl.values import Rule, Sym

REF = "https://reference.wolfram.com/language/ref/"
TS = "https://hqjin.blogspot.com/2014/09/machine-learning-recurrent-neural.html"
HOW = "https://mathematica.stackexchange.com/questions/123458/how-do-you-make-a-neural-net"


def ports(net, side="OutputPorts"):
    return evaluate(f'Information[net, "{side}"]', {"net": net})


def sym(*names):
    return [Sym(n) for n in names]


def lowered(losses):
    losses = list(losses)
    return len(losses) >= 2 and losses[-1] < losses[0]


# (source URL, WL text, check(result, env)); the URL is also the snippet's first comment
CORPUS = [
    # -- layers: port shapes and outputs -------------------------------------------------------
    (REF + "LinearLayer.html", "LinearLayer[5, \"Input\" -> 3]",
     lambda r, env: ports(r) == {"Output": 5} and ports(r, "InputPorts") == {"Input": 3}),
    (REF + "LinearLayer.html",
     "layer = NetInitialize[LinearLayer[5, \"Input\" -> 3]];\nlayer[{1, 2, 3}]",
     lambda r, env: np.allclose(r, NetExtract(env["layer"], "Weights") @ [1, 2, 3]
                                + NetExtract(env["layer"], "Biases"), atol=1e-5)),
    (REF + "LinearLayer.html", "LinearLayer[{3, 2}, \"Input\" -> 4]",
     lambda r, env: ports(r) == {"Output": (3, 2)}),
    (REF + "LinearLayer.html", "LinearLayer[{}, \"Input\" -> 3]",
     lambda r, env: ports(r) == {"Output": "Real"}),
    (REF + "ElementwiseLayer.html", "ElementwiseLayer[Tanh][{-1., 0., 1.}]",
     lambda r, env: np.allclose(r, np.tanh([-1, 0, 1]))),
    (REF + "ElementwiseLayer.html", "ElementwiseLayer[Ramp][{-2., -1., 0., 1., 2.}]",
     lambda r, env: np.allclose(r, [0, 0, 0, 1, 2])),
    (REF + "ElementwiseLayer.html", "ElementwiseLayer[LogisticSigmoid[#] + 1 &][{0., 1.}]",
     lambda r, env: np.allclose(r, 1 / (1 + np.exp(-np.array([0., 1.]))) + 1)),
    (REF + "SoftmaxLayer.html", "SoftmaxLayer[][{1., 2., 3.}]",
     lambda r, env: np.allclose(r, np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum())),
    (REF + "SequenceLastLayer.html",
     "SequenceLastLayer[\"Input\" -> {\"Varying\", 3}][{{1, 2, 3}, {4, 5, 6}}]",
     lambda r, env: np.allclose(r, [4, 5, 6])),
    (REF + "SequenceLastLayer.html", "SequenceLastLayer[\"Input\" -> {3, 2, 2}]",
     lambda r, env: ports(r) == {"Output": (2, 2)}),
    (REF + "LongShortTermMemoryLayer.html",
     "LongShortTermMemoryLayer[2, \"Input\" -> {\"Varying\", 3}]",
     lambda r, env: ports(r) == {"Output": ("Varying", 2)}),
    (REF + "GatedRecurrentLayer.html", "GatedRecurrentLayer[3, \"Input\" -> {4, 2}]",
     lambda r, env: ports(r) == {"Output": (4, 3)}),
    (REF + "CatenateLayer.html",  # netgraph sizes the inputs on the graph's ports
     "net = NetGraph[{CatenateLayer[]}, {{NetPort[\"a\"], NetPort[\"b\"]} -> 1},\n"
     "  \"a\" -> 2, \"b\" -> 1];\nnet[<|\"a\" -> {1, 2}, \"b\" -> {3}|>]",
     lambda r, env: np.allclose(r, [1, 2, 3])),
    (REF + "MeanSquaredLossLayer.html",
     "MeanSquaredLossLayer[][<|\"Input\" -> {1, 2, 3}, \"Target\" -> {1, 2, 5}|>]",
     lambda r, env: math.isclose(r, 4 / 3, rel_tol=1e-6)),
    (REF + "MeanAbsoluteLossLayer.html",
     "MeanAbsoluteLossLayer[][<|\"Input\" -> {1, 2, 3}, \"Target\" -> {1, 2, 5}|>]",
     lambda r, env: math.isclose(r, 2 / 3, rel_tol=1e-6)),
    (REF + "CrossEntropyLossLayer.html",
     "CrossEntropyLossLayer[\"Index\"][<|\"Input\" -> {0.1, 0.9}, \"Target\" -> 2|>]",
     lambda r, env: math.isclose(r, -math.log(0.9), rel_tol=1e-5)),
    (REF + "DropoutLayer.html", "DropoutLayer[0.5][{1, 2, 3}]",
     lambda r, env: np.allclose(r, [1, 2, 3])),  # evaluation mode: no dropping
    (REF + "ReshapeLayer.html", "ReshapeLayer[{2, 3}][Range[6]]",
     lambda r, env: np.allclose(r, [[1, 2, 3], [4, 5, 6]])),
    (REF + "FlattenLayer.html", "FlattenLayer[][{{1, 2}, {3, 4}}]",
     lambda r, env: np.allclose(r, [1, 2, 3, 4])),
    (REF + "TransposeLayer.html", "TransposeLayer[][{{1, 2}, {3, 4}}]",
     lambda r, env: np.allclose(r, [[1, 3], [2, 4]])),
    (REF + "PartLayer.html", "PartLayer[2 ;; 3][{5, 6, 7}]",
     lambda r, env: np.allclose(r, [6, 7])),
    (REF + "TotalLayer.html",
     "net = NetGraph[{TotalLayer[]}, {{NetPort[\"x\"], NetPort[\"y\"]} -> 1},\n"
     "  \"x\" -> 2, \"y\" -> 2];\nnet[<|\"x\" -> {1, 2}, \"y\" -> {3, 4}|>]",
     lambda r, env: np.allclose(r, [4, 6])),
    (REF + "ConvolutionLayer.html", "ConvolutionLayer[16, {3, 3}, \"Input\" -> {1, 28, 28}]",
     lambda r, env: ports(r) == {"Output": (16, 26, 26)}),
    (REF + "PoolingLayer.html", "PoolingLayer[{2, 2}, 2, \"Input\" -> {16, 26, 26}]",
     lambda r, env: ports(r) == {"Output": (16, 13, 13)}),
    (REF + "EmbeddingLayer.html", "EmbeddingLayer[3, 10, \"Input\" -> \"Varying\"]",
     lambda r, env: ports(r) == {"Output": ("Varying", 3)}),
    # -- operators ----------------------------------------------------------------------------
    (REF + "NetMapOperator.html", "NetMapOperator[LinearLayer[2], \"Input\" -> {\"Varying\", 3}]",
     lambda r, env: ports(r) == {"Output": ("Varying", 2)}),
    (REF + "NetMapOperator.html", "NetMapOperator[ElementwiseLayer[Tanh]][{{0., 1.}, {2., 3.}}]",
     lambda r, env: np.allclose(r, np.tanh([[0, 1], [2, 3]]))),
    (REF + "NetNestOperator.html", "NetNestOperator[LinearLayer[3], 4, \"Input\" -> 3]",
     lambda r, env: ports(r) == {"Output": 3} and ports(r, "InputPorts") == {"Input": 3}),
    (REF + "NetNestOperator.html", "NetNestOperator[ElementwiseLayer[# + 1 &], 3][{0., 1.}]",
     lambda r, env: np.allclose(r, [3, 4])),
    (REF + "NetFoldOperator.html",
     "fold = NetFoldOperator[NetGraph[{ThreadingLayer[Plus]},\n"
     "  {{NetPort[\"State\"], NetPort[\"Input\"]} -> 1}]];\nfold[{1., 2., 3.}]",
     lambda r, env: np.allclose(r, [1, 3, 6])),  # a running sum
    (REF + "NetBidirectionalOperator.html",
     "NetBidirectionalOperator[GatedRecurrentLayer[3], \"Input\" -> {\"Varying\", 2}]",
     lambda r, env: ports(r) == {"Output": ("Varying", 6)}),
    (REF + "NetBidirectionalOperator.html",
     "NetBidirectionalOperator[{LongShortTermMemoryLayer[2], GatedRecurrentLayer[2]},\n"
     "  \"Input\" -> {\"Varying\", 3}]",
     lambda r, env: ports(r) == {"Output": ("Varying", 4)}),
    # -- chains --------------------------------------------------------------------------------
    (REF + "NetChain.html", "NetChain[{LinearLayer[3], Tanh, LinearLayer[2]}, \"Input\" -> 4]",
     lambda r, env: ports(r) == {"Output": 2} and len(r.nodes) == 3),
    (REF + "NetChain.html", "NetChain[{5, Ramp, 3}, \"Input\" -> 2]",
     lambda r, env: ports(r) == {"Output": 3}
     and [layer.head for layer in r.nodes.values()] == [
         "LinearLayer", "ElementwiseLayer", "LinearLayer"]),
    (REF + "NetChain.html",
     "net = NetInitialize[NetChain[{LinearLayer[3], Ramp}, \"Input\" -> 2]];\n"
     "net[{{1, 2}, {3, 4}}] == {net[{1, 2}], net[{3, 4}]}",
     lambda r, env: r is True),
    (REF + "NetChain.html",
     "net = NetChain[<|\"lin\" -> LinearLayer[3], \"act\" -> Ramp|>, \"Input\" -> 2];\n"
     "Normal[net] // Keys",
     lambda r, env: r == ["lin", "act"]),
    # -- graphs --------------------------------------------------------------------------------
    (REF + "NetGraph.html",
     "NetGraph[{ElementwiseLayer[Ramp], ElementwiseLayer[Tanh], TotalLayer[]},\n"
     "  {1 -> 3, 2 -> 3}, \"Input\" -> 2]",
     lambda r, env: ports(r) == {"Output": 2} and ports(r, "InputPorts") == {"Input": 2}),
    (REF + "NetGraph.html",
     "net = NetGraph[<|\"lin\" -> LinearLayer[2], \"tanh\" -> Tanh|>, {\"lin\" -> \"tanh\"},\n"
     "  \"Input\" -> 3] // NetInitialize;\nnet[{1, 2, 3}]",
     lambda r, env: np.allclose(r, np.tanh(NetExtract(env["net"], ("lin", "Weights"))
                                           @ [1, 2, 3]), atol=1e-5)),
    (REF + "CatenateLayer.html",
     "NetGraph[{LinearLayer[2], LinearLayer[3], CatenateLayer[]},\n"
     "  {NetPort[\"Input\"] -> {1, 2} -> 3}, \"Input\" -> 4]",
     lambda r, env: ports(r) == {"Output": 5}),
    (REF + "NetPort.html",
     "net = NetGraph[{LinearLayer[2], ElementwiseLayer[Tanh]},\n"
     "  {1 -> 2, 1 -> NetPort[\"Linear\"]}, \"Input\" -> 3] // NetInitialize;\n"
     "Keys[net[{1, 2, 3}]]",
     lambda r, env: sorted(r) == ["Linear", "Output"]),
    (REF + "NetGraph.html",
     "net = NetGraph[{LongShortTermMemoryLayer[2], SequenceLastLayer[], LinearLayer[]},\n"
     "  {NetPort[\"InitialState\"] -> NetPort[1, \"State\"], 1 -> 2 -> 3},\n"
     "  \"Input\" -> {1, 1}, \"Output\" -> \"Scalar\"];\n"
     "Information[net, \"InputPorts\"]",
     lambda r, env: r == {"Input": (1, 1), "InitialState": 2}),
    (REF + "NetExtract.html",
     "net = NetChain[{LinearLayer[3], Tanh}, \"Input\" -> 2] // NetInitialize;\n"
     "Dimensions[NetExtract[net, {1, \"Weights\"}]]",
     lambda r, env: r.tolist() == [3, 2]),
    # -- training ------------------------------------------------------------------------------
    (REF + "NetTrain.html",
     "losses = NetTrain[LinearLayer[], {1 -> 1.9, 2 -> 4.1, 3 -> 6.0, 4 -> 8.1}, "
     "\"RoundLossList\",\n  Method -> {\"ADAM\", \"LearningRate\" -> 0.1}, "
     "MaxTrainingRounds -> 30, TrainingProgressReporting -> None]",
     lambda r, env: lowered(r)),
    (REF + "LossFunction.html",
     "res = NetTrain[LinearLayer[], {1 -> 1.9, 2 -> 4.1, 3 -> 6.0, 4 -> 8.1}, All,\n"
     "  LossFunction -> MeanAbsoluteLossLayer[], MaxTrainingRounds -> 30,\n"
     "  Method -> {\"ADAM\", \"LearningRate\" -> 0.1}, TrainingProgressReporting -> None];\n"
     "res[\"RoundLossList\"]",
     lambda r, env: lowered(r)),
    (REF + "NetTrain.html",
     "net = NetChain[{LinearLayer[8], Tanh, LinearLayer[]}, \"Input\" -> \"Real\", "
     "\"Output\" -> \"Real\"];\n"
     "data = Table[x -> Sin[x], {x, -3., 3., 0.25}];\n"
     "NetTrain[net, data, \"RoundLossList\", MaxTrainingRounds -> 20, BatchSize -> 8,\n"
     "  Method -> {\"ADAM\", \"LearningRate\" -> 0.02}, TrainingProgressReporting -> None]",
     lambda r, env: lowered(r)),
    (REF + "NetTrain.html",
     "data = <|\"Input\" -> {1, 2, 3, 4}, \"Output\" -> {2, 4, 6, 8}|>;\n"
     "trained = NetTrain[LinearLayer[], data, MaxTrainingRounds -> 200,\n"
     "  Method -> {\"ADAM\", \"LearningRate\" -> 0.1}, TrainingProgressReporting -> None];\n"
     "trained[5]",
     lambda r, env: abs(r - 10) < 1.5),
    (REF + "TrainingProgressFunction.html",
     "rounds = {};\n"
     "NetTrain[LinearLayer[], {1 -> 2, 2 -> 4}, MaxTrainingRounds -> 5,\n"
     "  TrainingProgressReporting -> None,\n"
     "  TrainingProgressFunction -> ((rounds = Append[rounds, #Round];) &)];\nrounds",
     lambda r, env: list(r) == [1, 2, 3, 4, 5]),
    (TS,  # data: 0 .. 20 instead of 0 .. 100; 3 rounds
     "data = Table[Sin[x], {x, 0, 20, 0.04}];\n"
     "training = RandomSample[ List /@ Most[#] -> List @ Last [#] & /@ "
     "(Partition[data, 51, 1]) ];\n"
     "net = NetChain[{\n   GatedRecurrentLayer[10],\n   LinearLayer[1]}, "
     "\"Input\" -> {50, 1}, \"Output\" -> 1\n];\n"
     "NetTrain[net, training, \"RoundLossList\", MaxTrainingRounds -> 3, "
     "TrainingProgressReporting -> None]",
     lambda r, env: len(env["training"]) == 451 and lowered(r)
     and np.shape(env["training"][0].lhs) == (50, 1)),
    (HOW,  # DotPlusLayer was renamed LinearLayer; Hue data replaced by a numeric map
     "rndExample := With[{v = RandomReal[]}, {v, v^2, 1 - v} -> {v}];\n"
     "data = Table[rndExample, {500}];\n"
     "net = NetChain[{LinearLayer[12], ElementwiseLayer[Tanh], LinearLayer[1]}, "
     "\"Input\" -> 3];\n"
     "NetTrain[net, data, \"RoundLossList\", MaxTrainingRounds -> 5, "
     "TrainingProgressReporting -> None]",
     lambda r, env: len(env["data"]) == 500 and lowered(r)),
    # -- data-building code -------------------------------------------------------------
    (REF + "Partition.html", "Partition[{a, b, c, d, e, f}, 2]",
     lambda r, env: r == [sym("a", "b"), sym("c", "d"), sym("e", "f")]),
    (REF + "Partition.html", "Partition[{a, b, c, d, e, f, g}, 3, 1]",
     lambda r, env: r == [sym("a", "b", "c"), sym("b", "c", "d"), sym("c", "d", "e"),
                          sym("d", "e", "f"), sym("e", "f", "g")]),
    (REF + "Partition.html", "Partition[Range[10], 3]",
     lambda r, env: r.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    (REF + "Range.html", "{Range[4], Range[0, 10, 2], Range[1, 2, 0.5]}",
     lambda r, env: r[0].tolist() == [1, 2, 3, 4] and r[1].tolist() == [0, 2, 4, 6, 8, 10]
     and r[2].tolist() == [1.0, 1.5, 2.0]),
    (REF + "Table.html", "Table[10 i + j, {i, 4}, {j, 3}]",
     lambda r, env: r.tolist() == [[11, 12, 13], [21, 22, 23], [31, 32, 33], [41, 42, 43]]),
    (REF + "Accumulate.html", "Accumulate[{1, 2, 3, 4, 5}]",
     lambda r, env: r.tolist() == [1, 3, 6, 10, 15]),
    (REF + "Part.html", "l = {a, b, c, d, e, f};\n{l[[3]], l[[-2]], l[[{1, 3}]], l[[2 ;; 4]]}",
     lambda r, env: r == [Sym("c"), Sym("e"), sym("a", "c"), sym("b", "c", "d")]),
    (REF + "Span.html", "{1, 2, 3, 4, 5, 6, 7, 8}[[2 ;; -2 ;; 2]]",
     lambda r, env: r.tolist() == [2, 4, 6]),
    (REF + "Take.html", "{Take[{a, b, c, d, e, f}, 4], Take[{a, b, c, d, e, f}, -3]}",
     lambda r, env: r == [sym("a", "b", "c", "d"), sym("d", "e", "f")]),
    (REF + "Drop.html", "Drop[{a, b, c, d, e, f}, -2]",
     lambda r, env: r == sym("a", "b", "c", "d")),
    (REF + "Thread.html", "Thread[{a, b, c} -> {1, 2, 3}]",
     lambda r, env: r == [Rule(Sym("a"), 1), Rule(Sym("b"), 2), Rule(Sym("c"), 3)]),
    (REF + "Transpose.html", "Transpose[{{a, b, c}, {x, y, z}}]",
     lambda r, env: r == [sym("a", "x"), sym("b", "y"), sym("c", "z")]),
    (REF + "Flatten.html", "Flatten[{{a, b}, {c, {d}, e}, {f, {g, h}}}]",
     lambda r, env: r == sym(*"abcdefgh")),
    (REF + "Join.html", "Join[{a, b, c}, {x, y}, {u, v, w}]",
     lambda r, env: r == sym(*"abcxyuvw")),
    (REF + "ConstantArray.html", "ConstantArray[0, {2, 3}]",
     lambda r, env: r.tolist() == [[0, 0, 0], [0, 0, 0]]),
    (REF + "Map.html", "Map[#^2 &, {1, 2, 3, 4}]",
     lambda r, env: r.tolist() == [1, 4, 9, 16]),
    (REF + "Apply.html", "Plus @@ {1, 2, 3, 4}", lambda r, env: r == 10),
    (REF + "Mean.html", "Mean[{1.21, 3.4, 2.15, 4, 1.55}]",
     lambda r, env: math.isclose(r, 2.462)),
    (REF + "Total.html", "Total[{{1, 2}, {3, 4}, {5, 6}}]",
     lambda r, env: r.tolist() == [9, 12]),
    (REF + "Keys.html", "{Keys[<|a -> 1, b -> 2, c -> 3|>], Values[<|a -> 1, b -> 2|>]}",
     lambda r, env: r[0] == sym("a", "b", "c") and r[1].tolist() == [1, 2]),
    (REF + "Lookup.html", "Lookup[<|a -> 1, b -> 2|>, {a, b, c}, 0]",
     lambda r, env: r.tolist() == [1, 2, 0]),
    (REF + "RandomInteger.html", "SeedRandom[3]; RandomInteger[{1, 6}, 10]",
     lambda r, env: r.shape == (10,) and set(r.tolist()) <= set(range(1, 7))),
    (REF + "RandomReal.html", "RandomReal[{-1, 1}, {3, 2}]",
     lambda r, env: r.shape == (3, 2) and (np.abs(r) <= 1).all()),
    (REF + "Function.html", "{Function[x, x^2][3], (#1 + #2 &)[3, 4], Function[{u, v}, u v][2, 5]}",
     lambda r, env: r.tolist() == [9, 7, 10]),
    (REF + "Module.html", "Module[{x = 5, y}, y = x + 1; x y]", lambda r, env: r == 30),
    (REF + "With.html", "With[{x = 2, y = 3}, x^y]", lambda r, env: r == 8),
    (REF + "Do.html", "t = 1; Do[t = t (k + 1), {k, 5}]; t", lambda r, env: r == 720),
    (REF + "If.html", "f[x_] := If[x > 0, x, -x]; f /@ {-2, 3}",
     lambda r, env: r.tolist() == [2, 3]),
    (REF + "ReleaseHold.html", "ReleaseHold[Hold[1 + 2]]", lambda r, env: r == 3),
]


@pytest.mark.parametrize("url, text, check", CORPUS,
                         ids=[f"{i:02d}-{u.rsplit('/', 1)[-1][:40]}"
                              for i, (u, _, _) in enumerate(CORPUS)])
def test_corpus_snippet(url, text, check):
    source = f"(* source: {url} *)\n{text}"
    env: dict = {}
    result = evaluate(source, env)
    assert check(result, env), f"{url}\n{text}\n=> {result!r}"


def test_the_corpus_is_large_and_cited():
    assert len(CORPUS) >= 40
    assert all(u.startswith("https://") for u, _, _ in CORPUS)
