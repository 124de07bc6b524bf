"""Regression adjustment and AIPW on tables larger than memory: the in-memory numbers from sums over the rows.

When ``data`` is a :class:`~causalinfer.data.ParquetSource`, a :class:`~causalinfer.data.SQLTable`, a DuckDB
relation or a dask DataFrame, :func:`causalinfer.causal.regression_adjustment` and :func:`causalinfer.causal.aipw`
come here. The work is the in-memory estimators' (``causal/_core.py``), in passes that bring back k x k sums:

1. the covariate design of ``prepare`` (indicator columns from a ``DISTINCT`` pass, squares), and one pass of
   counts, missing values, the 0/1 check of the treatment and the cross-products of ``[1, Z]`` (the rank check);
2. the nuisance models from the stats at-scale machinery (:mod:`causalinfer.stats._scale`): least squares from
   the normal equations of the shifted design, the logistic propensity by its Newton (IRLS) passes. Per treatment
   arm, and per cross-fitting fold, these are weighted fits whose weights are derived 0/1 columns of a view
   (:mod:`._scale_aipw_data`), so each is a pass over the whole table;
3. one pass for the estimate (sums of the per-row scores written in :mod:`._scale_aipw_rows`), and one for the
   influence-function standard error ``sqrt(sum phi^2) / n`` (with ``cluster``: per-cluster sums of ``phi``
   grouped inside the engine, scaled by ``G / (G - 1)``).

Cross-fitting at scale assigns folds by a hash of an integer unit key (``fold_key``; :data:`FOLD_HASH`), which the
in-memory ``aipw`` computes identically, so both give the same folds and the same numbers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_conf_level, show
from ..exceptions import ArgumentError, ArgumentTypeError, ConvergenceError, DataError, RoleError, SourceError
from ..results import Diagnostic, Provenance
from ..stats._scale import _newton, _solve_normal, _unshift
from ..stats._scale_design import DesignColumn, Factor, ScaleDesign
from ._design import ESTIMAND_WORDS, check_estimand
from ._diagnostics import BALANCE_COLUMNS, balance_diagnostic
from ._effect import EffectResult
from ._scale_aipw_data import FOLD, T1, check_fold_key_values, covariate_columns, fold_of_keys, open_passes, refuse_missing, train
from ._scale_aipw_rows import Expr, col, const, expit, fn, linear, row_sums

__all__ = ["aipw_at_scale", "key_folds", "regression_adjustment_at_scale"]

_MAX_ETA = 30.0  # as the in-memory logistic fit: a converged |linear predictor| beyond this is separation
_OVERLAP_BOUND = 0.01
_MIN_CLUSTERS = 20


@dataclasses.dataclass
class _Question:
    outcome: str
    treatment: str
    covariates: list[str]
    categorical: list[str]
    squared: list[str]
    estimand: str
    cluster: str | None
    conf_level: float
    fold_key: str | None = None
    n_folds: int = 1


# ---------------------------------------------------------------------------------------------- checks
def _names(value: Any, arg: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ArgumentTypeError(f"`{arg}` must be a column name or a list of column names; got {show(value)}")


def _question(data: Any, kw: dict[str, Any]) -> _Question:
    for arg in ("outcome", "treatment"):
        if not isinstance(kw[arg], str):
            raise RoleError(f"with a Parquet, SQL or dask `data`, give `{arg}` as a column name; got {show(kw[arg])}")
    if kw["covariates"] is None:
        raise RoleError("with a Parquet, SQL or dask `data`, give `covariates` (the adjustment set) as a list of column names")
    if kw.get("cluster") is not None and not isinstance(kw["cluster"], str):
        raise ArgumentTypeError(f"`cluster` must be a column name; got {show(kw['cluster'])}")
    for arg, what in (("propensity_model", "logistic propensity"), ("outcome_model", "linear outcome model")):
        if kw.get(arg) is not None:
            raise ArgumentError(
                f"`{arg}` {type(kw[arg]).__name__} cannot be fitted from sums over a Parquet, SQL or dask `data`: leave it "
                f"None for the built-in {what}, or analyse a sample loaded into memory with the scikit-learn model"
            )
    if kw.get("trim") is not None:
        raise ArgumentError("`trim` is not available on a Parquet, SQL or dask `data` yet; use `clip`, or drop those rows first")
    q = _Question(
        outcome=kw["outcome"],
        treatment=kw["treatment"],
        covariates=_names(kw["covariates"], "covariates"),
        categorical=_names(kw.get("categorical"), "categorical"),
        squared=_names(kw.get("squared"), "squared"),
        estimand=check_estimand(kw["estimand"]),
        cluster=kw.get("cluster"),
        conf_level=check_conf_level(kw["conf_level"]),
    )
    used = [q.outcome, q.treatment, *q.covariates] + ([q.cluster] if q.cluster else [])
    if len(set(used)) != len(used):
        raise RoleError(f"the roles name one column twice ({used}); outcome, treatment, covariates and cluster must differ")
    return q


def _check_schema(passes: Any, q: _Question) -> None:
    from .._validation import suggest_column

    schema = passes.schema()
    for arg, name in (("outcome", q.outcome), ("cluster", q.cluster)):
        if name is not None and name not in schema:
            raise RoleError(f"`{arg}` names column {name!r}, which is not in {passes.label}{suggest_column(name, list(schema))}")
    if not schema[q.outcome]:
        raise DataError(f"outcome {q.outcome!r} of {passes.label} must be numeric")
    if not schema[q.treatment]:
        raise RoleError(
            f"treatment {q.treatment!r} of {passes.label} is not numeric; these estimators need a binary treatment coded 0/1 "
            "(or False/True). Recode it in the table (or a view)"
        )


def _used(q: _Question) -> tuple[str, ...]:
    cols = [q.outcome, q.treatment, *q.covariates] + [c for c in (q.cluster, q.fold_key) if c is not None]
    return tuple(dict.fromkeys(cols))


def _shifted(design: ScaleDesign, shift: np.ndarray, zero: list[int]) -> np.ndarray:
    out = np.array(shift, dtype=float)
    out[zero] = 0.0
    return out


def _covariate_rank(m: dict[str, Any], names: list[str]) -> None:
    """``check_covariate_rank`` of the in-memory path, from the cross-products of ``[1, Z]`` (shifted)."""
    n, k = m["n"], len(names) + 1
    if k == 1:
        return
    s, C = m["usum"][1:k], m["ucross"][1:k, 1:k]
    C = C - np.outer(s, s) / n
    var = np.diag(C) / n
    mean = s / n + m["shift"][1:k]
    const_cols = [nm for nm, v, mu in zip(names, var, mean, strict=True) if not v > (1e-12 * max(abs(mu), 1e-150)) ** 2]
    if const_cols:
        raise DataError(f"covariates: column(s) {const_cols} are constant in the rows used; drop them from the covariates")
    sd = np.sqrt(np.diag(C))
    R = C / np.outer(sd, sd)
    ev, vec = np.linalg.eigh(R)
    if ev[0] <= 1e-12 * max(ev[-1], float(n)):
        rank = 1 + int(np.sum(ev > 1e-12 * max(ev[-1], float(n))))
        involved = [names[j] for j in np.flatnonzero(np.abs(vec[:, 0]) > 1e-6)]
        raise DataError(
            f"covariates: the design is rank deficient ({rank} independent columns out of {k}); {involved} are linearly "
            "dependent (one of them can be written as a combination of the others). Remove redundant covariates"
        )


def _first_pass(passes: Any, q: _Question) -> tuple[list[DesignColumn], list[str], ScaleDesign, np.ndarray, dict[str, Any]]:
    """The covariate design, the shifts, and the pass of counts, missing values and treatment checks."""
    _check_schema(passes, q)
    zcols, names, _ = covariate_columns(passes, q.covariates, q.categorical, q.squared)
    columns = (DesignColumn("(intercept)", ()), *zcols)
    base = ScaleDesign(columns, q.outcome, True, None, None, _used(q))
    k = len(columns)
    shift = _shifted(base, passes.shifts(base), [0])  # shifts of [1, Z, y]
    design = dataclasses.replace(base, response=q.treatment)
    checks = {"not01": ("{y} <> 0 AND {y} <> 1", lambda y: (y != 0) & (y != 1))}
    m = passes.moments(design, _shifted(design, shift, [0, k]), None, checks)
    n = m["n"]
    if n == 0:
        raise DataError(f"{passes.label} has no rows")
    refuse_missing(m["nulls"], n, {"fold_key": q.fold_key} if q.fold_key else {}, passes.label)
    if m["checks"]["not01"]:
        raise RoleError(
            f"treatment {q.treatment!r} has {m['checks']['not01']} row(s) with values other than 0 and 1; these estimators "
            "need a binary treatment coded 0/1 (or False/True). Recode it in the table (or a view), or compare two levels on "
            "a subset of rows"
        )
    n1 = round(float(m["usum"][k]))
    if n1 < 2 or n - n1 < 2:
        raise RoleError(f"treatment {q.treatment!r} has {n1} treated and {n - n1} untreated rows; each group needs at least 2")
    m["shift"], m["n1"] = shift, n1
    _covariate_rank(m, names)
    return list(zcols), names, base, shift, m


def _check_outcome_varies(m: dict[str, Any], k: int, outcome: str, shift_y: float) -> None:
    n, s, ss = m["n"], m["usum"][k], m["ucross"][k, k]
    var = (ss - s * s / n) / n
    if not var > (1e-12 * max(abs(s / n + shift_y), 1e-150)) ** 2:
        raise DataError(f"outcome {outcome!r} is constant ({s / n + shift_y:g}); there is no effect to estimate")


def _target(a: Expr, estimand: str) -> Expr:
    return const(1.0) if estimand == "ATE" else (a if estimand == "ATT" else 1.0 - a)


# ---------------------------------------------------------------------------------------------- results
def _standard_error(
    passes: Any,
    design: ScaleDesign,
    shift: np.ndarray,
    defs: list[tuple[str, Expr]],
    phi: Expr,
    q: _Question,
    n: int,
    extra: dict[str, tuple[str, Expr]],
) -> tuple[float, list[Diagnostic], dict[str, Any]]:
    """``sqrt(sum phi^2) / n``, or with clusters ``sqrt(G/(G-1) sum_g (sum phi)^2) / n``, the cluster diagnostic, and
    the sums ``extra`` from the same pass."""
    if q.cluster is None:
        r = row_sums(passes, design, shift, defs, {"ss": ("SUM", phi * phi), **extra})
        return math.sqrt(r["ss"]) / n, [], r
    r = row_sums(passes, design, shift, defs, {"rows": ("SUM", const(1.0)), **extra}, cluster=q.cluster, score=phi)
    g = r["n_clusters"]
    if g < 2:
        raise DataError(
            f"cluster {q.cluster!r} has a single cluster; cluster-robust standard errors need at least 2 (better 20+): "
            "pass a cluster column with more clusters, or cluster=None"
        )
    status = "ok" if g >= _MIN_CLUSTERS else "warn"
    msg = f"{g} clusters of {q.cluster!r} (sizes {r['min_size']} to {r['max_size']})"
    if status == "warn":
        msg += f"; with fewer than {_MIN_CLUSTERS} clusters cluster-robust standard errors are too small and CIs under-cover"
    return math.sqrt(g / (g - 1) * r["score_ss"]) / n, [Diagnostic("clusters", status, float(g), msg)], r


def _result(
    q: _Question,
    *,
    balance: Any,
    method: str,
    label: str,
    estimate: float,
    se: float,
    n: int,
    diags: list[Diagnostic],
    mu: tuple[float, float] | None,
    names: list[str],
    random_state: Any,
) -> EffectResult:
    from ..stats._normal import z_crit, z_pvalue

    if not math.isfinite(estimate) or not math.isfinite(se):
        raise DataError(f"{method}: the estimate is not finite (estimate={estimate}, se={se}); check overlap and the covariates")
    z = z_crit(q.conf_level)
    details: dict[str, Any] = {}
    if mu is not None:
        import pandas as pd

        details["potential_outcomes"] = pd.DataFrame({"treatment": [1, 0], "mean": [mu[0], mu[1]]})
    if balance is not None:
        details["balance"] = balance
    details["covariate_columns"] = list(names)
    stat = estimate / se if se > 0 else math.nan
    note = Diagnostic(
        "computed inside the engine",
        "ok",
        None,
        "refutations and the propensity histogram need the rows in memory and are not available for a Parquet, SQL or dask `data`",
    )
    return EffectResult(
        method=method,
        estimand=ESTIMAND_WORDS[q.estimand].format(t=q.treatment, y=q.outcome),
        estimate=estimate,
        std_error=se,
        ci_low=estimate - z * se,
        ci_high=estimate + z * se,
        conf_level=q.conf_level,
        statistic=stat,
        statistic_name="z",
        pvalue=z_pvalue(stat, "two-sided") if se > 0 else None,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=(*diags, note),
        details=details,
        label=label,
        provenance=Provenance.current(random_state=random_state),
        effect=q.estimand,
        treatment=q.treatment,
        outcome=q.outcome,
    )


def _run(data: Any, q: _Question, body: Any) -> EffectResult:
    """Open the passes (with the schema check of Parquet files) and turn a failed scan into one clear error."""
    from ..data._engine import ParquetSource, check_parquet_schema

    if isinstance(data, ParquetSource):
        check_parquet_schema(data, list(_used(q)))
    with open_passes(data, q.treatment, q.fold_key, q.n_folds) as passes:
        try:
            return body(passes)  # type: ignore[no-any-return]
        except SourceError as exc:
            raise SourceError(
                f"`data`: {exc}. The scan stopped part-way, so no result is returned; rerun on a table that is not dropped "
                "or rewritten during the analysis (for example a snapshot or a copy)"
            ) from exc


# ---------------------------------------------------------------------------------------------- regression adjustment
def _interaction_indices(names: list[str], interactions: Any) -> list[int]:
    if interactions is True or interactions == "all":
        return list(range(len(names)))
    if interactions is False or interactions is None or interactions == "none":
        return []
    if isinstance(interactions, str):
        interactions = [interactions]
    if not isinstance(interactions, Sequence):
        raise ArgumentTypeError(f"`interactions` must be True, False or a list of covariate columns; got {show(interactions)}")
    out = []
    for name in interactions:
        if name not in names:
            raise ArgumentError(f"`interactions` names {name!r}, which is not a covariate column; the columns are {names}")
        out.append(names.index(name))
    return out


def regression_adjustment_at_scale(data: Any, *, interactions: Any = True, random_state: Any = None, **kw: Any) -> EffectResult:
    """:func:`causalinfer.causal.regression_adjustment` with the linear outcome model, computed inside the engine."""
    q = _question(data, kw)
    return _run(data, q, lambda passes: _regression(passes, q, interactions, random_state))


def _regression(passes: Any, q: _Question, interactions: Any, random_state: Any) -> EffectResult:
    zcols, names, base, base_shift, m0 = _first_pass(passes, q)
    inter = _interaction_indices(names, interactions)
    n, n1, p = m0["n"], m0["n1"], len(zcols)
    for arm, rows in (("treated", n1), ("control", n - n1)):
        if rows < 1 + len(inter):
            raise DataError(
                f"outcome model: {rows} {arm} row(s) cannot fit the {1 + len(inter)} parameters specific to that group (intercept "
                f"and {len(inter)} treatment interaction(s)); use fewer `interactions` or more data"
            )
    a_col = DesignColumn(q.treatment, (Factor(T1),))
    inter_cols = [DesignColumn(f"{q.treatment}:{names[j]}", (Factor(T1), *zcols[j].factors)) for j in inter]
    X = ScaleDesign((DesignColumn("(intercept)", ()), a_col, *zcols, *inter_cols), q.outcome, True, None, None, _used(q))
    k = len(X.columns)
    # the covariates shifted as in the propensity design, their products with the treatment by the product of means
    inter_shift = [n1 / n * base_shift[1 + j] for j in inter]
    shift = np.concatenate([[0.0, 0.0], base_shift[1 : 1 + p], inter_shift, base_shift[-1:]])
    m = passes.moments(X, shift, None, {})
    _check_outcome_varies(m, k, q.outcome, shift[k])
    try:
        b, inv = _solve_normal(m["wcross"][:k, :k], m["wcross"][:k, k], X.names)
    except DataError as exc:
        raise DataError(f"outcome model: {exc}") from None
    coef, _ = _unshift(X, shift, b, inv)
    z = [col(f"z{j}") for j in range(k + 1)]
    c = _target(z[1], q.estimand)
    zcov = list(range(2, 2 + p))
    m0_expr = (float(coef[0]) + float(coef[zcov] @ shift[zcov])) + linear(coef[zcov], zcov)
    d_cols = [2 + j for j in inter]
    d_coef = coef[2 + p :]
    diff = (float(coef[1]) + float(d_coef @ shift[d_cols])) + linear(d_coef, d_cols)
    defs = [("c__", c), ("m0__", m0_expr), ("d__", diff)]
    cm, dm, m0m = col("c__"), col("d__"), col("m0__")
    aggs: dict[str, tuple[str, Expr]] = {"sc": ("SUM", cm), "s0": ("SUM", cm * m0m), "s1": ("SUM", cm * (m0m + dm))}
    aggs.update({f"cz{t}": ("SUM", cm * z[j]) for t, j in enumerate(d_cols)})
    diags, beta = [], _diagnostic_propensity(passes, q, base, base_shift, m0)
    if beta is not None:  # overlap and weights from the logistic propensity, as the in-memory diagnostics
        e = expit(linear(beta, [0, *zcov]))
        defs += [("e__", e)]
        aggs.update(_overlap_aggs(z[1], col("e__"), _weights(z[1], col("e__"), q.estimand), q.estimand))
        aggs["sep0"] = ("MAX", fn("ABS", linear(beta, [0, *zcov])))
    bcols = list(range(2, 2 + p))
    w_expr = _weights(z[1], col("e__"), q.estimand) if beta is not None else None
    aggs.update(_balance_sums(z[1], w_expr, bcols))
    r = row_sums(passes, X, shift, defs, aggs)
    weighted = beta is not None
    if beta is not None:
        try:
            _check_separation(r, [(-1,)], names)
            diags = _overlap(r, n, n1, q.estimand)
        except DataError as exc:
            diags, weighted, w_expr = [Diagnostic("overlap", "fail", None, str(exc))], False, None
    sc = r["sc"]
    mu1, mu0 = r["s1"] / sc, r["s0"] / sc
    est = mu1 - mu0
    G = np.zeros(k)
    G[1] = sc / n
    for t, j in enumerate(d_cols):
        G[2 + p + t] = (r[f"cz{t}"] + shift[j] * sc) / n
    u = n * (inv @ G)
    resid = z[k] - linear(b, list(range(k)))
    phi = (n / sc) * (cm * (dm - est) + resid * linear(u, list(range(k))))
    se, cdiags, r2 = _standard_error(passes, X, shift, defs, phi, q, n, _balance_squares(r, z[1], w_expr, bcols))
    table = _balance_table(r, r2, names, shift[bcols], weighted)
    diags = cdiags + diags + ([balance_diagnostic(table, adjusted=weighted)] if names else [])
    which = "all covariates" if len(inter) == len(names) else ("no covariates" if not inter else ", ".join(names[j] for j in inter))
    method = (
        f"Regression adjustment (g-formula), linear outcome model with treatment interactions on {which}, influence-function SE, "
        "computed inside the engine"
    )
    return _result(
        q,
        balance=table if names else None,
        method=method,
        label=f"regression {q.estimand}",
        estimate=est,
        se=se,
        n=n,
        diags=diags,
        mu=(mu1, mu0),
        names=names,
        random_state=random_state,
    )


# ---------------------------------------------------------------------------------------------- AIPW
def key_folds(frame: Any, fold_key: str, n_folds: int, trim: Any) -> np.ndarray:
    """Folds of the in-memory rows from the hash of their integer key (the numbers the engines compute)."""
    if n_folds < 2:
        raise ArgumentError(f"`fold_key` assigns cross-fitting folds, so `n_folds` must be at least 2 (or None for 5); got {n_folds}")
    if trim is not None:
        raise ArgumentError("`fold_key` cannot be combined with `trim` yet; drop the rows to trim first, then cross-fit by key")
    if fold_key not in frame.columns:
        from .._validation import suggest_column

        raise RoleError(f"`fold_key` names column {fold_key!r}, which is not in `data`{suggest_column(fold_key, list(frame.columns))}")
    return fold_of_keys(check_fold_key_values(frame[fold_key], fold_key), n_folds)


def aipw_at_scale(
    data: Any, *, n_folds: int | None = None, fold_key: str | None = None, clip: float | None = None, random_state: Any = None, **kw: Any
) -> EffectResult:
    """:func:`causalinfer.causal.aipw` with the logistic propensity and linear outcome models, inside the engine."""
    q = _question(data, kw)
    k = 5 if (n_folds is None and fold_key is not None) else (n_folds or 1)
    if fold_key is None and k > 1:
        raise ArgumentError(
            f"cross-fitting (n_folds={k}) on a Parquet, SQL or dask `data` assigns folds by a hash of a unit key: pass "
            "fold_key='<integer id column>' (the in-memory aipw given the same fold_key uses the same folds), or n_folds=1"
        )
    if fold_key is not None and k < 2:
        raise ArgumentError(f"`fold_key` assigns cross-fitting folds, so `n_folds` must be at least 2 (or None for 5); got {k}")
    if fold_key is not None and not isinstance(fold_key, str):
        raise ArgumentTypeError(f"`fold_key` must be a column name; got {show(fold_key)}")
    q.fold_key, q.n_folds = fold_key, k
    return _run(data, q, lambda passes: _aipw(passes, q, clip, random_state))


def _diagnostic_propensity(passes: Any, q: _Question, base: ScaleDesign, shift: np.ndarray, m: dict[str, Any]) -> np.ndarray | None:
    """The logistic propensity behind the overlap diagnostics of an outcome-model estimate (None when it fails)."""
    k = len(base.columns)
    pdesign = dataclasses.replace(base, response=q.treatment)
    try:
        return _propensity(passes, pdesign, _shifted(pdesign, shift, [0, k]), None, m)
    except (DataError, ConvergenceError):
        return None


def _arm_fit(passes: Any, design: ScaleDesign, shift: np.ndarray, weights: str, arm: str, where: str) -> np.ndarray:
    m = passes.moments(design, shift, weights, {})
    return _arm_solve(m["wcross"], m["sw"], design.names, arm, where)


def _arm_solve(cross: np.ndarray, sw: float, names: list[str], arm: str, where: str) -> np.ndarray:
    """Least squares of one treatment arm from its cross-products (the in-memory ``group_fit`` and its refusal)."""
    k = len(names)
    rows = round(float(sw))
    if rows < k:
        raise DataError(
            f"{where}: {rows} {arm} row(s) cannot fit the {k} parameters of its linear model (intercept and {k - 1} covariate "
            f"column(s)); it needs at least {k} rows. Use fewer covariates or more data"
        )
    try:
        coef, _ = _solve_normal(cross[:k, :k], cross[:k, k], names)
    except DataError as exc:
        raise DataError(f"{where} ({arm} rows): {exc}") from None
    return coef


def _propensity(
    passes: Any, design: ScaleDesign, shift: np.ndarray, weights: str | None, m: dict[str, Any], start: np.ndarray | None = None
) -> np.ndarray:
    k = len(design.columns)
    treated, rows = m["wsum"][k], m["sw"]
    if not 0 < treated < rows:
        raise DataError(
            f"the propensity model's training rows are all {'treated' if treated else 'untreated'}; use fewer `n_folds` so every "
            "training fold holds both groups"
        )
    beta, iterations, converged = _newton("logit", passes, design, shift, m, weights, start)
    if not converged:
        raise ConvergenceError(f"the logistic propensity model did not converge in {iterations} Newton steps; simplify the covariates")
    return beta


def _nuisance_fits(
    passes: Any, q: _Question, base: ScaleDesign, shift: np.ndarray, m: dict[str, Any]
) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """(fold, propensity, treated and control outcome coefficients) in the shifted columns, per fold (-1: no folds)."""
    k = len(base.columns)
    pdesign = dataclasses.replace(base, response=q.treatment)
    pshift = _shifted(pdesign, shift, [0, k])
    out = []
    if q.fold_key is None:
        beta = _propensity(passes, pdesign, pshift, None, m)
        arms = passes.moments(base, shift, T1, {})  # weighted by the treatment: the treated sums; unweighted minus those
        g1 = _arm_solve(arms["wcross"], arms["sw"], base.names, "treated", "outcome model")
        g0 = _arm_solve(arms["ucross"] - arms["wcross"], arms["n"] - arms["sw"], base.names, "control", "outcome model")
        return [(-1, beta, g1, g0)]
    counts = _fold_counts(passes, q)
    start = None
    for f in range(q.n_folds):
        rows, treated, held_out = counts[f]
        if held_out == 0:
            continue  # no row hashes to this fold: nothing to predict (as in memory)
        mf = {"wsum": np.append(np.zeros(k), treated), "sw": rows}
        beta = _propensity(passes, pdesign, pshift, train(f), mf, start)
        start = beta  # the next fold's fit starts here (same maximum, fewer Newton passes)
        where = "outcome model in a cross-fitting training fold"
        g1 = _arm_fit(passes, base, shift, train(f, "1"), "treated", where)
        g0 = _arm_fit(passes, base, shift, train(f, "0"), "control", where)
        out.append((f, beta, g1, g0))
    return out


def _fold_counts(passes: Any, q: _Question) -> list[tuple[float, float, int]]:
    """(training rows, treated training rows, held-out rows) of every fold, in one pass."""
    cols = (DesignColumn("fold", (Factor(FOLD),)), DesignColumn("a", (Factor(T1),)))
    design = ScaleDesign(cols, q.outcome, False, None, None, ())
    fold, a = col("z0"), col("z1")
    aggs: dict[str, tuple[str, Expr]] = {}
    for f in range(q.n_folds):
        held = fn("=", fold, float(f))
        aggs.update({f"n{f}": ("SUM", 1.0 - held), f"t{f}": ("SUM", (1.0 - held) * a), f"h{f}": ("SUM", held)})
    r = row_sums(passes, design, np.zeros(3), [], aggs)
    return [(r[f"n{f}"], r[f"t{f}"], round(r[f"h{f}"])) for f in range(q.n_folds)]


def _pick(fits: list[Any], which: int, fold: Expr, k: int) -> Expr:
    """The linear predictor of nuisance ``which`` (1 propensity, 2 treated, 3 control), each row by its own fold."""
    cols = list(range(k))
    if fits[0][0] < 0:
        return linear(fits[0][which], cols)
    out: Expr | None = None
    for fit in fits:
        term = fn("=", fold, float(fit[0])) * linear(fit[which], cols)
        out = term if out is None else out + term
    assert out is not None
    return out


def _aipw(passes: Any, q: _Question, clip: float | None, random_state: Any) -> EffectResult:
    zcols, names, base, shift, m = _first_pass(passes, q)
    k = len(zcols) + 1
    fits = _nuisance_fits(passes, q, base, shift, m)
    extra = [DesignColumn(q.treatment, (Factor(T1),))] + ([DesignColumn("fold", (Factor(FOLD),))] if q.fold_key else [])
    R = dataclasses.replace(base, columns=(*base.columns, *extra))
    rshift = np.concatenate([shift[:k], np.zeros(len(extra)), shift[k:]])
    n = m["n"]
    a, yz = col(f"z{k}"), col("yz__")
    fold = col(f"z{k + 1}") if q.fold_key else const(0.0)
    defs = [
        ("yz__", col(f"z{k + len(extra)}")),
        ("eta__", _pick(fits, 1, fold, k)),
        ("m1__", _pick(fits, 2, fold, k)),
        ("m0__", _pick(fits, 3, fold, k)),
    ]
    raw = expit(col("eta__"))
    e = raw if clip is None else fn("LEAST", fn("GREATEST", raw, clip), 1.0 - clip)
    defs += [("er__", raw), ("e__", e)]
    e, m1, m0 = col("e__"), col("m1__"), col("m0__")
    r1, r0 = yz - m1, yz - m0  # y - m1 and y - m0 (the outcome's shift cancels)
    if q.estimand == "ATE":
        psi = m1 - m0 + a * r1 / e - (1.0 - a) * r0 / (1.0 - e)
    elif q.estimand == "ATT":
        psi = a * r0 - (1.0 - a) * e / (1.0 - e) * r0
    else:
        psi = (1.0 - a) * (0.0 - r1) + a * (1.0 - e) / e * r1
    w = _weights(a, e, q.estimand)
    c = _target(a, q.estimand)
    defs += [("psi__", psi), ("c__", c), ("w__ci", w)]
    aggs = _aipw_aggs(fits, fold, k, clip, q.estimand, shift[-1])
    bcols = list(range(1, k))
    aggs.update(_balance_sums(a, col("w__ci"), bcols))
    r = row_sums(passes, R, rshift, defs, aggs)
    _check_separation(r, fits, names)
    est = r["psi"] / r["c"]
    phi = (col("psi__") - col("c__") * est) / (r["c"] / n)
    se, cdiags, r2 = _standard_error(passes, R, rshift, defs, phi, q, n, _balance_squares(r, a, col("w__ci"), bcols))
    mu = (r["mu1"] / n, r["mu0"] / n) if q.estimand == "ATE" else None
    table = _balance_table(r, r2, names, rshift[bcols], True)
    diags = [*cdiags, *_overlap(r, n, m["n1"], q.estimand), *([balance_diagnostic(table, adjusted=True)] if names else [])]
    if clip is not None and r["clipped"]:
        msg = (
            f"{int(r['clipped'])} propensity score(s) were clipped into [{clip:g}, {1 - clip:g}] (clip={clip:g}); this bounds the "
            "weights at the price of some bias"
        )
        diags.append(Diagnostic("clipping", "warn", float(r["clipped"]), msg))
    folds = f"{q.n_folds}-fold cross-fitting by a hash of {q.fold_key!r}" if q.fold_key else "no cross-fitting"
    method = (
        f"Augmented IPW (doubly robust), logistic propensity, linear outcome models, {folds}, influence-function SE, computed inside "
        "the engine"
    )
    return _result(
        q,
        balance=table if names else None,
        method=method,
        label=f"aipw {q.estimand}",
        estimate=est,
        se=se,
        n=n,
        diags=diags,
        mu=mu,
        names=names,
        random_state=random_state,
    )


def _aipw_aggs(fits: list[Any], fold: Expr, k: int, clip: float | None, estimand: str, shift_y: float) -> dict[str, tuple[str, Expr]]:
    a = col(f"z{k}")
    e, er, w = col("e__"), col("er__"), col("w__ci")
    aggs: dict[str, tuple[str, Expr]] = {"psi": ("SUM", col("psi__")), "c": ("SUM", col("c__"))}
    if estimand == "ATE":
        # m1 + a (y - m1) / e, with the outcome's shift added back to the fitted means
        yz, m1, m0 = col("yz__"), col("m1__"), col("m0__")
        aggs["mu1"] = ("SUM", m1 + shift_y + a * (yz - m1) / e)
        aggs["mu0"] = ("SUM", m0 + shift_y + (1.0 - a) * (yz - m0) / (1.0 - e))
    if clip is not None:
        aggs["clipped"] = ("SUM", fn("<", er, clip) + fn("<", 1.0 - clip, er))
    aggs.update(_overlap_aggs(a, e, w, estimand))
    train_rows = [(f, (1.0 - fn("=", fold, float(f))) if f >= 0 else const(1.0)) for f, *_ in fits]
    for f, tr in train_rows:
        eta = linear(next(fit[1] for fit in fits if fit[0] == f), list(range(k)))
        aggs[f"sep{f + 1}"] = ("MAX", tr * fn("ABS", eta))
    return aggs


def _overlap_aggs(a: Expr, e: Expr, w: Expr, estimand: str) -> dict[str, tuple[str, Expr]]:
    """Sums, minima and maxima for the overlap and weight diagnostics of the propensity ``e`` and weights ``w``."""
    low, high = fn("<", e, _OVERLAP_BOUND), fn("<", 1.0 - _OVERLAP_BOUND, e)
    aggs: dict[str, tuple[str, Expr]] = {}
    aggs["relevant"] = ("SUM", (low + high) if estimand == "ATE" else (high if estimand == "ATT" else low))
    aggs["emin"], aggs["emax"] = ("MIN", e), ("MAX", e)
    for arm, ind in (("1", a), ("0", 1.0 - a)):
        aggs[f"sw{arm}"], aggs[f"sww{arm}"] = ("SUM", ind * w), ("SUM", ind * w * w)
        aggs[f"wmax{arm}"] = ("MAX", ind * w - (1.0 - ind) * 1e300)
        aggs[f"wmin{arm}"] = ("MIN", ind * w + (1.0 - ind) * 1e300)
    return aggs


def _weights(a: Expr, e: Expr, estimand: str) -> Expr:
    """The balancing weights of ``weights_and_slope``."""
    if estimand == "ATE":
        return a / e + (1.0 - a) / (1.0 - e)
    if estimand == "ATT":
        return a + (1.0 - a) * e / (1.0 - e)
    return a * (1.0 - e) / e + (1.0 - a)


def _balance_sums(a: Expr, w: Expr | None, cols: list[int]) -> dict[str, tuple[str, Expr]]:
    """Group sizes and sums of each covariate column by arm, unweighted and (with ``w``) weighted."""
    aggs: dict[str, tuple[str, Expr]] = {"bn1": ("SUM", a), "bn0": ("SUM", 1.0 - a)}
    if w is not None:
        aggs.update(bsw1=("SUM", a * w), bsw0=("SUM", (1.0 - a) * w))
    for t, j in enumerate(cols):
        z = col(f"z{j}")
        aggs.update({f"b1_{t}": ("SUM", a * z), f"b0_{t}": ("SUM", (1.0 - a) * z)})
        if w is not None:
            aggs.update({f"bw1_{t}": ("SUM", a * w * z), f"bw0_{t}": ("SUM", (1.0 - a) * w * z)})
    return aggs


def _balance_squares(r: dict[str, Any], a: Expr, w: Expr | None, cols: list[int]) -> dict[str, tuple[str, Expr]]:
    """Squares about each arm's unweighted mean, unweighted and weighted (the two-pass variance of ``balance_table``)."""
    aggs: dict[str, tuple[str, Expr]] = {}
    for t, j in enumerate(cols):
        z = col(f"z{j}")
        d1, d0 = z - r[f"b1_{t}"] / r["bn1"], z - r[f"b0_{t}"] / r["bn0"]
        aggs.update({f"q1_{t}": ("SUM", a * d1 * d1), f"q0_{t}": ("SUM", (1.0 - a) * d0 * d0)})
        if w is not None:
            aggs.update({f"qw1_{t}": ("SUM", a * w * d1 * d1), f"qw0_{t}": ("SUM", (1.0 - a) * w * d0 * d0)})
    return aggs


def _balance_table(r: dict[str, Any], r2: dict[str, Any], names: list[str], shift: np.ndarray, weighted: bool) -> Any:
    """``balance_table`` of the in-memory estimators from the sums of the two passes."""
    import pandas as pd

    p = len(names)
    n1, n0 = r["bn1"], r["bn0"]
    m1 = np.array([r[f"b1_{t}"] / n1 for t in range(p)])
    m0 = np.array([r[f"b0_{t}"] / n0 for t in range(p)])
    v1 = np.array([r2[f"q1_{t}"] for t in range(p)]) / (n1 - 1.0)
    v0 = np.array([r2[f"q0_{t}"] for t in range(p)]) / (n0 - 1.0)
    pooled = np.sqrt((v1 + v0) / 2.0)
    pooled = np.where(pooled > 0, pooled, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        vr_before = np.where(v0 > 0, v1 / v0, np.nan)
    smd_after, vr_after = np.full(p, np.nan), np.full(p, np.nan)
    if weighted:
        wm1 = np.array([r[f"bw1_{t}"] for t in range(p)]) / r["bsw1"]
        wm0 = np.array([r[f"bw0_{t}"] for t in range(p)]) / r["bsw0"]
        wv1 = np.maximum(np.array([r2[f"qw1_{t}"] for t in range(p)]) / r["bsw1"] - (wm1 - m1) ** 2, 0.0)
        wv0 = np.maximum(np.array([r2[f"qw0_{t}"] for t in range(p)]) / r["bsw0"] - (wm0 - m0) ** 2, 0.0)
        smd_after = (wm1 - wm0) / pooled
        with np.errstate(divide="ignore", invalid="ignore"):
            vr_after = np.where(wv0 > 0, wv1 / wv0, np.nan)
    return pd.DataFrame(
        {
            "covariate": list(names),
            "mean_treated": m1 + shift,
            "mean_control": m0 + shift,
            "smd_before": (m1 - m0) / pooled,
            "smd_after": smd_after,
            "variance_ratio_before": vr_before,
            "variance_ratio_after": vr_after,
        },
        columns=list(BALANCE_COLUMNS),
    )


def _check_separation(r: dict[str, Any], fits: list[Any], names: list[str]) -> None:
    if any(r[f"sep{fit[0] + 1}"] > _MAX_ETA for fit in fits):
        cols = f" (covariate columns: {', '.join(names)})" if names else ""
        raise DataError(
            "perfect separation in the propensity model: some units are predicted to be treated (or untreated) with "
            f"probability 0 or 1, so there is no overlap between the groups{cols}. Drop or coarsen the covariate that "
            "predicts treatment perfectly, or restrict the data to the region where both groups occur"
        )


def _overlap(r: dict[str, Any], n: int, n1: int, estimand: str) -> list[Diagnostic]:
    """The in-memory overlap and weight diagnostics (``overlap_diagnostics``) from sums, minima and maxima."""
    out = []
    rng = f"propensities range from {r['emin']:.3g} to {r['emax']:.3g}"
    k = int(r["relevant"])
    if k == 0:
        out.append(Diagnostic("overlap", "ok", 0.0, f"{rng}; no unit that matters for the {estimand} is within {_OVERLAP_BOUND} of 0 or 1"))
    else:
        share = k / n
        msg = (
            f"{rng}; {k} unit(s) ({100 * share:.1f}%) have propensity within {_OVERLAP_BOUND} of 0 or 1, where the other group "
            "has almost no comparable units. Estimates lean on extrapolation and extreme weights: consider trim=0.05, "
            "the ATT/ATC, or restricting the population"
        )
        out.append(Diagnostic("overlap", "warn" if share < 0.05 else "fail", float(k), msg))
    for label, arm, size in (("treated", "1", n1), ("control", "0", n - n1)):
        if r[f"wmin{arm}"] == r[f"wmax{arm}"]:
            continue
        ess = r[f"sw{arm}"] ** 2 / r[f"sww{arm}"]
        share = r[f"wmax{arm}"] / r[f"sw{arm}"]
        status = "ok" if ess >= 0.1 * size and share <= 0.05 else "warn"
        msg = f"effective sample size {ess:.1f} of {size} {label} units; the largest weight carries {100 * share:.1f}% of the group's total"
        if status == "warn":
            msg += "; a few units dominate the estimate (consider trimming or clipping the propensity)"
        out.append(Diagnostic(f"weights ({label})", status, ess, msg))
    return out
