"""Doctests see the public surface, as a user who typed `from netgraph import *` would."""
import pytest


@pytest.fixture(autouse=True)
def _netgraph_namespace(doctest_namespace):
    import netgraph
    for name in netgraph.__all__:
        doctest_namespace[name] = getattr(netgraph, name)
