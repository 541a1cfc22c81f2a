"""Plain data <-> tensors, batch detection, evaluation, NetStateObject."""
