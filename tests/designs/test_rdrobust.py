"""The rdrobust-style regression discontinuity against the rdrobust package, simulated coverage and bad input.

Reference values: tests/reference/rdrobust_reference.py (rdrobust's Python package) -> rdrobust_reference.json.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged
from causalinfer.designs import _rdrobust as rr

REF = load_reference("rdrobust_reference")
CASES = {c["name"]: c for c in REF["cases"]}
RTOL = 1e-7


def _frame(name: str) -> pd.DataFrame:
    if name.startswith("lmb"):
        df = ci.load_dataset("close_elections_lmb", frame_only=True)
        return df.assign(wt=0.5 + 0.5 * (np.arange(len(df)) % 4))  # the reference script's weights
    return pd.DataFrame(REF["sim"])


def _run(case: dict, **extra):
    a = case["args"]
    kw = dict(outcome=a["outcome"], running=a["running"], cutoff=a["cutoff"], density=False)
    if a["treatment"]:
        kw["treatment"] = a["treatment"]
    if a["covariates"]:
        kw.update(covariates=a["covariates"], covariate_adjustment=True)
    if a["cluster"]:
        kw["cluster"] = a["cluster"]
    if a.get("weights"):
        kw["weights"] = a["weights"]
    for ours, theirs in (
        ("order", "p"),
        ("bandwidth", "h"),
        ("kernel", "kernel"),
        ("vce", "vce"),
        ("bwselect", "bwselect"),
        ("deriv", "deriv"),
        ("masspoints", "masspoints"),
    ):
        if theirs in a:
            kw[ours] = a[theirs]
    if "deriv" in a and "p" not in a:
        kw["order"] = a["deriv"] + 1  # rdrobust's default order for a kink
    kw.update(extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        return ci.designs.rdd(_frame(case["name"]), **kw)


PUBLIC = [n for n, c in CASES.items() if not isinstance(c["args"].get("h"), list)]


@pytest.mark.parametrize("name", PUBLIC)
def test_against_rdrobust(name):
    want = CASES[name]
    r = _run(want)
    terms = r.terms.set_index("term")
    assert terms.loc["conventional", "estimate"] == pytest.approx(want["tau_cl"], rel=RTOL)
    assert terms.loc["robust", "estimate"] == pytest.approx(want["tau_bc"], rel=RTOL)
    assert terms.loc["conventional", "std_error"] == pytest.approx(want["se_cl"], rel=RTOL)
    assert terms.loc["robust", "std_error"] == pytest.approx(want["se_rb"], rel=RTOL)
    np.testing.assert_allclose(terms.loc["conventional", ["ci_low", "ci_high"]].to_numpy(float), want["ci_cl"], rtol=RTOL)
    np.testing.assert_allclose(terms.loc["robust", ["ci_low", "ci_high"]].to_numpy(float), want["ci_rb"], rtol=RTOL)
    assert terms.loc["robust", "pvalue"] == pytest.approx(want["pv_rb"], rel=1e-6, abs=1e-300)
    bw = r.details["bandwidths"]
    np.testing.assert_allclose(bw["h"], want["h"], rtol=RTOL)
    np.testing.assert_allclose(bw["b"], want["b"], rtol=RTOL)
    assert bw["n_effective_h"].tolist() == want["n_h"]
    assert bw["n_effective_b"].tolist() == want["n_b"]
    assert bw["n"].tolist() == want["n"]
    # the headline is rdrobust's: conventional estimate with the robust interval
    assert r.estimate == pytest.approx(want["tau_cl"], rel=RTOL)
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(want["ci_rb"]), rel=RTOL)
    assert r.std_error == pytest.approx(want["se_rb"], rel=RTOL)
    if "first_stage" in want:
        fs = r.details["first_stage"].set_index("term")
        assert fs.loc["conventional", "estimate"] == pytest.approx(want["first_stage"]["tau_cl"], rel=RTOL)
        assert fs.loc["robust", "std_error"] == pytest.approx(want["first_stage"]["se_rb"], rel=RTOL)
        assert fs.loc["conventional", "std_error"] == pytest.approx(want["first_stage"]["se_cl"], rel=RTOL)


def test_two_sided_manual_bandwidths_against_rdrobust():
    want = CASES["lmb_manual_hb"]
    a = want["args"]
    df = _frame("lmb")
    data = rr.prepare(df[a["running"]].to_numpy(float), df[a["outcome"]].to_numpy(float), a["cutoff"])
    f = rr.rd_fit(data, p=1, q=2, deriv=0, h=tuple(a["h"]), b=tuple(a["b"]), kernel="triangular", vce="nn", nnmatch=3)
    assert (f.tau_cl, f.tau_bc, f.se_cl, f.se_rb) == pytest.approx((want["tau_cl"], want["tau_bc"], want["se_cl"], want["se_rb"]), rel=RTOL)
    assert list(f.n_h) == want["n_h"]


def test_conventional_headline_and_result_contract():
    want = CASES["sim_sharp"]
    df = _frame("sim")
    r = check_unchanged(df, lambda f: _run(want, inference="conventional"))
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(want["ci_cl"]), rel=RTOL)
    assert r.std_error == pytest.approx(want["se_cl"], rel=RTOL)
    check_result(r)
    check_result(_run(want))
    check_nested_intervals(ci.designs.rdd, df, outcome="ys", running="x", cutoff=0.0, density=False)
    assert "robust bias-corrected" in _run(want).method


def test_refutable_with_data_driven_bandwidths():
    r = _run(CASES["sim_sharp"])
    assert r.details["fit"]["side"].nunique() == 2
    ref = r.refute("placebo")
    assert ref.n == 2 and ref.passed


def test_nn_residuals_match_the_direct_definition():
    """Vectorised nearest neighbours against a direct loop, with ties (mass points) included."""
    rng = np.random.default_rng(3)
    x = np.sort(np.round(rng.uniform(0, 1, 300), 2))
    y = rng.normal(size=300)
    dups, dupsid = rr.duplicates(x)
    got = rr.nn_residuals(x, y[:, None], dups, dupsid, 3)[:, 0]
    n = x.size
    for i in range(n):
        lpos, rpos = dupsid[i] - 1, dups[i] - dupsid[i]
        while lpos + rpos < 3:
            if i - lpos - 1 < 0:
                rpos += dups[i + rpos + 1]
            elif i + rpos + 1 >= n:
                lpos += dups[i - lpos - 1]
            elif x[i] - x[i - lpos - 1] > x[i + rpos + 1] - x[i]:
                rpos += dups[i + rpos + 1]
            elif x[i] - x[i - lpos - 1] < x[i + rpos + 1] - x[i]:
                lpos += dups[i - lpos - 1]
            else:
                rpos += dups[i + rpos + 1]
                lpos += dups[i - lpos - 1]
        win = np.r_[i - lpos : i + rpos + 1]
        j = win.size - 1
        want = np.sqrt(j / (j + 1)) * (y[i] - (y[win].sum() - y[i]) / j)
        assert got[i] == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_nn_windows_in_blocks_match_one_pass(monkeypatch):
    """Large inputs are processed in blocks; ties straddling a block edge must count whole."""
    rng = np.random.default_rng(4)
    x = np.sort(np.round(rng.uniform(0, 1, 5000), 3))
    dups, dupsid = rr.duplicates(x)
    whole = rr.nn_windows(x, dups, dupsid, 3, np.arange(x.size))
    monkeypatch.setattr(rr, "_BLOCK", 97)
    blocked = rr.nn_windows(x, dups, dupsid, 3)
    np.testing.assert_array_equal(whole[0], blocked[0])
    np.testing.assert_array_equal(whole[1], blocked[1])


def _coverage(reps: int, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(reps):
        x = rng.uniform(-1, 1, n)
        y = 0.5 + 0.9 * x - 1.2 * x**2 + 0.8 * x**3 + 1.0 * (x >= 0) + rng.normal(scale=0.4, size=n)
        data = rr.prepare(x, y, 0.0)
        hl, hr, bl, br = rr.select_bandwidths(
            data, p=1, q=2, deriv=0, kernel="triangular", bwselect="mserd", vce="nn", nnmatch=3, masspoints=True
        )
        f = rr.rd_fit(data, p=1, q=2, deriv=0, h=(hl, hr), b=(bl, br), kernel="triangular", vce="nn", nnmatch=3)
        _, _, _, _, lo, hi = f.intervals(0.95)["robust"]
        hits += lo <= 1.0 <= hi
    return hits / reps


def test_robust_interval_coverage_quick():
    """Curved truth with MSE-optimal bandwidths: the robust bias-corrected interval covers about 95%."""
    assert 0.88 <= _coverage(120, 500, 11) <= 0.995


@pytest.mark.slow
def test_robust_interval_coverage():
    assert 0.925 <= _coverage(600, 1000, 12) <= 0.975


def _small(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    return pd.DataFrame({"x": x, "y": x + (x >= 0) + rng.normal(size=n), "d": (x >= 0).astype(float), "g": rng.integers(0, 5, n)})


@pytest.mark.parametrize(
    ("df_change", "kw", "exc", "match"),
    [
        (None, dict(bandwidth=0.005), ci.DataError, r"`bandwidth` 0.005 leaves \d observation\(s\) .* below the cutoff 0"),
        (None, dict(bandwidth=0.5, bias_bandwidth=0.004), ci.DataError, r"`bias_bandwidth` 0.004 leaves .* order 2 needs at least 4"),
        (lambda d: d.assign(x=d["x"].abs()), {}, ci.RoleError, r"cutoff 0 leaves no observations on one side .* 0 below, 200 at or above"),
        (
            lambda d: d.assign(x=np.where(d["x"] < 0, -0.5, d["x"])),
            {},
            ci.DataError,
            r"1 distinct value\(s\) below the cutoff .* needs at least 3 on each side",
        ),
        (None, dict(deriv=2), ci.ArgumentError, r"`deriv` must be at most `order` \(1\); got 2"),
        (None, dict(bias_order=1), ci.ArgumentError, r"`bias_order` must be greater than `order` \(1\); got 1"),
        (None, dict(cluster="g", vce="hc3"), ci.ArgumentError, r"`vce` 'hc3' has no cluster-robust version"),
        (None, dict(bwselect="cct"), ci.ArgumentError, r"`bwselect` must be one of"),
        (lambda d: d.iloc[:15], {}, ci.DataError, r"15 observations are too few to choose a bandwidth"),
        (lambda d: d.assign(g=7), dict(cluster="g"), ci.DataError, r"cluster column 'g' has 1 distinct value\(s\); .* at least 2 clusters"),
    ],
)
def test_bad_input(df_change, kw, exc, match):
    df = _small()
    if df_change is not None:
        df = df_change(df)
    with pytest.raises(exc, match=match):
        ci.designs.rdd(df, outcome="y", running="x", cutoff=0.0, density=False, **kw)


def test_few_clusters_warn():
    df = _small(600, 1)
    with pytest.warns(ci.AssumptionWarning, match="fewer than 10 clusters"):
        r = ci.designs.rdd(df, outcome="y", running="x", cutoff=0.0, cluster="g", density=False)
    assert r.diagnostic("clusters").status == "warn"
    assert r.details["n_clusters"] == (5, 5)
    assert "CR1" in r.details["vce"]


def test_weights_refused_where_not_used_and_checked():
    """The local regression with cov_type has no weights: the role stops it rather than being ignored; weights must
    be positive; constant weights change nothing."""
    df = _small().assign(w=1.0)
    ds = ci.Dataset(df, outcome="y", running="x", cutoff=0.0, weights="w")
    with pytest.raises(ci.RoleError, match=r"cov_type.*does not use observation weights.*'w'.*with_roles\(weights=None\)"):
        ci.designs.rdd(ds, density=False, cov_type="HC1")
    a = ci.designs.rdd(ds, density=False)
    b = ci.designs.rdd(df.assign(w=2.5), outcome="y", running="x", cutoff=0.0, weights="w", density=False)
    c = ci.designs.rdd(df, outcome="y", running="x", cutoff=0.0, density=False)
    for r in (a, b):
        assert r.estimate == pytest.approx(c.estimate, rel=1e-10)
        assert r.std_error == pytest.approx(c.std_error, rel=1e-10)
    assert a.details["weights"] == "w"
    with pytest.raises(ci.DataError, match=r"weights column 'w' must hold positive finite numbers; 1 row\(s\).*row 3.*has 0"):
        ci.designs.rdd(df.assign(w=np.where(np.arange(len(df)) == 3, 0.0, 1.0)), outcome="y", running="x", cutoff=0.0, weights="w")
