"""The only torch.nn code: one module per layer family, lowering, initialisation."""
