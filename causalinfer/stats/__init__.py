"""Statistical inference: estimates, confidence intervals and hypothesis tests that agree with R.

Every function takes arrays or ``data=`` plus column names and returns a :class:`~causalinfer.results.Result`.
"""

from ._ttest import ttest

__all__ = ["ttest"]
