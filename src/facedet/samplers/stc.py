"""SRN's selective two-step classification (STC) filter: on the STC levels, anchors whose first-step
background probability exceeds ``theta`` (0.99) are left out of the second step, in training (their
second-step classification and regression are not computed) and at inference (they are not kept).

With a sigmoid face logit ``z``, the background probability is ``1 - sigmoid(z)``, so an anchor stays
when ``sigmoid(z) > 1 - theta`` (SRN ``rpn_proposal.py``: ``cls_fs > 0.01``).
"""

from __future__ import annotations

import torch

STC_THETA = 0.99


def stc_keep(first_logits: torch.Tensor, on_stc: torch.Tensor, theta: float = STC_THETA) -> torch.Tensor:
    """Anchors the second step sees: ``(..., A)`` bool, True off the STC levels (``on_stc (A,)``) and
    where the first-step face probability is above ``1 - theta``."""
    return ~on_stc | (torch.sigmoid(first_logits.detach().float()) > 1.0 - theta)

