"""The seed's LSTM graph: built, initialized, evaluated and introspected.

Run with `make demo`.
"""
from netgraph import *  # noqa: F403

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
print("net({Input, InitialState, InitialCellState}) =")
print(net({"Input": [[1]], "InitialState": [0, 0], "InitialCellState": [0, 0]}))
print()
print("InputPorts: ", Information(net, "InputPorts"))
print("OutputPorts:", Information(net, "OutputPorts"))
print("ArraysCount:", Information(net, "ArraysCount"),
      " ArraysTotalElementCount:", Information(net, "ArraysTotalElementCount"))
print("NetExtract(net, (3, 'Weights')) =", NetExtract(net, (3, "Weights")))
