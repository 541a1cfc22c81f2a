"""netgraph: Wolfram Language style neural networks (NetGraph, NetChain, NetTrain) on PyTorch.

``from netgraph import *`` brings the WL heads and symbols, as a WL user expects.
"""
from __future__ import annotations

from typing import Any as _Any

from . import wl  # noqa: F401 - netgraph.wl; registers Information(net, "WLInputForm")
from .backend.init import NetInitialize
from .coders import (
    Blank,
    CoderError,
    DigitCharacter,
    EndOfString,
    LetterCharacter,
    NetDecoder,
    NetEncoder,
    PunctuationCharacter,
    StartOfString,
    WhitespaceCharacter,
    WordCharacter,
)
from .errors import (
    ConnectionError_,
    EvaluationError,
    LayerError,
    NetExportError,
    NetGraphError,
    NetImportError,
    OptionError,
    ShapeError,
    TrainingError,
)
from .graph.edit import NetExtract, NetRename, NetReplacePart
from .graph.net import NetChain, NetGraph
from .graph.shared import NetInsertSharedArrays
from .graph.surgery import (
    NetAppend,
    NetDelete,
    NetDrop,
    NetFlatten,
    NetInsert,
    NetJoin,
    NetPrepend,
    NetTake,
)
from .info import Information
from .info import html_repr as _html_repr
from .info import layer_repr as _layer_repr
from .io.external import NetExternalObject
from .io.files import Export, Import
from .io.registry import register_public as _register_public
from .io.torch_layer import TorchModuleLayer, ToTorchModule
from .layers.activation import ParametricRampLayer
from .layers.array import AggregationLayer, DotLayer, NetArrayLayer, SummationLayer, TotalLayer
from .layers.base import register_upcall as _register_upcall
from .layers.basic import ElementwiseLayer, LinearLayer, SoftmaxLayer, ThreadingLayer
from .layers.conv import ConvolutionLayer, DeconvolutionLayer, PoolingLayer
from .layers.ctc import CTCLossLayer
from .layers.custom import FunctionLayer, PlaceholderLayer
from .layers.embedding import AttentionLayer, EmbeddingLayer
from .layers.image import (
    ImageAugmentationLayer,
    LocalResponseNormalizationLayer,
    ResizeLayer,
    SpatialTransformationLayer,
)
from .layers.indexing import ExtractLayer, OrderingLayer, SequenceIndicesLayer, UnitVectorLayer
from .layers.levels import Span
from .layers.loss import (
    ContrastiveLossLayer,
    CrossEntropyLossLayer,
    MeanAbsoluteLossLayer,
    MeanSquaredLossLayer,
)
from .layers.normalization import BatchNormalizationLayer, DropoutLayer, NormalizationLayer
from .layers.operators import (
    NetBidirectionalOperator,
    NetFoldOperator,
    NetMapOperator,
    NetMapThreadOperator,
    NetNestOperator,
    NetUnfold,
)
from .layers.random import (
    BernoulliDistribution,
    BinomialDistribution,
    ChiDistribution,
    ChiSquareDistribution,
    DiscreteUniformDistribution,
    ErlangDistribution,
    ExponentialDistribution,
    GammaDistribution,
    HalfNormalDistribution,
    InverseGammaDistribution,
    MaxwellDistribution,
    NakagamiDistribution,
    NegativeBinomialDistribution,
    NormalDistribution,
    PoissonDistribution,
    RandomArrayLayer,
    RayleighDistribution,
    UniformDistribution,
    WeibullDistribution,
)
from .layers.recurrent import BasicRecurrentLayer, GatedRecurrentLayer, LongShortTermMemoryLayer
from .layers.reshape import FlattenLayer, PartLayer, ReshapeLayer, TransposeLayer
from .layers.sequence import (
    SequenceLastLayer,
    SequenceMostLayer,
    SequenceRestLayer,
    SequenceReverseLayer,
)
from .layers.shared import NetArray, NetSharedArray
from .layers.structure import AppendLayer, CatenateLayer, PaddingLayer, PrependLayer, ReplicateLayer
from .layers.training_ops import NetGANOperator, NetPairEmbeddingOperator
from .normal import Normal
from .ports import NetPort, NetPortGradient
from .runtime.state import NetStateObject
from .shapes import Restricted
from .symbols import (
    ELU,
    GELU,
    SELU,
    Abs,
    All,
    Automatic,
    Catenate,
    Cos,
    CosineDistance,
    Divide,
    Erf,
    EuclideanDistance,
    Exp,
    File,
    HardSigmoid,
    HardTanh,
    Identity,
    Inherited,
    Log,
    LogisticSigmoid,
    Max,
    Mean,
    Min,
    Plus,
    Power,
    Ramp,
    Scaled,
    Sign,
    Sin,
    SoftRamp,
    Sqrt,
    Square,
    Subtract,
    Swish,
    Tanh,
    Times,
    Total,
)
from .train.heads import NetMeasurements, NetTrain, TrainerCurrentLoss, TrainerUpdate
from .train.results import NetTrainResultsObject
from .version import __version__ as __version__


def _evaluate(net: _Any, data: _Any = None, *ports: _Any, **options: _Any) -> _Any:
    """runtime.evaluate.evaluate, loaded on the first evaluation (it loads torch)."""
    from .runtime.evaluate import evaluate
    _register_upcall("evaluate", evaluate)   # later calls go straight there
    return evaluate(net, data, *ports, **options)


def _function_shapes(f: _Any, names: _Any, types: _Any) -> _Any:
    """backend.custom.shape_function, loaded when a FunctionLayer is first shaped (torch)."""
    from .backend.custom import shape_function
    _register_upcall("function_shapes", shape_function)
    return shape_function(f, names, types)


# A layer value evaluates and shows itself through functions of upper levels, registered here.
_register_upcall("evaluate", _evaluate)
_register_upcall("function_shapes", _function_shapes)
_register_upcall("repr", _layer_repr)
_register_upcall("html", _html_repr)

__all__ = [
    # containers and ports
    "NetGraph", "NetChain", "NetPort", "NetPortGradient", "Restricted",
    # net functions
    "NetInitialize", "NetExtract", "Information", "Normal",
    "Export", "Import", "NetExternalObject", "ToTorchModule", "TorchModuleLayer",
    "NetReplacePart", "NetRename", "NetTake", "NetDrop", "NetAppend", "NetPrepend", "NetJoin",
    "NetFlatten", "NetInsert", "NetDelete", "NetArray", "NetSharedArray", "NetInsertSharedArrays",
    "NetTrain", "TrainerUpdate", "TrainerCurrentLoss", "NetTrainResultsObject",
    "NetMeasurements",
    "NetStateObject", "NetUnfold", "NetEncoder", "NetDecoder",
    # layers
    "LinearLayer", "ElementwiseLayer", "ThreadingLayer", "SoftmaxLayer",
    "LongShortTermMemoryLayer", "GatedRecurrentLayer", "BasicRecurrentLayer",
    "SequenceLastLayer", "SequenceMostLayer", "SequenceRestLayer", "SequenceReverseLayer",
    "MeanSquaredLossLayer", "MeanAbsoluteLossLayer", "CrossEntropyLossLayer",
    "ContrastiveLossLayer",
    "DropoutLayer", "BatchNormalizationLayer", "NormalizationLayer",
    "ConvolutionLayer", "DeconvolutionLayer", "PoolingLayer", "EmbeddingLayer", "AttentionLayer",
    "CatenateLayer", "AppendLayer", "PrependLayer", "ReplicateLayer", "PaddingLayer",
    "ReshapeLayer", "FlattenLayer", "TransposeLayer", "PartLayer", "TotalLayer", "DotLayer",
    "AggregationLayer", "SummationLayer", "NetArrayLayer", "Span",
    "NetMapOperator", "NetMapThreadOperator", "NetFoldOperator", "NetNestOperator",
    "NetBidirectionalOperator", "NetPairEmbeddingOperator", "NetGANOperator",
    "FunctionLayer", "PlaceholderLayer", "ParametricRampLayer", "RandomArrayLayer",
    "ExtractLayer", "OrderingLayer", "UnitVectorLayer", "SequenceIndicesLayer", "ResizeLayer",
    "SpatialTransformationLayer", "ImageAugmentationLayer", "LocalResponseNormalizationLayer",
    "CTCLossLayer",
    # distributions (RandomArrayLayer)
    "NormalDistribution", "UniformDistribution", "ExponentialDistribution",
    "GammaDistribution", "PoissonDistribution", "BernoulliDistribution",
    "BinomialDistribution", "NegativeBinomialDistribution", "DiscreteUniformDistribution",
    "ChiSquareDistribution", "ChiDistribution", "HalfNormalDistribution",
    "RayleighDistribution", "MaxwellDistribution", "WeibullDistribution",
    "NakagamiDistribution", "ErlangDistribution", "InverseGammaDistribution",
    # symbols
    "Automatic", "All", "Inherited", "Scaled", "File", "Ramp", "Tanh", "LogisticSigmoid", "Sin",
    "Cos",
    "Exp", "Log", "Sqrt", "Abs", "Sign", "Square", "Erf", "SoftRamp", "ELU", "SELU", "GELU",
    "Swish", "HardTanh", "HardSigmoid", "Identity", "Plus", "Times", "Subtract", "Divide",
    "Max", "Min", "Power", "Mean", "Total", "Catenate", "EuclideanDistance", "CosineDistance",
    "LetterCharacter", "DigitCharacter", "WordCharacter", "PunctuationCharacter",
    "WhitespaceCharacter", "StartOfString", "EndOfString", "Blank",
    # errors
    "NetGraphError", "ShapeError", "ConnectionError_", "EvaluationError", "OptionError",
    "TrainingError", "NetImportError", "NetExportError", "LayerError", "CoderError",
]
_register_public(__all__)
