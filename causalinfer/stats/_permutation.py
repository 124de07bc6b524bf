"""Permutation tests for independent and paired designs (exact when the permutations are few)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_alternative, show
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
from ._resample_inputs import NAMED, Statistic, check_statistic_output, collect_samples, resolve_statistic
from ._resampling_results import PermutationResult

_STAT_NAME = {"mean_diff": "mean difference", "median_diff": "median difference", "mean": "mean", "median": "median"}


def _evaluate(func: Callable[..., Any], args: list[np.ndarray], nb: int) -> np.ndarray:
    try:
        return np.asarray(func(*args, axis=-1), dtype=float).reshape(nb)
    except Exception as exc:
        raise ArgumentError(f"`statistic` failed on a batch of permuted samples: {type(exc).__name__}: {exc}") from exc


# -------------------------------------------------------------------------------------------- paired / sign
def _paired_args(arrays: tuple[np.ndarray, ...], mask: np.ndarray) -> list[np.ndarray]:
    if len(arrays) == 1:
        x = arrays[0]
        return [np.where(mask, -x, x)]
    x, y = arrays
    return [np.where(mask, y, x), np.where(mask, x, y)]


def _paired_null(
    stat: Statistic, arrays: tuple[np.ndarray, ...], exact: bool, b_total: int, seed: int, budget: int, bar: Progress
) -> np.ndarray:
    from . import _kernels as K

    n = arrays[0].size
    if exact:
        total = 2**n
        out = np.empty(total)
        m = batch_size(budget, 40 * n * len(arrays), total)
        for a in range(0, total, m):
            c = np.arange(a, min(total, a + m), dtype=np.int64)
            mask = ((c[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
            out[a : a + c.size] = _evaluate(stat.func, _paired_args(arrays, mask), c.size)
        return out
    out = np.empty(b_total)
    if stat.name in ("mean", "mean_diff"):
        d = arrays[0] - arrays[1] if len(arrays) == 2 else arrays[0]
        for a, b in bar.chunks(b_total):
            K.signflip_sums(d, seed, a, out[a:b])
        return out / n
    m = batch_size(budget, 40 * n * len(arrays), b_total)
    for a in range(0, b_total, m):
        nb = min(m, b_total - a)
        mask = np.empty((nb, n), dtype=np.bool_)
        K.sign_masks(n, seed, a, mask)
        out[a : a + nb] = _evaluate(stat.func, _paired_args(arrays, mask), nb)
        bar.update(nb)
    return out


# ---------------------------------------------------------------------------------------------- independent
def _groups_from_order(order: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
    """Split permuted positions (m, N) into groups; with two groups the smaller one comes first in ``order``."""
    if len(sizes) == 2 and sizes[1] < sizes[0]:
        n2 = sizes[1]
        return [order[:, n2:], order[:, :n2]]
    out = []
    start = 0
    for size in sizes:
        out.append(order[:, start : start + size])
        start += size
    return out


def _independent_null(
    stat: Statistic, arrays: tuple[np.ndarray, ...], exact: bool, b_total: int, seed: int, budget: int, bar: Progress
) -> np.ndarray:
    from . import _kernels as K

    sizes = [a.size for a in arrays]
    z = np.concatenate(arrays)
    big_n = z.size
    k = min(sizes) if len(sizes) == 2 else big_n - sizes[-1]
    if exact:
        total = math.comb(big_n, k)
        out = np.empty(total)
        m = batch_size(budget, 48 * big_n, total)
        allpos = np.arange(big_n)
        combos = itertools.combinations(range(big_n), k)
        for a in range(0, total, m):
            c = np.array(list(itertools.islice(combos, m)), dtype=np.int64).reshape(-1, k)
            keep = np.ones((c.shape[0], big_n), dtype=bool)
            np.put_along_axis(keep, c, False, axis=1)
            rest = np.broadcast_to(allpos, keep.shape)[keep].reshape(c.shape[0], big_n - k)
            order = np.concatenate([c, rest], axis=1)
            out[a : a + c.shape[0]] = _evaluate(stat.func, [z[g] for g in _groups_from_order(order, sizes)], c.shape[0])
        return out
    out = np.empty(b_total)
    if stat.name == "mean_diff":
        n1, n2 = sizes
        center = float(z.mean())
        zc = z - center
        zsum = float(zc.sum())
        sub = np.empty(b_total)
        for a, b in bar.chunks(b_total, multiple=K.PERM_BLOCK):
            K.perm_subset_sums(zc, k, seed, a, sub[a:b])
        s1 = sub if n1 <= n2 else zsum - sub
        return s1 / n1 - (zsum - s1) / n2
    m = batch_size(budget, 40 * big_n, b_total)
    groups_of = _groups_from_order
    if m >= K.PERM_BLOCK:
        m -= m % K.PERM_BLOCK  # a batch holds whole blocks of permutations
        for a in range(0, b_total, m):
            nb = min(m, b_total - a)
            order = np.empty((nb, big_n), dtype=np.int64)
            K.perm_indices(big_n, k, seed, a, order)
            out[a : a + nb] = _evaluate(stat.func, [z[g] for g in groups_of(order, sizes)], nb)
            bar.update(nb)
        return out
    # huge samples: fewer than one block fits the budget, so walk each block in smaller pieces
    for block in range(0, b_total, K.PERM_BLOCK):
        state = np.arange(big_n)
        stop = min(b_total, block + K.PERM_BLOCK)
        for a in range(block, stop, m):
            nb = min(m, stop - a)
            order = np.empty((nb, big_n), dtype=np.int64)
            K.perm_indices_continue(state, k, seed, a, order)
            out[a : a + nb] = _evaluate(stat.func, [z[g] for g in groups_of(order, sizes)], nb)
            bar.update(nb)
    return out


def _n_distinct(sizes: Sequence[int], paired: bool) -> int:
    if paired:
        return 2 ** sizes[0]
    total = sum(sizes)
    count = 1
    for s in sizes[:-1]:
        count *= math.comb(total, s)
        total -= s
    return count


# ---------------------------------------------------------------------------------------------- public
@vp.validate_params(
    {
        "samples": "sample",
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "statistic": [vp.Options(NAMED), "callable"],
        "paired": "boolean",
        "alternative": "alternative",
        "n_resamples": vp.Interval("int", 1),
        "random_state": "random_state",
        "memory_budget": [None, vp.Interval("int", 2**20)],
        "n_jobs": [None, vp.Interval("int", -1)],
        "progress": [None, "boolean"],
    }
)
def permutation_test(
    *samples: Any,
    statistic: str | Callable[..., Any] = "mean_diff",
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    paired: bool = False,
    alternative: str = "two-sided",
    n_resamples: int = 9999,
    random_state: Any = None,
    memory_budget: int | None = None,
    n_jobs: int | None = None,
    progress: bool | None = None,
) -> PermutationResult:
    """Permutation test of exchangeability: independent samples, paired samples, or one sample's symmetry about 0.

    Parameters
    ----------
    *samples : array-like or str
        Two or more independent samples; two equal-length samples with ``paired=True``; or one sample
        (a sign-flip test that its distribution is symmetric about zero, e.g. paired differences). Column
        names of ``data`` are accepted.
    statistic : str or callable
        ``"mean_diff"`` (default; compiled fast path), ``"median_diff"``, ``"mean"`` or ``"median"`` (one
        sample), or a vectorised callable ``statistic(*samples, axis=-1)`` returning shape ``(m,)`` for
        samples of shape ``(m, n)``.
    data, group, levels
        As in :func:`bootstrap`: columns of a DataFrame or Dataset, or one column split by ``group``.
    paired : bool
        Permute within pairs (swap x_i and y_i) instead of across samples.
    alternative : {"two-sided", "less", "greater"}
        ``"greater"``: the statistic is larger than under exchangeability.
    n_resamples : int
        Number of random permutations. When the number of distinct permutations (``2^n`` for pairs,
        ``N! / (n_1! ... n_k!)`` for independent samples, two samples only) is at most ``n_resamples``,
        every permutation is enumerated and the test is exact.
    random_state : None, int or numpy Generator
        Seed; the same integer gives the same p-value whatever ``n_jobs`` or ``memory_budget``.
    memory_budget : int, optional
        Bytes used for permuted samples at once (default 256 MiB).
    n_jobs : int, optional
        Threads for the compiled kernels (default: all cores).
    progress : bool, optional
        Show a progress bar; default only for long runs in an interactive terminal.

    Returns
    -------
    PermutationResult
        ``statistic`` and ``estimate`` (the observed statistic), ``statistic_name``, ``pvalue``,
        ``alternative``, ``n``; ``details["null_distribution"]`` summarises the permutation distribution,
        ``details["monte_carlo"]`` has the Monte Carlo standard error of the p-value (0 when exact),
        ``details["exact"]``, ``details["n_resamples"]`` (permutations used) and ``details["seed"]``;
        ``result.null_distribution`` holds the values and ``result.plot()`` draws them.

    Notes
    -----
    With observed statistic :math:`T` and permutation values :math:`T^*_b`, :math:`b = 1..B`:
    randomized tests use :math:`p_> = (1 + \\#\\{T^*_b \\ge T\\})/(B + 1)` (the observed arrangement counts as
    one permutation, so the test is valid at every B); exact tests use :math:`\\#\\{T^*_b \\ge T\\}/B` over
    all :math:`B` distinct arrangements. Two-sided: :math:`\\min(1, 2\\min(p_<, p_>))`. Comparisons
    allow a relative tolerance of 100 machine epsilons so that ties are not lost to rounding. The Monte
    Carlo standard error of a randomized p-value is :math:`\\sqrt{p(1-p)/B}` (twice that of the smaller
    tail for two-sided tests).

    For the difference in means only the sum of one group is needed: each permutation draws
    :math:`\\min(n_1, n_2)` elements by a partial Fisher-Yates shuffle in a compiled kernel. Paired tests
    of means sum randomly signed differences. Validated against full enumeration on small samples.

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(2)
    >>> r = ci.stats.permutation_test(rng.normal(0.5, 1, 30), rng.normal(0, 1, 40), random_state=3)
    >>> r.details["exact"], r.details["n_resamples"]
    (False, 9999)
    >>> bool(0 < r.pvalue < 0.2)
    True
    """
    alternative = check_alternative(alternative)
    if not isinstance(paired, bool):
        raise ArgumentTypeError(f"`paired` must be True or False; got {show(paired)}")
    budget = check_memory_budget(memory_budget)
    b_total = check_n_resamples(n_resamples, budget)
    jobs = check_n_jobs(n_jobs)
    prog = check_progress(progress)
    stat = resolve_statistic(statistic)
    s = collect_samples(samples, data=data, group=group, levels=levels, paired=paired, min_size=2, what="a permutation test")
    one = len(s.arrays) == 1
    if one and stat.name in ("mean_diff", "median_diff"):
        if statistic == "mean_diff":  # the default: for one sample, test the mean
            stat = resolve_statistic("mean")
        else:
            raise ArgumentError(f"`statistic` = {stat.name!r} needs two samples; for one sample use 'mean' or 'median'")
    observed = check_statistic_output(stat, s.arrays)
    sign_design = paired or one
    seed, recorded_seed = resolve_seed(random_state)
    sizes = [a.size for a in s.arrays]
    n_distinct = _n_distinct(sizes, sign_design)
    exact = n_distinct <= b_total and (sign_design or len(sizes) == 2)

    n_total = sizes[0] if sign_design else sum(sizes)
    bar = Progress(b_total, prog, work=0.0 if exact else float(b_total) * n_total, desc="permutation test")
    try:
        with numba_threads(jobs, work=0.0 if exact else float(b_total) * n_total):
            if sign_design:
                null = _paired_null(stat, s.arrays, exact, b_total, seed, budget, bar)
            else:
                null = _independent_null(stat, s.arrays, exact, b_total, seed, budget, bar)
    finally:
        bar.close()
    bad = int(np.sum(~np.isfinite(null)))
    if bad:
        raise DataError(
            f"`statistic` was not finite (NaN or infinite) in {bad} of {null.size} permutations; make it defined for every arrangement"
        )

    scale = float(np.max(np.abs(np.concatenate(s.arrays)))) if not one else float(np.max(np.abs(s.arrays[0])))
    gamma = 100 * np.finfo(float).eps * max(abs(observed), scale)
    adj = 0 if exact else 1
    b_used = null.size
    p_greater = (int(np.sum(null >= observed - gamma)) + adj) / (b_used + adj)
    p_less = (int(np.sum(null <= observed + gamma)) + adj) / (b_used + adj)
    if alternative == "greater":
        p, mc = p_greater, math.sqrt(p_greater * (1 - p_greater) / b_used)
    elif alternative == "less":
        p, mc = p_less, math.sqrt(p_less * (1 - p_less) / b_used)
    else:
        pm = min(p_less, p_greater)
        p, mc = min(1.0, 2 * pm), 2 * math.sqrt(pm * (1 - pm) / b_used)
    if exact:
        mc = 0.0

    diags = []
    if not exact:
        status = "ok" if mc <= max(0.1 * p, 0.002) else "warn"
        msg = f"Monte Carlo SE of the p-value is {mc:.2g}" + ("" if status == "ok" else "; increase n_resamples for a stable p-value")
        diags.append(Diagnostic("Monte Carlo error", status, mc, msg))
    else:
        diags.append(Diagnostic("Monte Carlo error", "ok", 0.0, f"exact test: all {b_used:,} distinct permutations enumerated"))

    stat_name = _STAT_NAME.get(stat.name or "", stat.label)
    design = "paired" if paired else ("sign-flip" if one else "independent samples")
    kind = "Exact permutation test" if exact else "Permutation test"
    count = f"all {b_used:,} permutations" if exact else f"{b_used:,} random permutations"
    summary = pd.DataFrame(
        [
            ("mean", float(null.mean())),
            ("std. deviation", float(null.std(ddof=1)) if null.size > 1 else math.nan),
            ("minimum", float(null.min())),
            ("2.5% quantile", float(np.quantile(null, 0.025))),
            ("median", float(np.median(null))),
            ("97.5% quantile", float(np.quantile(null, 0.975))),
            ("maximum", float(null.max())),
        ],
        columns=["quantity", "value"],
    )
    from ._bootstrap import _estimand

    return PermutationResult(
        method=f"{kind} ({design}, {count})",
        estimand=_estimand(stat, s, paired),
        estimate=observed,
        statistic=observed,
        statistic_name=stat_name,
        pvalue=p,
        alternative=alternative,
        n=n_total,
        diagnostics=tuple(diags),
        details={
            "null_distribution": summary,
            "monte_carlo": pd.DataFrame({"quantity": ["pvalue"], "value": [p], "mc_std_error": [mc]}),
            "n_resamples": b_used,
            "exact": exact,
            "seed": recorded_seed,
            "_null_distribution": null,
        },
        provenance=Provenance.current(random_state=recorded_seed, data_fingerprint=s.fingerprint),
    )
