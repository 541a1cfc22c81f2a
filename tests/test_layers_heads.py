"""The heads of issue 11 (ParametricRamp, UnitVector, SequenceIndices, Ordering, Extract, Resize,
SpatialTransformation, ImageAugmentation, LocalResponseNormalization): against hand-written
torch or numpy, batch vs one-at-a-time, in graphs, Export/Import, ONNX, and their errors."""
# ruff: noqa: F405
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from netgraph import *  # noqa: F403
from netgraph.backend.lower import lower

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b, tol=1e-5):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def batch_equals_single(net, feeds):
    batch = net(feeds)
    n = len(next(iter(feeds.values())))
    for i in range(n):
        one = net({k: v[i] for k, v in feeds.items()})
        if isinstance(batch, dict):
            for k in batch:
                close(batch[k][i], one[k])
        else:
            close(batch[i], one)
    return batch


def roundtrip(net, tmp_path, feeds):
    path = Export(tmp_path / "net.netgraph", net)
    back = Import(path)
    assert type(back) is type(net) and dict(back.params) == dict(net.params)
    want, got = net(feeds), back(feeds)
    close(got, want)
    return back


def onnx_matches(net, tmp_path, feeds, opset=None):
    ort = pytest.importorskip("onnxruntime")
    from netgraph.io.onnx_export import export_onnx
    path = tmp_path / "net.onnx"
    export_onnx(str(path), net, dynamo=False, opset=opset)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, feeds)[0]
    close(got, net(feeds))


# -- ParametricRampLayer --------------------------------------------------------------------------

def test_parametric_ramp_matches_torch_prelu(tmp_path):
    layer = NetInitialize(ParametricRampLayer(Input=(3, 4)))
    assert layer.arrays["Slope"].tolist() == pytest.approx([0.1] * 3)   # WL: starts at 0.1
    slope = np.array([0.1, -0.5, 2.0], np.float32)
    layer = NetReplacePart(layer, ("Slope", slope))
    x = rand(5, 3, 4)
    out = batch_equals_single(layer, {"Input": x})
    close(out, F.prelu(torch.tensor(x), torch.tensor(slope)))   # one slope per channel
    roundtrip(layer, tmp_path, {"Input": x})
    onnx_matches(layer, tmp_path, {"Input": x})


@pytest.mark.parametrize("levels,shape,view", [
    ([], (), (1, 1)), (2, (4,), (1, 4)), ([1, 2], (3, 4), (3, 4)), (Span(1, 2), (3, 4), (3, 4)),
    (-1, (4,), (1, 4))])
def test_parametric_ramp_levels(levels, shape, view):
    layer = NetInitialize(ParametricRampLayer(levels, Input=(3, 4)))
    assert layer.arrays["Slope"].shape == shape
    s = RNG.uniform(0, 1, shape).astype(np.float32)
    layer = NetReplacePart(layer, ("Slope", s))
    x = rand(2, 3, 4)
    close(layer(x), np.where(x >= 0, x, s.reshape(view) * x))


def test_parametric_ramp_trains_its_slope_and_errors():
    net = NetInitialize(NetChain([ParametricRampLayer([])], Input=1))
    x = -np.ones((32, 1), np.float32)
    trained = NetTrain(net, {"Input": x, "Output": -0.5 * np.ones((32, 1), np.float32)},
                       MaxTrainingRounds=200, LearningRate=0.05, TrainingProgressReporting=None)
    assert float(NetExtract(trained, (1, "Slope"))) == pytest.approx(0.5, abs=0.05)
    fixed = NetInitialize(NetChain([LinearLayer(1), ParametricRampLayer(
        [], LearningRateMultipliers=0)], Input=1))
    assert "LearningRateMultipliers=0" in repr(NetExtract(fixed, 2))
    kept = NetTrain(fixed, {"Input": x, "Output": -0.5 * np.ones((32, 1), np.float32)},
                    MaxTrainingRounds=5, TrainingProgressReporting=None)
    assert float(NetExtract(kept, (2, "Slope"))) == pytest.approx(0.1)    # WL's fixed slope
    assert not np.array_equal(NetExtract(kept, (1, "Weights")), NetExtract(fixed, (1, "Weights")))
    with pytest.raises(LayerError, match="expected LearningRateMultipliers to be a number"):
        ParametricRampLayer(LearningRateMultipliers="x")
    with pytest.raises(LayerError, match="ParametricRampLayer: expected the levels"):
        ParametricRampLayer("x")
    with pytest.raises(ShapeError, match='ParametricRampLayer: port "Input" expects an array '
                                         "with the levels 3"):
        ParametricRampLayer(3, Input=(2, 2))
    with pytest.raises(ShapeError, match='"Varying"'):
        ParametricRampLayer(Input=("Varying", 2))
    with pytest.raises(LayerError, match=r'expected "Slope" of dimensions \[2\]'):
        ParametricRampLayer(Input=2, Slope=[1.0, 2.0, 3.0])


# -- UnitVectorLayer, SequenceIndicesLayer, OrderingLayer ------------------------------------------

def test_unit_vector_matches_one_hot(tmp_path):
    layer = UnitVectorLayer(4, Input=3)
    assert layer.out_types["Output"].spec() == (3, 4)
    x = RNG.integers(1, 5, (6, 3))
    out = batch_equals_single(layer, {"Input": x})
    close(out, F.one_hot(torch.tensor(x) - 1, 4).float())
    assert UnitVectorLayer(3)(7).tolist() == [0, 0, 0]              # outside 1..n: zeros
    inferred = UnitVectorLayer(Input=Restricted("Integer", 5))
    assert inferred.out_types["Output"].spec() == 5
    roundtrip(layer, tmp_path, {"Input": x})
    onnx_matches(layer, tmp_path, {"Input": x})
    assert layer(x, WorkingPrecision="Real64").dtype == np.float64
    with pytest.raises(ShapeError, match='UnitVectorLayer: port "Input" expects integers'):
        UnitVectorLayer(3, Input="Real")
    with pytest.raises(LayerError, match="UnitVectorLayer: expected the vector size n"):
        UnitVectorLayer(0)


def test_sequence_indices(tmp_path):
    layer = SequenceIndicesLayer(Input=("Varying", 2))
    assert layer([[0, 0]] * 4).tolist() == [1, 2, 3, 4]
    capped = SequenceIndicesLayer(Maximum=3, Input=(5, 2))
    assert capped.out_types["Output"].spec() == (5, Restricted("Integer", 3))
    x = rand(3, 5, 2)
    out = batch_equals_single(capped, {"Input": x})
    close(out, np.minimum(np.arange(1, 6), 3)[None].repeat(3, 0))
    ragged = layer([np.zeros((2, 2)), np.zeros((4, 2))])
    assert [r.tolist() for r in ragged] == [[1, 2], [1, 2, 3, 4]]
    net = NetChain([SequenceIndicesLayer(Maximum=4), EmbeddingLayer(2)], Input=("Varying", 3))
    assert Information(net, "OutputPorts")["Output"] == ("Varying", 2)
    roundtrip(capped, tmp_path, {"Input": x})
    onnx_matches(capped, tmp_path, {"Input": x})
    with pytest.raises(LayerError, match='SequenceIndicesLayer: expected "Maximum"'):
        SequenceIndicesLayer(Maximum=0)
    with pytest.raises(ShapeError, match="SequenceIndicesLayer: port \"Input\" expects a "
                                         "sequence"):
        SequenceIndicesLayer(Input="Real")


@pytest.mark.parametrize("n", [All, 1, 3, -1, -3])
def test_ordering_matches_argsort(n, tmp_path):
    layer = OrderingLayer(n, Input=6)
    x = RNG.integers(0, 4, (5, 6)).astype(np.float32)              # ties: first occurrence
    out = batch_equals_single(layer, {"Input": x})
    order = np.argsort(x, axis=1, kind="stable") + 1
    want = order if n is All else (order[:, :n] if n > 0 else order[:, n:])
    assert np.array_equal(out, want)
    if n == -3:
        roundtrip(layer, tmp_path, {"Input": x})


def test_ordering_wl_examples_and_errors():
    assert OrderingLayer()([3.0, 1.0, 2.0]).tolist() == [2, 3, 1]
    assert OrderingLayer(-2)([3.0, 1.0, 2.0]).tolist() == [3, 1]     # Ordering[{3,1,2},-2]
    assert OrderingLayer(Input="Varying")([5.0, 4.0]).tolist() == [2, 1]
    with pytest.raises(LayerError, match="OrderingLayer: expected All or a nonzero integer"):
        OrderingLayer(0)
    with pytest.raises(ShapeError, match='port "Input" expects a vector of at least 4'):
        OrderingLayer(-4, Input=3)
    with pytest.raises(ShapeError, match='OrderingLayer: port "Input" expects a vector'):
        OrderingLayer(Input=(2, 2))


# -- ExtractLayer ------------------------------------------------------------------------------

def _extract_ref(x, pos):
    """WL's Extract on one example, by hand: 1-based, negative from the end."""
    pos = np.asarray(pos)
    out = np.empty(pos.shape[:-1] + x.shape[pos.shape[-1]:], x.dtype)
    for idx in np.ndindex(*pos.shape[:-1]):
        p = tuple(int(i) - 1 if i > 0 else x.shape[k] + int(i) for k, i in enumerate(pos[idx]))
        out[idx] = x[p]
    return out


@pytest.mark.parametrize("pshape", [(2,), (4, 1), (4, 2), (2, 3, 3)])
def test_extract_matches_extract(pshape, tmp_path):
    layer = ExtractLayer(Input=(3, 4, 2), Position=pshape)
    b, s = 4, pshape[-1]
    x = rand(b, 3, 4, 2)
    pos = np.stack([RNG.integers(1, n + 1, (b, *pshape[:-1])) * RNG.choice([-1, 1], (b,
                   *pshape[:-1])) for n in (3, 4, 2)[:s]], -1)
    out = batch_equals_single(layer, {"Input": x, "Position": pos})
    close(out, np.stack([_extract_ref(x[i], pos[i]) for i in range(b)]))
    if pshape == (4, 2):
        roundtrip(layer, tmp_path, {"Input": x, "Position": pos})
        onnx_matches(layer, tmp_path, {"Input": x, "Position": pos})


def test_extract_integer_position_and_errors():
    layer = ExtractLayer(Input=(3, 2), Position="Integer")
    assert layer({"Input": [[1, 2], [3, 4], [5, 6]], "Position": -1}).tolist() == [5, 6]
    net = NetGraph({"e": ExtractLayer()}, [], Input=("Varying", 2), Position=(2, 1))
    assert Information(net, "OutputPorts")["Output"] == (2, 2)
    with pytest.raises(ShapeError, match='ExtractLayer: port "Position" expects positions of '
                                         "at most 2 indices"):
        ExtractLayer(Input=(3, 2), Position=(1, 3))
    with pytest.raises(ShapeError, match='port "Position" expects integers'):
        ExtractLayer(Position=(2, "Real"))
    with pytest.raises(ShapeError, match='port "Input" expects an array of rank at least 1'):
        ExtractLayer(Input="Real", Position=(1,))


# -- ResizeLayer --------------------------------------------------------------------------------

def _linear_point(x, n):
    """Corner-aligned linear resampling of the last axis by hand (ArrayResample "Point")."""
    m = x.shape[-1]
    pos = np.arange(n) * (m - 1) / (n - 1)
    lo = np.floor(pos).astype(int).clip(0, m - 1)
    hi = (lo + 1).clip(0, m - 1)
    w = pos - lo
    return x[..., lo] * (1 - w) + x[..., hi] * w


def test_resize_linear_point_by_hand(tmp_path):
    layer = ResizeLayer([5, Scaled(1.5)], Input=(2, 3, 4))
    assert layer.out_types["Output"].spec() == (2, 5, 6)
    x = rand(3, 2, 3, 4)
    out = batch_equals_single(layer, {"Input": x})
    want = _linear_point(np.swapaxes(_linear_point(np.swapaxes(x, -1, -2), 5), -1, -2), 6)
    close(out, want)
    roundtrip(layer, tmp_path, {"Input": x})
    onnx_matches(layer, tmp_path, {"Input": x})


def test_resize_1d_bin_nearest_interleaving():
    x = rand(2, 3, 4)
    close(ResizeLayer([7], Input=(3, 4))(x), _linear_point(x, 7))
    binned = ResizeLayer([8], Scheme="Bin", Input=(3, 4))(x)
    close(binned, F.interpolate(torch.tensor(x), size=8, mode="linear", align_corners=False))
    near = ResizeLayer([Scaled(2), Scaled(3)], Resampling="Nearest", Input=(1, 2, 2))
    assert near([[[1, 2], [3, 4]]])[0].tolist() == [[1, 1, 1, 2, 2, 2]] * 2 + [[3, 3, 3, 4, 4,
                                                                                4]] * 2
    inter = ResizeLayer([All, 6], Interleaving=True, Input=(3, 4, 2))
    y = rand(2, 3, 4, 2)
    close(inter(y), np.moveaxis(ResizeLayer([All, 6], Input=(2, 3, 4))(np.moveaxis(y, -1, 1)),
                                1, -1))


def test_resize_errors():
    with pytest.raises(LayerError, match="ResizeLayer: specification should be a list of 1 or 2"):
        ResizeLayer(5)
    with pytest.raises(LayerError, match=r"should be \{Scaled\(n\), ...\}"):
        ResizeLayer([4], Resampling="Nearest")
    with pytest.raises(LayerError, match='expected Resampling to be "Linear" or "Nearest"'):
        ResizeLayer([4], Resampling="Cubic")
    with pytest.raises(ShapeError, match="output of size 1, which is not supported"):
        ResizeLayer([1], Input=(1, 3))
    with pytest.raises(ShapeError, match='ResizeLayer: port "Input" expects a c.h.w array'):
        ResizeLayer([2, 2], Input=(3, 4))


# -- SpatialTransformationLayer ---------------------------------------------------------------

def _bilinear_affine(img, theta, h, w):
    """Affine warp by hand: output pixel (i, j) at normalized (x, y) in [-1, 1] (corners) reads
    the input at theta . (x, y, 1), bilinearly, zero outside."""
    c, h0, w0 = img.shape
    out = np.zeros((c, h, w), np.float64)
    for i in range(h):
        for j in range(w):
            xs, ys = -1 + 2 * j / (w - 1), -1 + 2 * i / (h - 1)
            u, v = theta[0] @ (xs, ys, 1), theta[1] @ (xs, ys, 1)
            px, py = (u + 1) * (w0 - 1) / 2, (v + 1) * (h0 - 1) / 2
            x0, y0 = int(np.floor(px)), int(np.floor(py))
            for yy, xx, wt in ((y0, x0, (1 - (px - x0)) * (1 - (py - y0))),
                               (y0, x0 + 1, (px - x0) * (1 - (py - y0))),
                               (y0 + 1, x0, (1 - (px - x0)) * (py - y0)),
                               (y0 + 1, x0 + 1, (px - x0) * (py - y0))):
                if 0 <= yy < h0 and 0 <= xx < w0:
                    out[:, i, j] += wt * img[:, yy, xx]
    return out


def test_spatial_transformation_by_hand(tmp_path):
    layer = SpatialTransformationLayer([3, 4], Input=(2, 5, 6))
    x = rand(3, 2, 5, 6)
    p = np.array([[1, 0, 0, 0, 1, 0], [0.5, 0.1, 0.2, -0.1, 0.8, -0.3],
                  [1.2, 0, 0.5, 0, 1.2, 0.4]], np.float32)
    out = batch_equals_single(layer, {"Input": x, "Parameters": p})
    for k in range(3):
        close(out[k], _bilinear_affine(x[k], p[k].reshape(2, 3), 3, 4), 1e-4)
    roundtrip(layer, tmp_path, {"Input": x, "Parameters": p})
    onnx_matches(layer, tmp_path, {"Input": x, "Parameters": p}, opset=20)  # GridSample
    with pytest.raises(ShapeError, match='port "Parameters" expects a vector of size 6'):
        SpatialTransformationLayer([2, 2], Parameters=5)
    with pytest.raises(LayerError, match=r"expected the output size \{h, w\}"):
        SpatialTransformationLayer(3)


def test_spatial_transformation_localization_net_trains():
    loc = NetChain([FlattenLayer(), LinearLayer(6)])
    net = NetGraph({"loc": loc, "st": SpatialTransformationLayer([2, 2]), "out": FlattenLayer()},
                   [(NetPort("Input"), "loc", NetPort("st", "Parameters")),
                    (NetPort("Input"), NetPort("st", "Input")), ("st", "out")],
                   Input=(1, 3, 3))
    x = rand(16, 1, 3, 3)
    res = NetTrain(net, {"Input": x, "Output": x[:, 0, ::2, ::2].reshape(16, 4)},
                   MaxTrainingRounds=5, TrainingProgressReporting=None, ValidationSet=None,
                   LossFunction=MeanSquaredLossLayer())
    assert np.isfinite(NetExtract(res, ("loc", 2, "Weights"))).all()


# -- ImageAugmentationLayer ---------------------------------------------------------------------

def test_image_augmentation_center_crop_in_evaluation(tmp_path):
    layer = ImageAugmentationLayer([2, 3], ReflectionProbabilities=(1, 1), Input=(2, 5, 6))
    x = rand(4, 2, 5, 6)
    out = batch_equals_single(layer, {"Input": x})
    close(out, x[:, :, 1:3, 1:4])                    # floor((5-2)/2), floor((6-3)/2): no flips
    roundtrip(layer, tmp_path, {"Input": x})
    onnx_matches(layer, tmp_path, {"Input": x})


def test_image_augmentation_random_while_training():
    layer = ImageAugmentationLayer([2, 2], ReflectionProbabilities=(0, 1), Input=(1, 4, 4))
    m = lower(layer).train()
    x = torch.arange(16.0).reshape(1, 1, 4, 4).repeat(200, 1, 1, 1)
    torch.manual_seed(3)
    y = m.forward(x)["Output"]                                       # (200, 1, 2, 2)
    tops, lefts = [], []
    for crop in y[:, 0]:
        right, left = int(crop[0, 0]) % 4, int(crop[0, 1]) % 4
        assert right == left + 1                                     # always flipped (ph = 1)
        tops.append(int(crop[0, 0]) // 4)
        lefts.append(left)
        assert int(crop[1, 0]) == int(crop[0, 0]) + 4                # rows never flipped
    assert set(tops) == {0, 1, 2} and set(lefts) == {0, 1, 2}        # every offset occurs
    torch.manual_seed(3)
    assert torch.equal(m.forward(x)["Output"], y)                    # seeded by torch's RNG
    with pytest.raises(LayerError, match='expected "ReflectionProbabilities" to be two'):
        ImageAugmentationLayer([2, 2], ReflectionProbabilities=(2, 0))
    with pytest.raises(ShapeError, match="output dimensions must be smaller than the input"):
        ImageAugmentationLayer([5, 5], Input=(1, 4, 4))


# -- LocalResponseNormalizationLayer -------------------------------------------------------------

def test_local_response_normalization_formula(tmp_path):
    a, b, k, n = 0.7, 0.75, 2.0, 1
    layer = LocalResponseNormalizationLayer(Alpha=a, Beta=b, Bias=k, ChannelWindowSize=n,
                                            Input=(4, 2, 3))
    x = rand(3, 4, 2, 3)
    out = batch_equals_single(layer, {"Input": x})
    want = np.empty_like(x)
    for i in range(4):                      # WL: D = (a/(2n+1) sum_{window} T^2 + k)^b
        lo, hi = max(0, i - n), min(4, i + n + 1)
        d = (a / (2 * n + 1) * np.square(x[:, lo:hi]).sum(1) + k) ** b
        want[:, i] = x[:, i] / d
    close(out, want)
    roundtrip(layer, tmp_path, {"Input": x})
    onnx_matches(layer, tmp_path, {"Input": x})
    with pytest.raises(ShapeError, match="2 . channel window size . 1 cannot be larger"):
        LocalResponseNormalizationLayer(Input=(4, 2, 2))
    with pytest.raises(LayerError, match='expected "Beta" to be a finite number'):
        LocalResponseNormalizationLayer(Beta="x")


def test_image_augmentation_train_mode_at_evaluation_and_in_nettrain():
    aug = ImageAugmentationLayer([2, 2], ReflectionProbabilities=(0.5, 0.5), Input=(1, 4, 4))
    x = np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4).repeat(8, 0)
    a = aug(x, NetEvaluationMode="Train", RandomSeeding=3)
    assert np.array_equal(a, aug(x, NetEvaluationMode="Train", RandomSeeding=3))
    assert not np.array_equal(a, aug(x, NetEvaluationMode="Train", RandomSeeding=4))
    assert np.array_equal(aug(x), x[:, :, 1:3, 1:3])               # evaluation: center crop
    net = NetChain([aug, FlattenLayer(), LinearLayer(1)])
    data = {"Input": rand(16, 1, 4, 4), "Output": rand(16, 1)}

    def train(seed):
        return NetTrain(net, data, MaxTrainingRounds=2, RandomSeeding=seed, BatchSize=4,
                        TrainingProgressReporting=None)
    w1, w2 = (NetExtract(train(7), (3, "Weights")) for _ in range(2))
    np.testing.assert_array_equal(w1, w2)                           # seeded by RandomSeeding
    assert not np.array_equal(w1, NetExtract(train(8), (3, "Weights")))


@pytest.mark.parametrize("n", [All, 2, -2])
def test_ordering_onnx(n, tmp_path):
    layer = OrderingLayer(n, Input=6)
    onnx_matches(layer, tmp_path, {"Input": RNG.integers(0, 3, (4, 6)).astype(np.float32)})
