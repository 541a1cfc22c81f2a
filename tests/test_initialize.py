"""NetInitialize: methods against hand computations, float32 arrays, and sizes refused early."""
import numpy as np
import pytest

from netgraph import *  # noqa: F403
from netgraph.backend import init
from netgraph.layers.base import ArraySpec


def test_a_net_too_big_for_memory_is_refused_before_allocating():
    # was: numpy's "Unable to allocate 72.8 TiB ... float64"
    with pytest.raises(ShapeError, match=r"NetInitialize: the net asks for 10,000,010,000,000 "
                       r"parameters \(36\.4 TiB as Real32\), more than the .* of memory "
                       r'available; the largest array is "Weights" of LinearLayer'):
        NetInitialize(LinearLayer(10**7, Input=10**6))
    big = NetChain({"enc": LinearLayer(10**6, Input=10**6), "out": LinearLayer(2)})
    with pytest.raises(ShapeError, match=r'"Weights" of layer .enc. \(LinearLayer\)'):
        NetInitialize(big)


def test_arrays_are_float32_and_filled_chunk_by_chunk(monkeypatch):
    rng = np.random.default_rng(7)
    whole = init.make_array(ArraySpec((50, 40)), "Kaiming", {}, rng)
    monkeypatch.setattr(init, "CHUNK", 64)   # many chunks: the same values
    chunked = init.make_array(ArraySpec((50, 40)), "Kaiming", {}, np.random.default_rng(7))
    assert whole.dtype == np.float32 and np.array_equal(whole, chunked)
    # the values are float32(normal(0, sqrt(2 / fan_in))) of the seed's float64 stream
    ref = np.random.default_rng(7).normal(0.0, np.sqrt(2 / 40), (50, 40)).astype(np.float32)
    assert np.array_equal(whole, ref)


@pytest.mark.parametrize("method", ["Xavier", ("Xavier", {"Distribution": "Uniform"}),
                                    "Random", "Identity", "Orthogonal"])
def test_every_method_gives_float32_of_the_right_shape(method):
    net = NetInitialize(LinearLayer(3, Input=5), Method=method)
    w = NetExtract(net, "Weights")
    assert w.dtype == np.float32 and w.shape == (3, 5)


def test_identity_is_the_identity_plus_small_noise():
    w = init.make_array(ArraySpec((3, 5)), "Identity", {}, np.random.default_rng(0))
    noise = np.random.default_rng(0).normal(0.0, 0.01, (3, 5))
    assert np.allclose(w, np.eye(3, 5) + noise, atol=1e-6)


def test_orthogonal_rows_are_orthonormal():
    w = init.make_array(ArraySpec((4, 6)), "Orthogonal", {}, np.random.default_rng(0))
    assert np.allclose(w @ w.T, np.eye(4), atol=1e-5)
