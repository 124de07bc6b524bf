"""Regression on tables larger than memory: ``stats.ols``, ``stats.logit`` and ``stats.poisson`` inside an engine.

When ``data`` is a :class:`~causalinfer.data.ParquetSource` (or a Parquet path), a :class:`~causalinfer.data.SQLTable`,
a DuckDB relation or a dask DataFrame, the fit is computed from sums that the engine returns (see
:mod:`._scale_passes`), never from the rows:

1. ``DISTINCT`` of every categorical column (the levels, sorted and coded as patsy codes them in memory);
2. the means of the model's columns over the first 100,000 rows: the shifts ``s`` (any constant gives the same fit;
   one near the mean keeps the sums of squares accurate);
3. one pass: counts, missing values, and the weighted and unweighted sums and cross-products of ``z = x - s``
   (and of the outcome); least squares solves the k x k normal equations ``Z'WZ b = Z'Wy``;
4. one pass at the fitted coefficients: the residual sum of squares, the Breusch-Pagan sums and the meat of the
   sandwich (``sum w^2 e^2 z z'``, or with ``cluster`` the per-cluster score sums, grouped inside the engine and
   multiplied out there);
5. for ``logit``/``poisson``, one pass per Newton (IRLS) step computing ``Z'VZ`` and the score at the current
   coefficients in SQL expressions (``EXP``/``LN``), then the meat pass.

With an intercept the shifted model is the same model: the intercept absorbs the shifts, and the coefficients and
their covariance are mapped back exactly (``b_raw = A b``, ``V_raw = A V A'``). Without an intercept nothing is
shifted. Only k x k summaries travel, so memory is flat in the number of rows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import show, suggest_column
from ..exceptions import ArgumentError, ArgumentTypeError, ConvergenceError, DataError, RoleError, SourceError
from ..results import Diagnostic, Provenance
from ._scale_design import _IDENT, ScaleDesign, build_design, categorical_columns, xy_design
from ._scale_passes import DaskPasses, SQLPasses, refuse_missing

__all__ = ["SCALE_DATA", "fit_at_scale", "is_scale_data"]

#: The kinds of ``data`` the regressions accept besides frames (declared in their parameter checks).
SCALE_DATA = [
    vp.InstanceOf("causalinfer.data._engine:ParquetSource"),
    vp.InstanceOf("causalinfer.data._engine:SQLTable"),
    vp.HasMethods("aggregate", "project", what="a DuckDB relation"),
    vp.HasMethods("map_partitions", "to_delayed", what="a dask DataFrame"),
]
_COVS = ("nonrobust", "HC0", "HC1", "cluster")
_MAX_ITER = 100
_START_ROWS = 1_000_000  # rows of the seeded sample on which the start of a Newton fit is computed
_SEED = 16
_COV_AFTER = 1e-5  # after a Newton step this small the next is expected at rounding level: that pass takes the covariance sums


def _is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] in ("dask", "dask_expr") and hasattr(data, "to_delayed")


def is_scale_data(data: Any) -> bool:
    """Whether ``data`` is read inside an engine (a source or a dask DataFrame) rather than in memory."""
    from ..data._engine import ParquetSource, SQLTable, is_duckdb

    return isinstance(data, (ParquetSource, SQLTable)) or is_duckdb(data, "DuckDBPyRelation") or _is_dask(data)


@contextlib.contextmanager
def _passes(data: Any) -> Iterator[Any]:
    if _is_dask(data):
        yield DaskPasses(data)
        return
    from ..data._engine import runner

    with runner(data) as r:
        yield SQLPasses(r)


# ---------------------------------------------------------------------------------------------- checks
def _check_options(kind: str, opts: dict[str, Any]) -> None:
    cov_type = opts["cov_type"]
    if cov_type not in _COVS:
        why = "needs the rows in order" if cov_type == "HAC" else "needs each row's leverage"
        raise ArgumentError(f"cov_type={cov_type!r} is not available on a Parquet, SQL or dask `data` (it {why}); use one of {list(_COVS)}")
    for arg in ("weights", "cluster") + (("offset",) if kind == "poisson" else ()):
        value = opts.get(arg)
        if value is not None and not isinstance(value, str):
            raise ArgumentTypeError(f"with a Parquet, SQL or dask `data`, `{arg}` must be a column name; got {show(value)}")
    if opts.get("offset") is not None:
        raise ArgumentError("`offset` is not supported on a Parquet, SQL or dask `data` yet; add log(exposure) as a regressor")
    if opts.get("absorb") is not None:
        raise ArgumentError("`absorb` is not supported on a Parquet, SQL or dask `data`; add the factors as C(column) terms")
    if cov_type == "cluster" and opts.get("cluster") is None:
        raise ArgumentError("cov_type='cluster' needs `cluster`: the name of the cluster column")
    if cov_type != "cluster" and opts.get("cluster") is not None:
        raise ArgumentError(f"`cluster` was given but cov_type={cov_type!r}; use cov_type='cluster' for cluster-robust errors")


def _design(passes: Any, x: Any, y: Any, opts: dict[str, Any], namespaces: Any) -> ScaleDesign:
    """The model's columns, with the levels of categorical columns from a DISTINCT pass over the whole table."""
    schema = passes.schema()
    extra = [c for c in (opts.get("weights"), opts.get("cluster")) if c is not None]
    for c in extra:
        arg = "weights" if c == opts.get("weights") else "cluster"
        if c not in schema:
            raise RoleError(f"`{arg}` names column {c!r}, which is not in {passes.label}{suggest_column(c, list(schema))}")
    if opts.get("weights") is not None and not schema[opts["weights"]]:
        raise DataError(f"`weights` column {opts['weights']!r} of {passes.label} must be numeric")
    for c in schema:
        if '"' in c:
            raise ArgumentError(f"column name {c!r} of {passes.label} contains a double quote; rename the column")
    if isinstance(x, str) and "~" in x:
        if y is not None:
            raise ArgumentError("with a formula, leave `y` out: the outcome is the left-hand side of the formula")
        used, cats = categorical_columns(x, schema, passes.booleans())
        levels = {c: _sorted_levels(passes.distinct(c), c) for c in cats}
        design = build_design(x, used, levels, passes.booleans(), namespaces)
    else:
        design = xy_design(x, y, schema, opts.get("add_constant", True))
    if not schema.get(design.response, False):
        raise DataError(f"the outcome {design.response!r} must be numeric (or boolean)")
    return dataclasses.replace(design, used=tuple(dict.fromkeys([*design.used, *extra])))


def _named_columns(x: Any, y: Any, opts: dict[str, Any]) -> list[str]:
    """Every name the model could read: identifiers of a formula, the listed columns, weights and cluster."""
    names = set(_IDENT.findall(x)) if isinstance(x, str) else {str(c) for c in (x if isinstance(x, (list, tuple)) else [x])}
    names |= {c for c in (y, opts.get("weights"), opts.get("cluster")) if isinstance(c, str)}
    return sorted(names)


def _sorted_levels(values: list[Any], column: str) -> list[Any]:
    try:
        return sorted(values)
    except TypeError:
        raise DataError(f"column {column!r} mixes labels that cannot be sorted ({show(values[:6])}); use one type") from None


def _shift(passes: Any, design: ScaleDesign, kind: str) -> np.ndarray:
    """The shifts of the model's columns: means of the first rows (none without an intercept, none for a GLM's outcome)."""
    k = len(design.columns)
    shift = passes.shifts(design) if design.intercept else np.zeros(k + 1)
    shift[[j for j, c in enumerate(design.columns) if not c.factors]] = 0.0  # the intercept column is not shifted
    if kind != "ols":
        shift[-1] = 0.0  # a GLM's outcome enters its likelihood as it is
    return shift


def _checks(kind: str) -> dict[str, Any]:
    """Row checks of the outcome, as SQL conditions and their numpy twins."""
    if kind == "logit":
        return {"not01": ("{y} <> 0 AND {y} <> 1", lambda y: (y != 0) & (y != 1))}
    if kind == "poisson":
        return {"notcount": ("{y} < 0 OR {y} <> FLOOR({y})", lambda y: (y < 0) | (y != np.floor(y)))}
    return {}


def _check_moments(passes: Any, design: ScaleDesign, m: dict[str, Any], opts: dict[str, Any]) -> None:
    """Everything the in-memory path refuses, refused the same way, from the first pass's sums."""
    k = len(design.columns)
    if m["n"] == 0:
        raise DataError(f"{passes.label} has no rows")
    refuse_missing(m["nulls"], passes.label)
    if m["n"] <= k:
        raise DataError(f"the model has k = {k} parameters but only n = {m['n']} observation(s); a regression needs n > k")
    if opts.get("weights") is not None and not m["minw"] > 0:
        raise DataError(f"`weights` must be positive; column {opts['weights']!r} has a value <= 0 (drop those rows instead)")
    if not (np.all(np.isfinite(m["wcross"])) and np.all(np.isfinite(m["ucross"]))):
        raise DataError(
            f"the model's columns in {passes.label} have infinite or NaN values (or sums beyond floating point); drop them first"
        )


def _moments(passes: Any, design: ScaleDesign, opts: dict[str, Any], kind: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Shifts and the first pass, with everything the in-memory path refuses refused the same way."""
    shift = _shift(passes, design, kind)
    m = passes.moments(design, shift, opts.get("weights"), _checks(kind))
    _check_moments(passes, design, m, opts)
    return shift, m


def _solve_normal(H: np.ndarray, g: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Solution and inverse of the k x k normal equations, equilibrated; perfectly collinear columns refused."""
    d = np.sqrt(np.diag(H))
    if np.any(d == 0):
        raise DataError(f"column(s) {[nm for nm, v in zip(names, d, strict=True) if v == 0]} of the model matrix are all zero")
    S = H / np.outer(d, d)
    eig = np.linalg.eigvalsh(S)
    if eig[0] < 1e-12 * eig[-1]:
        raise DataError(
            "the model matrix is rank deficient (perfectly collinear columns, scaled condition number "
            f"{math.sqrt(eig[-1] / max(eig[0], 1e-300)):.3g}); drop one of the collinear terms of {names}"
        )
    inv = np.linalg.inv(S) / np.outer(d, d)
    inv = (inv + inv.T) / 2
    return inv @ g, inv


def _unshift(design: ScaleDesign, shift: np.ndarray, b: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and covariance of the model in the original columns (the intercept absorbs the shifts)."""
    k = len(b)
    if not design.intercept:
        return b, cov
    i0 = next(j for j, c in enumerate(design.columns) if not c.factors)
    A = np.eye(k)
    A[i0, :] -= shift[:k]
    A[i0, i0] = 1.0
    coef = A @ b
    coef[i0] += shift[k]
    return coef, A @ cov @ A.T


def _meat(r: dict[str, Any], k: int) -> np.ndarray:
    if "cluster_meat" in r:
        return np.asarray(r["cluster_meat"])
    M = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            M[i, j] = M[j, i] = r[f"m{i}_{j}"]
    return M


def _check_clusters(r: dict[str, Any], cluster: str | None, label: str) -> None:
    if cluster is not None and r["n_clusters"] < 2:
        raise DataError(
            f"`cluster` column {cluster!r} of {label} takes a single value: cluster-robust errors need at least two "
            "clusters; use cov_type='HC1' or a column with more clusters"
        )


# ---------------------------------------------------------------------------------------------- entry point
def fit_at_scale(kind: str, x: Any, y: Any, data: Any, helpers: dict[str, Any], namespaces: Any, **opts: Any) -> Any:
    """``ols``/``logit``/``poisson`` on a source or dask DataFrame; ``helpers`` are _regression's result builders."""

    _check_options(kind, opts)
    from ..data._engine import ParquetSource, check_parquet_schema

    if isinstance(data, ParquetSource):
        check_parquet_schema(data, _named_columns(x, y, opts))
    with _passes(data) as passes:
        design = _design(passes, x, y, opts, namespaces)
        try:
            if kind != "ols":
                return _glm_at_scale(kind, passes, design, opts, helpers)
            shift, m = _moments(passes, design, opts, kind)
            return _ols(passes, design, shift, m, opts, helpers)
        except SourceError as exc:
            raise SourceError(
                f"`data`: {exc}. The scan stopped part-way, so no result is returned; rerun on a table that is not "
                "dropped or rewritten during the analysis (for example a snapshot or a copy)"
            ) from exc


# ---------------------------------------------------------------------------------------------- OLS
def _ols(passes: Any, design: ScaleDesign, shift: np.ndarray, m: dict[str, Any], opts: dict[str, Any], helpers: dict[str, Any]) -> Any:
    k, n, names = len(design.columns), m["n"], design.names
    cov_type, weights, cluster = opts["cov_type"], opts.get("weights"), opts.get("cluster")
    b, bread = _solve_normal(m["wcross"][:k, :k], m["wcross"][:k, k], names)
    r = passes.residual_pass(design, shift, b, weights, cluster, cov_type != "nonrobust")
    _check_clusters(r, cluster, passes.label)
    df_resid = float(n - k)
    sigma2 = r["rss"] / df_resid
    if cov_type == "nonrobust":
        cov = sigma2 * bread
    else:
        cov = bread @ _meat(r, k) @ bread
        if cov_type == "HC1":
            cov *= n / (n - k)
        elif cov_type == "cluster":
            g = r["n_clusters"]
            cov *= g / (g - 1) * (n - 1) / (n - k)
    coef, cov = _unshift(design, shift, b, cov)
    fit_stats = _ols_fit(design, m, r, n, k, shift, opts)
    if cluster is not None:
        fit_stats["n_clusters"] = r["n_clusters"]
    return _ols_result(design, coef, cov, fit_stats, m, r, b, shift, opts, helpers)


def _ols_fit(
    design: ScaleDesign, m: dict[str, Any], r: dict[str, Any], n: int, k: int, shift: np.ndarray, opts: dict[str, Any]
) -> dict[str, Any]:
    """The fit statistics of ``summary.lm`` from the sums (the same keys as the in-memory fit)."""
    from scipy import stats

    sw, swy, swyy = m["sw"], m["wsum"][k], m["wcross"][k, k]
    rss, df_resid = r["rss"], float(n - k)
    if design.intercept:
        tss = swyy - swy * swy / sw
    else:
        tss = swyy + 2 * shift[k] * swy + shift[k] ** 2 * sw
    df_model = k - (1 if design.intercept else 0)
    r2 = 1.0 - rss / tss if tss > 0 else math.nan
    adj = 1.0 - (1.0 - r2) * (n - (1 if design.intercept else 0)) / df_resid if tss > 0 else math.nan
    if df_model > 0 and tss > 0:
        fstat = ((tss - rss) / df_model) / (rss / df_resid)
        fp = float(stats.f.sf(fstat, df_model, df_resid))
    else:
        fstat, fp = math.nan, math.nan
    slogw = m["slogw"] if opts.get("weights") is not None else 0.0
    loglik = 0.5 * slogw - n / 2 * (math.log(2 * math.pi) + 1 - math.log(n) + math.log(rss))
    return {
        "n": n,
        "k": k,
        "df_resid": df_resid,
        "r_squared": r2,
        "adj_r_squared": adj,
        "f_statistic": fstat,
        "f_df1": float(df_model),
        "f_df2": df_resid,
        "f_pvalue": fp,
        "sigma": math.sqrt(rss / df_resid),
        "rss": rss,
        "deviance": rss,
        "loglik": loglik,
        "aic": -2 * loglik + 2 * (k + 1),
        "bic": -2 * loglik + math.log(n) * (k + 1),
        "cov_type": opts["cov_type"],
        "inference": "t",
        "model": "ols",
        "formula": design.formula,
        "response": design.response,
        "weighted": opts.get("weights") is not None,
    }


def _centred_cross(m: dict[str, Any], k: int, intercept: bool) -> np.ndarray:
    """Unweighted cross-products of the model columns, centred when there is an intercept (shift-free)."""
    C = m["ucross"][:k, :k]
    if intercept:
        mean = m["usum"][:k] / m["n"]
        C = C - m["n"] * np.outer(mean, mean)
    return C


def _collinearity(design: ScaleDesign, m: dict[str, Any], shift: np.ndarray) -> tuple[Diagnostic, pd.DataFrame]:
    """VIFs and the scaled condition number of the in-memory check, from the unweighted cross-products."""
    k, n, names = len(design.columns), m["n"], design.names
    zs, s = m["usum"][:k], shift[:k]
    raw = m["ucross"][:k, :k] + np.outer(s, zs) + np.outer(zs, s) + n * np.outer(s, s)  # X'X of the original columns
    norms = np.sqrt(np.diag(raw))
    eig = np.linalg.eigvalsh(raw / np.outer(norms, norms))
    kappa = float(math.sqrt(eig[-1] / eig[0])) if eig[0] > 0 else math.inf
    cols = [j for j, nm in enumerate(names) if nm != "(Intercept)"]
    rows = []
    if len(cols) >= 2:
        C = _centred_cross(m, k, design.intercept)[np.ix_(cols, cols)]
        try:
            vif = np.diag(np.linalg.inv(C)) * np.diag(C)
        except np.linalg.LinAlgError:
            vif = np.full(len(cols), math.inf)
        rows = [{"term": names[j], "vif": float(v)} for j, v in zip(cols, vif, strict=True)]
    vifs = pd.DataFrame(rows, columns=["term", "vif"])
    max_vif = float(vifs["vif"].max()) if len(vifs) else 1.0
    if max_vif > 10:
        worst = ", ".join(f"{t.term} (VIF {t.vif:.3g})" for t in vifs.sort_values("vif", ascending=False).head(3).itertuples())
        msg = (
            f"largest VIF {max_vif:.3g} > 10 ({worst}; scaled condition number {kappa:.3g}): coefficients of these predictors are "
            "imprecise and sensitive to small changes in the data. Consider dropping or combining them"
        )
        return Diagnostic("collinearity", "warn", max_vif, msg), vifs
    if kappa > 30:
        msg = (
            f"all VIF <= 10 (largest {max_vif:.3g}); the scaled condition number {kappa:.3g} exceeds 30 only because predictors are "
            "far from zero relative to their spread (centring them would change the intercept, not the slopes)"
        )
        return Diagnostic("collinearity", "ok", max_vif, msg), vifs
    return Diagnostic("collinearity", "ok", max_vif, f"all VIF <= 10 (largest {max_vif:.3g}); scaled condition number {kappa:.3g}"), vifs


def _heteroskedasticity(design: ScaleDesign, m: dict[str, Any], r: dict[str, Any], cov_type: str) -> tuple[Diagnostic, dict[str, float]]:
    """Koenker's Breusch-Pagan test (``lmtest::bptest``): ``n R^2`` of ``w e^2`` on the model columns, from sums."""
    from scipy import stats

    k, n = len(design.columns), m["n"]
    if k < 2:
        return Diagnostic("heteroskedasticity", "ok", None, "no regressors besides the constant: Breusch-Pagan not applicable"), {}
    xu = np.array([r[f"bp{j}"] for j in range(k)])
    explained = float(xu @ np.linalg.solve(m["ucross"][:k, :k], xu))
    tss = r["u4"] - r["rss"] ** 2 / n
    stat = n * (1.0 - (r["u4"] - explained) / tss)
    df = float(k - 1)
    p = float(stats.chi2.sf(stat, df))
    info = {"bp_statistic": stat, "bp_df": df, "bp_pvalue": p}
    if p >= 0.05:
        return Diagnostic("heteroskedasticity", "ok", p, f"Breusch-Pagan (studentized) BP = {stat:.4g}, df = {df:g}, p = {p:.3g}"), info
    if cov_type == "nonrobust":
        msg = (
            f"Breusch-Pagan BP = {stat:.4g}, df = {df:g}, p = {p:.3g}: error variance depends on the regressors; "
            "classical standard errors are unreliable, use cov_type='HC1' (HC3 needs the rows)"
        )
        return Diagnostic("heteroskedasticity", "warn", p, msg), info
    return Diagnostic("heteroskedasticity", "ok", p, f"Breusch-Pagan p = {p:.3g}, handled by the robust covariance ({cov_type})"), info


def _perfect_fit(m: dict[str, Any], r: dict[str, Any], b: np.ndarray, shift: np.ndarray) -> list[Diagnostic]:
    """R's summary.lm check that the residual variance is not rounding noise, from the sums."""
    k, n = len(b), m["n"]
    rdf = n - k
    mean_z = m["usum"][:k] / n
    centred = m["ucross"][:k, :k] - n * np.outer(mean_z, mean_z)
    mean_f = shift[k] + float(b @ mean_z)
    var_f = max(float(b @ centred @ b), 0.0) / (n - 1) if n > 1 else 0.0
    scale = mean_f**2 + var_f
    resvar = r["rss"] / rdf
    if resvar < scale * 1e-30 or (scale == 0.0 and resvar == 0.0):
        msg = (
            "essentially perfect fit (residual variance is rounding noise): the coefficients are exact, but their "
            "standard errors, t statistics and p-values are not meaningful (R: 'summary may be unreliable')"
        )
        return [Diagnostic("perfect fit", "warn", resvar, msg)]
    return []


def _normality_not_checked(n: int) -> Diagnostic:
    return Diagnostic(
        "residual normality",
        "ok",
        None,
        f"not checked inside the engine (the Shapiro-Wilk check needs the residuals); with n = {n} the t-based "
        "inference rests on the central limit theorem",
    )


def _ols_result(
    design: ScaleDesign,
    coef: np.ndarray,
    cov: np.ndarray,
    fit_stats: dict[str, Any],
    m: dict[str, Any],
    r: dict[str, Any],
    b: np.ndarray,
    shift: np.ndarray,
    opts: dict[str, Any],
    h: dict[str, Any],
) -> Any:
    names, n, cov_type = design.names, m["n"], opts["cov_type"]
    t_df, df_rule = h["inference_df"](fit_stats, opts["cluster_df"])
    fit_stats["inference_df"], fit_stats["inference_df_rule"] = t_df, df_rule
    fit_stats.update(h["slopes_wald"](names, coef, cov, t_df))
    coll, vifs = _collinearity(design, m, shift)
    het, bp = _heteroskedasticity(design, m, r, cov_type)
    fit_stats.update(bp)
    diags = (coll, _normality_not_checked(n), het, *h["few_clusters"](fit_stats.get("n_clusters")), *_perfect_fit(m, r, b, shift))
    method = (
        ("Weighted" if opts.get("weights") is not None else "Ordinary")
        + " least squares regression, "
        + h["cov_label"](cov_type, None, fit_stats.get("n_clusters"), linear=True)
        + (f", t and F tests on {df_rule}" if cov_type == "cluster" else "")
        + ", computed inside the engine"
    )
    stat, stat_df, pval, test_label = h["overall_test"](fit_stats, cov_type)
    return h["RegressionResult"](
        method=method,
        estimand=f"linear regression coefficients for {design.response} ({test_label}: all slopes zero)",
        statistic=stat,
        statistic_name="F",
        df=stat_df,
        pvalue=pval,
        conf_level=opts["conf_level"],
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=diags,
        terms=h["terms"](names, coef, cov, opts["conf_level"], t_df),
        details={"fit": fit_stats, "cov": pd.DataFrame(cov, index=names, columns=names), "vif": vifs},
        provenance=Provenance.current(),
        design=h["PredictionDesign"](design.design_info, False),
    )


# ---------------------------------------------------------------------------------------------- GLMs
def _check_outcome(kind: str, design: ScaleDesign, m: dict[str, Any]) -> None:
    k, n = len(design.columns), m["n"]
    total = m["usum"][k]  # the outcome is not shifted in a GLM
    if kind == "logit":
        if m["checks"]["not01"]:
            raise DataError(
                f"the outcome {design.response!r} of a logistic regression must be 0/1 (or boolean); "
                f"{m['checks']['not01']} row(s) have other values"
            )
        if total <= 0 or total >= n:
            raise DataError(
                f"the outcome {design.response!r} takes only the value {0 if total <= 0 else 1}; logistic regression needs both 0 and 1"
            )
    elif m["checks"]["notcount"]:
        raise DataError(f"the outcome {design.response!r} of a Poisson regression must be non-negative counts (integers)")
    elif total <= 0:
        raise DataError(
            f"the outcome {design.response!r} is zero in every row: there is no rate to estimate (the maximum-likelihood "
            "intercept runs off to minus infinity); model a variable with at least one positive count"
        )


def _hessian(r: dict[str, Any], k: int) -> tuple[np.ndarray, np.ndarray]:
    H = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            H[i, j] = H[j, i] = r[f"h{i}_{j}"]
    return H, np.array([r[f"g{j}"] for j in range(k)])


def _start(kind: str, passes: Any, design: ScaleDesign, shift: np.ndarray, weights: str | None, fam: Any = None) -> tuple[np.ndarray, bool]:
    """The model fitted (IRLS, in memory) on a bounded, seeded sample the engine returns; the start of the Newton passes.

    Only the number of passes depends on it. Where the sample cannot be fitted (too few rows, an outcome the family
    refuses, no convergence) the start is the intercept alone at the sample's mean (zeros without an intercept).
    The flag says whether the sample held every row (then the start is the fit, and the first pass confirms it)."""
    from ._glm_families import make_family
    from ._glm_irls import irls

    k = len(design.columns)
    Z, w = passes.sample(design, shift, weights, _START_ROWS, _SEED)
    keep = np.all(np.isfinite(Z), axis=1) & np.isfinite(w) & (w > 0)
    whole = Z.shape[0] < min(_START_ROWS, passes.sample_cap)
    X, y, w = Z[keep, :k], Z[keep, k], w[keep]
    if fam is None:
        fam = make_family("binomial", "logit") if kind == "logit" else make_family("poisson", "log")
    if X.shape[0] > 2 * k:
        try:
            with np.errstate(all="ignore"):
                f = irls(X, y, w, np.zeros(len(y)), fam)
            if f.converged and np.all(np.isfinite(f.coef)) and float(np.max(np.abs(X @ f.coef))) < 30.0:
                return f.coef, whole
        except (ConvergenceError, np.linalg.LinAlgError, ValueError, FloatingPointError):
            pass
    b = np.zeros(k)
    ybar = float(np.sum(w * y) / np.sum(w)) if len(y) and np.sum(w) > 0 else math.nan
    if design.intercept and math.isfinite(ybar):
        i0 = next(j for j, c in enumerate(design.columns) if not c.factors)
        with np.errstate(all="ignore"):
            start = float(fam.link.linkfun(np.array([ybar]))[0])
        b[i0] = start if math.isfinite(start) else 0.0
    return b, False


def _has_cov_sums(r: dict[str, Any]) -> bool:
    return "cluster_meat" in r or "m0_0" in r


def _polish(
    kind: str,
    passes: Any,
    design: ScaleDesign,
    shift: np.ndarray,
    b: np.ndarray,
    weights: str | None,
    cluster: str | None = None,
    cov: bool = False,
    first: dict[str, Any] | None = None,
    pass_at: Any = None,
) -> tuple[np.ndarray, dict[str, Any], int, bool]:
    """Newton (IRLS) passes from ``b`` until the step is at rounding level (``first``: the sums of a first pass at ``b``).

    Returns the coefficients, the sums of the last pass (taken at the coefficients before its rounding-level step),
    the number of passes and whether the fit converged. With ``cov`` a pass that follows a step below 1e-5 also
    computes the sandwich sums (meat, or per-cluster score sums), so the converging pass is also the covariance pass.
    A pass whose deviance rose (or is not finite) halves the step back towards the previous coefficients.
    ``pass_at(b, with_cov)`` replaces the logit/Poisson pass (the other GLM families)."""
    k = len(b)
    if pass_at is None:

        def pass_at(b: np.ndarray, with_cov: bool) -> dict[str, Any]:
            return passes.glm_pass(kind, design, shift, b, weights, cluster if with_cov else None, with_cov)

    prev, dev_prev, b_prev, r = math.inf, math.inf, b, first
    for it in range(1, _MAX_ITER + 1):
        if r is None:
            r = pass_at(b, cov and prev <= _COV_AFTER)
        H, g = _hessian(r, k)
        if not (math.isfinite(r["dev"]) and r["dev"] <= dev_prev + 1e-9 * abs(dev_prev)) and it < _MAX_ITER:
            if not math.isfinite(dev_prev):
                raise ConvergenceError(f"the {kind} fit reached non-finite sums at iteration {it}; check for separation or extreme values")
            b, r = (b + b_prev) / 2, None
            continue
        if not (np.all(np.isfinite(H)) and np.all(np.isfinite(g))):
            raise ConvergenceError(f"the {kind} fit reached non-finite sums at iteration {it}; check for separation or extreme values")
        step, _ = _solve_normal(H, g, design.names)
        size = float(np.max(np.abs(step)))
        if size <= 1e-11 * max(1.0, float(np.max(np.abs(b + step)))):
            return b + step, r, it, True
        dev_prev, b_prev, b, r = r["dev"], b, b + step, None
        prev = size / max(1.0, float(np.max(np.abs(b))))
    return b, pass_at(b, cov), _MAX_ITER, False


def _newton(
    kind: str,
    passes: Any,
    design: ScaleDesign,
    shift: np.ndarray,
    m: dict[str, Any],
    weights: str | None,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, int, bool]:
    """IRLS (Newton) passes from ``start`` (default: a fit on a sample of the rows) until the step is at rounding level."""
    b = _start(kind, passes, design, shift, weights)[0] if start is None else np.array(start, dtype=float)
    b, _, iterations, converged = _polish(kind, passes, design, shift, b, weights)
    return b, iterations, converged


def _glm_at_scale(kind: str, passes: Any, design: ScaleDesign, opts: dict[str, Any], helpers: dict[str, Any]) -> Any:
    """A logit or Poisson fit in about three scans: a sample for the start, then Newton passes of which the first
    also takes the moments and checks, and the last (converged) one also the covariance sums."""
    weights = opts.get("weights")
    shift = _shift(passes, design, kind)
    b, whole = _start(kind, passes, design, shift, weights)
    meat = whole and opts["cov_type"] in ("HC0", "HC1")  # the start is the fit: the first pass may be the last
    m, first = passes.glm_moments_pass(kind, design, shift, b, weights, _checks(kind), meat)
    for key in ("ylogy", "lgam"):
        if key in first:
            m[key] = first.pop(key)
    _check_moments(passes, design, m, opts)
    _check_outcome(kind, design, m)
    return _glm_finish(kind, passes, design, shift, m, b, opts, helpers, first)


def _glm(
    kind: str, passes: Any, design: ScaleDesign, shift: np.ndarray, m: dict[str, Any], opts: dict[str, Any], helpers: dict[str, Any]
) -> Any:
    _check_outcome(kind, design, m)
    b, _ = _start(kind, passes, design, shift, opts.get("weights"))
    return _glm_finish(kind, passes, design, shift, m, b, opts, helpers, None)


def _glm_finish(
    kind: str,
    passes: Any,
    design: ScaleDesign,
    shift: np.ndarray,
    m: dict[str, Any],
    b: np.ndarray,
    opts: dict[str, Any],
    helpers: dict[str, Any],
    first: dict[str, Any] | None,
) -> Any:
    k, n, names = len(design.columns), m["n"], design.names
    cov_type, weights, cluster = opts["cov_type"], opts.get("weights"), opts.get("cluster")
    robust = cov_type != "nonrobust"
    b, r, iterations, converged = _polish(kind, passes, design, shift, b, weights, cluster, robust, first)
    if robust and not _has_cov_sums(r):  # converged without a pass that took the covariance sums
        r = passes.glm_pass(kind, design, shift, b, weights, cluster, True)
    if cluster is not None:
        _check_clusters(r, cluster, passes.label)
    H, _ = _hessian(r, k)
    _, bread = _solve_normal(H, np.zeros(k), names)
    cov = bread
    if robust:
        cov = bread @ _meat(r, k) @ bread
        if cov_type == "HC1":
            cov *= n / (n - k)
        elif cov_type == "cluster":
            cov *= r["n_clusters"] / (r["n_clusters"] - 1)
    coef, cov = _unshift(design, shift, b, cov)
    fit_stats = _glm_fit(kind, passes, design, m, r, opts, iterations, converged)
    fit_stats.update(helpers["slopes_wald"](names, coef, cov, None))
    return _glm_result(kind, design, m, shift, coef, cov, fit_stats, r, opts, helpers)


def _glm_fit(
    kind: str,
    passes: Any,
    design: ScaleDesign,
    m: dict[str, Any],
    r: dict[str, Any],
    opts: dict[str, Any],
    iterations: int,
    converged: bool,
) -> dict[str, Any]:
    from scipy import special, stats

    k, n, sw, swy = len(design.columns), m["n"], m["sw"], m["wsum"][len(design.columns)]
    mu0 = swy / sw
    if kind == "logit":
        null_dev = -2.0 * (swy * math.log(mu0) + (sw - swy) * math.log1p(-mu0))
        loglik = -r["dev"] / 2.0
    else:
        if "lgam" in m:  # taken in the first pass (DuckDB, dask)
            ylogy, lgam = m["ylogy"], m["lgam"]
        else:
            counts = passes.count_values(design.response, opts.get("weights"))
            ylogy = sum(wt * (v * math.log(v) if v > 0 else 0.0) for v, wt in counts)
            lgam = sum(wt * float(special.gammaln(v + 1.0)) for v, wt in counts)
        null_dev = 2.0 * (ylogy - swy * math.log(mu0) - swy + mu0 * sw)
        loglik = ylogy - swy - lgam - r["dev"] / 2.0
    lr = null_dev - r["dev"]
    lr_df = float(k - (1 if design.intercept else 0))
    out: dict[str, Any] = {
        "n": n,
        "k": k,
        "df_resid": float(n - k),
        "df_null": float(n - (1 if design.intercept else 0)),
        "deviance": r["dev"],
        "null_deviance": null_dev,
        "loglik": loglik,
        "aic": -2 * loglik + 2 * k,
        "bic": -2 * loglik + math.log(n) * k,
        "pearson_chi2": r["pearson"],
        "lr_statistic": lr,
        "lr_df": lr_df,
        "lr_pvalue": float(stats.chi2.sf(lr, lr_df)) if lr_df > 0 else math.nan,
        "iterations": iterations,
        "converged": converged,
        "cov_type": opts["cov_type"],
        "inference": "z",
        "model": kind,
        "formula": design.formula,
        "response": design.response,
        "weighted": opts.get("weights") is not None,
    }
    if opts.get("cluster") is not None:
        out["n_clusters"] = r["n_clusters"]
    return out


def _glm_diagnostics(kind: str, fit_stats: dict[str, Any], r: dict[str, Any], cov_type: str) -> list[Diagnostic]:
    diags = []
    if not fit_stats["converged"]:
        diags.append(Diagnostic("convergence", "fail", None, f"IRLS did not converge in {_MAX_ITER} iterations; estimates are unreliable"))
    name = "separation" if kind == "logit" else "existence of the estimate"
    edge = int(r["edge"])
    if edge:
        what = "probabilities are numerically 0 or 1" if kind == "logit" else "means are numerically 0"
        msg = f"{edge} fitted {what}: the maximum likelihood estimate may not exist (separation); fit a frame to run the exact check"
        diags.append(Diagnostic(name, "warn", float(edge), msg))
    else:
        diags.append(Diagnostic(name, "ok", 0.0, "no fitted value at the boundary (the linear-programming existence check needs the rows)"))
    if kind == "poisson":
        ratio = fit_stats["pearson_chi2"] / fit_stats["df_resid"]
        if ratio > 1.5:
            status = "warn" if cov_type == "nonrobust" else "ok"
            advice = (
                "classical standard errors are too small; use cov_type='HC0' (robust Poisson)"
                if status == "warn"
                else f"handled by the robust covariance ({cov_type})"
            )
            diags.append(Diagnostic("overdispersion", status, ratio, f"Pearson chi-square / df = {ratio:.3g} > 1.5: {advice}"))
        else:
            diags.append(Diagnostic("overdispersion", "ok", ratio, f"Pearson chi-square / df = {ratio:.3g}: no sign of overdispersion"))
    return diags


def _glm_result(
    kind: str,
    design: ScaleDesign,
    m: dict[str, Any],
    shift: np.ndarray,
    coef: np.ndarray,
    cov: np.ndarray,
    fit_stats: dict[str, Any],
    r: dict[str, Any],
    opts: dict[str, Any],
    h: dict[str, Any],
) -> Any:
    names, cov_type = design.names, opts["cov_type"]
    coll, vifs = _collinearity(design, m, shift)
    diags = [coll, *h["few_clusters"](fit_stats.get("n_clusters")), *_glm_diagnostics(kind, fit_stats, r, cov_type)]
    family = "Logistic regression (binomial GLM, logit link)" if kind == "logit" else "Poisson regression (log link)"
    what = "log odds ratios" if kind == "logit" else "log rate ratios"
    label, stat_name, stat, stat_df, pval = h["glm_overall_test"](fit_stats, cov_type)
    return h["RegressionResult"](
        method=f"{family}, {h['cov_label'](cov_type, None, fit_stats.get('n_clusters'), linear=False)}, computed inside the engine",
        estimand=f"{what} for {design.response} ({label}: all slopes zero)",
        statistic=stat,
        statistic_name=stat_name,
        df=stat_df,
        pvalue=pval,
        conf_level=opts["conf_level"],
        alternative="two-sided",
        null_value=0.0,
        n=fit_stats["n"],
        diagnostics=tuple(diags),
        terms=h["terms"](names, coef, cov, opts["conf_level"], None),
        details={"fit": fit_stats, "cov": pd.DataFrame(cov, index=names, columns=names), "vif": vifs},
        provenance=Provenance.current(),
        design=h["PredictionDesign"](design.design_info, False),
    )
