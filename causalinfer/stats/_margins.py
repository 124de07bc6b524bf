"""Marginal effects and average comparisons of a fitted regression, the quantities of R's ``marginaleffects``.

Validated against analytic derivatives with an analytic delta method written in R (``tests/reference/margins.R``)
and against statsmodels' ``get_margeff``.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_conf_level, show, suggest_column
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Result
from ._glm_families import LINKS, Link
from ._normal import coefficient_table_inference

if TYPE_CHECKING:
    from ._regression import RegressionResult

__all__ = ["marginal_effects"]

_MODEL_LINKS = {"ols": "identity", "logit": "logit", "poisson": "log", "negative_binomial": "log"}


def _d_mu_eta(link: str, eta: np.ndarray) -> np.ndarray:
    """Second derivative of the inverse link, d(dmu/deta)/deta."""
    if link == "logit":
        m = 1.0 / (1.0 + np.exp(-eta))
        return m * (1 - m) * (1 - 2 * m)
    if link == "probit":
        return -eta * np.exp(-0.5 * eta**2) / math.sqrt(2 * math.pi)
    if link == "cloglog":
        return np.exp(eta - np.exp(eta)) * (1 - np.exp(eta))
    if link == "log":
        return np.exp(eta)
    if link == "inverse":
        return 2 / eta**3
    if link == "inverse_squared":
        return 0.75 * eta**-2.5
    return np.zeros_like(eta)


@dataclass(frozen=True)
class _Model:
    """What the computations need from a fitted regression."""

    info: Any
    coef: np.ndarray
    cov: np.ndarray
    link: Link
    link_name: str
    variables: dict[str, Any]  # variable -> None (continuous) or its ordered levels (categorical)


def _model_of(result: RegressionResult, frame: pd.DataFrame) -> _Model:
    fit = result.details["fit"]
    model = fit.get("model")
    link_name = fit["link"] if model == "glm" else _MODEL_LINKS.get(str(model))
    if link_name is None or result.design is None or result.terms is None:
        raise ArgumentError(
            f"marginal effects need a fitted ols, logit, poisson, negative_binomial or glm result with its design; got a "
            f"{model!r} model{' rebuilt without its design (refit it)' if result.design is None else ''}"
        )
    info = result.design.info
    return _Model(
        info,
        result.terms["estimate"].to_numpy(dtype=float),
        result.details["cov"].to_numpy(dtype=float),
        LINKS[link_name],
        link_name,
        _variables(info, frame),
    )


def _variables(info: Any, frame: pd.DataFrame) -> dict[str, Any]:
    """The data columns the model uses, each continuous (None) or categorical (its levels in the model's order)."""
    if isinstance(info, dict):  # a design-matrix fit: every column is a numeric regressor
        names = list(info["names"])[1:] if info["add_constant"] else list(info["names"])
        return dict.fromkeys(names)
    out: dict[str, Any] = {}
    for factor, fi in info.factor_infos.items():
        tokens = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", factor.name()))
        cols = [c for c in frame.columns if isinstance(c, str) and c in tokens]
        for c in cols:
            if fi.type == "categorical" and len(cols) == 1:
                out[c] = list(fi.categories)
            elif c not in out:
                out[c] = None
    return out


def _matrix(m: _Model, frame: pd.DataFrame) -> np.ndarray:
    from ._predict import _new_matrix

    X, _ = _new_matrix(m.info, frame)
    return X


def _means(m: _Model, X: np.ndarray, off: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row means (or linear predictors) and their gradients in the coefficients."""
    eta = X @ m.coef + off
    if kind == "link":
        return eta, X
    with np.errstate(over="ignore"):
        return m.link.linkinv(eta), m.link.mu_eta(eta)[:, None] * X


def _slopes(m: _Model, frame: pd.DataFrame, off: np.ndarray, var: str, h: float, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row derivatives of the mean in ``var`` and their gradients (model matrix differentiated by central differences)."""
    col = frame[var].astype(float)
    dX = (_matrix(m, frame.assign(**{var: col + h})) - _matrix(m, frame.assign(**{var: col - h}))) / (2 * h)
    X = _matrix(m, frame)
    eta = X @ m.coef + off
    g = dX @ m.coef
    if kind == "link":
        return g, dX
    mu_eta = m.link.mu_eta(eta)
    return mu_eta * g, (_d_mu_eta(m.link_name, eta) * g)[:, None] * X + mu_eta[:, None] * dX


def _typical_row(frame: pd.DataFrame, variables: dict[str, Any], values: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per combination of ``values``, the other variables at their mean (numeric) or most frequent value."""
    base: dict[str, Any] = {}
    for c in frame.columns:
        s = frame[c]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and variables.get(c) is None
        base[c] = float(s.mean()) if numeric else s.mode(dropna=True).iloc[0]
    if not values:
        return pd.DataFrame([base])
    keys = list(values)
    grids = [list(np.atleast_1d(values[k])) for k in keys]
    rows = [{**base, **dict(zip(keys, combo, strict=True))} for combo in itertools.product(*grids)]
    return pd.DataFrame(rows)


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.stats._regression:RegressionResult"),
        "variables": [None, "string", vp.SequenceOf("string", min_length=1)],
        "newdata": [None, "data"],
        "type": vp.Options(("response", "link")),
        "by": [None, "string"],
        "at": [None, vp.Options(("means",)), vp.InstanceOf(dict)],
        "comparison": [None, vp.Options(("difference", "ratio"))],
        "offset": [None, "sample"],
        "weights": [None, "sample"],
        "conf_level": "conf_level",
    }
)
def marginal_effects(
    result: RegressionResult,
    *,
    variables: Any = None,
    newdata: Any = None,
    type: str = "response",
    by: str | None = None,
    at: Any = None,
    comparison: str | None = None,
    offset: Any = None,
    weights: Any = None,
    conf_level: float = 0.95,
) -> Result:
    """Average marginal effects, marginal effects at the means or at chosen values, and average comparisons.

    The quantities of R's ``marginaleffects`` (``avg_slopes``, ``slopes(newdata = "mean")``,
    ``avg_comparisons``) for :func:`ols`, :func:`logit`, :func:`poisson`, :func:`negative_binomial` and
    :func:`glm` fits, with delta-method standard errors from the fit's own covariance (classical or robust).

    Parameters
    ----------
    result : RegressionResult
        A fitted model. :func:`glm` results remember their data; for the others pass ``newdata``.
    variables : str or list of str, optional
        Data columns whose effects are wanted (default: every column the model uses). A continuous variable
        gets its slope :math:`d\\mu/dx`; a categorical one (text, boolean, categorical, or wrapped in ``C()``)
        gets the contrast of each level with the first (reference) level.
    newdata : DataFrame or Dataset, optional
        Rows to average over (default: the fitting data of a :func:`glm` result).
    type : {"response", "link"}
        Effects on the mean (probability, rate) or on the linear predictor.
    by : str, optional
        Column of ``newdata``: averages within each of its values (sorted).
    at : None, "means" or dict, optional
        ``None``: average over the rows (AME). ``"means"``: at one typical row, numeric columns at their mean and
        the others at their most frequent value (MEM). A dict such as ``{"x": [0, 1], "g": "b"}``: one typical
        row per combination of the given values (marginaleffects' ``datagrid``).
    comparison : {None, "difference", "ratio"}, optional
        ``None``: slopes of continuous variables and differences for categorical ones. ``"difference"``: for a
        continuous variable, the effect of adding 1. ``"ratio"``: the ratio of average means
        (marginaleffects' ``"ratioavg"``, e.g. a marginal risk ratio), tested against 1.
    offset : array-like or str, optional
        Offset of the ``newdata`` rows when the model has one (a stored :func:`glm` offset is used by default).
    weights : array-like or str, optional
        Non-negative weights of the rows in the averages (marginaleffects' ``wts``): a column name of the data or
        one value per row (a Series is aligned by index label). Averages become weighted means, ratios the ratio
        of weighted average means, and the delta-method gradients are weighted the same way. Default: every row
        counts once, *even when the model was fitted with weights*, as marginaleffects does (the fitting weights
        shape the coefficients, not the population averaged over); pass the fitting weights here to average over
        the population they describe. Not used with ``at`` (typical rows).
    conf_level : float
        Level of the normal (Wald) intervals, as marginaleffects.

    Returns
    -------
    Result
        ``terms``: one row per variable, contrast and group, with ``term`` (e.g. ``"x: dY/dX"``,
        ``"g: b - a | grp = u"``), ``estimate, std_error, ci_low, ci_high, statistic, df`` (NaN: normal) and
        ``pvalue``. ``details["labels"]``: the ``variable``, ``contrast`` and ``group`` of each term;
        ``details["jacobian"]``: the gradient of each term in the coefficients.

    Notes
    -----
    Slopes: :math:`d\\mu_i/dx = \\mu'(\\eta_i)\\, (\\partial x_i'/\\partial x)\\beta`, the model matrix
    differentiated by central differences with step :math:`10^{-4}` times the variable's range (exact for terms
    linear in :math:`x`, interactions included), the link analytically. The delta method uses the analytic
    gradient :math:`\\mu''(\\eta_i) (\\partial x_i'\\beta/\\partial x) x_i + \\mu'(\\eta_i)\\, \\partial x_i/\\partial x`,
    averaged over the rows (weighted means with ``weights``), and :math:`\\mathrm{se} = \\sqrt{J V J'}`. Weighted
    averages are validated against finite differences of R's fitted means in the coefficients (``margins.R``). Validated against analytic derivatives and
    delta method in R (``tests/reference/margins.R``) and statsmodels' ``get_margeff``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(3)
    >>> df = pd.DataFrame({"x": rng.normal(size=400), "g": rng.choice(["a", "b"], size=400)})
    >>> df["y"] = (rng.uniform(size=400) < 1 / (1 + np.exp(-(df.x + (df.g == "b"))))).astype(int)
    >>> me = ci.stats.marginal_effects(ci.stats.glm("y ~ x + g", data=df, family="binomial"))
    >>> me.terms["term"].tolist()
    ['x: dY/dX', 'g: b - a']
    """
    kind = check_choice(type, "type", ("response", "link"))
    level = check_conf_level(conf_level)
    frame, off = _data_and_offset(result, newdata, offset)
    m = _model_of(result, frame)
    wanted = _check_variables(variables, m)
    if comparison is not None:
        comparison = check_choice(comparison, "comparison", ("difference", "ratio"))
    base, base_off, groups = _grid(frame, off, m, by, at)
    w = _check_weights(weights, frame, groups, at)
    rows: list[dict[str, Any]] = []
    jac: list[np.ndarray] = []
    for var in wanted:
        for label, per_row, grads in _unit_effects(m, frame, base, base_off, var, kind, comparison):
            for gname, idx in groups:
                est, J = _aggregate(per_row, grads, idx, comparison == "ratio", None if w is None else w[idx])
                rows.append(
                    {"variable": var, "contrast": label, "group": gname, "estimate": est, "null": 1.0 if comparison == "ratio" else 0.0}
                )
                jac.append(J)
    terms = _inference(rows, np.array(jac), m.cov, level)
    what = {None: "average marginal effects", "means": "marginal effects at the means"}.get(
        at if isinstance(at, str) or at is None else "", "marginal effects at chosen values"
    )
    what = f"weighted {what}" if w is not None else what
    return Result(
        method=f"{what[0].upper()}{what[1:]} on the {kind} scale ({'ratios of average means' if comparison == 'ratio' else 'slopes and contrasts'}), delta-method standard errors",
        estimand=f"{what} of {', '.join(wanted)} on {result.details['fit'].get('response', 'the outcome')}",
        conf_level=level,
        alternative="two-sided",
        null_value=1.0 if comparison == "ratio" else 0.0,
        n=len(frame),
        terms=terms,
        details={
            "labels": pd.DataFrame({k: [r[k] for r in rows] for k in ("variable", "contrast", "group")}, index=terms["term"]),
            "jacobian": pd.DataFrame(np.array(jac).reshape(len(rows), -1), index=terms["term"], columns=list(result.coef.index)),
        },
        provenance=result.provenance,
    )


def _data_and_offset(result: Any, newdata: Any, offset: Any) -> tuple[pd.DataFrame, np.ndarray]:
    from ._inputs import _frame_of
    from ._predict import _new_offset

    design = getattr(result, "design", None)
    stored = getattr(design, "frame", None)
    if newdata is None:
        if stored is None:
            raise ArgumentError(
                "`newdata` is needed: this result does not keep its fitting data (only glm results do); pass "
                "newdata=the data frame the model was fitted to (or the rows to average over)"
            )
        frame = stored
        stored_offset = getattr(design, "offset", None)
        if offset is None and stored_offset is not None:
            offset = np.asarray(stored_offset, dtype=float)
    else:
        frame, _ = _frame_of(newdata)
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentTypeError(f"`newdata` must be a DataFrame or Dataset; got {show(newdata)}")
    if len(frame) == 0:
        raise DataError("`newdata` has no rows")
    has_offset = bool(getattr(design, "has_offset", False))
    return frame, _new_offset(offset, frame, len(frame), has_offset)


def _check_variables(variables: Any, m: _Model) -> list[str]:
    available = list(m.variables)
    if variables is None:
        return available
    wanted = [variables] if isinstance(variables, str) else list(variables)
    for v in wanted:
        if v not in m.variables:
            raise ArgumentError(
                f"`variables` names {show(v)}, which is not a variable of the model{suggest_column(v, available)}; choose among {available}"
            )
    return wanted


def _grid(
    frame: pd.DataFrame, off: np.ndarray, m: _Model, by: Any, at: Any
) -> tuple[pd.DataFrame, np.ndarray, list[tuple[str, np.ndarray]]]:
    """The rows to evaluate and how to group them: all rows (optionally by a column) or typical rows."""
    if by is not None and at is not None:
        raise ArgumentError("give `by` (averages within groups) or `at` (typical rows), not both")
    if at is None:
        if by is None:
            return frame, off, [("", np.arange(len(frame)))]
        if by not in frame.columns:
            raise DataError(f"`by` names column {by!r}, which is not in the data{suggest_column(by, frame.columns)}")
        col = frame[by]
        levels = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().unique().tolist())
        return frame, off, [(f"{by} = {v}", np.flatnonzero((col == v).to_numpy())) for v in levels]
    values = None
    if isinstance(at, dict):
        bad = [k for k in at if k not in m.variables]
        if bad:
            raise ArgumentError(f"`at` names {show(bad)}, which are not variables of the model; choose among {list(m.variables)}")
        values = at
    elif at != "means":
        raise ArgumentError(f"`at` must be None, 'means' or a dict of variable values such as {{'x': [0, 1]}}; got {show(at)}")
    grid = _typical_row(frame, m.variables, values)
    labels = ["at means"] if values is None else [", ".join(f"{k} = {row[k]}" for k in values) for _, row in grid.iterrows()]
    return grid, np.full(len(grid), float(np.mean(off))), [(lab, np.array([i])) for i, lab in enumerate(labels)]


def _unit_effects(
    m: _Model, data: pd.DataFrame, base: pd.DataFrame, off: np.ndarray, var: str, kind: str, comparison: str | None
) -> list[tuple[str, Any, Any]]:
    """Per-row effects of ``var`` (with gradients): slopes, or the pair of means of a contrast."""
    levels = m.variables[var]
    if levels is None and comparison is None:
        lo, hi = float(np.min(data[var])), float(np.max(data[var]))
        h = 1e-4 * (hi - lo) if hi > lo else 1e-4 * max(abs(hi), 1.0)
        return [("dY/dX", *_slopes(m, base, off, var, h, kind))]
    if levels is None:
        pairs = [("+1", base.assign(**{var: base[var].astype(float) + 1.0}), base)]
    else:
        ref = levels[0]
        sep = " / " if comparison == "ratio" else " - "
        pairs = [(f"{lev}{sep}{ref}", base.assign(**{var: lev}), base.assign(**{var: ref})) for lev in levels[1:]]
    out = []
    for label, f1, f0 in pairs:
        mu1, g1 = _means(m, _matrix(m, f1), off, kind)
        mu0, g0 = _means(m, _matrix(m, f0), off, kind)
        out.append((label, (mu1, mu0), (g1, g0)))
    return out


def _aggregate(per_row: Any, grads: Any, idx: np.ndarray, ratio: bool, w: np.ndarray | None) -> tuple[float, np.ndarray]:
    """Average of the per-row effects over the rows ``idx`` (weighted by ``w``), with its gradient in the coefficients."""
    share = np.full(idx.size, 1.0 / idx.size) if w is None else w / float(np.sum(w))

    def avg(v: np.ndarray) -> Any:
        return share @ v[idx]

    if not isinstance(per_row, tuple):
        return float(avg(per_row)), avg(grads)
    (mu1, mu0), (g1, g0) = per_row, grads
    if ratio:
        a, b = float(avg(mu1)), float(avg(mu0))
        return a / b, (avg(g1) * b - a * avg(g0)) / b**2
    return float(avg(mu1) - avg(mu0)), avg(g1) - avg(g0)


def _check_weights(weights: Any, frame: pd.DataFrame, groups: list[tuple[str, np.ndarray]], at: Any) -> np.ndarray | None:
    """Row weights of the averages: a column of the data or one value per row (a Series aligned by label)."""
    from .._validation import check_array

    if weights is None:
        return None
    if at is not None:
        raise ArgumentError(f"`weights` weight the rows of an average; with at={show(at)} the effects are at typical rows. Leave one out")
    if isinstance(weights, str):
        if weights not in frame.columns:
            raise DataError(f"`weights` names column {weights!r}, which is not in the data{suggest_column(weights, frame.columns)}")
        weights = frame[weights]
    elif isinstance(weights, pd.Series) and not weights.index.equals(frame.index):
        if len(weights) != len(frame) or not weights.index.isin(frame.index).all() or not weights.index.is_unique:
            raise DataError(
                "`weights` is a Series whose index labels do not match the rows of the data; pass one weight per row, indexed as the data"
            )
        weights = weights.reindex(frame.index)
    w = check_array(weights, "weights")
    if w.shape != (len(frame),):
        raise DataError(f"`weights` must have one value per row of the data ({len(frame)}); got {w.size}")
    if np.any(w < 0):
        raise DataError(f"`weights` must be non-negative; got {int(np.sum(w < 0))} negative value(s) such as {show(float(w[w < 0][0]))}")
    for gname, idx in groups:
        if not float(np.sum(w[idx])) > 0:
            raise DataError(f"`weights` are all zero{' in group ' + gname if gname else ''}: there is nothing to average")
    return w


def _inference(rows: list[dict[str, Any]], J: np.ndarray, V: np.ndarray, level: float) -> pd.DataFrame:
    est = np.array([r["estimate"] for r in rows])
    null = np.array([r["null"] for r in rows])
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", J, V, J), 0.0))
    stat, p, lo, hi = coefficient_table_inference(est - null, se, level, None)
    terms = [f"{r['variable']}: {r['contrast']}" + (f" | {r['group']}" if r["group"] else "") for r in rows]
    return pd.DataFrame(
        {
            "term": terms,
            "estimate": est,
            "std_error": se,
            "ci_low": lo + null,
            "ci_high": hi + null,
            "statistic": stat,
            "df": np.full(len(rows), np.nan),
            "pvalue": p,
        }
    )
