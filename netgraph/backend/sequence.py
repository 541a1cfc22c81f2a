"""Sequence layers lower in backend.basic (SequenceModule)."""
from .basic import SequenceModule  # noqa: F401
