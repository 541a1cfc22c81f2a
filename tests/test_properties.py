"""Property tests over random graphs (hypothesis).

A *recipe* is a random DAG of layers (LinearLayer, ElementwiseLayer, ThreadingLayer,
TotalLayer, CatenateLayer, SoftmaxLayer, ReshapeLayer, FlattenLayer, the recurrent layers
on sequence inputs and their "State" outputs, SequenceLastLayer, SequenceReverseLayer,
SequenceRestLayer, SequenceMostLayer) drawn together with the shape every value must have.
A *bad* recipe has one layer whose input cannot fit. The properties:

- construction of a good recipe succeeds with every port shape inferred, and each layer's
  output has the shape the recipe predicts; construction of a bad recipe raises a
  NetGraphError that names a port; nothing ever raises another exception type;
- evaluating an initialized graph equals a reference interpreter written here, which
  walks the recipe and calls each layer's own torch module (never the generated forward);
  a layer evaluated standalone gives what its module gives;
- a batch equals its examples one at a time (ragged sequence batches included);
- Export/Import round-trips bit for bit: same arrays, same outputs, same file bytes.

Examples are derandomized (the same ones every run) and few, to keep the file near 20 s;
set NETGRAPH_PROPERTY_EXAMPLES=n to run n times as many, with fresh random examples.
"""
import functools
import os
import re
import tempfile
from dataclasses import dataclass, field

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netgraph import *  # noqa: F403
from netgraph.backend.base import builder_for
from netgraph.ports import PortRef
from netgraph.shapes import VARYING

SCALE = int(os.environ.get("NETGRAPH_PROPERTY_EXAMPLES", "0"))


def bounded(n):
    """Hypothesis settings for about ``n`` examples (see the module docstring)."""
    return settings(max_examples=n * max(SCALE, 1), deadline=None, derandomize=not SCALE,
                    database=None, suppress_health_check=[HealthCheck.too_slow,
                                                          HealthCheck.data_too_large])


ELEMENTWISE = [Ramp, Tanh, LogisticSigmoid, Sin, Abs]
THREADING = [Plus, Times, Max, Min, Subtract]
RECURRENT = [LongShortTermMemoryLayer, GatedRecurrentLayer, BasicRecurrentLayer]
PORT_NAMED = re.compile(r'NetPort\(|port "')


# -- recipes --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Value:
    """A value in the graph: where it comes from and its dims (sequences: first dim "V" for
    any length, or the fixed length; ``tag`` says which length it has)."""

    source: object            # NetPort("A"), "n3", NetPort("n3", "State")
    dims: tuple
    seq: bool = False
    tag: int = 0              # how many SequenceRest/Most shortened the sequence
    integer: bool = False     # integers 1..5 (only an EmbeddingLayer reads them)

    @property
    def size(self):
        return int(np.prod(self.dims)) if not self.seq else None


@dataclass
class Recipe:
    inputs: dict                               # graph input -> shape spec
    values: list                               # Value, in creation order
    nodes: dict = field(default_factory=dict)  # name -> (layer, [input Values], out dims)
    bad: str = ""                              # the mutation, for bad recipes
    shrink: int = 0                            # SequenceRest/Most layers used

    @property
    def used(self):
        """The graph inputs some layer reads, with their shapes (the graph's input ports)."""
        read = {v.source.port for _, ins, _ in self.nodes.values() for v in ins
                if isinstance(v.source, NetPort) and v.source.is_graph_port}
        return {p: s for p, s in self.inputs.items() if p in read}

    def add(self, name, layer, ins, outs):
        """``outs``: [(output port, Value or None)] the layer makes (None: not usable)."""
        self.nodes[name] = (layer, ins, {p: v for p, v in outs})
        self.values += [v for _, v in outs if v is not None]


def _spec(dims, seq):
    if seq:
        return tuple("Varying" if d == "V" else d for d in dims)
    return dims[0] if len(dims) == 1 else dims


@st.composite
def recipes(draw, bad=False):
    r = Recipe({}, [])
    if draw(st.booleans()):   # one sequence input at most: every sequence has its length
        k, t = draw(st.integers(1, 3)), draw(st.sampled_from(["V", "V", 3, 4]))
        r.inputs["S"] = _spec((t, k), True)
        r.values.append(Value(NetPort("S"), (t, k), True))
    if draw(st.integers(0, 3)) == 0:   # class indices 1..5, for an EmbeddingLayer
        r.inputs["I"] = (3, Restricted("Integer", 5))
        r.values.append(Value(NetPort("I"), (3,), integer=True))
    for name in ["A", "B"][:draw(st.integers(0 if r.inputs else 1, 2))]:
        dims = draw(st.sampled_from([(2,), (3,), (4,), (2, 3), (3, 2)]))
        r.inputs[name] = _spec(dims, False)
        r.values.append(Value(NetPort(name), dims))
    count = draw(st.integers(2, 8))
    where = draw(st.integers(0, count - 1)) if bad else -1
    for j in range(count):
        name = f"n{j + 1}"
        if j == where:
            _bad_node(draw, r, name)
        else:
            draw(st.sampled_from(_good_kinds(r)))(draw, r, name)
    return r


def _pick(draw, values, pred=lambda v: True):
    return draw(st.sampled_from([v for v in values if pred(v) and not v.integer]))


def _linear(draw, r, name):
    x = _pick(draw, r.values, lambda v: not v.seq)
    n = draw(st.sampled_from([1, 2, 3, "Real"]))
    r.add(name, LinearLayer(n), [x], [("Output", Value(name, () if n == "Real" else (n,)))])


def _elementwise(draw, r, name):
    x = _pick(draw, r.values)
    r.add(name, ElementwiseLayer(draw(st.sampled_from(ELEMENTWISE))), [x],
          [("Output", Value(name, x.dims, x.seq, x.tag))])


def _threading(draw, r, name):
    x = _pick(draw, r.values)
    alike = [v for v in r.values if (v.dims, v.seq, v.tag, v.integer) ==
             (x.dims, x.seq, x.tag, False)]
    f = draw(st.sampled_from(THREADING))
    n = 2 if f is Subtract else draw(st.integers(2, 3))
    others = [v for v in alike if v != x] or alike       # distinct inputs where there are
    ins = [x] + [draw(st.sampled_from(others)) for _ in range(n - 1)]
    layer = ThreadingLayer(f) if draw(st.integers(0, 3)) else TotalLayer()
    r.add(name, layer, ins, [("Output", Value(name, x.dims, x.seq, x.tag))])


def _catenate(draw, r, name):
    x = _pick(draw, r.values, lambda v: len(v.dims) == (2 if v.seq else 1))
    alike = [v for v in r.values if v.seq == x.seq and len(v.dims) == len(x.dims)
             and v.tag == x.tag and v.dims[:-1] == x.dims[:-1] and not v.integer]
    ins = [x] + [draw(st.sampled_from(alike)) for _ in range(draw(st.integers(1, 2)))]
    dims = (*x.dims[:-1], sum(v.dims[-1] for v in ins))
    r.add(name, CatenateLayer(-1), ins, [("Output", Value(name, dims, x.seq, x.tag))])


def _softmax(draw, r, name):
    x = _pick(draw, r.values, lambda v: len(v.dims) >= 1)
    r.add(name, SoftmaxLayer(), [x], [("Output", Value(name, x.dims, x.seq, x.tag))])


def _reshape(draw, r, name):
    x = _pick(draw, r.values, lambda v: not v.seq and v.size > 1)
    n = x.size
    a = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    dims = (a, n // a) if draw(st.booleans()) else (n,)
    spec = dims if len(dims) == 1 or draw(st.booleans()) else (a, Automatic)
    r.add(name, ReshapeLayer(spec), [x], [("Output", Value(name, dims))])


def _flatten(draw, r, name):
    x = _pick(draw, r.values, lambda v: not v.seq and len(v.dims) == 2)
    r.add(name, FlattenLayer(), [x], [("Output", Value(name, (x.size,)))])


def _recurrent(draw, r, name):
    x = _pick(draw, r.values, lambda v: v.seq and len(v.dims) == 2)
    n, cls = draw(st.integers(1, 3)), draw(st.sampled_from(RECURRENT))
    outs = [("Output", Value(name, (x.dims[0], n), True, x.tag)),
            ("State", Value(NetPort(name, "State"), (n,)))]
    if cls is LongShortTermMemoryLayer:
        outs.append(("CellState", None))
    r.add(name, cls(n), [x], outs)


def _sequence(draw, r, name):
    x = _pick(draw, r.values, lambda v: v.seq)
    kinds = [SequenceLastLayer, SequenceReverseLayer]
    if r.shrink < 2 and x.dims[0] in ("V", 3, 4):
        kinds += [SequenceRestLayer, SequenceMostLayer]
    cls = draw(st.sampled_from(kinds))
    if cls is SequenceLastLayer:
        out = Value(name, x.dims[1:])
    elif cls is SequenceReverseLayer:
        out = Value(name, x.dims, True, x.tag)
    else:
        r.shrink += 1
        t = x.dims[0] if x.dims[0] == "V" else x.dims[0] - 1
        out = Value(name, (t, *x.dims[1:]), True, x.tag + 1)
    r.add(name, cls(), [x], [("Output", out)])


def _embedding(draw, r, name):
    x = draw(st.sampled_from([v for v in r.values if v.integer]))
    n = draw(st.integers(1, 3))
    r.add(name, EmbeddingLayer(n, 5), [x], [("Output", Value(name, (*x.dims, n)))])


def _transpose(draw, r, name):
    x = _pick(draw, r.values, lambda v: not v.seq and len(v.dims) == 2)
    r.add(name, TransposeLayer(), [x], [("Output", Value(name, x.dims[::-1]))])


def _dropout(draw, r, name):
    x = _pick(draw, r.values)
    r.add(name, DropoutLayer(0.5), [x], [("Output", Value(name, x.dims, x.seq, x.tag))])


def _good_kinds(r):
    vals = [v for v in r.values if not v.integer]
    kinds = [_elementwise, _threading, _threading, _dropout] if vals else []
    if any(v.integer for v in r.values) and not any(v.source == "e" for v in r.values):
        kinds.append(_embedding)
    if any(not v.seq for v in vals):
        kinds.append(_linear)
    if any(len(v.dims) == (2 if v.seq else 1) for v in vals):
        kinds.append(_catenate)
    if any(len(v.dims) >= 1 for v in vals):
        kinds.append(_softmax)
    if any(not v.seq and v.size > 1 for v in vals):
        kinds.append(_reshape)
    if any(not v.seq and len(v.dims) == 2 for v in vals):
        kinds += [_flatten, _transpose]
    if any(v.seq and len(v.dims) == 2 for v in vals):
        kinds += [_recurrent] * 3
    if any(v.seq for v in vals):
        kinds += [_sequence] * 2
    return kinds


def _bad_node(draw, r, name):
    """One layer whose input cannot fit; its output is a usable value of known shape."""
    if all(v.integer for v in r.values):   # give the bad layer a real value to misread
        _embedding(draw, r, name + "e")
    vals = [v for v in r.values if not v.integer]
    options = ["linear"]
    if len({v.dims for v in vals if not v.seq}) > 1:
        options.append("threading")
    if any(not v.seq and len(v.dims) == 0 for v in vals):
        options += ["softmax", "last"]
    if any(not v.seq and len(v.dims) != 2 for v in vals):
        options.append("recurrent")
    if any(not v.seq and v.size > 1 for v in vals):
        options.append("reshape")
    r.bad = kind = draw(st.sampled_from(options))
    if kind == "linear":
        x = _pick(draw, vals)
        m = (x.dims[0] + 1) if len(x.dims) == 1 and not x.seq else 2
        r.add(name, LinearLayer(2, Input=m), [x], [("Output", Value(name, (2,)))])
    elif kind == "threading":
        x = _pick(draw, vals, lambda v: not v.seq)
        y = _pick(draw, vals, lambda v: not v.seq and v.dims != x.dims)
        r.add(name, ThreadingLayer(Plus), [x, y], [("Output", Value(name, x.dims))])
    elif kind in ("softmax", "last"):
        x = _pick(draw, vals, lambda v: not v.seq and len(v.dims) == 0)
        layer = SoftmaxLayer() if kind == "softmax" else SequenceLastLayer()
        r.add(name, layer, [x], [("Output", None)])
    elif kind == "recurrent":
        x = _pick(draw, vals, lambda v: not v.seq and len(v.dims) != 2)
        r.add(name, GatedRecurrentLayer(2), [x], [("Output", None), ("State", None)])
    else:
        x = _pick(draw, vals, lambda v: not v.seq and v.size > 1)
        r.add(name, ReshapeLayer((x.size + 1,)), [x], [("Output", Value(name, (x.size + 1,)))])


def build(r):
    layers = {name: layer for name, (layer, _, _) in r.nodes.items()}
    connections = []
    for name, (layer, ins, _) in r.nodes.items():
        srcs = [v.source for v in ins]
        if getattr(layer, "variadic", False):
            connections.append((srcs, name))
        else:
            connections.append((srcs[0], NetPort(name, "Input")))
    return NetGraph(layers, connections, **r.used)


# -- construction ---------------------------------------------------------------------------
def _dims(v):
    return tuple(VARYING if d == "V" else d for d in v.dims)


@bounded(200)
@given(recipes())
def test_good_graphs_are_built_with_every_shape_inferred(r):
    g = build(r)
    for name, layer in g.nodes.items():
        for types, ports in ((layer.in_types, layer.input_ports()),
                             (layer.out_types, layer.output_ports())):
            assert all(types[p].is_known() for p in ports), (name, dict(types))
        for port, v in r.nodes[name][2].items():
            if v is not None:
                assert layer.out_types[port].dims == _dims(v), (name, port)
    assert all(t.is_known() for t in (*g.in_types.values(), *g.out_types.values()))


@bounded(200)
@given(recipes(bad=True))
def test_bad_graphs_raise_a_netgraph_error_naming_a_port(r):
    try:
        build(r)
    except NetGraphError as e:
        assert PORT_NAMED.search(str(e)), f"{r.bad}: the error names no port: {e}"
        assert e.head in {"NetGraph", *(layer.head for layer, _, _ in r.nodes.values())}
    except Exception as e:  # noqa: BLE001 - any other type is the failure under test
        raise AssertionError(f"{r.bad}: {type(e).__name__} instead of a NetGraphError: "
                             f"{e}") from e
    else:
        raise AssertionError(f"{r.bad}: a bad graph was built")


LAYERS = [lambda: LinearLayer(2), lambda: ElementwiseLayer(Tanh), lambda: ThreadingLayer(Plus),
          lambda: CatenateLayer(), lambda: LongShortTermMemoryLayer(2), SequenceLastLayer,
          TotalLayer, lambda: SoftmaxLayer(), lambda: ReshapeLayer((2, Automatic))]
PORTS = ["Input", "Output", "State", "CellState", "Input1", "Input2", "Foo"]
SHAPES = [2, 3, "Real", (2, 2), ("Varying", 2), "Varying", Restricted("Integer", 3), (0,)]


@functools.cache
def _endpoint(n):
    """Where a connection starts or ends, in a graph of n layers (made once per n: building
    strategies costs more than drawing from them)."""
    ref = st.one_of(st.integers(-1, n + 1), st.sampled_from(["x", "Input", "Output"]),
                    st.builds(NetPort, st.integers(0, n + 1), st.sampled_from(PORTS)),
                    st.builds(NetPort, st.sampled_from(["A", "Input", "Output", "Out"])))
    return st.one_of(ref, st.lists(ref, min_size=1, max_size=3))


@st.composite
def wirings(draw):
    layers = [draw(st.sampled_from(LAYERS))() for _ in range(draw(st.integers(1, 5)))]
    conns = draw(_connections(len(layers)))
    ports = draw(st.dictionaries(st.sampled_from(["Input", "A", "Output", "Out"]),
                                 st.sampled_from(SHAPES), max_size=2))
    return layers, conns, ports


@functools.cache
def _connections(n):
    e = _endpoint(n)
    return st.lists(st.tuples(e, e) | st.tuples(e, e, e), max_size=5)


@bounded(200)
@given(wirings())
def test_random_wirings_build_or_raise_a_netgraph_error(w):
    """Any wiring at all (unknown layers and ports, ports fed twice, cycles, bad shapes)
    either builds or raises a NetGraphError that says which layer or port is wrong."""
    layers, conns, ports = w
    try:
        g = NetGraph(layers, conns, **ports)
    except NetGraphError as e:
        assert re.search(r'NetPort\(|port|layer|[Cc]ycle|"', str(e)), str(e)
    except Exception as e:  # noqa: BLE001 - any other type is the failure under test
        raise AssertionError(f"{type(e).__name__} instead of a NetGraphError: {e}") from e
    else:
        assert len(g.nodes) == len(layers)


# -- the reference interpreter --------------------------------------------------------------
def reference(g, r, feeds):
    """The graph's outputs computed node by node with each layer's own torch module."""
    env = {p: torch.as_tensor(np.asarray(v), dtype=torch.int64 if p == "I" else torch.float32)
           for p, v in feeds.items()}
    values = {}
    for name in r.nodes:
        layer, ins, _ = r.nodes[name]
        layer = g.nodes[name]                       # inferred and initialized
        module = builder_for(layer)(layer).eval()   # evaluation: dropout is the identity
        if module.array_names:
            module.set_arrays(dict(layer.arrays))
        args = [_lookup(values, env, v.source) for v in ins]
        args += [None] * (len(layer.input_ports()) - len(args))   # states: zeros by default
        with torch.no_grad():
            out = module(*args)
        outs = out if isinstance(out, tuple) else (out,)
        for p, t in zip(layer.output_ports(), outs, strict=True):
            values[(name, p)] = t
    result = {}
    for port in g.params["outputs"]:
        src = g.edges[PortRef(None, port)]
        assert src.node in r.nodes                  # an output comes from a recipe layer
        result[port] = values[(src.node, src.port)].numpy()
    return result


def _lookup(values, env, source):
    if isinstance(source, str):
        return values[(source, "Output")]
    if source.is_graph_port:
        return env[source.port]
    return values[(source.path[0], source.port)]


def _example(rng, spec, length):
    if isinstance(spec, tuple) and isinstance(spec[-1], Restricted):
        return rng.integers(1, 6, size=spec[:-1])
    dims = (spec,) if isinstance(spec, int) else tuple(
        length if d == "Varying" else d for d in spec)
    return rng.normal(size=dims).astype(np.float32)


def _feeds(r, rng, batch, lengths):
    return {p: np.stack([_example(rng, s, lengths[i]) for i in range(batch)])
            for p, s in r.used.items()}


def _as_dict(g, out):
    return out if isinstance(out, dict) else {g.params["outputs"][0]: out}


def _close(a, b, tol=1e-5):
    return np.allclose(np.asarray(a, np.float64), np.asarray(b, np.float64), rtol=tol, atol=tol)


def _fixed(r):
    t = r.used.get("S")
    return None if t is None or t[0] == "Varying" else t[0]


@bounded(100)
@given(recipes(), st.integers(0, 2**31 - 1), st.integers(1, 3), st.data())
def test_evaluation_matches_the_reference_and_one_at_a_time(r, seed, batch, data):
    g = NetInitialize(build(r), RandomSeeding=seed)
    rng = np.random.default_rng(seed)
    length = _fixed(r) or r.shrink + draw_length(data)
    feeds = _feeds(r, rng, batch, [length] * batch)
    got = _as_dict(g, g(feeds))
    want = reference(g, r, feeds)
    assert got.keys() == want.keys()
    for p in want:
        assert _close(got[p], want[p]), (p, got[p], want[p])
    for i in range(batch):                           # a batch is its examples one at a time
        one = _as_dict(g, g({p: v[i] for p, v in feeds.items()}))
        assert all(_close(one[p], got[p][i]) for p in want)
    name = data.draw(st.sampled_from(sorted(r.nodes)))
    _standalone_equals_module(g, r, name, rng)


def draw_length(data):
    return data.draw(st.integers(1, 3))


def _standalone_equals_module(g, r, name, rng):
    """A layer value evaluated on its own gives what its module gives."""
    layer = g.nodes[name]
    visible = [p for p in layer.input_ports() if p not in layer.states]
    x = {}
    for p in visible:
        t = layer.in_types[p]
        dims = (2, *(2 if d is VARYING else d for d in t.dims))
        x[p] = (rng.integers(t.bound[0], t.bound[1] + 1, size=dims) if t.kind == "Integer"
                else rng.normal(size=dims).astype(np.float32))
    out = layer(x if len(visible) > 1 else x[visible[0]])
    module = builder_for(layer)(layer).eval()
    if module.array_names:
        module.set_arrays(dict(layer.arrays))
    with torch.no_grad():
        ref = module(*[torch.from_numpy(x[p]) for p in visible])
    ref = ref if isinstance(ref, tuple) else (ref,)
    outs = dict(zip(layer.output_ports(), ref, strict=True))
    got = out if isinstance(out, dict) else {"Output": out}
    for p, v in got.items():
        assert _close(v, outs[p].numpy()), (name, p)


@bounded(30)
@given(recipes().filter(lambda r: "S" in r.used and r.inputs["S"][0] == "Varying"),
       st.integers(0, 2**31 - 1), st.lists(st.integers(1, 4), min_size=2, max_size=4))
def test_ragged_sequence_batches_equal_one_at_a_time(r, seed, extra):
    g = NetInitialize(build(r), RandomSeeding=seed)
    rng = np.random.default_rng(seed)
    lengths = [r.shrink + e for e in extra]
    examples = [{p: _example(rng, s, n) for p, s in r.used.items()} for n in lengths]
    batch = {p: [e[p] for e in examples] for p in r.used}
    got = g(batch)
    got = got if isinstance(got, dict) else {g.params["outputs"][0]: got}
    for i, e in enumerate(examples):
        one = _as_dict(g, g(e))
        for p in one:
            assert _close(one[p], got[p][i], 1e-4), (p, i)


# -- files ------------------------------------------------------------------------------------
@bounded(40)
@given(recipes(), st.integers(0, 2**31 - 1))
def test_export_import_round_trips_bit_for_bit(r, seed):
    g = NetInitialize(build(r), RandomSeeding=seed)
    with tempfile.TemporaryDirectory() as d:
        first, second = os.path.join(d, "a.netgraph"), os.path.join(d, "b.netgraph")
        Export(first, g)
        back = Import(first)
        Export(second, back)
        with open(first, "rb") as f1, open(second, "rb") as f2:
            assert f1.read() == f2.read()             # structure, options and arrays
    for k in ("InputPorts", "OutputPorts"):
        assert Information(back, k) == Information(g, k)
    a, b = Information(g, "Arrays"), Information(back, "Arrays")
    assert a.keys() == b.keys()
    assert all(np.asarray(a[k]).tobytes() == np.asarray(b[k]).tobytes() for k in a)
    rng = np.random.default_rng(seed)
    feeds = _feeds(r, rng, 2, [_fixed(r) or r.shrink + 2] * 2)
    x, y = _as_dict(g, g(feeds)), _as_dict(back, back(feeds))
    assert all(np.array_equal(x[p], y[p]) for p in x)
