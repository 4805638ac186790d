"""Reading foreign checkpoints (``state.py``: a state dict out of any ``.pt`` / ``.pth`` layout); the
importers of each family's official files live in the family (e.g. ``families/scrfd/onnx_import.py``)."""
