"""Bootstrap confidence intervals: percentile, basic, BCa, studentized and normal, validated against R's boot.ci."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_alternative, check_choice, check_conf_level, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, Provenance
from ._resample_core import (
    Progress,
    batch_size,
    check_memory_budget,
    check_n_jobs,
    check_n_resamples,
    check_progress,
    numba_threads,
    resolve_seed,
)
from ._resample_inputs import NAMED, SampleSet, Statistic, check_statistic_output, collect_samples, resolve_statistic
from ._resampling_results import BootstrapResult

METHODS = ("percentile", "basic", "bca", "studentized", "normal")
_METHOD_LABEL = {
    "percentile": "Percentile bootstrap",
    "basic": "Basic bootstrap",
    "bca": "BCa bootstrap",
    "studentized": "Studentized bootstrap",
    "normal": "Normal bootstrap",
}
_MC_WARN = 0.025  # Monte Carlo SE of an endpoint, as a fraction of the interval width, above which we warn


# ------------------------------------------------------------------------------------------ distributions
def _fast_distribution(
    stat: Statistic, s: SampleSet, paired: bool, seed: int, b_total: int, want_se: bool, bar: Progress
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """Bootstrap replicates (and standard errors) through the compiled kernels, or None if no fast path applies."""
    from . import _kernels as K

    arrays = s.arrays
    if stat.name == "mean" or (stat.name == "mean_diff" and paired):
        x = arrays[0] - arrays[1] if paired else arrays[0]
        t, se = _boot_means(x, seed, 0, b_total, want_se, bar)
        return t, se
    if stat.name == "mean_diff":
        out: list[tuple[np.ndarray, np.ndarray | None]] = []
        for j, x in enumerate(arrays):
            out.append(_boot_means(x, seed, j, b_total, want_se, bar if j == 1 else None))
        t = out[0][0] - out[1][0]
        se = np.sqrt(out[0][1] ** 2 + out[1][1] ** 2) if want_se else None  # type: ignore[operator]
        return t, se
    if stat.name in ("median", "median_diff") and not paired:
        reps = []
        for j, x in enumerate(arrays):
            xs = np.sort(x)
            t = np.empty(b_total)
            prog = bar if j == len(arrays) - 1 else None
            for a, b in prog.chunks(b_total) if prog is not None else [(0, b_total)]:
                K.boot_quantile(xs, 0.5, seed, j, a, t[a:b])
            reps.append(t)
        return (reps[0] if len(reps) == 1 else reps[0] - reps[1]), None
    return None


def _boot_means(
    x: np.ndarray, seed: int, stream: int, b_total: int, want_se: bool, bar: Progress | None
) -> tuple[np.ndarray, np.ndarray | None]:
    from . import _kernels as K

    n = x.size
    center = float(x.mean())
    xc = x - center  # centring keeps the sums of squares accurate
    sums = np.empty(b_total)
    sq = np.empty(b_total if want_se else 0)
    for a, b in bar.chunks(b_total) if bar is not None else [(0, b_total)]:
        K.boot_sums(xc, seed, stream, a, sums[a:b], sq[a:b] if want_se else sq)
    t = sums / n + center
    if not want_se:
        return t, None
    var = np.maximum(sq - sums * sums / n, 0.0) / (n - 1)
    return t, np.sqrt(var / n)


def _general_distribution(
    stat: Statistic,
    std_error: Callable[..., Any] | None,
    s: SampleSet,
    paired: bool,
    seed: int,
    b_total: int,
    budget: int,
    jobs: int,
    bar: Progress,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Bootstrap replicates of any vectorised statistic, in batches that fit the memory budget."""
    from concurrent.futures import ThreadPoolExecutor

    from . import _kernels as K

    arrays = s.arrays
    sizes = [a.size for a in arrays]
    workers = max(1, jobs)
    m = batch_size(budget, 40 * sum(sizes), b_total, workers)
    t = np.empty(b_total)
    se = np.empty(b_total) if std_error is not None else None

    def evaluate(b0: int, resampled: list[np.ndarray]) -> None:
        nb = resampled[0].shape[0]
        t[b0 : b0 + nb] = np.asarray(stat.func(*resampled, axis=-1), dtype=float).reshape(nb)
        if se is not None and std_error is not None:
            se[b0 : b0 + nb] = np.asarray(std_error(*resampled, axis=-1), dtype=float).reshape(nb)
        bar.update(nb)

    def batches() -> Any:
        for b0 in range(0, b_total, m):
            nb = min(m, b_total - b0)
            resampled = []
            shared = None
            for j, x in enumerate(arrays):
                if paired and shared is not None:
                    idx = shared
                else:
                    idx = np.empty((nb, x.size), dtype=np.int64)
                    K.boot_indices(x.size, seed, 0 if paired else j, b0, idx)
                    shared = idx
                resampled.append(x[idx])
            yield b0, resampled

    try:
        if workers == 1:
            for b0, r in batches():
                evaluate(b0, r)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = []
                for b0, r in batches():
                    futures.append(pool.submit(evaluate, b0, r))
                    if len(futures) >= workers:
                        futures.pop(0).result()
                for f in futures:
                    f.result()
    except (ArgumentError, DataError):
        raise
    except Exception as exc:
        raise ArgumentError(f"`statistic` (or `std_error`) failed on a batch of resamples: {type(exc).__name__}: {exc}") from exc
    return t, se


# ---------------------------------------------------------------------------------------------- jackknife
def _loo_quantile(xs: np.ndarray, q: float) -> np.ndarray:
    """Type-7 quantile of the sample with each observation left out in turn (``xs`` sorted), in O(n)."""
    n = xs.size
    i = np.arange(n)
    h = (n - 2) * q
    lo = math.floor(h)
    frac = h - lo
    a = np.where(lo < i, xs[lo], xs[min(lo + 1, n - 1)])
    if frac == 0:
        return a
    b = np.where(lo + 1 < i, xs[lo + 1], xs[min(lo + 2, n - 1)])
    return 0.5 * (a + b) if frac == 0.5 else a + frac * (b - a)


def _influence(stat: Statistic, s: SampleSet, paired: bool, budget: int) -> list[np.ndarray]:
    """Jackknife influence values U_i = (n - 1)(mean of leave-one-out estimates - leave-one-out estimate), per sample."""
    arrays = s.arrays
    if stat.name == "mean" or (stat.name == "mean_diff" and paired):
        x = arrays[0] - arrays[1] if paired else arrays[0]
        return [x - x.mean()]
    if stat.name == "mean_diff":
        return [arrays[0] - arrays[0].mean(), -(arrays[1] - arrays[1].mean())]
    if stat.name in ("median", "median_diff") and not paired:
        out = []
        for j, x in enumerate(arrays):
            loo = _loo_quantile(np.sort(x), 0.5)
            u = (x.size - 1) * (loo.mean() - loo)
            out.append(u if j == 0 else -u)
        return out
    if paired:
        return [_jackknife_general(stat.func, arrays, None, budget)]
    return [_jackknife_general(stat.func, arrays, j, budget) for j in range(len(arrays))]


def _jackknife_general(func: Callable[..., Any], arrays: tuple[np.ndarray, ...], which: int | None, budget: int) -> np.ndarray:
    """Leave-one-out estimates for sample ``which`` (or for all samples jointly: paired rows), batched in memory."""
    n = arrays[0].size if which is None else arrays[which].size
    base = np.arange(n - 1)
    m = batch_size(budget, 24 * n * (len(arrays) if which is None else 1), n)
    loo = np.empty(n)
    for i0 in range(0, n, m):
        i = np.arange(i0, min(n, i0 + m))
        idx = base[None, :] + (base[None, :] >= i[:, None])
        args = []
        for j, x in enumerate(arrays):
            if which is None or j == which:
                args.append(x[idx])
            else:
                args.append(np.broadcast_to(x, (i.size, x.size)))
        try:
            loo[i0 : i0 + i.size] = np.asarray(func(*args, axis=-1), dtype=float).reshape(i.size)
        except Exception as exc:
            raise ArgumentError(f"`statistic` failed on the jackknife samples needed for BCa: {type(exc).__name__}: {exc}") from exc
    if not np.all(np.isfinite(loo)):
        raise DataError(
            "`statistic` is not finite on some leave-one-out samples, so the BCa acceleration is undefined; use method='percentile'"
        )
    return (n - 1) * (loo.mean() - loo)


def acceleration(influence: Sequence[np.ndarray]) -> float:
    """Efron's acceleration from jackknife influence values of one or more independent samples.

    ``a = sum_j sum_i U_ji^3 / n_j^3 / (6 (sum_j sum_i U_ji^2 / n_j^2)^(3/2))``; with one sample this is
    ``sum U^3 / (6 (sum U^2)^(3/2))``, as in R's ``boot.ci``.
    """
    num = sum(float(np.sum(u**3)) / u.size**3 for u in influence)
    den = sum(float(np.sum(u**2)) / u.size**2 for u in influence)
    return num / (6.0 * den**1.5) if den > 0 else 0.0


# ---------------------------------------------------------------------------------------------- intervals
def _ppf(p: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(p))


def _cdf(z: float) -> float:
    from scipy.special import ndtr

    return float(ndtr(z))


def _pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _qs(ts: np.ndarray, p: float) -> float:
    """Type-7 quantile of an already sorted array (as np.quantile, without re-partitioning)."""
    h = (ts.size - 1) * min(max(p, 0.0), 1.0)
    lo = math.floor(h)
    if lo >= ts.size - 1:
        return float(ts[-1])
    return float(ts[lo] + (h - lo) * (ts[lo + 1] - ts[lo]))


def _quantile_mc_se(ts: np.ndarray, p: float) -> tuple[float, float]:
    """Quantile ``p`` of the sorted replicates and its Monte Carlo SE, sqrt(p(1-p)/B) / f(q_p).

    The density at the quantile is estimated from the spacing of nearby quantiles, with the Hall-Sheather
    bandwidth.
    """
    b = ts.size
    q = _qs(ts, p)
    z = _ppf(p)
    h = b ** (-1 / 3) * _ppf(0.975) ** (2 / 3) * (1.5 * _pdf(z) ** 2 / (2 * z * z + 1)) ** (1 / 3)
    h = float(min(max(h, 2.0 / b), p * 0.9, (1 - p) * 0.9)) if 0 < p < 1 else 0.0
    if h <= 0:
        return q, math.nan
    slope = _spacing(ts, p, h)
    return q, slope * math.sqrt(p * (1 - p) / b)


def _spacing(ts: np.ndarray, p: float, h: float) -> float:
    """(Q(p + h) - Q(p - h)) / 2h, widening h while the quantiles coincide (a discrete distribution's atom)."""
    top = min(p, 1 - p)
    while True:
        lo_p, hi_p = max(p - h, 0.0), min(p + h, 1.0)
        slope = (_qs(ts, hi_p) - _qs(ts, lo_p)) / (hi_p - lo_p)
        if slope > 0 or h >= top:
            return slope
        h = min(2 * h, top)


def _interval(
    method: str,
    theta: float,
    t: np.ndarray,
    lo_p: float,
    hi_p: float,
    *,
    accel: float = 0.0,
    t_stud: np.ndarray | None = None,
    se0: float | None = None,
    sorted_t: np.ndarray | None = None,
) -> tuple[float, float, float, float, dict[str, Any]]:
    """Two-sided interval at tail probabilities (lo_p, hi_p), with Monte Carlo SEs of both endpoints."""
    ts = np.sort(t) if sorted_t is None else sorted_t
    b = ts.size
    extra: dict[str, Any] = {}
    if method == "percentile":
        lo, se_lo = _quantile_mc_se(ts, lo_p)
        hi, se_hi = _quantile_mc_se(ts, hi_p)
    elif method == "basic":
        qh, se_lo = _quantile_mc_se(ts, hi_p)
        ql, se_hi = _quantile_mc_se(ts, lo_p)
        lo, hi = 2 * theta - qh, 2 * theta - ql
    elif method == "normal":
        sd = float(np.std(t, ddof=1))
        bias = float(np.mean(t)) - theta
        z = _ppf(hi_p)
        lo, hi = theta - bias - z * sd, theta - bias + z * sd
        c = t - t.mean()
        m3 = float(np.mean(c**3))
        kurt = float(np.mean(c**4)) / sd**4 if sd > 0 else 3.0
        var_mean = sd * sd / b
        var_sd = sd * sd * max(kurt - 1.0, 0.0) / (4 * b)
        cov = m3 / (2 * sd * b) if sd > 0 else 0.0
        se_lo = math.sqrt(max(var_mean + z * z * var_sd + 2 * z * cov, 0.0))
        se_hi = math.sqrt(max(var_mean + z * z * var_sd - 2 * z * cov, 0.0))
        extra["bias"] = bias
    elif method == "studentized":
        assert t_stud is not None
        assert se0 is not None
        tt = np.sort(t_stud)
        qh, se_qh = _quantile_mc_se(tt, hi_p)
        ql, se_ql = _quantile_mc_se(tt, lo_p)
        lo, hi = theta - se0 * qh, theta - se0 * ql
        se_lo, se_hi = se0 * se_qh, se0 * se_ql
    else:  # bca
        frac = float(np.mean(t < theta))
        if frac <= 0.0 or frac >= 1.0:
            raise DataError(
                f"the estimate {theta:g} lies outside the bootstrap distribution, so the BCa bias correction is infinite; "
                "use method='percentile' (or check the statistic)"
            )
        z0 = _ppf(frac)
        var_z0 = frac * (1 - frac) / (b * _pdf(z0) ** 2)
        ends = []
        for p in (lo_p, hi_p):
            za = _ppf(p)
            denom = 1 - accel * (z0 + za)
            w = z0 + (z0 + za) / denom
            adj = _cdf(w)
            q, se_q = _quantile_mc_se(ts, adj)
            if not math.isfinite(se_q):
                se_q = 0.0
            dadj = _pdf(w) * (1 + 1 / denom**2)
            slope = _spacing(ts, adj, max(2.0 / b, min(adj, 1 - adj) * 0.5))
            ends.append((q, math.sqrt(se_q**2 + (slope * dadj) ** 2 * var_z0), adj))
        (lo, se_lo, a_lo), (hi, se_hi, a_hi) = ends
        extra.update(z0=z0, acceleration=accel, adjusted_levels=(a_lo, a_hi))
    return float(lo), float(hi), float(se_lo), float(se_hi), extra


def _summary_table(t: np.ndarray, ts: np.ndarray, theta: float) -> pd.DataFrame:
    qs = [_qs(ts, p) for p in (0.025, 0.25, 0.5, 0.75, 0.975)]
    rows = [
        ("mean", float(t.mean())),
        ("std. deviation", float(t.std(ddof=1)) if t.size > 1 else math.nan),
        ("bias (mean - estimate)", float(t.mean()) - theta),
        ("minimum", float(ts[0])),
        ("2.5% quantile", float(qs[0])),
        ("25% quantile", float(qs[1])),
        ("median", float(qs[2])),
        ("75% quantile", float(qs[3])),
        ("97.5% quantile", float(qs[4])),
        ("maximum", float(ts[-1])),
    ]
    return pd.DataFrame(rows, columns=["quantity", "value"])


# ---------------------------------------------------------------------------------------------- public
@vp.validate_params(
    {
        "samples": "sample",
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "statistic": [vp.Options(NAMED), "callable"],
        "paired": "boolean",
        "method": vp.Options(METHODS, ignore_case=True),
        "conf_level": "conf_level",
        "alternative": "alternative",
        "n_resamples": vp.Interval("int", 1),
        "random_state": "random_state",
        "memory_budget": [None, vp.Interval("int", 2**20)],
        "n_jobs": [None, vp.Interval("int", -1)],
        "progress": [None, "boolean"],
        "std_error": [None, "callable"],
    }
)
def bootstrap(
    *samples: Any,
    statistic: str | Callable[..., Any] = "mean",
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    paired: bool = False,
    method: str = "BCa",
    conf_level: float = 0.95,
    alternative: str = "two-sided",
    n_resamples: int = 9999,
    random_state: Any = None,
    std_error: Callable[..., Any] | None = None,
    memory_budget: int | None = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
) -> BootstrapResult:
    """Bootstrap confidence interval for a statistic of one or more samples.

    Parameters
    ----------
    *samples : array-like or str
        One or more samples (1-D arrays), or column names of ``data``. Independent samples are resampled
        separately (a stratified bootstrap); with ``paired=True`` two equal-length samples are resampled as
        pairs (rows).
    statistic : str or callable
        A named statistic that uses the compiled fast paths: ``"mean"``, ``"median"`` (one sample),
        ``"mean_diff"``, ``"median_diff"`` (two samples, first minus second). Or any vectorised callable
        ``statistic(*samples, axis=-1)`` that, given samples of shape ``(m, n)``, returns shape ``(m,)``
        (like ``np.mean``).
    data : DataFrame or Dataset, optional
        Table holding the columns named in ``samples`` (and ``group``).
    group : str, optional
        Column splitting the single column in ``samples`` into groups (sorted order, or ``levels``).
    levels : sequence, optional
        Which levels of ``group`` to use, in order.
    paired : bool
        Resample pairs of two equal-length samples jointly.
    method : {"BCa", "percentile", "basic", "studentized", "normal"}
        Interval method (case-insensitive). ``"studentized"`` needs a standard error for each resample: it is
        built in for ``"mean"`` and ``"mean_diff"``; otherwise pass ``std_error``.
    conf_level : float
        Confidence level.
    alternative : {"two-sided", "less", "greater"}
        ``"less"`` gives an upper bound (lower end ``-inf``), ``"greater"`` a lower bound.
    n_resamples : int
        Number of bootstrap resamples (>= 1).
    random_state : None, int or numpy Generator
        Seed. The same integer gives the same result whatever ``n_jobs``, ``memory_budget`` or ``progress``.
    std_error : callable, optional
        Vectorised standard error of the statistic (same calling convention), for ``method="studentized"``.
    memory_budget : int, optional
        Bytes the call may use for resamples at once (default 256 MiB); the batch size follows from it.
    n_jobs : int, optional
        Threads for the compiled kernels and for batches of a callable statistic (default: all cores).
    progress : bool, optional
        Show a progress bar; default only for long runs in an interactive terminal.

    Returns
    -------
    BootstrapResult
        ``estimate`` (the statistic on the data), ``std_error`` (standard deviation of the bootstrap
        replicates), ``ci_low``/``ci_high``, ``conf_level``, ``alternative``, ``n`` (total observations),
        ``method``, ``estimand``; ``details["distribution"]`` summarises the replicates (mean, sd, bias,
        quantiles), ``details["monte_carlo"]`` gives the Monte Carlo standard error of each endpoint,
        ``details["n_resamples"]`` and ``details["seed"]`` (also in ``provenance``), and for BCa
        ``details["z0"]`` and ``details["acceleration"]``. ``result.distribution`` holds the replicates
        and ``result.plot()`` draws them with the interval.

    Notes
    -----
    With replicates :math:`\\hat\\theta^*_b` and quantile function :math:`Q` (type 7, linear interpolation),
    at :math:`\\alpha = 1 -` ``conf_level`` (two-sided):

    * percentile: :math:`[Q(\\alpha/2), Q(1-\\alpha/2)]`;
    * basic: :math:`[2\\hat\\theta - Q(1-\\alpha/2), 2\\hat\\theta - Q(\\alpha/2)]`;
    * normal: :math:`\\hat\\theta - b \\mp z_{1-\\alpha/2} s` with bias :math:`b` and sd :math:`s` of the replicates;
    * studentized: :math:`[\\hat\\theta - \\hat\\sigma\\, Q_t(1-\\alpha/2), \\hat\\theta - \\hat\\sigma\\, Q_t(\\alpha/2)]`,
      :math:`t^*_b = (\\hat\\theta^*_b - \\hat\\theta)/\\hat\\sigma^*_b`;
    * BCa: :math:`Q(\\Phi(z_0 + (z_0 + z_a)/(1 - a(z_0 + z_a))))` at :math:`z_a = z_{\\alpha/2}, z_{1-\\alpha/2}`,
      :math:`z_0 = \\Phi^{-1}(\\#\\{\\hat\\theta^*_b < \\hat\\theta\\}/B)` and acceleration
      :math:`a = \\sum_j n_j^{-3} \\sum_i U_{ji}^3 / (6 (\\sum_j n_j^{-2} \\sum_i U_{ji}^2)^{3/2})` from jackknife
      influence values :math:`U_{ji}` (Efron 1987). For means the jackknife is exact and O(n); for medians it
      is O(n) from the order statistics; other statistics use a batched O(n^2) jackknife.

    One-sided intervals are the matching end of the two-sided interval at level ``2 conf_level - 1``.
    Monte Carlo standard errors of the endpoints use :math:`\\sqrt{p(1-p)/B}/f(Q(p))` with the density
    :math:`f` estimated from quantile spacings (plus the delta-method error of :math:`z_0` for BCa, and of
    the replicates' mean and sd for the normal interval).

    Resamples are drawn by compiled kernels with one xoshiro256** stream per resample, derived from the
    seed, so results do not depend on the number of threads or on the batch size. The first call in a
    process compiles the kernels (a few seconds, cached on disk afterwards).

    Validated against R's ``boot::boot.ci`` (types perc, basic, bca, stud and norm; ``tests/reference/boot.R``)
    within Monte Carlo error, and by simulated coverage.

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. JASA 82, 171-185.
    Davison, A. C. and Hinkley, D. V. (1997). Bootstrap Methods and their Application. Cambridge.

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(1)
    >>> x, y = rng.exponential(2.0, 200), rng.exponential(1.5, 150)
    >>> r = ci.stats.bootstrap(x, y, statistic="mean_diff", random_state=7)
    >>> r.method
    'BCa bootstrap confidence interval (9,999 resamples)'
    >>> bool(r.ci_low < r.estimate < r.ci_high)
    True
    """
    method_key = check_choice(method.lower() if isinstance(method, str) else method, "method", METHODS)
    conf_level = check_conf_level(conf_level)
    alternative = check_alternative(alternative)
    if not isinstance(paired, bool):
        raise ArgumentTypeError(f"`paired` must be True or False; got {show(paired)}")
    if std_error is not None and not callable(std_error):
        raise ArgumentTypeError(f"`std_error` must be a vectorised callable or None; got {show(std_error)}")
    budget = check_memory_budget(memory_budget)
    b_total = check_n_resamples(n_resamples, budget, 16 if method_key == "studentized" else 8)
    jobs = check_n_jobs(n_jobs)
    prog = check_progress(progress)
    stat = resolve_statistic(statistic)
    s = collect_samples(samples, data=data, group=group, levels=levels, paired=paired, min_size=2, what="a bootstrap")
    theta = check_statistic_output(stat, s.arrays)
    builtin_se = stat.name == "mean" or stat.name == "mean_diff"
    if method_key == "studentized" and std_error is None and not builtin_se:
        raise ArgumentError(
            "`method` = 'studentized' needs a standard error for each resample: it is built in for statistic='mean' and "
            "'mean_diff'; for other statistics pass std_error=, a vectorised function like the statistic"
        )
    seed, recorded_seed = resolve_seed(random_state)
    n_total = sum(a.size for a in s.arrays) if not paired else s.arrays[0].size

    want_se = method_key == "studentized"
    bar = Progress(b_total, prog, work=float(b_total) * n_total, desc=f"{_METHOD_LABEL[method_key]}")
    try:
        with numba_threads(jobs, work=float(b_total) * n_total):
            fast = None
            if stat.name is not None and (std_error is None or not want_se):
                fast = _fast_distribution(stat, s, paired, seed, b_total, want_se, bar)
            if fast is None:
                fast = _general_distribution(stat, std_error if want_se else None, s, paired, seed, b_total, budget, jobs, bar)
    finally:
        bar.close()
    t, se_t = fast
    bad = int(np.sum(~np.isfinite(t)))
    if bad:
        raise DataError(
            f"`statistic` was not finite (NaN or infinite) in {bad} of {b_total} resamples; make it defined for every "
            "resample (for example guard against empty or constant resamples)"
        )
    if np.ptp(t) == 0:
        raise DataError(
            f"every bootstrap resample gives the same value ({t[0]:g}): the data are constant for this statistic, so "
            "no interval can be computed"
        )

    # ---- interval
    if alternative == "two-sided":
        lo_p, hi_p = (1 - conf_level) / 2, (1 + conf_level) / 2
    else:
        lo_p, hi_p = 1 - conf_level, conf_level
    diags: list[Diagnostic] = []
    kwargs: dict[str, Any] = {}
    if method_key == "bca":
        accel = acceleration(_influence(stat, s, paired, budget))
        kwargs["accel"] = accel
    if method_key == "studentized":
        assert se_t is not None
        if std_error is not None:
            se0 = float(np.asarray(std_error(*s.arrays, axis=-1)))
        else:
            se0 = _builtin_se(stat, s, paired)
        if not (math.isfinite(se0) and se0 > 0):
            raise DataError(f"the standard error of the statistic on the data is {se0}; the studentized interval needs it positive")
        with np.errstate(divide="ignore", invalid="ignore"):
            tstud = (t - theta) / se_t
        ok = np.isfinite(tstud)
        if not ok.all():
            dropped = int((~ok).sum())
            diags.append(
                Diagnostic(
                    "studentized replicates",
                    "warn",
                    dropped,
                    f"{dropped} resample(s) had a zero or undefined standard error and were left out of the studentized quantiles",
                )
            )
        kwargs.update(t_stud=tstud[ok], se0=se0)
    ts = np.sort(t)
    lo, hi, se_lo, se_hi, extra = _interval(method_key, theta, t, lo_p, hi_p, sorted_t=ts, **kwargs)
    if alternative == "less":
        lo, se_lo = -math.inf, 0.0
    elif alternative == "greater":
        hi, se_hi = math.inf, 0.0

    # ---- diagnostics
    finite_ends = [v for v in (lo, hi) if math.isfinite(v)]
    width = (hi - lo) if len(finite_ends) == 2 else 2 * abs(finite_ends[0] - theta)
    mc_worst = max(se_lo if math.isfinite(lo) else 0.0, se_hi if math.isfinite(hi) else 0.0)
    ratio = mc_worst / width if width > 0 else 0.0
    if ratio <= _MC_WARN:
        diags.append(
            Diagnostic("Monte Carlo error", "ok", ratio, f"the endpoints' Monte Carlo SE is {100 * ratio:.2g}% of the interval width")
        )
    else:
        diags.append(
            Diagnostic(
                "Monte Carlo error",
                "warn",
                ratio,
                f"the endpoints' Monte Carlo SE is {100 * ratio:.2g}% of the interval width; increase n_resamples for stable endpoints",
            )
        )
    if method_key == "bca":
        a_lo, a_hi = extra["adjusted_levels"]
        beyond = min(a_lo, 1 - a_hi) * b_total
        if beyond < 5:
            diags.append(
                Diagnostic(
                    "BCa adjusted levels",
                    "warn",
                    min(a_lo, 1 - a_hi),
                    f"the BCa correction moves an endpoint to the extreme of the distribution (levels {a_lo:.3g}, {a_hi:.3g}): "
                    "fewer than 5 replicates lie beyond it; increase n_resamples or use another method",
                )
            )
    n_unique = int(np.count_nonzero(np.diff(ts))) + 1
    if n_unique < 100:
        diags.append(
            Diagnostic(
                "bootstrap distribution",
                "warn",
                n_unique,
                f"only {n_unique} distinct bootstrap values: the distribution is discrete (small sample or a rank statistic), "
                "so interval endpoints are coarse",
            )
        )

    mc = pd.DataFrame(
        {
            "quantity": ["ci_low", "ci_high"],
            "value": [lo, hi],
            "mc_std_error": [se_lo, se_hi],
        }
    )
    details: dict[str, Any] = {
        "distribution": _summary_table(t, ts, theta),
        "monte_carlo": mc,
        "n_resamples": b_total,
        "seed": recorded_seed,
        "interval": _METHOD_LABEL[method_key],
        "fast_path": stat.name is not None and not (method_key == "studentized" and std_error is not None) and _has_fast(stat, paired),
        "_distribution": t,
    }
    if method_key == "bca":
        details["z0"] = extra["z0"]
        details["acceleration"] = extra["acceleration"]
    if method_key == "normal":
        details["bias"] = extra["bias"]
    return BootstrapResult(
        method=f"{_METHOD_LABEL[method_key]} confidence interval ({b_total:,} resamples)",
        estimand=_estimand(stat, s, paired),
        estimate=theta,
        std_error=float(np.std(t, ddof=1)),
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        alternative=alternative,
        n=n_total,
        diagnostics=tuple(diags),
        details=details,
        provenance=Provenance.current(random_state=recorded_seed, data_fingerprint=s.fingerprint),
    )


def _has_fast(stat: Statistic, paired: bool) -> bool:
    return stat.name in ("mean", "mean_diff") or (stat.name in ("median", "median_diff") and not paired)


def _builtin_se(stat: Statistic, s: SampleSet, paired: bool) -> float:
    if stat.name == "mean" or paired:
        x = s.arrays[0] - s.arrays[1] if paired else s.arrays[0]
        return float(np.std(x, ddof=1) / math.sqrt(x.size))
    a, b = s.arrays
    return float(math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))


def _estimand(stat: Statistic, s: SampleSet, paired: bool) -> str:
    resp = f" of {s.response}" if s.response else ""
    if len(s.names) == 1:
        return f"{stat.label} of {s.names[0]}"
    if stat.name in ("mean_diff", "median_diff"):
        return f"{stat.label}{resp}: {s.names[0]} minus {s.names[1]}" + (" (paired)" if paired else "")
    where = f" of {s.response} in groups {', '.join(s.names)}" if s.response else f" of {', '.join(s.names)}"
    return f"{stat.label}{where}" + (" (paired)" if paired else "")
