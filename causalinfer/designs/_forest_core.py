"""Compiled kernels of the causal forest: growing honest trees on binned covariates and forest-weighted estimates.

Arrays in, arrays out (numba). Covariates are binned once into at most 255 quantile bins (``uint8`` codes); a
split sends codes ``<= threshold`` to the left child. Each tree is stored as flat node arrays: ``feature`` (-1 at
a leaf), ``threshold``, ``left`` (the right child is ``left + 1``) and, for every node, the sufficient statistics
of its honest (estimation-half) units: count, sum of W, sum of Y, sum of W^2 and sum of W*Y, where W and Y are
the centred (residualised) treatment and outcome.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

N_STATS = 5


@njit(cache=True)
def _node_pseudo(samples, start, end, yr, wr, rho):
    """Gradient pseudo-outcomes of the node's units (Athey, Tibshirani & Wager 2019, causal forest); False if W is constant."""
    n = end - start
    mw = 0.0
    my = 0.0
    for k in range(start, end):
        i = samples[k]
        mw += wr[i]
        my += yr[i]
    mw /= n
    my /= n
    sww = 0.0
    swy = 0.0
    for k in range(start, end):
        i = samples[k]
        dw = wr[i] - mw
        sww += dw * dw
        swy += dw * (yr[i] - my)
    if sww <= 1e-12 * n:
        return False
    tau = swy / sww
    scale = n / sww
    for k in range(start, end):
        i = samples[k]
        dw = wr[i] - mw
        rho[k - start] = scale * dw * ((yr[i] - my) - dw * tau)
    return True


@njit(cache=True)
def _best_split(samples, start, end, codes, treat, rho, features, mtry, n_bins, min_leaf, min_arm, cnt, srho, ntr, state):
    """The (feature, threshold) maximising sum over children of (sum rho)^2 / n, among ``mtry`` random features."""
    n = end - start
    p = features.size
    best_gain = 0.0
    best_f = -1
    best_t = -1
    # partial Fisher-Yates shuffle of the feature list, driven by a per-tree xorshift state
    for j in range(mtry):
        state[0] ^= (state[0] << np.uint64(13)) & np.uint64(0xFFFFFFFFFFFFFFFF)
        state[0] ^= state[0] >> np.uint64(7)
        state[0] ^= (state[0] << np.uint64(17)) & np.uint64(0xFFFFFFFFFFFFFFFF)
        r = j + int(state[0] % np.uint64(p - j))
        tmp = features[j]
        features[j] = features[r]
        features[r] = tmp
        f = features[j]
        nb = n_bins[f]
        for b in range(nb):
            cnt[b] = 0
            srho[b] = 0.0
            ntr[b] = 0
        for k in range(start, end):
            i = samples[k]
            b = codes[i, f]
            cnt[b] += 1
            srho[b] += rho[k - start]
            ntr[b] += treat[i]
        n_tr = 0
        for b in range(nb):
            n_tr += ntr[b]
        nl = 0
        sl = 0.0
        tl = 0
        total = 0.0
        for b in range(nb):
            total += srho[b]
        for b in range(nb - 1):
            nl += cnt[b]
            sl += srho[b]
            tl += ntr[b]
            if cnt[b] == 0:
                continue
            nr = n - nl
            if nl < min_leaf or nr < min_leaf:
                continue
            tr = n_tr - tl
            if tl < min_arm or nl - tl < min_arm or tr < min_arm or nr - tr < min_arm:
                continue
            sr = total - sl
            gain = sl * sl / nl + sr * sr / nr
            if gain > best_gain:
                best_gain = gain
                best_f = f
                best_t = b
    return best_f, best_t


@njit(cache=True)
def grow_tree(codes, yr, wr, treat, split_idx, est_idx, n_bins, mtry, min_leaf, min_arm, imbalance, seed, feat, thr, left, stats):
    """Grow one honest tree on ``split_idx`` and fill its node statistics from ``est_idx``; returns the node count."""
    n_split = split_idx.size
    samples = split_idx.copy()
    p = n_bins.size
    features = np.arange(p)
    rho = np.empty(n_split)
    max_bins = 256
    cnt = np.zeros(max_bins, np.int64)
    ntr = np.zeros(max_bins, np.int64)
    srho = np.zeros(max_bins)
    state = np.empty(1, np.uint64)
    state[0] = np.uint64(seed) * np.uint64(2654435761) + np.uint64(88172645463325252)
    stack_node = np.empty(128, np.int64)
    stack_start = np.empty(128, np.int64)
    stack_end = np.empty(128, np.int64)
    top = 0
    stack_node[0] = 0
    stack_start[0] = 0
    stack_end[0] = n_split
    top = 1
    n_nodes = 1
    while top > 0:
        top -= 1
        node = stack_node[top]
        start = stack_start[top]
        end = stack_end[top]
        n = end - start
        feat[node] = -1
        thr[node] = 0
        left[node] = -1
        child_min = max(min_leaf, int(math.ceil(imbalance * n)))  # noqa: RUF046 (numba types it as float otherwise)
        if n < 2 * child_min or not _node_pseudo(samples, start, end, yr, wr, rho):
            continue
        f, t = _best_split(samples, start, end, codes, treat, rho, features, mtry, n_bins, child_min, min_arm, cnt, srho, ntr, state)
        if f < 0:
            continue
        # partition samples[start:end] so that codes <= t come first
        i = start
        j = end - 1
        while i <= j:
            if codes[samples[i], f] <= t:
                i += 1
            else:
                tmp = samples[i]
                samples[i] = samples[j]
                samples[j] = tmp
                j -= 1
        feat[node] = f
        thr[node] = t
        left[node] = n_nodes
        if top + 2 > stack_node.size:
            stack_node = np.concatenate((stack_node, np.empty(stack_node.size, np.int64)))
            stack_start = np.concatenate((stack_start, np.empty(stack_start.size, np.int64)))
            stack_end = np.concatenate((stack_end, np.empty(stack_end.size, np.int64)))
        stack_node[top] = n_nodes
        stack_start[top] = start
        stack_end[top] = i
        stack_node[top + 1] = n_nodes + 1
        stack_start[top + 1] = i
        stack_end[top + 1] = end
        top += 2
        n_nodes += 2
    for k in range(n_nodes):
        for s in range(N_STATS):
            stats[k, s] = 0.0
    for k in range(est_idx.size):
        i = est_idx[k]
        node = 0
        while feat[node] >= 0:
            node = left[node] if codes[i, feat[node]] <= thr[node] else left[node] + 1
        stats[node, 0] += 1.0
        stats[node, 1] += wr[i]
        stats[node, 2] += yr[i]
        stats[node, 3] += wr[i] * wr[i]
        stats[node, 4] += wr[i] * yr[i]
    return n_nodes


@njit(parallel=True, cache=True)
def grow_batch(codes, yr, wr, treat, split_idx, est_idx, n_bins, mtry, min_leaf, min_arm, imbalance, seeds, feat, thr, left, stats, sizes):
    """Grow ``len(seeds)`` trees in parallel (row ``b`` of every array belongs to tree ``b``)."""
    for b in prange(seeds.size):
        sizes[b] = grow_tree(
            codes, yr, wr, treat, split_idx[b], est_idx[b], n_bins, mtry, min_leaf, min_arm, imbalance, seeds[b],
            feat[b], thr[b], left[b], stats[b],
        )  # fmt: skip


@njit(cache=True)
def _leaf(codes_row, feat, thr, left, base):
    node = base
    while feat[node] >= 0:
        node = base + (left[node] if codes_row[feat[node]] <= thr[node] else left[node] + 1)
    return node


@njit(parallel=True, cache=True)
def predict_forest(codes, feat, thr, left, stats, offsets, group_size, exclude, est, var):
    """Forest estimate and little-bags variance of tau at each row of ``codes``.

    ``exclude[i, g]`` True drops group ``g`` for row ``i`` (out-of-bag prediction). The estimate solves the
    forest-weighted moment :math:`\\sum_i \\alpha_i(x)(W_i - \\bar W)(Y_i - \\bar Y - \\tau (W_i - \\bar W)) = 0`, with
    :math:`\\alpha_i(x)` the average over trees of 1/|leaf| for the units sharing x's leaf. The variance is
    grf's bootstrap of little bags with its objective-Bayes debiasing, divided by the squared weighted variance
    of W.
    """
    n = codes.shape[0]
    n_trees = offsets.size - 1
    n_groups = n_trees // group_size
    use_groups = exclude.shape[1] > 0
    for i in prange(n):
        leaves = np.empty(n_trees, np.int64)
        s0 = 0.0
        sw = 0.0
        sy = 0.0
        sww = 0.0
        swy = 0.0
        for b in range(n_trees):
            leaves[b] = -1
            if use_groups and exclude[i, b // group_size]:
                continue
            leaf = _leaf(codes[i], feat, thr, left, offsets[b])
            m = stats[leaf, 0]
            if m <= 0:
                continue
            leaves[b] = leaf
            s0 += 1.0
            sw += stats[leaf, 1] / m
            sy += stats[leaf, 2] / m
            sww += stats[leaf, 3] / m
            swy += stats[leaf, 4] / m
        if s0 == 0:
            est[i] = np.nan
            var[i] = np.nan
            continue
        mw = sw / s0
        my = sy / s0
        h = sww / s0 - mw * mw
        if h <= 1e-12:
            est[i] = np.nan
            var[i] = np.nan
            continue
        tau = (swy / s0 - mw * my) / h
        est[i] = tau
        # bootstrap of little bags over groups whose trees all have a non-empty leaf
        good = 0
        psi_sum = 0.0
        grp_sq = 0.0
        tot_sq = 0.0
        grp_means = np.empty(n_groups)
        for g in range(n_groups):
            ok = True
            acc = 0.0
            for b in range(g * group_size, (g + 1) * group_size):
                if leaves[b] < 0:
                    ok = False
                    break
            if not ok:
                grp_means[g] = np.nan
                continue
            for b in range(g * group_size, (g + 1) * group_size):
                st = stats[leaves[b]]
                m = st[0]
                psi = (st[4] - my * st[1] - mw * st[2] + m * mw * my - tau * (st[3] - 2 * mw * st[1] + m * mw * mw)) / m
                acc += psi
                tot_sq += psi * psi
            grp_means[g] = acc / group_size
            psi_sum += acc
            good += 1
        if good < 2 or group_size < 2:
            var[i] = np.nan
            continue
        mean_psi = psi_sum / (good * group_size)
        for g in range(n_groups):
            if not np.isnan(grp_means[g]):
                grp_sq += (grp_means[g] - mean_psi) ** 2
        var_between = grp_sq / good
        var_total = tot_sq / (good * group_size) - mean_psi * mean_psi
        group_noise = (var_total - var_between) / (group_size - 1)
        var[i] = _debias(var_between, group_noise, good) / (h * h)


@njit(cache=True)
def _debias(var_between, group_noise, num_good):
    """grf's objective-Bayes debiasing of the between-group variance (posterior mean under a flat prior on [0, inf))."""
    initial = var_between - group_noise
    se = max(var_between, group_noise) * math.sqrt(2.0 / num_good)
    if se <= 0:
        return max(initial, 0.0)
    ratio = initial / se
    numerator = math.exp(-ratio * ratio / 2) / math.sqrt(2 * math.pi)
    denominator = 0.5 * math.erfc(-ratio / math.sqrt(2.0))
    if denominator <= 1e-300:
        return 0.0
    return initial + se * numerator / denominator


@njit(parallel=True, cache=True)
def bin_codes(x, edges, n_edges):
    """uint8 bin code of every value: the number of edges strictly below it (edges sorted per column)."""
    n, p = x.shape
    out = np.empty((n, p), np.uint8)
    for i in prange(n):
        for j in range(p):
            v = x[i, j]
            lo = 0
            hi = n_edges[j]
            while lo < hi:
                mid = (lo + hi) // 2
                if edges[j, mid] < v:
                    lo = mid + 1
                else:
                    hi = mid
            out[i, j] = lo
    return out
