"""A generic JSON encoding of layer values, for .netgraph files (see docs/file-format.md).

A layer is ``{"head", "params", "inputs", "outputs", "arrays"}``: its class (looked up by
name in a registry of netgraph's own layer classes; a file never names a module to import),
its params (JSON with a few tagged forms for tuples, symbols, port types, nested layers ...),
its port types, and its arrays as references to entries of the safetensors part (``null``
for an uninitialized array). The encoding knows nothing about particular layers, so every
layer family round-trips without code of its own.

On import every layer is rebuilt and checked: known head, well-formed params, port types
re-inferred (containers through their normal ``specialize``), arrays exactly those the
layer expects with the shapes its :meth:`~netgraph.layers.base.Layer.array_specs` give.

The work is split by direction: :mod:`~netgraph.io.registry` (the classes a file may name),
:mod:`~netgraph.io.encode` (export), :mod:`~netgraph.io.decode` and
:mod:`~netgraph.io.checks` (import); this module holds the entry points.
"""
from __future__ import annotations

import numpy as np

from ..errors import NetImportError
from ..layers.base import Layer
from ..train.formats import register_archive
from .archive import read_archive, write_archive
from .checks import Refused, check_arrays, check_shared
from .decode import Decoder, decode_atom, decode_type
from .encode import encode_type, net_to_archive
from .registry import all_layers, dataclass_registry, layer_registry

__all__ = ["net_to_archive", "net_from_archive", "checkpoint_net", "CHECKPOINT_KIND",
           "layer_registry", "dataclass_registry",
           "encode_type", "decode_type", "decode_atom", "all_layers", "sentence"]


def sentence(text: str) -> str:
    """``text`` ending with one full stop (messages nest other messages), kept short."""
    if len(text) > 600:  # a hostile file's values can be huge; the start says enough
        text = text[:600] + " ..."
    return text if text.endswith((".", "?", "!")) else text + "."


# The kind of a file written by TrainingProgressCheckpointing (train/checkpoint.py): a net file
# whose "net" entry is the current net's metadata and whose arrays are prefixed "net/".
CHECKPOINT_KIND = "TrainingCheckpoint"


def checkpoint_net(meta: dict, arrays: dict[str, np.ndarray]
                   ) -> tuple[dict, dict[str, np.ndarray]]:
    """The net part of a checkpoint's (meta, arrays); any other file's unchanged.

    In WL a checkpoint is a net file: Import gives its net (ResumeFrom reads the rest).
    """
    if not (isinstance(meta, dict) and meta.get("kind") == CHECKPOINT_KIND
            and isinstance(meta.get("net"), dict)):
        return meta, arrays
    return meta["net"], {k[4:]: v for k, v in arrays.items() if k.startswith("net/")}


def net_from_archive(meta: dict, arrays: dict[str, np.ndarray], head: str = "Import") -> Layer:
    """The layer value ``meta``/``arrays`` represent (as :func:`read_archive` returns them).

    Raises :class:`NetImportError` when anything is malformed or inconsistent.

    >>> net = NetInitialize(LinearLayer(2, Input=3))
    >>> back = net_from_archive(*net_to_archive(net))
    >>> bool((NetExtract(back, "Weights") == NetExtract(net, "Weights")).all())
    True
    """
    try:
        if not isinstance(meta, dict) or "net" not in meta:
            raise Refused('the metadata has no "net" entry')
        dec = Decoder(arrays)
        net = dec.layer(meta["net"], ())
        check_arrays(net)
        check_shared(net)
        unused = sorted(set(arrays) - dec.used)
        if unused:
            raise Refused(f'it holds the array "{unused[0]}", which no layer uses')
    except Refused as e:
        raise NetImportError(head, f"invalid net data: {sentence(str(e))}") from None
    except RecursionError:
        raise NetImportError(head, "invalid net data: it is nested too deeply.") from None
    return net


# Training checkpoints are .netgraph archives: train reads and writes them through these.
register_archive(write_archive=write_archive, read_archive=read_archive,
                 net_to_archive=net_to_archive, net_from_archive=net_from_archive)
