"""Array-level estimators of binary-treatment effects and their influence functions.

Everything here works on plain arrays (outcome ``y``, treatment ``a`` in {0, 1}, covariate design ``Z``)
so that refutations can refit thousands of times without touching pandas. Public functions live in
``_estimators.py``.

Conventions: ``c`` is the indicator of the target population (1 for the ATE, ``a`` for the ATT, ``1 - a``
for the ATC); every estimator returns the estimate and, when asked, its influence function ``phi`` with
``estimate - truth ~ mean(phi)``, so that the standard error is ``sqrt(sum(phi^2)) / n``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..exceptions import DataError
from ._models import LogitFit, Standardizer, expit, fit_logit, fit_ols, sk_outcome, sk_propensity, t_times, times


@dataclass(frozen=True)
class Spec:
    """Options of one estimator, fixed at the first fit and reused by every refit."""

    method: str  # "ipw", "regression", "aipw", "dml"
    estimand: str = "ATE"
    normalize: bool = True
    clip: float | None = None
    se: str = "influence"
    propensity_model: Any = None
    outcome_model: Any = None
    interactions: tuple[int, ...] | None = None  # design columns interacted with treatment (regression)
    n_folds: int = 1
    fold_seed: int | None = None
    n_strata: int = 5
    match_distance: str = "mahalanobis"
    ratio: int = 1
    caliper: float | None = None
    bias_adjust: bool = True


@dataclass
class EffectFit:
    estimate: float
    phi: np.ndarray | None = None
    mu1: float | None = None
    mu0: float | None = None
    e: np.ndarray | None = None
    weights: np.ndarray | None = None
    logit: LogitFit | None = None
    n_clipped: int = 0
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Warm:
    """Warm-start information from the original fit: standardiser and propensity coefficients."""

    std: Standardizer
    beta: np.ndarray | None = None
    X: np.ndarray | None = None  # the standardised design ``std.design(Z)``, when already built
    H: np.ndarray | None = None  # a logistic Hessian X' W X near the refit's answer (chord steps for refits)
    e: np.ndarray | None = None  # fitted propensities at ``beta`` for the rows of ``X`` (saves a pass over X)


def target(a: np.ndarray, estimand: str) -> np.ndarray:
    if estimand == "ATE":
        return np.ones_like(a)
    return a if estimand == "ATT" else 1.0 - a


def weights_and_slope(a: np.ndarray, e: np.ndarray, estimand: str) -> tuple[np.ndarray, np.ndarray]:
    """Balancing weights for the estimand and their derivative with respect to the propensity."""
    if estimand == "ATE":
        w = np.where(a == 1, 1.0 / e, 1.0 / (1.0 - e))
        dw = np.where(a == 1, -1.0 / e**2, 1.0 / (1.0 - e) ** 2)
    elif estimand == "ATT":
        w = np.where(a == 1, 1.0, e / (1.0 - e))
        dw = np.where(a == 1, 0.0, 1.0 / (1.0 - e) ** 2)
    else:
        w = np.where(a == 1, (1.0 - e) / e, 1.0)
        dw = np.where(a == 1, -1.0 / e**2, 0.0)
    return w, dw


def propensity(
    a: np.ndarray, Z: np.ndarray, spec: Spec, warm: Warm | None, names: tuple[str, ...] = (), refit: bool = False
) -> tuple[np.ndarray, LogitFit | None]:
    """Fitted P(A=1 | Z): the built-in logistic regression (warm-started when possible) or a scikit-learn model."""
    if spec.propensity_model is not None:
        return sk_propensity(spec.propensity_model, Z, a, Z), None
    if warm is not None and warm.X is not None and warm.X.shape[0] == a.size:
        X = warm.X  # the standardised design, already built by the caller
    else:
        std = warm.std if warm is not None and warm.std.center.size == Z.shape[1] else Standardizer.of(Z)
        X = std.design(Z)
    beta0 = warm.beta if warm is not None and warm.beta is not None and warm.beta.size == X.shape[1] else None
    H0 = warm.H if (refit and warm is not None) else None
    e0 = warm.e if (refit and warm is not None and beta0 is not None and warm.e is not None and warm.e.size == a.size) else None
    fit = fit_logit(X, a, beta0, names=names, reuse_hessian=refit, tol=1e-6 if refit else 1e-8, H0=H0, e0=e0)
    return fit.e, fit


def clip_propensity(e: np.ndarray, clip: float | None) -> tuple[np.ndarray, np.ndarray]:
    if clip is None:
        return e, np.zeros(e.shape, dtype=bool)
    out = np.clip(e, clip, 1.0 - clip)
    return out, out != e


# ---------------------------------------------------------------------- IPW
def ipw(
    y: np.ndarray, a: np.ndarray, Z: np.ndarray, spec: Spec, *, warm: Warm | None = None, need_phi: bool = True, names: tuple[str, ...] = ()
) -> EffectFit:
    """Inverse-probability weighting, Horvitz-Thompson (``normalize=False``) or Hajek (``normalize=True``).

    The influence function stacks the logistic score, so the standard error accounts for the estimated
    propensity (``se="influence"``); ``se="sandwich"`` treats the weights as known, as the robust variance of a
    weighted outcome regression does.
    """
    e_raw, logit = propensity(a, Z, spec, warm, names, refit=not need_phi)
    if not need_phi:
        return _ipw_point(y, a, e_raw, spec, logit)
    e, clipped = clip_propensity(e_raw, spec.clip)
    w, dw = weights_and_slope(a, e, spec.estimand)
    c = target(a, spec.estimand)
    n = y.size
    wa1, wa0 = w * a, w * (1.0 - a)
    if spec.normalize:
        s1, s0 = wa1.sum(), wa0.sum()
        mu1, mu0 = float(wa1 @ y / s1), float(wa0 @ y / s0)
    else:
        sc = c.sum()
        mu1, mu0 = float(wa1 @ y / sc), float(wa0 @ y / sc)
    fit = EffectFit(estimate=mu1 - mu0, mu1=mu1, mu0=mu0, e=e, weights=w, logit=logit, n_clipped=int(clipped.sum()))
    if spec.normalize:
        r1, r0 = a * (y - mu1), (1.0 - a) * (y - mu0)
        g1, g0 = w * r1, w * r0
        d1, d0 = s1 / n, s0 / n
    else:
        r1, r0 = a * y, (1.0 - a) * y
        g1, g0 = w * r1 - c * mu1, w * r0 - c * mu0
        d1 = d0 = c.sum() / n
    phi = g1 / d1 - g0 / d0
    if spec.se == "influence" and logit is not None:
        # The correction for the estimated propensity is (a_i - e_i) x_i' H^-1 (G1 / d1 - G0 / d0) with Gk the mean of
        # x_i rk_i slope_i: both arms in one vector, so one pass over X for the mean and one for the products.
        slope = dw * e * (1.0 - e) * (~clipped)  # d w / d eta
        G = t_times(logit.X, slope * (r1 / d1 - r0 / d0)) / n
        phi += logit.influence_times(a, G)
    fit.phi = phi
    return fit


def _ipw_point(y: np.ndarray, a: np.ndarray, e: np.ndarray, spec: Spec, logit: LogitFit | None) -> EffectFit:
    """The IPW point estimate alone, with as few passes over the data as possible (refits)."""
    if spec.clip is not None:
        e = np.clip(e, spec.clip, 1.0 - spec.clip)
    b = 1.0 - a
    if spec.estimand == "ATE":
        t1, t0 = a / e, b / (1.0 - e)
    elif spec.estimand == "ATT":
        t1, t0 = a, b * e / (1.0 - e)
    else:
        t1, t0 = a * (1.0 - e) / e, b
    if spec.normalize:
        mu1, mu0 = float(t1 @ y / t1.sum()), float(t0 @ y / t0.sum())
    else:
        sc = float(target(a, spec.estimand).sum())
        mu1, mu0 = float(t1 @ y / sc), float(t0 @ y / sc)
    return EffectFit(estimate=mu1 - mu0, mu1=mu1, mu0=mu0, e=e, logit=logit)


# ---------------------------------------------------------------------- regression adjustment (g-formula)
def outcome_design(a: np.ndarray, Z: np.ndarray, inter: tuple[int, ...]) -> np.ndarray:
    n = a.size
    X = np.empty((n, 2 + Z.shape[1] + len(inter)))
    X[:, 0] = 1.0
    X[:, 1] = a
    X[:, 2 : 2 + Z.shape[1]] = Z
    if inter:
        X[:, 2 + Z.shape[1] :] = Z[:, list(inter)] * a[:, None]
    return X


def regression(
    y: np.ndarray, a: np.ndarray, Z: np.ndarray, spec: Spec, *, warm: Warm | None = None, need_phi: bool = True, names: tuple[str, ...] = ()
) -> EffectFit:
    """Standardisation: fit E[Y | A, Z], predict everyone under A=1 and A=0, average over the target population."""
    c = target(a, spec.estimand)
    n = y.size
    if spec.outcome_model is not None:
        m1 = sk_outcome(spec.outcome_model, Z[a == 1], y[a == 1], Z)
        m0 = sk_outcome(spec.outcome_model, Z[a == 0], y[a == 0], Z)
        mu1, mu0 = float(c @ m1 / c.sum()), float(c @ m0 / c.sum())
        return EffectFit(estimate=mu1 - mu0, mu1=mu1, mu0=mu0)
    inter = spec.interactions if spec.interactions is not None else tuple(range(Z.shape[1]))
    X = outcome_design(a, Z, inter)
    ols = fit_ols(X, y)
    # predictions under A=1 and A=0 from Z and the coefficients, without building those two designs:
    # [1, 0, Z, 0] b = b0 + Z bz, and [1, 1, Z, Z_inter] b adds b1 + Z_inter b_inter
    k = Z.shape[1]
    coef = ols.coef
    b_inter = np.zeros(k)
    b_inter[list(inter)] = coef[2 + k :]
    m0 = coef[0] + times(Z, coef[2 : 2 + k])
    m1 = m0 + (coef[1] + times(Z, b_inter))
    sc = c.sum()
    mu1, mu0 = float(c @ m1 / sc), float(c @ m0 / sc)
    fit = EffectFit(estimate=mu1 - mu0, mu1=mu1, mu0=mu0, extras={"coef": coef})
    if need_phi:
        # G = mean of c_i (x_i(1) - x_i(0)): the treatment column and the interactions, zero elsewhere
        G = np.zeros(coef.size)
        G[1] = sc / n
        if inter:
            G[2 + k :] = t_times(Z, c)[list(inter)] / n
        fit.phi = (c * (m1 - m0 - fit.estimate) + ols.influence_times(X, G)) / (sc / n)
    return fit


def group_fit(X: np.ndarray, y: np.ndarray, group: str, what: str) -> Any:
    """Least squares on one group's rows, refusing a group with fewer rows than parameters (naming both counts)."""
    n, k = X.shape
    if n < k:
        raise DataError(
            f"{what}: {n} {group} row(s) cannot fit the {k} parameters of its linear model (intercept and "
            f"{k - 1} covariate column(s)); it needs at least {k} rows. Use fewer covariates or more data"
        )
    return fit_ols(X, y)


def arm_name(arm: float) -> str:
    return "treated" if arm == 1.0 else "control"


# ---------------------------------------------------------------------- AIPW and DML
def folds_for(n: int, a: np.ndarray, k: int, seed: int | None) -> np.ndarray:
    """Fold labels 0..k-1, stratified by treatment, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    labels = np.empty(n, dtype=np.int64)
    for arm in (0.0, 1.0):
        idx = np.flatnonzero(a == arm)
        idx = idx[rng.permutation(idx.size)]
        labels[idx] = np.arange(idx.size) % k
    return labels


def _nuisances(
    y: np.ndarray,
    a: np.ndarray,
    Z: np.ndarray,
    fit_rows: np.ndarray | slice,
    pred_rows: np.ndarray | slice,
    spec: Spec,
    warm: Warm | None,
    names: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Propensity and the two arm-specific outcome regressions fitted on ``fit_rows``, predicted on ``pred_rows``.

    ``slice(None)`` for both (no cross-fitting) uses the arrays themselves, and the standardised design of the
    warm start when it has one for these rows, instead of copies.
    """
    Zf, af, yf, Zp = Z[fit_rows], a[fit_rows], y[fit_rows], Z[pred_rows]
    if spec.propensity_model is not None:
        e = sk_propensity(spec.propensity_model, Zf, af, Zp)
    else:
        std = warm.std if warm is not None and warm.std.center.size == Z.shape[1] else Standardizer.of(Zf)
        beta0 = warm.beta if warm is not None and warm.beta is not None and warm.beta.size == Z.shape[1] + 1 else None
        whole = isinstance(fit_rows, slice) and isinstance(pred_rows, slice)
        if whole and warm is not None and warm.X is not None and warm.X.shape[0] == y.size:
            lf = fit_logit(warm.X, af, beta0, names=names)
            e = expit(times(warm.X, lf.beta))
        else:
            lf = fit_logit(std.design(Zf), af, beta0, names=names)
            e = expit(std.design(Zp) @ lf.beta)
    ms = []
    for arm in (1.0, 0.0):
        rows = af == arm
        if spec.outcome_model is not None:
            ms.append(sk_outcome(spec.outcome_model, Zf[rows], yf[rows], Zp))
        else:
            Xf = np.column_stack([np.ones(int(rows.sum())), Zf[rows]])
            where = "outcome model" if yf.size == y.size else "outcome model in a cross-fitting training fold"
            ols = group_fit(Xf, yf[rows], arm_name(arm), where)
            ms.append(ols.coef[0] + times(Zp, ols.coef[1:]))  # [1, Zp] coef, without building [1, Zp]
    return e, ms[0], ms[1]


def cross_fitted(
    y: np.ndarray, a: np.ndarray, Z: np.ndarray, spec: Spec, warm: Warm | None, names: tuple[str, ...], folds: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = y.size
    if spec.n_folds <= 1 and folds is None:
        return _nuisances(y, a, Z, slice(None), slice(None), spec, warm, names)
    if folds is None:
        folds = folds_for(n, a, spec.n_folds, spec.fold_seed)
    e, m1, m0 = np.empty(n), np.empty(n), np.empty(n)
    for k in np.unique(folds):
        test = np.flatnonzero(folds == k)
        train = np.flatnonzero(folds != k)
        e[test], m1[test], m0[test] = _nuisances(y, a, Z, train, test, spec, warm, names)
    return e, m1, m0


def aipw(
    y: np.ndarray,
    a: np.ndarray,
    Z: np.ndarray,
    spec: Spec,
    *,
    warm: Warm | None = None,
    need_phi: bool = True,
    names: tuple[str, ...] = (),
    folds: np.ndarray | None = None,
) -> EffectFit:
    """Augmented IPW (doubly robust), optionally cross-fitted; the influence function is the efficient one."""
    e_raw, m1, m0 = cross_fitted(y, a, Z, spec, warm, names, folds)
    e, clipped = clip_propensity(e_raw, spec.clip)
    n = y.size
    if spec.estimand == "ATE":
        psi = m1 - m0 + a * (y - m1) / e - (1.0 - a) * (y - m0) / (1.0 - e)
        c = np.ones(n)
    elif spec.estimand == "ATT":
        psi = a * (y - m0) - (1.0 - a) * e / (1.0 - e) * (y - m0)
        c = a
    else:
        psi = (1.0 - a) * (m1 - y) + a * (1.0 - e) / e * (y - m1)
        c = 1.0 - a
    est = float(psi.sum() / c.sum())
    w, _ = weights_and_slope(a, e, spec.estimand)
    fit = EffectFit(estimate=est, e=e, weights=w, n_clipped=int(clipped.sum()))
    if spec.estimand == "ATE":
        fit.mu1 = float(np.mean(m1 + a * (y - m1) / e))
        fit.mu0 = float(np.mean(m0 + (1.0 - a) * (y - m0) / (1.0 - e)))
    if need_phi:
        fit.phi = (psi - c * est) / (c.sum() / n)
    return fit


def dml_plr(
    y: np.ndarray,
    a: np.ndarray,
    Z: np.ndarray,
    spec: Spec,
    *,
    warm: Warm | None = None,
    need_phi: bool = True,
    names: tuple[str, ...] = (),
    folds: np.ndarray | None = None,
) -> EffectFit:
    """Double/debiased ML for the partially linear model ``Y = theta A + g(Z) + U`` (Robinson's partialling out)."""
    n = y.size
    if folds is None:
        folds = folds_for(n, a, max(spec.n_folds, 2), spec.fold_seed)
    e, ell = np.empty(n), np.empty(n)
    for k in np.unique(folds):
        test, train = folds == k, folds != k
        if spec.propensity_model is not None:
            e[test] = sk_propensity(spec.propensity_model, Z[train], a[train], Z[test])
        else:
            std = Standardizer.of(Z[train])
            lf = fit_logit(std.design(Z[train]), a[train], names=names)
            e[test] = expit(std.design(Z[test]) @ lf.beta)
        if spec.outcome_model is not None:
            ell[test] = sk_outcome(spec.outcome_model, Z[train], y[train], Z[test])
        else:
            Xtr = np.column_stack([np.ones(int(train.sum())), Z[train]])
            ell[test] = (
                np.column_stack([np.ones(int(test.sum())), Z[test]])
                @ group_fit(Xtr, y[train], "training", "outcome model in a cross-fitting fold").coef
            )
    if spec.clip is not None:
        e = np.clip(e, spec.clip, 1.0 - spec.clip)
    va, vy = a - e, y - ell
    den = float(va @ va)
    est = float(va @ vy / den)
    fit = EffectFit(estimate=est, e=e)
    if need_phi:
        fit.phi = va * (vy - est * va) / (den / n)
    return fit


# ---------------------------------------------------------------------- propensity-score stratification
def strata_of(e: np.ndarray, k: int) -> np.ndarray:
    """Stratum 0..k-1 of each unit: quantile classes of the propensity, intervals closed on the right (R's ``cut``)."""
    breaks = np.quantile(e, np.linspace(0.0, 1.0, k + 1))
    return np.searchsorted(breaks[1:-1], e, side="left")


def stratification(
    y: np.ndarray, a: np.ndarray, Z: np.ndarray, spec: Spec, *, warm: Warm | None = None, need_phi: bool = True, names: tuple[str, ...] = ()
) -> EffectFit:
    """Propensity-score stratification: differences in means within quantile classes of the propensity, averaged.

    Stratum weights are the target population's shares (all units for the ATE, the treated for the ATT, the
    controls for the ATC). The influence function treats the strata and their weights as fixed.
    """
    from ..exceptions import DataError

    e, logit = propensity(a, Z, spec, warm, names, refit=not need_phi)
    k = spec.n_strata
    s = strata_of(e, k)
    c = target(a, spec.estimand)
    n1k = np.bincount(s, weights=a, minlength=k)
    nk = np.bincount(s, minlength=k).astype(float)
    n0k = nk - n1k
    used = nk > 0  # tied propensities (e.g. no covariates) can leave quantile classes empty
    if np.any(used & ((n1k < 1) | (n0k < 1))):
        bad = int(np.flatnonzero(used & ((n1k < 1) | (n0k < 1)))[0])
        raise DataError(
            f"propensity stratum {bad + 1} of {k} has {int(n1k[bad])} treated and {int(n0k[bad])} untreated units; "
            "every stratum needs both (poor overlap): use fewer strata or trim the propensity"
        )
    n1k, n0k = np.where(used, n1k, 1.0), np.where(used, n0k, 1.0)
    m1 = np.bincount(s, weights=a * y, minlength=k) / n1k
    m0 = np.bincount(s, weights=(1.0 - a) * y, minlength=k) / n0k
    wk = np.bincount(s, weights=c, minlength=k)
    wk = wk / wk.sum()
    est = float(wk @ (m1 - m0))
    fit = EffectFit(estimate=est, e=e, logit=logit, extras={"strata": (nk, np.where(used, n1k, 0.0), m1, m0, wk)})
    w_unit = np.where(a == 1, wk[s] / n1k[s], wk[s] / n0k[s]) * y.size
    fit.weights = w_unit
    if need_phi:
        n = y.size
        fit.phi = np.where(a == 1, 1.0, -1.0) * wk[s] * n / np.where(a == 1, n1k[s], n0k[s]) * (y - np.where(a == 1, m1[s], m0[s]))
    return fit


CORES = {"ipw": ipw, "regression": regression, "aipw": aipw, "dml": dml_plr, "stratification": stratification}


def run(
    y: np.ndarray, a: np.ndarray, Z: np.ndarray, spec: Spec, *, warm: Warm | None = None, need_phi: bool = True, names: tuple[str, ...] = ()
) -> EffectFit:
    return CORES[spec.method](y, a, Z, spec, warm=warm, need_phi=need_phi, names=names)  # type: ignore[operator]


def standard_error(phi: np.ndarray, cluster: np.ndarray | None = None) -> float:
    """``sqrt(sum phi_i^2) / n``; with clusters, sums within clusters first and scales by G / (G - 1)."""
    n = phi.size
    if cluster is not None:
        phi = np.bincount(cluster, weights=phi)
    g = phi.size
    scale = power_of_two_scale(phi)  # exact rescaling: squares of values near 1e300 (or 1e-300) stay representable
    u = phi / scale
    factor = 1.0 if cluster is None else g / (g - 1)
    return float(scale * np.sqrt(factor * (u @ u)) / n)


def power_of_two_scale(values: np.ndarray) -> float:
    """A power of two near the largest finite absolute value (1 when that is moderate): dividing by it is exact."""
    top = np.inf
    if values.size:
        with np.errstate(invalid="ignore"):
            top = max(abs(float(values.max())), abs(float(values.min())))  # two reductions, no copies
    if not np.isfinite(top):  # NaN or infinite values (or none): only the finite ones count
        finite = np.abs(values[np.isfinite(values)])
        top = float(finite.max()) if finite.size else 0.0
    if top == 0.0 or 1e-100 < top < 1e100:
        return 1.0
    return float(2.0 ** np.floor(np.log2(top)))
