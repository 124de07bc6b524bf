"""The one normality diagnostic used by every normal-theory method (t-tests, ANOVA, correlation, regression)."""

from __future__ import annotations

import math

import numpy as np

from ..results import Diagnostic
from ._stable import pow2_scale


def _poly(cc: tuple[float, ...], x: float) -> float:
    ret = cc[0]
    if len(cc) > 1:
        p = x * cc[-1]
        for c in cc[-2:0:-1]:
            p = (p + c) * x
        ret += p
    return ret


def _swilk(x: np.ndarray) -> tuple[float, float]:
    """W and its p-value for sorted data, by Royston's algorithm AS R94 in double precision (as R's swilk.c)."""
    from scipy import special

    x = np.sort(np.asarray(x, dtype=float))
    n = x.size
    nn2 = n // 2
    an = float(n)
    if n == 3:
        a = np.array([math.sqrt(0.5)])
    else:
        i = np.arange(1, nn2 + 1)
        m = special.ndtri((i - 0.375) / (an + 0.25))
        summ2 = 2.0 * float(np.sum(m * m))
        ssumm2 = math.sqrt(summ2)
        rsn = 1.0 / math.sqrt(an)
        a1 = _poly((0.0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056), rsn) - m[0] / ssumm2
        a = np.empty(nn2)
        if n > 5:
            i1 = 3
            a2 = -m[1] / ssumm2 + _poly((0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633), rsn)
            fac = math.sqrt((summ2 - 2.0 * m[0] ** 2 - 2.0 * m[1] ** 2) / (1.0 - 2.0 * a1**2 - 2.0 * a2**2))
            a[1] = a2
        else:
            i1 = 2
            fac = math.sqrt((summ2 - 2.0 * m[0] ** 2) / (1.0 - 2.0 * a1**2))
        a[0] = a1
        a[i1 - 1 :] = -m[i1 - 1 :] / fac
    rng = x[-1] - x[0]
    # signed coefficients: negative for the lower half, positive for the upper half, 0 in the middle
    coef = np.zeros(n)
    coef[:nn2] = -a
    coef[n - nn2 :] = a[::-1]
    xs = x / rng
    sa = float(np.sum(coef)) / n
    sx = float(np.sum(xs)) / n
    asa = coef - sa
    xsx = xs - sx
    ssa = float(np.sum(asa * asa))
    ssx = float(np.sum(xsx * xsx))
    sax = float(np.sum(asa * xsx))
    ssassx = math.sqrt(ssa * ssx)
    w1 = (ssassx - sax) * (ssassx + sax) / (ssa * ssx)
    w = 1.0 - w1
    if n == 3:
        pw = 1.90985931710274 * (math.asin(math.sqrt(w)) - 1.04719755119660)
        return w, max(pw, 0.0)
    y = math.log(w1)
    xx = math.log(an)
    if n <= 11:
        gamma = _poly((-2.273, 0.459), an)
        if y >= gamma:
            return w, 1e-99
        y = -math.log(gamma - y)
        mm = _poly((0.544, -0.39978, 0.025054, -6.714e-4), an)
        s = math.exp(_poly((1.3822, -0.77857, 0.062767, -0.0020322), an))
    else:
        mm = _poly((-1.5861, -0.31082, -0.083751, 0.0038915), xx)
        s = math.exp(_poly((-0.4803, -0.082676, 0.0030302), xx))
    return w, float(special.ndtr(-(y - mm) / s))


_MAX_N = 5000  # the Shapiro-Wilk approximation's range; larger samples are checked on a seeded subsample


def normality_diagnostic(
    sample: np.ndarray,
    label: str,
    *,
    name: str | None = None,
    robust_n: int | None = 30,
    advice: str = "consider a rank test or a bootstrap interval",
    ok_text: str = "no evidence against normality",
    robust_text: str = "the method is robust to non-normality of this kind",
) -> Diagnostic:
    """Shapiro-Wilk check (R's ``shapiro.test`` algorithm) of ``sample``, worded for the method that relies on it.

    ``"ok"`` when p >= 0.05, or when p < 0.05 but n >= ``robust_n`` (the method is robust there; ``None``: never
    relaxed); ``"warn"`` otherwise, with ``advice``. Fewer than 3 observations or no spread give ``"warn"`` with
    no p-value. The test is location and scale free, so the sample is standardised first (exactly, by powers of
    two), which keeps data of any magnitude away from overflow.
    """
    name = name or f"normality ({label})"
    x = np.asarray(sample, dtype=float)
    n = x.size
    if n < 3:
        return Diagnostic(name, "warn", None, f"only {n} observation(s): normality cannot be checked")
    if np.ptp(x) == 0:
        return Diagnostic(name, "warn", None, "all values are equal")
    if n > _MAX_N:
        x = np.random.default_rng(0).choice(x, _MAX_N, replace=False)
    x = x / pow2_scale(x)
    x = x - np.median(x)
    x = x / pow2_scale(x)
    if np.ptp(x) < 1e-10:
        return Diagnostic(name, "warn", None, "the values are identical to about 10 significant digits: normality cannot be checked")
    p = min(1.0, float(_swilk(x)[1]))
    if p >= 0.05:
        return Diagnostic(name, "ok", p, f"Shapiro-Wilk p = {p:.3g}: {ok_text}")
    if robust_n is not None and n >= robust_n:
        return Diagnostic(name, "ok", p, f"Shapiro-Wilk p = {p:.3g}, but with n = {n} {robust_text}")
    return Diagnostic(name, "warn", p, f"Shapiro-Wilk p = {p:.3g}{f' with only n = {n}' if robust_n is not None else ''}: {advice}")
