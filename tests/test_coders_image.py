"""The "Image" encoder and decoder against hand computations."""
import numpy as np
import pytest
from PIL import Image

from netgraph import CoderError, NetDecoder, NetEncoder, OptionError
from netgraph.shapes import PortType

RNG = np.random.default_rng(0)


def gray(h=3, w=4):
    return (RNG.random((h, w)) * 255).astype(np.uint8)


def rgb(h=3, w=4):
    return (RNG.random((h, w, 3)) * 255).astype(np.uint8)


def test_shape_and_scaling():
    enc = NetEncoder(["Image", [4, 3], "Grayscale"])  # [width, height]
    assert enc.port_type == PortType((1, 3, 4), "Real")
    a = gray()
    out = enc(Image.fromarray(a))
    assert out.dtype == np.float32 and out.shape == (1, 3, 4)
    np.testing.assert_allclose(out[0], a / 255, rtol=1e-6)
    np.testing.assert_allclose(enc(a), out)  # a numpy image is the same image
    assert NetEncoder(["Image", 5]).port_type == PortType((3, 5, 5), "Real")
    assert NetEncoder("Image").port_type == PortType((3, 128, 128), "Real")


def test_rgb_layouts():
    a = rgb()
    enc = NetEncoder(["Image", [4, 3]])
    np.testing.assert_allclose(enc(a), a.transpose(2, 0, 1) / 255, rtol=1e-6)
    inter = NetEncoder(["Image", [4, 3], {"Interleaving": True}])
    assert inter.port_type == PortType((3, 4, 3), "Real")
    np.testing.assert_allclose(inter(a), a / 255, rtol=1e-6)
    tr = NetEncoder(["Image", [4, 3], {"DataTransposed": True}])
    assert tr.port_type == PortType((3, 4, 3), "Real")  # (c, width, height)
    np.testing.assert_allclose(tr(a), a.transpose(2, 1, 0) / 255, rtol=1e-6)


def test_color_space_converted_as_pillow_converts():
    enc = NetEncoder(["Image", [4, 3], "Grayscale"])
    px = np.zeros((3, 4, 3), np.uint8)
    px[..., 0] = 200
    px[..., 1] = 100
    want = round(200 * 0.299 + 100 * 0.587) / 255  # ITU-R 601 luma, as ColorConvert
    np.testing.assert_allclose(enc(px), want, atol=1 / 255)
    to_rgb = NetEncoder(["Image", [4, 3], "RGB"])
    g = gray()
    np.testing.assert_allclose(to_rgb(Image.fromarray(g)), np.stack([g, g, g]) / 255, rtol=1e-6)
    rgba = np.concatenate([rgb(), np.full((3, 4, 1), 7, np.uint8)], -1)
    np.testing.assert_allclose(to_rgb(rgba), rgba[..., :3].transpose(2, 0, 1) / 255,
                               rtol=1e-6)  # alpha dropped
    cmyk = NetEncoder(["Image", [4, 3], "CMYK"])
    red = Image.new("RGB", (4, 3), (255, 0, 0))
    assert cmyk.port_type.dims == (4, 3, 4)
    np.testing.assert_allclose(cmyk(red)[:, 0, 0], [0, 1, 1, 0])


def test_resizing():
    box = NetEncoder(["Image", [2, 2], "Grayscale", {"Resampling": "Box"}])
    a = np.arange(16, dtype=np.uint8).reshape(4, 4) * 10
    want = a.reshape(2, 2, 2, 2).mean((1, 3)) / 255  # 2x2 block means
    np.testing.assert_allclose(box(a)[0], want, atol=1 / 255)
    flat = NetEncoder(["Image", [2, 2], "Grayscale"])(np.full((9, 7), 51, np.uint8))
    np.testing.assert_allclose(flat, 0.2, rtol=1e-6)  # a uniform image stays uniform


def test_fit_pads_and_fill_crops():
    wide = np.full((2, 4), 255, np.uint8)  # height 2, width 4
    fit = NetEncoder(["Image", [4, 4], "Grayscale", {"Method": "Fit"}])
    out = fit(wide)[0]
    assert out[0].tolist() == [0] * 4 and out[3].tolist() == [0] * 4  # black bars
    np.testing.assert_allclose(out[1:3], 1.0)
    white = NetEncoder(["Image", [4, 4], "Grayscale", {"Method": "Fit", "Padding": "White"}])
    assert white(np.zeros((2, 4), np.uint8))[0, 0].tolist() == [1.0] * 4
    fill = NetEncoder(["Image", [2, 2], "Grayscale", {"Method": "Fill", "Resampling": "Nearest"}])
    striped = np.array([[0, 50, 100, 150]] * 2, np.uint8)
    np.testing.assert_allclose(fill(striped)[0], np.array([[50, 100]] * 2) / 255)  # center
    left = NetEncoder(["Image", [2, 2], "Grayscale", {"Method": "Fill", "Resampling": "Nearest",
                                                      "Alignment": "Left"}])
    np.testing.assert_allclose(left(striped)[0], np.array([[0, 50]] * 2) / 255)


def test_mean_and_variance():
    a = rgb()
    plain = NetEncoder(["Image", [4, 3]])(a)
    enc = NetEncoder(["Image", [4, 3], {"MeanImage": [0.1, 0.2, 0.3], "VarianceImage": 4.0}])
    want = (plain - np.array([0.1, 0.2, 0.3])[:, None, None]) / 2.0
    np.testing.assert_allclose(enc(a), want, rtol=1e-5, atol=1e-6)
    m = NetEncoder(["Image", [4, 3], {"MeanImage": Image.fromarray(a)}])
    np.testing.assert_allclose(m(a), 0, atol=1e-6)
    assert m.params["MeanImage"].shape == (3, 3, 4)
    with pytest.raises(OptionError, match="MeanImage"):
        NetEncoder(["Image", [4, 3], {"MeanImage": [0.1, 0.2]}])


def test_float_arrays_are_pixels_in_0_1_and_encoded_arrays_pass():
    f = RNG.random((3, 4)).astype(np.float32)
    enc = NetEncoder(["Image", [4, 3], "Grayscale"])
    np.testing.assert_allclose(enc(f)[0], f, rtol=1e-6)  # no 8-bit rounding
    encoded = RNG.random((1, 3, 4)).astype(np.float32)
    assert np.array_equal(enc(encoded), encoded)  # the output shape: already encoded
    big = RNG.random((6, 8)).astype(np.float64)
    assert enc(big).shape == (1, 3, 4)


def test_files(tmp_path):
    a = rgb(5, 6)
    path = tmp_path / "x.png"
    Image.fromarray(a).save(path)
    enc = NetEncoder(["Image", [6, 5]])
    np.testing.assert_allclose(enc(str(path)), enc(a))
    np.testing.assert_allclose(enc(path), enc(a))  # a pathlib.Path too
    with pytest.raises(CoderError, match='the image file ".*missing.png" does not exist') as e:
        enc.encode([a, str(tmp_path / "missing.png")])
    assert e.value.index == 1 and e.value.path.endswith("missing.png")
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(CoderError, match='cannot read an image from the file ".*bad.png"'):
        enc(str(bad))


def test_batch_equals_one_at_a_time(tmp_path):
    enc = NetEncoder(["Image", [4, 3], "Grayscale", {"MeanImage": 0.5}])
    path = tmp_path / "y.png"
    Image.fromarray(rgb(7, 9)).save(path)
    items = [gray(), Image.fromarray(rgb(6, 5)), str(path), RNG.random((3, 4))]
    batch = enc.encode(items)
    assert batch.shape == (4, 1, 3, 4)
    for b, x in zip(batch, items, strict=True):
        np.testing.assert_allclose(b, enc(x), rtol=1e-6)
    same = [gray() for _ in range(3)]  # the all-uint8 fast path
    np.testing.assert_allclose(enc(same), np.stack([enc(x) for x in same]))


def test_batch_detection():
    enc = NetEncoder(["Image", [4, 3]])
    assert not enc.is_batch(rgb()) and not enc.is_batch(Image.fromarray(rgb()))
    assert enc.is_batch([rgb(), rgb()]) and enc.is_batch(np.stack([rgb(), rgb()]))
    assert not enc.is_batch("x.png") and not enc.is_batch(rgb().tolist())


def test_bad_images_and_specs():
    enc = NetEncoder(["Image", [4, 3]])
    with pytest.raises(CoderError, match="is neither an image nor an image file"):
        enc(3.5)
    with pytest.raises(CoderError, match="height x width"):
        enc(np.zeros((2, 2, 2, 2, 2)))
    with pytest.raises(OptionError, match='ColorSpace to be "Grayscale" or "RGB"'):
        NetEncoder(["Image", [4, 3], "LUV"])
    with pytest.raises(OptionError, match="the image size"):
        NetEncoder(["Image", [4, 0]])
    with pytest.raises(OptionError, match='Method to be "Stretch", "Fit" or "Fill"'):
        NetEncoder(["Image", 4, {"Method": "Crop"}])
    with pytest.raises(OptionError, match="Resampling"):
        NetEncoder(["Image", 4, {"Resampling": "Sinc"}])


def test_decoder_round_trip():
    a = rgb()
    enc = NetEncoder(["Image", [4, 3], {"MeanImage": [0.5, 0.4, 0.3], "VarianceImage": 0.2}])
    dec = NetDecoder(enc)
    im = dec(enc(a))
    assert isinstance(im, Image.Image) and im.mode == "RGB" and im.size == (4, 3)
    assert np.array_equal(np.asarray(im), a)
    ims = dec(enc([a, a[::-1]]))
    assert [np.asarray(i).tolist() for i in ims] == [a.tolist(), a[::-1].tolist()]
    assert NetEncoder(dec) == enc
    g = NetDecoder("Image")
    assert g(np.full((1, 2, 2), 0.5)).mode == "L"
    assert np.asarray(g(np.full((1, 2, 2), 2.0))).tolist() == [[255, 255], [255, 255]]  # clipped
    assert g(np.zeros((4, 2, 2))).mode == "RGBA"
    assert g.port_type == PortType((None, None, None), "Real")
    as_gray = NetDecoder(["Image", "Grayscale"])
    assert as_gray(np.ones((3, 2, 2))).mode == "L"  # other channels: color-converted
    assert g(np.zeros((3, 2, 2)), "Properties") == []


def test_image_json_round_trip():
    coders = [NetEncoder(["Image", [4, 3], "Grayscale", {"Method": "Fit", "Alignment": [0, 1]}]),
              NetEncoder(["Image", [4, 3], {"MeanImage": Image.fromarray(rgb())}]),
              NetDecoder(["Image", "RGB", {"MeanImage": [0.1, 0.2, 0.3]}])]
    for c in coders:
        assert type(c).from_json(c.to_json()) == c


def test_decoder_layouts_invert_the_encoder():
    a = rgb()
    for opts in ({"Interleaving": True}, {"DataTransposed": True},
                 {"Interleaving": True, "DataTransposed": True}):
        enc = NetEncoder(["Image", [4, 3], opts])
        assert np.array_equal(np.asarray(NetDecoder(enc)(enc(a))), a), opts
    cmyk = NetEncoder(["Image", [4, 3], "CMYK"])
    im = NetDecoder(cmyk)(cmyk(Image.new("RGB", (4, 3), (255, 0, 0))))
    assert im.mode == "CMYK" and im.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
