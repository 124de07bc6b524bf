"""Experiments: analysis of online controlled experiments (A/B tests) from per-variant sufficient statistics.

Every estimator reads :class:`Summaries` (counts, sums and cross-products per variant), so the same numbers come
from a pandas frame or from aggregates computed inside a database engine.
"""

from ._summary import Summaries, sql_aggregates

__all__ = ["Summaries", "sql_aggregates"]
