"""SCRFD (Guo et al., ICLR 2022): searched MobileNet / ResNet backbones, PAFPN, shared GN head, ATSS + GFL."""

from ...lazy import has_torch
from ..base import Family
from .decoding import SCRFD_ANCHOR_SIZES, postprocess, recognise_onnx

if has_torch():
    from ...analysis.flops import scrfd_breakdown
    from ...criteria.gfl import GFLLossConfig
    from . import recipe
    from .network import SCRFD, SCRFDConfig
    from .onnx_import import guess_preset
    from .presets import PRESETS, from_arch
    from .search_space import search_space
    from .zoo_table import zoo_table

    FAMILY = Family(
        name="scrfd",
        zoo=zoo_table(),
        criterion=recipe.criterion,
        augment=recipe.augment,
        postprocess=postprocess,
        loss_config=GFLLossConfig,
        paper_config=recipe.paper_config,
        test_time=recipe.test_time,
        flops_breakdown=scrfd_breakdown,
        recognise_onnx=recognise_onnx,
        guess_preset=guess_preset,
        from_arch=from_arch,
        search_space=search_space,
    )

    __all__ = ["FAMILY", "PRESETS", "SCRFD", "SCRFD_ANCHOR_SIZES", "SCRFDConfig"]
else:  # ONNX Runtime inference only (no torch): decoding, nothing that builds or trains a network
    FAMILY = Family.decoding_only("scrfd", postprocess, recognise_onnx)
    __all__ = ["FAMILY", "SCRFD_ANCHOR_SIZES"]
