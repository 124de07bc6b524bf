"""Nearest-neighbour matching: with replacement (Abadie-Imbens bias correction and variance) or without (greedy, as MatchIt)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_int, check_real, show
from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, Provenance
from . import _core as core
from ._diagnostics import balance_diagnostic, balance_table
from ._effect import EffectResult
from ._models import Standardizer
from ._refitter import CausalRefitter


def _metric_space(Z: np.ndarray, distance: str, e: np.ndarray | None) -> np.ndarray:
    """Coordinates in which Euclidean distance is the matching distance."""
    if distance == "propensity":
        assert e is not None
        return e[:, None]
    if Z.shape[1] == 0:
        raise ArgumentError("Mahalanobis matching needs covariates; give `covariates`")
    cov = np.cov(Z, rowvar=False).reshape(Z.shape[1], Z.shape[1])
    try:
        L = np.linalg.cholesky(np.linalg.inv(cov))
    except np.linalg.LinAlgError:
        raise DataError("the covariates are collinear, so the Mahalanobis distance is undefined; remove redundant covariates") from None
    return (Z - Z.mean(axis=0)) @ L


def _neighbours(
    space: np.ndarray, donors: np.ndarray, receivers: np.ndarray, m: int, exclude_self: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The ``m`` nearest donors of each receiver; ties in distance go to the donor listed first in the data."""
    from scipy.spatial import cKDTree

    tree = cKDTree(space[donors])
    extra = 1 if exclude_self else 0
    k = min(m + extra + 8, donors.size)
    dist, idx = tree.query(space[receivers], k=k)
    dist, idx = dist.reshape(len(receivers), k), idx.reshape(len(receivers), k)
    out_d = np.empty((len(receivers), m))
    out_i = np.empty((len(receivers), m), dtype=np.int64)
    for r in range(len(receivers)):
        d, ix = dist[r], idx[r]
        if k < donors.size and d[-1] <= d[m + extra - 1]:  # ties run past the candidates: search all donors
            d = np.sqrt(((space[donors] - space[receivers[r]]) ** 2).sum(axis=1))
            ix = np.arange(donors.size)
        order = np.lexsort((ix, d))
        if exclude_self:
            order = order[donors[ix[order]] != receivers[r]]
        out_d[r], out_i[r] = d[order[:m]], ix[order[:m]]
    return out_d, donors[out_i]


def match_estimate(
    y: np.ndarray,
    a: np.ndarray,
    Z: np.ndarray,
    *,
    estimand: str,
    distance: str,
    ratio: int,
    caliper: float | None,
    bias_adjust: bool,
    e: np.ndarray | None,
) -> dict[str, Any]:
    """Matching estimate, Abadie-Imbens (2006) standard error and bookkeeping, for one estimand.

    An outcome near 1e300 (or 1e-300) is divided by a power of two first (exact), so that squared differences
    neither overflow nor underflow; the estimate, standard error and differences are returned on the outcome's scale.
    """
    scale = core.power_of_two_scale(y)
    y = y / scale
    n = y.size
    space = _metric_space(Z, distance, e)
    treated, control = np.flatnonzero(a == 1), np.flatnonzero(a == 0)
    groups = []
    if estimand in ("ATE", "ATT"):
        groups.append((treated, control, 1.0))
    if estimand in ("ATE", "ATC"):
        groups.append((control, treated, -1.0))
    if bias_adjust:
        X = np.column_stack([np.ones(n), Z])
        mu = {
            arm: X @ core.group_fit(X[a == arm], y[a == arm], core.arm_name(arm), "bias-correction regression").coef for arm in (0.0, 1.0)
        }
    n_target = 0
    pairs: list[np.ndarray] = []
    contrib = np.zeros(n)  # Y_i(1)-hat - Y_i(0)-hat for target units
    in_target = np.zeros(n, dtype=bool)
    used = np.zeros(n)  # K_M(j): times a unit is used as a match
    dropped = 0
    sd_space = float(space.std()) if distance == "propensity" else 1.0
    for receivers, donors, sign in groups:
        if donors.size < ratio:
            raise DataError(f"only {donors.size} units to match from, fewer than ratio={ratio}")
        dist, nb = _neighbours(space, donors, receivers, ratio)
        keep = np.ones(receivers.size, dtype=bool)
        if caliper is not None:
            keep = dist.max(axis=1) <= caliper * sd_space
        dropped += int((~keep).sum())
        r, nb = receivers[keep], nb[keep]
        imputed = y[nb].mean(axis=1)
        if bias_adjust:
            arm = 0.0 if sign > 0 else 1.0
            imputed = imputed + mu[arm][r] - mu[arm][nb].mean(axis=1)
        contrib[r] = sign * (y[r] - imputed)
        pairs.append(sign * (y[r] - imputed))
        in_target[r] = True
        np.add.at(used, nb.ravel(), 1.0)
        n_target += r.size
    if n_target == 0:
        raise DataError(f"no unit has a match within caliper={caliper}; widen the caliper")
    tau = float(contrib[in_target].sum() / n_target)
    # conditional variances by matching each unit to its `ratio` nearest neighbours in its own group
    sigma2 = np.zeros(n)
    for arm in (0.0, 1.0):
        idx = np.flatnonzero(a == arm)
        if idx.size <= ratio:
            raise DataError(f"too few units in treatment group {int(arm)} to estimate conditional variances")
        _, nb = _neighbours(space, idx, idx, ratio, exclude_self=True)
        sigma2[idx] = ratio / (ratio + 1.0) * (y[idx] - y[nb].mean(axis=1)) ** 2
    k = used
    # K(K-1)/M^2 counts repeated use of a donor; a unit that is also a target (the ATE) adds 2K/M for the
    # covariance between its own contribution and its use as a donor (Abadie and Imbens 2006, Theorem 6)
    coef = k * (k - 1.0) / ratio**2 + np.where(in_target, 2.0 * k / ratio, 0.0)
    var = (np.sum((contrib[in_target] - tau) ** 2) + np.sum(coef * sigma2)) / n_target**2
    return {
        "estimate": tau * scale,
        "std_error": math.sqrt(var) * scale,
        "n_target": n_target,
        "dropped": dropped,
        "used": used,
        "in_target": in_target,
        "differences": np.concatenate(pairs) * scale,
    }


# ---------------------------------------------------------------------- greedy matching without replacement
NO_REPLACE_METHOD = "matching_without_replacement"


def _pooled_mahalanobis_space(Z: np.ndarray, focal: np.ndarray) -> np.ndarray:
    """Coordinates in which Euclidean distance is the Mahalanobis distance with the pooled within-group covariance."""
    if Z.shape[1] == 0:
        raise ArgumentError("Mahalanobis matching needs covariates; give `covariates`")
    centred = Z.copy()
    for mask in (focal, ~focal):
        centred[mask] -= Z[mask].mean(axis=0)
    cov = centred.T @ centred / (Z.shape[0] - 2)
    try:
        L = np.linalg.cholesky(np.linalg.inv(cov))
    except np.linalg.LinAlgError:
        raise DataError("the covariates are collinear, so the Mahalanobis distance is undefined; remove redundant covariates") from None
    return Z @ L


def greedy_matches(
    space: np.ndarray | None,
    score: np.ndarray | None,
    focal: np.ndarray,
    donors: np.ndarray,
    order: np.ndarray,
    ratio: int,
    width: float | None,
) -> np.ndarray:
    """Greedy nearest-neighbour matching without replacement (the algorithm of MatchIt's ``nn_matchC``).

    Matching runs in ``ratio`` rounds; in each round the focal units, taken in ``order``, pick the nearest donor
    not yet used (Euclidean distance in ``space``, or ``|score difference|`` when ``space`` is None) among those
    whose score lies within ``width`` of theirs (all donors when ``width`` is None). Equal computed distances go
    to the donor listed first in the data (as MatchIt; distances that tie mathematically, such as integer
    covariates one step either side, may differ in the last bit and are then broken by rounding). Returns an ``(n_focal, ratio)`` array of donor rows, -1 where none was found.
    """
    out = np.full((focal.size, ratio), -1, dtype=np.int64)
    free = np.ones(donors.size, dtype=bool)
    if score is None and (space is None or width is not None):
        raise ArgumentError("matching on a propensity score or with a caliper needs the score")
    Xd = space[donors] if space is not None else None
    sc = score if score is not None else np.zeros(0)
    sd_ = sc[donors] if score is not None else sc
    for r in range(ratio):
        for i in order:
            if not free.any():
                return out
            cand = np.flatnonzero(free)
            if width is not None:
                cand = cand[np.abs(sd_[cand] - sc[focal[i]]) <= width]
                if cand.size == 0:
                    continue
            if Xd is not None and space is not None:
                dist = np.sqrt(((Xd[cand] - space[focal[i]]) ** 2).sum(axis=1))
            else:
                dist = np.abs(sd_[cand] - sc[focal[i]])
            j = cand[int(np.argmin(dist))]
            out[i, r] = donors[j]
            free[j] = False
    return out


def match_without_replacement(
    y: np.ndarray,
    a: np.ndarray,
    Z: np.ndarray,
    *,
    estimand: str,
    distance: str,
    ratio: int,
    caliper: float | None,
    e: np.ndarray | None,
) -> dict[str, Any]:
    """Greedy matching without replacement, then the difference in weighted means of the matched sample.

    The weights and subclasses are MatchIt's: a matched focal unit weighs 1; a donor weighs ``1/k`` for the
    focal unit it serves (``k`` = that unit's number of matches), rescaled so that the donor weights sum to the
    number of matched donors. The standard error is the cluster-robust (by subclass) sandwich of the weighted
    regression ``y ~ treatment`` with the HC1 and G/(G-1) factors of ``sandwich::vcovCL``. An outcome near 1e300
    (or 1e-300) is divided by a power of two first (exact) and the results are returned on its scale.
    """
    scale = core.power_of_two_scale(y)
    y = y / scale
    focal_mask = a == (1.0 if estimand == "ATT" else 0.0)
    focal, donors = np.flatnonzero(focal_mask), np.flatnonzero(~focal_mask)
    if ratio * focal.size > donors.size:
        who = ("treated", "untreated") if estimand == "ATT" else ("untreated", "treated")
        raise ArgumentError(
            f"`ratio`={ratio} without replacement needs {ratio} x {focal.size} {who[0]} = {ratio * focal.size} {who[1]} units, "
            f"but there are only {donors.size}; lower `ratio`, match with replace=True, or use the other estimand"
        )
    use_score = distance == "propensity" or caliper is not None
    width = None
    if caliper is not None:
        assert e is not None
        width = caliper * float(np.std(e, ddof=1))
    if use_score:
        assert e is not None
        order = np.argsort(-e[focal] if estimand == "ATT" else e[focal], kind="stable")
    else:
        order = np.arange(focal.size)
    space = _pooled_mahalanobis_space(Z, focal_mask) if distance == "mahalanobis" else None
    mm = greedy_matches(space, e, focal, donors, order, ratio, width)
    n_matches = (mm >= 0).sum(axis=1)
    matched_focal = n_matches > 0
    n = y.size
    w = np.zeros(n)
    w[focal[matched_focal]] = 1.0
    subclass = np.full(n, -1, dtype=np.int64)
    subclass[focal[matched_focal]] = np.arange(int(matched_focal.sum()))
    rows, cols = np.nonzero(mm >= 0)
    donor_rows = mm[rows, cols]
    np.add.at(w, donor_rows, 1.0 / n_matches[rows])
    subclass[donor_rows] = subclass[focal[rows]]
    if donor_rows.size == 0:
        raise DataError(f"no unit has a match within caliper={caliper}; widen the caliper")
    w[donor_rows] *= donor_rows.size / w[donor_rows].sum()
    keep = w > 0
    yk, ak, wk, gk = y[keep], a[keep], w[keep], subclass[keep]
    m1 = float(wk[ak == 1] @ yk[ak == 1] / wk[ak == 1].sum())
    m0 = float(wk[ak == 0] @ yk[ak == 0] / wk[ak == 0].sum())
    est = m1 - m0
    X = np.column_stack([np.ones(yk.size), ak])
    resid = yk - np.where(ak == 1, m1, m0)
    bread = np.linalg.inv(X.T @ (wk[:, None] * X))
    scores = X * (wk * resid)[:, None]
    sums = np.zeros((int(gk.max()) + 1, 2))
    np.add.at(sums, gk, scores)
    g, nk = sums.shape[0], yk.size
    if g < 2:
        raise DataError("fewer than two matched sets; the cluster-robust standard error is undefined")
    V = g / (g - 1.0) * (nk - 1.0) / (nk - 2.0) * bread @ (sums.T @ sums) @ bread
    return {
        "estimate": est * scale,
        "std_error": math.sqrt(float(V[1, 1])) * scale,
        "mu1": m1 * scale,
        "mu0": m0 * scale,
        "focal": focal,
        "match_matrix": mm,
        "n_matches": n_matches,
        "dropped": int((~matched_focal).sum()),
        "partial": int(((n_matches > 0) & (n_matches < ratio)).sum()),
        "weights": w,
        "subclass": subclass,
        "n_donors": int(donor_rows.size),
        "n_matched": int(nk),
    }


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "categorical": "columns",
        "squared": "columns",
        "estimand": vp.Options(("ATE", "ATT", "ATC")),
        "distance": vp.Options(("mahalanobis", "propensity")),
        "ratio": vp.Interval("int", 1, 100),
        "caliper": [None, vp.Interval("real", 0, closed="neither", what="positive")],
        "bias_adjust": [None, "boolean"],
        "propensity_model": [
            None,
            vp.HasMethods("fit", "predict_proba", "get_params", what="a scikit-learn classifier with predict_proba"),
        ],
        "replace": "boolean",
        "conf_level": "conf_level",
    }
)
def matching(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    squared: Sequence[str] = (),
    estimand: str = "ATT",
    distance: str = "mahalanobis",
    ratio: int = 1,
    caliper: float | None = None,
    bias_adjust: bool | None = None,
    propensity_model: Any = None,
    replace: bool = True,
    conf_level: float = 0.95,
) -> EffectResult:
    r"""Nearest-neighbour matching, with replacement (Abadie and Imbens 2006, bias-corrected) or without (greedy).

    With replacement (the default) each unit of the target group is matched to the ``ratio`` nearest units of
    the other group; its missing potential outcome is the mean of its matches, optionally bias-corrected by a
    linear regression on the covariates in the donor group.

    Without replacement (``replace=False``) matching is greedy, as R's ``MatchIt::matchit(method = "nearest",
    replace = FALSE)``: the target units, one at a time, take the nearest control not yet used, in ``ratio``
    rounds; the effect is the difference in weighted means of the matched sample (the coefficient of the
    weighted regression of the outcome on treatment) with a standard error clustered on the matched sets.

    Parameters
    ----------
    data, outcome, treatment, covariates, categorical, squared, conf_level
        As in :func:`ipw`.
    estimand : {"ATT", "ATE", "ATC"}
    distance : {"mahalanobis", "propensity"}
        Mahalanobis distance on the covariate design, or the distance between estimated propensity scores
        (logistic by default, or ``propensity_model``).
    ratio : int
        Matches per unit (M).
    caliper : float, optional
        Maximum distance to a match, in standard deviations of the propensity score (``distance="propensity"``)
        or in Mahalanobis units; units without a match that close are dropped and counted in the diagnostics
        (the estimand then refers to the matched units only). With ``replace=False`` the caliper is always on
        the estimated propensity score, in its standard deviations (``sd`` over all units, MatchIt's
        ``std.caliper=TRUE``); with ``distance="mahalanobis"`` the Mahalanobis nearest control is chosen among
        the controls within that propensity caliper (MatchIt's ``distance="glm", mahvars=...``).
    bias_adjust : bool, optional
        Abadie-Imbens (2011) regression bias correction (default: True with replacement, where it removes the
        bias that matching on several continuous covariates leaves; not available without replacement). The
        result's ``method`` says which was used; turning it off with Mahalanobis matching on continuous
        covariates adds a ``"bias correction"`` warning to the diagnostics.
    replace : bool
        Match with replacement (default) or without. Without replacement the estimand must be ``"ATT"`` or
        ``"ATC"`` and ``ratio`` times the size of the target group may not exceed the size of the other group.
        Matching order (MatchIt 4.5.1's default ``m.order``): when a propensity score is used (propensity
        distance, or any caliper) target units with the largest score go first for the ATT, the smallest for the
        ATC; Mahalanobis matching without caliper goes in data order. The Mahalanobis distance uses the pooled
        within-group covariance matrix (as MatchIt).

    Returns
    -------
    EffectResult
        As for :func:`ipw`; ``details["matches"]`` gives, for each number of uses, how many donor units were
        used that often. Balance "after" compares the target units with their matches weighted by use.
        Without replacement ``details`` holds instead ``"match_matrix"`` (one row per target unit: its row
        number ``unit`` and the row numbers ``match_1``, ... of its matches, -1 where none), ``"matched_sample"``
        (row number, ``weight`` and ``subclass`` of every matched unit), ``"balance"`` (after: the matched
        sample with its weights) and ``"covariate_columns"``; ``n`` is then the size of the matched sample.

    Notes
    -----
    :math:`\hat\tau = N_T^{-1}\sum_{i \in T}(\hat Y_i(1) - \hat Y_i(0))`. Variance (Abadie and Imbens 2006,
    population version): :math:`N_T^{-2}[\sum_{i\in T}(\hat Y_i(1) - \hat Y_i(0) - \hat\tau)^2 +
    \sum_j K_M(j)(K_M(j)-1)/M^2\,\hat\sigma^2(X_j)]`, with :math:`K_M(j)` the number of times unit :math:`j` is
    used as a match and :math:`\hat\sigma^2(X_j) = \frac{M}{M+1}(Y_j - \bar Y_{\text{M nearest in its
    group}})^2` and, for the ATE (where every unit is also a target), :math:`2K_M(j)/M\,\hat\sigma^2(X_j)` added for
    the covariance of a unit's own contribution with its use as a match. Ties in distance go to the unit listed
    first. The variance ignores the estimation of the propensity score when matching on it. Validated against
    a hand-written R version of the same estimator and variance (``tests/reference/causal_estimators.R``; R's
    MatchIt 4.5.1 repeats one control ``ratio`` times when ``replace=TRUE``, so it is not used) and by seeded
    simulation coverage.

    Without replacement: matched target units weigh 1; a control matched to a target unit with :math:`k`
    matches weighs :math:`1/k`, and control weights are rescaled to sum to the number of matched controls
    (MatchIt's weights). :math:`\hat\tau = \bar Y_{1,w} - \bar Y_{0,w}` (weighted means of the matched
    sample). Its variance is the cluster-robust sandwich of the weighted regression :math:`Y = \alpha + \tau A`
    with matched sets as clusters, :math:`\frac{G}{G-1}\frac{n-1}{n-2}(X'WX)^{-1}\sum_g s_g s_g'(X'WX)^{-1}`,
    :math:`s_g = \sum_{i\in g} w_i x_i e_i` (``sandwich::vcovCL(fit, cluster = ~subclass)``, the standard error
    MatchIt's vignette recommends); it treats the matching as fixed. Validated against R's MatchIt 4.5.1
    (``tests/reference/causal_matching.R``: matched sets, weights, estimate and standard error on lalonde, NHEFS
    and a simulation). For propensity-score matching the reference uses MatchIt's general matching routine:
    MatchIt 4.5.1's fast routine for a propensity score alone truncates distances to integers, so it takes the
    lower-score neighbour whatever the distances and ignores the caliper.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.matching(ci.load_dataset("lalonde"), distance="propensity", bias_adjust=False)
    >>> r.effect
    'ATT'
    >>> r2 = ci.causal.matching(ci.load_dataset("lalonde"), distance="propensity", replace=False, caliper=0.2)
    >>> r2.details["match_matrix"].columns.tolist()
    ['unit', 'match_1']
    """
    from .._validation import check_conf_level
    from ..stats._normal import z_crit as _z
    from ._design import check_estimand, check_rank, prepare

    estimand = check_estimand(estimand)
    conf_level = check_conf_level(conf_level)
    distance, ratio, caliper, bias_adjust = _check_matching_options(distance, ratio, caliper, replace, bias_adjust, estimand)
    cd = prepare(data, outcome=outcome, treatment=treatment, covariates=covariates, categorical=categorical, squared=squared)
    check_rank(np.column_stack([np.ones(cd.n), cd.Z]), ("(intercept)", *cd.names), "covariates")
    from ._models import check_classifier

    spec = core.Spec(
        "matching" if replace else NO_REPLACE_METHOD,
        estimand=estimand,
        propensity_model=check_classifier(propensity_model, "propensity_model"),
        match_distance=distance,
        ratio=ratio,
        caliper=caliper,
        bias_adjust=bias_adjust,
    )
    if not replace:
        return _matching_without_replacement(data, cd, spec, conf_level)
    e, _ = core.propensity(cd.a, cd.Z, spec, None, cd.names)
    out = match_estimate(cd.y, cd.a, cd.Z, estimand=estimand, distance=distance, ratio=ratio, caliper=caliper, bias_adjust=bias_adjust, e=e)
    se = out["std_error"]
    est = out["estimate"]
    z = _z(conf_level)
    from ..stats._normal import z_pvalue

    diags = _reuse_diagnostics(out)
    used = out["used"]
    # balance of the matched sample: target units weight 1, donors weight K/M
    w = np.where(out["in_target"], 1.0, 0.0) + used / ratio
    table = balance_table(cd.Z, cd.names, cd.a, w) if cd.Z.shape[1] else None
    details: dict[str, Any] = {"covariate_columns": list(cd.names)}
    if table is not None:
        details["balance"] = table
        diags.append(balance_diagnostic(table, adjusted=True))
    counts = np.bincount(used.astype(np.int64))
    details["matches"] = pd.DataFrame({"times_used": np.arange(1, counts.size, dtype=np.int64), "donors": counts[1:].astype(np.int64)})
    what = "Mahalanobis distance on the covariates" if distance == "mahalanobis" else "propensity-score distance"
    correction = "bias-corrected (Abadie-Imbens regression adjustment)" if bias_adjust else "without bias correction"
    method = f"Nearest-neighbour matching with replacement (1:{ratio}), {what}, {correction}, Abadie-Imbens SE"
    diags.extend(_bias_correction_diagnostic(cd, distance, bias_adjust))
    stat = est / se
    result = EffectResult(
        method=method,
        estimand=cd.estimand_text(estimand) + (" (matched units)" if out["dropped"] else ""),
        estimate=est,
        std_error=se,
        ci_low=est - z * se,
        ci_high=est + z * se,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="z",
        pvalue=z_pvalue(stat, "two-sided"),
        alternative="two-sided",
        null_value=0.0,
        n=cd.n,
        diagnostics=tuple(diags),
        details=details,
        label=f"matching {estimand}",
        provenance=Provenance.current(data_fingerprint=cd.fingerprint),
        effect=estimand,
        treatment=cd.treatment,
        outcome=cd.outcome,
        refitter=CausalRefitter(
            cd=cd,
            spec=spec,
            warm=core.Warm(std=Standardizer.of(cd.Z)),
            conf_level=conf_level,
            extra_sensitivities={"rosenbaum": rosenbaum_bounds},
        ),
    )
    return result


def _matching_without_replacement(data: Any, cd: Any, spec: core.Spec, conf_level: float) -> EffectResult:
    """The EffectResult of greedy matching without replacement (called by :func:`matching`)."""
    from ..stats._normal import z_crit as _z
    from ..stats._normal import z_pvalue
    from ._diagnostics import overlap_diagnostics

    estimand, ratio, caliper, distance = spec.estimand, spec.ratio, spec.caliper, spec.match_distance
    uses_score = distance == "propensity" or caliper is not None
    e = core.propensity(cd.a, cd.Z, spec, None, cd.names)[0] if uses_score else None
    out = match_without_replacement(cd.y, cd.a, cd.Z, estimand=estimand, distance=distance, ratio=ratio, caliper=caliper, e=e)
    est, se = out["estimate"], out["std_error"]
    diags = _greedy_match_diagnostics(out, estimand, ratio, caliper)
    if e is not None:
        diags.extend(overlap_diagnostics(e, cd.a, None, estimand))
    w = out["weights"]
    details: dict[str, Any] = {"covariate_columns": list(cd.names)}
    if cd.Z.shape[1]:
        table = balance_table(cd.Z, cd.names, cd.a, w)
        details["balance"] = table
        diags.append(balance_diagnostic(table, adjusted=True))
    mm = out["match_matrix"]
    frame = {"unit": out["focal"].astype(np.int64)}
    for j in range(ratio):
        frame[f"match_{j + 1}"] = mm[:, j]
    details["match_matrix"] = pd.DataFrame(frame)
    rows = np.flatnonzero(w > 0)
    details["matched_sample"] = pd.DataFrame({"unit": rows.astype(np.int64), "weight": w[rows], "subclass": out["subclass"][rows]})
    method = _greedy_method(distance, caliper, estimand, ratio)
    z = _z(conf_level)
    stat = est / se
    result = EffectResult(
        method=method,
        estimand=cd.estimand_text(estimand) + (" (matched units)" if out["dropped"] else ""),
        estimate=est,
        std_error=se,
        ci_low=est - z * se,
        ci_high=est + z * se,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="z",
        pvalue=z_pvalue(stat, "two-sided"),
        alternative="two-sided",
        null_value=0.0,
        n=out["n_matched"],
        diagnostics=tuple(diags),
        details=details,
        label=f"matching {estimand} (no replacement)",
        provenance=Provenance.current(data_fingerprint=cd.fingerprint),
        effect=estimand,
        treatment=cd.treatment,
        outcome=cd.outcome,
        refitter=CausalRefitter(
            cd=cd,
            spec=spec,
            warm=core.Warm(std=Standardizer.of(cd.Z)),
            conf_level=conf_level,
            extra_sensitivities={"rosenbaum": rosenbaum_bounds},
        ),
    )
    return result


def _greedy_match_diagnostics(out: dict[str, Any], estimand: str, ratio: int, caliper: float | None) -> list[Diagnostic]:
    """Caliper drops and incomplete matched sets of greedy matching without replacement."""
    focal_word = "treated" if estimand == "ATT" else "untreated"
    diags = []
    n_focal = int(out["focal"].size)
    if out["dropped"]:
        diags.append(
            Diagnostic(
                "caliper",
                "warn",
                float(out["dropped"]),
                f"{out['dropped']} of {n_focal} {focal_word} unit(s) had no unused match within the caliper and were dropped; "
                f"the estimate is for the {n_focal - out['dropped']} matched {focal_word} units",
            )
        )
    elif caliper is not None:
        diags.append(Diagnostic("caliper", "ok", 0.0, f"every {focal_word} unit found a match within the caliper"))
    if out["partial"]:
        diags.append(
            Diagnostic(
                "incomplete matches",
                "warn",
                float(out["partial"]),
                f"{out['partial']} matched {focal_word} unit(s) got fewer than ratio={ratio} matches within the caliper; "
                "their matches carry more weight",
            )
        )
    return diags


def _greedy_method(distance: str, caliper: float | None, estimand: str, ratio: int) -> str:
    """The method text of greedy matching: distance, caliper and the order in which focal units pick matches."""
    what = "Mahalanobis distance on the covariates" if distance == "mahalanobis" else "propensity-score distance"
    if caliper is not None:
        what += f", caliper {caliper:g} SD of the propensity score"
    order = (
        "data order"
        if not (distance == "propensity" or caliper is not None)
        else ("largest propensity first" if estimand == "ATT" else "smallest propensity first")
    )
    return (
        f"Greedy nearest-neighbour matching without replacement (1:{ratio}, {order}), {what}; difference in weighted means "
        "of the matched sample, SE clustered on matched sets (CR1)"
    )


def core_matching(
    y: np.ndarray,
    a: np.ndarray,
    Z: np.ndarray,
    spec: core.Spec,
    *,
    warm: core.Warm | None = None,
    need_phi: bool = True,
    names: tuple[str, ...] = (),
) -> core.EffectFit:
    """Matching as an array-level estimator (used by refutations: the propensity model is refitted each time)."""
    e = None
    if spec.match_distance == "propensity":
        e, _ = core.propensity(a, Z, spec, None, names)
    out = match_estimate(
        y,
        a,
        Z,
        estimand=spec.estimand,
        distance=spec.match_distance,
        ratio=spec.ratio,
        caliper=spec.caliper,
        bias_adjust=spec.bias_adjust,
        e=e,
    )
    return core.EffectFit(estimate=out["estimate"])


core.CORES["matching"] = core_matching


def core_matching_without_replacement(
    y: np.ndarray,
    a: np.ndarray,
    Z: np.ndarray,
    spec: core.Spec,
    *,
    warm: core.Warm | None = None,
    need_phi: bool = True,
    names: tuple[str, ...] = (),
) -> core.EffectFit:
    """Matching without replacement as an array-level estimator (refutations refit the propensity model)."""
    e = None
    if spec.match_distance == "propensity" or spec.caliper is not None:
        e, _ = core.propensity(a, Z, spec, None, names)
    out = match_without_replacement(
        y, a, Z, estimand=spec.estimand, distance=spec.match_distance, ratio=spec.ratio, caliper=spec.caliper, e=e
    )
    return core.EffectFit(estimate=out["estimate"], mu1=out["mu1"], mu0=out["mu0"])


core.CORES[NO_REPLACE_METHOD] = core_matching_without_replacement


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "gammas": vp.SequenceOf(vp.Interval("real", 1), min_length=1),
    }
)
def rosenbaum_bounds(result: EffectResult, *, gammas: Sequence[float] = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0)) -> Any:
    r"""Rosenbaum bounds for a 1:1 matched design: the worst-case p-value of Wilcoxon's signed-rank test under hidden bias.

    If an unmeasured confounder could multiply the odds of treatment within a matched pair by up to
    :math:`\Gamma`, the one-sided p-value against "no effect" (in the direction of the estimate) is at most the
    bound reported for that :math:`\Gamma`. :math:`\Gamma = 1` is the usual randomisation test.

    Parameters
    ----------
    result : EffectResult
        From :func:`matching` with ``ratio=1`` and ``estimand="ATT"`` or ``"ATC"`` (matched pairs).
    gammas : sequence of float
        Sensitivity parameters, each at least 1.

    Returns
    -------
    Result
        ``estimate``: the largest :math:`\Gamma` on the grid whose bound stays below 0.05 (1.0 if none);
        ``details["bounds"]``: :math:`\Gamma` and the upper bound of the p-value.

    Notes
    -----
    With pair differences :math:`d_i` (oriented so that the estimate is positive), ranks :math:`r_i` of
    :math:`|d_i|` (zero differences dropped, ties averaged) and :math:`p^+ = \Gamma/(1+\Gamma)`, the signed-rank
    statistic :math:`T = \sum_{d_i>0} r_i` has, at worst, mean :math:`p^+\sum r_i` and variance
    :math:`p^+(1-p^+)\sum r_i^2`; the bound is :math:`1 - \Phi((T - E)/\sqrt{V})` (Rosenbaum 2002, section 4.3).
    At :math:`\Gamma = 1` it equals the normal approximation of Wilcoxon's test (checked against scipy).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.matching(ci.load_dataset("lalonde"), distance="propensity", bias_adjust=False)
    >>> b = r.sensitivity("rosenbaum")
    >>> b.details["bounds"]["gamma"].iloc[0]
    np.float64(1.0)
    """
    from scipy import stats

    from .._validation import check_real
    from ..stats._normal import z_pvalue

    ctx = result.refitter if isinstance(result, EffectResult) else None
    if not isinstance(ctx, CausalRefitter) or ctx.spec.method not in ("matching", NO_REPLACE_METHOD):
        raise ArgumentError("Rosenbaum bounds need a matching result computed in this session (causalinfer.causal.matching)")
    spec = ctx.spec
    if spec.ratio != 1 or spec.estimand == "ATE":
        raise ArgumentError(
            f"Rosenbaum bounds need matched pairs: use matching(..., ratio=1) with estimand 'ATT' or 'ATC' (got ratio={spec.ratio}, estimand={spec.estimand!r})"
        )
    gs = [check_real(g, "gammas") for g in gammas]
    if not gs or min(gs) < 1:
        raise ArgumentError(f"`gammas` must be numbers >= 1; got {show(gammas)}")
    cd = ctx.cd
    e = None
    if spec.match_distance == "propensity" or (spec.method == NO_REPLACE_METHOD and spec.caliper is not None):
        e, _ = core.propensity(cd.a, cd.Z, spec, None, cd.names)
    if spec.method == NO_REPLACE_METHOD:
        nr = match_without_replacement(
            cd.y, cd.a, cd.Z, estimand=spec.estimand, distance=spec.match_distance, ratio=1, caliper=spec.caliper, e=e
        )
        mm = nr["match_matrix"][:, 0]
        paired = mm >= 0
        sign = 1.0 if spec.estimand == "ATT" else -1.0
        out = {"estimate": nr["estimate"], "differences": sign * (cd.y[nr["focal"][paired]] - cd.y[mm[paired]])}
    else:
        out = match_estimate(
            cd.y,
            cd.a,
            cd.Z,
            estimand=spec.estimand,
            distance=spec.match_distance,
            ratio=1,
            caliper=spec.caliper,
            bias_adjust=spec.bias_adjust,
            e=e,
        )
    d = out["differences"]
    d = d if out["estimate"] >= 0 else -d
    d = d[d != 0]
    if d.size < 2:
        raise DataError("fewer than two matched pairs with a non-zero difference; Rosenbaum bounds are undefined")
    ranks = stats.rankdata(np.abs(d))
    t_plus = float(ranks[d > 0].sum())
    rows = []
    for g in gs:
        p = g / (1 + g)
        mean, var = p * ranks.sum(), p * (1 - p) * (ranks**2).sum()
        rows.append({"gamma": g, "pvalue_upper": z_pvalue((t_plus - mean) / math.sqrt(var), "greater")})
    table = pd.DataFrame(rows)
    ok = table[table["pvalue_upper"] < 0.05]
    gmax = float(ok["gamma"].max()) if len(ok) else 1.0
    msg = (
        f"the effect stays significant at the 5% level (one-sided) for hidden bias up to Gamma = {gmax:g} on the grid"
        if len(ok)
        else "the effect is not significant at the 5% level even without hidden bias (Gamma = 1)"
    )
    from ..results import Result

    return Result(
        method="Sensitivity analysis: Rosenbaum bounds for the Wilcoxon signed-rank test (matched pairs)",
        estimand=f"largest hidden-bias factor Gamma under which the {result.effect} of {result.treatment} stays significant",
        estimate=gmax,
        n=int(d.size),
        diagnostics=(Diagnostic("interpretation", "ok" if len(ok) else "warn", gmax, msg),),
        details={"bounds": table},
        label="Rosenbaum bounds",
        provenance=Provenance.current(data_fingerprint=cd.fingerprint),
    )


def _check_matching_options(
    distance: Any, ratio: Any, caliper: Any, replace: Any, bias_adjust: Any, estimand: str
) -> tuple[str, int, float | None, bool]:
    """Checked ``distance``, ``ratio``, ``caliper`` and ``bias_adjust`` (default: on with replacement)."""
    distance = check_choice(distance, "distance", ("mahalanobis", "propensity"))
    ratio = check_int(ratio, "ratio", minimum=1, maximum=100)
    if caliper is not None:
        caliper = check_real(caliper, "caliper")
        if caliper <= 0:
            raise ArgumentError(f"`caliper` must be positive; got {show(caliper)}")
    if not isinstance(replace, bool):
        raise ArgumentError(f"`replace` must be True or False; got {show(replace)}")
    if bias_adjust is None:
        bias_adjust = replace
    if not isinstance(bias_adjust, bool):
        raise ArgumentError(f"`bias_adjust` must be True or False; got {show(bias_adjust)}")
    if not replace:
        if bias_adjust:
            raise ArgumentError("`bias_adjust`=True needs matching with replacement; use replace=True or leave bias_adjust unset")
        if estimand == "ATE":
            raise ArgumentError(
                "`estimand`='ATE' is not available with replace=False (matching without replacement estimates the ATT or "
                "the ATC); use estimand='ATT' or 'ATC', or replace=True"
            )
    return distance, ratio, caliper, bias_adjust


def _reuse_diagnostics(out: dict[str, Any]) -> list[Diagnostic]:
    """Caliper drops and how often the most reused donor serves, for matching with replacement."""
    diags = []
    if out["dropped"]:
        diags.append(
            Diagnostic(
                "caliper",
                "warn",
                float(out["dropped"]),
                f"{out['dropped']} target unit(s) had no match within the caliper and were dropped; the estimate is for the matched units",
            )
        )
    used = out["used"]
    donors_used = used[used > 0]
    diags.append(
        Diagnostic(
            "match reuse",
            "ok" if donors_used.max() <= 10 else "warn",
            float(donors_used.max()),
            f"{donors_used.size} donor units are used; the most reused one {int(donors_used.max())} times"
            + ("" if donors_used.max() <= 10 else ": a few units carry the estimate (poor overlap)"),
        )
    )
    return diags


def _bias_correction_diagnostic(cd: Any, distance: str, bias_adjust: bool) -> list[Diagnostic]:
    """A warning when Mahalanobis matching on continuous covariates goes without bias correction."""
    continuous = [name for j, name in enumerate(cd.names) if np.unique(cd.Z[:, j]).size > 2]
    if bias_adjust or distance != "mahalanobis" or not continuous:
        return []
    shown = ", ".join(continuous[:4]) + (", ..." if len(continuous) > 4 else "")
    return [
        Diagnostic(
            "bias correction",
            "warn",
            float(len(continuous)),
            f"matching on continuous covariates ({shown}) without bias correction leaves a bias that shrinks more slowly than "
            "the standard error, so the interval under-covers; leave bias_adjust at its default (True)",
        )
    ]
