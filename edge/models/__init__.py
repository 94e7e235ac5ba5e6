"""Model preparation: ONNX files from the registry packages that ship the weights."""
