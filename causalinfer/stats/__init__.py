"""Statistical inference: estimates, confidence intervals and hypothesis tests that agree with R.

Every function takes arrays or ``data=`` plus column names and returns a :class:`~causalinfer.results.Result`.
"""

from ._ttest import ttest

__all__ = ["ttest"]
from ._multiple import adjust_pvalues, test_family  # noqa: E402

__all__ += ["adjust_pvalues", "test_family"]
