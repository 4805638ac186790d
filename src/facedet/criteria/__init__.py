"""Training criteria: priors + assigner + losses for one detector family."""

from facedet.criteria.scrfd import SCRFDCriterion

__all__ = ["SCRFDCriterion"]
