"""Declarative, immutable layer values, one module per WL layer family (no torch here)."""
