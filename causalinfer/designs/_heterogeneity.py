"""Is the heterogeneity real? BLP, GATES and CLAN on held-out folds, grf's calibration test, and RATE (AUTOC, Qini).

The array layer (``blp``, ``gates``, ``calibration``, ``rate``) works on cross-fitted doubly robust scores and
held-out CATE predictions; :func:`heterogeneity_test` produces both from a DataFrame and a CATE model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_conf_level, check_int, check_random_state, show
from ..exceptions import ArgumentTypeError, DataError
from ..results import Provenance, Result
from ._cate_models import CATEModel, DRLearner, binary_treatment, covariate_matrix, fold_labels
from ._common import dataset, need, numeric, t_inference
from ._metalearners import _default_classifier, _default_regressor, dr_scores

__all__ = ["compare_targeting", "heterogeneity_test"]


# ---------------------------------------------------------------------------------------------- array layer
def _hc(y: np.ndarray, x: np.ndarray, cov_type: str = "HC1") -> tuple[np.ndarray, np.ndarray]:
    from ._linalg import ols

    fit = ols(y, x, cov_type=cov_type)
    return fit.coef, fit.cov


def fold_centred(s: np.ndarray, folds: np.ndarray | None) -> np.ndarray:
    """``s`` minus its mean within each fold (minus its overall mean without folds)."""
    if folds is None:
        return s - s.mean()
    _, inv = np.unique(folds, return_inverse=True)
    means = np.bincount(inv, weights=s) / np.bincount(inv)
    return s - means[inv]


def fold_ranks(s: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Rank of ``s`` within its fold as a share of the fold (in (0, 1]; ties in a fixed order)."""
    out = np.empty(s.size)
    for k in np.unique(folds):
        idx = np.flatnonzero(folds == k)
        out[idx[np.argsort(s[idx], kind="stable")]] = np.arange(1, idx.size + 1) / idx.size
    return out


def blp(phi: np.ndarray, s: np.ndarray, folds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Best linear predictor of the CATE given a proxy: OLS of the DR scores on (1, S - mean S) with HC1.

    Coefficient 0 is the ATE, coefficient 1 the heterogeneity loading (1 for a perfect proxy, 0 without
    heterogeneity the proxy detects); Chernozhukov, Demirer, Duflo & Fernandez-Val (2018), with DR scores as the
    outcome (their AIPW variant). With ``folds`` (cross-fitted proxies), S is centred within each fold: the
    proxy of fold k comes from a model fitted on the other folds' outcomes, so its level moves against fold k's
    own noise, and between-fold differences in S would bias the slope downwards when there is no heterogeneity.
    The slope then equals that of the regression with one intercept per fold.
    """
    if np.ptp(s) == 0:
        raise DataError("the CATE predictions are constant on the held-out folds, so the BLP slope is not identified")
    sc = fold_centred(s, folds)
    if np.ptp(sc) == 0:
        raise DataError("the CATE predictions are constant within each held-out fold, so the BLP slope is not identified")
    return _hc(phi, np.column_stack([np.ones(s.size), sc]))


def median_combined(per_fold: Sequence[tuple[float, float]], conf_level: float, alternative: str = "two-sided") -> dict[str, float]:
    """Per-fold estimates and standard errors combined as Chernozhukov, Demirer, Duflo & Fernandez-Val combine
    sample splits: the median estimate, the medians of the per-fold normal limits at level ``1 - alpha/2``
    (coverage at least ``1 - alpha``), and the p-value ``min(1, 2 x median)`` of the per-fold p-values (one-sided
    ``"greater"`` or two-sided), valid whatever the dependence between folds."""
    from scipy.special import ndtr

    from ..stats._normal import z_crit

    est, se = np.asarray(per_fold, dtype=float).T
    level = 1 - (1 - conf_level) / 2
    z = z_crit(level)
    stat = est / se
    pv = ndtr(-stat) if alternative == "greater" else np.minimum(2 * ndtr(-np.abs(stat)), 1.0)
    out = {"estimate": float(np.median(est)), "ci_low": float(np.median(est - z * se)), "ci_high": float(np.median(est + z * se))}
    out["std_error"] = (out["ci_high"] - out["ci_low"]) / (2 * z)
    out["statistic"] = out["estimate"] / out["std_error"]
    out["pvalue"] = float(min(1.0, 2 * np.median(pv)))
    return out


def blp_by_fold(phi: np.ndarray, s: np.ndarray, folds: np.ndarray, conf_level: float) -> dict[str, float]:
    """The BLP slope fitted in each fold on its own and combined over folds by :func:`median_combined`.

    Within one fold the proxy comes from a single model fitted without that fold, so the fold's HC1 test is valid
    on its own. Pooling the folds is not: each fold's proxy depends on the other folds' outcomes, and the pooled
    slope test rejected 23% of the time at the 5% level with five folds and no heterogeneity.
    """
    per_fold = []
    for k in np.unique(folds):
        idx = folds == k
        c, v = blp(phi[idx], s[idx])
        per_fold.append((float(c[1]), float(np.sqrt(v[1, 1]))))
    return median_combined(per_fold, conf_level)


def heterogeneity_by_fold(
    phi: np.ndarray,
    s: np.ndarray,
    y_res: np.ndarray,
    w_res: np.ndarray,
    folds: np.ndarray,
    n_groups: int,
    n_boot: int,
    rng: np.random.Generator,
    conf_level: float,
) -> dict[str, dict[str, float]]:
    """GATES top minus bottom, the calibration test's differential coefficient, AUTOC and Qini, each computed in
    every held-out fold on its own and combined over folds by :func:`median_combined`.

    Pooled over folds these tests over-reject without heterogeneity, as the BLP slope does (see
    :func:`blp_by_fold`): a fold's proxy depends on the other folds' outcomes, so the units' terms are correlated
    across folds while HC1 and the bootstrap of units treat them as independent. With five folds, a linear proxy
    and a constant effect the pooled tests rejected 16% (GATES), 8% (calibration) and 16% (AUTOC, Qini) of the
    time at the 5% level.
    """
    cols: dict[str, list[tuple[float, float]]] = {"gates_top_minus_bottom": [], "calibration_differential": [], "autoc": [], "qini": []}
    for k in np.unique(folds):
        idx = folds == k
        g_coef, g_cov, _ = gates(phi[idx], s[idx], n_groups)
        diff_var = g_cov[-1, -1] + g_cov[0, 0] - 2 * g_cov[0, -1]
        cols["gates_top_minus_bottom"].append((float(g_coef[-1] - g_coef[0]), float(np.sqrt(diff_var))))
        c_coef, c_cov = calibration(y_res[idx], w_res[idx], s[idx])
        cols["calibration_differential"].append((float(c_coef[1]), float(np.sqrt(c_cov[1, 1]))))
        r = rate(phi[idx], s[idx], n_boot, rng)
        cols["autoc"].append((r["autoc"], float(r["se"][0])))
        cols["qini"].append((r["qini"], float(r["se"][1])))
    return {
        name: median_combined(per_fold, conf_level, "greater" if name == "calibration_differential" else "two-sided")
        for name, per_fold in cols.items()
    }


def gates(phi: np.ndarray, s: np.ndarray, n_groups: int, folds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean DR score per quantile group of the proxy (group 0 = lowest predicted effects), with HC1 covariance.

    With ``folds``, the groups are quantiles of S within each fold (see :func:`blp` for why)."""
    if folds is None:
        edges = np.quantile(s, np.linspace(0, 1, n_groups + 1)[1:-1])
        g = np.searchsorted(edges, s, side="right")
    else:
        g = np.empty(s.size, dtype=np.int64)
        for k in np.unique(folds):
            idx = folds == k
            edges = np.quantile(s[idx], np.linspace(0, 1, n_groups + 1)[1:-1])
            g[idx] = np.searchsorted(edges, s[idx], side="right")
    counts = np.bincount(g, minlength=n_groups)
    if (counts < 2).any():
        raise DataError(
            f"`n_groups` = {n_groups} leaves a group with {int(counts.min())} unit(s) (ties in the CATE predictions); use fewer groups"
        )
    coef, cov = _hc(phi, (g[:, None] == np.arange(n_groups)).astype(float))
    return coef, cov, g


def calibration(y_res: np.ndarray, w_res: np.ndarray, tau: np.ndarray, folds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """grf's ``test_calibration``: Y - m(X) on [mean(tau) (W - e), (tau - mean(tau)) (W - e)], no intercept, HC1.

    With ``folds``, the means are taken within each fold (see :func:`blp`)."""
    dev = fold_centred(tau, folds)
    return _hc(y_res, np.column_stack([(tau - dev) * w_res, dev * w_res]))


def rate_curve(phi: np.ndarray, s: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float, float]:
    """TOC curve and the AUTOC and Qini RATEs of the priority ``s`` with unit weights ``w`` (bootstrap counts).

    Units sorted by decreasing priority (ties kept in a fixed order): :math:`TOC(q) = \\bar\\phi_{top\\,q} - \\bar\\phi`;
    AUTOC is the mean of TOC over q, Qini the mean of :math:`q\\,TOC(q)` (Yadlowsky et al. 2021, grf's ``rank_average_treatment_effect``).
    """
    order = np.argsort(-s, kind="stable")
    ph = phi[order]
    ww = np.ones(ph.size) if w is None else w[order]
    cw = np.cumsum(ww)
    keep = ww > 0
    total = cw[-1]
    toc = np.cumsum(ww * ph) / np.maximum(cw, 1e-300) - np.sum(ww * ph) / total
    q = cw / total
    autoc = float(np.sum(ww[keep] * toc[keep]) / total)
    qini = float(np.sum(ww[keep] * q[keep] * toc[keep]) / total)
    return q, toc, autoc, qini


def rate(phi: np.ndarray, s: np.ndarray, n_boot: int, rng: np.random.Generator) -> dict[str, Any]:
    """AUTOC and Qini with bootstrap standard errors (units resampled, priorities held fixed)."""
    q, toc, autoc, qini = rate_curve(phi, s)
    order = np.argsort(-s, kind="stable")
    ph = phi[order]
    boots = np.empty((n_boot, 2))
    step = max(1, (1 << 22) // max(phi.size, 1))  # resamples per block, so a block holds about 4 million weights
    for b in range(0, n_boot, step):
        ww = rng.multinomial(phi.size, np.full(phi.size, 1 / phi.size), size=min(step, n_boot - b)).astype(float)[:, order]
        cw = np.cumsum(ww, axis=1)
        total = cw[:, -1:]
        tc = np.cumsum(ww * ph, axis=1) / np.maximum(cw, 1e-300) - (ww @ ph)[:, None] / total
        boots[b : b + step, 0] = np.sum(ww * tc, axis=1) / total[:, 0]
        boots[b : b + step, 1] = np.sum(ww * (cw / total) * tc, axis=1) / total[:, 0]
    se = boots.std(axis=0, ddof=1)
    return {"q": q, "toc": toc, "autoc": autoc, "qini": qini, "se": se}


# ---------------------------------------------------------------------------------------------- public function
def _term(name: str, est: float, se: float, conf_level: float) -> dict[str, Any]:
    stat, p, lo, hi = t_inference(float(est), float(se), None, conf_level)
    return {"term": name, "estimate": est, "std_error": se, "ci_low": lo, "ci_high": hi, "statistic": stat, "pvalue": p}


def _held_out_cate(model: Any, x: np.ndarray, names: list[str], y: np.ndarray, t: np.ndarray, folds: np.ndarray) -> np.ndarray:
    from sklearn.base import clone

    s = np.empty(y.size)
    for k in range(int(folds.max()) + 1):
        te = folds == k
        m = clone(model)
        m.fit(pd.DataFrame(x[~te], columns=names), y[~te], t[~te])
        s[te] = m.effect(pd.DataFrame(x[te], columns=names))
    return s


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "model": [None, vp.InstanceOf("causalinfer.designs._cate_models:CATEModel")],
        "outcome_model": [None, vp.HasMethods("fit", "predict", what="a scikit-learn regressor (with fit and predict)")],
        "propensity_model": [None, vp.HasMethods("fit", "predict_proba", what="a scikit-learn classifier (with fit and predict_proba)")],
        "n_groups": vp.Interval("int", 2),
        "n_folds": vp.Interval("int", 2),
        "n_boot": vp.Interval("int", 20),
        "random_state": "random_state",
        "conf_level": "conf_level",
    }
)
def heterogeneity_test(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    model: Any = None,
    outcome_model: Any = None,
    propensity_model: Any = None,
    n_groups: int = 5,
    n_folds: int = 5,
    n_boot: int = 200,
    random_state: int | None = 0,
    conf_level: float = 0.95,
) -> Result:
    """Tests that treatment effects differ between units, from CATE predictions made on held-out folds.

    Parameters
    ----------
    data : Dataset or DataFrame
    outcome, treatment, covariates : str, optional
        Outcome, 0/1 treatment and numeric covariates.
    model : CATEModel, optional
        The CATE model whose predictions are tested (default ``DRLearner(final_model="linear")``); cloned and
        fitted once per fold on the other folds, so every unit's prediction is made without its data.
    outcome_model, propensity_model : scikit-learn estimators, optional
        Nuisance models of the doubly robust scores (default random forest and logistic regression).
    n_groups : int, default 5
        Groups of GATES and CLAN (quantiles of the held-out predictions).
    n_folds : int, default 5
    n_boot : int, default 200
        Bootstrap resamples for the RATE standard errors.
    random_state : int, optional
    conf_level : float, default 0.95

    Returns
    -------
    Result
        ``estimate``: the BLP heterogeneity loading :math:`\\beta_2`, fitted in each held-out fold and
        combined over folds by the median (its test of :math:`\\beta_2 = 0` gives the ``pvalue``: twice the
        median of the per-fold p-values, see Notes). ``terms``: ``blp_ate``, ``blp_slope``, ``gates_1`` ... ``gates_G`` (group 1 lowest),
        ``gates_top_minus_bottom``, ``calibration_mean`` and ``calibration_differential`` (grf's
        ``test_calibration``: 1 for well calibrated, > 0 for real heterogeneity; one-sided p-values as grf),
        ``autoc`` and ``qini`` (bootstrap SEs, normal CIs). Like the slope, ``gates_top_minus_bottom``,
        ``calibration_differential``, ``autoc`` and ``qini`` are computed in each held-out fold and combined over
        folds by the median (see Notes); the group effects ``gates_1`` ... and ``calibration_mean`` pool the
        folds. ``details``: ``gates`` (n, effect, CI per group),
        ``clan`` (mean of every covariate in the top and bottom groups and their difference with Welch SE),
        ``toc`` (the targeting operator characteristic curve), ``cate_held_out`` and ``scores``.

    Notes
    -----
    Scores :math:`\\phi_i` are the cross-fitted AIPW scores; predictions :math:`S_i` come from a model fitted
    without fold :math:`i`. Each fold's predictions come from one model fitted on the other folds' outcomes, so
    their level moves against the fold's own noise; every statistic therefore compares units within folds
    (:math:`\\bar S_{k}` is the mean of :math:`S` in unit :math:`i`'s fold :math:`k`; comparing levels across folds
    biased the BLP slope, GATES and RATE downwards when the effect is constant). BLP:
    :math:`\\phi_i = \\beta_1 + \\beta_2 (S_i - \\bar S_{k}) + e_i` with HC1 errors; the ATE :math:`\\beta_1` from all
    units, the slope in each fold on its own (its proxy comes from one model fitted without it, so the fold's
    test is valid; pooling the folds over-rejects) and combined as Chernozhukov, Demirer, Duflo & Fernandez-Val
    (2018) combine splits: median slope, medians of the per-fold limits at level :math:`1-\\alpha/2`, p-value
    twice the median p-value (conservative). The tests of heterogeneity from GATES (top minus bottom group),
    calibration (differential coefficient) and RATE are combined over folds the same way: pooled, they rejected
    8% to 16% of the time at the 5% level with a constant effect (``benchmarks/bench_heterogeneity_size.py``).
    GATES: mean :math:`\\phi` per group
    of the within-fold quantiles of :math:`S`. Calibration: :math:`Y - \\hat m` on :math:`\\bar S_{k} (T-\\hat e)`
    and :math:`(S-\\bar S_{k})(T-\\hat e)` without intercept. RATE: Yadlowsky, Fleming, Shah, Brunskill & Wager
    (2021), with priorities the within-fold ranks of :math:`S`.
    """
    conf_level = check_conf_level(conf_level)
    n_groups = check_int(n_groups, "n_groups", minimum=2)
    ds = dataset(data, outcome=outcome, treatment=treatment, covariates=covariates)
    y = numeric(ds, need(ds, "outcome", "heterogeneity_test"), "outcome")
    t = binary_treatment(numeric(ds, need(ds, "treatment", "heterogeneity_test"), "treatment"), "treatment")
    names = list(need(ds, "covariates", "heterogeneity_test"))
    x, _ = covariate_matrix(ds.frame[names], names, "covariates")
    if model is not None and not isinstance(model, CATEModel):
        raise ArgumentTypeError(f"`model` must be a CATE model (DRLearner, CausalForest, ...); got {show(model)}")
    rng = check_random_state(random_state)
    seed = random_state if isinstance(random_state, int) else 0
    folds = fold_labels(y.size, check_int(n_folds, "n_folds", minimum=2), seed, t)
    om = _default_regressor(seed) if outcome_model is None else outcome_model
    pm = _default_classifier() if propensity_model is None else propensity_model
    mu0, mu1, e, phi = dr_scores(y, t, x, folds, om, pm)
    e = np.clip(e, 0.01, 0.99)
    model = DRLearner(om, pm, n_folds=2, random_state=seed) if model is None else model
    s = _held_out_cate(model, x, names, y, t, folds)

    b_coef, b_cov = blp(phi, s, folds)
    terms = [
        _term("blp_ate", b_coef[0], np.sqrt(b_cov[0, 0]), conf_level),
        {"term": "blp_slope", **blp_by_fold(phi, s, folds, conf_level)},
    ]
    g_coef, g_cov, g = gates(phi, s, n_groups, folds)
    terms += [_term(f"gates_{j + 1}", g_coef[j], np.sqrt(g_cov[j, j]), conf_level) for j in range(n_groups)]
    m_hat = t * mu1 + (1 - t) * mu0 - (t - e) * (mu1 - mu0)  # E[Y|X] = mu0 + e (mu1 - mu0)
    n_boot = check_int(n_boot, "n_boot", minimum=20)
    by_fold = heterogeneity_by_fold(phi, s, y - m_hat, t - e, folds, n_groups, n_boot, rng, conf_level)
    terms.append({"term": "gates_top_minus_bottom", **by_fold["gates_top_minus_bottom"]})
    c_coef, c_cov = calibration(y - m_hat, t - e, s, folds)
    from ..stats._normal import z_pvalue

    row = _term("calibration_mean", c_coef[0], np.sqrt(c_cov[0, 0]), conf_level)
    row["pvalue"] = z_pvalue(float(row["statistic"]), "greater")  # one-sided, as grf
    terms += [row, {"term": "calibration_differential", **by_fold["calibration_differential"]}]
    terms += [{"term": nm, **by_fold[nm]} for nm in ("autoc", "qini")]
    q, toc, _, _ = rate_curve(phi, fold_ranks(s, folds))

    gates_tab = pd.DataFrame(
        {
            "group": np.arange(1, n_groups + 1),
            "n": np.bincount(g, minlength=n_groups),
            "effect": g_coef,
            "std_error": np.sqrt(np.diag(g_cov)),
        }
    )
    _, _, lo_g, hi_g = t_inference(0.0, 1.0, None, conf_level)
    gates_tab["ci_low"] = g_coef + lo_g * gates_tab["std_error"]
    gates_tab["ci_high"] = g_coef + hi_g * gates_tab["std_error"]
    slope = terms[1]
    return Result(
        method=f"Heterogeneity tests on held-out CATE predictions ({type(model).__name__}, {int(folds.max()) + 1} folds): "
        "BLP and GATES of doubly robust scores (HC1), calibration test, RATE with bootstrap SEs",
        estimand=f"heterogeneity of the effect of {ds.treatment} on {ds.outcome} captured by the CATE predictions (BLP slope)",
        estimate=slope["estimate"],
        std_error=slope["std_error"],
        ci_low=slope["ci_low"],
        ci_high=slope["ci_high"],
        conf_level=conf_level,
        statistic=slope["statistic"],
        statistic_name="z",
        pvalue=slope["pvalue"],
        alternative="two-sided",
        null_value=0.0,
        n=int(y.size),
        terms=pd.DataFrame(terms),
        details={
            "gates": gates_tab,
            "clan": _clan(x, names, g, n_groups),
            "toc": pd.DataFrame({"q": q, "toc": toc}),
            "cate_held_out": pd.DataFrame({"cate": s}),
            "scores": pd.DataFrame({"score": phi, "propensity": e}),
        },
        label="BLP slope",
        provenance=Provenance.current(random_state=random_state, data_fingerprint=ds.fingerprint()),
    )


def _clan(x: np.ndarray, names: list[str], g: np.ndarray, n_groups: int) -> pd.DataFrame:
    """Mean of each covariate in the most and the least affected groups, and their difference (Welch SE)."""
    top, bottom = x[g == n_groups - 1], x[g == 0]
    diff = top.mean(axis=0) - bottom.mean(axis=0)
    se = np.sqrt(top.var(axis=0, ddof=1) / len(top) + bottom.var(axis=0, ddof=1) / len(bottom))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, np.nan)
    from ..stats._normal import z_pvalue

    return pd.DataFrame(
        {
            "covariate": names,
            "mean_top": top.mean(axis=0),
            "mean_bottom": bottom.mean(axis=0),
            "difference": diff,
            "std_error": se,
            "pvalue": np.array([z_pvalue(float(v), "two-sided") for v in np.ravel(z)]),
        }
    )


def _toc_band(phi: np.ndarray, s: np.ndarray, grid: np.ndarray, n_boot: int, rng: np.random.Generator, z: float) -> pd.DataFrame:
    """TOC and Qini curve (q TOC(q)) on ``grid`` with pointwise bootstrap bands (units resampled)."""
    q, toc, _, _ = rate_curve(phi, s)
    at = np.interp(grid, q, toc)
    boots = np.empty((n_boot, grid.size))
    for b in range(n_boot):
        w = rng.multinomial(phi.size, np.full(phi.size, 1 / phi.size)).astype(float)
        qb, tb, _, _ = rate_curve(phi, s, w)
        boots[b] = np.interp(grid, qb, tb)
    se = boots.std(axis=0, ddof=1)
    return pd.DataFrame(
        {
            "q": grid,
            "toc": at,
            "toc_low": at - z * se,
            "toc_high": at + z * se,
            "qini": grid * at,
            "qini_low": grid * (at - z * se),
            "qini_high": grid * (at + z * se),
        }
    )


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "model_a": [None, vp.InstanceOf("causalinfer.designs._cate_models:CATEModel")],
        "model_b": [None, vp.InstanceOf("causalinfer.designs._cate_models:CATEModel")],
        "outcome_model": [None, vp.HasMethods("fit", "predict", what="a scikit-learn regressor (with fit and predict)")],
        "propensity_model": [None, vp.HasMethods("fit", "predict_proba", what="a scikit-learn classifier (with fit and predict_proba)")],
        "n_folds": vp.Interval("int", 2),
        "n_boot": vp.Interval("int", 20),
        "random_state": "random_state",
        "conf_level": "conf_level",
    }
)
def compare_targeting(
    data: Any,
    *,
    model_a: Any = None,
    model_b: Any = None,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    outcome_model: Any = None,
    propensity_model: Any = None,
    n_folds: int = 5,
    n_boot: int = 200,
    random_state: int | None = 0,
    conf_level: float = 0.95,
) -> Result:
    """Which of two CATE models targets better? Qini and AUTOC of each, and their difference by a paired bootstrap.

    ``model_a`` defaults to ``DRLearner()`` (linear final stage) and ``model_b`` to ``TLearner()``, both with the
    given nuisance models. Both models predict every unit from folds that exclude it; both are scored with the same cross-fitted doubly
    robust scores, and every bootstrap resample of units is shared by the two (a paired comparison).

    Returns
    -------
    Result
        ``estimate``: Qini of ``model_a`` minus Qini of ``model_b`` with its paired bootstrap SE and normal CI.
        ``terms``: ``qini_a``, ``qini_b``, ``qini_difference``, ``autoc_a``, ``autoc_b``, ``autoc_difference``.
        ``details['curves']``: the TOC and Qini (uplift) curves of both models on a grid of q with pointwise
        bootstrap bands (columns ``model``, ``q``, ``toc``, ``toc_low``, ``toc_high``, ``qini``, ``qini_low``, ``qini_high``).
    """
    from ..stats._normal import z_crit

    conf_level = check_conf_level(conf_level)
    ds = dataset(data, outcome=outcome, treatment=treatment, covariates=covariates)
    y = numeric(ds, need(ds, "outcome", "compare_targeting"), "outcome")
    t = binary_treatment(numeric(ds, need(ds, "treatment", "compare_targeting"), "treatment"), "treatment")
    names = list(need(ds, "covariates", "compare_targeting"))
    x, _ = covariate_matrix(ds.frame[names], names, "covariates")
    seed0 = random_state if isinstance(random_state, int) else 0
    model_a = DRLearner(outcome_model, propensity_model, n_folds=2, random_state=seed0) if model_a is None else model_a
    if model_b is None:
        from ._cate_models import TLearner

        model_b = TLearner(outcome_model, n_folds=2, random_state=seed0)
    for m, nm in ((model_a, "model_a"), (model_b, "model_b")):
        if not isinstance(m, CATEModel):
            raise ArgumentTypeError(f"`{nm}` must be a CATE model (DRLearner, CausalForest, ...); got {show(m)}")
    seed = random_state if isinstance(random_state, int) else 0
    rng = check_random_state(random_state)
    folds = fold_labels(y.size, check_int(n_folds, "n_folds", minimum=2), seed, t)
    om = _default_regressor(seed) if outcome_model is None else outcome_model
    pm = _default_classifier() if propensity_model is None else propensity_model
    phi = dr_scores(y, t, x, folds, om, pm)[3]
    # priorities are ranks within each fold: a fold's predictions come from one model, whose level is not comparable
    sa, sb = (fold_ranks(_held_out_cate(m, x, names, y, t, folds), folds) for m in (model_a, model_b))
    n_boot = check_int(n_boot, "n_boot", minimum=20)
    point = np.array([rate_curve(phi, s)[2:] for s in (sa, sb)])  # rows a, b; columns autoc, qini
    boots = np.empty((n_boot, 2, 2))
    for b in range(n_boot):
        w = rng.multinomial(phi.size, np.full(phi.size, 1 / phi.size)).astype(float)
        boots[b] = [rate_curve(phi, s, w)[2:] for s in (sa, sb)]
    terms = []
    for j, stat in ((1, "qini"), (0, "autoc")):
        se_a, se_b = boots[:, 0, j].std(ddof=1), boots[:, 1, j].std(ddof=1)
        se_d = (boots[:, 0, j] - boots[:, 1, j]).std(ddof=1)
        terms += [
            _term(f"{stat}_a", point[0, j], se_a, conf_level),
            _term(f"{stat}_b", point[1, j], se_b, conf_level),
            _term(f"{stat}_difference", point[0, j] - point[1, j], se_d, conf_level),
        ]
    z = z_crit(conf_level)
    grid = np.linspace(0.02, 1.0, 50)
    curves = pd.concat([_toc_band(phi, s, grid, n_boot, rng, z).assign(model=lab) for s, lab in ((sa, "a"), (sb, "b"))], ignore_index=True)
    head = terms[2]
    return Result(
        method=f"Paired comparison of two targeting models ({type(model_a).__name__} vs {type(model_b).__name__}) by Qini and AUTOC "
        f"on held-out predictions and cross-fitted doubly robust scores; paired bootstrap ({n_boot} resamples)",
        estimand=f"difference in Qini (area under the uplift curve) of the two models' rankings for {ds.treatment} on {ds.outcome}",
        estimate=head["estimate"],
        std_error=head["std_error"],
        ci_low=head["ci_low"],
        ci_high=head["ci_high"],
        conf_level=conf_level,
        statistic=head["statistic"],
        statistic_name="z",
        pvalue=head["pvalue"],
        alternative="two-sided",
        null_value=0.0,
        n=int(y.size),
        terms=pd.DataFrame(terms),
        details={"curves": curves[["model", *[c for c in curves.columns if c != "model"]]]},
        label="Qini difference",
        provenance=Provenance.current(random_state=random_state, data_fingerprint=ds.fingerprint()),
    )
