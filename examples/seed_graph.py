"""Seed example 1: build an LSTM graph with explicit state ports, initialize it, evaluate it.

Shows: layers in a list (referred to by position) and in a dict (by name); NetPort
connections for recurrent states; shapes inferred through the graph (LinearLayer() learns
its input size from the LSTM); one example vs a batch; selecting an output port;
Information and NetExtract.

Run: python examples/seed_graph.py
"""
import numpy as np

from netgraph import (
    Information,
    LinearLayer,
    LongShortTermMemoryLayer,
    NetExtract,
    NetGraph,
    NetInitialize,
    NetPort,
    SequenceLastLayer,
)

# The contract's graph: WL's NetGraph[{lstm, last, linear}, {NetPort["InitialState"] ->
# NetPort[1, "State"], ..., 1 -> 2 -> 3}, "Input" -> {1, 1}, "Output" -> "Scalar"].
net = NetInitialize(NetGraph(
    [LongShortTermMemoryLayer(2), SequenceLastLayer(), LinearLayer()],
    [(NetPort("InitialState"), NetPort(1, "State")),
     (NetPort("InitialCellState"), NetPort(1, "CellState")),
     (NetPort(1, "State"), NetPort("FinalState")),
     (NetPort(1, "CellState"), NetPort("FinalCellState")),
     (1, 2, 3)],
    Input=(1, 1), Output="Scalar"))
print(net)
print()

# One example: every input port by name; outputs come back as numpy (a float for "Scalar").
out = net({"Input": [[1]], "InitialState": [0, 0], "InitialCellState": [0, 0]})
print("net({Input, InitialState, InitialCellState}) =")
for port, value in out.items():
    print(f"  {port}: {np.round(value, 4)}")

# A leading extra dimension is a batch; state inputs left out default to zeros.
batch = np.random.default_rng(0).normal(size=(3, 1, 1))
print("a batch of 3, port Output:", np.round(net({"Input": batch}, "Output"), 4))
print("one at a time:            ",
      np.round([net({"Input": x}, "Output") for x in batch], 4))
print()

# The same graph with named layers, referred to by name in the connections.
named = NetInitialize(NetGraph(
    {"lstm": LongShortTermMemoryLayer(2), "last": SequenceLastLayer(), "out": LinearLayer()},
    [(NetPort("lstm", "State"), NetPort("FinalState")), ("lstm", "last", "out")],
    Input=(1, 1), Output="Scalar"))
print("InputPorts: ", Information(named, "InputPorts"))
print("OutputPorts:", Information(named, "OutputPorts"))
print("ArraysCount:", Information(named, "ArraysCount"),
      "| ArraysTotalElementCount:", Information(named, "ArraysTotalElementCount"))
print("NetExtract(named, 'out'):", NetExtract(named, "out"))
print("NetExtract(named, ('out', 'Weights')):", NetExtract(named, ("out", "Weights")))
