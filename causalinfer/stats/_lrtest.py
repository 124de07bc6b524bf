"""Likelihood-ratio test between nested regression models, as R's ``anova(restricted, full, test = "Chisq")``.

Validated against R's ``anova.glm``, ``anova.lm`` and ``MASS::anova.negbin`` (``tests/reference/lr_test.R``).
"""

from __future__ import annotations

import math

from .. import _validation as vp
from .._validation import show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Result
from ._regression import RegressionResult

__all__ = ["lr_test"]

_KINDS = {"ols": "linear", "logit": "logistic", "poisson": "Poisson", "negative_binomial": "negative binomial", "glm": "generalised linear"}


@vp.validate_params({"restricted": vp.InstanceOf(RegressionResult), "full": vp.InstanceOf(RegressionResult)})
def lr_test(restricted: RegressionResult, full: RegressionResult) -> Result:
    """Likelihood-ratio (deviance) test of a restricted model against a fuller one that nests it.

    Parameters
    ----------
    restricted : RegressionResult
        The smaller model, fitted to the same rows and outcome as ``full``, whose terms are a subset of ``full``'s.
    full : RegressionResult
        The larger model, from the same function (:func:`ols`, :func:`logit`, :func:`poisson`,
        :func:`negative_binomial`, or :func:`glm` with the same family and link).

    Returns
    -------
    Result
        ``statistic`` (chi-squared), ``df`` (the number of extra coefficients) and ``pvalue``. ``details``:
        the deviance (or residual sum of squares) and residual df of both models.

    Notes
    -----
    Logistic and Poisson models: :math:`D_0 - D_1`, the difference of deviances, on :math:`k_1 - k_0` df
    (``anova.glm(test = "Chisq")``); for a :func:`glm` with an estimated dispersion the difference is divided by
    the full model's dispersion, as ``anova.glm(test = "Chisq")`` does. Negative binomial: the difference of
    :math:`2\\log L`, theta being estimated in each model (``MASS::anova.negbin``). Least squares: :math:`(RSS_0 - RSS_1)/\\hat\\sigma^2_1`,
    as ``anova.lm(test = "Chisq")``; the F test (:func:`wald_test` or ``anova.lm``'s default) is exact under
    normal errors and preferable. The test ignores the covariance type the fits used: it compares likelihoods.
    A Poisson model (:func:`poisson`, or :func:`glm` with the Poisson family and log link) against a
    :func:`negative_binomial` one is the likelihood-ratio test of overdispersion: :math:`2(\\log L_1 - \\log L_0)`
    with the p-value of a 50:50 mixture of chi-squared on :math:`k_1 - k_0` and :math:`k_1 - k_0 + 1` df, because
    :math:`1/\\theta = 0` is on the boundary (half the chi-squared(1) tail with the same terms, as ``pscl::odTest``).
    Models on different rows, outcomes or families, or whose terms do not nest by name, are refused.

    Validated against R's ``anova`` (``tests/reference/lr_test.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(8)
    >>> df = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    >>> df["y"] = rng.poisson(np.exp(0.2 + 0.5 * df.a))
    >>> t = ci.stats.lr_test(ci.stats.poisson("y ~ a", data=df), ci.stats.poisson("y ~ a + b", data=df))
    >>> t.df, t.statistic_name
    (1.0, 'LR chi-squared')
    """
    from scipy import stats

    for name, r in (("restricted", restricted), ("full", full)):
        if not isinstance(r, RegressionResult):
            raise ArgumentTypeError(f"`{name}` must be a RegressionResult from ols/logit/poisson/negative_binomial/glm; got {show(r)}")
    f0, f1 = restricted.details["fit"], full.details["fit"]
    kind = f0.get("model")
    poisson_vs_nb = f1.get("model") == "negative_binomial" and (
        kind == "poisson" or (kind == "glm" and (f0.get("family"), f0.get("link")) == ("poisson", "log"))
    )
    if kind not in _KINDS or (f1.get("model") != kind and not poisson_vs_nb):
        raise ArgumentError(f"`restricted` and `full` must be models of the same kind; got {f0.get('model')!r} and {f1.get('model')!r}")
    if f0["n"] != f1["n"] or f0.get("response") != f1.get("response") or f0.get("weighted") != f1.get("weighted"):
        raise DataError(
            f"the two models were not fitted to the same data: n = {f0['n']} vs {f1['n']}, outcome {f0.get('response')!r} vs "
            f"{f1.get('response')!r}; refit both on the same rows (drop missing values of every variable first)"
        )
    p0, p1 = restricted.provenance, full.provenance
    fp0, fp1 = (getattr(p, "data_fingerprint", None) for p in (p0, p1))
    if fp0 is not None and fp1 is not None and fp0 != fp1:
        raise DataError("the two models were fitted to different data sets (their data fingerprints differ); refit both on the same rows")
    if restricted.terms is None or full.terms is None:  # pragma: no cover - every regression result has terms
        raise ArgumentError("both results need their coefficient table (`terms`)")
    t0, t1 = list(restricted.terms["term"]), list(full.terms["term"])
    extra = [t for t in t0 if t not in t1]
    if extra:
        raise ArgumentError(
            f"`restricted` has term(s) {extra} that `full` lacks, so the models are not nested; give the smaller model as "
            "`restricted` and a larger model containing all of its terms as `full`"
        )
    df = len(t1) - len(t0)
    if poisson_vs_nb:
        return _poisson_against_negative_binomial(f0, f1, df, [t for t in t1 if t not in t0], full)
    if df <= 0:
        raise ArgumentError(f"`full` must have more coefficients than `restricted`; got {len(t1)} and {len(t0)} (are they swapped?)")
    if kind == "glm" and (f0["family"], f0["link"], f0.get("var_power")) != (f1["family"], f1["link"], f1.get("var_power")):
        raise ArgumentError(
            f"`restricted` and `full` must have the same family and link; got {f0['family']}/{f0['link']} and {f1['family']}/{f1['link']}"
        )
    if kind == "negative_binomial":
        stat = f1["twologlik"] - f0["twologlik"]
        what = "difference of 2 log-likelihoods (theta estimated in each model)"
    elif kind == "ols":
        stat = (f0["rss"] - f1["rss"]) / f1["sigma"] ** 2
        what = "difference of residual sums of squares over the full model's residual variance"
    elif kind == "glm" and f1["family"] not in ("binomial", "poisson"):
        stat = (f0["deviance"] - f1["deviance"]) / f1["dispersion"]
        what = "difference of deviances over the full model's dispersion"
    else:
        stat = f0["deviance"] - f1["deviance"]
        what = "difference of deviances"
    scale = max(abs(f0.get("deviance", 0.0)), 1.0)
    if stat < -1e-8 * scale:
        raise DataError(
            f"the full model fits worse than the restricted one (statistic {stat:.6g} < 0): the fits did not converge or the "
            "models are not nested; check both fits' convergence diagnostics"
        )
    stat = max(stat, 0.0)
    return Result(
        method=f"Likelihood-ratio test of nested {_KINDS[kind]} models ({what})",
        estimand=f"H0: the {df} extra coefficient(s) of the full model are zero",
        statistic=stat,
        statistic_name="LR chi-squared",
        df=float(df),
        pvalue=float(stats.chi2.sf(stat, df)) if math.isfinite(stat) else math.nan,
        alternative="two-sided",
        n=int(f1["n"]),
        details={
            "restricted_deviance": float(f0["deviance"]),
            "full_deviance": float(f1["deviance"]),
            "restricted_df_resid": float(f0["df_resid"]),
            "full_df_resid": float(f1["df_resid"]),
            "extra_terms": [t for t in t1 if t not in t0],
        },
        provenance=full.provenance,
    )


def _poisson_against_negative_binomial(f0: dict, f1: dict, df: int, extra: list[str], full: RegressionResult) -> Result:
    """Poisson against negative binomial: ``1/theta = 0`` lies on the boundary, so the statistic is a 50:50 mixture
    of chi-squared on ``df`` and ``df + 1`` degrees of freedom (Self and Liang 1987; with no extra coefficients, half
    the chi-squared(1) tail, as ``pscl::odTest`` and Stata's test of alpha = 0)."""
    from scipy import stats

    stat = max(2.0 * (float(f1["loglik"]) - float(f0["loglik"])), 0.0)
    tail_low = float(stats.chi2.sf(stat, df)) if df > 0 else float(stat <= 0)
    pvalue = 0.5 * tail_low + 0.5 * float(stats.chi2.sf(stat, df + 1))
    return Result(
        method="Likelihood-ratio test of a Poisson model against a negative binomial one (overdispersion; theta on the "
        "boundary, p-value from a 50:50 mixture of chi-squared distributions)",
        estimand="H0: no overdispersion (1/theta = 0)" + (f" and the {df} extra coefficient(s) are zero" if df else ""),
        statistic=stat,
        statistic_name="LR chi-squared",
        df=float(df + 1),
        pvalue=pvalue,
        alternative="greater",
        n=int(f1["n"]),
        details={
            "restricted_loglik": float(f0["loglik"]),
            "full_loglik": float(f1["loglik"]),
            "theta": float(f1["theta"]),
            "extra_terms": extra,
        },
        provenance=full.provenance,
    )
