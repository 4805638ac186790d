"""Importers of official checkpoints into our modules (SCRFD ONNX, ...)."""
