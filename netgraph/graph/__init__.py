"""Graph IR, construction from WL-style connections, shape inference and editing."""
