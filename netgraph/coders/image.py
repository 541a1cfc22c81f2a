"""The "Image" encoder and decoder: Pillow images, numpy arrays and image files <-> arrays.

The encoder follows WL's pipeline: load (Pillow decodes the file), convert to the encoder's
color space, resize to its size (``Method``: "Stretch", "Fit" or "Fill"), scale pixels to
0..1, subtract "MeanImage" and divide by the square root of "VarianceImage", and lay the
channels out as ``(channels, height, width)`` (``Interleaving`` -> True: channels last;
``"DataTransposed"`` -> True: width before height). An image of another size or color space
is converted, never refused.
"""
from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..shapes import PortType
from ..symbols import Automatic
from .base import CoderError, is_number, show
from .values import NetDecoder, NetEncoder

# WL color space -> (Pillow mode, channels)
SPACES = {"Grayscale": ("L", 1), "RGB": ("RGB", 3), "CMYK": ("CMYK", 4), "HSB": ("HSV", 3)}
RESAMPLING = {"Nearest": Image.Resampling.NEAREST, "Bilinear": Image.Resampling.BILINEAR,
              "Linear": Image.Resampling.BILINEAR, "Bicubic": Image.Resampling.BICUBIC,
              "Cubic": Image.Resampling.BICUBIC, "Lanczos": Image.Resampling.LANCZOS,
              "Box": Image.Resampling.BOX, "Hamming": Image.Resampling.HAMMING}
ALIGN = {"Center": (0.5, 0.5), "Left": (0.0, 0.5), "Right": (1.0, 0.5), "Top": (0.5, 0.0),
         "Bottom": (0.5, 1.0)}
_IMAGE_FORMS = ("a Pillow image, a numpy array (height x width, or height x width x "
                "channels) or an image file path")


def _size(cls: Any, size: Any) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool) and size >= 1:
        return (size, size)
    if isinstance(size, (list, tuple)) and len(size) == 2 and all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in size):
        return (size[0], size[1])
    raise cls.bad("the image size", "a positive integer or [width, height]", size)


def _space(cls: Any, space: Any, automatic_ok: bool = False) -> Any:
    if automatic_ok and space is Automatic:
        return space
    if space not in SPACES:
        raise cls.bad("ColorSpace", " or ".join(show(s) for s in SPACES), space)
    return space


def _stat(cls: Any, name: str, v: Any, channels: int | None) -> Any:
    """"MeanImage"/"VarianceImage": None, a number, one number per channel, or an image."""
    if v is None:
        return None
    if is_number(v):
        return float(v)
    if isinstance(v, Image.Image):
        return v  # turned into an array once the size and color space are known
    a = np.asarray(v, dtype=np.float32) if not isinstance(v, str) else None
    if a is not None and a.ndim == 1 and (channels is None or len(a) == channels):
        return tuple(float(x) for x in a)
    if a is not None and a.ndim == 3:
        a = a.copy()
        a.flags.writeable = False
        return a
    raise cls.bad(f'"{name}"', f"None, a number, a list of {channels or 'n'} numbers (one "
                  "per channel) or an image", v)


def _flags(cls: Any, p: dict[str, Any]) -> None:
    for k in ("Interleaving", "DataTransposed"):
        if not isinstance(p[k], bool):
            raise cls.bad(f'"{k}"', "True or False", p[k])


class _Params:
    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def channels(self) -> int | None:
        return ImageCoder.channels(self)  # type: ignore[arg-type]


class ImageCoder:
    """What the "Image" encoder and decoder share: layout of (height, width, channels) data."""

    params: Any

    def channels(self) -> int | None:
        space = self.params["ColorSpace"]
        return None if space is Automatic else SPACES[space][1]

    def layout(self, hwc: np.ndarray) -> np.ndarray:
        """(batch, h, w, c) -> the output layout."""
        if self.params["DataTransposed"]:
            hwc = hwc.transpose(0, 2, 1, 3)
        return hwc if self.params["Interleaving"] else hwc.transpose(0, 3, 1, 2)

    def unlayout(self, arr: np.ndarray) -> np.ndarray:
        """The output layout (batch, ...) -> (batch, h, w, c)."""
        hwc = arr if self.params["Interleaving"] else arr.transpose(0, 2, 3, 1)
        return hwc.transpose(0, 2, 1, 3) if self.params["DataTransposed"] else hwc

    def dims(self, h: Any, w: Any) -> tuple[Any, ...]:
        c = self.channels()
        a, b = (w, h) if self.params["DataTransposed"] else (h, w)
        return (a, b, c) if self.params["Interleaving"] else (c, a, b)

    def stat_hwc(self, v: Any, h: int, w: int) -> Any:
        """A "MeanImage"/"VarianceImage" value as something (h, w, c) broadcasts with."""
        if v is None or isinstance(v, float):
            return v
        if isinstance(v, tuple):
            return np.asarray(v, np.float32)
        if isinstance(v, Image.Image):
            return None
        return self.unlayout(np.asarray(v, np.float32)[None])[0]


class ImageEncoder(ImageCoder, NetEncoder, kind="Image"):
    """``["Image", size]``, ``["Image", [width, height], color_space]``, options
    ``ColorSpace``, ``Interleaving``, ``"DataTransposed"``, ``"MeanImage"``,
    ``"VarianceImage"``, ``Method``, ``Resampling``, ``Alignment``, ``Padding``."""

    PARAMS: ClassVar[dict[str, Any]] = {
        "ImageSize": (128, 128), "ColorSpace": "RGB", "Interleaving": False,
        "DataTransposed": False, "MeanImage": None, "VarianceImage": None,
        "Method": "Stretch", "Resampling": Automatic, "Alignment": "Center", "Padding": "Black"}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("ImageSize", "ColorSpace")

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["ImageSize"] = _size(cls, p["ImageSize"])
        if p["ColorSpace"] is Automatic:
            p["ColorSpace"] = "RGB"  # as WL: an unspecified color space becomes RGB
        p["ColorSpace"] = _space(cls, p["ColorSpace"])
        _flags(cls, p)
        if p["Method"] not in ("Stretch", "Fit", "Fill"):
            raise cls.bad("Method", '"Stretch", "Fit" or "Fill"', p["Method"])
        if p["Resampling"] is not Automatic and p["Resampling"] not in RESAMPLING:
            raise cls.bad("Resampling", "Automatic or one of " + ", ".join(
                show(r) for r in RESAMPLING), p["Resampling"])
        _alignment(cls, p["Alignment"])
        _padding(cls, p["Padding"], "L")
        c = SPACES[p["ColorSpace"]][1]
        for k in ("MeanImage", "VarianceImage"):
            p[k] = _stat(cls, k, p[k], c)
            if isinstance(p[k], Image.Image):  # stored as its array, in the output layout
                probe = object.__new__(cls)
                object.__setattr__(probe, "params", {**p, "MeanImage": None,
                                                     "VarianceImage": None})
                p[k] = probe._encode([p[k]])[0]
                p[k].flags.writeable = False
            want = PortType(ImageCoder.dims(_Params(p), p["ImageSize"][1],  # type: ignore
                                            p["ImageSize"][0]))
            if isinstance(p[k], np.ndarray) and p[k].shape != want.fixed_shape():
                raise cls.bad(f'"{k}"', f"an image or an array of the encoded dimensions "
                              f"{list(want.fixed_shape())}", f"an array of dimensions "
                              f"{list(p[k].shape)}")
        return p

    @property
    def port_type(self) -> PortType:
        w, h = self.params["ImageSize"]
        return PortType(self.dims(h, w), "Real")

    def is_batch(self, x: Any) -> bool:
        if isinstance(x, (list, tuple)):
            return not _is_pixel_rows(x)
        if isinstance(x, np.ndarray):
            if x.ndim == 4:
                return True
            return x.ndim == 3 and x.shape[-1] not in (1, 2, 3, 4) and \
                x.shape != self.port_type.fixed_shape()
        return False

    # -- encoding ---------------------------------------------------------------------------
    def _encode(self, items: list[Any]) -> np.ndarray:
        w, h = self.params["ImageSize"]
        c = self.channels() or 1
        out = np.empty((len(items), h, w, c), np.float32)
        bypass: dict[int, np.ndarray] = {}
        fast = _same_uint8(items, (h, w, c))
        for i, x in enumerate(() if fast is not None else items):
            encoded = self._encoded(x)
            if encoded is not None:
                bypass[i] = encoded
                continue
            px = self._pixels(x, i)  # (h, w, c), uint8 or float in 0..1
            out[i] = px * np.float32(1 / 255) if px.dtype == np.uint8 else px
        if fast is not None:  # pixels of the right size and channels already: no Pillow
            np.multiply(fast, np.float32(1 / 255), out=out)
        out = self._normalize_stats(out)
        out = self.layout(out)
        for i, a in bypass.items():
            out[i] = a
        return np.ascontiguousarray(out)

    def _encoded(self, x: Any) -> np.ndarray | None:
        """``x`` itself when it is already an encoded example (a real array of the output
        shape), as WL bypasses the encoder."""
        if isinstance(x, np.ndarray) and x.dtype.kind == "f" and \
                x.shape == self.port_type.fixed_shape():
            return x.astype(np.float32)
        return None

    def _normalize_stats(self, hwc: np.ndarray) -> np.ndarray:
        w, h = self.params["ImageSize"]
        mean = self.stat_hwc(self.params["MeanImage"], h, w)
        var = self.stat_hwc(self.params["VarianceImage"], h, w)
        if mean is not None:
            hwc -= np.float32(mean) if isinstance(mean, float) else mean
        if var is not None:
            hwc /= np.sqrt(np.float32(var) if isinstance(var, float) else var)
        return hwc

    def _pixels(self, x: Any, index: int) -> np.ndarray:
        """One input -> (h, w, c) pixels of the encoder's size and color space."""
        if isinstance(x, (str, os.PathLike)):
            x = _load(self.side, os.fspath(x), index)
        if isinstance(x, (list, tuple)) and _is_pixel_rows(x):
            x = np.asarray(x)
        if isinstance(x, np.ndarray):
            x = _array_image(self.side, x, index)
            if isinstance(x, np.ndarray):
                return self._convert_float(x)
        if not isinstance(x, Image.Image):
            raise CoderError(self.side, f"{show(x)} is neither an image nor an image file; "
                             f"expected {_IMAGE_FORMS}.", index=index)
        return self._to_pixels(x)

    def _to_pixels(self, im: Image.Image) -> np.ndarray:
        mode = SPACES[self.params["ColorSpace"]][0]
        if im.mode in ("F", "I", "I;16", "I;16B", "I;16L", "I;16N"):
            return self._convert_float(_float_pixels(im))
        if im.mode != mode:
            im = im.convert("RGB").convert(mode) if im.mode in ("P", "1", "LA", "PA") and \
                mode != "L" else im.convert(mode)
        im = self._resize(im, _padding(type(self), self.params["Padding"], mode))
        a = np.asarray(im, dtype=np.uint8)
        return a[:, :, None] if a.ndim == 2 else a

    def _convert_float(self, a: np.ndarray) -> np.ndarray:
        """Float pixels (h, w, c) in 0..1: converted in float where the color space allows."""
        c = self.channels()
        if a.shape[2] != c:
            if c == 1 and a.shape[2] in (3, 4):
                a = a[:, :, :3] @ np.asarray([[0.299], [0.587], [0.114]], np.float32)
            elif c == 3 and self.params["ColorSpace"] == "RGB" and a.shape[2] in (1, 2, 4):
                a = np.repeat(a[:, :, :1], 3, 2) if a.shape[2] < 3 else a[:, :, :3]
            else:
                return self._to_pixels(_to_pil(a))
        pad = _padding(type(self), self.params["Padding"], "F")
        chans = [np.asarray(self._resize(Image.fromarray(np.ascontiguousarray(a[:, :, k]),
                                                         "F"), pad), np.float32)
                 for k in range(a.shape[2])]
        return np.stack(chans, -1)

    def _resize(self, im: Image.Image, pad: Any) -> Image.Image:
        size = tuple(self.params["ImageSize"])
        if im.size == size:
            return im
        r = self.params["Resampling"]
        method = Image.Resampling.BICUBIC if r is Automatic else RESAMPLING[r]
        centering = _alignment(type(self), self.params["Alignment"])
        if self.params["Method"] == "Fit":
            return ImageOps.pad(im, size, method, color=pad, centering=centering)
        if self.params["Method"] == "Fill":
            return ImageOps.fit(im, size, method, centering=centering)
        return im.resize(size, method)

    def counterpart_params(self) -> dict[str, Any]:
        return {k: self.params[k] for k in ("ImageSize", "ColorSpace", "Interleaving",
                                            "DataTransposed", "MeanImage", "VarianceImage")}


def _same_uint8(items: list[Any], hwc: tuple[int, int, int]) -> np.ndarray | None:
    """The batch as one uint8 array (n, h, w, c) when every item is such an image array."""
    want = (hwc, hwc[:2]) if hwc[2] == 1 else (hwc,)
    if not items or not all(isinstance(x, np.ndarray) and x.dtype == np.uint8
                            and x.shape in want for x in items):
        return None
    return np.stack(items).reshape(len(items), *hwc)


def _is_pixel_rows(x: Any) -> bool:
    """Is a Python list a nested list of pixel values (one image), not a list of images?"""
    return bool(x) and isinstance(x[0], (list, tuple)) and bool(x[0]) and (
        is_number(x[0][0]) or (isinstance(x[0][0], (list, tuple)) and bool(x[0][0])
                               and is_number(x[0][0][0])))


def _load(side: str, path: str, index: int) -> Image.Image:
    if not os.path.exists(path):
        raise CoderError(side, f"the image file {show(path)} does not exist.", index=index,
                         path=path)
    try:
        with Image.open(path) as im:
            im.load()
            return im.copy()
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise CoderError(side, f"cannot read an image from the file {show(path)} ({e}).",
                         index=index, path=path) from None


def _array_image(side: str, a: np.ndarray, index: int) -> Any:
    """A numpy image (h, w) or (h, w, c): uint8 -> a Pillow image, else float pixels (h, w, c)
    in 0..1 (integers scaled from 0..255, or 0..65535 when larger)."""
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 2, 3, 4) or a.dtype.kind not in "biuf":
        raise CoderError(side, f"an image array must be height x width or height x width x "
                         f"channels (1 to 4) of numbers, but received an array of dimensions "
                         f"{list(a.shape)} of {a.dtype}.", index=index)
    if a.dtype == np.uint8:
        return Image.fromarray(a[:, :, 0] if a.shape[2] == 1 else a,
                               {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[a.shape[2]])
    scale = 65535.0 if a.dtype in (np.uint16, np.int32) and a.max(initial=0) > 255 else (
        255.0 if a.dtype.kind in "iu" else 1.0)
    return a.astype(np.float32) / np.float32(scale)


def _float_pixels(im: Image.Image) -> np.ndarray:
    a = np.asarray(im, dtype=np.float32)
    scale = 1.0 if im.mode == "F" else (65535.0 if a.max(initial=0) > 255 else 255.0)
    return (a / np.float32(scale))[:, :, None]


def _to_pil(a: np.ndarray) -> Image.Image:
    u = np.clip(np.rint(a * 255), 0, 255).astype(np.uint8)
    return Image.fromarray(u[:, :, 0] if u.shape[2] == 1 else u,
                           {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[u.shape[2]])


def _alignment(cls: Any, a: Any) -> tuple[float, float]:
    if isinstance(a, str) and a in ALIGN:
        return ALIGN[a]
    if isinstance(a, (list, tuple)) and len(a) == 2 and all(is_number(v) and -1 <= v <= 1
                                                            for v in a):
        return ((a[0] + 1) / 2, (1 - a[1]) / 2)
    raise cls.bad("Alignment", '"Center", "Left", "Right", "Top", "Bottom" or [x, y] in '
                  "-1..1", a)


def _padding(cls: Any, pad: Any, mode: str) -> Any:
    """The Pillow fill colour of ``pad`` ("Black", "White" or a gray level g in 0..1)."""
    g: Any = {"Black": 0.0, "White": 1.0}.get(pad) if isinstance(pad, str) else pad
    if not is_number(g) or not 0 <= g <= 1:
        raise cls.bad("Padding", '"Black", "White" or a gray level between 0 and 1', pad)
    if mode == "F":
        return float(g)
    v = round(g * 255)
    return Image.new("RGB", (1, 1), (v, v, v)).convert(mode).getpixel((0, 0))


class ImageDecoder(ImageCoder, NetDecoder, kind="Image"):
    """``"Image"``: an array (channels, height, width) of values in 0..1 -> a Pillow image.

    "MeanImage" is added back and the values multiplied by the square root of
    "VarianceImage", undoing the encoder. ColorSpace Automatic takes it from the channels
    (1: "Grayscale", 3: "RGB", 4: RGB with alpha).
    """

    PARAMS: ClassVar[dict[str, Any]] = {
        "ColorSpace": Automatic, "Interleaving": False, "DataTransposed": False,
        "MeanImage": None, "VarianceImage": None, "ImageSize": Automatic}
    POSITIONAL: ClassVar[tuple[str, ...]] = ("ColorSpace",)

    @classmethod
    def _normalize(cls, p: dict[str, Any]) -> dict[str, Any]:
        p["ColorSpace"] = _space(cls, p["ColorSpace"], automatic_ok=True)
        _flags(cls, p)
        if p["ImageSize"] is not Automatic:
            p["ImageSize"] = _size(cls, p["ImageSize"])
        c = SPACES[p["ColorSpace"]][1] if p["ColorSpace"] is not Automatic else 0
        for k in ("MeanImage", "VarianceImage"):
            if isinstance(p[k], Image.Image):
                raise cls.bad(f'"{k}"', "None, a number, a list of numbers or an array "
                              "(an image given to the encoder is stored as its array)", p[k])
            p[k] = _stat(cls, k, p[k], c or None)
        return p

    @property
    def port_type(self) -> PortType:
        size = self.params["ImageSize"]
        w, h = (None, None) if size is Automatic else size
        return PortType(self.dims(h, w), "Real")

    def _decode(self, batch: Any, name: str, arg: Any) -> list[Any]:
        if isinstance(batch, list):
            return [self._decode(np.asarray(a, np.float32)[None], name, arg)[0] for a in batch]
        hwc = self.unlayout(self.numeric(batch).astype(np.float32))  # (batch, h, w, c)
        h, w = hwc.shape[1:3]
        var = self.stat_hwc(self.params["VarianceImage"], h, w)
        mean = self.stat_hwc(self.params["MeanImage"], h, w)
        if var is not None:
            hwc = hwc * np.sqrt(np.float32(var) if isinstance(var, float) else var)
        if mean is not None:
            hwc = hwc + (np.float32(mean) if isinstance(mean, float) else mean)
        u8 = np.clip(np.rint(hwc * 255), 0, 255).astype(np.uint8)
        return [self._image(a) for a in u8]

    def _image(self, a: np.ndarray) -> Image.Image:
        c = a.shape[2]
        space = self.params["ColorSpace"]
        built = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}.get(c)
        if space is not Automatic and SPACES[space][1] == c:
            built = SPACES[space][0]
        if built is None:
            raise CoderError(self.side, f"{self!r} expects 1 to 4 channels, but received {c}.")
        im = Image.fromarray(a[:, :, 0] if c == 1 else a, built)
        if space is not Automatic and im.mode != SPACES[space][0]:
            im = im.convert(SPACES[space][0])  # channels of another color space: converted
        return im

    def counterpart_params(self) -> dict[str, Any]:
        if self.params["ImageSize"] is Automatic:
            raise CoderError("NetEncoder", f"{self!r} has no image size to encode to; give "
                             '"ImageSize".')
        return {k: self.params[k] for k in ("ImageSize", "ColorSpace", "Interleaving",
                                            "DataTransposed", "MeanImage", "VarianceImage")}
