"""Exact null distributions of rank statistics and the Brent root finder used by R's ``uniroot``.

The Mann-Whitney and signed-rank counts are exact integers; quantiles follow R's ``qwilcox``/``qsignrank``
conventions (including their ``10 * DBL_EPSILON`` fuzz) so intervals agree with R to the last digit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

_DBL_EPS = 2.220446049250313e-16


@lru_cache(maxsize=64)
def wilcox_counts(m: int, n: int) -> tuple[int, ...]:
    """Number of arrangements giving each value 0..m*n of the Mann-Whitney statistic (sizes m, n)."""
    if m > n:
        m, n = n, m
    # generating function prod_{i=1..m} (1 - q^{n+i}) / (1 - q^i), in exact integers
    size = m * n + 1
    poly = [0] * size
    poly[0] = 1
    for i in range(1, m + 1):
        shift = n + i
        for u in range(size - 1, shift - 1, -1):
            poly[u] -= poly[u - shift]
        for u in range(i, size):
            poly[u] += poly[u - i]
    return tuple(poly)


@lru_cache(maxsize=64)
def signrank_counts(n: int) -> tuple[int, ...]:
    """Number of sign patterns giving each value 0..n(n+1)/2 of the signed-rank statistic."""
    size = n * (n + 1) // 2 + 1
    c = [0] * size
    c[0] = 1
    top = 0
    for k in range(1, n + 1):
        top += k
        for s in range(top, k - 1, -1):
            c[s] += c[s - k]
    return tuple(c)


def _cdf(counts: tuple[int, ...], total: int, q: float) -> float:
    q = math.floor(q + 1e-7)
    if q < 0:
        return 0.0
    if q >= len(counts) - 1:
        return 1.0
    return sum(counts[: q + 1]) / total


def pwilcox(q: float, m: int, n: int, *, lower: bool = True) -> float:
    """P(W <= q) (or P(W > q)) for the Mann-Whitney statistic, as R's ``pwilcox``."""
    counts = wilcox_counts(m, n)
    total = math.comb(m + n, n)
    if lower:
        return _cdf(counts, total, q)
    q = math.floor(q + 1e-7)
    if q < 0:
        return 1.0
    return sum(counts[q + 1 :]) / total


def psignrank(q: float, n: int, *, lower: bool = True) -> float:
    """P(V <= q) (or P(V > q)) for the signed-rank statistic, as R's ``psignrank``."""
    counts = signrank_counts(n)
    total = 2**n
    if lower:
        return _cdf(counts, total, q)
    q = math.floor(q + 1e-7)
    if q < 0:
        return 1.0
    return sum(counts[q + 1 :]) / total


def _quantile(counts: tuple[int, ...], total: int, p: float) -> int:
    top = len(counts) - 1
    if p <= 0:
        return 0
    if p >= 1:
        return top
    acc = 0.0
    q = 0
    if p <= 0.5:
        p = p - 10 * _DBL_EPS
        while True:
            acc += counts[q] / total
            if acc >= p:
                return q
            q += 1
    p = 1 - p + 10 * _DBL_EPS
    while True:
        acc += counts[q] / total
        if acc > p:
            return top - q
        q += 1


def qwilcox(p: float, m: int, n: int) -> int:
    """Quantile of the Mann-Whitney statistic, as R's ``qwilcox``."""
    return _quantile(wilcox_counts(m, n), math.comb(m + n, n), p)


def qsignrank(p: float, n: int) -> int:
    """Quantile of the signed-rank statistic, as R's ``qsignrank``."""
    return _quantile(signrank_counts(n), 2**n, p)


def zeroin(f: Callable[[float], float], a: float, b: float, fa: float, fb: float, tol: float, maxit: int = 1000) -> float:
    """Brent's root finder exactly as R's ``uniroot`` runs it (R_zeroin2), so step-function roots agree with R."""
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    it = maxit + 1
    while it:
        it -= 1
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _DBL_EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b
