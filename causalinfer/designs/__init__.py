"""Causal effects from research designs: instrumental variables, difference-in-differences, regression discontinuity.

Each estimator takes a :class:`~causalinfer.data.Dataset` (or a DataFrame plus role keywords) and returns a
:class:`~causalinfer.results.Result` whose ``diagnostics`` hold the checks its design relies on: first-stage
strength for IV, pre-trends for difference-in-differences, manipulation and covariate balance for RDD.
The headline estimators (``iv_2sls``, ``wald_estimator``, ``did_2x2``, ``twfe``, ``callaway_santanna``, ``rdd``,
``dose_response``, ``partially_linear_dml``) return a :class:`~causalinfer.effects.EffectResult` naming the effect
("LATE", "ATT", "effect at the cutoff", ...) that can ``refute()`` itself by re-running its design on altered data
(a design-specific placebo, subsets, bootstrap resamples of units or clusters).
"""

from ._cate_models import CATEModel, DRLearner, RLearner, SLearner, TLearner, XLearner
from ._cate_plots import plot_cate, plot_gates, plot_policy_tree, plot_toc
from ._continuous import dose_response, partially_linear_dml
from ._did import did_2x2, event_study, twfe
from ._forest import CausalForest
from ._heterogeneity import compare_targeting, heterogeneity_test
from ._honest import honest_did, plot_honest_did
from ._iv import iv_2sls, wald_estimator
from ._metalearners import cate
from ._plots import plot_event_study, plot_rdd
from ._policy import policy_tree, policy_value
from ._rdd import density_test, ik_bandwidth, rdd
from ._rddensity import rdd_density
from ._rdplot import rdplot
from ._sdid import synthdid
from ._staggered import callaway_santanna
from ._sunab import did_imputation, sun_abraham
from ._synth import synthetic_control
from ._synth_plots import plot_synth

__all__ = [
    "CATEModel",
    "CausalForest",
    "DRLearner",
    "RLearner",
    "SLearner",
    "TLearner",
    "XLearner",
    "callaway_santanna",
    "cate",
    "compare_targeting",
    "density_test",
    "did_2x2",
    "did_imputation",
    "dose_response",
    "event_study",
    "heterogeneity_test",
    "honest_did",
    "ik_bandwidth",
    "iv_2sls",
    "partially_linear_dml",
    "plot_cate",
    "plot_event_study",
    "plot_gates",
    "plot_honest_did",
    "plot_policy_tree",
    "plot_rdd",
    "plot_synth",
    "plot_toc",
    "policy_tree",
    "policy_value",
    "rdd",
    "rdd_density",
    "rdplot",
    "sun_abraham",
    "synthdid",
    "synthetic_control",
    "twfe",
    "wald_estimator",
]
