"""Causal effects from research designs: instrumental variables, difference-in-differences, regression discontinuity.

Each estimator takes a :class:`~causalinfer.data.Dataset` (or a DataFrame plus role keywords) and returns a
:class:`~causalinfer.results.Result` whose ``diagnostics`` hold the checks its design relies on: first-stage
strength for IV, pre-trends for difference-in-differences, manipulation and covariate balance for RDD.
"""

from ._iv import iv_2sls, wald_estimator

__all__ = ["iv_2sls", "wald_estimator"]
