"""Architecture searches: random search under a compute budget (SCRFD's computation redistribution).

The driver and the ranking are family-free; a family brings its search spaces
(``Family.search_space``) and builds a model from an architecture dict (``Family.from_arch``).
"""

from .random_search import Candidate, Draw, SearchSpace, check_out, random_search, write_candidates

__all__ = ["Candidate", "Draw", "SearchSpace", "check_out", "random_search", "write_candidates"]
