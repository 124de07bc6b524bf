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


@njit(inline="always", cache=True)
def _bounded2(s0, s1, s2, s3, na, nb):  # type: ignore[no-untyped-def]
    """Two exactly uniform integers in [0, na) and [0, nb) from the two halves of one 64-bit draw.

    A half that must be rejected (probability < n / 2**32) is replaced by the high half of a fresh draw.
    """
    ua = uint64(na)
    ub = uint64(nb)
    s0, s1, s2, s3, r = _next(s0, s1, s2, s3)
    ma = (r >> uint64(32)) * ua
    mb = (r & _MASK32) * ub
    if (ma & _MASK32) < ua:
        thresh = (_TWO32 - ua) % ua
        while (ma & _MASK32) < thresh:
            s0, s1, s2, s3, r = _next(s0, s1, s2, s3)
            ma = (r >> uint64(32)) * ua
    if (mb & _MASK32) < ub:
        thresh = (_TWO32 - ub) % ub
        while (mb & _MASK32) < thresh:
            s0, s1, s2, s3, r = _next(s0, s1, s2, s3)
            mb = (r >> uint64(32)) * ub
    return s0, s1, s2, s3, np.int64(ma >> uint64(32)), np.int64(mb >> uint64(32))


# ---------------------------------------------------------------------------------------------- bootstrap
@njit(parallel=True, cache=True)
def boot_sums(x, seed, stream, b0, out_sum, out_sumsq):  # type: ignore[no-untyped-def]
    """Sum (and sum of squares) of ``x`` over each of ``len(out_sum)`` bootstrap resamples ``b0, b0+1, ...``.

    Indices are drawn in pairs (two per 64-bit random number) and summed into four accumulators, which
    keeps the floating-point pipeline full; the draws are those of :func:`boot_indices`.
    """
    n = x.shape[0]
    nb = out_sum.shape[0]
    want_sq = out_sumsq.shape[0] == nb
    quads = n // 4
    for j in prange(nb):
        s0, s1, s2, s3 = _seed_state(seed, stream, b0 + j)
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        q0 = 0.0
        q1 = 0.0
        q2 = 0.0
        q3 = 0.0
        for _ in range(quads):
            s0, s1, s2, s3, i0, i1 = _bounded2(s0, s1, s2, s3, n, n)
            s0, s1, s2, s3, i2, i3 = _bounded2(s0, s1, s2, s3, n, n)
            v0 = x[i0]
            v1 = x[i1]
            v2 = x[i2]
            v3 = x[i3]
            a0 += v0
            a1 += v1
            a2 += v2
            a3 += v3
            if want_sq:
                q0 += v0 * v0
                q1 += v1 * v1
                q2 += v2 * v2
                q3 += v3 * v3
        for _ in range(n - 4 * quads):
            s0, s1, s2, s3, i0 = _bounded(s0, s1, s2, s3, n)
            v0 = x[i0]
            a0 += v0
            q0 += v0 * v0
        out_sum[j] = (a0 + a1) + (a2 + a3)
        if want_sq:
            out_sumsq[j] = (q0 + q1) + (q2 + q3)


@njit(parallel=True, cache=True)
def boot_indices(n, seed, stream, b0, out):  # type: ignore[no-untyped-def]
    """Row indices of bootstrap resamples ``b0, b0+1, ...`` (one row of ``out`` each); same draws as boot_sums."""
    nb = out.shape[0]
    quads = n // 4
    for j in prange(nb):
        s0, s1, s2, s3 = _seed_state(seed, stream, b0 + j)
        k = 0
        for _ in range(quads):
            s0, s1, s2, s3, i0, i1 = _bounded2(s0, s1, s2, s3, n, n)
            s0, s1, s2, s3, i2, i3 = _bounded2(s0, s1, s2, s3, n, n)
            out[j, k] = i0
            out[j, k + 1] = i1
            out[j, k + 2] = i2
            out[j, k + 3] = i3
            k += 4
        for _ in range(n - 4 * quads):
            s0, s1, s2, s3, i0 = _bounded(s0, s1, s2, s3, n)
            out[j, k] = i0
            k += 1


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
        for _ in range(n // 4):
            s0, s1, s2, s3, i0, i1 = _bounded2(s0, s1, s2, s3, n, n)
            s0, s1, s2, s3, i2, i3 = _bounded2(s0, s1, s2, s3, n, n)
            counts[i0] += 1
            counts[i1] += 1
            counts[i2] += 1
            counts[i3] += 1
        for _ in range(n - 4 * (n // 4)):
            s0, s1, s2, s3, i0 = _bounded(s0, s1, s2, s3, n)
            counts[i0] += 1
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
            out[j] = 0.5 * (v_lo + v_hi) if frac == 0.5 else v_lo + frac * (v_hi - v_lo)
        else:
            out[j] = v_lo


# -------------------------------------------------------------------------------------------- permutation
#: Permutations are generated in blocks of this many; each block starts from the original order.
PERM_BLOCK = 64


@njit(parallel=True, cache=True)
def perm_subset_sums(z, k, seed, b0, out):  # type: ignore[no-untyped-def]
    """Sum of a uniformly random ``k``-subset of ``z`` for each permutation ``b0, b0+1, ...``.

    Partial Fisher-Yates: ``k`` swaps per permutation, drawn in pairs from one 64-bit number. Within a block
    of :data:`PERM_BLOCK` permutations each shuffle continues from the previous arrangement (a partial
    shuffle of any arrangement gives a uniformly random subset); every block starts from the original
    order, so the result depends only on the seed and the permutation numbers. ``b0`` must be a multiple
    of PERM_BLOCK.
    """
    big_n = z.shape[0]
    nb = out.shape[0]
    nblocks = (nb + PERM_BLOCK - 1) // PERM_BLOCK
    for c in prange(nblocks):
        work = z.copy()
        for j in range(c * PERM_BLOCK, min(nb, (c + 1) * PERM_BLOCK)):
            s0, s1, s2, s3 = _seed_state(seed, 0, b0 + j)
            acc = 0.0
            acc2 = 0.0
            for i in range(0, k - 1, 2):
                s0, s1, s2, s3, r, r2 = _bounded2(s0, s1, s2, s3, big_n - i, big_n - i - 1)
                p = i + r
                tmp = work[p]
                work[p] = work[i]
                work[i] = tmp
                acc += tmp
                p = i + 1 + r2
                tmp = work[p]
                work[p] = work[i + 1]
                work[i + 1] = tmp
                acc2 += tmp
            if k % 2 == 1:
                i = k - 1
                s0, s1, s2, s3, r = _bounded(s0, s1, s2, s3, big_n - i)
                p = i + r
                tmp = work[p]
                work[p] = work[i]
                work[i] = tmp
                acc += tmp
            out[j] = acc + acc2


@njit(inline="always", cache=True)
def _shuffle_k(state, k, seed, b):  # type: ignore[no-untyped-def]
    """Partial Fisher-Yates shuffle of the first ``k`` positions of ``state`` for permutation ``b`` (in place)."""
    big_n = state.shape[0]
    s0, s1, s2, s3 = _seed_state(seed, 0, b)
    for i in range(0, k - 1, 2):
        s0, s1, s2, s3, r, r2 = _bounded2(s0, s1, s2, s3, big_n - i, big_n - i - 1)
        p = i + r
        tmp = state[p]
        state[p] = state[i]
        state[i] = tmp
        p = i + 1 + r2
        tmp = state[p]
        state[p] = state[i + 1]
        state[i + 1] = tmp
    if k % 2 == 1:
        i = k - 1
        s0, s1, s2, s3, r = _bounded(s0, s1, s2, s3, big_n - i)
        p = i + r
        tmp = state[p]
        state[p] = state[i]
        state[i] = tmp


@njit(parallel=True, cache=True)
def perm_indices(big_n, k, seed, b0, out):  # type: ignore[no-untyped-def]
    """Positions after each permutation's partial shuffle of ``0..big_n-1``; same draws as perm_subset_sums.

    ``b0`` must be a multiple of PERM_BLOCK.
    """
    nb = out.shape[0]
    nblocks = (nb + PERM_BLOCK - 1) // PERM_BLOCK
    for c in prange(nblocks):
        state = np.arange(big_n)
        for j in range(c * PERM_BLOCK, min(nb, (c + 1) * PERM_BLOCK)):
            _shuffle_k(state, k, seed, b0 + j)
            out[j, :] = state


@njit(cache=True)
def perm_indices_continue(state, k, seed, b0, out):  # type: ignore[no-untyped-def]
    """As perm_indices, for part of a block: continues shuffling ``state`` (updated in place) from permutation ``b0``.

    Lets the general path hand out fewer than PERM_BLOCK permutations at a time when samples are huge.
    """
    for j in range(out.shape[0]):
        _shuffle_k(state, k, seed, b0 + j)
        out[j, :] = state


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
