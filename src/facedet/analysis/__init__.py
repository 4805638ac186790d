"""Analysis tools: parameter and MAC counting (paper convention)."""

from .flops import Complexity, count_complexity

__all__ = ["Complexity", "count_complexity"]
