"""Statistical inference: estimates, confidence intervals and hypothesis tests that agree with R.

Every function takes arrays or ``data=`` plus column names and returns a :class:`~causalinfer.results.Result`.
"""

from ._multiple import adjust_pvalues, test_family
from ._power import power_anova, power_prop_test, power_ttest
from ._regression import RegressionResult, logit, ols, poisson, wald_test
from ._ttest import ttest

__all__ = ["ttest"]
__all__ += ["adjust_pvalues", "test_family"]
__all__ += ["RegressionResult", "logit", "ols", "poisson", "wald_test"]
__all__ += ["power_anova", "power_prop_test", "power_ttest"]
