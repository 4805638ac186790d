"""Assigners: which prior trains on which ground truth. Every one returns an :class:`Assignment`."""

from facedet.assigners.atss import ATSSAssigner
from facedet.assigners.base import Assignment, covered
from facedet.assigners.s3fd import S3FDMatcher
from facedet.assigners.threshold import ThresholdMatcher
from facedet.assigners.two_pass import TwoPassAssigner

__all__ = ["ATSSAssigner", "Assignment", "S3FDMatcher", "ThresholdMatcher", "TwoPassAssigner", "covered"]
