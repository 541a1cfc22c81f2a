"""Every layer family's torch modules, registered by importing them.

Each module decorates its :class:`~netgraph.backend.base.LayerModule` classes with
:func:`~netgraph.backend.base.lowers`; lowering imports this module, so every head lowers. A
new family module is one more line here. (Importing ``netgraph`` loads no torch: this list is
loaded with the lowering stage.)
"""
from __future__ import annotations

from . import (  # noqa: F401 - imported for their registrations
    activation,
    array,
    basic,
    conv,
    ctc,
    custom,
    embedding,
    image,
    indexing,
    normalization,
    operators,
    random,
    recurrent,
    reshape,
    structure,
    training_ops,
    unfold,
)
