"""``causal.ipw`` on tables larger than memory: a Parquet file or folder (DuckDB), a SQL table, a DuckDB relation or a
dask DataFrame, with the numbers of the in-memory estimator.

The work is a few passes over the rows, each returning sums (see :mod:`._scale_ipw_passes`); nothing of the size of
the table reaches Python:

1. ``DISTINCT`` of every categorical covariate (sorted levels, coded the same in every file or partition), and the
   shifts of :mod:`causalinfer.stats._scale` (means of the first rows, which keep the cross-products accurate);
2. one checking pass: counts, missing values, the treatment's values, the outcome's range, each covariate column's
   range and the cross-products that decide the rank of the covariate design, as the in-memory checks do;
3. one pass per Newton step of the logistic propensity (score and ``Z'VZ``), then, with ``trim``, the same on the
   rows whose propensity lies in ``[trim, 1 - trim]`` (the condition is part of every later pass);
4. one pass at the fitted propensity: the weighted sums of the estimate, the score-correction vectors of the
   influence function, the balance sums, the weights' extremes, the overlap counts and the histogram;
5. one pass for the squared influence function (summed per cluster first when ``cluster`` is given) and the squares
   of the balance table; one for the exact propensity quantiles (``percentile_cont`` in SQL, counting passes on dask).

Only k x k summaries travel; memory is flat in the number of rows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_conf_level, check_probability, show, suggest_column
from ..exceptions import ArgumentError, ConvergenceError, DataError, RoleError, SourceError
from ..results import Diagnostic, Provenance
from ..stats._scale import _passes, _sorted_levels
from ..stats._scale_design import DesignColumn, Factor, ScaleDesign
from ._design import ESTIMAND_WORDS, check_estimand
from ._diagnostics import BALANCE_COLUMNS, OVERLAP_BOUND, OVERLAP_COLUMNS, balance_diagnostic
from ._effect import EffectResult
from ._models import _separation
from ._scale_ipw_fit import MAX_ITER, hessian_and_score, newton, run_pass, solve
from ._scale_ipw_passes import HIST_EDGES, IPWRows, dask_quantiles, sql_quantiles

__all__ = ["ipw_at_scale"]

_QUANTILES = (0.01, 0.5, 0.99)
_SCALE = "a Parquet, SQL or dask `data`"


def _names(value: Any, arg: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    out = tuple(value)
    if not all(isinstance(v, str) for v in out):
        raise ArgumentError(f"with {_SCALE}, `{arg}` must be column names; got {show(value)}")
    return out


def _check_roles(schema: dict[str, bool], label: str, roles: dict[str, Any]) -> None:
    for arg in ("outcome", "treatment"):
        if not isinstance(roles[arg], str):
            raise RoleError(f"with {_SCALE}, name the {arg} column: {arg}='column' (got {show(roles[arg])})")
    for arg in ("outcome", "treatment", "cluster", "covariates", "categorical", "squared"):
        cols = roles[arg] if isinstance(roles[arg], tuple) else ((roles[arg],) if roles[arg] is not None else ())
        for c in cols:
            if c not in schema:
                raise RoleError(f"`{arg}` names column {c!r}, which is not in {label}{suggest_column(c, list(schema))}")
    for c in schema:
        if '"' in c:
            raise ArgumentError(f"column name {c!r} of {label} contains a double quote; rename the column")
    for arg, cols in (("categorical", roles["categorical"]), ("squared", roles["squared"])):
        for c in cols:
            if c not in roles["covariates"]:
                raise RoleError(
                    f"`{arg}` names {c!r}, which is not one of the covariates {list(roles['covariates'])}; add it to `covariates` first"
                )
    both = set(roles["categorical"]) & set(roles["squared"])
    if both:
        raise RoleError(f"covariate(s) {sorted(both)} are both categorical and squared; a squared term needs a numeric covariate")
    if not schema[roles["outcome"]]:
        raise RoleError(f"outcome {roles['outcome']!r} of {label} must be numeric")
    if not schema[roles["treatment"]]:
        raise RoleError(
            f"treatment {roles['treatment']!r} of {label} is not numeric; these estimators need a binary treatment coded 0/1 "
            "(or False/True): add a 0/1 column to the table first"
        )
    for arg in ("outcome", "treatment", "cluster"):
        if roles[arg] is not None and roles[arg] in roles["covariates"]:
            raise RoleError(
                f"column {roles[arg]!r} is given two roles, `{arg}` and `covariates`; a column can play only one role (remove it "
                "from one of them)"
            )


def _design(passes: Any, schema: dict[str, bool], roles: dict[str, Any]) -> tuple[ScaleDesign, tuple[str, ...], tuple[str, ...]]:
    """The propensity design ``[1, Z]`` with the in-memory columns: dummies of every level but the first, squares."""
    cols = [DesignColumn("(Intercept)", ())]
    cats = list(roles["categorical"])
    for c in roles["covariates"]:
        if c in roles["categorical"] or not schema[c]:
            if c not in cats:
                cats.append(c)
            levels = tuple(_sorted_levels(passes.distinct(c), c))
            if not levels:
                raise DataError(f"covariate {c!r} has no non-missing value")
            for lev in levels[1:]:
                cols.append(DesignColumn(f"{c}[{lev}]", (Factor(c, levels, tuple(1.0 if v == lev else 0.0 for v in levels)),)))
        else:
            cols.append(DesignColumn(c, (Factor(c),)))
            if c in roles["squared"]:
                cols.append(DesignColumn(f"I({c}^2)", (Factor(c), Factor(c))))
    used = tuple(
        dict.fromkeys([roles["treatment"], roles["outcome"], *roles["covariates"], *([roles["cluster"]] if roles["cluster"] else [])])
    )
    design = ScaleDesign(tuple(cols), roles["treatment"], True, None, None, used)
    return design, tuple(c.name for c in cols[1:]), tuple(cats)


# ---------------------------------------------------------------------------------------------- the checking pass
def _prep_sql(passes: Any, design: ScaleDesign, shift: np.ndarray, outcome: str) -> dict[str, Any]:
    k = len(design.columns)
    exprs = design.sql(passes.num, passes.q)
    a, y = passes.num(design.response), passes.num(outcome)
    inner = [f"CAST(({e}) AS DOUBLE PRECISION) AS x{j}" for j, e in enumerate(exprs)] + [f"{a} AS a__", f"{y} AS y__"]
    inner += [f"{passes.q(c)} AS u{i}__" for i, c in enumerate(design.used)]
    aggs = ["COUNT(*)", "SUM(CASE WHEN a__ <> 0 AND a__ <> 1 THEN 1 ELSE 0 END)", "SUM(a__)", "MIN(y__)", "MAX(y__)"]
    aggs += [f"SUM(CASE WHEN u{i}__ IS NULL THEN 1 ELSE 0 END)" for i in range(len(design.used))]
    for j in range(1, k):
        aggs += [
            f"MIN(x{j})",
            f"MAX(x{j})",
            f"SUM(CASE WHEN x{j} = a__ THEN 1 ELSE 0 END)",
            f"SUM(CASE WHEN x{j} = 1 - a__ THEN 1 ELSE 0 END)",
        ]
    aggs += [f"SUM(x{j} - {float(shift[j])!r})" for j in range(k)]
    aggs += [f"SUM((x{i} - {float(shift[i])!r}) * (x{j} - {float(shift[j])!r}))" for i in range(k) for j in range(i, k)]
    got = passes.runner.run(f"SELECT {', '.join(aggs)} FROM (SELECT {', '.join(inner)} FROM {{src}}{passes.fence}) AS p__")[0]
    vals = [float(v) if v is not None else math.nan for v in got]
    return _unpack_prep(vals, design, k)


def _unpack_prep(vals: list[float], design: ScaleDesign, k: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "n": int(vals[0]) if vals[0] == vals[0] else 0,
        "not01": vals[1],
        "n1": vals[2],
        "ymin": vals[3],
        "ymax": vals[4],
    }
    pos = 5
    out["nulls"] = {c: int(v) for c, v in zip(design.used, vals[pos : pos + len(design.used)], strict=True) if v}
    pos += len(design.used)
    ranges = np.array(vals[pos : pos + 4 * (k - 1)]).reshape(k - 1, 4) if k > 1 else np.zeros((0, 4))
    out["xmin"], out["xmax"], out["copy_a"], out["copy_b"] = ranges.T
    pos += 4 * (k - 1)
    out["zsum"] = np.array(vals[pos : pos + k])
    pos += k
    C = np.zeros((k, k))
    for (r, c), v in zip([(i, j) for i in range(k) for j in range(i, k)], vals[pos:], strict=True):
        C[r, c] = C[c, r] = v
    out["zcross"] = C
    return out


def _prep_part(part: pd.DataFrame, design: ScaleDesign, shift: np.ndarray, outcome: str) -> list[float]:
    X = design.evaluate(part)
    a = part[design.response].to_numpy(dtype=float, na_value=np.nan)
    y = part[outcome].to_numpy(dtype=float, na_value=np.nan)
    n, k = len(part), X.shape[1]
    with np.errstate(invalid="ignore"):
        vals = [float(n), float(np.sum((a != 0) & (a != 1) & ~np.isnan(a))), float(np.nansum(a))]
        vals += [
            float(np.nanmin(y)) if n and not np.all(np.isnan(y)) else math.nan,
            float(np.nanmax(y)) if n and not np.all(np.isnan(y)) else math.nan,
        ]
    vals += [float(part[c].isna().sum()) for c in design.used]
    for j in range(1, k):
        x = X[:, j]
        vals += [
            float(np.nanmin(x)) if n else math.nan,
            float(np.nanmax(x)) if n else math.nan,
            float(np.sum(x == a)),
            float(np.sum(x == 1 - a)),
        ]
    Z = X - shift
    vals += list(np.nansum(Z, axis=0))
    C = np.nan_to_num(Z).T @ np.nan_to_num(Z)
    vals += [float(C[i, j]) for i in range(k) for j in range(i, k)]
    return vals


def _prep_dask(passes: Any, design: ScaleDesign, shift: np.ndarray, outcome: str) -> dict[str, Any]:
    parts = [p for p in passes._run(_prep_part, design, shift, outcome) if p[0] > 0]
    if not parts:
        return {"n": 0}
    arr = np.array(parts, dtype=float)
    vals = list(np.sum(arr, axis=0))
    vals[3], vals[4] = float(np.nanmin(arr[:, 3])), float(np.nanmax(arr[:, 4]))
    k = len(design.columns)
    base = 5 + len(design.used)
    for j in range(k - 1):
        vals[base + 4 * j] = float(np.nanmin(arr[:, base + 4 * j]))
        vals[base + 4 * j + 1] = float(np.nanmax(arr[:, base + 4 * j + 1]))
    return _unpack_prep(vals, design, k)


def _distinct_treatment(passes: Any, treatment: str) -> list[float]:
    values = passes.distinct(treatment)
    return sorted({float(v) for v in values})


def _check_prep(p: dict[str, Any], passes: Any, design: ScaleDesign, names: tuple[str, ...], roles: dict[str, Any]) -> None:
    """The in-memory refusals, from the checking pass."""
    label, t = passes.label, roles["treatment"]
    if p["n"] == 0:
        raise DataError(f"{label} has no rows")
    if p["nulls"]:
        listing = ", ".join(f"{c!r} ({k} of {p['n']} rows)" for c, k in p["nulls"].items())
        raise DataError(
            f"missing values in columns with a role: {listing}; drop or impute them first (in {label}: for example a view or "
            "query with WHERE column IS NOT NULL)"
        )
    if p["not01"]:
        levels = _distinct_treatment(passes, t)
        if len(levels) != 2:
            shown = ", ".join(f"{v:g}" for v in levels[:6])
            raise RoleError(
                f"treatment {t!r} has {len(levels)} levels ({shown}{', ...' if len(levels) > 6 else ''}); these estimators need a "
                "binary treatment coded 0/1 (or False/True). Recode it, or compare two levels on a subset of rows"
            )
        low, high = levels
        raise RoleError(f"treatment {t!r} has the two levels {low:g} and {high:g}; recode it as 0 (untreated) and 1 (treated)")
    n, n1 = p["n"], int(p["n1"])
    if n1 < 2 or n - n1 < 2:
        raise RoleError(f"treatment {t!r} has {n1} treated and {n - n1} untreated rows; each group needs at least 2")
    if not (math.isfinite(p["ymin"]) and math.isfinite(p["ymax"])):
        raise DataError(f"outcome {roles['outcome']!r} has infinite values; recode or drop them first")
    if p["ymin"] == p["ymax"]:
        raise DataError(f"outcome {roles['outcome']!r} is constant ({p['ymin']:g}); there is no effect to estimate")
    _check_columns(p, names, t)


def _check_columns(p: dict[str, Any], names: tuple[str, ...], treatment: str) -> None:
    n = p["n"]
    for j, name in enumerate(names):
        lo, hi = p["xmin"][j], p["xmax"][j]
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise DataError(f"covariate column {name!r} has infinite values; recode or drop them first")
        top = max(abs(lo), abs(hi))
        if top != 0 and not 1e-100 < top < 1e100:
            raise DataError(f"covariate column {name!r} reaches {top:g}: rescale it (values beyond 1e100 or below 1e-100 in size) first")
        if p["copy_a"][j] == n or p["copy_b"][j] == n:
            raise RoleError(
                f"covariate column {name!r} is a copy of the treatment {treatment!r} (or its complement); "
                "it cannot be adjusted for, so remove it from `covariates`"
            )
    const = [names[j] for j in range(len(names)) if p["xmin"][j] == p["xmax"][j]]
    if const:
        raise DataError(f"covariates: column(s) {const} are constant in the rows used; drop them from the covariates")
    if not names:
        return
    mean = p["zsum"] / n
    C = p["zcross"] - n * np.outer(mean, mean)
    C[0, :] = C[:, 0] = 0.0
    C[0, 0] = n
    s = np.sqrt(np.diag(C) / n)
    s[0] = 1.0
    S = C / np.outer(s, s)
    ev = np.linalg.eigvalsh(S)
    if ev[0] <= 1e-12 * max(ev[-1], 1e-300):
        from scipy.linalg import qr

        rank = int(np.sum(ev > 1e-12 * ev[-1]))
        vals, vecs = np.linalg.eigh(S)
        root = (vecs * np.sqrt(np.maximum(vals, 0.0))).T  # root' root = S: pivoting on it ranks the columns as QR on rows does
        _, _, piv = qr(root, pivoting=True)
        full = ("(intercept)", *names)
        raise DataError(
            f"covariates: the design is rank deficient ({rank} independent columns out of {len(full)}); "
            f"{[full[j] for j in piv[rank:]]} can be written as a combination of the other columns. Remove redundant covariates"
        )


# ---------------------------------------------------------------------------------------------- the fit
def ipw_at_scale(data: Any, **o: Any) -> EffectResult:
    """The in-memory ``ipw`` on a source or dask DataFrame (options as :func:`causalinfer.causal.ipw` received them)."""
    from ..data._engine import ParquetSource, check_parquet_schema

    if o["propensity_model"] is not None:
        raise ArgumentError(
            f"`propensity_model` cannot be used with {_SCALE}: a scikit-learn model is fitted on rows in memory, while the "
            "data stay in the engine here. Leave propensity_model=None (the logistic propensity is fitted inside the engine), "
            "or load a sample into a DataFrame to use the model"
        )
    estimand, conf_level = check_estimand(o["estimand"]), check_conf_level(o["conf_level"])
    clip, trim = (None if o[a] is None else check_probability(o[a], a, open_interval=True) for a in ("clip", "trim"))
    for arg, value in (("clip", clip), ("trim", trim)):
        if value is not None and value >= 0.5:
            raise ArgumentError(f"`{arg}` must be below 0.5 (propensities are kept within [{arg}, 1 - {arg}]); got {show(value)}")
    for name in ("normalize", "stabilize"):
        if not isinstance(o[name], bool):
            raise ArgumentError(f"`{name}` must be True or False; got {show(o[name])}")
    if o["se"] not in ("influence", "sandwich"):
        raise ArgumentError(f"`se` must be 'influence' or 'sandwich'; got {show(o['se'])}")
    roles = {
        "outcome": o["outcome"],
        "treatment": o["treatment"],
        "cluster": o["cluster"],
        "covariates": _names(o["covariates"], "covariates"),
        "categorical": _names(o["categorical"], "categorical"),
        "squared": _names(o["squared"], "squared"),
    }
    if roles["cluster"] is not None and not isinstance(roles["cluster"], str):
        raise ArgumentError(f"with {_SCALE}, `cluster` must be a column name; got {show(roles['cluster'])}")
    if isinstance(data, ParquetSource):
        named = [c for c in (roles["outcome"], roles["treatment"], roles["cluster"], *roles["covariates"]) if isinstance(c, str)]
        check_parquet_schema(data, named)
    o = {**o, "data": data}
    with _passes(data) as passes:
        try:
            return _estimate(passes, roles, estimand, clip, trim, conf_level, o)
        except SourceError as exc:
            raise SourceError(
                f"`data`: {exc}. The scan stopped part-way, so no result is returned; rerun on a table that is not "
                "dropped or rewritten during the analysis (for example a snapshot or a copy)"
            ) from exc


def _estimate(
    passes: Any, roles: dict[str, Any], estimand: str, clip: float | None, trim: float | None, conf_level: float, o: dict[str, Any]
) -> EffectResult:
    from ..stats._scale_passes import DaskPasses

    schema = passes.schema()
    _check_roles(schema, passes.label, roles)
    design, names, cats = _design(passes, schema, roles)
    k = len(design.columns)
    shift = np.asarray(passes.shifts(design)[:k], dtype=float)
    shift[0] = 0.0
    dask = isinstance(passes, DaskPasses)
    prep = _prep_dask(passes, design, shift, roles["outcome"]) if dask else _prep_sql(passes, design, shift, roles["outcome"])
    _check_prep(prep, passes, design, names, roles)
    n_all = prep["n"]
    scale = np.concatenate(
        [
            [1.0],
            [
                max(float(v), 1e-300)
                for v in np.sqrt(np.maximum(np.diag(prep["zcross"])[1:] / n_all - (prep["zsum"][1:] / n_all) ** 2, 0.0))
            ],
        ]
    )
    rows = IPWRows(design, shift, roles["outcome"], roles["cluster"], estimand, clip)
    beta = np.zeros(k)
    p1 = prep["n1"] / n_all
    beta[0] = math.log(p1 / (1 - p1))
    beta, converged = newton(passes, rows, beta, scale, names)
    extra: list[Diagnostic] = []
    suffix = ""
    if trim is not None:
        _converged_or_raise(passes, rows, beta, converged, names)
        rows = IPWRows(design, shift, roles["outcome"], roles["cluster"], estimand, clip, keep=(beta, trim))
        counts = run_pass(passes, rows, beta, "newton")
        n_keep, n1 = int(counts["n"]), int(counts["n1"])
        if n1 < 2 or n_keep - n1 < 2:
            raise DataError(f"trim={trim} leaves {n1} treated and {n_keep - n1} untreated units; use a smaller `trim`")
        dropped = n_all - n_keep
        msg = (
            f"{dropped} of {n_all} units with propensity outside [{trim:g}, {1 - trim:g}] were dropped before estimation; the "
            "estimate is for the remaining population"
        )
        extra.append(Diagnostic("trimming", "warn" if dropped else "ok", float(dropped), msg))
        suffix = f", among units with propensity in [{trim:g}, {1 - trim:g}]"
        beta, converged = newton(passes, rows, beta, scale, names)
    m = _converged_or_raise(passes, rows, beta, converged, names)
    result = _finish(passes, rows, beta, m, names, cats, roles, conf_level, extra, suffix, o)
    from ._scale_ipw_refute import ScaleRefitter

    refitter = ScaleRefitter(o["data"], rows, beta, m["n1"] / m["n"], o["normalize"], names, scale)
    return result.replace(refitter=refitter)


def _converged_or_raise(passes: Any, rows: IPWRows, beta: np.ndarray, converged: bool, names: tuple[str, ...]) -> dict[str, Any]:
    m = run_pass(passes, rows, beta, "main")
    if not converged:
        if m["max_eta"] > 15:
            _separation(names)
        raise ConvergenceError(f"the logistic propensity model did not converge in {MAX_ITER} Newton steps; simplify the covariates")
    if m["max_eta"] > 30:
        _separation(names)
    return m


# ---------------------------------------------------------------------------------------------- estimate and SE
def _finish(
    passes: Any,
    rows: IPWRows,
    beta: np.ndarray,
    m: dict[str, Any],
    names: tuple[str, ...],
    cats: tuple[str, ...],
    roles: dict[str, Any],
    conf_level: float,
    extra: list[Diagnostic],
    suffix: str,
    o: dict[str, Any],
) -> EffectResult:
    from ..stats._normal import z_crit, z_pvalue

    k, n, n1 = len(beta), int(m["n"]), int(m["n1"])
    normalize, estimand = o["normalize"], rows.estimand
    if normalize:
        mu1, mu0 = m["swy1"] / m["sw1"], m["swy0"] / m["sw0"]
        d1, d0 = m["sw1"] / n, m["sw0"] / n
    else:
        mu1, mu0 = m["swy1"] / m["sc"], m["swy0"] / m["sc"]
        d1 = d0 = m["sc"] / n
    u = None
    if o["se"] == "influence":
        H, _ = hessian_and_score(m, k)
        ga1, gay1, ga0, gay0 = (np.array([m[f"{key}_{j}"] for j in range(k)]) for key in ("ga1", "gay1", "ga0", "gay0"))
        G1, G0 = (gay1 - mu1 * ga1, gay0 - mu0 * ga0) if normalize else (gay1, gay0)
        u = solve(H, G1 / d1 - G0 / d0, names)
    mz1 = np.array([m[f"s1_{j}"] for j in range(1, k)]) / n1
    mz0 = np.array([m[f"s0_{j}"] for j in range(1, k)]) / (n - n1)
    x = {"normalize": normalize, "mu1": mu1, "mu0": mu0, "d1": d1, "d0": d0, "u": u, "mz1": mz1, "mz0": mz0}
    prow = IPWRows(rows.design, rows.shift, rows.outcome, rows.cluster, estimand, rows.clip, rows.keep, x)
    ph = run_pass(passes, prow, beta, "phi")
    cluster_diags: list[Diagnostic] = []
    if rows.cluster is not None:
        g = ph["n_clusters"]
        if g < 2:
            raise DataError(f"cluster {rows.cluster!r} has a single cluster; cluster-robust standard errors need at least 2 (better 20+)")
        status = "ok" if g >= 20 else "warn"
        msg = f"{g} clusters of {rows.cluster!r} (sizes {ph['cluster_min']} to {ph['cluster_max']})"
        if status == "warn":
            msg += "; with fewer than 20 clusters cluster-robust standard errors are too small and CIs under-cover"
        cluster_diags.append(Diagnostic("clusters", status, float(g), msg))
        se = math.sqrt(g / (g - 1) * ph["cluster_phi2"]) / n
    else:
        se = math.sqrt(ph["phi2"]) / n
    est = mu1 - mu0
    method = _method(normalize, o["se"])
    if not math.isfinite(est) or not math.isfinite(se):
        raise DataError(f"{method}: the estimate is not finite (estimate={est}, se={se}); check overlap and the covariates")
    diags, details = _diagnostics(passes, prow, beta, m, ph, names, estimand, o["stabilize"], clip=rows.clip)
    details["potential_outcomes"] = pd.DataFrame({"treatment": [1, 0], "mean": [mu1, mu0]})
    details["covariate_columns"] = list(names)
    z = z_crit(conf_level)
    stat = est / se if se > 0 else math.nan
    return EffectResult(
        method=method,
        estimand=ESTIMAND_WORDS[estimand].format(t=roles["treatment"], y=roles["outcome"]) + suffix,
        estimate=est,
        std_error=se,
        ci_low=est - z * se,
        ci_high=est + z * se,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="z",
        pvalue=z_pvalue(stat, "two-sided") if se > 0 else None,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=tuple(extra + cluster_diags + diags),
        details=details,
        label=f"ipw {estimand}",
        provenance=Provenance.current(random_state=o["random_state"]),
        effect=estimand,
        treatment=roles["treatment"],
        outcome=roles["outcome"],
    )


def _method(normalize: bool, se: str) -> str:
    kind = "normalised (Hajek)" if normalize else "Horvitz-Thompson"
    se_text = "influence-function SE" if se == "influence" else "robust sandwich SE, weights treated as known"
    return f"Inverse probability weighting, {kind}, logistic propensity, {se_text}, computed inside the engine"


# ---------------------------------------------------------------------------------------------- diagnostics
def _diagnostics(
    passes: Any,
    rows: IPWRows,
    beta: np.ndarray,
    m: dict[str, Any],
    ph: dict[str, Any],
    names: tuple[str, ...],
    estimand: str,
    stabilize: bool,
    clip: float | None,
) -> tuple[list[Diagnostic], dict[str, Any]]:
    n, n1 = int(m["n"]), int(m["n1"])
    n0 = n - n1
    diags = _overlap_diagnostics(m, n, n1, estimand)
    details: dict[str, Any] = {"overlap": _overlap_table(passes, rows, beta, m, n1, n0)}
    bins = len(HIST_EDGES) - 1
    details["propensity_histogram"] = pd.DataFrame(
        {
            "bin_low": HIST_EDGES[:-1],
            "bin_high": HIST_EDGES[1:],
            "treated": np.array([m[f"hist1_{i}"] for i in range(bins)]).round().astype(np.int64),
            "control": np.array([m[f"hist0_{i}"] for i in range(bins)]).round().astype(np.int64),
        }
    )
    if names:
        table = _balance_table(rows, m, ph, names, n1, n0)
        details["balance"] = table
        diags.append(balance_diagnostic(table, adjusted=True))
    if m["n_clipped"] and clip is not None:
        nc = int(m["n_clipped"])
        diags.append(
            Diagnostic(
                "clipping",
                "warn",
                float(nc),
                f"{nc} propensity score(s) were clipped into [{clip:g}, {1 - clip:g}] (clip={clip:g}); "
                "this bounds the weights at the price of some bias",
            )
        )
    details["weights"] = _weights_table(m, n, n1, n0, estimand, stabilize)
    return diags, details


def _overlap_diagnostics(m: dict[str, Any], n: int, n1: int, estimand: str) -> list[Diagnostic]:
    """The in-memory overlap and weight diagnostics, from the counts, extremes and sums of the main pass."""
    out = []
    k = int(m["low"] + m["high"]) if estimand == "ATE" else int(m["high"] if estimand == "ATT" else m["low"])
    emin, emax = min(m["emin1"], m["emin0"]), max(m["emax1"], m["emax0"])
    rng = f"propensities range from {emin:.3g} to {emax:.3g}"
    if k == 0:
        out.append(Diagnostic("overlap", "ok", 0.0, f"{rng}; no unit that matters for the {estimand} is within {OVERLAP_BOUND} of 0 or 1"))
    else:
        share = k / n
        out.append(
            Diagnostic(
                "overlap",
                "warn" if share < 0.05 else "fail",
                float(k),
                f"{rng}; {k} unit(s) ({100 * share:.1f}%) have propensity within {OVERLAP_BOUND} of 0 or 1, where the other group "
                "has almost no comparable units. Estimates lean on extrapolation and extreme weights: consider trim=0.05, "
                "the ATT/ATC, or restricting the population",
            )
        )
    for label, arm, size in (("treated", "1", n1), ("control", "0", n - n1)):
        if m[f"wmin{arm}"] == m[f"wmax{arm}"]:
            continue
        ess = m[f"sw{arm}"] ** 2 / m[f"sww{arm}"]
        share = float(m[f"wmax{arm}"] / m[f"sw{arm}"])
        status = "ok" if ess >= 0.1 * size and share <= 0.05 else "warn"
        msg = f"effective sample size {ess:.1f} of {size} {label} units; the largest weight carries {100 * share:.1f}% of the group's total"
        if status == "warn":
            msg += "; a few units dominate the estimate (consider trimming or clipping the propensity)"
        out.append(Diagnostic(f"weights ({label})", status, ess, msg))
    return out


def _overlap_table(passes: Any, rows: IPWRows, beta: np.ndarray, m: dict[str, Any], n1: int, n0: int) -> pd.DataFrame:
    from ..stats._scale_passes import DaskPasses

    if isinstance(passes, DaskPasses):
        bounds = {1: (m["emin1"], m["emax1"], n1), 0: (m["emin0"], m["emax0"], n0)}
        q = dask_quantiles(passes, rows, beta, _QUANTILES, bounds)
    else:
        q = sql_quantiles(passes, rows, beta, _QUANTILES)
    out = []
    for label, arm, size in (("treated", 1, n1), ("control", 0, n0)):
        sw, sww = m[f"sw{arm}"], m[f"sww{arm}"]
        out.append(
            {
                "group": label,
                "n": size,
                "propensity_min": m[f"emin{arm}"],
                "propensity_q01": q[arm][0],
                "propensity_median": q[arm][1],
                "propensity_q99": q[arm][2],
                "propensity_max": m[f"emax{arm}"],
                "weight_max": m[f"wmax{arm}"],
                "weight_sum": sw,
                "effective_sample_size": sw**2 / sww,
            }
        )
    return pd.DataFrame(out, columns=list(OVERLAP_COLUMNS))


def _balance_table(rows: IPWRows, m: dict[str, Any], ph: dict[str, Any], names: tuple[str, ...], n1: int, n0: int) -> pd.DataFrame:
    """The in-memory balance table: group means, pooled SD from two-pass variances, weighted means and variances."""
    k = len(names) + 1
    get = lambda key: np.array([m.get(f"{key}_{j}", ph.get(f"{key}_{j}")) for j in range(1, k)])  # noqa: E731
    mz1, mz0 = get("s1") / n1, get("s0") / n0
    v1, v0 = get("q1") / (n1 - 1.0), get("q0") / (n0 - 1.0)
    pooled = np.sqrt((v1 + v0) / 2.0)
    pooled = np.where(pooled > 0, pooled, 1.0)
    wm1, wm0 = get("sw1") / m["sw1"], get("sw0") / m["sw0"]
    wv1 = np.maximum(get("qw1") / m["sw1"] - (wm1 - mz1) ** 2, 0.0)
    wv0 = np.maximum(get("qw0") / m["sw0"] - (wm0 - mz0) ** 2, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        vr_before = np.where(v0 > 0, v1 / v0, np.nan)
        vr_after = np.where(wv0 > 0, wv1 / wv0, np.nan)
    s = rows.shift[1:]
    return pd.DataFrame(
        {
            "covariate": list(names),
            "mean_treated": mz1 + s,
            "mean_control": mz0 + s,
            "smd_before": (mz1 - mz0) / pooled,
            "smd_after": (wm1 - wm0) / pooled,
            "variance_ratio_before": vr_before,
            "variance_ratio_after": vr_after,
        },
        columns=list(BALANCE_COLUMNS),
    )


def _weights_table(m: dict[str, Any], n: int, n1: int, n0: int, estimand: str, stabilize: bool) -> pd.DataFrame:
    p1 = n1 / n
    if not stabilize:
        f1 = f0 = 1.0
    elif estimand == "ATE":
        f1, f0 = p1, 1 - p1
    elif estimand == "ATT":
        f1, f0 = 1.0, (1 - p1) / p1
    else:
        f1, f0 = p1 / (1 - p1), 1.0
    return pd.DataFrame(
        {
            "group": ["treated", "control"],
            "stabilized": [bool(stabilize)] * 2,
            "mean": [f1 * m["sw1"] / n1, f0 * m["sw0"] / n0],
            "min": [f1 * m["wmin1"], f0 * m["wmin0"]],
            "max": [f1 * m["wmax1"], f0 * m["wmax0"]],
        }
    )
