"""Regression discontinuity against hand-written weighted fits in R (tests/reference/rdd.R -> rdd.json), LMB, simulations, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged
from causalinfer.designs._rdd import kernel_constant

COLS = (("estimate", "coef"), ("std_error", "se"), ("statistic", "t"), ("pvalue", "p"), ("ci_low", "ci_low"), ("ci_high", "ci_high"))


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        return f(*a, **k)


def test_against_r(reference):
    ref = reference("rdd")
    sim = pd.DataFrame(ref["sim"])
    assert len(ref["cases"]) >= 16
    for case in ref["cases"]:
        want = case["expected"]
        kw = dict(
            outcome=case["outcome"],
            running="x",
            cutoff=ref["cutoff"],
            bandwidth=case["bandwidth"],
            kernel=case["kernel"],
            order=case["order"],
            cov_type=case["cov_type"],
            density=False,
        )
        if case["fuzzy"]:
            kw["treatment"] = "d"
        if case["cov_type"] == "cluster":
            kw["cluster"] = "g"
        r = _quiet(ci.designs.rdd, sim, **kw)
        for col, key in COLS:
            np.testing.assert_allclose(r.terms[col].to_numpy(), want[key], rtol=1e-9, atol=1e-12, err_msg=f"{case['name']} {col}")
        assert r.df == want["df"]
        assert (r.details["n_below"], r.details["n_above"]) == (want["n_below"], want["n_above"])
        assert r.estimate == pytest.approx(want["coef"][1], rel=1e-9)
        check_result(r)


def test_balance_uses_the_same_local_fit(reference):
    ref = reference("rdd")
    sim = pd.DataFrame(ref["sim"])
    (case,) = [c for c in ref["cases"] if c["name"] == "balance_z1"]
    r = ci.designs.rdd(
        sim,
        outcome="y",
        running="x",
        cutoff=ref["cutoff"],
        covariates=["z1"],
        bandwidth=0.45,
        kernel="epanechnikov",
        density=False,
        cov_type=case["cov_type"],
    )
    bal = r.details["balance"].iloc[0]
    assert bal["jump"] == pytest.approx(case["expected"]["coef"][1], rel=1e-9)
    assert bal["std_error"] == pytest.approx(case["expected"]["se"][1], rel=1e-9)
    assert r.diagnostic("covariate balance").status == "ok"


def test_lmb_known_results(reference):
    ref = reference("rdd")["lmb"]
    ds = ci.load_dataset("close_elections_lmb")
    card = {k["value"] for k in ci.data_card("close_elections_lmb").known_results}
    r = ci.designs.rdd(ds, bandwidth=0.02, kernel="uniform", order=0, density=False, cov_type="HC1")
    assert r.estimate == pytest.approx(ref["score"]["coef"], rel=1e-9)
    assert r.std_error == pytest.approx(ref["score"]["se"], rel=1e-9)
    assert r.n == ref["score"]["n"]
    assert round(r.estimate, 2) == 21.28 and 21.28 in card
    dem = ci.designs.rdd(ds, outcome="democrat", bandwidth=0.02, kernel="uniform", order=0, density=False, cov_type="HC1")
    assert dem.estimate == pytest.approx(ref["democrat"]["coef"], rel=1e-9)
    assert round(dem.estimate, 2) == 0.48 and 0.48 in card
    full = ci.designs.rdd(ds)
    assert full.details["bandwidth_rule"].startswith("MSE-optimal (common)")
    assert 10 < full.estimate < 30
    assert full.diagnostic("density (manipulation)").status == "ok"
    ax = ci.designs.plot_rdd(full)
    assert ax.collections
    check_result(full)


def test_kernel_constants_match_imbens_kalyanaraman():
    assert kernel_constant("triangular") == pytest.approx(3.4375, abs=1e-3)
    assert kernel_constant("epanechnikov") == pytest.approx(3.1999, abs=1e-3)
    assert 2 * kernel_constant("uniform") == pytest.approx(5.40, abs=0.01)  # IK's uniform kernel has width 1, ours half-width 1


def test_fuzzy_is_ratio_of_jumps():
    rng = np.random.default_rng(5)
    n = 3000
    x = rng.uniform(-1, 1, n)
    d = (rng.random(n) < 0.2 + 0.6 * (x >= 0)).astype(int)
    y = 0.5 + x + 2.0 * d + rng.normal(size=n)
    df = pd.DataFrame({"x": x, "d": d, "y": y})
    kw = dict(running="x", cutoff=0.0, bandwidth=0.5, density=False)
    fz = check_unchanged(df, lambda f: ci.designs.rdd(f, outcome="y", treatment="d", **kw))
    jump_y = ci.designs.rdd(df, outcome="y", **kw).estimate
    jump_d = ci.designs.rdd(df, outcome="d", **kw).estimate
    assert fz.estimate == pytest.approx(jump_y / jump_d, rel=1e-9)
    assert fz.diagnostic("first-stage jump").status == "ok"
    assert "Fuzzy" in fz.method
    check_nested_intervals(ci.designs.rdd, df, outcome="y", treatment="d", **kw)


def test_density_test_detects_sorting():
    rng = np.random.default_rng(2)
    x = rng.normal(size=5000)
    x = np.concatenate([x, rng.uniform(0, 0.1, 400)])  # bunching just above the cutoff
    y = x + (x >= 0) + rng.normal(size=x.size)
    with pytest.warns(ci.AssumptionWarning, match="sorting"):
        r = ci.designs.rdd(pd.DataFrame({"x": x, "y": y}), outcome="y", running="x", cutoff=0.0, bandwidth=0.5)
    assert r.diagnostic("density (manipulation)").status == "warn"
    t = ci.designs.density_test(x)
    assert t.estimate > 0 and t.pvalue < 0.01
    check_result(t)


def test_covariate_imbalance_warns():
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, 2000)
    df = pd.DataFrame({"x": x, "y": x + (x >= 0) + rng.normal(size=2000), "age": 40 + 5 * (x >= 0) + rng.normal(size=2000)})
    with pytest.warns(ci.AssumptionWarning, match="covariates jump"):
        r = ci.designs.rdd(df, outcome="y", running="x", cutoff=0.0, covariates="age", bandwidth=0.4, density=False)
    assert r.diagnostic("covariate balance").status == "warn"


@pytest.mark.slow
def test_simulated_coverage_sharp():
    """Linear-in-x truth, so local linear with a fixed bandwidth is unbiased: CIs cover about 95%."""
    rng = np.random.default_rng(9)
    hits, reps = 0, 150
    for _ in range(reps):
        x = rng.uniform(-1, 1, 600)
        y = 0.3 + 0.7 * x + 1.0 * (x >= 0) + rng.normal(scale=0.5 + 0.5 * np.abs(x), size=600)
        r = ci.designs.rdd(pd.DataFrame({"x": x, "y": y}), outcome="y", running="x", cutoff=0.0, bandwidth=0.5, density=False)
        hits += r.ci_low <= 1.0 <= r.ci_high
    assert 0.91 <= hits / reps <= 0.99


@pytest.mark.slow
def test_ik_bandwidth_estimate_recovers_truth():
    rng = np.random.default_rng(10)
    ests = []
    for _ in range(40):
        x = rng.uniform(-1, 1, 2000)
        y = 0.5 * x - 0.8 * x**2 + 1.5 * (x >= 0) + rng.normal(scale=0.4, size=2000)
        ests.append(ci.designs.rdd(pd.DataFrame({"x": x, "y": y}), outcome="y", running="x", cutoff=0.0, density=False).estimate)
    assert abs(np.mean(ests) - 1.5) < 0.05


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        (
            dict(bandwidth=0.01),
            ci.DataError,
            r"`bandwidth` 0.01 leaves \d observation\(s\) \(\d distinct .*\) below the cutoff 0 .* needs at least 3 there \(2 distinct\): widen",
        ),
        (
            dict(bandwidth=0.01, cov_type="HC1"),
            ci.DataError,
            r"bandwidth 0.01 leaves .* a local polynomial of order 1 needs at least 3 on each side",
        ),
        (dict(cutoff=5.0), ci.RoleError, r"cutoff 5 leaves no observations on one side of running variable 'x'"),
        (dict(kernel="gaussian"), ci.ArgumentError, r"`kernel` must be one of"),
        (dict(bandwidth=-1.0), ci.ArgumentError, r"`bandwidth` must be a positive number"),
        (dict(order=7), ci.ArgumentError, r"`order` must be an integer <= 4"),
        (dict(running=None, cutoff=None), ci.RoleError, r"rdd needs the `running` role"),
    ],
)
def test_bad_input(change, exc, match):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 200)
    df = pd.DataFrame({"x": x, "y": x + (x >= 0) + rng.normal(size=200)})
    kw = dict(outcome="y", running="x", cutoff=0.0, density=False)
    kw.update(change)
    with pytest.raises(exc, match=match):
        ci.designs.rdd(df, **kw)


def test_array_helpers_validate():
    with pytest.raises(ci.DataError, match="same length"):
        ci.designs.ik_bandwidth(np.linspace(-1, 1, 50), np.zeros(40))
    with pytest.raises(ci.DataError, match="both sides of the cutoff 2"):
        ci.designs.density_test(np.linspace(-1, 1, 50), cutoff=2.0)


def test_ik_bandwidth_against_hand_written_r(reference):
    """R uses IK's rounded constant 3.4375; ours is the exact 3.43754..., so compare the bandwidths scaled to one constant."""
    ref = reference("rdd")
    sim = pd.DataFrame(ref["sim"])
    scale = ref["ik"]["constant"] / kernel_constant("triangular")
    h = ci.designs.ik_bandwidth(sim["x"], sim["y"], cutoff=ref["cutoff"])
    assert h * scale == pytest.approx(ref["ik"]["sim_triangular"], rel=1e-9)
    lmb = ci.load_dataset("close_elections_lmb")
    r = _quiet(ci.designs.rdd, lmb, density=False, bwselect="ik")
    assert r.details["bandwidth_rule"].startswith("Imbens-Kalyanaraman")
    assert r.details["bandwidth"] * scale == pytest.approx(ref["ik"]["lmb_triangular"], rel=1e-9)


@pytest.mark.parametrize("which", ["sim", "lmb", "bunch"])
def test_density_test_against_hand_written_r(reference, which):
    ref = reference("rdd")
    want = ref["mccrary"][which]
    if which == "sim":
        r = ci.designs.density_test(pd.DataFrame(ref["sim"])["x"], cutoff=ref["cutoff"])
    elif which == "lmb":
        r = ci.designs.density_test(ci.load_dataset("close_elections_lmb", frame_only=True)["lagdemvoteshare"], cutoff=0.5)
    else:
        r = ci.designs.density_test(np.asarray(ref["mccrary"]["bunch_x"]))
    assert r.estimate == pytest.approx(want["theta"], rel=1e-9)
    assert r.std_error == pytest.approx(want["se"], rel=1e-9)
    for key in ("bandwidth", "bin_width", "density_below", "density_above"):
        assert r.details[key] == pytest.approx(want[key], rel=1e-9), key


def test_long_tables_are_details_not_the_main_table():
    rng = np.random.default_rng(5)
    r = rng.uniform(-1, 1, 600)
    df = pd.DataFrame({"y": r + (r >= 0) + 0.3 * rng.normal(size=600), "r": r})
    res = ci.designs.rdd(df, outcome="y", running="r", cutoff=0.0, n_bins=30)
    assert len(res.details["bins"]) == 60
    assert len(res.terms) <= 4
    x = rng.normal(size=600)
    a = rng.binomial(1, 1 / (1 + np.exp(-x)))
    ipw = ci.causal.ipw(pd.DataFrame({"y": x + a, "a": a, "x": x}), outcome="y", treatment="a", covariates=["x"])
    assert len(ipw.details["propensity_histogram"]) == 20
    assert ipw.terms is None or len(ipw.terms) < 20
