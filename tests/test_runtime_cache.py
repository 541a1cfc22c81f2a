"""Evaluators and retyped nets are cached outside the net value, bounded (runtime/cache.py)."""
import gc
import tracemalloc
import weakref

import numpy as np

from netgraph import ElementwiseLayer, LinearLayer, NetChain, NetInitialize, Tanh
from netgraph.runtime.cache import EVALUATORS, TYPED, NetCache
from netgraph.runtime.evaluate import evaluator


def _state(layer):
    return {k: (id(v), len(v) if hasattr(v, "__len__") else None) for k, v in vars(layer).items()}


def _growth_over_50_shapes(layer, first):
    """Bytes traced memory grows over evaluations of 50 new shapes, after 25 others."""
    tracemalloc.start()
    try:
        for n in range(first, first + 25):   # past the cache's bound: from here on, no growth
            assert np.allclose(layer(np.full(n, 0.5)), np.tanh(0.5))
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        for n in range(first + 25, first + 75):
            assert layer(np.full(n, 0.5)).shape == (n,)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()


def test_a_layer_value_does_not_grow_over_evaluations_of_50_shapes(monkeypatch):
    layer = ElementwiseLayer(Tanh)
    before = _state(layer)
    grown = _growth_over_50_shapes(layer, 1)
    assert _state(layer) == before and not hasattr(layer, "_cache")
    assert TYPED.entries(layer) == TYPED.per_net      # bounded: the newest shapes only
    # The same evaluations with the bound lifted keep every shape: compared in the same
    # process, so memory other tests left behind (threads, allocator) weighs on both alike.
    monkeypatch.setattr(TYPED, "per_net", 10_000)
    unbounded = _growth_over_50_shapes(ElementwiseLayer(Tanh), 1)
    assert grown < unbounded / 3, (grown, unbounded)   # measured alone: 5 kB against 900 kB


def test_the_evaluator_is_reused_and_goes_with_its_net():
    net = NetInitialize(NetChain([LinearLayer(2), Tanh], Input=3), RandomSeeding=1)
    net(np.ones(3))
    ev = evaluator(net)
    assert evaluator(net) is ev and EVALUATORS.entries(net) == 1
    ref = weakref.ref(net)
    del net, ev
    gc.collect()
    assert ref() is None


def test_a_net_cache_keeps_the_newest_entries_per_net():
    cache, net = NetCache(per_net=3), LinearLayer(2)
    for k in range(5):
        cache.put(net, k, str(k))
    assert [cache.get(net, k) for k in range(5)] == [None, None, "2", "3", "4"]
    assert cache.get_or_make(net, 9, lambda: "nine") == "nine" and cache.entries(net) == 3
