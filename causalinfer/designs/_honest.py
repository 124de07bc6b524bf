"""Sensitivity of an event study to violations of parallel trends (Rambachan and Roth 2023): the smoothness
restriction Delta^SD(M) with the optimal fixed-length confidence interval (FLCI) of Armstrong and Kolesar, as
``HonestDiD::findOptimalFLCI``.

Under Delta^SD(M) the difference in trends may change its slope by at most M between consecutive periods
(M = 0: linear trends extrapolate exactly). The FLCI is built on the affine estimator
:math:`\\hat\\theta = l'\\hat\\beta_{post} + \\tilde l'\\hat\\beta_{pre}` whose pre-period weights minimise the
interval's half-length :math:`cv_\\alpha(\\bar b / \\sigma)\\,\\sigma`, with :math:`\\bar b` the worst-case bias over
Delta^SD(M), :math:`\\sigma` the estimator's standard deviation and :math:`cv_\\alpha(t)` the 1 - alpha quantile of
:math:`|N(t, 1)|`. The quantile is computed exactly here (HonestDiD draws 10^6 normals), so the two differ in the
third or fourth digit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from .. import _validation as vp
from .._validation import check_conf_level
from ..exceptions import ArgumentError
from ..results import Diagnostic, Provenance, TableResult
from ..stats._normal import z_quantile
from ._honest_rm import rm_accepts_zero, rm_confidence_set

__all__ = ["honest_did"]


def folded_normal_quantile(p: float, mu: float) -> float:
    """The ``p`` quantile of :math:`|N(\\mu, 1)|`."""
    mu = abs(mu)
    root2 = math.sqrt(2.0)

    def gap(c: float) -> float:
        return 0.5 * math.erfc(-(c - mu) / root2) - 0.5 * math.erfc((c + mu) / root2) - p

    hi = mu + z_quantile(0.5 + p / 2) + 10.0
    return float(optimize.brentq(gap, 0.0, hi, xtol=1e-13, rtol=1e-13))


def _w_to_l(w: np.ndarray) -> np.ndarray:
    out = w.copy()
    out[1:] -= w[:-1]
    return out


class _SmoothnessFLCI:
    """The optimisation problems of the FLCI under Delta^SD, for one covariance matrix and target ``l``."""

    def __init__(self, sigma: np.ndarray, n_pre: int, l_vec: np.ndarray) -> None:
        self.k, self.l = n_pre, l_vec
        p = l_vec.size
        pre, post = slice(0, n_pre), slice(n_pre, n_pre + p)
        w_to_l = np.eye(n_pre) - np.eye(n_pre, k=-1)
        self.quad = w_to_l.T @ sigma[pre, pre] @ w_to_l
        self.lin = 2.0 * w_to_l.T @ sigma[pre, post] @ l_vec
        self.const_var = float(l_vec @ sigma[post, post] @ l_vec)
        s = np.arange(1, p + 1)
        self.total = float(s @ l_vec)
        self.bias_const = sum(abs(float(np.arange(1, j + 1) @ l_vec[p - j :])) for j in range(1, p + 1)) - self.total

    def var(self, w: np.ndarray) -> float:
        return float(w @ self.quad @ w + self.lin @ w + self.const_var)

    def bias(self, w: np.ndarray) -> float:
        """Worst-case bias over Delta^SD(1) of the estimator with pre-period weights ``w`` (in HonestDiD's w space)."""
        return self.bias_const + float(np.abs(np.cumsum(w)).sum())

    def h_max(self) -> float:
        """Standard deviation of the minimum-bias estimator (all weight on the last pre-period)."""
        w = np.zeros(self.k)
        w[-1] = self.total
        return math.sqrt(max(self.var(w), 0.0))

    def h_min(self) -> tuple[float, np.ndarray]:
        """The smallest standard deviation under the constraint sum(w) = sum_s s l_s (KKT system)."""
        k = self.k
        kkt = np.zeros((k + 1, k + 1))
        kkt[:k, :k] = 2 * self.quad
        kkt[:k, k] = kkt[k, :k] = 1.0
        rhs = np.r_[-self.lin, self.total]
        w = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:k]
        return math.sqrt(max(self.var(w), 0.0)), w

    def min_bias(self, h: float, start: np.ndarray) -> np.ndarray:
        """Pre-period weights minimising the worst-case bias subject to standard deviation <= h."""
        k = self.k
        lower = np.tril(np.ones((k, k)))
        abs_jac = np.block([[np.eye(k), -lower], [np.eye(k), lower]])
        x0 = np.r_[np.abs(np.cumsum(start)) + 1e-9, start]
        cons = [
            {"type": "eq", "fun": lambda x: np.array([x[k:].sum() - self.total]), "jac": lambda x: np.r_[np.zeros(k), np.ones(k)][None, :]},
            {"type": "ineq", "fun": lambda x: np.r_[x[:k] - lower @ x[k:], x[:k] + lower @ x[k:]], "jac": lambda x: abs_jac},
            {
                "type": "ineq",
                "fun": lambda x: np.array([h**2 - self.var(x[k:])]),
                "jac": lambda x: np.r_[np.zeros(k), -(2 * self.quad @ x[k:] + self.lin)][None, :],
            },
        ]
        res = optimize.minimize(
            lambda x: x[:k].sum(),
            x0,
            jac=lambda x: np.r_[np.ones(k), np.zeros(k)],
            constraints=cons,
            method="SLSQP",
            options={"ftol": 1e-12, "maxiter": 500},
        )
        return res.x[k:]

    def solve(self, m: float, alpha: float) -> tuple[float, np.ndarray]:
        """Half-length and pre-period weights (l space) of the optimal FLCI for smoothness bound ``m``."""
        h_lo, w_lo = self.h_min()
        h_hi = self.h_max()
        if m == 0 or h_hi - h_lo <= 1e-12 * max(h_hi, 1e-300):
            w = w_lo if m == 0 else self.min_bias(h_hi, w_lo)
            return folded_normal_quantile(1 - alpha, m * self.bias(w) / math.sqrt(self.var(w))) * math.sqrt(self.var(w)), _w_to_l(w)
        cache: dict[float, np.ndarray] = {}

        def half(h: float) -> float:
            w = self.min_bias(h, w_lo)
            cache[h] = w
            sd = math.sqrt(max(self.var(w), 1e-300))
            return folded_normal_quantile(1 - alpha, m * self.bias(w) / sd) * sd

        res = optimize.minimize_scalar(half, bounds=(h_lo, h_hi), method="bounded", options={"xatol": 1e-8 * h_hi})
        best = min([res.x, h_lo, h_hi], key=half)
        return half(best), _w_to_l(cache[best])


@vp.validate_params(
    {
        "estimates": "array-like",
        "cov": "array-like",
        "n_pre": vp.Interval("int", 1),
        "m_grid": [None, "array-like"],
        "l_vec": [None, "array-like"],
        "conf_level": "conf_level",
        "restriction": vp.Options(["smoothness", "relative_magnitudes"]),
        "method": [None, vp.Options(["hybrid", "conditional"])],
        "grid_points": vp.Interval("int", 10),
        "random_state": "random_state",
    }
)
def honest_did(
    estimates: Any,
    cov: Any,
    *,
    n_pre: int,
    m_grid: Any = None,
    l_vec: Any = None,
    conf_level: float = 0.95,
    restriction: str = "smoothness",
    method: str | None = None,
    grid_points: int = 1000,
    random_state: Any = 0,
) -> TableResult:
    """Robust confidence sets for an event-study effect when parallel trends may fail (Rambachan and Roth).

    Parameters
    ----------
    estimates : array-like
        Event-study coefficients: the ``n_pre`` pre-treatment ones (oldest first, the reference period left out),
        then the post-treatment ones.
    cov : array-like
        Their covariance matrix.
    n_pre : int
        Number of pre-treatment coefficients.
    m_grid : array-like, optional
        Smoothness: bounds M on the change in slope of the trend difference between consecutive periods (default:
        0 to twice the largest pre-period standard error, 11 values). Relative magnitudes: bounds Mbar on the
        post-treatment changes relative to the largest pre-treatment change (default: 0 to 2 by 0.2).
    l_vec : array-like, optional
        Weights of the post-treatment coefficients in the target (default: the first post period; pass equal
        weights for the average effect).
    conf_level : float
    restriction : {"smoothness", "relative_magnitudes"}
        Delta^SD(M) with the optimal FLCI, or Delta^RM(Mbar) with ARP confidence sets.
    method : {"hybrid", "conditional"}, optional
        Relative magnitudes only: HonestDiD's "C-LF" hybrid test (default) or the conditional test.
    grid_points : int
        Relative magnitudes only: points of the grid of target values tested (as HonestDiD's ``gridPoints``); the
        ends of the set are then refined by bisection between grid points.
    random_state : int or numpy Generator
        Relative magnitudes with the hybrid test only: the draws of the least-favourable critical value (an
        integer seeds numpy's legacy generator, as HonestDiD's Python port does, so seed 0 gives its draws).

    Returns
    -------
    TableResult
        One row per bound with ``m``, ``ci_low``, ``ci_high``, ``half_length`` (columns fixed; for relative
        magnitudes the lowest and highest accepted values and half their distance); ``details["breakdown"]``:
        the smallest bound whose confidence set contains 0 (NaN when even the largest bound tried excludes 0, 0
        when the set at bound 0 contains it); smoothness adds ``details["weights"]``, the affine estimator's
        weights per M.

    Notes
    -----
    Delta^SD(M) bounds :math:`|\\delta_{t+1} - 2\\delta_t + \\delta_{t-1}|` by M, with the trend difference
    :math:`\\delta` 0 in the reference period. The optimal FLCI follows ``HonestDiD::findOptimalFLCI``: the
    worst-case bias is minimised under a bound h on the standard deviation, and h is chosen to minimise the
    half-length. The folded-normal quantile is exact here.

    Delta^RM(Mbar) bounds each post-treatment first difference of :math:`\\delta` by Mbar times the largest
    pre-treatment one (in absolute value). The confidence set is the union, over the location and sign of that
    largest pre-treatment change, of Andrews-Roth-Pakes moment-inequality test inversions using the
    post-treatment moments, as ``HonestDiD::createSensitivityResults_relativeMagnitudes``; the tests' linear
    programs are solved exactly by enumerating the vertices of their duals (feasible up to about 10
    post-treatment periods). Validated against HonestDiD's Python port (honestdid 0.1.1) to its grid step.
    """
    conf_level = check_conf_level(conf_level)
    beta, sigma, lv = _check_inputs(estimates, cov, n_pre, l_vec)
    if restriction == "relative_magnitudes":
        return _relative_magnitudes(beta, sigma, n_pre, lv, m_grid, conf_level, method or "hybrid", grid_points, random_state)
    if method is not None:
        raise ArgumentError(f"`method` = {method!r} applies to restriction='relative_magnitudes' only; leave it None for smoothness")
    if m_grid is None:
        m_grid = np.linspace(0.0, 2.0 * float(np.sqrt(np.diag(sigma)[:n_pre]).max()), 11)
    ms = _check_grid(m_grid, "m_grid")
    problem = _SmoothnessFLCI(sigma, n_pre, lv)
    alpha = 1.0 - conf_level
    rows, weights = [], []
    for m in ms:
        half, l_pre = problem.solve(float(m), alpha)
        centre = float(l_pre @ beta[:n_pre] + lv @ beta[n_pre:])
        rows.append({"m": float(m), "ci_low": centre - half, "ci_high": centre + half, "half_length": half})
        weights.append(np.r_[l_pre, lv].tolist())
    table = pd.DataFrame(rows, columns=["m", "ci_low", "ci_high", "half_length"])
    breakdown = _breakdown(problem, beta, n_pre, lv, alpha, float(ms.max()))
    return TableResult(
        method="Honest DiD sensitivity (Rambachan-Roth smoothness restriction, optimal fixed-length confidence intervals)",
        estimand="target effect l'beta_post under violations of parallel trends whose slope changes by at most M per period",
        conf_level=conf_level,
        diagnostics=(_breakdown_diagnostic(breakdown, "M"),),
        details={"breakdown": breakdown, "weights": weights, "l_vec": lv.tolist(), "n_pre": n_pre, "restriction": "smoothness"},
        table=table,
        provenance=Provenance.current(),
    )


def _check_inputs(estimates: Any, cov: Any, n_pre: int, l_vec: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    beta = np.asarray(estimates, dtype=float).ravel()
    sigma = np.asarray(cov, dtype=float)
    n_post = beta.size - n_pre
    if n_post < 1:
        raise ArgumentError(
            f"`n_pre` = {n_pre} leaves no post-treatment coefficient among the {beta.size} estimates; pass n_pre < {beta.size}"
        )
    if sigma.shape != (beta.size, beta.size):
        raise ArgumentError(f"`cov` must be {beta.size} x {beta.size} to match `estimates`; it has shape {sigma.shape}")
    lv = np.eye(n_post)[0] if l_vec is None else np.asarray(l_vec, dtype=float).ravel()
    if lv.size != n_post:
        raise ArgumentError(f"`l_vec` needs one weight per post-treatment coefficient ({n_post}); it has {lv.size}")
    if not np.any(lv != 0) or not np.isfinite(lv).all():
        raise ArgumentError(f"`l_vec` must hold finite weights, not all zero; it has {lv.tolist()}")
    return beta, sigma, lv


def _check_grid(m_grid: Any, name: str) -> np.ndarray:
    ms = np.asarray(m_grid, dtype=float).ravel()
    if ms.size == 0 or (ms < 0).any() or not np.isfinite(ms).all():
        raise ArgumentError(f"`{name}` must hold finite non-negative bounds; it has {ms.tolist()}")
    return ms


def _breakdown_diagnostic(breakdown: float, symbol: str) -> Diagnostic:
    return Diagnostic(
        "breakdown",
        "ok" if not math.isnan(breakdown) and breakdown > 0 else "warn",
        None if math.isnan(breakdown) else breakdown,
        "the effect stays significant for every bound tried"
        if math.isnan(breakdown)
        else f"the robust confidence set first contains 0 at {symbol} = {breakdown:.4g}",
    )


def _relative_magnitudes(
    beta: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    lv: np.ndarray,
    m_grid: Any,
    conf_level: float,
    method: str,
    grid_points: int,
    seed: Any,
) -> TableResult:
    """Delta^RM(Mbar): ARP confidence sets (hybrid or conditional) over a grid of Mbar, with the breakdown value."""
    if n_pre < 2:
        raise ArgumentError(
            f"relative magnitudes compare post-treatment changes with pre-treatment ones: `n_pre` = {n_pre} leaves no pre-treatment change; pass n_pre >= 2"
        )
    mbars = _check_grid(np.linspace(0.0, 2.0, 11) if m_grid is None else m_grid, "m_grid")
    alpha, hybrid = 1.0 - conf_level, method == "hybrid"
    seed = int(seed) if isinstance(seed, (int, np.integer)) else vp.check_random_state(seed)
    n_post = lv.size
    sd_theta = math.sqrt(float(lv @ sigma[n_pre:, n_pre:] @ lv))
    centre = float(lv @ beta[n_pre:])
    pre_jumps = np.abs(np.diff(np.r_[beta[:n_pre], 0.0])).max()
    reach = float(np.abs(lv) @ np.arange(1, n_post + 1))
    rows, open_at = [], []
    for mbar in mbars:
        width = 20.0 * sd_theta + 2.0 * float(mbar) * pre_jumps * reach
        for _ in range(6):
            lo, hi, at_end = rm_confidence_set(
                beta,
                sigma,
                n_pre,
                lv,
                float(mbar),
                alpha=alpha,
                hybrid=hybrid,
                seed=seed,
                grid_points=grid_points,
                grid=(centre - width, centre + width),
            )
            if not at_end:
                break
            width *= 4.0
        if at_end:
            open_at.append(float(mbar))
        rows.append({"m": float(mbar), "ci_low": lo, "ci_high": hi, "half_length": (hi - lo) / 2})
    table = pd.DataFrame(rows, columns=["m", "ci_low", "ci_high", "half_length"])

    def covers(m: float) -> bool:
        return rm_accepts_zero(beta, sigma, n_pre, lv, m, alpha=alpha, hybrid=hybrid, seed=seed)

    breakdown = _bisect_breakdown(covers, float(mbars.max()))
    diags = [_breakdown_diagnostic(breakdown, "Mbar")]
    if table["ci_low"].isna().any():
        empty = table.loc[table["ci_low"].isna(), "m"].tolist()
        diags.append(
            Diagnostic(
                "empty_set",
                "warn",
                None,
                f"every value of the target is rejected at Mbar = {empty}: the pre-treatment coefficients themselves reject the restriction",
            )
        )
    if open_at:
        diags.append(
            Diagnostic(
                "open_set",
                "warn",
                None,
                f"the confidence set reaches the end of a grid 4^5 times wider than the default at Mbar = {open_at}: treat it as unbounded",
            )
        )
    kind = "hybrid least-favourable/conditional (C-LF)" if hybrid else "conditional"
    return TableResult(
        method=f"Honest DiD sensitivity (Rambachan-Roth relative magnitudes, {kind} ARP confidence sets)",
        estimand="target effect l'beta_post when post-treatment changes in the trend difference are at most Mbar times the largest pre-treatment change",
        conf_level=conf_level,
        diagnostics=tuple(diags),
        details={
            "breakdown": breakdown,
            "l_vec": lv.tolist(),
            "n_pre": n_pre,
            "restriction": "relative_magnitudes",
            "method": method,
            "grid_points": grid_points,
        },
        table=table,
        provenance=Provenance.current(),
    )


def _bisect_breakdown(covers: Any, m_max: float) -> float:
    """Smallest bound at which the confidence set contains 0 (bisection to 1e-4 relative; sets widen with the bound)."""
    if covers(0.0):
        return 0.0
    hi = max(m_max, 1e-12)
    if not covers(hi):
        return float("nan")
    lo = 0.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if covers(mid):
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-4 * hi:
            break
    return hi


def _breakdown(problem: _SmoothnessFLCI, beta: np.ndarray, n_pre: int, lv: np.ndarray, alpha: float, m_max: float) -> float:
    """Smallest M at which the FLCI contains 0."""

    def covers(m: float) -> bool:
        half, l_pre = problem.solve(m, alpha)
        centre = float(l_pre @ beta[:n_pre] + lv @ beta[n_pre:])
        return centre - half <= 0.0 <= centre + half

    return _bisect_breakdown(covers, m_max)


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "ax": [None, vp.HasMethods("plot", what="a matplotlib Axes")],
        "title": [None, "string"],
    }
)
def plot_honest_did(result: TableResult, *, ax: Any = None, title: str | None = None) -> Any:
    """Robust confidence intervals of :func:`honest_did` against M, with the zero line and the breakdown value.

    Parameters
    ----------
    result : TableResult
        From :func:`honest_did`.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    from ..results._plot import get_axes

    table = getattr(result, "table", None)
    if table is None or list(table.columns) != ["m", "ci_low", "ci_high", "half_length"]:
        raise ArgumentError("`result` must come from honest_did (a table with columns m, ci_low, ci_high, half_length)")
    ax = get_axes(ax)
    m = table["m"].to_numpy(float)
    mid = (table["ci_low"].to_numpy(float) + table["ci_high"].to_numpy(float)) / 2
    half = table["half_length"].to_numpy(float)
    ax.errorbar(m, mid, yerr=half, fmt="none", capsize=4, color="C0", label=f"robust {round(100 * (result.conf_level or 0.95))}% CI")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    breakdown = result.details.get("breakdown")
    rm = result.details.get("restriction") == "relative_magnitudes"
    symbol = "Mbar" if rm else "M"
    if breakdown is not None and not math.isnan(breakdown) and breakdown > 0:
        ax.axvline(breakdown, color="C3", linestyle=":", label=f"breakdown {symbol} = {breakdown:.3g}")
    if rm:
        ax.set_xlabel("Mbar (largest post-treatment change relative to the largest pre-treatment change)")
    else:
        ax.set_xlabel("M (largest change in the slope of the trend difference per period)")
    ax.set_ylabel("effect")
    kind = "relative magnitudes" if rm else "smoothness"
    ax.set_title(title or f"Sensitivity to violations of parallel trends ({kind})")
    ax.legend()
    return ax
