"""Evaluation protocols: WIDER FACE val AP (official MATLAB semantics) and FDDB ROC (official tool).

- ``wider_gt``: the official ``.mat`` ground truth (reader and writer).
- ``predictions``: ``<pred>/<event>/<name>.txt`` folders (writer, MATLAB-rule reader).
- ``wider``: ``evaluate_wider`` (in memory) and ``evaluate_wider_dir`` (from a folder).
- ``fddb``: ``evaluate_fddb`` and the detection / image-size readers.
- ``plots``: PR/ROC curves as PNG, results as JSON.
"""

from facedet.eval.predictions import read_predictions, write_predictions
from facedet.eval.wider import WiderResult, evaluate_wider, evaluate_wider_dir
from facedet.eval.wider_gt import GtImage, WiderGroundTruth, load_ground_truth, write_ground_truth

__all__ = [
    "GtImage",
    "WiderGroundTruth",
    "WiderResult",
    "evaluate_wider",
    "evaluate_wider_dir",
    "load_ground_truth",
    "read_predictions",
    "write_ground_truth",
    "write_predictions",
]
