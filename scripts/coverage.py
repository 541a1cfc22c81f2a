"""Regenerate docs/coverage.md: what netgraph supports of the Wolfram Language net framework.

The lists of WL names below are kept by hand (from /work/shared/reference/wolfram-nn.md:
the layer heads of section 4.1, the net functions of sections 1-3, 6 and 9, NetTrain's
options of section 7.4 and its properties of section 7.3). Whether netgraph supports a name
is never written by hand: it is read from the code each time this script runs.

- A head or function is supported when its name is in ``netgraph.__all__``.
- A NetTrain option or property is supported when NetTrain accepts it (an option that is
  accepted but never read is marked "accepted, no effect yet", one whose placeholder says
  "<Option> is not available yet" is marked "not yet (refused)"): the names are read
  from the tables of the ``netgraph.train`` package (any module-level dict, tuple, list or
  set of names that contains ``"MaxTrainingRounds"`` is a table of options; one that
  contains ``"RoundLossList"`` is a table of properties).

Run ``python scripts/coverage.py`` to rewrite docs/coverage.md, ``--check`` to only compare
(exit status 1 when the file is out of date). tests/test_docs.py runs the comparison.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "coverage.md"

# (WL head, group in WL's guide, what it does in WL). Section 4.1 of the reference.
LAYERS: list[tuple[str, str, str]] = [
    ("LinearLayer", "Basic", "trainable affine map w . x + b"),
    ("SoftmaxLayer", "Basic", "normalized exponential over a level"),
    ("FunctionLayer", "Custom", "a net written as a WL function"),
    ("CompiledLayer", "Custom", "a layer from compiled code"),
    ("PlaceholderLayer", "Custom", "a stand-in for a layer not yet known"),
    ("ElementwiseLayer", "Elementwise", "a function applied to every element"),
    ("ThreadingLayer", "Elementwise", "a function threaded over several inputs"),
    ("ParametricRampLayer", "Elementwise", "leaky ReLU with a learned slope"),
    ("RandomArrayLayer", "Elementwise", "samples random arrays"),
    ("CatenateLayer", "Structure", "joins inputs along a level"),
    ("PrependLayer", "Structure", "prepends an element to a sequence"),
    ("AppendLayer", "Structure", "appends an element to a sequence"),
    ("FlattenLayer", "Structure", "flattens levels"),
    ("ReshapeLayer", "Structure", "reshapes to given dimensions"),
    ("ReplicateLayer", "Structure", "replicates the input along a new level"),
    ("PaddingLayer", "Structure", "pads an array"),
    ("PartLayer", "Structure", "takes a part, as Part does"),
    ("TransposeLayer", "Structure", "transposes levels"),
    ("ExtractLayer", "Structure", "extracts parts at positions given as an input"),
    ("NetArrayLayer", "Array", "a learned constant array, no input"),
    ("SummationLayer", "Array", "sum of all elements"),
    ("TotalLayer", "Array", "elementwise sum of several inputs"),
    ("AggregationLayer", "Array", "Total/Max/Mean/... over levels"),
    ("DotLayer", "Array", "dot product of two inputs"),
    ("OrderingLayer", "Array", "ordering (argsort) of the input"),
    ("ConvolutionLayer", "Convolution", "trainable convolution"),
    ("DeconvolutionLayer", "Convolution", "trainable transposed convolution"),
    ("PoolingLayer", "Convolution", "max or mean pooling"),
    ("ResizeLayer", "Convolution", "resizes images"),
    ("SpatialTransformationLayer", "Convolution", "learned affine warping of images"),
    ("BasicRecurrentLayer", "Recurrent", "simple recurrent layer, port \"State\""),
    ("GatedRecurrentLayer", "Recurrent", "GRU, port \"State\""),
    ("LongShortTermMemoryLayer", "Recurrent", "LSTM, ports \"State\" and \"CellState\""),
    ("UnitVectorLayer", "Sequence", "one-hot encoding of integers"),
    ("EmbeddingLayer", "Sequence", "trainable embedding of integers"),
    ("AttentionLayer", "Sequence", "attention over keys and values"),
    ("SequenceLastLayer", "Sequence", "the last element of a sequence"),
    ("SequenceMostLayer", "Sequence", "all elements but the last"),
    ("SequenceRestLayer", "Sequence", "all elements but the first"),
    ("SequenceReverseLayer", "Sequence", "the sequence reversed"),
    ("SequenceIndicesLayer", "Sequence", "the positions 1..n of a sequence"),
    ("DropoutLayer", "Training", "dropout while training"),
    ("ImageAugmentationLayer", "Training", "random image crops and flips while training"),
    ("BatchNormalizationLayer", "Normalization", "batch normalization"),
    ("NormalizationLayer", "Normalization", "layer/instance normalization"),
    ("LocalResponseNormalizationLayer", "Normalization", "local response normalization"),
    ("MeanSquaredLossLayer", "Loss", "mean squared error"),
    ("MeanAbsoluteLossLayer", "Loss", "mean absolute error"),
    ("CrossEntropyLossLayer", "Loss", "cross-entropy: \"Index\", \"Probabilities\", \"Binary\""),
    ("ContrastiveLossLayer", "Loss", "contrastive loss of a distance"),
    ("CTCLossLayer", "Loss", "connectionist temporal classification"),
    ("NetChain", "Container", "layers applied in sequence"),
    ("NetGraph", "Container", "layers wired into a graph"),
    ("NetMapOperator", "Operator", "maps a net over a sequence"),
    ("NetMapThreadOperator", "Operator", "maps a net over several sequences at once"),
    ("NetFoldOperator", "Operator", "folds a net over a sequence with a recurrent state"),
    ("NetNestOperator", "Operator", "applies a net n times"),
    ("NetBidirectionalOperator", "Operator", "runs a net forward and backward over a sequence"),
    ("NetPairEmbeddingOperator", "Operator", "distance of two embedded inputs"),
    ("NetGANOperator", "Operator", "generator and discriminator trained together"),
]

# (WL head, what it does). Net functions and values outside the layer guide.
FUNCTIONS: list[tuple[str, str]] = [
    ("NetPort", "names a port in connections and evaluation"),
    ("NetInitialize", "initializes arrays (Kaiming, seed 1234 by default)"),
    ("NetTrain", "trains a net"),
    ("Information", "properties of a net"),
    ("NetExtract", "a layer or an array of a net"),
    ("Normal", "a net's layers; a tensor as plain data"),
    ("NetReplacePart", "replaces an array, a layer or a port type"),
    ("NetTake", "the part of a net between two layers or ports"),
    ("NetDrop", "a chain without some layers"),
    ("NetJoin", "joins nets end to end"),
    ("NetFlatten", "flattens nested containers"),
    ("NetRename", "renames layers or ports"),
    ("NetInsert", "inserts a layer into a chain"),
    ("NetAppend", "appends layers"),
    ("NetPrepend", "prepends layers"),
    ("NetDelete", "deletes layers or ports"),
    ("NetArray", "a shared array"),
    ("NetSharedArray", "old name of NetArray"),
    ("NetInsertSharedArrays", "shares every array of a net"),
    ("NetStateObject", "evaluation that keeps recurrent states between calls"),
    ("NetUnfold", "the single-step net of a recurrent net"),
    ("NetPortGradient", "gradients at ports in evaluation"),
    ("NetEncoder", "input encoders (images, text, ...)"),
    ("NetDecoder", "output decoders (classes, ...)"),
    ("NetModel", "the Wolfram neural net repository"),
    ("NetExternalObject", "runs ONNX and other external models"),
    ("NetTrainResultsObject", "what NetTrain returns for All"),
    ("NetMeasurements", "measurements of a net on data"),
    ("Restricted", "bounded integer port types"),
    ("Scaled", "loss weights, data fractions"),
    ("Export", "writes a net to a file (.netgraph, .onnx)"),
    ("Import", "reads a net from a file"),
]

# WL heads that belong to the Wolfram system itself, with the reason netgraph has no such head.
WL_SPECIFIC: dict[str, str] = {
    "CompiledLayer": "WL-specific (code from WL's FunctionCompile); use `FunctionLayer`",
    "NetModel": "WL-specific (the Wolfram Neural Net Repository); use `Import` or "
                "`TorchModuleLayer`",
}

# (type, what it does in WL): WL's named coders (wolfram-coders.md sections 1.1 and 2.1;
# "Scalar" is WL 11's; the "UTF8" decoder is not in WL's list, but the paclet's "UTF8" encoder
# names it as its decoder, section 1.7). Whether netgraph has one is read from NetEncoder's/
# NetDecoder's types.
ENCODERS: list[tuple[str, str]] = [
    ("Boolean", "True/False -> 1/0"),
    ("Class", "a class label -> its index or a unit vector"),
    ("Characters", "a string -> character codes"),
    ("Tokens", "a string -> token codes"),
    ("SubwordTokens", "a string -> subword (BPE) codes"),
    ("UTF8", "a string -> UTF-8 byte codes"),
    ("Image", "an image -> a rank-3 array"),
    ("Image3D", "a 3D image -> a rank-4 array"),
    ("Function", "a custom function"),
    ("FeatureExtractor", "a FeatureExtractorFunction"),
    ("Audio", "audio -> a waveform"),
    ("AudioMelSpectrogram", "audio -> a mel spectrogram"),
    ("AudioMFCC", "audio -> MFCCs"),
    ("AudioSpectrogram", "audio -> a spectrogram"),
    ("AudioSTFT", "audio -> a short-time Fourier transform"),
    ("VideoFrames", "video -> frames"),
    ("Scalar", "a number -> a 1-vector (WL 11)"),
]
DECODERS: list[tuple[str, str]] = [
    ("Boolean", "a probability -> True/False"),
    ("Class", "probabilities -> a class label"),
    ("Characters", "probability vectors -> a string"),
    ("Tokens", "probability vectors -> tokens"),
    ("SubwordTokens", "probability vectors -> subword text"),
    ("UTF8", "probability vectors -> UTF-8 bytes -> a string (not in WL's list; the paclet's "
             "`NetDecoder[NetEncoder[\"UTF8\"]]`)"),
    ("CTCBeamSearch", "CTC outputs -> a sequence, by beam search"),
    ("Image", "a rank-3 array -> an image"),
    ("Image3D", "a rank-4 array -> a 3D image"),
    ("Function", "a custom function"),
    ("Scalar", "a 1-vector -> a number (WL 11)"),
]
# (decoder type, property): the properties of WL's "Class" and "Boolean" decoders
# (section 2.2, 2.3); the other decoders have only None.
DECODER_PROPERTIES: list[tuple[str, str]] = [
    ("Class", p) for p in ("Decision", "Probabilities", "Probability", "TopProbabilities",
                           "TopDecisions", "Entropy", "RandomSample")] + [
    ("Boolean", p) for p in ("Decision", "Probability", "Entropy", "RandomSample")]

# (option, WL default, what it does). Section 7.4 of the reference, then netgraph's own
# options from the contract.
OPTIONS: list[tuple[str, str, str]] = [
    ("BatchSize", "Automatic", "examples per batch"),
    ("LearningRate", "Automatic", "the base learning rate"),
    ("LearningRateMultipliers", "Automatic", "per-layer or per-array rates; 0 or None freezes"),
    ("LossFunction", "Automatic", "which outputs are losses, with Scaled weights"),
    ("MaxTrainingRounds", "Automatic", "number of rounds (epochs)"),
    ("Method", "Automatic", "\"ADAM\", \"SGD\", \"RMSProp\", ... with sub-options"),
    ("PerformanceGoal", "Automatic", "\"TrainingSpeed\" or \"TrainingMemory\""),
    ("RandomSeeding", "Inherited", "seed of shuffling and initialization"),
    ("TargetDevice", "\"CPU\"", "\"CPU\", \"GPU\", (\"GPU\", n), (\"GPU\", All)"),
    ("TimeGoal", "Automatic", "how long to train"),
    ("TrainingProgressCheckpointing", "None", "save the net while training"),
    ("TrainingProgressFunction", "None", "called during training; \"StopTraining\" stops"),
    ("TrainingProgressMeasurements", "Automatic", "measurements such as \"Accuracy\""),
    ("TrainingProgressReporting", "Automatic", "progress bar, \"Print\", None, ..."),
    ("TrainingStoppingCriterion", "None", "early stopping"),
    ("TrainingUpdateSchedule", "Automatic", "which arrays update at which step"),
    ("ValidationSet", "None", "data, or Scaled(f) of the training data"),
    ("WorkingPrecision", "Automatic", "\"Real32\", \"Real64\", \"Mixed\""),
    ("StateTransfer", "(netgraph)", "output ports fed into input ports across batches"),
    ("Mirroring", "(netgraph)", "recompute activations to save memory"),
    ("ResumeFrom", "(netgraph)", "continue a run from a checkpoint"),
]

# (property, what it gives). Section 7.3: NetTrainResultsObject's properties, the extra and
# hidden third-argument properties, and the old names the contract keeps.
PROPERTIES: list[tuple[str, str]] = [
    ("TrainedNet", "the trained net (the default)"),
    ("TrainingNet", "the net with its loss layers attached"),
    ("FinalNet", "the net of the last round (not the best one)"),
    ("ResultsObject", "a NetTrainResultsObject"),
    ("ArraysLearningRateMultipliers", "the multipliers used"),
    ("BatchesPerRound", "batches in one round"),
    ("BatchLossList", "loss of every batch"),
    ("BatchMeasurementsLists", "measurements of every batch"),
    ("BatchSize", "the batch size used"),
    ("BestValidationRound", "round of the lowest validation loss"),
    ("CheckpointingFiles", "files written by checkpointing"),
    ("ExamplesProcessed", "examples seen"),
    ("FinalLearningRate", "learning rate at the end"),
    ("FinalPlots", "plots of loss and measurements"),
    ("InitialLearningRate", "learning rate at the start"),
    ("LossPlot", "plot of the loss"),
    ("MeanBatchesPerSecond", "speed in batches"),
    ("MeanExamplesPerSecond", "speed in examples"),
    ("NetTrainInputForm", "the NetTrain call"),
    ("OptimizationMethod", "the method used"),
    ("ReasonTrainingStopped", "why training stopped"),
    ("RoundLoss", "loss of the last round"),
    ("RoundLossList", "loss of every round"),
    ("RoundMeasurements", "measurements of the last round"),
    ("RoundMeasurementsLists", "measurements of every round"),
    ("RoundPositions", "batch positions of the rounds"),
    ("TargetDevice", "the device used"),
    ("TotalBatches", "batches trained"),
    ("TotalRounds", "rounds trained"),
    ("TotalTrainingTime", "seconds spent"),
    ("TrainingExamples", "number of training examples"),
    ("ValidationExamples", "number of validation examples"),
    ("ValidationLoss", "validation loss of the last round"),
    ("ValidationLossList", "validation loss of every round"),
    ("ValidationMeasurements", "validation measurements of the last round"),
    ("ValidationMeasurementsLists", "validation measurements of every round"),
    ("ExampleLosses", "loss of every example"),
    ("Weights", "the arrays at the end"),
    ("WeightsVector", "the arrays at the end, flattened"),
    ("WeightsRMS", "root mean square of each array"),
    ("Gradients", "the gradients of the last batch"),
    ("GradientsVector", "the gradients of the last batch, flattened"),
    ("GradientsRMS", "root mean square of each gradient"),
    ("LossEvolutionPlot", "old name of LossPlot"),
    ("FinalRoundLoss", "old name of RoundLoss"),
    ("FinalValidationLoss", "old name of ValidationLoss"),
    ("$Trainer", "the trainer, for a custom training loop"),
    ("$TrainingGenerator", "(generator, batches per round), for a custom loop"),
]


# (measurement spec as Python source, what it measures). Section 4 of wolfram-coders.md:
# the spec forms, then the built-in classification and regression measurements.
MEASUREMENTS: list[tuple[str, str]] = [
    ('"Accuracy"', "fraction classified correctly"),
    ('("Accuracy", 2)', 'WL\'s "Accuracy" -> n: the class among the top n'),
    ('"ErrorRate"', "fraction classified incorrectly"),
    ('("ErrorRate", 2)', "the class not among the top n"),
    ('"Precision"', "per class TP/(TP+FP)"),
    ('"Recall"', "per class TP/(TP+FN)"),
    ('"F1Score"', "per class 2TP/(2TP+FP+FN)"),
    ('("FScore", 0.5)', "per class F-beta"),
    ('"Specificity"', "per class TN/(TN+FP)"),
    ('"FalsePositiveRate"', "per class FP/(FP+TN)"),
    ('"FalseNegativeRate"', "per class FN/(FN+TP)"),
    ('"FalseDiscoveryRate"', "per class FP/(FP+TP)"),
    ('"FalseOmissionRate"', "per class FN/(FN+TN)"),
    ('"NegativePredictiveValue"', "per class TN/(TN+FN)"),
    ('"MatthewsCorrelationCoefficient"', "per class MCC"),
    ('"Informedness"', "per class TPR + TNR - 1"),
    ('"Markedness"', "per class PPV + NPV - 1"),
    ('"BalancedAccuracy"', "per class (TPR + TNR)/2"),
    ('"PredictedPositiveConditionRate"', "per class (TP+FP)/N"),
    ('"TruePositiveNumber"', "per class count"),
    ('"FalsePositiveNumber"', "per class count"),
    ('"TrueNegativeNumber"', "per class count"),
    ('"FalseNegativeNumber"', "per class count"),
    ('"ConfusionMatrix"', "counts of actual x predicted classes"),
    ('"ConfusionMatrixPlot"', "a plot of it (NetMeasurements)"),
    ('"CohenKappa"', "Cohen's kappa"),
    ('"ScottPi"', "Scott's pi"),
    ('"AreaUnderROCCurve"', "per class area under the ROC curve"),
    ('"ROCCurve"', "per class ROC curve"),
    ('"ROCCurvePlot"', "a plot of them (NetMeasurements)"),
    ('"Entropy"', "mean entropy of the predictions"),
    ('"Perplexity"', "exp of the entropy"),
    ('"MeanSquare"', "mean squared residual"),
    ('"StandardDeviation"', "root mean squared residual"),
    ('"MeanDeviation"', "mean absolute residual"),
    ('"RSquared"', "coefficient of determination"),
    ('"FractionVarianceUnexplained"', "1 - RSquared"),
    ('"IntersectionOverUnion"', "overlap of predicted boxes"),
    ('"AttentionWeights"', "weights of an AttentionLayer"),
    ('{"Measurement": "Recall", "ClassAveraging": "Macro"}', 'suboptions: "Key", '
     '"ClassAveraging", "Aggregation", "Source", "Interval", "Direction"'),
    ('NetPort("Output")', "the value of an output port"),
    ('NetPort(1, "Output")', "the value of an interior port"),
    ('{"Measurement": len, "Key": "f"}', "a custom function"),
]


def measurement_status(source: str) -> str:
    """"yes", "not yet (refused)" or "no": whether NetTrain's measurement parser takes it."""
    try:
        spec_module = importlib.import_module("netgraph.measure.spec")
        import netgraph
    except ImportError:
        return "no"
    try:
        spec_module.parse_measurements(eval(source, vars(netgraph)), "NetTrain")
    except Exception as e:  # noqa: BLE001 - any refusal counts
        return "not yet (refused)" if "not available yet" in str(e) else "no"
    return "yes"


def _public_names() -> list[str]:
    import netgraph
    return list(netgraph.__all__)


def _string_tables() -> Iterable[tuple[set[str], dict[str, str]]]:
    """Every module-level collection of strings in the netgraph.train package, with its
    mapping when it is a dict of strings (old names -> new names)."""
    try:
        package = importlib.import_module("netgraph.train")
    except ImportError:
        return
    names = [package.__name__] + [m.name for m in pkgutil.walk_packages(
        package.__path__, package.__name__ + ".")]
    for name in names:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, (dict, tuple, list, set, frozenset)):
                items = set(value)
                if items and all(isinstance(x, str) for x in items):
                    renames = {k: v for k, v in value.items() if isinstance(v, str)} if (
                        isinstance(value, dict)) else {}
                    yield items, renames


@functools.lru_cache(maxsize=4)
def _accepted(marker: str) -> frozenset[str]:
    """The names of every table that holds ``marker``, and the old names of a table of
    renames into them (WL's legacy property names)."""
    tables = list(_string_tables())
    found: set[str] = set()
    for items, _ in tables:
        if marker in items:
            found |= items
    for items, renames in tables:
        if renames and len(renames) == len(items) and set(renames.values()) <= found:
            found |= items
    return frozenset(found)


@functools.lru_cache(maxsize=1)
def _source() -> str:
    """netgraph's source, one module after another, each headed by its path."""
    return "\n".join(f"# FILE {p}\n" + p.read_text()
                     for p in sorted((ROOT / "netgraph").rglob("*.py")))


@functools.lru_cache(maxsize=1)
def _unused_options() -> frozenset[str]:
    """Options NetTrain accepts but never reads: in the table ``{option: Option}`` (each
    row has a ``.field``), an option that no other module of netgraph reads, neither as
    ``.field`` nor by its quoted name."""
    try:
        module = importlib.import_module("netgraph.train.options")
    except ImportError:
        return frozenset()
    table = getattr(module, "OPTIONS", None)
    if not isinstance(table, dict):
        return frozenset()
    own = Path(module.__file__).resolve()
    source = "\n".join(p.read_text() for p in sorted((ROOT / "netgraph").rglob("*.py"))
                       if p.resolve() != own)
    unused = set()
    for name, value in table.items():
        field = getattr(value, "field", None)
        if isinstance(field, str) and f".{field}" not in source and f'"{name}"' not in source:
            unused.add(name)
    return frozenset(unused)


def _unavailable_options(accepted: set[str]) -> set[str]:
    """Options NetTrain accepts only to refuse: netgraph's source says "<Option> is not
    available yet" (the message of a placeholder)."""
    return {o for o in accepted if f"{o} is not available yet" in _source()}


def option_status(name: str) -> str:
    """"yes", "no", "accepted, no effect yet" or "not yet (refused)" for a NetTrain option."""
    if "NetTrain" not in _public_names():
        return "no"
    options = _accepted("MaxTrainingRounds")
    if name not in options:
        return "no"
    if name in _unavailable_options(options):
        return "not yet (refused)"
    return "accepted, no effect yet" if name in _unused_options() else "yes"


def available(name: str) -> bool:
    """Whether ``name`` (a public name, a NetTrain option or property) works now."""
    if name in _public_names():
        return True
    if "NetTrain" not in _public_names():
        return False
    return option_status(name) == "yes" or name in _accepted("RoundLossList")


def _mark(ok: bool, head: str = "") -> str:
    if not ok and head in WL_SPECIFIC:
        return WL_SPECIFIC[head]
    return "yes" if ok else "no"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _specific(rows: list[list[str]], col: int) -> str:
    n = sum(r[col].startswith("WL-specific") for r in rows)
    return f" ({n} more {'is' if n == 1 else 'are'} specific to the Wolfram system)" if n else ""


def _count(rows: list[list[str]], col: int) -> str:
    return f"{sum(r[col] == 'yes' for r in rows)} of {len(rows)}"


def _other_names(public: list[str]) -> list[list[str]]:
    """Public names that are not in the WL lists above: symbols, errors, netgraph's own."""
    import netgraph
    from netgraph.layers.base import Layer
    from netgraph.symbols import Symbol
    known = {h for h, *_ in LAYERS} | {h for h, _ in FUNCTIONS}
    rows = []
    for name in public:
        if name in known:
            continue
        obj = getattr(netgraph, name)
        if isinstance(obj, Symbol):
            kind = "symbol"
        elif isinstance(obj, type) and issubclass(obj, Exception):
            kind = "error"
        elif isinstance(obj, type) and issubclass(obj, Layer):
            kind = "layer"
        elif isinstance(obj, type):
            kind = "class"
        else:
            kind = "function" if callable(obj) else "value"
        rows.append((kind, name))
    order = {"layer": 0, "function": 1, "class": 2, "value": 3, "symbol": 4, "error": 5}
    rows.sort(key=lambda r: order[r[0]])
    grouped: dict[str, list[str]] = {}
    for kind, name in rows:
        grouped.setdefault(kind, []).append(f"`{name}`")
    return [[kind, ", ".join(names)] for kind, names in grouped.items()]


def _coder_rows() -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """Rows of the encoder, decoder and decoder-property tables, read from netgraph.coders."""
    try:
        from netgraph.coders import NetDecoder, NetEncoder
        enc, dec = NetEncoder._types, NetDecoder._types
    except ImportError:
        enc, dec = {}, {}
    encoders = [[f'`"{t}"`', _mark(t in enc), note] for t, note in ENCODERS]
    decoders = [[f'`"{t}"`', _mark(t in dec), note] for t, note in DECODERS]
    props = [[f'`"{t}"`', f'`"{p}"`', _mark(t in dec and p in dec[t].PROPERTIES)]
             for t, p in DECODER_PROPERTIES]
    return encoders, decoders, props


def _others(label: str, accepted: set[str], listed: set[str]) -> list[str]:
    extra = sorted(accepted - listed)
    return [f"{label}: " + ", ".join(f"`{x}`" for x in extra) + ".", ""] if extra else []


def render() -> str:
    """The text of docs/coverage.md for the netgraph that is importable now."""
    public = set(_public_names())
    options, properties = set(), set()
    if "NetTrain" in public:  # an option table without NetTrain is work in progress
        options, properties = _accepted("MaxTrainingRounds"), _accepted("RoundLossList")
    layers = [[f"`{h}`", g, _mark(h in public, h), note] for h, g, note in LAYERS]
    funcs = [[f"`{h}`", _mark(h in public, h), note] for h, note in FUNCTIONS]
    opts = [[f"`{o}`", d, option_status(o), note] for o, d, note in OPTIONS]
    props = [[f'`"{p}"`', _mark(p in properties), note] for p, note in PROPERTIES]
    meas = [[f"`{m}`", measurement_status(m), note] for m, note in MEASUREMENTS]
    encoders, decoders, coder_props = _coder_rows()
    out = [
        "# Coverage of the Wolfram Language",
        "",
        "<!-- Generated by scripts/coverage.py; do not edit by hand. -->",
        "",
        "What netgraph supports of the Wolfram Language neural net framework. The WL names and",
        "their notes are kept by hand in `scripts/coverage.py`; the **netgraph** column is read",
        "from the code each time the script runs: a head or function is supported when",
        "`from netgraph import *` brings it, a NetTrain option or property when NetTrain",
        "accepts it (\"accepted, no effect yet\": NetTrain takes the option but does not use",
        "it yet; \"not yet (refused)\": NetTrain knows the option but refuses it as not yet",
        "available). A test fails when this page is out of date. How each construct is",
        "spelled in Python is in [Porting from Mathematica](porting.md).",
        "",
        "## Layers, containers and operators",
        "",
        f"netgraph has {_count(layers, 2)} of WL's layer heads{_specific(layers, 2)}.",
        "",
        *_table(["WL head", "group", "netgraph", "what it does in WL"], layers),
        "",
        "## Net functions",
        "",
        f"netgraph has {_count(funcs, 1)} of these functions{_specific(funcs, 1)}.",
        "",
        *_table(["WL head", "netgraph", "what it does in WL"], funcs),
        "",
        "## Encoders and decoders",
        "",
        f"netgraph has {_count(encoders, 1)} of WL's encoder types and {_count(decoders, 1)} of",
        "its decoder types (see [Encoders and decoders](guide/coders.md)).",
        "",
        *_table(["NetEncoder type", "netgraph", "what it does in WL"], encoders),
        "",
        *_table(["NetDecoder type", "netgraph", "what it does in WL"], decoders),
        "",
        f"Decoder properties (`dec(x, prop)`, `net(x, prop)`): netgraph has "
        f"{_count(coder_props, 2)}; every decoder also takes None (no decoding).",
        "",
        *_table(["decoder", "property", "netgraph"], coder_props),
        "",
        "Coders on ports (see [Nets with encoders and decoders](guide/coded-nets.md)):",
        "`Input=NetEncoder(...)`, `Output=NetDecoder(...)` or a coder's name on any layer,",
        "NetChain or NetGraph, fixing or checked against the port's shape; `NetExtract`,",
        "`NetReplacePart` (a coder, or None), `NetAppend`/`NetPrepend` as WL; evaluation with",
        "properties (`net(x, prop)`, `net(x, (port, prop))`, `net(x, None)`); NetTrain on",
        "labels, booleans, images and strings with the loss the decoder asks for; Export/Import",
        "keep coders (not \"Function\" ones); ONNX export holds the numeric net.",
        "",
        "## NetTrain options",
        "",
        f"NetTrain accepts {_count(opts, 2)} of these options. `StateTransfer`, `Mirroring`",
        "and `ResumeFrom` are netgraph's own (see [Stateful nets](guide/stateful.md) and",
        "[Training with NetTrain](guide/training.md)).",
        "",
        *_table(["option", "WL default", "netgraph", "what it does"], opts),
        "",
        *_others("Other options NetTrain accepts", options, {o for o, *_ in OPTIONS}),
        "## NetTrain properties",
        "",
        f"NetTrain accepts {_count(props, 1)} of these properties, which are the third",
        "argument of `NetTrain(net, data, prop)`.",
        "",
        *_table(["property", "netgraph", "what it gives"], props),
        "",
        *_others("Other properties NetTrain accepts", properties, {p for p, _ in PROPERTIES}),
        "## Measurements",
        "",
        f"`TrainingProgressMeasurements` and `NetMeasurements` take {_count(meas, 1)} of these",
        "measurement forms (WL's `\"Accuracy\" -> n` is the tuple `(\"Accuracy\", n)`). WL's",
        "synonyms (\"FMeasure\", \"Kappa\", \"AUC\", \"R2\", ...) are accepted too. See",
        "[Training with NetTrain](guide/training.md#measurements).",
        "",
        *_table(["measurement", "netgraph", "what it measures"], meas),
        "",
        "## Other public names",
        "",
        "Names that `from netgraph import *` brings besides the WL heads above.",
        "",
        *_table(["kind", "names"], _other_names(_public_names())),
        "",
    ]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    text = render()
    if "--check" in argv:
        if OUT.read_text() != text:
            print("docs/coverage.md is out of date; run python scripts/coverage.py")
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
