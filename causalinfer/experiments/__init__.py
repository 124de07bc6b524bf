"""Experiments: analysis of online controlled experiments (A/B tests).

``analyze`` compares every treatment with the control on many metrics (means, proportions, ratio metrics),
with absolute and relative lifts, CUPED / regression adjustment, a sample-ratio-mismatch check on every analysis,
multiplicity adjustment and non-inferiority tests for guardrails. Every estimator reads :class:`Summaries`
(counts, sums and cross-products per variant), so the same numbers can come from a pandas frame or from
aggregates computed inside a database engine (:func:`sql_aggregates` writes the query's aggregate list).
"""

from ._analyze import analyze
from ._groupseq import group_sequential
from ._metrics import ROLES, Metric, mean, proportion, quantile, ratio
from ._planning import plan
from ._srm import srm_test
from ._summary import Summaries, sql_aggregates

__all__ = [
    "ROLES",
    "Metric",
    "Summaries",
    "analyze",
    "group_sequential",
    "mean",
    "plan",
    "proportion",
    "quantile",
    "ratio",
    "sql_aggregates",
    "srm_test",
]
