"""Training criteria, named after their technique; each reads the priors and coder of the model it trains.

- :class:`GFLCriterion` (``gfl.py``): ATSS + quality focal loss + DIoU + landmarks (SCRFD).
- :class:`MultiBoxCriterion` (``multibox.py``): S3FD matching + hard negatives + CE / smooth-L1 (EXTD).
- :class:`SampledCriterion` (``sampled.py``): two-pass matching + a sampler + CE / IoU losses (Group Sampling).
- :class:`AuxCriterion` (``aux.py``): a criterion applied again to ``HeadOutputs.aux`` with its own weight.
"""

from facedet.criteria.aux import AuxCriterion
from facedet.criteria.gfl import GFLCriterion, GFLLossConfig
from facedet.criteria.multibox import MultiBoxCriterion
from facedet.criteria.sampled import SampledCriterion

__all__ = ["AuxCriterion", "GFLCriterion", "GFLLossConfig", "MultiBoxCriterion", "SampledCriterion"]
