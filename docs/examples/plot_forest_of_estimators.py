"""
Several estimators of one effect, side by side
==============================================

The NSW job-training experiment (``lalonde``) estimated four ways; a :class:`~causalinfer.ResultSet` draws the
estimates and their 95% intervals as a forest plot. Under randomisation all four target the same average effect.
"""

import causalinfer as ci

nsw = ci.load_dataset("lalonde")
results = ci.ResultSet(
    [
        ci.stats.ttest("re78", data=nsw, group="treat", levels=(1, 0)),
        ci.causal.regression_adjustment(nsw),
        ci.causal.ipw(nsw),
        ci.causal.aipw(nsw, random_state=0),
    ],
    labels=["difference in means (Welch)", "regression adjustment", "IP weighting", "AIPW"],
)
print(results.to_frame()[["label", "estimate", "ci_low", "ci_high"]])
results.plot()
