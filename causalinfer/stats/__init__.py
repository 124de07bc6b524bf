"""Statistical inference: estimates, confidence intervals and hypothesis tests that agree with R.

Every function takes arrays or ``data=`` plus column names and returns a :class:`~causalinfer.results.Result`.
"""

from ._anova import anova_oneway, tukey_hsd
from ._distribution import bartlett_test, ks_test, levene_test, shapiro_wilk
from ._equivalence import tost
from ._rank import brunner_munzel, kruskal_wallis, mann_whitney, wilcoxon
from ._ttest import ttest

__all__ = [
    "anova_oneway",
    "bartlett_test",
    "brunner_munzel",
    "kruskal_wallis",
    "ks_test",
    "levene_test",
    "mann_whitney",
    "shapiro_wilk",
    "tost",
    "ttest",
    "tukey_hsd",
    "wilcoxon",
]
