"""Linear mixed models with random intercepts and slopes for one grouping factor, as ``lme4::lmer``.

The profiled (REML or ML) deviance of Bates, Maechler, Bolker and Walker (2015) is minimised over the relative
covariance factor; every evaluation works on per-group cross-products, so the cost per iteration grows with the
number of groups, not of rows. Fixed-effect tests use Satterthwaite degrees of freedom computed as ``lmerTest``
does. Validated against ``lme4::lmer`` and ``lmerTest`` (``tests/reference/mixed.R``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_conf_level, show, suggest_column
from ..exceptions import ArgumentError, ArgumentTypeError, ConvergenceError, DataError, RoleError
from ..results import Diagnostic, Provenance
from . import _mixed_terms as _mt
from ._mixed_terms import _hessian, _jacobian
from ._normal import t_crit, t_pvalue, z_crit
from ._regression import RegressionResult, _caller_namespaces, _design, _PredictionDesign

__all__ = ["MixedResult", "lmm"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class MixedResult(RegressionResult):
    """A fitted linear mixed model: fixed effects in ``terms``; ``details["random_effects"]`` holds the variance
    components (variance, standard deviation, correlation) and ``details["blups"]`` the predicted random effects
    (conditional modes) per group."""

    @property
    def random_effects(self) -> pd.DataFrame:
        return self.details["random_effects"].copy()

    @vp.validate_params({"newdata": "frame", "include_random": "boolean", "conf_level": [None, "conf_level"]})
    def predict(self, newdata: Any, *, include_random: bool = True, conf_level: float | None = None) -> pd.DataFrame:
        """Predictions for ``newdata``: the fixed-effects mean with its confidence interval, plus each group's
        predicted random effects where the group was seen in the fit (``include_random=True``).

        Returns a DataFrame (same index as ``newdata``) with ``fixed`` (X b), ``std_error`` and ``ci_low``/``ci_high``
        of the fixed part (normal quantiles; the uncertainty of the random effects is not included), ``random``
        (Z b_g, 0 for unseen groups or with ``include_random=False``), ``estimate`` = fixed + random and
        ``known_group``. Categorical columns keep the fit's levels; an unseen category raises.
        """
        import patsy

        if not isinstance(newdata, pd.DataFrame):
            raise ArgumentTypeError(f"`newdata` must be a pandas DataFrame; got {type(newdata).__name__}")
        fit = self.details["fit"]
        level = (self.conf_level or 0.95) if conf_level is None else check_conf_level(conf_level)
        frame = newdata.copy()
        for col, levels in self.details["levels"].items():
            if col not in frame.columns:
                continue
            unseen = sorted({str(v) for v in frame[col].dropna().unique()} - {str(v) for v in levels})
            if unseen:
                raise DataError(f"`newdata` column {col!r} has categories not seen in the fit: {unseen[:6]}; the fit knows {levels[:12]}")
            frame[col] = pd.Categorical(frame[col], categories=levels)
        rhs = fit["formula"].split("~", 1)[1]
        needed = [c for c in self.details["columns"] if c not in frame.columns]
        if needed:
            raise DataError(f"`newdata` lacks column(s) {needed} used by the model")
        try:
            info = getattr(self.design, "info", None)
            if info is not None and not isinstance(info, dict):  # the fit's own coding: stateful transforms keep their fitted values
                (Xm,) = patsy.build_design_matrices([info], frame, NA_action="raise", return_type="dataframe")
                X = pd.DataFrame(np.asarray(Xm, dtype=float), columns=list(info.column_names), index=frame.index)
            else:  # a result read back from JSON carries the formula only
                X = patsy.dmatrix(rhs, frame, return_type="dataframe", NA_action="raise")
            Z = patsy.dmatrix(fit["re_formula"] or "1", frame, return_type="dataframe", NA_action="raise")
        except patsy.PatsyError as exc:
            raise DataError(f"could not build the model matrix for `newdata`: {str(exc).splitlines()[0]}") from None
        names = ["(Intercept)" if c == "Intercept" else str(c) for c in X.columns]
        coef_names = self.terms["term"].tolist() if self.terms is not None else []
        if names != coef_names:
            raise DataError(f"`newdata` produced model columns {names}, not the fit's {coef_names}; check categorical columns")
        Xv = X.to_numpy(dtype=float)
        beta = self.terms["estimate"].to_numpy() if self.terms is not None else np.zeros(0)
        V = self.details["cov"].to_numpy()
        fixed = Xv @ beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", Xv, V, Xv))
        zq = z_crit(level)
        random = np.zeros(len(frame))
        known = np.zeros(len(frame), dtype=bool)
        if include_random and "re_terms" in self.details:
            random, known = _mt.random_part(self.details, frame)
        elif include_random:
            blups = self.details["blups"]
            group = blups.columns[0]
            if group not in frame.columns:
                raise DataError(f"`newdata` lacks the grouping column {group!r}; pass include_random=False for population predictions")
            lookup = {str(k): i for i, k in enumerate(blups[group])}
            idx = np.array([lookup.get(str(v), -1) for v in newdata[group]])
            known = idx >= 0
            B = blups.iloc[:, 1:].to_numpy()
            random[known] = np.einsum("ij,ij->i", Z.to_numpy(dtype=float)[known], B[idx[known]])
        return pd.DataFrame(
            {
                "estimate": fixed + random,
                "fixed": fixed,
                "std_error": se,
                "ci_low": fixed - zq * se,
                "ci_high": fixed + zq * se,
                "random": random,
                "known_group": known,
            },
            index=newdata.index,
        )


@dataclass(frozen=True)
class _Stats:
    ZtZ: np.ndarray  # (G, q, q)
    ZtX: np.ndarray  # (G, q, p)
    Zty: np.ndarray  # (G, q)
    XtX: np.ndarray
    Xty: np.ndarray
    yty: float
    n: int
    p: int
    q: int


def _suff_stats(X: np.ndarray, Z: np.ndarray, y: np.ndarray, codes: np.ndarray, G: int) -> _Stats:
    n, p = X.shape
    q = Z.shape[1]
    ZtZ = np.zeros((G, q, q))
    ZtX = np.zeros((G, q, p))
    Zty = np.zeros((G, q))
    for a in range(q):
        Zty[:, a] = np.bincount(codes, Z[:, a] * y, minlength=G)
        for b in range(q):
            ZtZ[:, a, b] = np.bincount(codes, Z[:, a] * Z[:, b], minlength=G)
        for b in range(p):
            ZtX[:, a, b] = np.bincount(codes, Z[:, a] * X[:, b], minlength=G)
    return _Stats(ZtZ, ZtX, Zty, X.T @ X, X.T @ y, float(y @ y), n, p, q)


def _tril_columnwise(q: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.tril_indices(q)
    order = np.lexsort((rows, cols))  # column-major lower triangle, as lme4's theta
    return rows[order], cols[order]


_TRIL = {q: _tril_columnwise(q) for q in range(1, 9)}


def _lambda(theta: np.ndarray, q: int) -> np.ndarray:
    rows, cols = _TRIL[q] if q in _TRIL else _tril_columnwise(q)
    L = np.zeros((q, q))
    L[rows, cols] = theta
    return L


@dataclass(frozen=True)
class _PLS:
    logdet_L: float
    logdet_RX: float
    beta: np.ndarray
    u: np.ndarray
    r2: float
    S: np.ndarray


def _pls(theta: np.ndarray, st: _Stats) -> _PLS:
    Lam = _lambda(theta, st.q)
    M = np.einsum("ji,gjk,kl->gil", Lam, st.ZtZ, Lam) + np.eye(st.q)
    chol = np.linalg.cholesky(M)
    logdet_L = 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
    B = np.einsum("ji,gjk->gik", Lam, st.ZtX)  # Lambda' Z_i' X_i
    c = st.Zty @ Lam  # Lambda' Z_i' y_i
    MB = np.linalg.solve(M, B)
    Mc = np.linalg.solve(M, c[..., None])[..., 0]
    S = st.XtX - np.einsum("gqi,gqj->ij", B, MB)
    s = st.Xty - np.einsum("gqi,gq->i", B, Mc)
    cS = np.linalg.cholesky(S)
    beta = np.linalg.solve(S, s)
    u = Mc - np.einsum("gqp,p->gq", MB, beta)
    r2 = st.yty - float(np.sum(c * u)) - float(beta @ st.Xty)
    return _PLS(logdet_L, 2.0 * float(np.sum(np.log(np.diag(cS)))), beta, u, max(r2, 1e-300), S)


def _profiled_deviance(theta: np.ndarray, st: _Stats, reml: bool) -> float:
    try:
        f = _pls(theta, st)
    except np.linalg.LinAlgError:
        return math.inf
    if reml:
        nr = st.n - st.p
        return f.logdet_L + f.logdet_RX + nr * (1 + math.log(2 * math.pi * f.r2 / nr))
    return f.logdet_L + st.n * (1 + math.log(2 * math.pi * f.r2 / st.n))


def _full_deviance(varpar: np.ndarray, st: _Stats, reml: bool) -> float:
    theta, sigma = varpar[:-1], varpar[-1]
    f = _pls(theta, st)
    s2 = sigma * sigma
    if reml:
        return f.logdet_L + f.logdet_RX + (st.n - st.p) * math.log(2 * math.pi * s2) + f.r2 / s2
    return f.logdet_L + st.n * math.log(2 * math.pi * s2) + f.r2 / s2


def _covbeta(varpar: np.ndarray, st: _Stats) -> np.ndarray:
    f = _pls(varpar[:-1], st)
    return varpar[-1] ** 2 * np.linalg.inv(f.S)


def _satterthwaite(varpar: np.ndarray, st: _Stats, reml: bool) -> np.ndarray:
    """Satterthwaite df for each fixed coefficient, as lmerTest (Hessian of the deviance in (theta, sigma))."""
    H = _hessian(lambda v: _full_deviance(v, st, reml), varpar)
    A = 2 * np.linalg.pinv(H)
    J = _jacobian(lambda v: _covbeta(v, st), varpar)  # (p*p, k)
    C = _covbeta(varpar, st)
    p = st.p
    out = np.empty(p)
    for j in range(p):
        g = J[j * p + j]
        denom = float(g @ A @ g)
        out[j] = 2 * C[j, j] ** 2 / denom if denom > 0 else math.inf
    return out


def _model_columns(frame: pd.DataFrame, *, formula: str, re_formula: str, response: str) -> tuple[list[Any], dict[Any, list[Any]]]:
    """The data columns the two formulas use (bar the response) and the sorted levels of the categorical ones."""
    tokens = set(re.findall(r"[A-Za-z_.][A-Za-z0-9_.]*", f"{formula} {re_formula}"))
    used = [c for c in frame.columns if isinstance(c, str) and c in tokens and c != response]
    cat_levels = {
        c: [str(v) if not isinstance(v, (int, float)) else v for v in sorted(pd.unique(frame[c].dropna()), key=str)]
        for c in used
        if not pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    }
    return used, cat_levels


def _random_design(frame: pd.DataFrame, re_formula: str) -> tuple[np.ndarray, list[str], str]:
    """The random-effects model matrix, its column names and the right-hand side it was built from."""
    import patsy

    rhs = re_formula.split("~", 1)[-1].strip() or "1"
    try:
        Zd = patsy.dmatrix(rhs, frame, return_type="dataframe", NA_action="raise")
    except patsy.PatsyError as exc:
        raise ArgumentError(
            f"could not build the random-effects design from `re_formula` {re_formula!r}: {str(exc).splitlines()[0]}"
        ) from None
    Z = Zd.to_numpy(dtype=float)
    if Z.shape[1] == 0:
        raise ArgumentError(
            f"`re_formula` {re_formula!r} gives no random effects; use '1' for random intercepts (or ols for a model without them)"
        )
    re_names = ["(Intercept)" if c == "Intercept" else str(c) for c in Zd.columns]
    return Z, re_names, rhs


def _minimise_deviance(st: _Stats, *, reml: bool) -> tuple[Any, Any, np.ndarray]:
    """L-BFGS-B on the profiled deviance, polished by a small simplex; returns the better answer, the polish run and
    the mask of the diagonal entries of theta."""
    from scipy import optimize

    q = st.q
    k = q * (q + 1) // 2
    rows, cols = np.tril_indices(q)
    order = np.lexsort((rows, cols))
    diag = rows[order] == cols[order]
    theta0 = np.where(diag, 1.0, 0.0)
    bounds = [(0.0, None) if dg else (None, None) for dg in diag]
    best = optimize.minimize(
        _profiled_deviance,
        theta0,
        args=(st, reml),
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
    )
    # polish with a small simplex around the quasi-Newton answer (the deviance is flat near the optimum)
    simplex = np.vstack([best.x, best.x + 1e-3 * np.eye(k) * np.maximum(np.abs(best.x), 0.1)])
    polish = optimize.minimize(
        _profiled_deviance,
        best.x,
        args=(st, reml),
        method="Nelder-Mead",
        options={"xatol": 1e-9, "fatol": 1e-12, "maxfev": 400 * k, "initial_simplex": simplex},
    )
    if polish.fun < best.fun and np.all(polish.x[diag] >= 0):
        best = polish
    return best, polish, diag


def _fixed_effects_table(
    f: Any,  # _PLS, or the term fitter's PLS
    st: Any,  # _Stats, or the term fitter's Structure
    *,
    names: list[str],
    cov: np.ndarray,
    theta: np.ndarray,
    sigma: float,
    reml: bool,
    conf_level: float,
    df_fun: Any = None,
) -> pd.DataFrame:
    """Fixed effects with standard errors, Satterthwaite df, t statistics, p-values and t intervals."""
    se = np.sqrt(np.diag(cov))
    varpar = np.append(theta, sigma)
    try:
        ddf = (df_fun or _satterthwaite)(varpar, st, reml)
    except np.linalg.LinAlgError:
        ddf = np.full(st.p, np.nan)
    tstat = f.beta / se
    qcrit = t_crit(conf_level, ddf)
    return pd.DataFrame(
        {
            "term": names,
            "estimate": f.beta,
            "std_error": se,
            "ci_low": f.beta - qcrit * se,
            "ci_high": f.beta + qcrit * se,
            "statistic": tstat,
            "df": ddf,
            "pvalue": t_pvalue(tstat, ddf),
        }
    )


def _variance_components(
    f: _PLS,
    *,
    theta: np.ndarray,
    sigma: float,
    groups: str,
    re_names: list[str],
    levels: np.ndarray,
) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """One row per variance, covariance (with its correlation) and the residual; and the conditional modes per group."""
    q = len(re_names)
    Lam = _lambda(theta, q)
    Sigma = sigma**2 * Lam @ Lam.T
    sds = np.sqrt(np.diag(Sigma))
    re_rows: list[dict[str, Any]] = [
        {"group": groups, "term": nm, "variance": float(Sigma[a, a]), "sd": float(sds[a]), "corr_with": None, "corr": np.nan}
        for a, nm in enumerate(re_names)
    ]
    for a in range(q):
        for b in range(a):
            corr = float(Sigma[a, b] / (sds[a] * sds[b])) if sds[a] > 0 and sds[b] > 0 else math.nan
            re_rows.append(
                {"group": groups, "term": re_names[a], "variance": float(Sigma[a, b]), "sd": np.nan, "corr_with": re_names[b], "corr": corr}
            )
    re_rows.append({"group": "Residual", "term": "", "variance": sigma**2, "sd": sigma, "corr_with": None, "corr": np.nan})
    blups = pd.DataFrame(f.u @ Lam.T, columns=re_names)
    blups.insert(0, groups, levels)
    return re_rows, blups


def _mixed_diagnostics(
    *,
    theta: np.ndarray,
    diag: np.ndarray,
    re_rows: list[dict[str, Any]],
    q: int,
    best: Any,
    polish: Any,
) -> tuple[Diagnostic, ...]:
    """Singular fit (a variance at zero or a correlation at +/-1, with the simpler model to use) and convergence."""
    diags = []
    corrs = [r["corr"] for r in re_rows if r["corr_with"] is not None]
    singular = bool(np.any(theta[diag] < 1e-4)) or any(abs(c) > 1 - 1e-4 for c in corrs if math.isfinite(c))
    if singular:
        advice = (
            "drop the random slopes (re_formula='1')"
            if q > 1
            else "the grouping explains no variance: an ordinary regression (ols) suffices"
        )
        diags.append(
            Diagnostic(
                "singular fit",
                "warn",
                float(np.min(theta[diag])),
                f"boundary (singular) fit: a variance is ~0 or a correlation ~+/-1; {advice}",
            )
        )
    else:
        diags.append(Diagnostic("singular fit", "ok", float(np.min(theta[diag])), "variance components are away from the boundary"))
    if not best.success and best is not polish:
        diags.append(Diagnostic("convergence", "warn", None, f"optimiser message: {best.message}"))
    return tuple(diags)


def _fit_summary(
    d: Any, *, deviance: float, n_groups: int, q: int, reml: bool, sigma: float, theta: np.ndarray, rhs: str
) -> dict[str, Any]:
    """The ``details["fit"]`` entry: sizes, criteria (deviance, log-likelihood, AIC, BIC) and the fitted parameters."""
    n, p = d.X.shape
    n_par = p + q * (q + 1) // 2 + 1
    return {
        "n": n,
        "n_groups": n_groups,
        "k": p,
        "reml": reml,
        "deviance": deviance,
        "loglik": -deviance / 2,
        "aic": deviance + 2 * n_par,
        "bic": deviance + math.log(n) * n_par,
        "sigma": sigma,
        "theta": theta.tolist(),
        "inference": "t",
        "cov_type": "Satterthwaite",
        "model": "lmm",
        "formula": d.formula,
        "re_formula": rhs,
        "response": d.response,
        "df_resid": float(n - p),
    }


@vp.validate_params(
    {
        "formula": "formula",
        "data": "data",
        "groups": [None, "column"],
        "re_formula": vp.String("a random-effects formula such as '1' or 'x'"),
        "reml": "boolean",
        "conf_level": "conf_level",
    }
)
def lmm(
    formula: str,
    *,
    data: Any,
    groups: str | None = None,
    re_formula: str = "1",
    reml: bool = True,
    conf_level: float = 0.95,
) -> MixedResult:
    """Linear mixed model with correlated random intercepts and slopes for one grouping factor (``lme4::lmer``).

    Parameters
    ----------
    formula : str
        Fixed effects, e.g. ``"Reaction ~ Days"`` (patsy syntax, as :func:`ols`), with ``groups`` and
        ``re_formula``; or a formula with lme4's random-effect terms and no ``groups``:
        ``"y ~ x + (1 | school/class)"`` (nested: ``school`` and ``class`` within school),
        ``"y ~ x + (1 | subject) + (1 | item)"`` (crossed), ``"y ~ x + (x | subject) + (1 | item)"`` (a random
        slope on one of several factors). Such fits work on the sparse random-effects design; their conditional
        modes are in ``details["ranef"]`` (one frame per term) and ``predict`` gives every unseen level the
        population value (0) of its term, as lme4's ``allow.new.levels = TRUE``.
    data : DataFrame or Dataset
    groups : str, optional
        Column of the grouping factor (subjects, schools...), with a formula without random-effect terms.
    re_formula : str
        Random-effects design within each group: ``"1"`` (random intercepts, default) or e.g. ``"Days"`` /
        ``"~ Days"`` (random intercepts and slopes with an unstructured covariance, lmer's ``(Days | Subject)``).
    reml : bool
        Restricted maximum likelihood (default, as lmer) or maximum likelihood (``REML = FALSE``).
    conf_level : float

    Returns
    -------
    MixedResult
        ``terms``: fixed effects with ``std_error``, ``statistic`` (t), ``df`` (Satterthwaite, as lmerTest),
        ``pvalue`` and t intervals. ``details``: ``"fit"`` (n, n_groups, loglik, deviance (REML criterion for
        REML), aic, bic, sigma, theta, reml), ``"cov"``, ``"random_effects"`` (one row per variance component:
        ``group, term, variance, sd`` and correlations), ``"blups"`` (conditional modes per group).
        Diagnostics: singular fit (a variance at zero or a correlation at +/-1, as lme4's ``isSingular``), with
        the simpler model to use. Terms with as many random effects as observations are refused.

    Notes
    -----
    With relative covariance factor :math:`\\Lambda_\\theta` the profiled deviance is
    :math:`\\log|L_\\theta|^2 + n(1 + \\log(2\\pi r^2_\\theta/n))` (ML) or
    :math:`\\log|L_\\theta|^2 + \\log|R_X|^2 + (n-p)(1 + \\log(2\\pi r^2_\\theta/(n-p)))` (REML), minimised by
    L-BFGS-B with :math:`\\Lambda_{jj} \\ge 0`. Satterthwaite: :math:`\\nu_j = 2 V_{jj}^2 / (g'Ag)` with
    :math:`A` twice the inverse Hessian of the deviance in :math:`(\\theta, \\sigma)` and :math:`g` the gradient of
    :math:`V_{jj}`, both by finite differences. Validated against ``lme4::lmer`` and ``lmerTest``
    (``tests/reference/mixed.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(3)
    >>> g = np.repeat(np.arange(20), 6)
    >>> x = rng.normal(size=120)
    >>> df = pd.DataFrame({"g": g, "x": x, "y": 1 + x + rng.normal(size=20)[g] + rng.normal(size=120)})
    >>> r = ci.stats.lmm("y ~ x", data=df, groups="g")
    >>> r.to_frame()["term"].tolist(), r.details["fit"]["n_groups"]
    (['(Intercept)', 'x'], 20)
    """
    conf_level = check_conf_level(conf_level)
    if not isinstance(reml, bool):
        raise ArgumentTypeError(f"`reml` must be True or False; got {show(reml)}")
    if not isinstance(re_formula, str):
        raise ArgumentTypeError(f"`re_formula` must be a formula string such as '1' or 'x'; got {show(re_formula)}")
    if isinstance(formula, str) and _mt.has_bars(formula):
        if groups is not None or re_formula != "1":
            raise ArgumentError(
                f"`formula` {formula!r} writes its random effects in lme4 style; leave `groups` ({show(groups)}) and "
                f"`re_formula` ({show(re_formula)}) out"
            )
        return _lmm_terms(formula, data=data, reml=reml, conf_level=conf_level, namespaces=_caller_namespaces(1))
    if groups is None:
        raise ArgumentError(
            "`groups` is missing: name the grouping column, or write the random effects in the formula, e.g. 'y ~ x + (1 | g)'"
        )
    if not isinstance(groups, str):
        raise ArgumentTypeError(f"`groups` must be a column name; got {show(groups)}")
    if len(data.frame if hasattr(data, "frame") else data) == 0:
        raise DataError("`data` has no rows")
    ns = _caller_namespaces(1)
    d = _design(formula, None, data, add_constant=True, weights=None, cluster=None, offset=None, cov_type="nonrobust", namespaces=ns)
    frame = data.frame if hasattr(data, "frame") else data
    if groups not in frame.columns:
        raise RoleError(f"`groups` names column {groups!r}, which is not in the data{suggest_column(groups, frame.columns)}")
    gcol = frame[groups]
    used, cat_levels = _model_columns(frame, formula=formula, re_formula=re_formula, response=d.response)
    if gcol.isna().any():
        raise DataError(f"`groups` column {groups!r} has {int(gcol.isna().sum())} missing value(s); drop those rows first")
    Z, re_names, rhs = _random_design(frame, re_formula)
    levels, codes = np.unique(gcol.to_numpy(), return_inverse=True)
    G, q = len(levels), Z.shape[1]
    n, p = d.X.shape
    if G < 2:
        raise DataError(f"`groups` column {groups!r} has a single level; a mixed model needs several groups")
    if G * q >= n:
        raise DataError(
            f"{G} groups x {q} random effect(s) per group is not fewer than the {n} observations: the random effects are not identifiable"
        )
    st = _suff_stats(d.X, Z, d.y, codes, G)
    best, polish, diag = _minimise_deviance(st, reml=reml)
    theta = np.asarray(best.x, dtype=float)
    if not np.isfinite(best.fun):
        raise ConvergenceError("the mixed-model deviance could not be evaluated; check the random-effects design for collinearity")
    f = _pls(theta, st)
    sigma = math.sqrt(f.r2 / (n - p if reml else n))
    cov = sigma**2 * np.linalg.inv(f.S)
    terms = _fixed_effects_table(f, st, names=d.names, cov=cov, theta=theta, sigma=sigma, reml=reml, conf_level=conf_level)
    re_rows, blups = _variance_components(f, theta=theta, sigma=sigma, groups=groups, re_names=re_names, levels=levels)
    diags = _mixed_diagnostics(theta=theta, diag=diag, re_rows=re_rows, q=q, best=best, polish=polish)
    fit_stats = _fit_summary(d, deviance=float(best.fun), n_groups=G, q=q, reml=reml, sigma=sigma, theta=theta, rhs=rhs)
    crit = "REML" if reml else "ML"
    return MixedResult(
        method=f"Linear mixed model ({crit}), random {' + '.join(re_names)} by {groups}, Satterthwaite df",
        estimand=f"fixed effects on {d.response} with group-level random effects",
        conf_level=conf_level,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        terms=terms,
        diagnostics=diags,
        details={
            "fit": fit_stats,
            "cov": pd.DataFrame(cov, index=d.names, columns=d.names),
            "random_effects": pd.DataFrame(re_rows),
            "blups": blups,
            "levels": cat_levels,
            "columns": used,
        },
        provenance=Provenance.current(data_fingerprint=d.fingerprint),
        design=_PredictionDesign(d.design_info, False),
    )


def _lmm_terms(formula: str, *, data: Any, reml: bool, conf_level: float, namespaces: Any) -> MixedResult:
    """lmm for a formula with lme4 random-effect terms: nested, crossed, slopes on one of several factors."""
    fixed, bars = _mt.split_formula(formula)
    if len(data.frame if hasattr(data, "frame") else data) == 0:
        raise DataError("`data` has no rows")
    d = _design(fixed, None, data, add_constant=True, weights=None, cluster=None, offset=None, cov_type="nonrobust", namespaces=namespaces)
    frame = data.frame if hasattr(data, "frame") else data
    n, p = d.X.shape
    terms = _mt.build_terms(frame, bars)
    _mt.check_identifiable(terms, n)
    st = _mt.build_structure(terms, d.X, d.y)
    best = _mt.minimise(st, reml=reml)
    if not np.isfinite(best.fun):
        raise ConvergenceError("the mixed-model deviance could not be evaluated; check the random-effects design for collinearity")
    theta = np.asarray(best.x, dtype=float)
    f = _mt.pls(theta, st)
    sigma = math.sqrt(f.r2 / (n - p if reml else n))
    cov = sigma**2 * np.linalg.inv(f.S)
    table = _fixed_effects_table(
        f, st, names=d.names, cov=cov, theta=theta, sigma=sigma, reml=reml, conf_level=conf_level, df_fun=_mt.satterthwaite
    )
    re_rows, ranef = _mt.components(theta, sigma, terms, f.u, st)
    diags = [_mt.singular_diagnostic(theta, terms, re_rows)]
    if not best.success:
        diags.append(Diagnostic("convergence", "warn", None, f"optimiser message: {best.message}"))
    fit_stats = _fit_summary(d, deviance=float(best.fun), n_groups=0, q=1, reml=reml, sigma=sigma, theta=theta, rhs="")
    n_par = p + theta.size + 1
    fit_stats.update(
        n_groups={t.group: len(t.levels) for t in terms},
        aic=float(best.fun) + 2 * n_par,
        bic=float(best.fun) + math.log(n) * n_par,
        re_formula=None,
        lme4_formula=formula,
        formula=fixed,
    )
    used, cat_levels = _model_columns(frame, formula=fixed, re_formula=" ".join(e for e, _ in bars), response=d.response)
    grouping = {c for t in terms for c in t.columns}
    specs = [{"expr": t.expr, "group": key, "columns": list(t.columns)} for t, key in zip(terms, _mt.term_keys(terms), strict=True)]
    blocks = " + ".join(f"({t.expr} | {t.group})" for t in terms)
    return MixedResult(
        method=f"Linear mixed model ({'REML' if reml else 'ML'}), random effects {blocks}, Satterthwaite df",
        estimand=f"fixed effects on {d.response} with random effects {blocks}",
        conf_level=conf_level,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        terms=table,
        diagnostics=tuple(diags),
        details={
            "fit": fit_stats,
            "cov": pd.DataFrame(cov, index=d.names, columns=d.names),
            "random_effects": pd.DataFrame(re_rows),
            "ranef": ranef,
            "re_terms": specs,
            "levels": {k: v for k, v in cat_levels.items() if k not in grouping},
            "columns": [c for c in used if c not in grouping],
        },
        provenance=Provenance.current(data_fingerprint=d.fingerprint),
        design=_PredictionDesign(d.design_info, False),
    )
