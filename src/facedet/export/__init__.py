"""ONNX export in the family's layout with decoding metadata (``onnx.py``) and the ONNX Runtime session
that reads it back, or recognises a foreign file (``runtime.py``)."""
