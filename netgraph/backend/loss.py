"""Loss layers lower in backend.basic (LossModule)."""
from .basic import LossModule  # noqa: F401
