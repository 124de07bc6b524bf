"""Statistical inference: estimates, confidence intervals and hypothesis tests that agree with R.

Every function takes arrays or ``data=`` plus column names and returns a :class:`~causalinfer.results.Result`.
"""

from ._anova import anova_oneway, tukey_hsd
from ._bootstrap import bootstrap
from ._correlation import correlation
from ._distribution import bartlett_test, ks_test, levene_test, shapiro_wilk
from ._equivalence import tost
from ._estimates import mean_ci, median_ci, quantile_ci, ztest
from ._multiple import adjust_pvalues, test_family
from ._permutation import permutation_test
from ._power import power_anova, power_prop_test, power_ttest
from ._proportions import binom_test, diff_proportions, mcnemar_test, odds_ratio, prop_test, proportion, ratio_proportions
from ._rank import brunner_munzel, kruskal_wallis, mann_whitney, wilcoxon
from ._regression import RegressionResult, logit, ols, poisson, wald_test
from ._resample_core import bootstrap_indices, resample_apply
from ._resampling_results import BootstrapResult, PermutationResult
from ._sandwich import normalize_cov_type
from ._tables import chisq_test, fisher_test, g_test
from ._ttest import ttest

__all__ = [
    "BootstrapResult",
    "PermutationResult",
    "RegressionResult",
    "adjust_pvalues",
    "anova_oneway",
    "bartlett_test",
    "binom_test",
    "bootstrap",
    "bootstrap_indices",
    "brunner_munzel",
    "chisq_test",
    "correlation",
    "diff_proportions",
    "fisher_test",
    "g_test",
    "kruskal_wallis",
    "ks_test",
    "levene_test",
    "logit",
    "mann_whitney",
    "mcnemar_test",
    "mean_ci",
    "median_ci",
    "normalize_cov_type",
    "odds_ratio",
    "ols",
    "permutation_test",
    "poisson",
    "power_anova",
    "power_prop_test",
    "power_ttest",
    "prop_test",
    "proportion",
    "quantile_ci",
    "ratio_proportions",
    "resample_apply",
    "shapiro_wilk",
    "test_family",
    "tost",
    "ttest",
    "tukey_hsd",
    "wald_test",
    "wilcoxon",
    "ztest",
]

# models, repeated-measures designs, post hoc tests, reliability and regression tables
# isort: split
from ._lrtest import lr_test
from ._mixed import MixedResult, lmm
from ._negbin import negative_binomial
from ._partial_correlation import partial_correlation
from ._posthoc import dunn, games_howell
from ._predict import predict
from ._quantreg import QuantileProcess, QuantRegResult, quantreg
from ._regtable import RegressionTable, regression_table
from ._reliability import cronbach_alpha, icc
from ._repeated import anova_rm, friedman
from ._wild import wild_cluster_bootstrap

# generalised linear models
# isort: split
from ._emmeans import emmeans
from ._glm import glm
from ._margins import marginal_effects

# generalised linear mixed models (Laplace approximation, as lme4::glmer)
# isort: split
from ._glmm import GlmmResult, glmm

__all__ += [
    "MixedResult",
    "QuantRegResult",
    "QuantileProcess",
    "RegressionTable",
    "anova_rm",
    "cronbach_alpha",
    "dunn",
    "friedman",
    "games_howell",
    "icc",
    "lmm",
    "lr_test",
    "negative_binomial",
    "partial_correlation",
    "predict",
    "quantreg",
    "regression_table",
]
__all__ += ["emmeans", "glm", "marginal_effects"]
__all__ += ["wild_cluster_bootstrap"]
__all__ += ["GlmmResult", "glmm"]
