"""NetEncoder and NetDecoder: WL's coders, turning data into arrays and arrays into data.

Pure Python, numpy and Pillow (no torch), at the level of the layers. Each type lives in its
own module and registers itself under :class:`NetEncoder` or :class:`NetDecoder`.
"""
from . import classes, ctc, function, image, simple, text  # noqa: F401  (register the types)
from .base import Coder, CoderError
from .text import (
    Blank,
    DigitCharacter,
    EndOfString,
    LetterCharacter,
    PunctuationCharacter,
    StartOfString,
    WhitespaceCharacter,
    WordCharacter,
)
from .values import NetDecoder, NetEncoder

__all__ = ["Coder", "CoderError", "NetDecoder", "NetEncoder", "Blank", "DigitCharacter",
           "EndOfString", "LetterCharacter", "PunctuationCharacter", "StartOfString",
           "WhitespaceCharacter", "WordCharacter"]
