"""Repeated-measures designs: within-subject and mixed ANOVA with sphericity corrections, and Friedman's test.

Validated against R's ``aov`` with ``Error()`` and ``car::Anova`` on the multivariate linear model (Mauchly's
test, Greenhouse-Geisser and Huynh-Feldt corrections), and ``stats::friedman.test``
(``tests/reference/repeated.R``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from .. import _validation as vp
from .._validation import check_array, show
from ..data import Dataset
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, EffectSize, Provenance, Result, TableResult
from ._inputs import _column, _frame_of

__all__ = ["anova_rm", "friedman"]

ANOVA_RM_COLUMNS = (
    "effect",
    "df1",
    "df2",
    "sum_sq",
    "error_sum_sq",
    "F",
    "pvalue",
    "ges",
    "eps_gg",
    "pvalue_gg",
    "eps_hf",
    "pvalue_hf",
    "mauchly_w",
    "mauchly_pvalue",
)


@dataclass(frozen=True)
class _Wide:
    Y: np.ndarray  # subjects x cells
    subjects: list[Any]
    within: list[str]
    levels: list[list[Any]]  # levels of each within factor; cells vary the last factor fastest
    groups: np.ndarray | None  # between-group code per subject
    group_levels: list[Any]
    between: str | None
    dv: str
    fingerprint: str | None


def _as_list(value: Any, name: str) -> list[str]:
    items = [value] if isinstance(value, str) else list(value) if isinstance(value, (list, tuple)) else None
    if not items or not all(isinstance(v, str) for v in items):
        raise ArgumentTypeError(f"`{name}` must be a column name or a list of column names; got {show(value)}")
    return items


def _sorted_levels(series: pd.Series) -> list[Any]:
    found = list(pd.unique(series))
    try:
        return sorted(found)
    except TypeError:
        return found


def _to_wide(data: Any, dv: str, subject: str, within: Any, between: str | None, *, max_within: int = 2) -> _Wide:
    frame, fp = _frame_of(data)
    within_cols = _as_list(within, "within")
    if len(within_cols) > max_within:
        raise ArgumentError(f"`within` may name at most {max_within} factors; got {within_cols}")
    cols = [dv, subject, *within_cols] + ([between] if between is not None else [])
    roles = ["dv", "subject", *(["within"] * len(within_cols))] + (["between"] if between is not None else [])
    for c, role in zip(cols, roles, strict=True):
        _column(frame, c, role)
    if len(set(cols)) != len(cols):
        raise ArgumentError(f"`dv`, `subject`, `within` and `between` must name different columns; got {cols}")
    sub = frame[cols]
    nan = {c: int(sub[c].isna().sum()) for c in cols if sub[c].isna().any()}
    if nan:
        raise DataError(f"missing values in {nan}; a within-subject design needs every cell of every subject: drop those subjects first")
    y = check_array(sub[dv], "dv")
    levels = [_sorted_levels(sub[w]) for w in within_cols]
    for w, lv in zip(within_cols, levels, strict=True):
        if len(lv) < 2:
            raise DataError(f"`within` factor {w!r} must have at least 2 levels; it has {show(lv)}")
    subjects = _sorted_levels(sub[subject])
    cells = list(itertools.product(*levels))
    counts = sub.groupby([subject, *within_cols], sort=False, observed=True).size()
    if (counts > 1).any():
        first = counts[counts > 1].index[0]
        raise DataError(
            f"subject {first[0]!r} has {int(counts.max())} rows in one within cell {first[1:]}; each subject needs exactly one "
            f"value per cell (average replicates first, e.g. data.groupby([{subject!r}, ...])[{dv!r}].mean())"
        )
    if len(counts) != len(subjects) * len(cells):
        per = sub.groupby(subject, sort=False)[within_cols].apply(lambda g: len(g.drop_duplicates()))
        bad = per[per < len(cells)]
        raise DataError(
            f"unbalanced within design: {len(bad)} subject(s) lack some of the {len(cells)} within cells "
            f"(first: {bad.index[0]!r} has {int(bad.iloc[0])}); drop incomplete subjects or use a mixed model"
        )
    s_index = {s: i for i, s in enumerate(subjects)}
    c_index = {c: j for j, c in enumerate(cells)}
    Y = np.empty((len(subjects), len(cells)))
    keys = zip(*(sub[w] for w in within_cols), strict=True)
    for s, key, val in zip(sub[subject], keys, y, strict=True):
        Y[s_index[s], c_index[tuple(key)]] = val
    groups = None
    glevels: list[Any] = []
    if between is not None:
        per_subject = sub.groupby(subject, sort=False)[between].nunique()
        if (per_subject > 1).any():
            raise DataError(
                f"`between` column {between!r} changes within subject {per_subject[per_subject > 1].index[0]!r}; a between factor "
                "must be constant for each subject (is it a within factor?)"
            )
        glevels = _sorted_levels(sub[between])
        if len(glevels) < 2:
            raise DataError(f"`between` factor {between!r} must have at least 2 levels; it has {show(glevels)}")
        first = sub.drop_duplicates(subject).set_index(subject)[between]
        g_index = {g: i for i, g in enumerate(glevels)}
        groups = np.array([g_index[first[s]] for s in subjects])
        small = [glevels[i] for i in range(len(glevels)) if np.sum(groups == i) < 2]
        if small:
            raise DataError(f"`between` group(s) {show(small)} have fewer than 2 subjects; the error term needs at least 2 per group")
    if len(subjects) < 3:
        raise DataError(f"a repeated-measures ANOVA needs at least 3 subjects; got {len(subjects)}")
    return _Wide(Y, subjects, within_cols, levels, groups, glevels, between, dv, fp)


def _contrasts(k: int) -> np.ndarray:
    """Orthonormal contrasts (k x (k-1)), columns orthogonal to the constant."""
    q, _ = np.linalg.qr(np.column_stack([np.ones(k), np.eye(k)[:, : k - 1]]))
    return q[:, 1:]


def _mauchly(S: np.ndarray, df: float, m: int) -> tuple[float, float]:
    """Mauchly's W and p-value as ``stats::mauchly.test`` (S: error SSCP of the d orthonormal contrasts; m cells)."""
    from scipy import stats

    d = S.shape[0]
    U = S
    sign, logdet = np.linalg.slogdet(U)
    if sign <= 0:
        return 0.0, 0.0
    logW = logdet - d * math.log(np.trace(U) / d)
    rho = 1 - (2 * d**2 + d + 2) / (6 * d * df)
    w2 = (d + 2) * (d - 1) * (d - 2) * (2 * d**3 + 6 * d**2 + 3 * m + 2) / (288 * (df * d * rho) ** 2)
    z = -df * rho * logW
    f = d * (d + 1) / 2 - 1
    p1 = float(stats.chi2.sf(z, f))
    p2 = float(stats.chi2.sf(z, f + 4))
    return math.exp(logW), min(1.0, max(0.0, p1 + w2 * (p2 - p1)))


def _check_error_term(ss: float, *, scale: float, effect: str, dv: str) -> None:
    """Refuse an error term of zero: R's aov reports F = NaN or Inf there; an exact fit leaves nothing to test against."""
    if ss <= 1e-13 * scale:
        raise DataError(
            f"the error term of {effect!r} is zero: `dv` column {dv!r} is fitted exactly in that stratum, so its F test is undefined"
        )


def _split_by_group(Z: np.ndarray, g: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grand mean, group means and within-group residuals of the rows of Z."""
    means = np.vstack([Z[g == i].mean(axis=0) for i in range(n_groups)])
    resid = Z - means[g]
    return Z.mean(axis=0), means, resid


def _within_effects(w: _Wide, *, g: np.ndarray, n_groups: int, df_err_subj: int, scale: float) -> list[dict[str, Any]]:
    """Within-subject strata, one per non-empty subset of the within factors (and its interaction with the between
    factor), each tested on its orthonormal contrasts with the sphericity statistics."""
    Y = w.Y
    n, m = Y.shape
    ns = np.bincount(g, minlength=n_groups)
    k = len(w.within)
    bases = [(_contrasts(len(lv)), np.full((len(lv), 1), 1 / math.sqrt(len(lv)))) for lv in w.levels]
    within_rows: list[dict[str, Any]] = []
    for r in range(1, k + 1):
        for subset in itertools.combinations(range(k), r):
            C = np.ones((1, 1))
            for f in range(k):
                C = np.kron(C, bases[f][0] if f in subset else bases[f][1])
            Z = Y @ C
            d = C.shape[1]
            grand, means, resid = _split_by_group(Z, g, n_groups)
            E = resid.T @ resid
            name = ":".join(w.within[f] for f in subset)
            _check_error_term(float(np.trace(E)), scale=scale, effect=name, dv=w.dv)
            ss_w = float(n * np.sum(grand**2))
            row: dict[str, Any] = {
                "effect": name,
                "df1": float(d),
                "df2": float(d * df_err_subj),
                "sum_sq": ss_w,
                "error_sum_sq": float(np.trace(E)),
            }
            sph = _sphericity(E, d, df_err_subj, m)
            within_rows.append({**row, **sph})
            if w.groups is not None:
                ss_i = float(np.sum(ns[:, None] * (means - grand) ** 2))
                within_rows.append(
                    {
                        **row,
                        "effect": f"{w.between}:{name}",
                        "df1": float(d * (n_groups - 1)),
                        "sum_sq": ss_i,
                        **sph,
                    }
                )
    return within_rows


def _add_tests(rows: list[dict[str, Any]], *, total_error: float) -> None:
    """Fill in each row's F, p-value, generalized eta squared and the Greenhouse-Geisser / Huynh-Feldt p-values."""
    from scipy import stats

    for row in rows:
        row["F"] = (row["sum_sq"] / row["df1"]) / (row["error_sum_sq"] / row["df2"])
        row["pvalue"] = float(stats.f.sf(row["F"], row["df1"], row["df2"]))
        row["ges"] = row["sum_sq"] / (row["sum_sq"] + total_error)
        eps_gg = row.get("eps_gg", math.nan)
        eps_hf = row.get("eps_hf", math.nan)
        for eps, key in ((eps_gg, "pvalue_gg"), (min(1.0, eps_hf) if math.isfinite(eps_hf) else math.nan, "pvalue_hf")):
            row[key] = float(stats.f.sf(row["F"], eps * row["df1"], eps * row["df2"])) if math.isfinite(eps) else math.nan
        for key in ("eps_gg", "eps_hf", "mauchly_w", "mauchly_pvalue"):
            row.setdefault(key, math.nan)


def _effects(w: _Wide) -> list[dict[str, Any]]:
    """One row per effect: between effects on subject means, within effects on orthonormal contrasts."""
    Y = w.Y
    n, m = Y.shape
    scale = float(np.sum((Y - Y.mean()) ** 2))
    if scale == 0.0:
        raise DataError(f"`dv` column {w.dv!r} is constant, so there is no variation to test")
    g = np.zeros(n, dtype=int) if w.groups is None else w.groups
    n_groups = int(g.max()) + 1
    df_err_subj = n - n_groups
    ns = np.bincount(g, minlength=n_groups)
    rows: list[dict[str, Any]] = []
    # between-subject stratum: subject means scaled by sqrt(m)
    z0 = Y.sum(axis=1) / math.sqrt(m)
    grand0, means0, resid0 = _split_by_group(z0[:, None], g, n_groups)
    ss_subj_err = float(np.sum(resid0**2))
    if w.groups is not None:
        _check_error_term(ss_subj_err, scale=scale, effect=str(w.between), dv=w.dv)
        ss_b = float(np.sum(ns * (means0[:, 0] - grand0[0]) ** 2))
        rows.append(
            {"effect": w.between, "df1": float(n_groups - 1), "df2": float(df_err_subj), "sum_sq": ss_b, "error_sum_sq": ss_subj_err}
        )
    within_rows = _within_effects(w, g=g, n_groups=n_groups, df_err_subj=df_err_subj, scale=scale)
    rows += within_rows
    # generalized eta squared (Olejnik & Algina 2003; all factors manipulated): every error term in the denominator
    err_terms = [ss_subj_err] + [r["error_sum_sq"] for r in within_rows if not r["effect"].startswith(f"{w.between}:")]
    _add_tests(rows, total_error=math.fsum(err_terms))
    return rows


def _sphericity(E: np.ndarray, d: int, df: int, m: int) -> dict[str, float]:
    if d < 2:
        return {}
    lam = np.linalg.eigvalsh(E)
    gg = float(np.sum(lam) ** 2 / (d * np.sum(lam**2)))
    hf = ((df + 1) * d * gg - 2) / (d * (df - d * gg))
    w, p = _mauchly(E, float(df), m)
    return {"eps_gg": gg, "eps_hf": float(hf), "mauchly_w": w, "mauchly_pvalue": p}


@vp.validate_params(
    {
        "data": "data",
        "dv": "column",
        "subject": "column",
        "within": "columns",
        "between": [None, "column"],
        "correction": vp.Options(("auto", "none", "gg", "hf")),
    }
)
def anova_rm(
    data: Any,
    *,
    dv: str,
    subject: str,
    within: str | Sequence[str],
    between: str | None = None,
    correction: str = "auto",
) -> TableResult:
    """Repeated-measures ANOVA: one or two within-subject factors, optionally one between-subject factor.

    Parameters
    ----------
    data : DataFrame or Dataset
        Long form: one row per subject and within cell.
    dv : str
        Column of the response.
    subject : str
        Column identifying subjects.
    within : str or list of str
        One or two within-subject factor columns. Levels are sorted (as R orders factor levels).
    between : str, optional
        A between-subject factor (constant within each subject): a mixed (split-plot) design.
    correction : {"auto", "none", "gg", "hf"}
        Which p-value the result's headline reports for a single within factor with more than two levels:
        ``"auto"`` uses Greenhouse-Geisser when Mauchly's test rejects at 5% (else uncorrected). The table always
        holds all of them.

    Returns
    -------
    TableResult
        ``table`` / ``to_frame()``: one row per effect with columns ``effect, df1, df2, sum_sq, error_sum_sq, F,
        pvalue`` (uncorrected, as ``aov`` with ``Error()``), ``ges`` (generalized eta squared), ``eps_gg,
        pvalue_gg, eps_hf, pvalue_hf`` (Greenhouse-Geisser and Huynh-Feldt epsilons and corrected p-values; HF
        epsilon above 1 is used as 1, as car does) and ``mauchly_w, mauchly_pvalue`` (NaN for effects with one
        df). For a single within factor without ``between``, ``statistic``/``df``/``pvalue`` repeat its test.
        Diagnostics: sphericity per effect, with the advice to use the corrected p-values.

    Notes
    -----
    The design is put in wide form (subjects x cells). Each within effect is tested on its orthonormal
    contrasts Z: SS = n ``|mean(Z)|^2`` against the pooled within-group residual SSCP E (SS = tr E), which
    reproduces ``aov(y ~ w + Error(subject/w))``; with ``between`` the group-by-within interaction uses the
    group means of Z (sequential sums of squares, as ``aov``; equal to type II here). Greenhouse-Geisser
    epsilon is :math:`(\\sum\\lambda)^2 / (d\\sum\\lambda^2)` over the eigenvalues of E; Huynh-Feldt is
    :math:`((\\nu+1)d\\hat\\epsilon - 2)/(d(\\nu - d\\hat\\epsilon))` with :math:`\\nu` the error df of the
    subjects (Lecoutre's correction, as R's ``anova.mlm`` and ``car``). Mauchly's test is R's
    ``mauchly.test``. Validated against ``aov`` + ``car::Anova(..., idata, idesign)`` (``tests/reference/repeated.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(1)
    >>> base = rng.normal(10, 2, 8)
    >>> df = pd.DataFrame([(f"s{i}", c, base[i] + 0.5 * j + rng.normal()) for i in range(8) for j, c in enumerate("abc")],
    ...                   columns=["id", "cond", "y"])
    >>> r = ci.stats.anova_rm(df, dv="y", subject="id", within="cond")
    >>> r.table["effect"].tolist(), r.df
    (['cond'], (2.0, 14.0))
    """
    if correction not in ("auto", "none", "gg", "hf"):
        raise ArgumentError(f"`correction` must be one of 'auto', 'none', 'gg', 'hf'; got {show(correction)}")
    if between is not None and not isinstance(between, str):
        raise ArgumentTypeError(f"`between` must be one column name; got {show(between)}")
    w = _to_wide(data, dv, subject, within, between)
    rows = _effects(w)
    table = pd.DataFrame(rows)[list(ANOVA_RM_COLUMNS)]
    diags = []
    for row in rows:
        if math.isfinite(row["mauchly_pvalue"]) and not row["effect"].startswith(f"{between}:"):
            p = row["mauchly_pvalue"]
            status = "ok" if p >= 0.05 else "warn"
            msg = f"Mauchly's W = {row['mauchly_w']:.3g}, p = {p:.3g}" + (
                ": no evidence against sphericity"
                if status == "ok"
                else f": sphericity doubtful; use pvalue_gg (GG epsilon {row['eps_gg']:.3g})"
            )
            diags.append(Diagnostic(f"sphericity ({row['effect']})", status, p, msg))
    single = len(w.within) == 1 and between is None
    kwargs: dict[str, Any] = {}
    method = "Repeated-measures ANOVA" if between is None else "Mixed ANOVA (between- and within-subject factors)"
    if single:
        row = rows[0]
        use = correction
        if correction == "auto":
            use = "gg" if math.isfinite(row["mauchly_pvalue"]) and row["mauchly_pvalue"] < 0.05 else "none"
        eps = {"none": 1.0, "gg": row["eps_gg"], "hf": min(1.0, row["eps_hf"])}[use]
        if not math.isfinite(eps):
            eps, use = 1.0, "none"
        p = row["pvalue"] if use == "none" else row[f"pvalue_{use}"]
        kwargs = {"statistic": row["F"], "statistic_name": "F", "df": (eps * row["df1"], eps * row["df2"]), "pvalue": p}
        if use != "none":
            method += f", {'Greenhouse-Geisser' if use == 'gg' else 'Huynh-Feldt'} corrected"
        kwargs["effect_sizes"] = (EffectSize("generalized_eta_squared", row["ges"], method="SS_effect / (SS_effect + all error SS)"),)
    return TableResult(
        method=method,
        estimand=f"equality of the mean of {dv} across {' x '.join(w.within)}" + (f" and {between}" if between else ""),
        n=len(w.subjects),
        table=table,
        diagnostics=tuple(diags),
        provenance=Provenance.current(data_fingerprint=w.fingerprint),
        **kwargs,
    )


@vp.validate_params(
    {
        "data": [None, "data", "array-like"],
        "dv": [None, "column"],
        "subject": [None, "column"],
        "within": [None, "column"],
    }
)
def friedman(data: Any = None, *, dv: str | None = None, subject: str | None = None, within: str | None = None) -> Result:
    """Friedman rank-sum test of equal treatment effects in an unreplicated block design (R's ``friedman.test``).

    Parameters
    ----------
    data : DataFrame, Dataset or 2-D array
        Long form with ``dv``, ``subject`` (blocks) and ``within`` (treatments) columns, or a wide array /
        DataFrame of numbers with one row per block and one column per treatment.
    dv, subject, within : str, optional
        Column names for long-form data.

    Returns
    -------
    Result
        ``statistic`` (Friedman chi-squared, tie-corrected), ``df`` (k - 1), ``pvalue`` (chi-squared), ``n``
        (blocks); ``effect_sizes``: Kendall's W = chi2 / (n (k - 1)); ``details["mean_ranks"]``.

    Notes
    -----
    Ranks within each block; :math:`\\chi^2 = 12\\sum_j (R_j - n(k+1)/2)^2 / (nk(k+1) - \\sum(t^3-t)/(k-1))`.
    Validated against ``friedman.test`` (``tests/reference/repeated.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.friedman([[1, 2, 3], [2, 3, 1], [1, 3, 2], [1, 2, 3]])
    >>> round(r.statistic, 4), r.df
    (3.5, 2.0)
    """
    from scipy import stats

    fp = None
    names: list[str]
    if isinstance(data, (pd.DataFrame, Dataset)) and dv is None and subject is None and within is None:
        table, fp = _frame_of(data)
        names = [str(c) for c in table.columns]
        bad = [str(c) for c in table.columns if not (is_numeric_dtype(table[c]) or is_bool_dtype(table[c]))]
        if bad:
            raise ArgumentTypeError(
                f"a wide `data` table must hold only numeric columns (one per treatment); non-numeric: {bad[:6]}; for long-form "
                "data pass dv=, subject= and within="
            )
        Y = check_array(table.to_numpy(dtype=float, na_value=np.nan), "data", ndim=2)
    elif dv is not None or subject is not None or within is not None:
        if dv is None or subject is None or within is None:
            raise ArgumentError("long-form data needs all of `dv`, `subject` and `within` (column names)")
        w = _to_wide(data, dv, subject, within, None, max_within=1)
        Y, names, fp = w.Y, [str(lv) for lv in w.levels[0]], w.fingerprint
    else:
        if data is None:
            raise ArgumentError("`data` is required: a long DataFrame with dv=, subject=, within=, or a blocks x treatments array")
        Y = check_array(data, "data", ndim=2)
        names = [str(j + 1) for j in range(Y.shape[1])]
    n, k = Y.shape
    if k < 2 or n < 2:
        raise DataError(f"Friedman's test needs at least 2 blocks and 2 treatments; got {n} x {k}")
    R = np.vstack([stats.rankdata(row) for row in Y])
    ties = 0.0
    for row in Y:
        _, counts = np.unique(row, return_counts=True)
        ties += float(np.sum(counts**3 - counts))
    rsum = R.sum(axis=0)
    denom = n * k * (k + 1) - ties / (k - 1)
    if denom <= 0:
        raise DataError("every block is constant, so Friedman's statistic is undefined")
    chi2 = 12 * float(np.sum((rsum - n * (k + 1) / 2) ** 2)) / denom
    p = float(stats.chi2.sf(chi2, k - 1))
    w_kendall = chi2 / (n * (k - 1))
    return Result(
        method="Friedman rank sum test",
        estimand=f"equality of the {k} treatment distributions within {n} blocks",
        statistic=chi2,
        statistic_name="Friedman chi-squared",
        df=float(k - 1),
        pvalue=min(1.0, p),
        n=n,
        effect_sizes=(EffectSize("kendall_w", w_kendall, method="Kendall's W = chi2 / (n (k - 1))"),),
        diagnostics=(
            Diagnostic("ties", "ok", ties, "ties within blocks handled by the tie correction" if ties else "no ties within blocks"),
        ),
        details={"mean_ranks": pd.DataFrame({"treatment": names, "mean_rank": rsum / n})},
        provenance=Provenance.current(data_fingerprint=fp),
    )
