"""The .netgraph container: one zip holding ``netgraph.json`` and ``arrays.safetensors``.

``write_archive(path, meta, arrays)`` writes atomically (a temporary file in the same
directory, fsync, ``os.replace``), so a crash or an error never leaves a half-written file
in place of a good one. ``read_archive(path)`` never runs code and never unpickles: it
reads JSON and safetensors only, and refuses hostile files (path tricks in member names,
unexpected members, zip bombs, malformed JSON or safetensors headers) with a
:class:`~netgraph.errors.NetImportError` naming the file and the problem.

Nets (:mod:`netgraph.io.netfile`) and training checkpoints both use this container; the
layout is documented in ``docs/file-format.md``.
"""
from __future__ import annotations

import io
import json
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import NetExportError, NetImportError

FORMAT = "netgraph"
VERSION = 1
META_MEMBER = "netgraph.json"
ARRAYS_MEMBER = "arrays.safetensors"
MEMBERS = (META_MEMBER, ARRAYS_MEMBER)

# Limits on what a file may expand to (module attributes, so an application with larger
# nets can raise them). A file's declared sizes are checked first, then reads are capped.
MAX_META_BYTES = 256 * 2**20
MAX_ARRAYS_BYTES = 16 * 2**30
MAX_RATIO = 200                  # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 2**20
MAX_HEADER_BYTES = 64 * 2**20    # the safetensors JSON header

DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8,
          "I16": np.int16, "I32": np.int32, "I64": np.int64, "U8": np.uint8,
          "U16": np.uint16, "U32": np.uint32, "U64": np.uint64, "BOOL": np.bool_}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # reproducible files: the same net gives the same bytes


class _Refused(Exception):
    """Internal: the file is refused; ``read_archive`` words it with the file name."""


# -- writing -----------------------------------------------------------------------
def write_archive(path: str | os.PathLike, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Write ``meta`` (JSON-able, str keys) and ``arrays`` (name -> array) to ``path``.

    ``meta`` gets the keys ``"format"`` ("netgraph") and ``"version"`` (an int) added; it
    must not set them to other values. The write is atomic: on any failure the previous
    file at ``path`` (if any) is left untouched and no temporary file remains.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.netgraph")
    >>> write_archive(p, {"kind": "Example"}, {"w": np.ones(2, np.float32)})
    >>> read_archive(p)[0]["kind"], read_archive(p)[1]["w"].tolist()
    ('Example', [1.0, 1.0])
    """
    meta_bytes = _meta_bytes(meta)
    arrays_bytes = _arrays_bytes(arrays)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_zip(f, meta_bytes, arrays_bytes)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_dir(folder)


def _meta_bytes(meta: Any) -> bytes:
    if not isinstance(meta, Mapping) or not all(isinstance(k, str) for k in meta):
        raise NetExportError("Export", f"expected the file's metadata to be a dict with string "
                            f"keys, but received {type(meta).__name__}.")
    for key, want in (("format", FORMAT), ("version", VERSION)):
        if key in meta and meta[key] != want:
            raise NetExportError("Export", f'the metadata key "{key}" is reserved and must be '
                                f"{want!r}, but received {meta[key]!r}.")
    doc = {"format": FORMAT, "version": VERSION, **meta}
    try:
        return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise NetExportError("Export", f"the file's metadata is not JSON data: {e}.") from None
    except RecursionError:
        raise NetExportError("Export", "the file's metadata is nested too deeply.") from None


def _arrays_bytes(arrays: Any) -> bytes:
    from safetensors.numpy import save
    if not isinstance(arrays, Mapping):
        raise NetExportError("Export", f"expected the arrays as a dict of name -> numpy array, "
                            f"but received {type(arrays).__name__}.")
    flat = {}
    for name, a in arrays.items():
        if not isinstance(name, str) or not isinstance(a, np.ndarray):
            raise NetExportError("Export", f"expected the arrays as a dict of name -> numpy "
                                f"array, but array {name!r} is a {type(a).__name__}.")
        if a.dtype.type not in DTYPES.values():
            raise NetExportError("Export", f'array "{name}" has the unsupported type {a.dtype}; '
                                "files hold booleans, integers and floats of 16 to 64 bits.")
        flat[name] = np.require(a, requirements="C")  # keeps 0-d arrays 0-d
    return save(flat)


def _write_zip(f: Any, meta: bytes, arrays: bytes) -> None:
    with zipfile.ZipFile(f, "w") as z:
        for name, data, method in ((META_MEMBER, meta, zipfile.ZIP_DEFLATED),
                                   (ARRAYS_MEMBER, arrays, zipfile.ZIP_STORED)):
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = method
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            z.writestr(info, data)


def _mode_for(path: str) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)   # keep an existing file's permissions
    except OSError:
        return 0o644


def _remove(tmp: str) -> None:
    try:
        os.unlink(tmp)
    except OSError:
        pass


def _fsync_dir(folder: str) -> None:
    """Make the rename durable (POSIX); not every platform can open a directory."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- reading -----------------------------------------------------------------------
def read_archive(path: str | os.PathLike, head: str = "Import"
                 ) -> tuple[dict, dict[str, np.ndarray]]:
    """Read a file written by :func:`write_archive`: ``(meta, arrays)``.

    Raises :class:`NetImportError` (with ``head``) naming the file and what is wrong.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise NetImportError(head, f'the file "{path}" does not exist.')
    if not os.path.isfile(path):
        raise NetImportError(head, f'"{path}" is not a file.')
    try:
        with zipfile.ZipFile(path) as z:
            infos = _check_members(z)
            meta = _parse_meta(_read_member(z, infos[META_MEMBER], MAX_META_BYTES))
            arrays = _parse_arrays(_read_member(z, infos[ARRAYS_MEMBER], MAX_ARRAYS_BYTES))
    except _Refused as e:
        raise NetImportError(head, f'the file "{path}" is not a valid netgraph file: '
                             f"{e}.") from None  # _Refused messages carry no full stop
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError) as e:
        raise NetImportError(head, f'the file "{path}" is not a valid netgraph file: it is '
                             f"not a readable zip archive ({e}).") from None
    return meta, arrays


def _unsafe(name: str) -> bool:
    parts = name.split("/")
    return ("\\" in name or "\0" in name or name.startswith("/") or ".." in parts
            or (len(name) > 1 and name[1] == ":"))


def _check_members(z: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos: dict[str, zipfile.ZipInfo] = {}
    for info in z.infolist():
        name = info.filename
        if _unsafe(name) or _unsafe(info.orig_filename):
            raise _Refused(f"it contains a member with an unsafe name {name!r}")
        if name not in MEMBERS:
            raise _Refused(f"it contains an unexpected member {name!r}; a netgraph file holds "
                           f"exactly {META_MEMBER} and {ARRAYS_MEMBER}")
        if name in infos:
            raise _Refused(f"the member {name} appears twice")
        if info.flag_bits & 0x1:
            raise _Refused(f"the member {name} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Refused(f"the member {name} uses an unsupported compression method "
                           f"({info.compress_type})")
        infos[name] = info
    missing = [m for m in MEMBERS if m not in infos]
    if missing:
        raise _Refused(f"the member {missing[0]} is missing")
    total = sum(i.file_size for i in infos.values())
    if total > MAX_META_BYTES + MAX_ARRAYS_BYTES:
        raise _Refused(f"it would expand to {total} bytes, more than the limit")
    return infos


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """The member's bytes, never more than its declared size or ``limit`` (zip bombs)."""
    name, size = info.filename, info.file_size
    if size > limit:
        raise _Refused(f"the member {name} would expand to {size} bytes, more than the limit "
                       f"of {limit} bytes")
    if size > RATIO_FLOOR and size > MAX_RATIO * max(info.compress_size, 1):
        raise _Refused(f"the member {name} is compressed {size // max(info.compress_size, 1)}"
                       f" to 1, which looks like a zip bomb")
    buf = io.BytesIO()
    with z.open(info) as f:
        while True:
            try:
                chunk = f.read(min(2**20, size + 1 - buf.tell()) or 1)
            except zlib.error as e:  # not an OSError: corrupt deflate data
                raise _Refused(f"the member {name} is corrupt ({e})") from None
            if not chunk:
                break
            buf.write(chunk)
            if buf.tell() > size:
                raise _Refused(f"the member {name} expands beyond its declared size")
    if buf.tell() != size:
        raise _Refused(f"the member {name} is shorter than its declared size")
    return buf.getvalue()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _Refused(f'{META_MEMBER} has the key "{k}" twice in one object')
        out[k] = v
    return out


def _parse_meta(data: bytes) -> dict:
    try:
        meta = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as e:  # ValueError: also ints past 4300 digits
        raise _Refused(f"{META_MEMBER} is not valid UTF-8 JSON ({type(e).__name__}: "
                       f"{str(e)[:120]})") from None
    if not isinstance(meta, dict):
        raise _Refused(f"{META_MEMBER} must hold a JSON object, but holds a "
                       f"{type(meta).__name__}")
    if meta.get("format") != FORMAT:
        raise _Refused(f'{META_MEMBER} names the format {meta.get("format")!r}; expected '
                       f'"{FORMAT}"')
    v = meta.get("version")
    if isinstance(v, bool) or not isinstance(v, int):
        raise _Refused(f'{META_MEMBER} has the version {v!r}; expected an integer')
    if not 1 <= v <= VERSION:
        raise _Refused(f"it has format version {v}, but this netgraph reads versions 1 to "
                       f"{VERSION}; a newer netgraph may read it")
    return meta


def _parse_arrays(data: bytes) -> dict[str, np.ndarray]:
    from safetensors import SafetensorError
    from safetensors.numpy import load
    _check_safetensors_header(data)
    try:
        arrays = load(data)
    except (SafetensorError, ValueError, TypeError) as e:
        raise _Refused(f"{ARRAYS_MEMBER} is not a valid safetensors file ({e})") from None
    return dict(arrays)


def _check_safetensors_header(data: bytes) -> None:
    """Validate the header before the parser sees it: sizes, dtypes, offsets."""
    where = ARRAYS_MEMBER
    if len(data) < 8:
        raise _Refused(f"{where} is too short to be a safetensors file")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER_BYTES or n > len(data) - 8:
        raise _Refused(f"{where} declares a header of {n} bytes, larger than the file or "
                       "the limit")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):  # undecodable, not JSON, ints past 4300 digits
        raise _Refused(f"{where} has a header that is not valid JSON") from None
    if not isinstance(header, dict):
        raise _Refused(f"{where} has a header that is not a JSON object")
    body = len(data) - 8 - n
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise _Refused(f"{where} has malformed __metadata__")
            continue
        _check_entry(name, entry, body)


def _check_entry(name: str, entry: Any, body: int) -> None:
    where = f'{ARRAYS_MEMBER}: array "{name}"'
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise _Refused(f"{where} has a malformed header entry")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES:
        raise _Refused(f"{where} has the unsupported type {dtype!r}; supported are "
                       f"{', '.join(DTYPES)}")
    if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise _Refused(f"{where} has an invalid shape {shape!r}")
    if (not isinstance(offsets, list) or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= body):
        raise _Refused(f"{where} has invalid data offsets {offsets!r}")
    count = 1
    for d in shape:
        count *= d
    if count * np.dtype(DTYPES[dtype]).itemsize != offsets[1] - offsets[0]:
        raise _Refused(f"{where}: its shape {shape} does not match its {offsets[1] - offsets[0]}"
                       " bytes of data")
