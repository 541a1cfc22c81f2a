"""Coders attached to ports: a NetEncoder on an input, a NetDecoder on an output.

WL's ``"Input" -> NetEncoder[...]`` and ``"Output" -> NetDecoder[...]`` (or a coder's name,
``"Output" -> "Boolean"``) are keyword options here, on any layer, NetChain or NetGraph:
``NetChain([...], Input=NetEncoder(["Image", [28, 28]]), Output=NetDecoder(["Class", ...]))``.
A value keeps its coders in ``layer.coders`` (``{port: coder}``). A coder's ``port_type``
takes part in shape inference like a declared shape (so an "Image" encoder fixes the input's
dimensions and a "Class" decoder the output's size), and the inferred type is checked
against it: a decoder on a port of another shape is refused at construction, naming the
port. Evaluation and NetTrain turn plain data into tensors through these coders
(``runtime/boundary.py``).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..coders import NetDecoder, NetEncoder
from ..errors import LayerError, NetGraphError, ShapeError
from ..shapes import PortType, UnifyError, unify

Types = dict[str, PortType]
# WL's named coders; a port option naming one ("Boolean", ["Class", [...]]) attaches it.
# "Scalar" stays a shape, as in WL's "Output" -> "Scalar".
CODER_NAMES = ("Audio", "AudioMelSpectrogram", "AudioMFCC", "AudioSpectrogram", "AudioSTFT",
               "Boolean", "Characters", "Class", "CTCBeamSearch", "FeatureExtractor",
               "Function", "Image", "Image3D", "SubwordTokens", "Tokens", "UTF8",
               "VideoFrames")


def is_encoder(v: Any) -> bool:
    return isinstance(v, NetEncoder)


def is_decoder(v: Any) -> bool:
    return isinstance(v, NetDecoder)


def is_coder(v: Any) -> bool:
    return is_encoder(v) or is_decoder(v)


def _coder_spec(v: Any) -> bool:
    """A coder's name ("Boolean") or a list spec (["Class", [...]]), not a shape spelling."""
    if isinstance(v, str):
        return v in CODER_NAMES
    return isinstance(v, (list, tuple)) and bool(v) and isinstance(v[0], str) and (
        v[0] in CODER_NAMES)


def as_coder(head: str, port: str, value: Any, is_input: bool) -> Any:
    """The coder a port option gives (a coder, or a coder's spec), or None for a shape."""
    if is_coder(value):
        if is_input and not is_encoder(value):
            raise LayerError(head, f'input port "{port}" takes a NetEncoder, but received a '
                             f"NetDecoder ({value!r}).")
        if not is_input and not is_decoder(value):
            raise LayerError(head, f'output port "{port}" takes a NetDecoder, but received a '
                             f"NetEncoder ({value!r}).")
        return value
    if not _coder_spec(value):
        return None
    try:
        return NetEncoder(value) if is_input else NetDecoder(value)
    except NetGraphError as e:
        raise type(e)(head, f'port "{port}": {e.args[0].split(": ", 1)[-1]}') from None


def split_ports(head: str, ports: Mapping[str, Any], inputs: Sequence[str],
                outputs: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Port options -> (shape specs, coders). Options that are not ports pass through."""
    shapes, coders = {}, {}
    for p, v in ports.items():
        c = None
        if p in inputs or p in outputs:
            c = as_coder(head, p, v, p in inputs)
        if c is None:
            shapes[p] = v
        else:
            coders[p] = c
    return shapes, coders


def coder_types(head: str, ins: Types, outs: Types, coders: Mapping[str, Any]
                ) -> tuple[Types, Types]:
    """The port types with each coder's type unified in (the coder fixes the shape)."""
    ins, outs = dict(ins), dict(outs)
    for p, c in coders.items():
        side = ins if p in ins or is_encoder(c) else outs
        old = side.get(p, PortType())
        try:
            side[p] = unify(old, c.port_type)
        except UnifyError:
            raise mismatch(head, p, c, old) from None
    return ins, outs


def mismatch(head: str, port: str, coder: Any, t: PortType) -> ShapeError:
    what = "decoder" if is_decoder(coder) else "encoder"
    return ShapeError(head, f'port "{port}" is {t.describe()}, but its {coder.kind} {what} '
                      f"({coder!r}) needs {coder.port_type.describe()}.")


def check_coders(head: str, net: Any, coders: Mapping[str, Any]) -> None:
    """Each coder fits its port's inferred type (a decoder runs its own check too)."""
    for p, c in coders.items():
        t = net.in_types.get(p) if p in net.in_types else net.out_types.get(p)
        t = t or PortType()
        try:
            unify(t, c.port_type)
        except UnifyError:
            raise mismatch(head, p, c, t) from None
        check = getattr(c, "check_port", None)
        if check is not None and is_decoder(c):
            try:
                check(t, f'port "{p}"')
            except NetGraphError as e:
                raise ShapeError(head, e.args[0].split(": ", 1)[-1]) from None


def attach(head: str, build: Callable[[Types, Types], Any], ins: Types, outs: Types,
           coders: Mapping[str, Any]) -> Any:
    """``build(ins, outs)`` with the coders' types taking part in inference.

    When inference fails with the coders and succeeds without them, the error names the
    port whose coder does not fit (not a layer deep inside the net).
    """
    if not coders:
        return build(ins, outs)
    cins, couts = coder_types(head, ins, outs, coders)
    try:
        net = build(cins, couts)
    except ShapeError:
        plain = build(ins, outs)      # raises its own error when the net is wrong anyway
        check_coders(head, plain, coders)
        raise
    check_coders(head, net, coders)
    return net


def inherited(nodes: Mapping[str, Any], edges: Mapping[Any, Any], inputs: Sequence[str],
              outputs: Sequence[str]) -> dict[str, Any]:
    """Coders a container takes from its layers: an inner layer's encoder on a port that
    becomes the container's input, or its decoder on one that becomes the output."""
    found: dict[str, Any] = {}
    for d, s in edges.items():
        if s.node is None and s.port in inputs and d.node is not None:
            c = nodes[d.node].coders.get(d.port)
            if c is not None:
                found.setdefault(s.port, c)
        if d.node is None and d.port in outputs and s.node is not None:
            c = nodes[s.node].coders.get(s.port)
            if c is not None:
                found[d.port] = c
    return found
