"""Compiled resampling kernels (numba, parallel over resamples).

Random numbers
--------------
Every resample ``b`` of every stream ``s`` (a sample number, or a stratum) has its own xoshiro256**
generator, seeded by hashing ``(seed, s, b)`` with splitmix64. The draws of a resample therefore do not
depend on which thread computes it, on how many threads there are, or on how the resamples are split into
chunks: for a given ``seed`` the bootstrap and permutation distributions are identical whatever ``n_jobs``
and ``memory_budget`` are. Bounded integers use Lemire's multiply-and-reject method, so every index is
exactly uniform.

The kernels that return index arrays (:func:`boot_indices`, :func:`perm_indices`, :func:`sign_masks`)
draw exactly the same numbers as the kernels that reduce on the fly (:func:`boot_sums`,
:func:`perm_subset_sums`, :func:`signflip_sums`), so a statistic computed through the general (index) path
reproduces the compiled fast path for the same seed, up to floating-point summation order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, uint64

_GAMMA = uint64(0x9E3779B97F4A7C15)
_M1 = uint64(0xBF58476D1CE4E5B9)
_M2 = uint64(0x94D049BB133111EB)
_MASK32 = uint64(0xFFFFFFFF)
_TWO32 = uint64(1) << uint64(32)


@njit(inline="always", cache=True)
def _mix(z):  # type: ignore[no-untyped-def]
    z = (z ^ (z >> uint64(30))) * _M1
    z = (z ^ (z >> uint64(27))) * _M2
    return z ^ (z >> uint64(31))


@njit(inline="always", cache=True)
def _rotl(x, k):  # type: ignore[no-untyped-def]
    return (x << uint64(k)) | (x >> uint64(64 - k))


@njit(inline="always", cache=True)
def _seed_state(seed, stream, b):  # type: ignore[no-untyped-def]
    key = _mix(_mix(uint64(seed) + _GAMMA * (uint64(stream) + uint64(1))) + _GAMMA * (uint64(b) + uint64(1)))
    key = key + _GAMMA
    s0 = _mix(key)
    key = key + _GAMMA
    s1 = _mix(key)
    key = key + _GAMMA
    s2 = _mix(key)
    key = key + _GAMMA
    s3 = _mix(key)
    return s0, s1, s2, s3


@njit(inline="always", cache=True)
def _next(s0, s1, s2, s3):  # type: ignore[no-untyped-def]
    result = _rotl(s1 * uint64(5), 7) * uint64(9)
    t = s1 << uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return s0, s1, s2, s3, result


@njit(inline="always", cache=True)
def _bounded(s0, s1, s2, s3, n):  # type: ignore[no-untyped-def]
    """Exactly uniform integer in [0, n) for 1 <= n < 2**32 (Lemire 2019)."""
    un = uint64(n)
    s0, s1, s2, s3, r = _next(s0, s1, s2, s3)
    m = (r >> uint64(32)) * un
    low = m & _MASK32
    if low < un:
        thresh = (_TWO32 - un) % un
        while low < thresh:
            s0, s1, s2, s3, r = _next(s0, s1, s2, s3)
            m = (r >> uint64(32)) * un
            low = m & _MASK32
    return s0, s1, s2, s3, np.int64(m >> uint64(32))


# ---------------------------------------------------------------------------------------------- bootstrap
@njit(parallel=True, cache=True)
def boot_sums(x, seed, stream, b0, out_sum, out_sumsq):  # type: ignore[no-untyped-def]
    """Sum (and sum of squares) of ``x`` over each of ``len(out_sum)`` bootstrap resamples ``b0, b0+1, ...``."""
    n = x.shape[0]
    nb = out_sum.shape[0]
    want_sq = out_sumsq.shape[0] == nb
    for j in prange(nb):
        s0, s1, s2, s3 = _seed_state(seed, stream, b0 + j)
        acc = 0.0
        acc2 = 0.0
        for _ in range(n):
            s0, s1, s2, s3, i = _bounded(s0, s1, s2, s3, n)
            v = x[i]
            acc += v
            acc2 += v * v
        out_sum[j] = acc
        if want_sq:
            out_sumsq[j] = acc2


@njit(parallel=True, cache=True)
def boot_indices(n, seed, stream, b0, out):  # type: ignore[no-untyped-def]
    """Row indices of bootstrap resamples ``b0, b0+1, ...`` (one row of ``out`` each); same draws as boot_sums."""
    nb = out.shape[0]
    for j in prange(nb):
        s0, s1, s2, s3 = _seed_state(seed, stream, b0 + j)
        for k in range(n):
            s0, s1, s2, s3, i = _bounded(s0, s1, s2, s3, n)
            out[j, k] = i


@njit(parallel=True, cache=True)
def boot_quantile(xs, q, seed, stream, b0, out):  # type: ignore[no-untyped-def]
    """Type-7 quantile ``q`` of each bootstrap resample of the sorted sample ``xs``, in O(n) per resample.

    A resample is summarised by how often each order statistic was drawn; the quantile is found by walking
    the cumulative counts, so no resample is ever sorted.
    """
    n = xs.shape[0]
    nb = out.shape[0]
    h = (n - 1) * q
    lo = np.int64(np.floor(h))
    frac = h - lo
    for j in prange(nb):
        counts = np.zeros(n, dtype=np.int32)
        s0, s1, s2, s3 = _seed_state(seed, stream, b0 + j)
        for _ in range(n):
            s0, s1, s2, s3, i = _bounded(s0, s1, s2, s3, n)
            counts[i] += 1
        # order statistics lo and lo + 1 (0-based) of the resample
        cum = 0
        k = 0
        while cum + counts[k] <= lo:
            cum += counts[k]
            k += 1
        v_lo = xs[k]
        if frac > 0.0:
            if cum + counts[k] > lo + 1:
                v_hi = v_lo
            else:
                k += 1
                while counts[k] == 0:
                    k += 1
                v_hi = xs[k]
            out[j] = v_lo + frac * (v_hi - v_lo)
        else:
            out[j] = v_lo


# -------------------------------------------------------------------------------------------- permutation
@njit(parallel=True, cache=True)
def perm_subset_sums(z, k, seed, b0, nchunks, out):  # type: ignore[no-untyped-def]
    """Sum of a uniformly random ``k``-subset of ``z`` for each permutation ``b0, b0+1, ...``.

    Partial Fisher-Yates: only ``k`` swaps per permutation. Every permutation starts from the original order
    (the swaps are undone afterwards), so the subset depends only on the seed and the permutation number.
    """
    big_n = z.shape[0]
    nb = out.shape[0]
    per = (nb + nchunks - 1) // nchunks
    for c in prange(nchunks):
        work = z.copy()
        swaps = np.empty(k, dtype=np.int64)
        start = c * per
        stop = min(nb, start + per)
        for j in range(start, stop):
            s0, s1, s2, s3 = _seed_state(seed, 0, b0 + j)
            acc = 0.0
            for i in range(k):
                s0, s1, s2, s3, r = _bounded(s0, s1, s2, s3, big_n - i)
                p = i + r
                swaps[i] = p
                tmp = work[p]
                work[p] = work[i]
                work[i] = tmp
                acc += tmp
            out[j] = acc
            for i in range(k - 1, -1, -1):
                p = swaps[i]
                tmp = work[p]
                work[p] = work[i]
                work[i] = tmp


@njit(parallel=True, cache=True)
def perm_indices(big_n, k, seed, b0, out):  # type: ignore[no-untyped-def]
    """Positions after a ``k``-step partial Fisher-Yates shuffle of ``0..big_n-1``; same draws as perm_subset_sums."""
    nb = out.shape[0]
    for j in prange(nb):
        for i in range(big_n):
            out[j, i] = i
        s0, s1, s2, s3 = _seed_state(seed, 0, b0 + j)
        for i in range(k):
            s0, s1, s2, s3, r = _bounded(s0, s1, s2, s3, big_n - i)
            p = i + r
            tmp = out[j, p]
            out[j, p] = out[j, i]
            out[j, i] = tmp


@njit(parallel=True, cache=True)
def signflip_sums(d, seed, b0, out):  # type: ignore[no-untyped-def]
    """Sum of ``d_i * s_i`` with independent random signs ``s_i`` for each permutation ``b0, b0+1, ...``."""
    n = d.shape[0]
    nb = out.shape[0]
    for j in prange(nb):
        s0, s1, s2, s3 = _seed_state(seed, 0, b0 + j)
        acc = 0.0
        bits = uint64(0)
        left = 0
        for i in range(n):
            if left == 0:
                s0, s1, s2, s3, bits = _next(s0, s1, s2, s3)
                left = 64
            if bits & uint64(1):
                acc -= d[i]
            else:
                acc += d[i]
            bits >>= uint64(1)
            left -= 1
        out[j] = acc


@njit(parallel=True, cache=True)
def sign_masks(n, seed, b0, out):  # type: ignore[no-untyped-def]
    """``out[j, i]`` is True where pair ``i`` is swapped in permutation ``b0 + j``; same draws as signflip_sums."""
    nb = out.shape[0]
    for j in prange(nb):
        s0, s1, s2, s3 = _seed_state(seed, 0, b0 + j)
        bits = uint64(0)
        left = 0
        for i in range(n):
            if left == 0:
                s0, s1, s2, s3, bits = _next(s0, s1, s2, s3)
                left = 64
            out[j, i] = (bits & uint64(1)) == uint64(1)
            bits >>= uint64(1)
            left -= 1
