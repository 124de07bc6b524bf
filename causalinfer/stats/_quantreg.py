"""Quantile regression with the inference of R's ``quantreg::summary.rq``.

The estimates solve the linear programme of Koenker and Bassett (1978) with HiGHS and are then moved onto the
exact vertex of the solution (the ``p`` observations the fit interpolates), so they agree with the
Barrodale-Roberts simplex of ``quantreg::rq`` to rounding wherever the solution is unique. Standard errors follow
``summary.rq``: ``"iid"`` (sparsity from the Hall-Sheather difference quotient), ``"nid"`` (Hendricks-Koenker
sandwich), ``"ker"`` (Powell kernel sandwich), ``"boot"`` (xy-pair bootstrap) and ``"rank"`` (inversion of the
regression rank-score test, Koenker 1994, by walking the parametric-programming path of each coefficient as
``rq.fit.br(ci = TRUE)`` does). Validated against ``quantreg`` 5.94 (``tests/reference/quantreg.R``).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_conf_level, check_int, check_random_state, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, Provenance, ResultSet
from ._normal import t_crit, t_pvalue, z_crit, z_density, z_quantile
from ._regression import RegressionResult, _caller_namespaces, _design, _PredictionDesign

__all__ = ["QuantRegResult", "QuantileProcess", "quantreg"]

SE_METHODS = ("rank", "iid", "nid", "ker", "boot")
_EPS = float(np.finfo(float).eps)
_TOL = _EPS ** (2 / 3)  # quantreg's tolerance in rq.fit.br
_IPM_ABOVE = 5000  # observations above which HiGHS runs its interior-point method instead of the dual simplex
_QUANTILE = vp.Interval("real", 0.0, 1.0, closed="neither", what="strictly between 0 and 1 (a quantile such as 0.5)")
_SE_LABELS = {
    "rank": "rank-inversion intervals (regression rank-score test, {noise} errors)",
    "iid": "iid standard errors (Hall-Sheather sparsity estimate)",
    "nid": "nid sandwich standard errors (Hall-Sheather bandwidth, local density by difference quotients)",
    "ker": "Powell kernel sandwich standard errors",
    "boot": "xy-pair bootstrap standard errors ({R} resamples)",
}


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class QuantRegResult(RegressionResult):
    """A fitted quantile regression at one quantile ``details["fit"]["tau"]``; one row per coefficient.

    With ``se="rank"`` the rows carry only the rank-inversion interval (no standard error, statistic or p-value,
    as in ``summary.rq``) and ``details["cov"]`` is ``None``.
    """

    @property
    def tau(self) -> float:
        """The quantile that was fitted."""
        return float(self.details["fit"]["tau"])

    def wald_test(self, restrictions: Any, q: Any = None) -> Any:
        """Wald test of linear restrictions with the fit's covariance (not available with ``se="rank"``)."""
        if self.details.get("cov") is None:
            raise ArgumentError("a Wald test needs a covariance matrix; refit with se='nid', 'ker', 'iid' or 'boot' instead of 'rank'")
        return super().wald_test(restrictions, q)


class QuantileProcess(ResultSet):
    """Quantile regressions at several quantiles, one :class:`QuantRegResult` per ``tau`` (labels ``"tau=0.25"``...).

    ``to_frame()`` stacks the coefficient tables; :meth:`coefficients` gives one row per quantile and term;
    :meth:`plot` draws each coefficient against the quantile with its confidence band, as ``plot(summary(rq(...)))``.
    """

    __slots__ = ()

    @property
    def taus(self) -> tuple[float, ...]:
        return tuple(float(r.details["fit"]["tau"]) for r in self)

    def coefficients(self) -> pd.DataFrame:
        """Long table with columns ``tau, term, estimate, std_error, ci_low, ci_high, pvalue``."""
        frames = []
        for r in self:
            terms = r.terms if r.terms is not None else r.to_frame()
            f = terms[["term", "estimate", "std_error", "ci_low", "ci_high", "pvalue"]].copy()
            f.insert(0, "tau", float(r.details["fit"]["tau"]))
            frames.append(f)
        return pd.concat(frames, ignore_index=True)

    @vp.validate_params(
        {
            "ax": vp.NoCheck("matplotlib Axes or a sequence of them; the count is checked in the body"),
            "terms": [None, vp.SequenceOf("string")],
            "kwargs": vp.NoCheck("passed on to matplotlib's Axes.plot"),
        }
    )
    def plot(self, ax: Any = None, *, terms: Sequence[str] | None = None, **kwargs: Any) -> Any:
        """One panel per coefficient: estimate against ``tau`` with its confidence band. Needs matplotlib.

        ``ax`` may be a sequence of Axes (one per term); by default a new figure is made. Returns the Axes array.
        """
        from .._optional import import_optional

        coefs = self.coefficients()
        names = list(dict.fromkeys(coefs["term"])) if terms is None else list(terms)
        unknown = [t for t in names if t not in set(coefs["term"])]
        if unknown:
            raise ArgumentError(
                f"`terms` {show(unknown)} are not coefficients of the fits; choose from {list(dict.fromkeys(coefs['term']))}"
            )
        if ax is None:
            plt = import_optional("matplotlib.pyplot", extra="plot", purpose="plotting")
            ncol = min(3, len(names))
            nrow = math.ceil(len(names) / ncol)
            _, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol, 2.8 * nrow), squeeze=False)
            axes = axes.ravel()
            for extra in axes[len(names) :]:
                extra.set_visible(False)
        else:
            axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
            if len(axes) < len(names):
                raise ArgumentError(f"`ax` must hold one Axes per term ({len(names)}); got {len(axes)}")
        color = kwargs.pop("color", "#0969da")
        for a, name in zip(axes, names, strict=False):
            rows = coefs[coefs["term"] == name]
            a.fill_between(rows["tau"], rows["ci_low"], rows["ci_high"], color=color, alpha=0.2, linewidth=0)
            a.plot(rows["tau"], rows["estimate"], "o-", color=color, markersize=3, **kwargs)
            a.axhline(0.0, color="#57606a", linewidth=0.8, linestyle=":")
            a.set_title(name, fontsize=9)
            a.set_xlabel("quantile (tau)")
        return axes


# ---------------------------------------------------------------------------------------------- the LP
@dataclass(frozen=True)
class _Fit:
    coef: np.ndarray
    resid: np.ndarray
    basis: np.ndarray  # indices of the p interpolated observations
    dual: np.ndarray  # a_i in [0, 1] (1 above the fit, 0 below), as rq.fit.br's `dual`
    unique: bool


def _check_vertex(X: np.ndarray, y: np.ndarray, tau: float, h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Coefficients, residuals and dual of the vertex through observations ``h``; None if singular or not optimal."""
    Xh = X[h]
    try:
        coef = np.linalg.solve(Xh, y[h])
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(coef)):
        return None
    resid = y - X @ coef
    resid[h] = 0.0
    a = (resid > 0).astype(float)
    rhs = (1.0 - tau) * X.sum(axis=0) - X.T @ a
    try:
        a[h] = np.linalg.solve(Xh.T, rhs)
    except np.linalg.LinAlgError:
        return None
    if np.any(a[h] < -1e-9) or np.any(a[h] > 1 + 1e-9):
        return None
    return coef, resid, a


def _rq(X: np.ndarray, y: np.ndarray, tau: float) -> _Fit:
    """Solve min sum rho_tau(y - X b) by HiGHS, then land on the exact optimal vertex.

    HiGHS solves the dual, max y'a subject to X'a = (1 - tau) X'1 and 0 <= a <= 1 (n bounded variables, p
    constraints); the coefficients are the multipliers of its equality constraints.
    """
    from scipy import optimize

    n, p = X.shape
    scale = float(np.max(np.abs(y))) or 1.0
    method = "highs-ipm" if n > _IPM_ABOVE else "highs-ds"  # interior point (with crossover) is faster on large n
    res = optimize.linprog(-y / scale, A_eq=X.T, b_eq=(1.0 - tau) * X.sum(axis=0), bounds=(0.0, 1.0), method=method)
    if res.status != 0:
        raise DataError(f"the quantile-regression linear programme failed at tau = {tau:g}: {res.message}")
    coef = -np.asarray(res.eqlin.marginals) * scale
    resid = y - X @ coef
    order = np.argsort(np.abs(resid), kind="stable")
    tol = 1e-7 * (1.0 + np.max(np.abs(resid)))
    near = order[: max(p, int(np.sum(np.abs(resid) <= tol)))]
    best = None
    for h in _subsets(near, p, limit=200):
        out = _check_vertex(X, y, tau, np.asarray(h))
        if out is not None:
            best = (np.asarray(h), *out)
            break
    if best is None:  # degenerate beyond repair: keep the solver's point
        a = (resid > 0).astype(float)
        return _Fit(coef, resid, order[:p], a, False)
    h, coef, resid, a = best
    nonbasic = np.ones(n, dtype=bool)
    nonbasic[h] = False
    zero_tol = 1e-10 * (1.0 + float(np.max(np.abs(resid))))
    unique = bool(np.all((a[h] > 1e-9) & (a[h] < 1 - 1e-9)) and not np.any(np.abs(resid[nonbasic]) <= zero_tol))
    return _Fit(coef, resid, np.sort(h), a, unique)


def _subsets(candidates: np.ndarray, k: int, *, limit: int) -> Any:
    """k-subsets of ``candidates`` (in order of preference), at most ``limit`` of them."""
    return itertools.islice(itertools.combinations(candidates.tolist(), k), limit)


# ---------------------------------------------------------------------------------------------- standard errors
def bandwidth_rq(tau: float, n: int, *, hs: bool = True, alpha: float = 0.05) -> float:
    """Bandwidth for the sparsity estimate, as ``quantreg::bandwidth.rq`` (Hall-Sheather by default, else Bofinger)."""

    x0 = z_quantile(tau)
    f0 = z_density(x0)
    if hs:
        return float(n ** (-1 / 3) * z_crit(1 - alpha) ** (2 / 3) * ((1.5 * f0**2) / (2 * x0**2 + 1)) ** (1 / 3))
    return float(n**-0.2 * ((4.5 * f0**4) / (2 * x0**2 + 1) ** 2) ** 0.2)


def _cov_iid(X: np.ndarray, resid: np.ndarray, tau: float) -> np.ndarray:
    n, p = X.shape
    pz = int(np.sum(np.abs(resid) < math.sqrt(_EPS)))
    h = max(p + 1, math.ceil(n * bandwidth_rq(tau, n)))
    ir = np.arange(pz + 1, min(h + pz + 1, n) + 1)
    ord_resid = np.sort(resid[np.argsort(np.abs(resid), kind="stable")][ir - 1])
    xt = ir / (n - p)
    sparsity = _rq(np.column_stack([np.ones(ir.size), xt]), ord_resid, 0.5).coef[1]
    xxinv = np.linalg.inv(X.T @ X)
    return sparsity**2 * xxinv * tau * (1 - tau)


def _sandwich(X: np.ndarray, f: np.ndarray, tau: float) -> np.ndarray:
    fxxinv = np.linalg.inv(X.T @ (f[:, None] * X))
    return tau * (1 - tau) * fxxinv @ (X.T @ X) @ fxxinv


def _local_h(tau: float, n: int) -> float:
    h = bandwidth_rq(tau, n)
    while tau - h < 0 or tau + h > 1:
        h /= 2
    return h


def _nid_density(X: np.ndarray, y: np.ndarray, tau: float, h: float, floor: float) -> tuple[np.ndarray, int]:
    dyhat = X @ (_rq(X, y, tau + h).coef - _rq(X, y, tau - h).coef)
    eps = math.sqrt(_EPS) if floor == 0.0 else _TOL
    return np.maximum(floor, (2 * h) / (dyhat - eps)), int(np.sum(dyhat <= 0))


def _cov_ker(X: np.ndarray, resid: np.ndarray, tau: float) -> np.ndarray:

    n = X.shape[0]
    h = _local_h(tau, n)
    q75, q25 = np.quantile(resid, [0.75, 0.25])
    h = (z_quantile(tau + h) - z_quantile(tau - h)) * min(math.sqrt(np.var(resid, ddof=1)), (q75 - q25) / 1.34)
    f = z_density(resid / h) / h
    return _sandwich(X, f, tau)


def _boot_draws(X: np.ndarray, y: np.ndarray, tau: float, indices: np.ndarray) -> np.ndarray:
    """Coefficients refitted on each column of ``indices`` (n x R row indices), as ``boot.rq.xy``."""
    return np.vstack([_rq(X[idx], y[idx], tau).coef for idx in indices.T])


# ---------------------------------------------------------------------------------------------- rank inversion
def _rank_interval(X: np.ndarray, y: np.ndarray, tau: float, fit: _Fit, j: int, qn: float, cutoff: float) -> tuple[float, float]:
    """Interval for coefficient j by inverting the rank-score test, as rq.fit.br(ci = TRUE, interp = TRUE)."""
    up = _rank_bound(X, y, tau, fit, j, qn, cutoff, +1)
    down = _rank_bound(X, y, tau, fit, j, qn, cutoff, -1)
    return down, up


def _rank_bound(X: np.ndarray, y: np.ndarray, tau: float, fit: _Fit, j: int, qn: float, cutoff: float, direction: int) -> float:
    n, p = X.shape
    xj = X[:, j]
    Xr = np.delete(X, j, axis=1)
    denom = math.sqrt(qn * tau * (1 - tau))
    b0 = float(fit.coef[j])
    zero_tol = 1e-9 * (1.0 + float(np.max(np.abs(y))))
    # segments start at the full fit; at a breakpoint `zero` holds every observation the fit interpolates
    start, t_prev, s_prev = b0, 0.0, b0
    zero = np.flatnonzero(np.abs(fit.resid) <= zero_tol)
    if zero.size < p:
        zero = fit.basis
    for _ in range(50 * n):
        seg = _next_segment(Xr, xj, y, tau, zero, start, direction, zero_tol)
        if seg is None:  # no basis continues the path (numerically degenerate): stop where we are
            return start
        a, end, c, d = seg
        tn = float(xj @ (a + tau - 1.0)) / denom
        if abs(tn) >= cutoff:
            t_in, s_in, s_out = t_prev, s_prev, start
            return s_in + direction * abs(s_out - s_in) * (cutoff - abs(t_in)) / abs(tn - t_in)
        if not math.isfinite(end):
            return direction * math.inf
        # a pivot that leaves the rank scores unchanged is no step of the statistic: rq.fit.br's path has no vertex there
        if not (start != b0 and abs(tn - t_prev) <= 1e-10 * max(1.0, abs(tn))):
            s_prev = start
        t_prev, start = tn, end
        # observations interpolated at the new breakpoint
        zero = np.flatnonzero(np.abs(c - end * d) <= zero_tol * (1 + abs(end)))
    raise DataError("the rank-inversion interval did not terminate; use se='nid' instead")  # pragma: no cover


def _next_segment(
    Xr: np.ndarray, xj: np.ndarray, y: np.ndarray, tau: float, zero: np.ndarray, start: float, direction: int, zero_tol: float
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray] | None:
    """The optimal basis of the restricted fit just past ``start``: its rank scores and where its segment ends."""
    n, q = Xr.shape
    for h in _subsets(zero, q, limit=500):
        hh = np.asarray(h)
        Xh = Xr[hh]
        try:
            G = np.linalg.solve(Xh, np.column_stack([y[hh], xj[hh]]))
        except np.linalg.LinAlgError:
            continue
        c = y - Xr @ G[:, 0]  # residual at b is c - b d
        d = xj - Xr @ G[:, 1]
        c[hh] = 0.0
        d[hh] = 0.0
        r0 = c - start * d
        sign = np.where(np.abs(r0) > zero_tol * (1 + abs(start)), np.sign(r0), -direction * np.sign(d))
        nonbasic = np.ones(n, dtype=bool)
        nonbasic[hh] = False
        # observations that stay on the fit along the whole segment (duplicates of a basic row) may sit at either bound
        free = np.flatnonzero(nonbasic & (sign == 0))
        a = _dual_with_free(Xr, Xh, hh, (sign > 0).astype(float), free, tau)
        if a is None:
            continue
        # the segment ends where the next non-basic residual reaches zero
        with np.errstate(divide="ignore", invalid="ignore"):
            roots = np.where(nonbasic & (d != 0), c / d, np.nan)
        at_start = np.zeros(n, dtype=bool)
        at_start[zero] = True
        ahead = roots[np.isfinite(roots) & ~at_start & (direction * (roots - start) > 0)]
        end = float(np.min(ahead) if direction > 0 else np.max(ahead)) if ahead.size else direction * math.inf
        return a, end, c, d
    return None


def _dual_with_free(Xr: np.ndarray, Xh: np.ndarray, hh: np.ndarray, a: np.ndarray, free: np.ndarray, tau: float) -> np.ndarray | None:
    """Dual values of the basic rows given the others; rows in ``free`` are set to 1 one by one until feasible."""
    a = a.copy()
    a[free] = 0.0
    for m in range(free.size + 1):
        if m:
            a[free[m - 1]] = 1.0
        a[hh] = 0.0
        rhs = (1.0 - tau) * Xr.sum(axis=0) - Xr.T @ a
        try:
            a[hh] = np.linalg.solve(Xh.T, rhs)
        except np.linalg.LinAlgError:
            return None
        if np.all(a[hh] >= -1e-9) and np.all(a[hh] <= 1 + 1e-9):
            return a
    return None


# ---------------------------------------------------------------------------------------------- public
def _check_taus(tau: Any) -> list[float]:
    values = [tau] if isinstance(tau, numbers.Real) and not isinstance(tau, bool) else tau
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray, pd.Series)):
        raise ArgumentTypeError(f"`tau` must be a number in (0, 1) or a sequence of them; got {show(tau)}")
    out = []
    for t in list(values):
        if isinstance(t, bool) or not isinstance(t, (numbers.Real, np.floating)):
            raise ArgumentTypeError(f"`tau` must contain numbers in (0, 1); got {show(t)}")
        if not 0.0 < float(t) < 1.0:
            raise ArgumentError(f"`tau` must lie strictly between 0 and 1 (a quantile such as 0.5); got {show(float(t))}")
        out.append(float(t))
    if not out:
        raise ArgumentError("`tau` must name at least one quantile")
    if len(set(out)) != len(out):
        raise ArgumentError(f"`tau` has repeated quantiles: {show(out)}")
    return out


@vp.validate_params(
    {
        "x": ["formula", "array-like"],
        "y": [None, "sample"],
        "data": [None, "data"],
        "tau": [_QUANTILE, vp.SequenceOf(_QUANTILE, min_length=1)],
        "se": vp.Options(SE_METHODS),
        "add_constant": "boolean",
        "conf_level": "conf_level",
        "rank_iid": "boolean",
        "n_boot": vp.Interval("int", 2),
        "random_state": "random_state",
    }
)
def quantreg(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    tau: float | Sequence[float] = 0.5,
    se: str = "nid",
    add_constant: bool = True,
    conf_level: float = 0.95,
    rank_iid: bool = True,
    n_boot: int = 200,
    random_state: Any = None,
) -> QuantRegResult | QuantileProcess:
    """Linear quantile regression, as R's ``quantreg::rq`` with the inference of ``summary.rq``.

    Parameters
    ----------
    x : str or array-like
        A formula such as ``"y ~ x1 + C(g)"`` with ``data`` (patsy syntax, as :func:`ols`), or a design matrix.
    y : array-like, optional
        Outcome, when ``x`` is a design matrix.
    data : DataFrame or Dataset, optional
        Table holding the formula's columns.
    tau : float or sequence of float
        Quantile(s) strictly between 0 and 1. Several quantiles return a :class:`QuantileProcess`.
    se : {"nid", "iid", "ker", "rank", "boot"}
        Inference, as ``summary.rq(se = ...)``: ``"nid"`` (default; sandwich with local densities from fits at
        ``tau +/- h``, Hall-Sheather ``h``), ``"iid"`` (errors independent of the regressors), ``"ker"``
        (Powell's kernel sandwich), ``"rank"`` (intervals from inverting the rank-score test; no standard
        errors or p-values) and ``"boot"`` (xy-pair bootstrap standard errors).
    add_constant : bool
        With a design matrix, prepend an intercept column ``(Intercept)``.
    conf_level : float
        Level of the intervals. With ``se="rank"`` this is ``1 - alpha`` of ``rq.fit.br`` (whose default
        ``alpha = 0.1`` is a 90% interval; ours is 95% unless you ask).
    rank_iid : bool
        For ``se="rank"``: the test assumes iid errors (``iid = TRUE``, R's default); False uses local density
        weights (``iid = FALSE``).
    n_boot : int
        Bootstrap resamples for ``se="boot"`` (``R`` of ``boot.rq``, default 200).
    random_state : int or Generator, optional
        Seed for ``se="boot"``.

    Returns
    -------
    QuantRegResult or QuantileProcess
        One row per coefficient: ``estimate``; ``std_error``, ``statistic`` (t), ``df`` (n - p) and ``pvalue``
        (t distribution with n - p df, as ``summary.rq``) except with ``se="rank"``; ``ci_low``/``ci_high``
        (estimate +/- t quantile x SE, or the rank-inversion interval). ``details``: ``"fit"`` (tau, n, k,
        objective: the minimised sum of check losses, se, unique), ``"cov"`` (None for rank), ``"residuals"``,
        ``"fitted"``, and ``"boot_draws"`` for the bootstrap. Diagnostics: uniqueness of the LP solution,
        non-positive local densities (``nid``), quantile crossing across several ``tau``.

    Notes
    -----
    The estimate minimises :math:`\\sum_i \\rho_\\tau(y_i - x_i'\\beta)`, :math:`\\rho_\\tau(u) = u(\\tau - 1\\{u<0\\})`.
    ``nid``: :math:`\\tau(1-\\tau) (X'FX)^{-1} X'X (X'FX)^{-1}` with :math:`f_i = 2h / x_i'(\\hat\\beta_{\\tau+h} -
    \\hat\\beta_{\\tau-h})`. ``rank``: for each coefficient, the test statistic
    :math:`T(b) = x_j'(\\hat a(b) - (1-\\tau)) / \\sqrt{q_j\\tau(1-\\tau)}` of the restricted fit with
    :math:`\\beta_j = b` is a step function of ``b``; the interval ends are interpolated between the last
    accepted and the first rejected step against the t quantile with n - p df, exactly as ``rq.fit.br``.
    Where the LP solution is not unique (``diagnostics``), any point of the optimal face is a solution and R may
    report a different one. Validated against ``quantreg`` (``tests/reference/quantreg.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(5)
    >>> df = pd.DataFrame({"x": rng.uniform(0, 2, 300)})
    >>> df["y"] = 1 + df.x + (0.5 + df.x) * rng.standard_normal(300)
    >>> r = ci.stats.quantreg("y ~ x", data=df, tau=0.9)
    >>> r.to_frame()["term"].tolist(), round(r.tau, 2)
    (['(Intercept)', 'x'], 0.9)
    >>> fits = ci.stats.quantreg("y ~ x", data=df, tau=[0.1, 0.5, 0.9], se="iid")
    >>> fits.labels
    ('tau=0.1', 'tau=0.5', 'tau=0.9')
    """
    taus = _check_taus(tau)
    se = check_choice(se, "se", SE_METHODS)
    conf_level = check_conf_level(conf_level)
    n_boot = check_int(n_boot, "n_boot", minimum=2)
    if not isinstance(rank_iid, bool):
        raise ArgumentTypeError(f"`rank_iid` must be True or False; got {show(rank_iid)}")
    if data is not None and len(data.frame if hasattr(data, "frame") else data) == 0:
        raise DataError("`data` has no rows")
    d = _design(
        x,
        y,
        data,
        add_constant=add_constant,
        weights=None,
        cluster=None,
        offset=None,
        cov_type="nonrobust",
        namespaces=_caller_namespaces(1),
    )
    n, p = d.X.shape
    if n <= p:
        raise DataError(f"quantile regression needs more observations than coefficients; got n = {n} for {p} coefficients")
    if np.linalg.matrix_rank(d.X) < p:
        raise DataError(f"the design matrix is singular (rank {np.linalg.matrix_rank(d.X)} < {p} columns); drop collinear terms")
    rng = check_random_state(random_state) if se == "boot" else None
    results = [_fit_one(d, t, se, conf_level, rank_iid, n_boot, rng, random_state) for t in taus]
    if len(results) == 1:
        return results[0]
    fitted = np.column_stack([r.details["fitted"] for r in results])
    crossing = int(np.sum(np.any(np.diff(fitted, axis=1) < -1e-9 * (1 + np.abs(fitted[:, :-1])), axis=1)))
    if crossing:
        results = [
            _with_diagnostic(
                r,
                Diagnostic(
                    "quantile crossing",
                    "warn",
                    float(crossing),
                    f"{crossing} of {n} fitted values decrease from one quantile to the next: the linear quantile model is "
                    "misspecified somewhere in the data (consider transformed or interacted regressors)",
                ),
            )
            for r in results
        ]
    return QuantileProcess(results, labels=[f"tau={t:g}" for t in taus], title=f"Quantile regression of {d.response}")


def _with_diagnostic(r: QuantRegResult, diag: Diagnostic) -> QuantRegResult:
    import dataclasses

    return dataclasses.replace(r, diagnostics=(*r.diagnostics, diag))


def _uniqueness_diagnostic(fit: _Fit) -> Diagnostic:
    """Whether the linear-programming solution is unique (R's 'Solution may be nonunique')."""
    if fit.unique:
        return Diagnostic("uniqueness", "ok", None, "the linear-programming solution is unique")
    return Diagnostic(
        "uniqueness",
        "warn",
        None,
        "the solution may be non-unique (R: 'Solution may be nonunique'): other coefficient vectors fit equally well; "
        "this is common with few distinct values or tau * n near an integer",
    )


def _coef_covariance(
    X: np.ndarray, y: np.ndarray, fit: _Fit, *, tau: float, se: str, n_boot: int, rng: Any
) -> tuple[np.ndarray | None, np.ndarray | None, dict[str, Any], list[Diagnostic]]:
    """The covariance of the coefficients for ``se`` (None for 'rank'), the bootstrap draws (for 'boot'), extra fit
    statistics (the 'nid' bandwidth) and diagnostics."""
    n, p = X.shape
    cov = None
    draws = None
    extra: dict[str, Any] = {}
    diags: list[Diagnostic] = []
    if se == "iid":
        cov = _cov_iid(X, fit.resid, tau)
    elif se == "nid":
        h = _local_h(tau, n)
        f, nonpos = _nid_density(X, y, tau, h, 0.0)
        try:
            cov = _sandwich(X, f, tau)
        except np.linalg.LinAlgError:
            # summary.rq stops here too ("singular matrix in 'backsolve'")
            raise DataError(
                f"se='nid' at tau = {tau:g}: {nonpos} of {n} local density estimates are non-positive (the fits at "
                f"tau +/- {h:.3g} cross), which leaves the sandwich singular; use se='iid', 'ker' or 'rank'"
            ) from None
        extra["bandwidth"] = h
        if nonpos:
            diags.append(
                Diagnostic(
                    "local densities",
                    "warn",
                    float(nonpos),
                    f"{nonpos} non-positive local density estimates (R: 'non-positive fis'): the fits at tau +/- h cross "
                    "there; those observations get zero weight",
                )
            )
    elif se == "ker":
        cov = _cov_ker(X, fit.resid, tau)
    elif se == "boot":
        idx = rng.integers(0, n, size=(n, n_boot))
        draws = _boot_draws(X, y, tau, idx)
        cov = np.cov(draws, rowvar=False).reshape(p, p)
    return cov, draws, extra, diags


def _coef_table(d: Any, fit: _Fit, *, tau: float, se: str, cov: np.ndarray | None, conf_level: float, rank_iid: bool) -> pd.DataFrame:
    """Coefficients with rank-inversion intervals (se='rank') or t statistics, p-values and t intervals."""
    X, y = d.X, d.y
    names = d.names
    if se == "rank":
        lows, highs = _rank_intervals(X, y, tau, fit, conf_level, rank_iid)
        return pd.DataFrame(
            {
                "term": names,
                "estimate": fit.coef,
                "std_error": np.nan,
                "ci_low": lows,
                "ci_high": highs,
                "statistic": np.nan,
                "df": np.nan,
                "pvalue": np.nan,
            }
        )
    if cov is None:  # every method except rank inversion returns a covariance
        raise RuntimeError(f"quantile regression standard errors by {se!r} produced no covariance matrix")
    rdf = X.shape[0] - X.shape[1]
    sev = np.sqrt(np.diag(cov))
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = fit.coef / sev
    q = t_crit(conf_level, rdf)
    return pd.DataFrame(
        {
            "term": names,
            "estimate": fit.coef,
            "std_error": sev,
            "ci_low": fit.coef - q * sev,
            "ci_high": fit.coef + q * sev,
            "statistic": tstat,
            "df": float(rdf),
            "pvalue": t_pvalue(tstat, rdf),
        }
    )


def _fit_one(d: Any, tau: float, se: str, conf_level: float, rank_iid: bool, n_boot: int, rng: Any, seed: Any) -> QuantRegResult:

    X, y = d.X, d.y
    n, p = X.shape
    rdf = n - p
    fit = _rq(X, y, tau)
    cov, draws, extra, cov_diags = _coef_covariance(X, y, fit, tau=tau, se=se, n_boot=n_boot, rng=rng)
    diags = [_uniqueness_diagnostic(fit), *cov_diags]
    names = d.names
    terms = _coef_table(d, fit, tau=tau, se=se, cov=cov, conf_level=conf_level, rank_iid=rank_iid)
    objective = float(np.sum(fit.resid * (tau - (fit.resid < 0))))
    fit_stats: dict[str, Any] = {
        "tau": tau,
        "n": n,
        "k": p,
        "df_resid": float(rdf),
        "objective": objective,
        "se": se,
        "unique": fit.unique,
        "inference": "t",
        "cov_type": se,
        "model": "quantreg",
        "formula": d.formula,
        "response": d.response,
        **extra,
    }
    label = _SE_LABELS[se].format(noise="iid" if rank_iid else "nid", R=n_boot)
    details: dict[str, Any] = {
        "fit": fit_stats,
        "cov": None if cov is None else pd.DataFrame(cov, index=names, columns=names),
        "residuals": fit.resid,
        "fitted": y - fit.resid,
    }
    if draws is not None:
        details["boot_draws"] = pd.DataFrame(draws, columns=names)
    return QuantRegResult(
        method=f"Quantile regression (tau = {tau:g}), {label}",
        estimand=f"conditional {tau:g}-quantile of {d.response} as a linear function of the regressors",
        conf_level=conf_level,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=tuple(diags),
        terms=terms,
        label=f"tau={tau:g}",
        details=details,
        provenance=Provenance.current(random_state=seed if se == "boot" else None, data_fingerprint=d.fingerprint),
        design=_PredictionDesign(d.design_info, False),
    )


def _rank_intervals(X: np.ndarray, y: np.ndarray, tau: float, fit: _Fit, conf_level: float, iid: bool) -> tuple[np.ndarray, np.ndarray]:

    n, p = X.shape
    if p == 1:
        raise ArgumentError(
            "se='rank' needs at least two coefficients (rq.fit.br computes no rank interval for a single one); use se='nid' or 'iid'"
        )
    cutoff = t_crit(conf_level, n - p)
    if iid:
        qn = 1.0 / np.diag(np.linalg.inv(X.T @ X))
    else:
        h = bandwidth_rq(tau, n)
        if tau - h <= 0 or tau + h >= 1:
            raise DataError(f"se='rank' with rank_iid=False needs tau +/- h inside (0, 1) (h = {h:.3g} at n = {n}); use rank_iid=True")
        f, _ = _nid_density(X, y, tau, h, _TOL)
        qn = np.empty(p)
        for j in range(p):
            others = np.delete(X, j, axis=1)
            sw = np.sqrt(f)
            coef, *_ = np.linalg.lstsq(others * sw[:, None], X[:, j] * sw, rcond=None)
            r = X[:, j] - others @ coef
            qn[j] = float(np.sum(r * r))
    lows = np.empty(p)
    highs = np.empty(p)
    for j in range(p):
        lows[j], highs[j] = _rank_interval(X, y, tau, fit, j, float(qn[j]), cutoff)
    return lows, highs
