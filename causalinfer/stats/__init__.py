"""Statistical inference: estimates, confidence intervals and hypothesis tests that agree with R.

Every function takes arrays or ``data=`` plus column names and returns a :class:`~causalinfer.results.Result`.
"""

from ._correlation import correlation
from ._estimates import mean_ci, median_ci, quantile_ci, ztest
from ._proportions import binom_test, diff_proportions, mcnemar_test, odds_ratio, prop_test, proportion, ratio_proportions
from ._tables import chisq_test, fisher_test, g_test
from ._ttest import ttest

__all__ = ["ttest"]
__all__ += [
    "binom_test",
    "chisq_test",
    "correlation",
    "diff_proportions",
    "fisher_test",
    "g_test",
    "mcnemar_test",
    "mean_ci",
    "median_ci",
    "odds_ratio",
    "prop_test",
    "proportion",
    "quantile_ci",
    "ratio_proportions",
    "ztest",
]
