"""Nets several test modules share; pytest puts tests/ on sys.path, so ``import seed_nets``."""
from netgraph import LinearLayer, LongShortTermMemoryLayer, NetGraph, NetPort, SequenceLastLayer


def seed_graph(input_shape=(1, 1)):
    """The LSTM graph with its states as ports (InitialState in, FinalState out) and a
    scalar output."""
    return NetGraph(
        [LongShortTermMemoryLayer(2), SequenceLastLayer(), LinearLayer()],
        [(NetPort("InitialState"), NetPort(1, "State")),
         (NetPort("InitialCellState"), NetPort(1, "CellState")),
         (NetPort(1, "State"), NetPort("FinalState")),
         (NetPort(1, "CellState"), NetPort("FinalCellState")),
         (1, 2, 3)],
        Input=input_shape, Output="Scalar")
