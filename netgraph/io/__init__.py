"""Files: Export/Import of nets (.netgraph, .onnx) and interoperation with plain PyTorch."""
