"""Linear, logistic and Poisson regression with classical, heteroskedasticity-, cluster- and HAC-robust inference.

Validated against R's ``lm``/``glm`` with ``sandwich`` (``vcovHC``, ``vcovCL``, ``NeweyWest``), ``lmtest``
(``coeftest``, ``bptest``) and ``car::linearHypothesis`` (``tests/reference/regression.R``), and against the
NIST StRD certified values for Norris and Longley.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_array, check_choice, check_conf_level, check_int, show, suggest_column
from ..data import Dataset
from ..exceptions import ArgumentError, ArgumentTypeError, AssumptionWarning, DataError, RoleError
from ..results import Diagnostic, Provenance, Result
from ._existence import check_existence
from ._inputs import _frame_of, align_by_index
from ._normal import coefficient_table_inference, t_crit, z_crit
from ._normality import normality_diagnostic
from ._sandwich import COV_TYPES, default_hac_lags, fit_glm, fit_least_squares, normalize_cov_type
from ._scale import SCALE_DATA, fit_at_scale, is_scale_data
from ._stable import check_squares

__all__ = ["RegressionResult", "logit", "ols", "poisson", "wald_test"]

_COV_DESCRIPTIONS = {
    "nonrobust": "classical (homoskedastic) standard errors",
    "HC0": "heteroskedasticity-robust standard errors (HC0, White)",
    "HC1": "heteroskedasticity-robust standard errors (HC1, n/(n-k) correction)",
    "HC2": "heteroskedasticity-robust standard errors (HC2, leverage-adjusted)",
    "HC3": "heteroskedasticity-robust standard errors (HC3, jackknife-like)",
    "cluster": "cluster-robust standard errors",
    "HAC": "Newey-West HAC standard errors (Bartlett kernel, no prewhitening)",
}
_TERM_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "statistic", "df", "pvalue"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class RegressionResult(Result):
    """A fitted regression: one row per coefficient in ``terms`` / ``to_frame()``.

    The coefficient covariance matrix is ``details["cov"]`` (a DataFrame), the fit statistics are
    ``details["fit"]`` (a dict), and :meth:`wald_test` tests linear restrictions with that covariance.
    :meth:`predict` gives fitted means for new data with confidence or prediction intervals.
    """

    #: How to rebuild the model matrix for new data (the formula's patsy design information, or the number of
    #: columns and whether a constant was prepended for a matrix fit). Live state, not data: not serialised.
    design: Any = field(default=None, compare=False, repr=False, metadata={"transient": True})

    @property
    def coef(self) -> pd.Series:
        """Coefficients indexed by term name."""
        assert self.terms is not None
        return pd.Series(self.terms["estimate"].to_numpy(), index=list(self.terms["term"]), name="coef")

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance matrix of the coefficients (of the result's ``cov_type``)."""
        return self.details["cov"]

    @property
    def fit(self) -> dict[str, Any]:
        """Fit statistics (R2, AIC, deviance, n, ...)."""
        return dict(self.details["fit"])

    def wald_test(self, restrictions: Any, q: Any = None) -> Result:
        """Wald test of linear restrictions on the coefficients; see :func:`wald_test`."""
        return wald_test(self, restrictions, q)

    def predict(
        self, newdata: Any, *, interval: str | None = None, conf_level: float = 0.95, type: str = "response", offset: Any = None
    ) -> pd.DataFrame:
        """Predictions for ``newdata`` with standard errors and intervals; see :func:`causalinfer.stats.predict`."""
        from ._predict import predict

        return predict(self, newdata, interval=interval, conf_level=conf_level, type=type, offset=offset)


# ---------------------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class _PredictionDesign:
    """What :meth:`RegressionResult.predict` needs to rebuild the model matrix: patsy design info or matrix shape."""

    info: Any
    has_offset: bool


@dataclass(frozen=True)
class _Design:
    X: np.ndarray
    y: np.ndarray
    names: list[str]
    response: str
    intercept: bool
    weights: np.ndarray | None
    cluster: Any
    offset: np.ndarray | None
    fingerprint: str | None
    formula: str | None
    design_info: Any = None


def _column_or_array(value: Any, frame: pd.DataFrame | None, name: str, n: int, *, numeric: bool = True) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        if frame is None:
            raise ArgumentTypeError(f"`{name}` is the column name {value!r} but no `data` was given; pass data=your_dataframe")
        if value not in frame.columns:
            raise RoleError(f"`{name}` names column {value!r}, which is not in the data{suggest_column(value, frame.columns)}")
        value = frame[value]
    if not numeric:
        arr = value.to_numpy() if isinstance(value, pd.Series) else np.asarray(value)
        if arr.shape != (n,):
            raise DataError(f"`{name}` must have one value per observation ({n}); got shape {arr.shape}")
        return arr
    arr = check_array(value, name)
    if arr.shape != (n,):
        raise DataError(f"`{name}` must have one value per observation ({n}); got {arr.size}")
    return arr


_IDENT = re.compile(r"[A-Za-z_.][A-Za-z0-9_.]*")


def _caller_namespaces(depth: int) -> list[dict[str, Any]]:
    """Locals and globals of the user's frame, so formulas can call the user's functions (as statsmodels does)."""
    import sys

    try:
        frame = sys._getframe(depth + 1)
    except ValueError:  # pragma: no cover - shallow stack
        return []
    while frame.f_globals.get("__name__") == "causalinfer._validation" and frame.f_back is not None:
        frame = frame.f_back  # step over the parameter-checking wrapper of validate_params
    return [dict(frame.f_locals), frame.f_globals]


def _refuse_datetime(frame: pd.DataFrame, columns: list[Any], where: str, formula: str | None = None) -> None:
    """Dates are not numbers: patsy would make one indicator per date, which then looks like rank deficiency.

    A date wrapped in ``C(...)`` in a formula is an explicit request for one indicator per date and is kept.
    """
    for c in columns:
        if formula is not None and re.search(r"C\(\s*" + re.escape(str(c)) + r"\s*[,)]", formula):
            continue
        dtype = frame[c].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            kind = "a datetime" if pd.api.types.is_datetime64_any_dtype(dtype) else "a timedelta"
            raise DataError(
                f"column {c!r} used in {where} is {kind} column (dtype {dtype}), not a number: it would be expanded into "
                "one indicator per distinct value. Encode it first, e.g. as elapsed time "
                f"(df[{c!r}] - df[{c!r}].min()).dt.days, or as a period factor such as C(year) with "
                f"year = df[{c!r}].dt.year"
            )


def _formula_design(
    formula: str, frame: pd.DataFrame, namespaces: list[dict[str, Any]] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str], str, bool, Any]:
    import patsy

    if "~" not in formula:
        raise ArgumentError(f"`x` must be a formula such as 'y ~ x1 + x2' when `data` is given; got {show(formula)}")
    lhs = formula.split("~", 1)[0]
    tokens = set(_IDENT.findall(formula))
    used = [c for c in frame.columns if isinstance(c, str) and c in tokens]
    nan_cols = {c: int(frame[c].isna().sum()) for c in used if frame[c].isna().any()}
    if nan_cols:
        parts = ", ".join(f"{c!r} ({k} rows)" for c, k in nan_cols.items())
        raise DataError(
            f"missing values (NaN) in column(s) used by the formula: {parts}; drop those rows first, e.g. data.dropna(subset=[...])"
        )
    _refuse_datetime(frame, used, "the formula", formula)
    response = lhs.strip()
    if response in frame.columns and not (pd.api.types.is_numeric_dtype(frame[response]) or pd.api.types.is_bool_dtype(frame[response])):
        raise DataError(f"the outcome {response!r} must be numeric (or boolean); got a column of dtype {frame[response].dtype}")
    if response in frame.columns and pd.api.types.is_bool_dtype(frame[response]):
        # patsy would expand a boolean outcome into two indicator columns; use 0/1 (on a copy, never the caller's frame)
        frame = frame.assign(**{response: frame[response].astype(float)})
    try:
        env = patsy.EvalEnvironment([*(namespaces or []), {"np": np}])
        yd, xd = patsy.dmatrices(formula, frame, return_type="dataframe", NA_action="raise", eval_env=env)
    except patsy.PatsyError as exc:
        text = str(exc)
        m = re.search(r"name '([^']+)' is not defined", text)
        if m:
            missing = m.group(1)
            raise RoleError(
                f"the formula {formula!r} uses {missing!r}, which is not a column of `data`{suggest_column(missing, frame.columns)}"
            ) from None
        raise ArgumentError(f"could not build the model matrix from the formula {formula!r}: {text.splitlines()[0]}") from None
    if yd.shape[1] != 1:
        raise DataError(f"the outcome {response!r} must be a single numeric column; the formula produced {list(yd.columns)}")
    names = ["(Intercept)" if c == "Intercept" else str(c) for c in xd.columns]
    intercept = "Intercept" in xd.columns
    X = xd.to_numpy(dtype=float)
    y = yd.iloc[:, 0].to_numpy(dtype=float)
    for arr, what in ((X, "model matrix"), (y, "outcome")):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"the {what} of {formula!r} has non-finite values (inf or NaN); check the columns it uses")
    return X, y, names, str(yd.columns[0]), intercept, xd.design_info


def _design(
    x: Any,
    y: Any,
    data: Any,
    *,
    add_constant: bool,
    weights: Any,
    cluster: Any,
    offset: Any,
    cov_type: str,
    namespaces: list[dict[str, Any]] | None = None,
) -> _Design:
    fp = None
    frame = None
    formula = None
    design_info: Any = None
    if data is not None:
        frame, fp = _frame_of(data)
        if len(frame) == 0:
            raise DataError("`data` has no rows")
        extra = {k: v for k, v in (("weights", weights), ("cluster", cluster), ("offset", offset)) if not isinstance(v, str)}
        aligned = align_by_index(data=frame, **extra)
        weights, cluster, offset = (aligned.get(k, v) for k, v in (("weights", weights), ("cluster", cluster), ("offset", offset)))
        if not isinstance(x, str):
            raise ArgumentTypeError(f"with `data`, `x` must be a formula string such as 'y ~ x1 + x2'; got {show(x)}")
        if y is not None:
            raise ArgumentError("with a formula, leave `y` out: the outcome is the left-hand side of the formula")
        X, yy, names, response, intercept, design_info = _formula_design(x, frame, namespaces)
        formula = x
    else:
        if isinstance(x, str):
            raise ArgumentTypeError(f"`x` is the formula {x!r} but no `data` was given; pass data=your_dataframe")
        if y is None:
            raise ArgumentError("`y` (the outcome) is required when `x` is a design matrix")
        aligned = align_by_index(x=x, y=y, weights=weights, cluster=cluster, offset=offset)
        x, y, weights, cluster, offset = (aligned[k] for k in ("x", "y", "weights", "cluster", "offset"))
        if isinstance(x, pd.DataFrame):
            _refuse_datetime(x, list(x.columns), "`x`")
            bad = [str(c) for c in x.columns if not (pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]))]
            if bad:
                raise ArgumentTypeError(f"`x` must contain only numeric columns; non-numeric: {bad}")
            names = [str(c) for c in x.columns]
            X = check_array(x.to_numpy(dtype=float, na_value=np.nan), "x", ndim=2)
        elif isinstance(x, pd.Series):
            names = [str(x.name) if x.name is not None else "x1"]
            X = check_array(x, "x").reshape(-1, 1)
        else:
            raw = np.asarray(x)
            X = check_array(raw.reshape(-1, 1) if raw.ndim == 1 else raw, "x", ndim=2)
            names = [f"x{j + 1}" for j in range(X.shape[1])]
        response = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "y"
        yy = check_array(y, "y")
        if yy.size != X.shape[0]:
            raise DataError(f"`x` has {X.shape[0]} rows but `y` has {yy.size} values; they must match")
        intercept = bool(add_constant)
        if add_constant:
            X = np.column_stack([np.ones(X.shape[0]), X])
            names = ["(Intercept)", *names]
    n = X.shape[0]
    k = X.shape[1]
    if n <= k:
        raise DataError(
            f"the model has k = {k} parameters ({', '.join(names[:6])}{', ...' if k > 6 else ''}) but only n = {n} "
            f"observation(s); a regression needs more observations than parameters (n > k) to estimate the "
            "coefficients and their standard errors. Use fewer predictors or more data"
        )
    # residual variances and coefficient covariances are in squared units of the data
    check_squares([yy, *X.T], [response if formula else "y", *(f"x[{nm!r}]" for nm in names)], "the coefficient covariance matrix")
    if cluster is None and cov_type == "cluster" and isinstance(data, Dataset) and data.cluster is not None:
        cluster = data.cluster  # the Dataset's cluster role
    w = _column_or_array(weights, frame, "weights", n)
    if w is not None and np.any(w <= 0):
        raise DataError(f"`weights` must be positive; got {int(np.sum(w <= 0))} value(s) <= 0 (drop those rows instead)")
    cl = _column_or_array(cluster, frame, "cluster", n, numeric=False)
    if cov_type == "cluster" and cl is None:
        raise ArgumentError("cov_type='cluster' needs `cluster`: cluster labels (array) or a column name of `data`")
    if cov_type != "cluster" and cl is not None:
        raise ArgumentError(f"`cluster` was given but cov_type={cov_type!r}; use cov_type='cluster' for cluster-robust errors")
    off = _column_or_array(offset, frame, "offset", n)
    if design_info is None:
        design_info = {"k": X.shape[1] - (1 if add_constant else 0), "add_constant": bool(add_constant), "names": names}
    return _Design(X, yy, names, response, intercept, w, cl, off, fp, formula, design_info)


def _check_common(cov_type: Any, conf_level: Any, hac_lags: Any) -> tuple[str, float, int | None]:
    cov_type = normalize_cov_type(cov_type, allowed=COV_TYPES)
    conf_level = check_conf_level(conf_level)
    lags = None if hac_lags is None else check_int(hac_lags, "hac_lags", minimum=0)
    if lags is not None and cov_type != "HAC":
        raise ArgumentError(f"`hac_lags` only applies to cov_type='HAC'; got cov_type={cov_type!r}")
    return cov_type, conf_level, lags


# ---------------------------------------------------------------------------------------------- results
def _terms(names: list[str], coef: np.ndarray, cov: np.ndarray, conf_level: float, df: float | None) -> pd.DataFrame:
    se = np.sqrt(np.diag(cov))
    stat, p, lo, hi = coefficient_table_inference(coef, se, conf_level, df)
    return pd.DataFrame(
        {
            "term": names,
            "estimate": coef,
            "std_error": se,
            "ci_low": lo,
            "ci_high": hi,
            "statistic": stat,
            "df": np.full(len(names), np.nan if df is None else df),
            "pvalue": p,
        },
        columns=_TERM_COLUMNS,
    )


def _cov_label(cov_type: str, hac_lags: int | None, n_clusters: int | None, *, linear: bool) -> str:
    text = _COV_DESCRIPTIONS[cov_type]
    if cov_type == "HAC":
        text += f", {hac_lags} lag(s)"
    if cov_type == "cluster":
        factor = "G/(G-1) (n-1)/(n-k)" if linear else "G/(G-1)"
        text += f" (CR1, factor {factor}), {n_clusters} clusters"
    return text


def _collinearity(X: np.ndarray, names: list[str], intercept: bool, r: np.ndarray | None = None) -> tuple[Diagnostic, pd.DataFrame]:
    norms = np.linalg.norm(X, axis=0)
    if r is None:
        r = np.asarray(np.linalg.qr(X, mode="r"))
    sv = np.linalg.svd(r / np.where(norms > 0, norms, 1.0), compute_uv=False)  # singular values of the column-scaled X
    kappa = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    cols = [j for j, nm in enumerate(names) if nm != "(Intercept)"]
    rows = []
    if len(cols) >= 2:
        Xc = X[:, cols] - (X[:, cols].mean(axis=0) if intercept else 0.0)
        cross = Xc.T @ Xc
        try:
            inv_diag = np.diag(np.linalg.inv(cross))
            vifs_arr = inv_diag * np.diag(cross)  # VIF_j = 1 / (1 - R_j^2)
        except np.linalg.LinAlgError:
            vifs_arr = np.full(len(cols), math.inf)
        rows = [{"term": names[j], "vif": float(v)} for j, v in zip(cols, vifs_arr, strict=True)]
    vifs = pd.DataFrame(rows, columns=["term", "vif"])
    worst = vifs.sort_values("vif", ascending=False).head(3) if len(vifs) else vifs
    max_vif = float(vifs["vif"].max()) if len(vifs) else 1.0
    if max_vif > 10:
        top = ", ".join(f"{r.term} (VIF {r.vif:.3g})" for r in worst.itertuples())
        diag = Diagnostic(
            "collinearity",
            "warn",
            max_vif,
            f"largest VIF {max_vif:.3g} > 10 ({top}; scaled condition number {kappa:.3g}): coefficients of these predictors are "
            "imprecise and sensitive to small changes in the data. Consider dropping or combining them",
        )
    elif kappa > 30:
        diag = Diagnostic(
            "collinearity",
            "ok",
            max_vif,
            f"all VIF <= 10 (largest {max_vif:.3g}); the scaled condition number {kappa:.3g} exceeds 30 only because predictors are "
            "far from zero relative to their spread (centring them would change the intercept, not the slopes)",
        )
    else:
        diag = Diagnostic("collinearity", "ok", max_vif, f"all VIF <= 10 (largest {max_vif:.3g}); scaled condition number {kappa:.3g}")
    return diag, vifs


def breusch_pagan(X: np.ndarray, resid: np.ndarray, *, studentize: bool = True, q: np.ndarray | None = None) -> tuple[float, float, float]:
    """Breusch-Pagan test of heteroskedasticity (``lmtest::bptest``): statistic, df, p-value.

    With ``studentize=True`` (Koenker's version, R's default) the statistic is ``n R^2`` of the regression of the
    squared residuals on ``X``; otherwise it is half the explained sum of squares of ``e^2 / mean(e^2)``.
    """
    from scipy import stats

    n, k = X.shape
    e2 = resid**2
    if q is None:
        q, _ = np.linalg.qr(X, mode="reduced")
    fitted = q @ (q.T @ e2)
    if studentize:
        r2 = 1.0 - float(np.sum((e2 - fitted) ** 2)) / float(np.sum((e2 - e2.mean()) ** 2))
        stat = n * r2
    else:
        sigma2 = float(e2.mean())
        f = e2 / sigma2
        fh = fitted / sigma2
        stat = 0.5 * float(np.sum((fh - f.mean()) ** 2))
    df = float(k - 1)
    return stat, df, float(stats.chi2.sf(stat, df))


def _perfect_fit(resid: np.ndarray, fitted: np.ndarray, rdf: int) -> tuple[Diagnostic, ...]:
    """R's summary.lm check: residual variance below 1e-30 of the fitted values' scale means the standard errors,
    t statistics and p-values are rounding noise (a constant outcome, or one the regressors reproduce exactly)."""
    if rdf <= 0:
        return ()
    scale = float(np.mean(fitted) ** 2 + (np.var(fitted, ddof=1) if fitted.size > 1 else 0.0))
    resvar = float(np.sum(resid**2)) / rdf
    if resvar < scale * 1e-30 or (scale == 0.0 and resvar == 0.0):
        return (
            Diagnostic(
                "perfect fit",
                "warn",
                resvar,
                "essentially perfect fit (residual variance is rounding noise): the coefficients are exact, but their "
                "standard errors, t statistics and p-values are not meaningful (R: 'summary may be unreliable')",
            ),
        )
    return ()


def _residual_normality(resid: np.ndarray) -> Diagnostic:
    return normality_diagnostic(
        resid,
        "residuals",
        name="residual normality",
        advice="t-based p-values may be off; consider a bootstrap",
        ok_text="no evidence against normal errors",
        robust_text="t-based inference is robust to this (central limit theorem)",
    )


def _heteroskedasticity(
    X: np.ndarray, resid: np.ndarray, cov_type: str, q: np.ndarray | None = None
) -> tuple[Diagnostic, dict[str, float]]:
    if X.shape[1] < 2:
        return Diagnostic("heteroskedasticity", "ok", None, "no regressors besides the constant: Breusch-Pagan not applicable"), {}
    stat, df, p = breusch_pagan(X, resid, q=q)
    info = {"bp_statistic": stat, "bp_df": df, "bp_pvalue": p}
    if p >= 0.05:
        return Diagnostic("heteroskedasticity", "ok", p, f"Breusch-Pagan (studentized) BP = {stat:.4g}, df = {df:g}, p = {p:.3g}"), info
    if cov_type == "nonrobust":
        return (
            Diagnostic(
                "heteroskedasticity",
                "warn",
                p,
                f"Breusch-Pagan BP = {stat:.4g}, df = {df:g}, p = {p:.3g}: error variance depends on the regressors; "
                "classical standard errors are unreliable, use cov_type='HC3'",
            ),
            info,
        )
    return Diagnostic("heteroskedasticity", "ok", p, f"Breusch-Pagan p = {p:.3g}, handled by the robust covariance ({cov_type})"), info


def _slopes_wald(names: list[str], coef: np.ndarray, cov: np.ndarray, df_resid: float | None) -> dict[str, float]:
    """Wald test that every non-intercept coefficient is zero, with the given covariance (``lmtest::waldtest``)."""
    from scipy import stats

    idx = [j for j, nm in enumerate(names) if nm != "(Intercept)"]
    if not idx:
        return {}
    b = coef[idx]
    V = cov[np.ix_(idx, idx)]
    try:
        W = float(b @ np.linalg.solve(V, b))
    except np.linalg.LinAlgError:
        return {}
    J = len(idx)
    if df_resid is None:
        return {"wald_statistic": W, "wald_df": float(J), "wald_pvalue": float(stats.chi2.sf(W, J))}
    F = W / J
    return {"wald_statistic": F, "wald_df": float(J), "wald_df2": df_resid, "wald_pvalue": float(stats.f.sf(F, J, df_resid))}


def _few_clusters(n_clusters: int | None) -> list[Diagnostic]:
    if n_clusters is None:
        return []
    if n_clusters < 20:
        return [
            Diagnostic(
                "number of clusters",
                "warn",
                float(n_clusters),
                f"only {n_clusters} clusters: cluster-robust standard errors are biased downwards and intervals too short "
                "with fewer than about 20-50 clusters; consider a wild cluster bootstrap",
            )
        ]
    return [Diagnostic("number of clusters", "ok", float(n_clusters), f"{n_clusters} clusters")]


def _n_clusters(cluster: Any) -> int | None:
    if cluster is None:
        return None
    return int(pd.Series(cluster).nunique())


# ---------------------------------------------------------------------------------------------- OLS
@vp.validate_params(
    {
        "x": ["formula", "array-like"],
        "y": [None, "sample"],
        "data": [None, "data", *SCALE_DATA],
        "add_constant": "boolean",
        "weights": [None, "sample"],
        "cov_type": "cov_type",
        "cluster": [None, "sample"],
        "hac_lags": [None, vp.Interval("int", 0)],
        "conf_level": "conf_level",
        "cluster_df": vp.Options(("n-k", "G-1")),
        "absorb": [None, "columns"],
    }
)
def ols(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    add_constant: bool = True,
    weights: Any = None,
    cov_type: str = "nonrobust",
    cluster: Any = None,
    hac_lags: int | None = None,
    cluster_df: str = "n-k",
    conf_level: float = 0.95,
    absorb: Any = None,
) -> RegressionResult:
    """Ordinary (or weighted) least squares with classical or robust standard errors, as R's ``lm``.

    Parameters
    ----------
    x : str or array-like
        A formula such as ``"wt82_71 ~ qsmk + age + C(race)"`` (with ``data``; patsy syntax, as statsmodels
        uses; functions of the caller's namespace and ``np.`` may be called), or a design matrix (n, k) /
        DataFrame of numeric columns.
    y : array-like, optional
        Outcome, when ``x`` is a design matrix.
    data : DataFrame or Dataset, optional
        Table holding the formula's columns (and ``weights``/``cluster`` when given as names). Also a
        :class:`~causalinfer.data.ParquetSource`, a :class:`~causalinfer.data.SQLTable`, a DuckDB relation or a
        dask DataFrame: the fit is then computed from sums inside the engine (``x`` a formula or a list of
        column names, ``y``, ``weights`` and ``cluster`` column names; ``cov_type`` "nonrobust", "HC0", "HC1"
        or "cluster"), equal to the in-memory fit; ``details`` then has no residuals or fitted values.
    add_constant : bool
        With a design matrix, prepend an intercept column named ``(Intercept)`` (default True, as ``lm``).
        Ignored for formulas (use ``- 1`` / ``+ 0`` in the formula to drop the intercept).
    weights : array-like or str, optional
        Positive case weights (weighted least squares, as ``lm(weights=)``).
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "HAC"}
        Coefficient covariance (aliases such as ``"classical"``, ``"robust"`` = HC1 or ``"newey-west"`` are
        accepted; see :func:`normalize_cov_type`): classical, ``sandwich::vcovHC`` types, one-way cluster-robust
        (``sandwich::vcovCL``, HC1 small-sample factor), or Newey-West HAC.
    cluster : array-like or str, optional
        Cluster labels (or column name) for ``cov_type="cluster"``; at least two clusters. With a Dataset that
        has a ``cluster`` role, that column is used by default.
    hac_lags : int, optional
        Lag truncation for ``cov_type="HAC"``; default ``floor(4 (n/100)^(2/9))`` (Newey and West's rule of
        thumb, stated in ``method``; R's ``NeweyWest`` without ``lag`` instead chooses a data-driven bandwidth).
        Observations are taken in the order given: sort by time first.
    cluster_df : {"n-k", "G-1"}
        Degrees of freedom of the t and F tests with ``cov_type="cluster"``: ``"n-k"`` (the residual df, as
        ``lmtest::coeftest`` after ``sandwich::vcovCL``, the default) or ``"G-1"`` (the number of clusters minus
        one, as Stata's ``vce(cluster)``, statsmodels' cluster-robust t tests and ``fixest``). With few clusters
        ``"G-1"`` gives wider, more honest intervals. The choice is stated in ``method`` and in
        ``details["fit"]["inference_df"]``/``["inference_df_rule"]``.
    conf_level : float
        Confidence level of the coefficient intervals.
    absorb : str or list of str, optional
        Categorical columns whose fixed effects are absorbed (partialled out by weighted alternating projections)
        instead of estimated, as fixest's ``y ~ x | firm + year``; the formula may also name them after a ``|``.
        Singletons are removed and the degrees of freedom follow fixest/pyfixest (factors nested in a cluster
        variable are not counted); ``cov_type`` may then be "nonrobust", "HC0", "HC1" or "cluster", and
        ``cluster`` may name two columns for two-way clustering (also without ``absorb``). See
        :mod:`causalinfer.stats._fixed_effects` for the exact conventions.

    Returns
    -------
    RegressionResult
        ``terms`` / ``to_frame()``: one row per coefficient with ``estimate, std_error, ci_low, ci_high,
        statistic`` (t), ``df`` (the t df) and ``pvalue``. ``statistic``/``df``/``pvalue`` of the result itself
        are the overall F test of all non-intercept coefficients with the chosen covariance: the classical F of
        ``summary.lm`` for ``cov_type="nonrobust"``, otherwise the robust Wald F of ``lmtest::waldtest(fit, vcov =
        ...)`` (on ``G - 1`` denominator df with ``cluster_df="G-1"``); ``estimand`` says which. ``details``:
        ``"fit"`` (r_squared, adj_r_squared, f_statistic, f_df1, f_df2, f_pvalue, sigma, rss, loglik, aic, bic,
        n, df_resid, cov_type, and ``wald_statistic``/``wald_df``/``wald_df2``/``wald_pvalue``: the F test of all
        slopes with the chosen covariance, as ``lmtest::waldtest(fit, vcov = ...)``), ``"cov"`` (covariance matrix), ``"vif"`` (variance inflation factors),
        ``"residuals"`` and ``"fitted"``. Diagnostics: collinearity, residual normality, Breusch-Pagan
        heteroskedasticity.

    Notes
    -----
    :math:`\\hat\\beta = (X'WX)^{-1}X'Wy` by a QR decomposition. Classical covariance
    :math:`\\hat\\sigma^2 (X'WX)^{-1}` with :math:`\\hat\\sigma^2 = \\sum w_i e_i^2/(n-k)`; sandwich covariances
    :math:`B (\\sum_i s_i s_i') B` with :math:`B = (X'WX)^{-1}`, :math:`s_i = w_i e_i x_i`, and the HC1/HC2/HC3,
    cluster (:math:`G/(G-1)\\cdot(n-1)/(n-k)`) and Bartlett-kernel HAC modifications of R's ``sandwich``.
    Inference uses the t distribution with :math:`n-k` df for every covariance type, as
    ``lmtest::coeftest`` does for ``lm``. Perfectly collinear columns are refused (R would report ``NA``).

    Validated against R ``lm`` + ``sandwich`` + ``lmtest`` (``tests/reference/regression.R``) and the NIST
    StRD certified values (Norris, Longley).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"x": rng.normal(size=100)})
    >>> df["y"] = 1 + 2 * df["x"] + rng.normal(size=100)
    >>> r = ci.stats.ols("y ~ x", data=df, cov_type="HC3")
    >>> r.to_frame()["term"].tolist()
    ['(Intercept)', 'x']
    >>> round(float(r.coef["x"]), 2)
    1.97
    """
    if is_scale_data(data):  # a Parquet file, SQL table, DuckDB relation or dask DataFrame: computed in the engine
        opts = {"weights": weights, "cluster": cluster, "cluster_df": cluster_df, "absorb": absorb, "hac_lags": hac_lags}
        return _at_scale("ols", x, y, data, add_constant=add_constant, cov_type=cov_type, conf_level=conf_level, **opts)
    cov_type, conf_level, hac_lags = _check_common(cov_type, conf_level, hac_lags)
    cluster_df = _check_cluster_df(cluster_df, cov_type)
    from ._fixed_effects import fe_ols, wants_fixed_effects

    if wants_fixed_effects(x, data, absorb, cluster):
        opts = {"weights": weights, "cov_type": cov_type, "cluster": cluster, "cluster_df": cluster_df, "conf_level": conf_level}
        return fe_ols(x, data, absorb=absorb, namespaces=_caller_namespaces(1), tools=_fe_tools(), **opts)  # type: ignore[no-any-return]
    d = _design(
        x,
        y,
        data,
        add_constant=add_constant,
        weights=weights,
        cluster=cluster,
        offset=None,
        cov_type=cov_type,
        namespaces=_caller_namespaces(1),
    )
    n = d.X.shape[0]
    lags = (default_hac_lags(n) if hac_lags is None else hac_lags) if cov_type == "HAC" else None
    fit = fit_least_squares(d.X, d.y, weights=d.weights, cov_type=cov_type, cluster=d.cluster, hac_lags=lags, names=d.names)
    fit_stats = _ols_fit_statistics(d, fit, cov_type=cov_type, lags=lags)
    t_df, df_rule = _inference_df(fit_stats, cluster_df)
    fit_stats["inference_df"], fit_stats["inference_df_rule"] = t_df, df_rule
    fit_stats.update(_slopes_wald(d.names, fit.coef, fit.cov, t_df))
    terms = _terms(d.names, fit.coef, fit.cov, conf_level, t_df)
    w = np.ones(n) if d.weights is None else d.weights
    unweighted = d.weights is None
    coll, vifs = _collinearity(d.X, d.names, d.intercept, fit.r if unweighted else None)
    het, bp = _heteroskedasticity(d.X, fit.residuals * np.sqrt(w), cov_type, fit.q if unweighted else None)
    fit_stats.update(bp)
    diags = (
        coll,
        _residual_normality(fit.residuals * np.sqrt(w)),
        het,
        *_few_clusters(fit_stats.get("n_clusters")),
        *_perfect_fit(fit.residuals * np.sqrt(w), fit.fitted, n - d.X.shape[1]),
    )
    method = (
        ("Weighted" if d.weights is not None else "Ordinary")
        + " least squares regression, "
        + _cov_label(cov_type, lags, fit_stats.get("n_clusters"), linear=True)
        + (f", t and F tests on {df_rule}" if cov_type == "cluster" else "")
    )
    stat, stat_df, pval, test_label = _overall_test(fit_stats, cov_type)
    return RegressionResult(
        method=method,
        estimand=f"linear regression coefficients for {d.response} ({test_label}: all slopes zero)",
        statistic=stat,
        statistic_name="F",
        df=stat_df,
        pvalue=pval,
        conf_level=conf_level,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=diags,
        terms=terms,
        details={
            "fit": fit_stats,
            "cov": pd.DataFrame(fit.cov, index=d.names, columns=d.names),
            "vif": vifs,
            "residuals": fit.residuals,
            "fitted": fit.fitted,
        },
        provenance=Provenance.current(data_fingerprint=d.fingerprint),
        design=_PredictionDesign(d.design_info, d.offset is not None),
    )


_CLUSTER_DF = ("n-k", "G-1")


def _fe_tools() -> Any:
    """The helpers the fixed-effects module borrows from this one (handed in, so it need not import this module)."""
    from ._fixed_effects import Tools

    return Tools(_formula_design, _column_or_array, _terms, _inference_df, _slopes_wald, _few_clusters, RegressionResult)


def _at_scale(kind: str, x: Any, y: Any, data: Any, **opts: Any) -> RegressionResult:
    """A regression on a source or dask DataFrame (code in _scale; this module's result builders handed in)."""
    opts["cov_type"], opts["conf_level"], lags = _check_common(opts["cov_type"], opts["conf_level"], opts.pop("hac_lags"))
    if lags is not None:
        raise ArgumentError("`hac_lags` does not apply on a Parquet, SQL or dask `data` (HAC needs the rows in order)")
    opts["cluster_df"] = _check_cluster_df(opts.get("cluster_df", "n-k"), opts["cov_type"])
    return fit_at_scale(kind, x, y, data, _scale_helpers(), _caller_namespaces(2), **opts)  # type: ignore[no-any-return]


def _scale_helpers() -> dict[str, Any]:
    """This module's result builders, handed to the at-scale code (which does not import this module)."""
    return {
        "terms": _terms,
        "inference_df": _inference_df,
        "slopes_wald": _slopes_wald,
        "few_clusters": _few_clusters,
        "cov_label": _cov_label,
        "overall_test": _overall_test,
        "glm_overall_test": _glm_overall_test,
        "RegressionResult": RegressionResult,
        "PredictionDesign": _PredictionDesign,
    }


def _check_cluster_df(value: Any, cov_type: str) -> str:
    rule = check_choice(value, "cluster_df", _CLUSTER_DF)
    if rule == "G-1" and cov_type != "cluster":
        raise ArgumentError(f"`cluster_df` = 'G-1' applies to cluster-robust errors only; got cov_type={cov_type!r}")
    return rule


def _inference_df(fit_stats: dict[str, Any], cluster_df: str) -> tuple[float, str]:
    """The df of the coefficient t tests (and the Wald F denominator), with the rule in words."""
    if cluster_df == "G-1":
        g = int(fit_stats["n_clusters"])
        return float(g - 1), f"G - 1 = {g - 1} df (clusters minus one, as Stata, statsmodels and fixest)"
    df = float(fit_stats["df_resid"])
    return df, f"n - k = {df:g} df (residual df, as lmtest::coeftest)"


def _overall_test(fit_stats: dict[str, Any], cov_type: str) -> tuple[float | None, Any, float | None, str]:
    """The header test that matches the covariance: classical F, or the Wald test with the robust covariance."""
    if cov_type == "nonrobust":
        f = fit_stats["f_statistic"]
        if math.isnan(f):
            return None, None, None, "overall F test"
        return f, (fit_stats["f_df1"], fit_stats["f_df2"]), fit_stats["f_pvalue"], "overall F test"
    if "wald_statistic" not in fit_stats:
        return None, None, None, f"overall Wald test ({cov_type} covariance)"
    return (
        fit_stats["wald_statistic"],
        (fit_stats["wald_df"], fit_stats["wald_df2"]),
        fit_stats["wald_pvalue"],
        f"overall Wald F test with the {cov_type} covariance",
    )


def _ols_fit_statistics(d: _Design, fit: Any, *, cov_type: str, lags: int | None) -> dict[str, Any]:
    """R2, the classical F test, likelihood and information criteria of a least-squares fit (as ``summary.lm``)."""
    from scipy import stats

    n, k = d.X.shape
    df_resid = fit.df_resid
    w = np.ones(n) if d.weights is None else d.weights
    rss = float(np.sum(w * fit.residuals**2))
    if d.intercept:
        ybar = float(np.sum(w * d.y) / np.sum(w))
        tss = float(np.sum(w * (d.y - ybar) ** 2))
    else:
        tss = float(np.sum(w * d.y**2))
    df_model = k - (1 if d.intercept else 0)
    r2 = 1.0 - rss / tss if tss > 0 else math.nan
    adj = 1.0 - (1.0 - r2) * (n - (1 if d.intercept else 0)) / df_resid if tss > 0 else math.nan
    if df_model > 0 and tss > 0:
        fstat = ((tss - rss) / df_model) / (rss / df_resid)
        fp = float(stats.f.sf(fstat, df_model, df_resid))
    else:
        fstat, fp = math.nan, math.nan
    loglik = 0.5 * float(np.sum(np.log(w))) - n / 2 * (math.log(2 * math.pi) + 1 - math.log(n) + math.log(rss))
    n_par = k + 1
    out: dict[str, Any] = {
        "n": n,
        "k": k,
        "df_resid": df_resid,
        "r_squared": r2,
        "adj_r_squared": adj,
        "f_statistic": fstat,
        "f_df1": float(df_model),
        "f_df2": df_resid,
        "f_pvalue": fp,
        "sigma": math.sqrt(fit.sigma2),
        "rss": rss,
        "deviance": rss,
        "loglik": loglik,
        "aic": -2 * loglik + 2 * n_par,
        "bic": -2 * loglik + math.log(n) * n_par,
        "cov_type": cov_type,
        "inference": "t",
        "model": "ols",
        "formula": d.formula,
        "response": d.response,
        "weighted": d.weights is not None,
    }
    if cov_type == "HAC":
        out["hac_lags"] = lags
    if cov_type == "cluster":
        out["n_clusters"] = _n_clusters(d.cluster)
    return out


# ---------------------------------------------------------------------------------------------- GLMs
@vp.validate_params(
    {
        "x": ["formula", "array-like"],
        "y": [None, "sample"],
        "data": [None, "data", *SCALE_DATA],
        "add_constant": "boolean",
        "weights": [None, "sample"],
        "cov_type": "cov_type",
        "cluster": [None, "sample"],
        "hac_lags": [None, vp.Interval("int", 0)],
        "conf_level": "conf_level",
    }
)
def logit(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    add_constant: bool = True,
    weights: Any = None,
    cov_type: str = "nonrobust",
    cluster: Any = None,
    hac_lags: int | None = None,
    conf_level: float = 0.95,
) -> RegressionResult:
    """Logistic regression (binomial GLM, logit link), as R's ``glm(family = binomial)``.

    Parameters are those of :func:`ols`; the outcome must be 0/1 (or boolean). ``weights`` are prior weights
    (coefficients and covariances as ``glm(weights=)``; with non-integer weights the reported log-likelihood and
    AIC are the weighted log-likelihood, whereas R treats the weights as numbers of trials).

    Returns
    -------
    RegressionResult
        One row per coefficient (log odds ratios) with z statistics (``df`` is NaN) and Wald intervals
        :math:`\\hat\\beta \\pm z_{1-\\alpha/2}\\,\\mathrm{se}`, as ``summary.glm`` / ``lmtest::coeftest``.
        The result's ``statistic``/``df``/``pvalue`` are the likelihood-ratio chi-square test against the
        intercept-only model with classical errors, and the Wald chi-square test of all slopes with the chosen
        covariance otherwise (the likelihood ratio is always in ``details["fit"]``). ``details["fit"]``: deviance, null_deviance, df_resid, df_null, loglik, aic, bic,
        n, iterations, cov_type, and the Wald chi-square test of all slopes with the chosen covariance
        (``wald_statistic``, ``wald_df``, ``wald_pvalue``). Diagnostics: collinearity and separation (fitted probabilities of 0 or 1).

    Notes
    -----
    Fitted by IRLS (statsmodels GLM, tolerance 1e-12). Sandwich covariances use scores
    :math:`s_i = w_i (y_i - \\mu_i) x_i` and bread :math:`(X'VX)^{-1}`, :math:`V = \\mathrm{diag}(w_i\\mu_i(1-\\mu_i))`,
    with the hat values of the weighted fit for HC2/HC3, exactly as ``sandwich::vcovHC``/``vcovCL`` for ``glm``
    (for a GLM ``vcovCL`` applies only the :math:`G/(G-1)` cluster factor, not :math:`(n-1)/(n-k)`).
    Validated against R ``glm`` + ``sandwich`` + ``lmtest::coeftest`` (``tests/reference/regression.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"x": rng.normal(size=300)})
    >>> df["y"] = (rng.uniform(size=300) < 1 / (1 + np.exp(-(0.5 + df["x"])))).astype(int)
    >>> r = ci.stats.logit("y ~ x", data=df)
    >>> r.to_frame()["term"].tolist(), r.details["fit"]["inference"]
    (['(Intercept)', 'x'], 'z')
    """
    if is_scale_data(data):  # computed inside the engine
        opts = {"add_constant": add_constant, "weights": weights, "cluster": cluster, "hac_lags": hac_lags}
        return _at_scale("logit", x, y, data, cov_type=cov_type, conf_level=conf_level, **opts)
    return _glm(
        "logit",
        x,
        y,
        data=data,
        add_constant=add_constant,
        weights=weights,
        cov_type=cov_type,
        cluster=cluster,
        hac_lags=hac_lags,
        conf_level=conf_level,
        offset=None,
        namespaces=_caller_namespaces(1),
    )


@vp.validate_params(
    {
        "x": ["formula", "array-like"],
        "y": [None, "sample"],
        "data": [None, "data", *SCALE_DATA],
        "add_constant": "boolean",
        "weights": [None, "sample"],
        "cov_type": "cov_type",
        "cluster": [None, "sample"],
        "hac_lags": [None, vp.Interval("int", 0)],
        "conf_level": "conf_level",
        "offset": [None, "sample"],
        "absorb": [None, "columns"],
    }
)
def poisson(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    add_constant: bool = True,
    weights: Any = None,
    offset: Any = None,
    cov_type: str = "nonrobust",
    cluster: Any = None,
    hac_lags: int | None = None,
    conf_level: float = 0.95,
    absorb: Any = None,
) -> RegressionResult:
    """Poisson regression (log link), as R's ``glm(family = poisson)``.

    With ``absorb=[...]`` or a formula ``"y ~ x | firm + year"`` the factors' fixed effects are absorbed (Poisson
    pseudo-maximum likelihood as fixest's ``fepois``; see :mod:`causalinfer.stats._fe_poisson`).

    Parameters are those of :func:`ols`, plus ``offset`` (array or column name, e.g. log exposure). The outcome
    must be non-negative counts.

    Returns
    -------
    RegressionResult
        One row per coefficient (log rate ratios) with z statistics, as for :func:`logit`. Diagnostics add an
        overdispersion check (Pearson chi-square / residual df); when it exceeds 1.5 with classical errors,
        fit :func:`negative_binomial` (theta estimated) or use ``cov_type="HC0"`` (robust "sandwich" Poisson).

    Notes
    -----
    Scores :math:`s_i = w_i (y_i - \\mu_i) x_i`, bread :math:`(X'\\mathrm{diag}(w_i\\mu_i)X)^{-1}`. Validated against
    R ``glm(family = poisson)`` + ``sandwich`` (``tests/reference/regression.R``).

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(3)
    >>> x = rng.normal(size=200)
    >>> y = rng.poisson(np.exp(0.3 + 0.5 * x))
    >>> r = ci.stats.poisson(x, y, cov_type="HC0")
    >>> r.to_frame()["term"].tolist()
    ['(Intercept)', 'x1']
    """
    from ._fixed_effects import wants_fixed_effects

    if is_scale_data(data):  # computed inside the engine
        opts = {"add_constant": add_constant, "weights": weights, "cluster": cluster, "hac_lags": hac_lags, "offset": offset}
        return _at_scale("poisson", x, y, data, cov_type=cov_type, conf_level=conf_level, absorb=absorb, **opts)
    if wants_fixed_effects(x, data, absorb, cluster):
        return _fe_poisson_hook(x, data, absorb, offset, weights=weights, cov_type=cov_type, cluster=cluster, conf_level=conf_level)
    return _glm(
        "poisson",
        x,
        y,
        data=data,
        add_constant=add_constant,
        weights=weights,
        cov_type=cov_type,
        cluster=cluster,
        hac_lags=hac_lags,
        conf_level=conf_level,
        offset=offset,
        namespaces=_caller_namespaces(1),
    )


def _fe_poisson_hook(x: Any, data: Any, absorb: Any, offset: Any, **opts: Any) -> RegressionResult:
    """Poisson with absorbed fixed effects (code in _fe_poisson)."""
    from ._fe_poisson import fe_poisson

    cov_type, opts["conf_level"], _ = _check_common(opts.pop("cov_type"), opts["conf_level"], None)
    if offset is not None:
        raise ArgumentError("`offset` is not supported with absorbed fixed effects; add log(exposure) as a regressor")
    return fe_poisson(x, data, absorb=absorb, cov_type=cov_type, namespaces=_caller_namespaces(2), tools=_fe_tools(), **opts)  # type: ignore[no-any-return]


def _glm(
    kind: str,
    x: Any,
    y: Any,
    *,
    data: Any,
    add_constant: bool,
    weights: Any,
    cov_type: Any,
    cluster: Any,
    hac_lags: Any,
    conf_level: Any,
    offset: Any,
    namespaces: list[dict[str, Any]],
) -> RegressionResult:
    """Logistic or Poisson regression: check the outcome, fit by IRLS, then test, diagnose and report."""
    cov_type, conf_level, hac_lags = _check_common(cov_type, conf_level, hac_lags)
    d = _design(
        x, y, data, add_constant=add_constant, weights=weights, cluster=cluster, offset=offset, cov_type=cov_type, namespaces=namespaces
    )
    _check_glm_outcome(kind, d)
    n = d.X.shape[0]
    lags = (default_hac_lags(n) if hac_lags is None else hac_lags) if cov_type == "HAC" else None
    g = fit_glm(
        d.X, d.y, family=kind, weights=d.weights, offset=d.offset, cov_type=cov_type, cluster=d.cluster, hac_lags=lags, names=d.names
    )
    fit_stats = _glm_fit_statistics(kind, d, g, cov_type=cov_type, lags=lags)
    terms = _terms(d.names, g.coef, g.cov, conf_level, None)
    coll, vifs = _collinearity(d.X, d.names, d.intercept)
    diags = [
        coll,
        *_few_clusters(fit_stats.get("n_clusters")),
        *_glm_diagnostics(kind, d, g, fit_stats, cov_type=cov_type),
    ]
    family_name = "Logistic regression (binomial GLM, logit link)" if kind == "logit" else "Poisson regression (log link)"
    what = "log odds ratios" if kind == "logit" else "log rate ratios"
    label, stat_name, stat, stat_df, pval = _glm_overall_test(fit_stats, cov_type)
    return RegressionResult(
        method=f"{family_name}, {_cov_label(cov_type, lags, fit_stats.get('n_clusters'), linear=False)}",
        estimand=f"{what} for {d.response} ({label}: all slopes zero)",
        statistic=stat,
        statistic_name=stat_name,
        df=stat_df,
        pvalue=pval,
        conf_level=conf_level,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=tuple(diags),
        terms=terms,
        details={
            "fit": fit_stats,
            "cov": pd.DataFrame(g.cov, index=d.names, columns=d.names),
            "vif": vifs,
            "fitted": g.mu,
        },
        provenance=Provenance.current(data_fingerprint=d.fingerprint),
        design=_PredictionDesign(d.design_info, d.offset is not None),
    )


def _check_glm_outcome(kind: str, d: _Design) -> None:
    if kind == "logit":
        vals = np.unique(d.y)
        if not np.all(np.isin(vals, (0.0, 1.0))):
            raise DataError(
                f"the outcome {d.response!r} of a logistic regression must be 0/1 (or boolean); got values {show(vals[:6].tolist())}"
            )
        if vals.size < 2:
            raise DataError(f"the outcome {d.response!r} takes only the value {vals[0]:g}; logistic regression needs both 0 and 1")
    elif np.any(d.y < 0) or np.any(d.y != np.round(d.y)):
        raise DataError(f"the outcome {d.response!r} of a Poisson regression must be non-negative counts (integers)")
    elif not np.any(d.y > 0):
        raise DataError(
            f"the outcome {d.response!r} is zero in every row: there is no rate to estimate (the maximum-likelihood "
            "intercept runs off to minus infinity); model a variable with at least one positive count"
        )


def _glm_fit_statistics(kind: str, d: _Design, g: Any, *, cov_type: str, lags: int | None) -> dict[str, Any]:
    """Deviances, likelihood-ratio test, information criteria and the robust Wald test of a GLM fit."""
    from scipy import stats

    n, k = d.X.shape
    pw = np.ones(n) if d.weights is None else d.weights
    lr = g.null_deviance - g.deviance
    lr_df = float(k - (1 if d.intercept else 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(np.sum(np.where(g.variance > 0, pw * (d.y - g.mu) ** 2 / g.variance, 0.0)))
    out: dict[str, Any] = {
        "n": n,
        "k": k,
        "df_resid": float(n - k),
        "df_null": float(n - (1 if d.intercept else 0)),
        "deviance": g.deviance,
        "null_deviance": g.null_deviance,
        "loglik": g.loglik,
        "aic": -2 * g.loglik + 2 * k,
        "bic": -2 * g.loglik + math.log(n) * k,
        "pearson_chi2": pearson,
        "lr_statistic": lr,
        "lr_df": lr_df,
        "lr_pvalue": float(stats.chi2.sf(lr, lr_df)) if lr_df > 0 else math.nan,
        "iterations": g.iterations,
        "converged": g.converged,
        "cov_type": cov_type,
        "inference": "z",
        "model": kind,
        "formula": d.formula,
        "response": d.response,
        "weighted": d.weights is not None,
    }
    if cov_type == "HAC":
        out["hac_lags"] = lags
    if cov_type == "cluster":
        out["n_clusters"] = _n_clusters(d.cluster)
    out.update(_slopes_wald(d.names, g.coef, g.cov, None))
    return out


def _glm_overall_test(fit_stats: dict[str, Any], cov_type: str) -> tuple[str, str, Any, Any, Any]:
    """Likelihood ratio with classical errors; the Wald test with the chosen covariance otherwise."""
    lr_df = fit_stats["lr_df"]
    if cov_type == "nonrobust" or "wald_statistic" not in fit_stats:
        if lr_df <= 0:
            return "likelihood-ratio test", "LR chi-squared", None, None, None
        return "likelihood-ratio test", "LR chi-squared", fit_stats["lr_statistic"], lr_df, fit_stats["lr_pvalue"]
    return (
        f"Wald chi-squared test with the {cov_type} covariance",
        "Wald chi-squared",
        fit_stats["wald_statistic"],
        fit_stats["wald_df"],
        fit_stats["wald_pvalue"],
    )


def _glm_diagnostics(kind: str, d: _Design, g: Any, fit_stats: dict[str, Any], *, cov_type: str) -> list[Diagnostic]:
    diags = []
    if not g.converged:
        diags.append(Diagnostic("convergence", "fail", None, "IRLS did not converge in 100 iterations; estimates are unreliable"))
    diags.append(_existence_diagnostic(kind, d, g))
    if kind == "poisson":
        n, k = d.X.shape
        ratio = fit_stats["pearson_chi2"] / (n - k)
        if ratio > 1.5:
            status = "warn" if cov_type == "nonrobust" else "ok"
            advice = (
                "classical standard errors are too small; fit a negative binomial model (stats.negative_binomial, theta "
                "estimated) or use cov_type='HC0' (robust Poisson)"
                if status == "warn"
                else f"handled by the robust covariance ({cov_type}); stats.negative_binomial models the extra variance"
            )
            diags.append(Diagnostic("overdispersion", status, ratio, f"Pearson chi-square / df = {ratio:.3g} > 1.5: {advice}"))
        else:
            diags.append(Diagnostic("overdispersion", "ok", ratio, f"Pearson chi-square / df = {ratio:.3g}: no sign of overdispersion"))
    return diags


def _existence_diagnostic(kind: str, d: _Design, g: Any) -> Diagnostic:
    """Does the MLE exist? A linear-programming proof (Konis 2007), with the fitted values at the boundary as context."""
    import warnings

    name = "separation" if kind == "logit" else "existence of the estimate"
    score = getattr(g, "score", None)
    if score is None:  # canonical link (logit, Poisson): the score of row i is w_i (y_i - mu_i)
        score = (1.0 if d.weights is None else d.weights) * (d.y - g.mu)
    ex = check_existence(d.X, d.y, d.names, kind, d.weights, score)
    eps = 1e-10
    at_edge = int(np.sum((g.mu < eps) | (g.mu > 1 - eps))) if kind == "logit" else int(np.sum(g.mu < eps))
    big = float(np.max(np.abs(g.coef)))
    if ex.exists:
        extra = " (the linear-programming check could not be run)" if ex.kind == "unchecked" else ""
        return Diagnostic(name, "ok", 0.0, f"the maximum likelihood estimate exists{extra}; largest |coefficient| {big:.3g}")
    terms = ", ".join(ex.infinite_terms) or "some coefficients"
    if kind == "logit":
        why = (
            "the outcome is (quasi-)completely separated by the predictors: a combination of them predicts every 0 and every 1 "
            f"without error ({at_edge} fitted probabilities are numerically 0 or 1)"
        )
        fix = "use penalised (Firth) logistic regression, or remove or combine the separating predictor(s)"
    else:
        why = (
            "some combination of the predictors is zero wherever the count is positive and negative on rows with zero "
            f"counts (for example a category with only zero counts; {at_edge} fitted means are numerically 0)"
        )
        fix = "drop or merge the all-zero categories, or use a penalised fit"
    msg = (
        f"the maximum likelihood estimate does not exist: {why}. The estimates of {terms} are not finite; the reported "
        f"values are where IRLS stopped and their standard errors are meaningless. {fix[0].upper()}{fix[1:]}"
    )
    warnings.warn(msg, AssumptionWarning, stacklevel=5)
    return Diagnostic(name, "fail", float(len(ex.infinite_terms)), msg)


# ---------------------------------------------------------------------------------------------- Wald tests
def _parse_restrictions(text: str, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    import patsy

    # patsy's constraint parser cannot read names with parentheses or brackets: substitute placeholders
    aliases = {nm: f"_b{j}_" for j, nm in enumerate(names)}
    expr = text
    for nm in sorted(names, key=len, reverse=True):
        expr = re.sub(r"(?<![A-Za-z0-9_.])" + re.escape(nm) + r"(?![A-Za-z0-9_.\[])", aliases[nm], expr)
    try:
        lc = patsy.DesignInfo(list(aliases.values())).linear_constraint(expr)
    except patsy.PatsyError as exc:
        raise ArgumentError(
            f"could not read the restrictions {text!r}: {str(exc).splitlines()[0]}. Use coefficient names {names}, e.g. 'x1 = x2, x3 = 0'"
        ) from None
    return np.asarray(lc.coefs, dtype=float), np.asarray(lc.constants, dtype=float).ravel()


def _restrictions_text(restrictions: Any, names: list[str]) -> Any:
    """A list or tuple of strings (term names, meaning "= 0", or restrictions such as "x1 = x2") as one text."""
    if isinstance(restrictions, (list, tuple)) and restrictions and all(isinstance(r, str) for r in restrictions):
        return ", ".join(restrictions)
    if isinstance(restrictions, (list, tuple)) and any(isinstance(r, str) for r in restrictions):
        raise ArgumentTypeError(
            f"`restrictions` mixes text and numbers ({show(restrictions)}); give either restrictions as text "
            f"(term names from {names}, e.g. ['x1', 'x2 = x3']) or a numeric matrix R"
        )
    if isinstance(restrictions, (list, tuple)) and not restrictions:
        raise ArgumentError("`restrictions` is empty; name at least one restriction, e.g. 'x1 = 0'")
    return restrictions


@vp.validate_params(
    {
        "result": vp.InstanceOf(RegressionResult),
        "restrictions": ["formula", "array-like"],
        "q": [None, vp.Interval("real"), "array-like"],
        "conf_level": [None, "conf_level"],
    }
)
def wald_test(result: RegressionResult, restrictions: Any, q: Any = None, *, conf_level: float | None = None) -> Result:
    """Wald test of linear restrictions ``R beta = q`` using the result's own covariance matrix.

    Parameters
    ----------
    result : RegressionResult
        From :func:`ols`, :func:`logit` or :func:`poisson`; its covariance (classical or robust) is used.
    restrictions : str, list of str, or array-like
        Either text such as ``"x1 = x2, x3 = 0"`` (coefficient names as in ``result.to_frame()["term"]``;
        linear combinations like ``"2*x1 + x2 = 1"`` are allowed), a list of such restrictions or of term names
        (``["x1", "x2"]`` tests that both coefficients are zero), or the matrix ``R`` (J, k), or a single row.
    q : array-like, optional
        Right-hand side (J,) when ``restrictions`` is a matrix; default zeros.
    conf_level : float, optional
        Level of the interval reported for a single restriction (default: the result's level).

    Returns
    -------
    Result
        For an OLS fit, ``statistic`` is F with ``df = (J, n-k)`` (as ``car::linearHypothesis(test = "F")`` and
        ``lmtest::waldtest``); for a GLM, chi-square with ``df = J``. With one restriction the result also has
        ``estimate`` (:math:`R\\hat\\beta - q`), ``std_error`` and a confidence interval; with several, ``terms``
        lists each restriction. ``details["R"]``, ``details["q"]``.

    Notes
    -----
    :math:`W = (R\\hat\\beta - q)'(R V R')^{-1}(R\\hat\\beta - q)`; F = W / J. Validated against
    ``car::linearHypothesis`` with ``vcov.`` set to the same covariance (``tests/reference/regression.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(4)
    >>> df = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"])
    >>> df["y"] = df.a + df.b + rng.normal(size=80)
    >>> w = ci.stats.wald_test(ci.stats.ols("y ~ a + b + c", data=df), "a = b, c = 0")
    >>> w.statistic_name, w.df
    ('F', (2.0, 76.0))
    """
    if not isinstance(result, RegressionResult):
        raise ArgumentTypeError(f"`result` must be a RegressionResult from ols/logit/poisson; got {type(result).__name__}")
    assert result.terms is not None
    names = list(result.terms["term"])
    Rm, qv, labels = _restriction_matrix(_restrictions_text(restrictions, names), q, names)
    J = Rm.shape[0]
    if np.linalg.matrix_rank(Rm) < J:
        raise ArgumentError(f"the {J} restrictions are linearly dependent (rank {np.linalg.matrix_rank(Rm)}); remove redundant ones")
    level = (result.conf_level or 0.95) if conf_level is None else check_conf_level(conf_level)
    diff = Rm @ result.terms["estimate"].to_numpy() - qv
    RVR = Rm @ result.details["cov"].to_numpy() @ Rm.T
    W = float(diff @ np.linalg.solve(RVR, diff))
    fit = result.details["fit"]
    stat, p, df, stat_name, qcrit = _wald_distribution(W, J, fit, level)
    se = np.sqrt(np.diag(RVR))
    common: dict[str, Any] = {
        "method": f"Wald test of {J} linear restriction{'s' if J > 1 else ''} ({stat_name}, {fit.get('cov_type', 'nonrobust')} covariance)",
        "estimand": "H0: " + "; ".join(labels),
        "statistic": stat,
        "statistic_name": stat_name,
        "df": df,
        "pvalue": min(p, 1.0),
        "alternative": "two-sided",
        "null_value": 0.0,
        "n": result.n,
        "details": {"R": pd.DataFrame(Rm, columns=names), "q": qv, "wald": W},
        "provenance": result.provenance,
    }
    lo, hi = diff - qcrit * se, diff + qcrit * se
    if J == 1:
        return Result(
            estimate=float(diff[0]), std_error=float(se[0]), ci_low=float(lo[0]), ci_high=float(hi[0]), conf_level=level, **common
        )
    terms = pd.DataFrame({"term": labels, "estimate": diff, "std_error": se, "ci_low": lo, "ci_high": hi})
    return Result(conf_level=level, terms=terms, **common)


def _restriction_matrix(restrictions: Any, q: Any, names: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``R``, ``q`` and a readable label per restriction, from text or from a numeric matrix."""
    k = len(names)
    if isinstance(restrictions, str):
        if q is not None:
            raise ArgumentError("give `q` only with a restriction matrix; in text form write the right-hand side, e.g. 'x1 = 2'")
        Rm, qv = _parse_restrictions(restrictions, names)
        return Rm, qv, [s.strip() for s in restrictions.split(",")]
    try:
        raw = np.asarray(restrictions, dtype=float) if not isinstance(restrictions, pd.DataFrame) else restrictions.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ArgumentTypeError(
            f"`restrictions` must be text such as 'x1 = x2', a list of term names or restrictions, or a numeric "
            f"matrix with one column per coefficient ({names}); got {show(restrictions)}"
        ) from None
    Rm = check_array(raw.reshape(1, -1) if raw.ndim == 1 else raw, "restrictions", ndim=2)
    if Rm.shape[1] != k:
        raise ArgumentError(f"`restrictions` must have one column per coefficient ({k}: {names}); got shape {Rm.shape}")
    qv = np.zeros(Rm.shape[0]) if q is None else check_array(q, "q")
    if qv.shape != (Rm.shape[0],):
        raise ArgumentError(f"`q` must have one value per restriction ({Rm.shape[0]}); got {qv.size}")
    labels = [
        " + ".join(f"{c:g}*{nm}" for c, nm in zip(row, names, strict=True) if c != 0) + f" = {qq:g}" for row, qq in zip(Rm, qv, strict=True)
    ]
    return Rm, qv, labels


def _wald_distribution(W: float, J: int, fit: dict[str, Any], level: float) -> tuple[float, float, Any, str, float]:
    """F on (J, t df) for least squares (t df: n - k, or G - 1 when asked), chi-squared on J for GLMs; and the critical value."""
    from scipy import stats

    if fit.get("inference") == "t":
        df_resid = float(fit.get("inference_df", fit["df_resid"]))
        stat = W / J
        return stat, float(stats.f.sf(stat, J, df_resid)), (float(J), df_resid), "F", t_crit(level, df_resid)
    return W, float(stats.chi2.sf(W, J)), float(J), "chi-squared", z_crit(level)
