"""netgraph: Wolfram Language style neural networks (NetGraph, NetChain, NetTrain) on PyTorch.

``from netgraph import *`` brings the WL heads and symbols, as a WL user expects.
"""
from __future__ import annotations

from .backend.init import NetInitialize
from .errors import (ConnectionError_, EvaluationError, LayerError, NetGraphError,
                     NetImportError, OptionError, ShapeError, TrainingError)
from .graph.edit import NetExtract
from .graph.net import NetChain, NetGraph
from .info import Information
from .layers.basic import ElementwiseLayer, LinearLayer, SoftmaxLayer, ThreadingLayer
from .layers.conv import ConvolutionLayer, DeconvolutionLayer, PoolingLayer
from .layers.embedding import AttentionLayer, EmbeddingLayer
from .layers.loss import (ContrastiveLossLayer, CrossEntropyLossLayer, MeanAbsoluteLossLayer,
                          MeanSquaredLossLayer)
from .layers.normalization import BatchNormalizationLayer, DropoutLayer, NormalizationLayer
from .layers.recurrent import (BasicRecurrentLayer, GatedRecurrentLayer,
                               LongShortTermMemoryLayer)
from .layers.sequence import (SequenceLastLayer, SequenceMostLayer, SequenceRestLayer,
                              SequenceReverseLayer)
from .normal import Normal
from .ports import NetPort
from .shapes import Restricted
from .symbols import (ELU, GELU, SELU, Abs, All, Automatic, Catenate, Cos, Divide, Erf, Exp,
                      HardSigmoid, HardTanh, Identity, Inherited, Log, LogisticSigmoid, Max,
                      Mean, Min, Plus, Power, Ramp, Scaled, Sign, Sin, SoftRamp, Sqrt, Square,
                      Subtract, Swish, Tanh, Times, Total)

__version__ = "0.1.0"

__all__ = [
    # containers and ports
    "NetGraph", "NetChain", "NetPort", "Restricted",
    # net functions
    "NetInitialize", "NetExtract", "Information", "Normal",
    # layers
    "LinearLayer", "ElementwiseLayer", "ThreadingLayer", "SoftmaxLayer",
    "LongShortTermMemoryLayer", "GatedRecurrentLayer", "BasicRecurrentLayer",
    "SequenceLastLayer", "SequenceMostLayer", "SequenceRestLayer", "SequenceReverseLayer",
    "MeanSquaredLossLayer", "MeanAbsoluteLossLayer", "CrossEntropyLossLayer",
    "ContrastiveLossLayer",
    "DropoutLayer", "BatchNormalizationLayer", "NormalizationLayer",
    "ConvolutionLayer", "DeconvolutionLayer", "PoolingLayer", "EmbeddingLayer", "AttentionLayer",
    # symbols
    "Automatic", "All", "Inherited", "Scaled", "Ramp", "Tanh", "LogisticSigmoid", "Sin", "Cos",
    "Exp", "Log", "Sqrt", "Abs", "Sign", "Square", "Erf", "SoftRamp", "ELU", "SELU", "GELU",
    "Swish", "HardTanh", "HardSigmoid", "Identity", "Plus", "Times", "Subtract", "Divide",
    "Max", "Min", "Power", "Mean", "Total", "Catenate",
    # errors
    "NetGraphError", "ShapeError", "ConnectionError_", "EvaluationError", "OptionError",
    "TrainingError", "NetImportError", "LayerError",
]
