"""Convolution and pooling layers: ConvolutionLayer, DeconvolutionLayer, PoolingLayer.

One example is channel-first, ``(c, d1, ..., dk)`` for k = 1, 2 or 3 spatial dimensions
(channel-last with ``Interleaving=True``). Kernel, "Stride", "Dilation" and "PaddingSize"
take an int (every dimension) or one value per dimension; "PaddingSize" also takes
``((b1, e1), ...)`` (before/after) and "Same". Spatial sizes may be "Varying".
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import LayerError
from ..shapes import VARYING, Dim, PortType
from ..symbols import Max, Mean, Symbol, Total
from .base import ArraySpec, Layer, PortMismatch, Types

Spec = Any  # an int or a tuple with one entry per spatial dimension


def _is_int(v: Any, lo: int) -> bool:
    return bool(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= lo)


def size_list(head: str, name: str, v: Any, lo: int = 1) -> Spec:
    """An int >= lo, or a tuple of them (one per dimension)."""
    if _is_int(v, lo):
        return int(v)
    if isinstance(v, (list, tuple)) and v and all(_is_int(x, lo) for x in v):
        return tuple(int(x) for x in v)
    kind = "positive" if lo >= 1 else "nonnegative"
    raise LayerError(head, f"expected {name} to be a {kind} integer or a list of them (one per "
                     f"spatial dimension), but received {v!r}.")


def padding_spec(head: str, v: Any) -> Spec:
    """n, (n1, n2, ...), ((b1, e1), (b2, e2), ...) or "Same"."""
    if v == "Same":
        return "Same"
    if isinstance(v, (list, tuple)) and v and all(isinstance(p, (list, tuple)) for p in v):
        if all(len(p) == 2 and all(_is_int(x, 0) for x in p) for p in v):
            return tuple((int(a), int(b)) for a, b in v)
    elif isinstance(v, (list, tuple)) or _is_int(v, 0):
        return size_list(head, "PaddingSize", v, 0)
    raise LayerError(head, f'expected PaddingSize to be n, (n1, n2, ...), ((b1, e1), ...) or '
                     f'"Same", but received {v!r}.')


def _unchanged(head: str, name: str, given: Any, normal: Any) -> None:
    if given != normal or type(given) is not type(normal):
        raise LayerError(head, f"expected {name} in its normal form {normal!r}, but received "
                         f"{given!r}.")


def per_dim(v: Spec, d: int) -> tuple:
    return tuple(v) if isinstance(v, tuple) else (v,) * d


def _spec_rank(v: Spec) -> int | None:
    return len(v) if isinstance(v, tuple) else None


class SpatialLayer(Layer):
    """Shared parameters and shape logic of the convolution and pooling layers."""

    time = "whole"  # a kernel spans several steps

    options: ClassVar[tuple[str, ...]] = ("Stride", "Dilation", "PaddingSize",
                                          "Dimensionality", "Interleaving")
    max_rank = 3

    def _spatial_params(self, kernel: Any, opts: dict[str, Any], extra_ranks: tuple = ()
                        ) -> dict[str, Any]:
        head = self.head
        p = {"kernel": size_list(head, "the kernel size", kernel),
             "stride": size_list(head, "Stride", opts.pop("Stride", 1)),
             "dilation": size_list(head, "Dilation", opts.pop("Dilation", 1)
                                   if "Dilation" in self.options else 1),
             "padding": padding_spec(head, opts.pop("PaddingSize", 0))}
        inter = opts.pop("Interleaving", False)
        if not isinstance(inter, bool):
            raise LayerError(head, f"expected Interleaving to be True or False, but received "
                             f"{inter!r}.")
        p["interleaving"] = inter
        p["dim"] = self._dimensionality(p, opts.pop("Dimensionality", None), extra_ranks)
        return p

    @classmethod
    def check_params(cls, params: Any) -> None:
        """The geometry as :meth:`_spatial_params` stores it (normalized: checking it again
        gives it back unchanged), for Import; the constructors call it too."""
        head = cls.__name__
        for key, name in (("kernel", "the kernel size"), ("stride", "Stride"),
                          ("dilation", "Dilation")):
            _unchanged(head, name, params[key], size_list(head, name, params[key]))
        _unchanged(head, "PaddingSize", params["padding"], padding_spec(head, params["padding"]))
        if not isinstance(params["interleaving"], bool):
            raise LayerError(head, f"expected Interleaving to be True or False, but received "
                             f"{params['interleaving']!r}.")
        dim = params["dim"]
        _unchanged(head, "Dimensionality", dim, cls.__new__(cls)._dimensionality(
            dict(params), dim, ()))

    def _dimensionality(self, p: dict[str, Any], option: Any, extra: tuple) -> int | None:
        from ..symbols import Automatic
        ranks = {k: r for k in ("kernel", "stride", "dilation", "padding")
                 if (r := _spec_rank(p[k])) is not None}
        ranks.update({k: r for k, r in extra if r is not None})
        if option is not None and option is not Automatic:
            if not _is_int(option, 1):
                raise LayerError(self.head, f"expected Dimensionality to be a positive integer, "
                                 f"but received {option!r}.")
            ranks["Dimensionality"] = int(option)
        if len(set(ranks.values())) > 1:
            raise LayerError(self.head, "expected the kernel, Stride, Dilation, PaddingSize and "
                             "Dimensionality to agree on the number of spatial dimensions, but "
                             "received " + ", ".join(f"{k} {r}" for k, r in ranks.items()) + ".")
        d = next(iter(ranks.values()), None)
        if d is not None and d > self.max_rank:
            raise LayerError(self.head, f"expected 1 to {self.max_rank} spatial dimensions, but "
                             f"received {d}.")
        return d

    # -- shapes -----------------------------------------------------------------
    def rank(self, x: PortType, y: PortType) -> int | None:
        """The number of spatial dimensions, from the parameters or a known port rank."""
        d = self.params["dim"]
        for port, t in (("Input", x), ("Output", y)):
            if t.dims is None:
                continue
            r = len(t.dims) - 1
            if d is None and 1 <= r <= self.max_rank:
                d = r
            if r != d:
                want = f"{d} spatial dimension{'s' if d != 1 else ''}" if d else \
                    f"1 to {self.max_rank} spatial dimensions"
                raise PortMismatch(port, f"an array of channels and {want}", t.describe())
        return d

    def split(self, t: PortType, d: int) -> tuple[Dim, list[Dim]]:
        """(channels, spatial sizes) of a port type with d spatial dimensions."""
        dims: list[Dim] = list(t.dims) if t.dims is not None else [None] * (d + 1)
        if self.params["interleaving"]:
            return dims[-1], dims[:-1]
        return dims[0], dims[1:]

    def join(self, c: Dim, spatial: list[Dim]) -> PortType:
        dims = spatial + [c] if self.params["interleaving"] else [c] + spatial
        return PortType(tuple(dims), "Real")

    def pads(self, d: int, sizes: list[Dim] | None = None) -> list[tuple[int, int]] | None:
        """(before, after) padding per dimension; None for "Same" with unknown sizes."""
        pad = self.params["padding"]
        if pad != "Same":
            return [p if isinstance(p, tuple) else (p, p) for p in per_dim(pad, d)]
        if sizes is None or not all(isinstance(s, int) for s in sizes):
            return None
        return [same_padding(s, k, st, dl) for s, k, st, dl in  # type: ignore[arg-type]
                zip(sizes, *self.geometry(d), strict=True)]

    def geometry(self, d: int) -> tuple[tuple, tuple, tuple]:
        """(kernel, stride, dilation) per spatial dimension."""
        return (per_dim(self.params["kernel"], d), per_dim(self.params["stride"], d),
                per_dim(self.params.get("dilation", 1), d))

    def infer(self, ins: Types, outs: Types) -> tuple[Types, Types]:
        x, y = ins.get("Input", PortType()), outs.get("Output", PortType())
        d = self.rank(x, y)
        if d is None:
            return {"Input": PortType(None, "Real")}, {"Output": PortType(None, "Real")}
        (cx, sx), (cy, sy) = self.split(x, d), self.split(y, d)
        cin, cout = self.channels(cx, cy, x)
        sout = [self.forward_size(i, s, d, x) for i, s in enumerate(sx)]
        sin = [self.backward_size(i, s, d) for i, s in enumerate(sy)]
        return {"Input": self.join(cin, sin)}, {"Output": self.join(cout, sout)}

    def channels(self, cx: Dim, cy: Dim, x: PortType) -> tuple[Dim, Dim]:
        """(input channels, output channels) given what the ports know."""
        return (cx if cx is not None else cy), (cy if cy is not None else cx)

    def forward_size(self, i: int, s: Dim, d: int, x: PortType) -> Dim:
        """Output size of spatial dimension i for input size s (a convolution's)."""
        if not isinstance(s, int):
            return s
        k, st, dl = (g[i] for g in self.geometry(d))
        if self.params["padding"] == "Same":
            return -(-s // st)
        b, e = self.pads(d)[i]  # type: ignore[index]
        out = (s + b + e - dl * (k - 1) - 1) // st + 1
        if out < 1:
            raise PortMismatch("Input", f"spatial dimensions of at least the (dilated) kernel "
                               f"size {list(self._span(d))} after padding", x.describe())
        return out

    def backward_size(self, i: int, s: Dim, d: int) -> Dim:
        """Input size of spatial dimension i from output size s, when it is unique."""
        k, st, dl = (g[i] for g in self.geometry(d))
        if not isinstance(s, int) or st != 1:
            return s if s is VARYING else None
        if self.params["padding"] == "Same":
            return s
        b, e = self.pads(d)[i]  # type: ignore[index]
        return s - b - e + dl * (k - 1)

    def _span(self, d: int) -> tuple[int, ...]:
        k, _, dl = self.geometry(d)
        return tuple(dli * (ki - 1) + 1 for ki, dli in zip(k, dl, strict=True))

    def _geometry_repr(self) -> list[str]:
        p, out = self.params, []
        for name, key, default in (("Stride", "stride", 1), ("Dilation", "dilation", 1),
                                   ("PaddingSize", "padding", 0)):
            if key in p and p[key] != default:
                out.append(f"{name}={_wl_repr(p[key])}")
        if p["interleaving"]:
            out.append("Interleaving=True")
        return out


def _wl_repr(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else repr(v)


def same_padding(size: int, k: int, stride: int, dilation: int) -> tuple[int, int]:
    """Padding that makes a convolution's output size ceil(size / stride)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


class ConvolutionLayer(SpatialLayer):
    """ConvolutionLayer(n, kernel): a trainable convolution with n output channels.

    kernel is an int (its dimensionality then comes from the input) or ``(w,)``, ``(h, w)``,
    ``(h, w, d)``. Options "Stride", "Dilation", "PaddingSize", "ChannelGroups",
    "Dimensionality", "Interleaving", "Weights" (n x c/groups x kernel) and "Biases" (n;
    None for no biases). The input channel count is inferred from the input or the weights.

    >>> conv = ConvolutionLayer(4, (3, 3), Input=(2, 8, 8))
    >>> Information(conv, "OutputPorts")["Output"], conv.array_specs()["Weights"].shape
    ((4, 6, 6), (4, 2, 3, 3))
    """

    options = SpatialLayer.options + ("ChannelGroups", "Weights", "Biases")

    def __init__(self, n: int, kernel: Any, **opts: Any) -> None:
        if not _is_int(n, 1):
            raise LayerError(self.head, f"expected the number of output channels n to be a "
                             f"positive integer, but received {n!r}.")
        groups = opts.pop("ChannelGroups", 1)
        if not _is_int(groups, 1):
            raise LayerError(self.head, f"expected ChannelGroups to be a positive integer, but "
                             f"received {groups!r}.")
        if n % groups:
            raise LayerError(self.head, f"expected n ({n}) to be a multiple of ChannelGroups "
                             f"({groups}).")
        arrays = {k: opts.pop(k) for k in ("Weights", "Biases") if k in opts}
        w = None if arrays.get("Weights") is None else np.shape(arrays["Weights"])
        params = self._spatial_params(kernel, opts, (("Weights", None if w is None
                                                      else len(w) - 2),))
        params.update(n=int(n), groups=int(groups), biases=arrays.get("Biases", 0) is not None,
                      in_channels=self._weights_channels(int(n), int(groups), params, w))
        self._check_biases(int(n), arrays.get("Biases"))
        self._init(params, opts, {k: v for k, v in arrays.items() if v is not None})

    @classmethod
    def check_params(cls, params: Any) -> None:
        super().check_params(params)
        n, g, c = params["n"], params["groups"], params["in_channels"]
        if not (_is_int(n, 1) and _is_int(g, 1) and n % g == 0):
            raise LayerError(cls.__name__, f"expected n and ChannelGroups to be positive "
                             f"integers, n a multiple of ChannelGroups, but received {n!r} and "
                             f"{g!r}.")
        if not isinstance(params["biases"], bool) or not (
                c is None or _is_int(c, 1) and c % g == 0):
            raise LayerError(cls.__name__, f"expected a known input channel count divisible "
                             f"by ChannelGroups and biases True or False, but received {c!r} "
                             f"and {params['biases']!r}.")

    def _weights_channels(self, n: int, g: int, p: dict, w: tuple | None) -> int | None:
        """Input channels implied by given weights (n x c/g x kernel); checks the rest."""
        if w is None:
            return None
        d = len(w) - 2
        want = (n, None, *per_dim(p["kernel"], d))
        if d < 1 or any(a is not None and a != b for a, b in zip(want, w, strict=True)):
            shown = ", ".join("c/g" if a is None else str(a) for a in want)
            raise LayerError(self.head, f'expected "Weights" of dimensions {{{shown}}}, but '
                             f"received an array of dimensions {list(w)}.")
        return w[1] * g

    def _check_biases(self, n: int, b: Any) -> None:
        if b is not None and np.shape(b) != (n,):
            raise LayerError(self.head, f'expected "Biases" to be a vector of length {n}, but '
                             f"received an array of dimensions {list(np.shape(b))}.")

    def channels(self, cx: Dim, cy: Dim, x: PortType) -> tuple[Dim, Dim]:
        c, g = self.params["in_channels"], self.params["groups"]
        if c is not None and cx is not None and c != cx:
            raise PortMismatch("Input", f"{c} channels (from its weights)", x.describe())
        cx = cx if cx is not None else c
        if isinstance(cx, int) and cx % g:
            raise PortMismatch("Input", f"a number of channels divisible by ChannelGroups ({g})",
                               x.describe())
        if cx is VARYING:
            raise PortMismatch("Input", "a fixed number of channels", x.describe())
        return cx, self.params["n"]

    def array_specs(self) -> dict[str, ArraySpec]:
        x = self.in_types.get("Input", PortType())
        d = self.params["dim"] or (len(x.dims) - 1 if x.dims else None)
        n, g = self.params["n"], self.params["groups"]
        c = self.split(x, d)[0] if d else self.params["in_channels"]
        shape = None
        if isinstance(c, int) and d:
            shape = (n, c // g, *per_dim(self.params["kernel"], d))
        fan_in = None if shape is None else int(np.prod(shape[1:]))
        specs = {"Weights": ArraySpec(shape, "weights", fan_in, None)}
        if self.params["biases"]:
            specs["Biases"] = ArraySpec((n,), "biases")
        return specs

    def _param_repr(self) -> str:
        parts = [str(self.params["n"]), repr(self.params["kernel"]), *self._geometry_repr()]
        if self.params["groups"] != 1:
            parts.append(f'ChannelGroups={self.params["groups"]}')
        return ", ".join(parts)


class DeconvolutionLayer(ConvolutionLayer):
    """DeconvolutionLayer(n, kernel): a trainable transposed convolution with n output channels.

    Output size per dimension: stride*(d-1) + dilation*(k-1) + 1 - padding, where
    "PaddingSize" crops the output ("Same" makes it input size * stride). "Weights" are
    c x n/groups x kernel (input channels first, as WL and torch store them).

    >>> Information(DeconvolutionLayer(2, 2, Stride=2, Input=(3, 4, 4)), "OutputPorts")
    {'Output': (2, 8, 8)}
    """

    def _weights_channels(self, n: int, g: int, p: dict, w: tuple | None) -> int | None:
        if w is None:
            return None
        d = len(w) - 2
        want = (None, n // g, *per_dim(p["kernel"], d))
        if d < 1 or any(a is not None and a != b for a, b in zip(want, w, strict=True)):
            shown = ", ".join("c" if a is None else str(a) for a in want)
            raise LayerError(self.head, f'expected "Weights" of dimensions {{{shown}}}, but '
                             f"received an array of dimensions {list(w)}.")
        return w[0]

    def forward_size(self, i: int, s: Dim, d: int, x: PortType) -> Dim:
        if not isinstance(s, int):
            return s
        k, st, dl = (g[i] for g in self.geometry(d))
        if self.params["padding"] == "Same":
            return s * st
        b, e = self.pads(d)[i]  # type: ignore[index]
        out = st * (s - 1) + dl * (k - 1) + 1 - b - e
        if out < 1:
            raise PortMismatch("Input", f"spatial dimensions large enough for the output to "
                               f"survive cropping by PaddingSize {self.params['padding']!r}",
                               x.describe())
        return out

    def backward_size(self, i: int, s: Dim, d: int) -> Dim:
        if not isinstance(s, int):
            return s
        k, st, dl = (g[i] for g in self.geometry(d))
        if self.params["padding"] == "Same":
            full = s
        else:
            b, e = self.pads(d)[i]  # type: ignore[index]
            full = s + b + e - dl * (k - 1) - 1 + st
        if full % st:
            raise PortMismatch("Output", f"a size that {self.head} can produce in spatial "
                               f"dimension {i + 1} (stride {st})", f"size {s}")
        return full // st

    def array_specs(self) -> dict[str, ArraySpec]:
        specs = super().array_specs()
        w = specs["Weights"].shape
        if w is not None:
            n, g = self.params["n"], self.params["groups"]
            shape = (w[1] * g, n // g, *w[2:])
            specs["Weights"] = ArraySpec(shape, "weights", int(np.prod(shape[1:])), None)
        return specs


POOLING_FUNCTIONS = {"Max": Max, "Mean": Mean, "Total": Total}


class PoolingLayer(SpatialLayer):
    """PoolingLayer(kernel, stride): pools each channel with Max (default), Mean or Total.

    ``PoolingLayer(k)`` uses stride 1, as WL. Options "Function", "PaddingSize" (zeros for
    Mean and Total; ignored positions for Max), "Dimensionality", "Interleaving".

    >>> Information(PoolingLayer(2, 2, Input=(3, 6, 6)), "OutputPorts")
    {'Output': (3, 3, 3)}
    """

    options = ("Stride", "PaddingSize", "Dimensionality", "Interleaving", "Function")

    def __init__(self, kernel: Any, stride: Any = None, **opts: Any) -> None:
        if stride is not None:
            if "Stride" in opts:
                raise LayerError(self.head, "expected the stride once, but received it both as "
                                 "an argument and as the Stride option.")
            opts["Stride"] = stride
        f = opts.pop("Function", Max)
        name = getattr(f, "name") if isinstance(f, Symbol) else f  # noqa: B009
        if name not in POOLING_FUNCTIONS:
            raise LayerError(self.head, f"expected Function to be Max, Mean or Total, but "
                             f"received {f!r}.")
        params = self._spatial_params(kernel, opts)
        params["function"] = name
        self._init(params, opts)

    @classmethod
    def check_params(cls, params: Any) -> None:
        super().check_params(params)
        f = params["function"]
        if not isinstance(f, str) or f not in POOLING_FUNCTIONS:
            raise LayerError(cls.__name__, f"expected Function to be Max, Mean or Total, but "
                             f"received {params['function']!r}.")

    def geometry(self, d: int) -> tuple[tuple, tuple, tuple]:
        return per_dim(self.params["kernel"], d), per_dim(self.params["stride"], d), (1,) * d

    @property
    def pools_max(self) -> bool:  # type: ignore[override]
        """Max pooling whose windows each hold an input element: padding narrower than the
        kernel ("Same" padding always is), so no window is padding alone."""
        if self.params["function"] != "Max":
            return False
        if self.params["padding"] == "Same":
            return True
        d = len(self.in_types["Input"].dims or ()) - 1
        pads, kernel = self.pads(d) or [], self.geometry(d)[0]
        return d > 0 and all(b < k and e < k for (b, e), k in zip(pads, kernel, strict=True))

    def _param_repr(self) -> str:
        p = self.params
        parts = [repr(p["kernel"])] + ([repr(p["stride"])] if p["stride"] != 1 else [])
        parts += [g for g in self._geometry_repr() if not g.startswith("Stride")]
        if p["function"] != "Max":
            parts.append(f'Function={p["function"]}')
        return ", ".join(parts)

