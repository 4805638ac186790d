"""Periodic WIDER FACE evaluation for the trainer: detect on a val folder, score with the official protocol.

Uses ``facedet.api.FaceDetector`` in evaluation mode (threshold 0.02, NMS 0.45, spec §8) and
``facedet.eval.wider.evaluate_wider`` in subset mode, so a partial val folder (dev-val-144) is
scored over the images present only. Returns ``{"ap_easy", "ap_medium", "ap_hard"}``.
``backend="onnx"`` (CPU training only) detects through ONNX Runtime on an exported copy of the model:
for EXTD-32 it is 1.8x faster than eager PyTorch on one CPU thread (``benchmarks/bench_families.py``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

SETTINGS = ("easy", "medium", "hard")
log = logging.getLogger(__name__)


def resolve_val_root(root: str | Path) -> tuple[Path, Path]:
    """``(images_dir, gt_dir)`` from a WIDER root (``WIDER_val/images`` + ``ground_truth``) or an images dir."""
    root = Path(root)
    images = root / "WIDER_val" / "images" if (root / "WIDER_val" / "images").is_dir() else root
    for gt in (root / "ground_truth", root / "eval_tools" / "ground_truth", root.parent.parent / "ground_truth"):
        if (gt / "wider_face_val.mat").is_file():
            return images, gt
    raise FileNotFoundError(f"no ground_truth/wider_face_val.mat found for WIDER val root {root}")


class WiderValEvaluator:
    """Callable ``evaluator(model) -> {ap_easy, ap_medium, ap_hard}`` over the val images present."""

    def __init__(
        self,
        root: str | Path,
        max_size: int = 640,
        score_thr: float = 0.02,
        nms_thr: float = 0.45,
        max_images: int = 0,
        backend: str = "torch",
    ) -> None:
        from facedet.eval.wider_gt import load_ground_truth

        if backend not in ("torch", "onnx"):
            raise ValueError(f"eval backend must be 'torch' or 'onnx', got {backend!r}")
        self.backend = backend

        self.images_dir, gt_dir = resolve_val_root(root)
        self.gt = load_ground_truth(gt_dir)
        self.items = [(k, self.images_dir / k[0] / f"{k[1]}.jpg") for k in self.gt.keys]
        self.items = [(k, p) for k, p in self.items if p.is_file()]
        if not self.items:
            raise FileNotFoundError(f"no WIDER val image of the ground truth found under {self.images_dir}")
        if max_images > 0:
            self.items = self.items[:max_images]
        self.max_size, self.score_thr, self.nms_thr = max_size, score_thr, nms_thr
        self.unreadable: set[str] = set()

    @torch.no_grad()
    def predict(self, model: nn.Module) -> dict[tuple[str, str], object]:
        """Rows ``x y w h score`` per ``(event, name)`` key."""
        from facedet.api import FaceDetector
        from facedet.eval.predictions import detections_to_rows

        device = next(model.parameters()).device
        if self.backend == "onnx" and device.type == "cpu":  # a CPU copy is exported: training weights stay put
            import copy

            det = FaceDetector(model=copy.deepcopy(model).cpu().eval(), backend="onnx",
                               score_threshold=self.score_thr, nms_threshold=self.nms_thr, input_size=None,
                               max_side=self.max_size, num_threads=torch.get_num_threads())
        else:
            det = FaceDetector(model=model, score_threshold=self.score_thr, nms_threshold=self.nms_thr,
                               input_size=None, max_side=self.max_size, device=device)
        rows: dict[tuple[str, str], object] = {}
        for key, path in self.items:
            try:
                rows[key] = detections_to_rows(det.detect(str(path)))
            except (ValueError, OSError) as exc:  # one unreadable val image: no detections, named once
                if str(path) not in self.unreadable:
                    self.unreadable.add(str(path))
                    log.warning("evaluation: skipping unreadable image (%s)", exc)
        return rows

    def __call__(self, model: nn.Module) -> dict[str, float]:
        from facedet.eval.wider import evaluate_wider

        was_training = model.training
        preds = self.predict(model)
        model.train(was_training)
        result = evaluate_wider(preds, self.gt, images_dir=self.images_dir, settings=SETTINGS)
        return {f"ap_{k}": float(v) for k, v in result.aps.items()}
