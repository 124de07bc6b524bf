"""Property-based checks of the rank tests (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_settings import examples
from scipy import stats

import causalinfer as ci

_values = st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), min_size=2, max_size=12)


@examples(30)
@given(x=_values, y=_values)
def test_mann_whitney_matches_scipy_and_antisymmetry(x, y):
    x, y = np.round(x, 1), np.round(y, 1)
    if np.unique(np.concatenate([x, y])).size == 1:
        return
    r = ci.stats.mann_whitney(x, y)
    exact = "exact" in r.method
    sp = stats.mannwhitneyu(x, y, method="exact" if exact else "asymptotic", use_continuity=True)
    assert r.statistic == sp.statistic
    assert r.pvalue == pytest.approx(sp.pvalue, rel=1e-9, abs=1e-15)
    swapped = ci.stats.mann_whitney(y, x)
    assert swapped.statistic == x.size * y.size - r.statistic
    if exact:
        # (asymptotically, R's estimate is the first point Brent's method finds where the rank statistic is zero,
        # which can lie anywhere on a flat stretch; only the exact estimate, a median, is antisymmetric)
        assert swapped.estimate == pytest.approx(-r.estimate, abs=1e-9)
    assert r.ci_low - 1e-9 <= r.estimate <= r.ci_high + 1e-9


@examples(25)
@given(x=_values)
def test_wilcoxon_pseudomedian_inside_interval_and_shift_equivariant(x):
    # Integer-valued data: adding 5 and subtracting mu = 5 is exact, so the differences (and their ties and zeros)
    # are the same numbers. With decimals (x + 5.0 - 5.0 != x) R itself is not shift-equivariant.
    x = np.round(np.asarray(x))
    if np.all(x == 0) or np.unique(np.abs(x[x != 0])).size == 1:
        return
    r = ci.stats.wilcoxon(x)
    if r.conf_level >= 0.95:
        # asymptotic estimates and limits are roots found to 1e-12 (as R's uniroot); allow that slack
        assert r.ci_low - 1e-9 <= r.estimate <= r.ci_high + 1e-9
    else:
        # tiny samples: as R, the level is lowered until achievable (down to 0, where the interval is the median)
        assert r.diagnostic("conf_level").status == "warn"
    s = ci.stats.wilcoxon(x + 5.0, mu=5.0)
    assert s.statistic == r.statistic
    assert s.estimate == pytest.approx(r.estimate + 5.0, abs=1e-8)


@examples(30)
@given(groups=st.lists(_values, min_size=2, max_size=4))
def test_kruskal_matches_scipy(groups):
    arrays = [np.round(g, 1) for g in groups]
    if np.unique(np.concatenate(arrays)).size == 1:
        return
    r = ci.stats.kruskal_wallis(*arrays)
    sp = stats.kruskal(*arrays)
    assert r.statistic == pytest.approx(sp.statistic, rel=1e-10, abs=1e-12)
    assert r.pvalue == pytest.approx(sp.pvalue, rel=1e-9, abs=1e-15)
