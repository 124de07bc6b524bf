"""Nearest-neighbour matching with replacement, with Abadie-Imbens bias correction and variance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_choice, check_int, check_real, show
from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, Provenance
from . import _core as core
from ._diagnostics import balance_diagnostic, balance_table
from ._effect import EffectResult
from ._models import Standardizer, fit_ols


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
    """Matching estimate, Abadie-Imbens (2006) population variance and bookkeeping, for one estimand."""
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
        mu = {arm: X @ fit_ols(X[a == arm], y[a == arm]).coef for arm in (0.0, 1.0)}
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
        "estimate": tau,
        "variance": var,
        "n_target": n_target,
        "dropped": dropped,
        "used": used,
        "in_target": in_target,
        "differences": np.concatenate(pairs),
    }


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
    bias_adjust: bool = True,
    propensity_model: Any = None,
    conf_level: float = 0.95,
) -> EffectResult:
    r"""Nearest-neighbour matching with replacement (Abadie and Imbens 2006), with bias correction.

    Each unit of the target group is matched to the ``ratio`` nearest units of the other group (with
    replacement); its missing potential outcome is the mean of its matches, optionally bias-corrected by a
    linear regression on the covariates in the donor group.

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
        (the estimand then refers to the matched units only).
    bias_adjust : bool
        Abadie-Imbens (2011) regression bias correction (default True; it removes the bias that matching on
        several continuous covariates leaves).

    Returns
    -------
    EffectResult
        As for :func:`ipw`; ``details["matches"]`` gives, for each number of uses, how many donor units were
        used that often. Balance "after" compares the target units with their matches weighted by use.

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

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.matching(ci.load_dataset("lalonde"), distance="propensity", bias_adjust=False)
    >>> r.effect
    'ATT'
    """
    from .._validation import check_conf_level
    from ._design import check_estimand, check_rank, prepare
    from ._estimators import _z

    estimand = check_estimand(estimand)
    conf_level = check_conf_level(conf_level)
    distance = check_choice(distance, "distance", ("mahalanobis", "propensity"))
    ratio = check_int(ratio, "ratio", minimum=1, maximum=100)
    if caliper is not None:
        caliper = check_real(caliper, "caliper")
        if caliper <= 0:
            raise ArgumentError(f"`caliper` must be positive; got {show(caliper)}")
    if not isinstance(bias_adjust, bool):
        raise ArgumentError(f"`bias_adjust` must be True or False; got {show(bias_adjust)}")
    cd = prepare(data, outcome=outcome, treatment=treatment, covariates=covariates, categorical=categorical, squared=squared)
    check_rank(np.column_stack([np.ones(cd.n), cd.Z]), ("(intercept)", *cd.names), "covariates")
    from ._models import check_classifier

    spec = core.Spec(
        "matching",
        estimand=estimand,
        propensity_model=check_classifier(propensity_model, "propensity_model"),
        match_distance=distance,
        ratio=ratio,
        caliper=caliper,
        bias_adjust=bias_adjust,
    )
    e, _ = core.propensity(cd.a, cd.Z, spec, None, cd.names)
    out = match_estimate(cd.y, cd.a, cd.Z, estimand=estimand, distance=distance, ratio=ratio, caliper=caliper, bias_adjust=bias_adjust, e=e)
    se = math.sqrt(out["variance"])
    est = out["estimate"]
    z = _z(conf_level)
    from scipy import stats

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
    method = f"Nearest-neighbour matching with replacement (1:{ratio}), {what}, {'bias-corrected, ' if bias_adjust else ''}Abadie-Imbens SE"
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
        pvalue=float(2 * stats.norm.sf(abs(stat))),
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
    )
    from ._estimators import Context

    object.__setattr__(result, "_context", Context(cd=cd, spec=spec, warm=core.Warm(std=Standardizer.of(cd.Z)), conf_level=conf_level))
    return result


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

    ctx = getattr(result, "_context", None)
    if not isinstance(result, EffectResult) or ctx is None or ctx.spec.method != "matching":
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
    if spec.match_distance == "propensity":
        e, _ = core.propensity(cd.a, cd.Z, spec, None, cd.names)
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
        rows.append({"gamma": g, "pvalue_upper": float(stats.norm.sf((t_plus - mean) / math.sqrt(var)))})
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
