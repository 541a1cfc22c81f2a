"""The .netgraph container: round trips, atomic writes, and hostile files refused."""
import json
import os
import struct
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save

from netgraph import Import, NetExportError, NetImportError
from netgraph.io import archive
from netgraph.io.archive import read_archive, write_archive

META = json.dumps({"format": "netgraph", "version": 1, "kind": "Test"}).encode()
ARRAYS = save({"w": np.arange(6, dtype=np.float32).reshape(2, 3)})


def make_zip(path, members, method=zipfile.ZIP_STORED):
    """A zip with ``members`` [(name, bytes)], written without any checks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w", compression=method) as z:
            for name, data in members:
                z.writestr(name, data)
    return str(path)


def good(tmp_path, meta=META, arrays=ARRAYS, name="f.netgraph"):
    return make_zip(tmp_path / name, [("netgraph.json", meta), ("arrays.safetensors", arrays)])


def refused(path, match):
    with pytest.raises(NetImportError, match=match) as info:
        read_archive(path)
    assert str(info.value).startswith("Import: ")
    return info.value


# -- round trips ------------------------------------------------------------------------
def test_round_trip_keeps_meta_arrays_and_dtypes(tmp_path):
    arrays = {"f16": np.ones((2, 2), np.float16), "f32": np.arange(3, dtype=np.float32),
              "f64": np.array(2.5), "i64": np.array([1, -2], np.int64),
              "u8": np.array([255], np.uint8), "b": np.array([True, False]),
              "empty": np.zeros((0, 3), np.float32), "odd/name $x": np.ones(1, np.float32)}
    meta = {"kind": "Test", "nested": {"a": [1, 2.5, None, "é"]}, "nan": float("nan")}
    p = tmp_path / "a.netgraph"
    write_archive(p, meta, arrays)
    m, a = read_archive(p)
    assert m["format"] == "netgraph" and m["version"] == 1 and m["nested"] == meta["nested"]
    assert np.isnan(m["nan"])
    assert sorted(a) == sorted(arrays)
    for k, v in arrays.items():
        assert a[k].dtype == v.dtype and a[k].shape == v.shape
        np.testing.assert_array_equal(a[k], v)


def test_writing_is_reproducible(tmp_path):
    arrays = {"w": np.ones((2, 3), np.float32)}
    write_archive(tmp_path / "a.netgraph", {"kind": "T"}, arrays)
    write_archive(tmp_path / "b.netgraph", {"kind": "T"}, arrays)
    assert (tmp_path / "a.netgraph").read_bytes() == (tmp_path / "b.netgraph").read_bytes()


def test_file_layout(tmp_path):
    p = tmp_path / "a.netgraph"
    write_archive(p, {"kind": "T"}, {})
    with zipfile.ZipFile(p) as z:
        assert z.namelist() == ["netgraph.json", "arrays.safetensors"]
        assert json.loads(z.read("netgraph.json"))["format"] == "netgraph"


@pytest.mark.parametrize("meta, match", [
    ({"format": "other"}, 'key "format" is reserved'),
    ({"version": 2}, 'key "version" is reserved'),
    ({"x": object()}, "not JSON data"),
    ([1, 2], "dict with string keys"),
])
def test_bad_meta_is_refused(tmp_path, meta, match):
    with pytest.raises(NetExportError, match=match):
        write_archive(tmp_path / "a.netgraph", meta, {})


@pytest.mark.parametrize("arrays, match", [
    ({"x": np.array(["a"], dtype=object)}, "unsupported type object"),
    ({"x": [1, 2]}, "is a list"),
    ([1], "dict of name -> numpy array"),
])
def test_bad_arrays_are_refused(tmp_path, arrays, match):
    with pytest.raises(NetExportError, match=match):
        write_archive(tmp_path / "a.netgraph", {}, arrays)


# -- atomic writes ----------------------------------------------------------------------
def _leftovers(folder):
    return [f for f in os.listdir(folder) if f.endswith(".tmp")]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    p = tmp_path / "a.netgraph"
    write_archive(p, {"kind": "Old"}, {"w": np.ones(2, np.float32)})
    before = p.read_bytes()

    def broken(f, meta, arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")
    monkeypatch.setattr(archive, "_write_zip", broken)
    with pytest.raises(OSError, match="disk full"):
        write_archive(p, {"kind": "New"}, {"w": np.zeros(2, np.float32)})
    assert p.read_bytes() == before
    assert not _leftovers(tmp_path)


def test_failed_rename_keeps_the_old_file(tmp_path, monkeypatch):
    p = tmp_path / "a.netgraph"
    write_archive(p, {"kind": "Old"}, {})
    before = p.read_bytes()
    monkeypatch.setattr(archive.os, "replace", lambda a, b: (_ for _ in ()).throw(OSError("no")))
    with pytest.raises(OSError):
        write_archive(p, {"kind": "New"}, {})
    assert p.read_bytes() == before and not _leftovers(tmp_path)


def test_invalid_data_never_touches_the_file(tmp_path):
    p = tmp_path / "a.netgraph"
    write_archive(p, {"kind": "Old"}, {})
    before = p.read_bytes()
    with pytest.raises(NetExportError):
        write_archive(p, {"kind": object()}, {})
    assert p.read_bytes() == before and not _leftovers(tmp_path)


def test_overwrite_keeps_permissions(tmp_path):
    p = tmp_path / "a.netgraph"
    write_archive(p, {}, {})
    os.chmod(p, 0o600)
    write_archive(p, {"kind": "New"}, {})
    assert os.stat(p).st_mode & 0o777 == 0o600
    assert read_archive(p)[0]["kind"] == "New"


# -- hostile or broken files ------------------------------------------------------------
def test_missing_file_and_directory(tmp_path):
    refused(tmp_path / "nope.netgraph", "does not exist")
    refused(tmp_path, "is not a file")


def test_not_a_zip(tmp_path):
    p = tmp_path / "a.netgraph"
    p.write_bytes(b"\x80\x04\x95 a pickle, not a zip")
    refused(p, "not a readable zip archive")


def test_truncated_zip(tmp_path):
    p = good(tmp_path)
    data = Path(p).read_bytes()
    Path(p).write_bytes(data[: len(data) // 2])
    refused(p, "not a valid netgraph file")


def test_a_torch_save_file_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    p = tmp_path / "a.netgraph"
    torch.save({"w": torch.ones(2)}, p)          # a zip holding a pickle
    refused(p, "unexpected member")


def test_missing_member(tmp_path):
    refused(make_zip(tmp_path / "a.netgraph", [("netgraph.json", META)]),
            "arrays.safetensors is missing")


def test_extra_member(tmp_path):
    p = make_zip(tmp_path / "a.netgraph", [("netgraph.json", META), ("arrays.safetensors", ARRAYS),
                                           ("payload.py", b"import os")])
    refused(p, "unexpected member 'payload.py'")


@pytest.mark.parametrize("name", ["../netgraph.json", "/etc/passwd", "a\\..\\b", "C:evil",
                                  "x/../../y"])
def test_path_tricks(tmp_path, name):
    p = make_zip(tmp_path / "a.netgraph", [("netgraph.json", META), ("arrays.safetensors", ARRAYS),
                                           (name, b"x")])
    refused(p, "unsafe name")


def test_duplicate_member(tmp_path):
    p = make_zip(tmp_path / "a.netgraph", [("netgraph.json", META), ("netgraph.json", META),
                                           ("arrays.safetensors", ARRAYS)])
    refused(p, "appears twice")


def test_unsupported_compression(tmp_path):
    p = make_zip(tmp_path / "a.netgraph", [("netgraph.json", META), ("arrays.safetensors", ARRAYS)],
                 method=zipfile.ZIP_BZIP2)
    refused(p, "unsupported compression")


def test_declared_size_over_the_limit(tmp_path, monkeypatch):
    p = good(tmp_path)
    monkeypatch.setattr(archive, "MAX_ARRAYS_BYTES", 10)
    refused(p, "more than the limit")


def test_zip_bomb_ratio(tmp_path):
    bomb = save({"w": np.zeros(2**22, np.float32)})          # 16 MiB of zeros
    p = make_zip(tmp_path / "a.netgraph", [("netgraph.json", META), ("arrays.safetensors", bomb)],
                 method=zipfile.ZIP_DEFLATED)
    refused(p, "zip bomb")


def _patch_central(path, name, fmt_offset, fmt, value):
    """Overwrite a field of ``name``'s central directory record (lying headers)."""
    data = bytearray(Path(path).read_bytes())
    i = data.find(b"PK\x01\x02")
    while i >= 0:
        n = struct.unpack_from("<H", data, i + 28)[0]
        if data[i + 46:i + 46 + n] == name.encode():
            struct.pack_into(fmt, data, i + fmt_offset, value)
        i = data.find(b"PK\x01\x02", i + 4)
    Path(path).write_bytes(bytes(data))


def test_member_longer_than_declared(tmp_path):
    p = good(tmp_path)
    _patch_central(p, "arrays.safetensors", 24, "<I", 16)   # uncompressed size: 16 bytes
    refused(p, "not a valid netgraph file")


def test_encrypted_member(tmp_path):
    p = good(tmp_path)
    _patch_central(p, "netgraph.json", 8, "<H", 1)          # general purpose flag: encrypted
    refused(p, "encrypted")


@pytest.mark.parametrize("meta, match", [
    (b"\xff\xfe not utf-8", "not valid UTF-8 JSON"),
    (b"{'format': 'netgraph'}", "not valid UTF-8 JSON"),
    (b"[1, 2]", "must hold a JSON object"),
    (b"[" * 100000 + b"]" * 100000, "not valid UTF-8 JSON"),
    (b'{"format": "netgraph", "format": "netgraph", "version": 1}', "twice"),
    (b'{"format": "keras", "version": 1}', "names the format 'keras'"),
    (b'{"version": 1}', "names the format None"),
    (b'{"format": "netgraph", "version": 99}', "format version 99"),
    (b'{"format": "netgraph", "version": "1"}', "expected an integer"),
    (b'{"format": "netgraph", "version": true}', "expected an integer"),
])
def test_bad_json(tmp_path, meta, match):
    refused(good(tmp_path, meta=meta), match)


def _header(h):
    raw = json.dumps(h).encode()
    return struct.pack("<Q", len(raw)) + raw


@pytest.mark.parametrize("arrays, match", [
    (b"short", "too short"),
    (struct.pack("<Q", 2**40) + b"{}", "declares a header"),
    (struct.pack("<Q", 4) + b"nope", "not valid JSON"),
    (_header([1]), "not a JSON object"),
    (_header({"w": {"dtype": "F32", "shape": [2]}}), "malformed header entry"),
    (_header({"w": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}) + b"xx",
     "unsupported type 'BF16'"),
    (_header({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}) + b"xxxx",
     "invalid shape"),
    (_header({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}) + b"xxxx",
     "invalid data offsets"),
    (_header({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}) + b"x" * 8,
     "does not match"),
    (_header({"__metadata__": {"a": 1}}), "malformed __metadata__"),
    (_header({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
              "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}) + b"x" * 4,
     "not a valid safetensors file"),
])
def test_bad_safetensors(tmp_path, arrays, match):
    refused(good(tmp_path, arrays=arrays), match)


def test_import_names_the_file(tmp_path):
    p = good(tmp_path, meta=b"[]")
    with pytest.raises(NetImportError, match=r'Import: the file ".*f\.netgraph" is not a valid'):
        Import(p)
