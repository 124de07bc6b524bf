"""Least squares with absorbed (high-dimensional) fixed effects and one- or two-way clustered errors, as fixest.

Reached through :func:`causalinfer.stats.ols` with ``absorb=[...]``, the formula syntax ``"y ~ x1 + x2 | firm +
year"`` or ``cluster=["firm", "year"]``. The factors are partialled out by weighted alternating projections
(:mod:`._demean`); the small-sample conventions are those of ``fixest``/``pyfixest`` (``ssc(adj=TRUE,
fixef.K="nested", cluster.adj=TRUE, cluster.df="min")``, pyfixest's defaults):

* K = k + sum_f L_f - (F - 1): the regressors plus the levels of the F factors, one level fewer for every factor
  after the first (pyfixest's count; fixest's exact count can be lower for irregular designs);
* classical: sigma^2 = sum w e^2 / (N - K); HC1: factor N / (N - K);
* clustered (CR1): factor (N - 1)/(N - K) * G/(G - 1), where the levels of every factor nested in a cluster
  variable (each level inside one cluster) are left out of K, one parameter being kept per nested factor;
  two-way clustering is V_1 + V_2 - V_12 (Cameron, Gelbach and Miller 2011), every term with G = min(G_1, G_2);
* t tests on N - K df, or with clusters on ``cluster_df``: "n-k" (N - K, the default of :func:`ols`) or "G-1"
  (min G - 1, fixest's and pyfixest's t.df: pass ``cluster_df="G-1"`` to reproduce their p-values and intervals).

Singletons (rows whose level of some factor occurs once, found repeatedly) are removed first, as
``fixef_rm="singleton"`` (pyfixest's default), and their number is reported.
Validated against pyfixest (``tests/reference/fixed_effects.py``).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import show, suggest_column
from ..exceptions import ArgumentError, ConvergenceError, DataError, RoleError
from ..results import Diagnostic, Provenance
from ._demean import FE_MAXITER, FE_TOL, demean, factor_codes, recode, singleton_mask
from ._inputs import _frame_of, align_by_index

_FE_COV = ("nonrobust", "HC0", "HC1", "cluster")


@dataclass(frozen=True)
class Tools:
    """What this module borrows from the regression module, handed in by it (so the two never import each other)."""

    formula_design: Callable[..., Any]
    column_or_array: Callable[..., Any]
    terms: Callable[..., Any]
    inference_df: Callable[..., Any]
    slopes_wald: Callable[..., Any]
    few_clusters: Callable[..., Any]
    result_class: Any


@dataclass(frozen=True)
class FEData:
    """The estimation sample after singleton removal, demeaned, with everything inference needs."""

    X: np.ndarray  # demeaned regressors (n, k)
    y: np.ndarray  # demeaned outcome
    y_raw: np.ndarray
    names: list[str]
    response: str
    weights: np.ndarray | None
    clusters: list[np.ndarray]  # integer codes per cluster variable
    cluster_names: list[str]
    codes: np.ndarray  # factor codes (n, F)
    levels: np.ndarray
    fe_names: list[str]
    n_singletons: int
    iterations: int
    formula: str
    fingerprint: str | None
    keep: np.ndarray  # rows of `data` in the estimation sample (singletons removed)
    n_params: int = 0  # K of the small-sample factor, filled in by the fit

    @property
    def info(self) -> Any:
        """What :func:`predict` would rebuild the model matrix from: there is none for absorbed fixed effects."""
        raise ArgumentError(
            f"predict() is not available for a fit with absorbed fixed effects ({' + '.join(self.fe_names) or 'two-way clusters'}): "
            "the fixed effects are not estimated; refit with the factors as C(...) terms of the formula to predict"
        )


def split_formula(formula: str) -> tuple[str, list[str]]:
    """``"y ~ x1 + x2 | firm + year"`` -> ``("y ~ x1 + x2", ["firm", "year"])``."""
    if formula.count("|") > 1:
        raise ArgumentError(f"`x` may have one '|' separating the fixed effects, as 'y ~ x1 | firm + year'; got {show(formula)}")
    if "|" not in formula:
        return formula, []
    main, fe = formula.split("|", 1)
    names = [t.strip() for t in fe.split("+") if t.strip()]
    if not names or any(not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", t) for t in names):
        raise ArgumentError(f"the fixed effects after '|' in {formula!r} must be column names joined by '+', as 'y ~ x | firm + year'")
    return main.strip(), names


def _names_list(value: Any, arg: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(v, str) for v in items):
        raise ArgumentError(f"`{arg}` must be a column name or a list of column names; got {show(value)}")
    return items


def _factor_columns(frame: pd.DataFrame, names: list[str], arg: str) -> list[np.ndarray]:
    out = []
    for nm in names:
        if nm not in frame.columns:
            raise RoleError(f"`{arg}` names column {nm!r}, which is not in the data{suggest_column(nm, frame.columns)}")
        col = frame[nm]
        if col.isna().any():
            raise DataError(f"`{arg}` column {nm!r} has {int(col.isna().sum())} missing value(s); drop those rows first")
        out.append(col.to_numpy())
    return out


def _cluster_columns(cluster: Any, frame: pd.DataFrame, n: int) -> tuple[list[np.ndarray], list[str]]:
    """Cluster labels: one column name, a list of one or two names, or one array of labels."""
    if isinstance(cluster, str) or (
        isinstance(cluster, (list, tuple)) and cluster and all(isinstance(c, str) for c in cluster) and len(cluster) != n
    ):
        names = _names_list(cluster, "cluster")
        if len(names) > 2:
            raise ArgumentError(f"`cluster` takes one or two column names (one- or two-way clustering); got {show(cluster)}")
        return _factor_columns(frame, names, "cluster"), names
    if isinstance(cluster, pd.Series):  # labels pair with rows by index, never by position
        cluster = align_by_index(data=frame, cluster=cluster)["cluster"]
    arr = cluster.to_numpy() if isinstance(cluster, pd.Series) else np.asarray(cluster)
    if arr.shape != (n,):
        raise DataError(f"`cluster` must have one label per row of `data` ({n}); got shape {arr.shape}")
    if pd.isna(arr).any():
        raise DataError(f"`cluster` has {int(pd.isna(arr).sum())} missing label(s); drop those rows or give them a cluster")
    return [arr], ["cluster"]


def prepare(
    x: Any,
    data: Any,
    *,
    absorb: Any,
    weights: Any,
    cluster: Any,
    cov_type: str,
    namespaces: Any,
    tools: Tools,
    tol: float = FE_TOL,
    demeaned: bool = True,
) -> FEData:
    """Formula, factors, singleton removal and demeaning (``demeaned=False``: the raw sample, for Poisson)."""
    if data is None or not isinstance(x, str):
        raise ArgumentError("absorbed fixed effects need a formula and `data`, as ols('y ~ x | firm + year', data=df)")
    frame, fp = _frame_of(data)
    if not isinstance(weights, str) and isinstance(weights, pd.Series):
        weights = align_by_index(data=frame, weights=weights)["weights"]
    main, fe_formula = split_formula(x)
    fe_names = list(dict.fromkeys([*fe_formula, *_names_list(absorb, "absorb")]))
    fe_cols = _factor_columns(frame, fe_names, "absorb")
    X, y, names, response, _, _ = tools.formula_design(main, frame, namespaces)
    if fe_names and "(Intercept)" in names:  # the constant is one of the absorbed directions
        cols = [j for j, nm in enumerate(names) if nm != "(Intercept)"]
        X, names = X[:, cols], [names[j] for j in cols]
    if X.shape[1] == 0:
        raise ArgumentError(f"the formula {x!r} has no regressor besides the fixed effects; add at least one, as 'y ~ x | firm'")
    n = X.shape[0]
    w = tools.column_or_array(weights, frame, "weights", n)
    if w is not None and np.any(w <= 0):
        raise DataError(f"`weights` must be positive; got {int(np.sum(w <= 0))} value(s) <= 0 (drop those rows instead)")
    if cov_type == "cluster" and cluster is None:
        raise ArgumentError("cov_type='cluster' needs `cluster`: a column name, two column names, or cluster labels")
    if cov_type != "cluster" and cluster is not None:
        raise ArgumentError(f"`cluster` was given but cov_type={cov_type!r}; use cov_type='cluster' for cluster-robust errors")
    clusters, cl_names = _cluster_columns(cluster, frame, n) if cluster is not None else ([], [])
    codes, levels = factor_codes(fe_cols) if fe_cols else (np.zeros((n, 0), dtype=np.int64), np.zeros(0, dtype=np.int64))
    keep = singleton_mask(codes)
    n_single = int(n - keep.sum())
    if n_single:
        X, y, codes = X[keep], y[keep], codes[keep]
        w = None if w is None else w[keep]
        clusters = [c[keep] for c in clusters]
        codes, levels = recode(codes)
    cl_codes = [pd.factorize(c, sort=True)[0] for c in clusters]
    for nm, c, labels in zip(cl_names, cl_codes, clusters, strict=True):
        if c.size and c.max() < 1:
            raise DataError(
                f"`cluster` {nm!r} has a single value ({show(labels[0])}) in the estimation "
                "sample: cluster-robust errors need at least 2 clusters; cluster on a coarser-but-varying variable or use cov_type='HC1'"
            )
    Z, iters = np.column_stack([y, X]), 0
    if fe_names and demeaned:
        Z, iters, ok = demean(Z, codes, levels, w, tol=tol, maxiter=FE_MAXITER)
        if not ok:
            raise ConvergenceError(f"demeaning by {fe_names} did not converge in {FE_MAXITER} sweeps (tolerance {tol:g})")
    d = FEData(Z[:, 1:], Z[:, 0], y, names, response, w, cl_codes, cl_names, codes, levels, fe_names, n_single, iters, x, fp, keep)
    if demeaned:
        check_absorbed(d, X)
    return d


def check_absorbed(d: FEData, X_raw: np.ndarray) -> None:
    """Refuse regressors that the fixed effects (or the other regressors) reproduce."""
    from ._sandwich import ALIAS_TOL, check_full_rank

    w = np.ones(len(d.y)) if d.weights is None else d.weights
    for j, nm in enumerate(d.names):
        raw = X_raw[:, j]
        base = float(np.sum(w * (raw - np.average(raw, weights=w)) ** 2)) if d.fe_names else float(np.sum(w * raw**2))
        if float(np.sum(w * d.X[:, j] ** 2)) <= 1e-10 * max(base, 1e-300) or base == 0.0:
            by = f"the fixed effects {d.fe_names}" if d.fe_names else "the other regressors"
            raise DataError(
                f"regressor {nm!r} is absorbed by {by}: it is constant within their levels (got {show(float(np.sqrt(np.sum(w * d.X[:, j] ** 2))))} "
                "as the norm of what is left after demeaning), so its coefficient is not identified; drop it from the formula "
                "or absorb fewer factors"
            )
    xw = d.X * np.sqrt(w)[:, None]
    r = np.linalg.qr(xw, mode="r")
    if np.any(np.abs(np.diag(r)) < ALIAS_TOL * np.linalg.norm(xw, axis=0)):
        check_full_rank(xw, d.names, "x")


def nested_fe(d: FEData) -> tuple[int, int]:
    """Levels of the factors nested in some cluster variable, and how many factors are nested (pyfixest's rule)."""
    k_nested, n_nested = 0, 0
    for f, name in enumerate(d.fe_names):
        fe = d.codes[:, f]
        for cname, cl in zip(d.cluster_names, d.clusters, strict=True):
            if name == cname or _is_nested(fe, cl, int(d.levels[f])):
                k_nested += int(d.levels[f])
                n_nested += 1
                break
    return k_nested, n_nested


def _is_nested(fe: np.ndarray, cl: np.ndarray, n_levels: int) -> bool:
    first = np.full(n_levels, -1, dtype=np.int64)
    first[fe] = cl  # one cluster per level (any of them)
    return bool(np.all(first[fe] == cl))


def fe_count(d: FEData) -> int:
    """Fixed-effect parameters: the levels, one fewer for every factor after the first."""
    n_fe = len(d.fe_names)
    return int(d.levels.sum()) - (n_fe - 1) if n_fe > 1 else int(d.levels.sum())


def _cluster_meat(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    g = int(codes.max()) + 1
    summed = np.column_stack([np.bincount(codes, weights=scores[:, j], minlength=g) for j in range(scores.shape[1])])
    return summed.T @ summed


def covariance(d: FEData, coef: np.ndarray, bread: np.ndarray, uw: np.ndarray, cov_type: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Coefficient covariance with fixest's small-sample factors, and the numbers that went into it."""
    n, k = d.X.shape
    k_fe = fe_count(d)
    sw = np.ones(n) if d.weights is None else np.sqrt(d.weights)
    scores = d.X * (sw * uw)[:, None]
    info: dict[str, Any] = {"k_fe": k_fe}
    if cov_type in ("nonrobust", "HC0", "HC1"):
        big_k = k + k_fe
        if cov_type == "nonrobust":
            cov = float(uw @ uw) / (n - big_k) * bread
        else:
            cov = bread @ (scores.T @ scores) @ bread * (n / (n - big_k) if cov_type == "HC1" else 1.0)
        info.update(K=big_k, df_resid=float(n - big_k))
        return cov, info
    k_nested, n_nested = nested_fe(d)
    big_k = k + k_fe - k_nested + n_nested if k_nested else k + k_fe
    gs = [int(c.max()) + 1 for c in d.clusters]
    g = min(gs)
    factor = (n - 1) / (n - big_k) * g / (g - 1)
    if len(d.clusters) == 1:
        meat = _cluster_meat(scores, d.clusters[0])
    else:
        inter = pd.factorize(d.clusters[0].astype(np.int64) * (gs[1] + 1) + d.clusters[1])[0]
        meat = _cluster_meat(scores, d.clusters[0]) + _cluster_meat(scores, d.clusters[1]) - _cluster_meat(scores, inter)
        info["n_clusters_intersection"] = int(inter.max()) + 1
    cov = factor * (bread @ meat @ bread)
    info.update(K=big_k, df_resid=float(n - big_k), n_clusters=g, clusters_each=gs, fe_nested_levels=k_nested, fe_nested=n_nested)
    return cov, info


def check_psd(cov: np.ndarray, names: list[str]) -> list[Diagnostic]:
    """Two-way clustered covariances can fail to be positive semi-definite; say so instead of returning NaN silently."""
    bad = [nm for nm, v in zip(names, np.diag(cov), strict=True) if v < 0]
    if not bad:
        return []
    return [
        Diagnostic(
            "two-way covariance",
            "warn",
            float(len(bad)),
            f"the two-way clustered variance of {bad} is negative (V1 + V2 - V12 is not always positive semi-definite); "
            "their standard errors are NaN. Cluster on one variable, or on the coarser of the two",
        )
    ]


def fit_sample(d: FEData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients, the classical bread (X'WX)^-1 and the weighted residuals of the demeaned regression."""
    from ._sandwich import upper_triangular_inverse

    sw = np.ones(len(d.y)) if d.weights is None else np.sqrt(d.weights)
    q, r = np.linalg.qr(d.X * sw[:, None], mode="reduced")
    rinv = upper_triangular_inverse(r)
    coef = rinv @ (q.T @ (d.y * sw))
    uw = (d.y - d.X @ coef) * sw
    return coef, rinv @ rinv.T, uw


def fe_diagnostics(d: FEData, n_clusters: int | None, few_clusters: Callable[..., Any]) -> list[Diagnostic]:
    out = []
    if d.fe_names:
        msg = f"{d.n_singletons} singleton row(s) removed (a level of some fixed effect seen once; fixest's fixef.rm='singleton')"
        out.append(Diagnostic("singletons", "ok", float(d.n_singletons), msg if d.n_singletons else "no singletons"))
        out.append(Diagnostic("demeaning", "ok", float(d.iterations), f"alternating projections converged in {d.iterations} sweep(s)"))
    out.extend(few_clusters(n_clusters))
    return out


def fe_fit_stats(d: FEData, uw: np.ndarray, info: dict[str, Any], cov_type: str) -> dict[str, Any]:
    n = len(d.y)
    w = np.ones(n) if d.weights is None else d.weights
    rss = float(uw @ uw)
    ybar = float(np.sum(w * d.y_raw) / np.sum(w))
    tss = float(np.sum(w * (d.y_raw - ybar) ** 2))
    tss_within = float(np.sum(w * d.y**2))
    out: dict[str, Any] = {
        "n": n,
        "k": d.X.shape[1],
        "df_resid": info["df_resid"],
        "r_squared": 1.0 - rss / tss if tss > 0 else math.nan,
        "within_r_squared": 1.0 - rss / tss_within if tss_within > 0 else math.nan,
        "rss": rss,
        "sigma": math.sqrt(rss / info["df_resid"]) if info["df_resid"] > 0 else math.nan,
        "cov_type": cov_type,
        "inference": "t",
        "model": "ols",
        "formula": d.formula,
        "response": d.response,
        "weighted": d.weights is not None,
        "fixed_effects": list(d.fe_names),
        "fixed_effect_levels": {nm: int(v) for nm, v in zip(d.fe_names, d.levels, strict=True)},
        "n_singletons": d.n_singletons,
        "demean_iterations": d.iterations,
        "n_params_with_fe": info["K"],
        "fe_params": info["k_fe"],
    }
    for key in ("n_clusters", "clusters_each", "fe_nested_levels", "fe_nested", "n_clusters_intersection"):
        if key in info:
            out[key] = info[key]
    if d.cluster_names:
        out["cluster_variables"] = list(d.cluster_names)
    return out


def fe_ols(
    x: Any,
    data: Any,
    *,
    absorb: Any,
    weights: Any,
    cov_type: str,
    cluster: Any,
    cluster_df: str,
    conf_level: float,
    namespaces: Any,
    tools: Tools,
) -> Any:
    """:func:`ols` with absorbed fixed effects (or two-way clustering); see the module docstring."""

    if cov_type not in _FE_COV:
        raise ArgumentError(
            f"with absorbed fixed effects or two-way clustering, `cov_type` must be one of {list(_FE_COV)}; got {show(cov_type)}"
        )
    d = prepare(x, data, absorb=absorb, weights=weights, cluster=cluster, cov_type=cov_type, namespaces=namespaces, tools=tools)
    coef, bread, uw = fit_sample(d)
    cov, info = covariance(d, coef, bread, uw, cov_type)
    fit_stats = fe_fit_stats(d, uw, info, cov_type)
    t_df, df_rule = tools.inference_df(fit_stats, cluster_df)
    fit_stats["inference_df"], fit_stats["inference_df_rule"] = t_df, df_rule
    fit_stats.update(tools.slopes_wald(d.names, coef, cov, t_df))
    with np.errstate(invalid="ignore"):
        terms = tools.terms(d.names, coef, cov, conf_level, t_df)
    fe_text = f"absorbing {' + '.join(d.fe_names)} by alternating projections" if d.fe_names else "no fixed effects"
    cl_text = ""
    if cov_type == "cluster":
        cl_text = f" ({'two-way, ' if len(d.clusters) == 2 else ''}CR1 clustered by {' and '.join(d.cluster_names)}, {info['n_clusters']} clusters), t tests on {df_rule}"
    method = f"{'Weighted' if d.weights is not None else 'Ordinary'} least squares, {fe_text}; {cov_type} covariance{cl_text}"
    fe_part = f" | {' + '.join(d.fe_names)}" if d.fe_names else ""
    have_wald = "wald_statistic" in fit_stats
    return tools.result_class(
        method=method,
        estimand=f"linear regression coefficients for {d.response}{fe_part} (Wald F test: all coefficients zero)",
        statistic=fit_stats["wald_statistic"] if have_wald else None,
        statistic_name="F",
        df=(fit_stats["wald_df"], fit_stats["wald_df2"]) if have_wald else None,
        pvalue=fit_stats["wald_pvalue"] if have_wald else None,
        conf_level=conf_level,
        alternative="two-sided",
        null_value=0.0,
        n=len(d.y),
        diagnostics=(*fe_diagnostics(d, fit_stats.get("n_clusters"), tools.few_clusters), *check_psd(cov, d.names)),
        terms=terms,
        details={
            "fit": fit_stats,
            "cov": pd.DataFrame(cov, index=d.names, columns=d.names),
            "residuals": uw / (np.ones(len(uw)) if d.weights is None else np.sqrt(d.weights)),
            "fitted": d.y_raw - uw / (np.ones(len(uw)) if d.weights is None else np.sqrt(d.weights)),
        },
        provenance=Provenance.current(data_fingerprint=d.fingerprint),
        design=dataclasses.replace(
            d, n_params=int(info["K"])
        ),  # the demeaned sample, for the wild cluster bootstrap (transient, not serialised)
    )


def wants_fixed_effects(x: Any, data: Any, absorb: Any, cluster: Any) -> bool:
    """Whether an :func:`ols` call needs this module: absorbed factors, a '|' formula, or two cluster columns."""
    if absorb is not None or (isinstance(x, str) and "|" in x):
        return True
    if data is None or not isinstance(cluster, (list, tuple)) or len(cluster) != 2:
        return False
    return all(isinstance(c, str) for c in cluster)
