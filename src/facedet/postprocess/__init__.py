"""Post-processing: raw head outputs -> faces. Shared selection helpers and the decoders of the
known techniques (distance decoding, softmax anchors); each family picks one (``Family.postprocess``)."""

from .base import Frame, PostProcessor, Settings
from .distance import DistancePostProcessor
from .select import candidates_np, candidates_torch, clip_np, suppress_np, suppress_torch, to_image_np
from .softmax_anchor import SoftmaxAnchorPostProcessor, softmax_face_np

__all__ = [
    "DistancePostProcessor", "Frame", "PostProcessor", "Settings", "SoftmaxAnchorPostProcessor", "candidates_np",
    "candidates_torch", "clip_np", "softmax_face_np", "suppress_np", "suppress_torch", "to_image_np",
]
