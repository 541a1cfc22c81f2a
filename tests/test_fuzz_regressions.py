"""Import of malformed files found by fuzzing (benchmarks/fuzz_import.py): refused, never crashed.

Inputs the fuzzer found are stored under tests/fuzz_corpus/; others are built here from a
valid file with one field changed. Each must give a NetImportError (a NetGraphError) naming
the problem: no other exception, no hang, no memory blow-up. A short seeded run of random
mutations keeps the property checked beyond the known inputs.
"""
import io
import json
import random
import resource
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from netgraph import (
    AggregationLayer,
    All,
    CatenateLayer,
    ContrastiveLossLayer,
    ConvolutionLayer,
    DeconvolutionLayer,
    ElementwiseLayer,
    Export,
    FlattenLayer,
    GatedRecurrentLayer,
    Import,
    LayerError,
    LinearLayer,
    LongShortTermMemoryLayer,
    Max,
    NetChain,
    NetGraph,
    NetGraphError,
    NetImportError,
    NetInitialize,
    NetNestOperator,
    NetPort,
    NormalizationLayer,
    PaddingLayer,
    PartLayer,
    Plus,
    SoftmaxLayer,
    Span,
    Tanh,
    ThreadingLayer,
)
from netgraph.io.netfile import net_to_archive

CORPUS = Path(__file__).parent / "fuzz_corpus"
META, ARRAYS = "netgraph.json", "arrays.safetensors"


def zip_bytes(meta: bytes, arrays: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo(META), meta, zipfile.ZIP_DEFLATED)
        z.writestr(zipfile.ZipInfo(ARRAYS), arrays, zipfile.ZIP_STORED)
    return buf.getvalue()


def parts(net) -> tuple[dict, bytes]:
    """The metadata (as a dict) and the safetensors bytes of a valid file of ``net``."""
    from safetensors.numpy import save
    meta, arrays = net_to_archive(net)
    return {"format": "netgraph", "version": 1, **meta}, save(arrays)


def write(tmp_path: Path, data: bytes, name: str = "x.netgraph") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def refused(path: str, match: str = "is not a valid netgraph file") -> NetImportError:
    with pytest.raises(NetImportError, match=match) as info:
        Import(path)
    return info.value


@contextmanager
def address_space(extra_mib: int = 2048):
    """Cap this process's address space, so a regression raises MemoryError rather than
    exhausting the machine."""
    with open("/proc/self/status") as f:
        vm = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
    old = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (vm * 1024 + extra_mib * 2**20, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, old)


def graph_file(tmp_path: Path, edit) -> str:
    """A valid NetGraph file with ``edit(layers)`` applied to its layer dicts by key."""
    net = NetInitialize(NetGraph({"a": LinearLayer(3), "b": ElementwiseLayer(Tanh),
                                  "t": ThreadingLayer(Plus), "c": CatenateLayer()},
                                 [(NetPort("X"), "a", "b"), (["a", "b"], "t"),
                                  (["t", NetPort("Y")], "c")], X=2, Y=3))
    meta, arrays = parts(net)
    edit({k: v["$layer"] for k, v in meta["net"]["params"]["nodes"].items()})
    return write(tmp_path, zip_bytes(json.dumps(meta).encode(), arrays))


# -- inputs the fuzzer found ----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.netgraph")
                                         if not p.name.startswith("known-")))
def test_corpus_file_is_refused(name):
    refused(str(CORPUS / name))


def test_corrupt_deflate_data_is_refused_as_corrupt():
    # was zlib.error, which is no OSError and escaped Import
    refused(str(CORPUS / "corrupt-deflate.netgraph"), "netgraph.json is corrupt")


def test_a_long_list_in_a_small_file_is_refused_quickly():
    # 1 KB holding a 300 KB JSON list of 100,000 zeros: decoding was ~4 us per element
    t = time.perf_counter()
    refused(str(CORPUS / "long-list-300kb.netgraph"))
    assert time.perf_counter() - t < 2.0


def test_a_function_that_is_not_a_symbol_is_refused():
    # ElementwiseLayer's function was a nested list: Import took it, evaluation raised
    # TypeError ('tuple' object is not callable)
    refused(str(CORPUS / "elementwise-function-nested-list.netgraph"),
            r"layer 'b' \(ElementwiseLayer\) has a tuple as its function")


@pytest.mark.parametrize("name, head, key", [
    ("dot-params-without-specs.netgraph", "DotLayer", "specs"),
    ("part-params-without-list.netgraph", "PartLayer", "list"),
])
def test_params_the_layer_cannot_show_are_refused(name, head, key):
    # a param key was missing: Import took the layer, repr raised KeyError
    refused(str(CORPUS / name), rf"{head} has malformed parameters \(KeyError: '{key}'\)")


# -- inputs built from a valid file ---------------------------------------------------------
def test_json_integers_past_4300_digits_are_refused_as_json(tmp_path):
    meta, arrays = parts(NetInitialize(LinearLayer(2, Input=2)))
    text = json.dumps(meta).replace('"version": 1', '"version": 1, "x": ' + "9" * 5000)
    refused(write(tmp_path, zip_bytes(text.encode(), arrays)), "is not valid UTF-8 JSON")


def test_a_huge_input_count_is_refused_without_making_the_ports(tmp_path):
    # "n": 10**9 on a variadic layer made 10**9 port names: out of memory
    def edit(layers):
        layers["c"]["params"]["n"] = 10**9
    path = graph_file(tmp_path, edit)
    with address_space():
        refused(path, r"layer 'c' \(CatenateLayer\) has the input count 1000000000, but the "
                "file lists 2 input ports")


@pytest.mark.parametrize("n", [10**9, -10**9])
def test_a_huge_flatten_level_is_refused_without_building_huge_lists(tmp_path, n):
    # FlattenLayer built its level groups before checking the input rank: out of memory
    meta, arrays = parts(FlattenLayer(1, Input=(2, 3, 4)))
    meta["net"]["params"]["n"] = n
    path = write(tmp_path, zip_bytes(json.dumps(meta).encode(), arrays))
    with address_space():
        refused(path, "expects an array of rank at least 1000000001")


def test_a_span_of_a_huge_dimension_is_counted_not_listed(tmp_path):
    # Span.count listed every position of the dimension: 10**12 of them
    meta, arrays = parts(PartLayer(Span(2, All), Input=5))
    for side in ("inputs", "outputs"):
        meta["net"][side] = {}
    meta["net"]["inputs"]["Input"] = {"dims": [10**12], "kind": None, "bound": None}
    path = write(tmp_path, zip_bytes(json.dumps(meta).encode(), arrays))
    with address_space():
        net = Import(path)
    assert net.out_types["Output"].dims == (10**12 - 1,)


@pytest.mark.parametrize("n", [-1, True, 2.0, "2", 3])
def test_an_input_count_other_than_the_listed_ports_is_refused(tmp_path, n):
    def edit(layers):
        layers["t"]["params"]["n"] = n
    refused(graph_file(tmp_path, edit), r"layer 't' \(ThreadingLayer\)")


@pytest.mark.parametrize("layer, function", [
    ("b", None), ("b", {"$symbol": "Foo"}), ("b", {"$symbol": "Plus"}), ("b", 3),
    ("t", None), ("t", {"$symbol": "Tanh"}), ("t", [{"$symbol": "Plus"}]),
])
def test_an_unknown_or_non_symbol_function_is_refused(tmp_path, layer, function):
    # unknown symbols were KeyErrors and None a TypeError, when the net was evaluated
    def edit(layers):
        layers[layer]["params"]["function"] = function
    refused(graph_file(tmp_path, edit), "function")


def test_an_aggregation_function_is_checked_by_the_layer(tmp_path):
    meta, arrays = parts(NetInitialize(AggregationLayer(Max, Input=(2, 3))))
    meta["net"]["params"]["function"] = {"$symbol": "Tanh"}
    refused(write(tmp_path, zip_bytes(json.dumps(meta).encode(), arrays)),
            "unknown aggregation function")


def test_a_valid_file_still_imports_and_evaluates(tmp_path):
    path = graph_file(tmp_path, lambda layers: None)
    net = Import(path)
    out = net({"X": [1.0, 2.0], "Y": [1.0, 2.0, 3.0]})
    assert np.asarray(out).shape == (6,)


# -- a short seeded fuzz run ------------------------------------------------------------------
def mutations(data: bytes, rng: random.Random, count: int):
    """Byte flips and cuts of the file, and value changes in its JSON (re-zipped)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        meta, arrays = z.read(META), z.read(ARRAYS)
    values = [None, True, -1, 0, 10**6, 0.5, float("nan"), "", "x", [], {}, [[1]],
              {"$symbol": "Foo"}, {"$layer": {}}, {"$type": {"dims": [0], "kind": None,
                                                             "bound": None}}]
    for i in range(count):
        if i % 2:
            b = bytearray(data)
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            yield bytes(b[:rng.randrange(len(b) // 2, len(b) + 1)])
            continue
        doc = json.loads(meta)
        spots = [doc]
        for v in spots:
            spots.extend(x for x in (v.values() if isinstance(v, dict) else v)
                         if isinstance(x, (dict, list)) and x)
        at = rng.choice(spots)
        key = rng.choice(list(at)) if isinstance(at, dict) else rng.randrange(len(at))
        at[key] = rng.choice(values)
        yield zip_bytes(json.dumps(doc).encode(), arrays)


def test_random_mutations_are_refused_or_imported_never_crash(tmp_path):
    nets = [NetInitialize(NetChain([LinearLayer(3), Tanh, LinearLayer(2)], Input=2)),
            NetChain([LinearLayer(2)], Input=3)]
    rng = random.Random(6)
    for k, net in enumerate(nets):
        seed = Path(Export(str(tmp_path / f"seed{k}.netgraph"), net)).read_bytes()
        for data in mutations(seed, rng, 120):
            path = write(tmp_path, data)
            try:
                back = Import(path)
            except NetGraphError:
                continue
            repr(back)


# -- hyperparameters of the wrong type ---------------------------------------------------------
# Import rebuilds a layer from its params without its constructor; each family's
# Layer.check_params (which its constructor calls too) refuses a bool, None, NaN or a string
# where the constructor stores a number, instead of a failure when the net is evaluated.

@pytest.mark.parametrize("make, param, value", [
    (lambda: ConvolutionLayer(2, (2, 2), Input=(1, 4, 4)), "stride", True),
    (lambda: DeconvolutionLayer(2, 2, Stride=2, Input=(3, 2, 2)), "dilation", True),
    (lambda: NormalizationLayer(Input=(2, 3)), "epsilon", None),
    (lambda: SoftmaxLayer(Input=4), "level", True),
    (lambda: SoftmaxLayer(Input=4), "level", float("nan")),
    (lambda: ContrastiveLossLayer(0.5, Input="Real"), "margin", None),
    (lambda: ContrastiveLossLayer(0.5, Input="Real"), "margin", {"$varying": True}),
    (lambda: PaddingLayer([(1, 2)], Input=3), "padding", []),
    # also PaddingLayer(..., Padding=1e308) itself: F.pad cannot hold it in float32
    (lambda: PaddingLayer([(1, 2)], Input=3), "padding", 1e308),
    (lambda: NetNestOperator(LinearLayer(3, Input=3), 4), "n", None),
    (lambda: LinearLayer(3, Input=2), "size", "abc"),
    (lambda: LinearLayer(3, Input=2), "size", [True]),
    (lambda: LinearLayer(3, Input=2), "biases", None),
    (lambda: LongShortTermMemoryLayer(2, Input=("Varying", 1)), "n", 2.5),
    (lambda: GatedRecurrentLayer(2, Input=("Varying", 1)), "n", True),
])
def test_a_hyperparameter_of_the_wrong_type_is_refused(tmp_path, make, param, value):
    meta, arrays = parts(NetInitialize(make()))
    meta["net"]["params"][param] = value
    path = write(tmp_path, zip_bytes(json.dumps(meta).encode(), arrays))
    err = refused(path, "is inconsistent: .*expected")
    assert make().head in str(err)


def test_the_constructor_refuses_a_padding_value_beyond_float32():
    with pytest.raises(LayerError, match="PaddingLayer: expected Padding to be a number"):
        PaddingLayer([(1, 2)], Input=3, Padding=1e308)
    assert PaddingLayer([(1, 2)], Input=3, Padding=-1e30)([1.0, 2.0, 3.0])[0] == -1e30


def test_known_padding_overflow_file_is_refused():
    refused(str(CORPUS / "known-padding-value-overflow.netgraph"), "PaddingLayer.*Padding")
