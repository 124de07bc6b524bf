"""honest_did: the optimal FLCI under the smoothness restriction against HonestDiD's Python port (honestdid) on the
two event studies bundled with HonestDiD, against a direct search over the estimator's weights, and its contract."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from reference_data import REFERENCE, load_reference
from scipy import optimize, stats

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.designs._honest import folded_normal_quantile


def _data(name):
    raw = pd.read_csv(REFERENCE / f"honestdid_{name}.csv")
    return raw["betahat"].to_numpy(), raw.iloc[:, 2:].to_numpy(), int(raw["n_pre"].iloc[0])


CASES = load_reference("honestdid_reference")["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_flci_matches_honestdid(case):
    """HonestDiD simulates the folded-normal quantile (10^6 draws) and its conic solver reports "optimal_inaccurate"
    at M = 0: half-lengths agree to about 1e-3 (ours are never longer). Near the optimum the half-length is flat in
    the weights, so the centres may differ by up to a few percent of the half-length."""
    beta, sigma, n_pre = _data(case["name"])
    want = pd.DataFrame(case["rows"])
    r = ci.designs.honest_did(beta, sigma, n_pre=n_pre, m_grid=want["m"].to_numpy())
    np.testing.assert_allclose(r.table["half_length"], want["half_length"], rtol=2e-3)
    assert (r.table["half_length"].to_numpy() <= want["half_length"].to_numpy() * (1 + 1.5e-3)).all()
    centre = (r.table["ci_low"] + r.table["ci_high"]).to_numpy() / 2
    want_centre = (want["ci_low"] + want["ci_high"]).to_numpy() / 2
    assert np.all(np.abs(centre - want_centre) <= 0.03 * want["half_length"].to_numpy())
    check_result(r)


def test_folded_normal_quantile():
    assert folded_normal_quantile(0.95, 0.0) == pytest.approx(stats.norm.ppf(0.975), rel=1e-12)
    c = folded_normal_quantile(0.9, 1.7)
    assert stats.norm.cdf(c - 1.7) - stats.norm.cdf(-c - 1.7) == pytest.approx(0.9, abs=1e-12)


@pytest.mark.parametrize("m", [0.0, 0.05, 0.3])
def test_flci_is_the_shortest_over_the_weights(m):
    """Two pre-periods, target the first post period: the weights are (w1, 1 - w1) and the worst-case bias is
    M (|w1| + 1); search w1 directly and compare the half-lengths."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 4))
    sigma = a @ a.T / 40 + np.eye(4) * 0.01
    beta = np.array([0.02, -0.01, 0.3, 0.35])
    r = ci.designs.honest_did(beta, sigma, n_pre=2, m_grid=[m])

    def half(w1):
        lpre = np.array([w1, 1 - 2 * w1])  # l space: l_1 = w_1, l_2 = w_2 - w_1
        vec = np.r_[lpre, 1.0, 0.0]
        sd = math.sqrt(vec @ sigma @ vec)
        return folded_normal_quantile(0.95, m * (abs(w1) + 1) / sd) * sd

    grid = np.linspace(-3, 3, 6001)
    start = grid[np.argmin([half(w) for w in grid])]
    best = optimize.minimize_scalar(half, bounds=(start - 0.01, start + 0.01), method="bounded", options={"xatol": 1e-10}).fun
    assert r.table["half_length"].iloc[0] == pytest.approx(best, rel=1e-5)


def test_breakdown_and_plot():
    beta, sigma, n_pre = _data("LW")
    r = ci.designs.honest_did(beta, sigma, n_pre=n_pre, m_grid=[0.0, 0.01, 0.03])
    b = r.details["breakdown"]
    t = ci.designs.honest_did(beta, sigma, n_pre=n_pre, m_grid=[b * 0.99, b * 1.01]).table
    lo_at, hi_at = t["ci_low"].to_numpy(), t["ci_high"].to_numpy()
    assert lo_at[0] > 0 or hi_at[0] < 0  # just below the breakdown value the interval excludes 0
    assert lo_at[1] <= 0 <= hi_at[1]  # just above it the interval contains 0
    ax = ci.designs.plot_honest_did(r)
    assert ax.get_xlabel().startswith("M")


def test_from_an_event_study_result():
    ds = ci.load_dataset("castle")
    es = ci.designs.sun_abraham(ds)
    terms = es.terms
    pre = terms["term"].str.startswith("e=-").to_numpy()
    beta = terms["estimate"].to_numpy()
    cov = np.array(es.details["event_cov"])
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), terms["std_error"], rtol=1e-10)
    r = ci.designs.honest_did(beta, cov, n_pre=int(pre.sum()), m_grid=[0.0, 0.02])
    assert (r.table["half_length"].diff().dropna() > 0).all()


def test_bad_input():
    beta, sigma, n_pre = _data("BC")
    with pytest.raises(ci.ArgumentError, match="leaves no post-treatment coefficient"):
        ci.designs.honest_did(beta, sigma, n_pre=beta.size)
    with pytest.raises(ci.ArgumentError, match="`cov` must be"):
        ci.designs.honest_did(beta, sigma[:-1, :-1], n_pre=n_pre)
    with pytest.raises(ci.ArgumentError, match="`m_grid` must hold finite non-negative"):
        ci.designs.honest_did(beta, sigma, n_pre=n_pre, m_grid=[-1.0])


# ------------------------------------------------------------------------------------------ relative magnitudes
RM_CASES = load_reference("honestdid_rm_reference")["cases"]


@pytest.mark.parametrize("case", RM_CASES, ids=[c["name"] for c in RM_CASES])
def test_relative_magnitudes_match_honestdid(case):
    """HonestDiD reports the lowest and highest accepted points of its grid, so its lower end is at most one grid
    step above the exact one and its upper end at most one step below; ours are the exact ends (bisection), and must
    fall inside those one-step brackets."""
    want = pd.DataFrame(case["rows"])
    step = (case["grid"][1] - case["grid"][0]) / (case["grid_points"] - 1)
    r = ci.designs.honest_did(
        case["estimates"],
        case["cov"],
        n_pre=case["n_pre"],
        l_vec=case["l_vec"],
        restriction="relative_magnitudes",
        method=case["method"],
        m_grid=want["mbar"].to_numpy(),
        grid_points=100,
    )
    lo, hi = r.table["ci_low"].to_numpy(), r.table["ci_high"].to_numpy()
    slack = 1e-6 * step + 1e-12
    assert np.all(lo <= want["lb"].to_numpy() + slack) and np.all(lo >= want["lb"].to_numpy() - step - slack)
    assert np.all(hi >= want["ub"].to_numpy() - slack) and np.all(hi <= want["ub"].to_numpy() + step + slack)
    check_result(r)


def test_dual_vertices_give_the_linear_programme():
    """The ARP statistic min {eta : y - X delta <= eta sd} equals the largest lambda'y over the enumerated vertices."""
    from causalinfer.designs._honest_rm import dual_vertices

    rng = np.random.default_rng(5)
    for _ in range(5):
        m, k = 8, 3
        lam0 = rng.uniform(0.1, 1.0, m)
        x = rng.normal(size=(m, k))
        x -= np.outer(lam0, lam0 @ x) / (lam0 @ lam0)  # a positive lambda with X'lambda = 0 exists: the LP is bounded
        sd = rng.uniform(0.5, 2.0, m)
        y = rng.normal(size=m)
        res = optimize.linprog(np.r_[1.0, np.zeros(k)], A_ub=np.column_stack([-sd, -x]), b_ub=-y, bounds=[(None, None)] * (k + 1))
        verts = dual_vertices(sd, x)
        assert np.all(verts >= 0)
        np.testing.assert_allclose(verts @ sd, 1.0, rtol=1e-10)
        np.testing.assert_allclose(verts @ x, 0.0, atol=1e-10)
        assert (verts @ y).max() == pytest.approx(res.fun, rel=1e-9, abs=1e-12)


def test_relative_magnitudes_breakdown_and_plot():
    beta, sigma, n_pre = _data("BC")
    r = ci.designs.honest_did(
        beta[:5], sigma[:5, :5], n_pre=n_pre, restriction="relative_magnitudes", m_grid=[0.0, 1.0, 3.0], grid_points=100
    )
    b = r.details["breakdown"]
    assert 1.0 < b < 3.0
    t = ci.designs.honest_did(
        beta[:5], sigma[:5, :5], n_pre=n_pre, restriction="relative_magnitudes", m_grid=[b * 0.99, b * 1.01], grid_points=100
    ).table
    assert t["ci_low"].iloc[0] > 0  # just below the breakdown value the set excludes 0
    assert t["ci_low"].iloc[1] <= 0  # just above it the set contains 0
    assert (r.table["half_length"].diff().dropna() > 0).all()
    ax = ci.designs.plot_honest_did(r)
    assert ax.get_xlabel().startswith("Mbar")
    assert "relative magnitudes" in ax.get_title()


def test_relative_magnitudes_cover_under_parallel_trends():
    from causalinfer.designs._honest_rm import RMProblem

    """Seeded simulation: delta = 0 lies in Delta^RM(Mbar) for every Mbar, so the 95% set at Mbar = 0.5 must cover the
    true effect at least 95% of the time up to Monte-Carlo error (the test is conservative: the union over locations
    and signs); 200 replications, three standard errors below 0.95. The set covers when the test accepts the truth."""
    rng = np.random.default_rng(11)
    sigma = np.array([[1.0, 0.4, 0.2], [0.4, 1.0, 0.4], [0.2, 0.4, 1.0]]) * 0.01
    chol = np.linalg.cholesky(sigma)
    truth = np.array([0.0, 0.0, 0.3])
    hits, reps = 0, 200
    for _ in range(reps):
        beta = truth + chol @ rng.normal(size=3)
        hits += bool(RMProblem(beta, sigma, 2, np.ones(1), 0.5, 0.05, False, 0).accept(np.array([0.3]))[0])
    assert hits / reps >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / reps)


def test_relative_magnitudes_bad_input():
    beta, sigma, n_pre = _data("BC")
    with pytest.raises(ci.ArgumentError, match="n_pre >= 2"):
        ci.designs.honest_did(beta[3:5], sigma[3:5, 3:5], n_pre=1, restriction="relative_magnitudes")
    with pytest.raises(ci.ArgumentError, match="applies to restriction='relative_magnitudes' only"):
        ci.designs.honest_did(beta, sigma, n_pre=n_pre, method="conditional")
    with pytest.raises(ci.ArgumentError, match="not all zero"):
        ci.designs.honest_did(beta, sigma, n_pre=n_pre, l_vec=[0, 0, 0, 0], restriction="relative_magnitudes")
    big = np.eye(30) * 0.01
    with pytest.raises(ci.ArgumentError, match="fewer post-treatment periods"):
        ci.designs.honest_did(np.zeros(30), big, n_pre=4, restriction="relative_magnitudes", m_grid=[1.0])
