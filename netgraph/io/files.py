"""Export and Import: nets to and from files (.netgraph, .onnx), as WL's Export/Import.

A ``.netgraph`` file is netgraph's own format (docs/file-format.md): a zip of JSON and
safetensors that loads without pickle, so importing a file never runs code. ``.onnx``
files are written through ``torch.onnx.export`` for use in other runtimes.
"""
from __future__ import annotations

import os
from typing import Any

from ..errors import NetExportError, NetImportError, OptionError, check_options, nearest
from ..layers.base import Layer
from .archive import read_archive, write_archive
from .netfile import checkpoint_net, net_from_archive, net_to_archive

FORMATS = {".netgraph": "NetGraph", ".onnx": "ONNX"}
ELEMENTS = ("Net", "UninitializedNet", "ArrayAssociation", "ArrayList", "NetExternalObject")
EXPORT_OPTIONS = {"NetGraph": (), "ONNX": ("OperatorSetVersion",)}


def _format(head: str, path: str, fmt: str | None) -> str:
    names = {v.lower(): v for v in FORMATS.values()}
    if fmt is not None:
        if not isinstance(fmt, str) or fmt.lower() not in names:
            raise OptionError(head, f"unknown format {fmt!r}; the formats are "
                              f"{', '.join(repr(v) for v in FORMATS.values())}.")
        return names[fmt.lower()]
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        listed = ", ".join(repr(v) for v in FORMATS.values())
        raise OptionError(head, f'cannot tell the format of "{path}" from its extension '
                          f"{ext or '(none)'}; use {' or '.join(FORMATS)}, or give the format "
                          f"as the third argument ({listed}).")
    return FORMATS[ext]


def _path(head: str, path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise OptionError(head, f"expected a file name, but received {path!r}.")
    return os.path.expanduser(os.fspath(path))


def Export(path: str | os.PathLike, net: Layer, fmt: str | None = None, **options: Any) -> str:
    """Export("file.netgraph", net) writes net (layers, connections, arrays) to a file.

    The format follows the extension (".netgraph" or ".onnx") or the third argument
    ("NetGraph", "ONNX"). A .netgraph file holds any net, initialized or not, except one that
    holds Python code (a lambda in an ElementwiseLayer, a TorchModuleLayer). An ONNX file
    needs an initialized net; option ``OperatorSetVersion=n``. Returns the file name.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "linear.netgraph")
    >>> Export(path, NetInitialize(LinearLayer(2, Input=3))) == path
    True
    >>> Information(Import(path), "OutputPorts")
    {'Output': 2}
    """
    head = "Export"
    path = _path(head, path)
    kind = _format(head, path, fmt)
    check_options(head, options, EXPORT_OPTIONS[kind])
    if not isinstance(net, Layer):
        raise NetExportError(head, f"expected a net or a layer, but received "
                             f"{type(net).__name__}.")
    _check_folder(head, path)
    if kind == "NetGraph":
        write_archive(path, *net_to_archive(net))
    else:
        from .onnx_export import export_onnx
        export_onnx(path, net, opset=_opset(options.get("OperatorSetVersion")))
    return path


def _check_folder(head: str, path: str) -> None:
    """Refuse a path whose folder is missing or is not a folder, before writing anything."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        what = "is not a directory" if os.path.exists(folder) else "does not exist"
        raise NetExportError(head, f'cannot write "{path}": the directory "{folder}" {what}.')
    if os.path.isdir(path):
        raise NetExportError(head, f'cannot write "{path}": it is a directory.')


def _opset(v: Any) -> int | None:
    if v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 7):
        return v
    raise OptionError("Export", f"expected OperatorSetVersion to be an integer of at least 7, "
                      f"but received {v!r}.")


def Import(path: str | os.PathLike, element: str = "Net") -> Any:
    """Import("file.netgraph") gives the net stored in a file; Import(file, element) a part.

    Elements, as in WL: "Net" (the default), "UninitializedNet" (the net without its arrays),
    "ArrayAssociation" (``{position: array}``, positions as ``Information(net, "Arrays")``
    gives them) and "ArrayList". ``Import("model.onnx")`` converts an ONNX model's nodes into
    netgraph layers (a trainable net; see netgraph.io.onnx_import for the operators) and
    ``Import("model.onnx", "NetExternalObject")`` gives an evaluation-only model run by
    onnxruntime. Importing never runs code from the file: a malformed or tampered file is
    refused with a NetImportError that says what is wrong.
    """
    head = "Import"
    path = _path(head, path)
    if element not in ELEMENTS:
        raise OptionError(head, f"unknown element {element!r}.{nearest(str(element), ELEMENTS)}"
                          f" The elements are {', '.join(ELEMENTS)}.")
    kind = _format(head, path, None)
    if element == "NetExternalObject":
        if kind != "ONNX":
            raise NetImportError(head, f'"NetExternalObject" is an element of ONNX files, not '
                                 f'of {kind} files ("{path}").')
        from .external import NetExternalObject
        return NetExternalObject(path)
    if kind == "ONNX":
        from .onnx_import import import_onnx
        net = import_onnx(path)
    else:
        net = _read_net(path)
    if element == "UninitializedNet":
        return strip_arrays(net)
    if element in ("ArrayAssociation", "ArrayList"):
        import numpy as np

        from ..info import Information
        found = {k: a for k, a in Information(net, "Arrays").items()
                 if isinstance(a, np.ndarray)}
        return found if element == "ArrayAssociation" else list(found.values())
    return net


def _read_net(path: str) -> Layer:
    meta, arrays = read_archive(path, "Import")
    meta, arrays = checkpoint_net(meta, arrays)
    try:
        return net_from_archive(meta, arrays, "Import")
    except NetImportError as e:
        detail = e.message.removeprefix("invalid net data: ")
        raise NetImportError("Import", f'the file "{path}" is not a valid netgraph file: '
                             f"{detail}") from None


def strip_arrays(net: Layer) -> Layer:
    """``net`` with every learned array dropped (WL's "UninitializedNet")."""
    from ..graph.walk import map_leaves
    return map_leaves(net, lambda _, layer: layer._replace(
        arrays={k: None for k in layer.arrays}) if layer.arrays else layer)
