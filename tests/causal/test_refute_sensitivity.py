"""Refutations, sensitivity analyses and plots of effect results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_result, check_unchanged
from causalinfer.causal._sensitivity import e_value_from_rr, robustness_values

NHEFS_MODEL = dict(categorical=["education", "exercise", "active"], squared=["age", "smokeintensity", "smokeyrs", "wt71"])


def _confounded(n=3000, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    a = rng.binomial(1, 1 / (1 + np.exp(-(x @ np.array([0.6, -0.4, 0.3, 0.0])))))
    y = 1.5 * a + x @ np.array([1.0, 1.0, 0.5, -0.5]) + rng.normal(size=n)
    return pd.DataFrame({"y": y, "a": a, **{f"x{j}": x[:, j] for j in range(4)}})


ROLES = dict(outcome="y", treatment="a", covariates=["x0", "x1", "x2", "x3"])


def test_placebo_refutation_of_correct_ipw_passes_and_data_untouched():
    df = _confounded()
    r = check_unchanged(df, lambda d: ci.causal.ipw(d, **ROLES))
    ref = check_unchanged(df, lambda d: r.refute("placebo", n_simulations=60, random_state=1, progress=False))
    assert isinstance(ref, ci.causal.RefutationResult)
    assert ref.passed
    assert ref.pvalue >= 0.05
    assert abs(ref.estimate) < 0.1 * abs(r.estimate)
    assert ref.details["placebo_exceedance"] < 0.05  # the real effect stands far outside the placebo effects
    assert "passed" in ref.diagnostic("refutation").message
    check_result(ref)


@pytest.mark.parametrize("method", ["ipw", "regression", "aipw"])
def test_all_refuters_pass_for_correct_estimators(method):
    df = _confounded(n=1500)
    r = ci.causal.estimate_effect(df, method=method, **ROLES)
    rs = r.refute(
        ("placebo", "random_common_cause", "subset", "bootstrap", "dummy_outcome"), n_simulations=30, random_state=5, progress=False
    )
    assert isinstance(rs, ci.ResultSet)
    assert list(rs.labels) == ["placebo", "random_common_cause", "subset", "bootstrap", "dummy_outcome"]
    assert all(x.passed for x in rs), rs.to_frame()[["label", "estimate", "pvalue"]]
    assert abs(rs["random_common_cause"].estimate - r.estimate) < 0.05 * r.std_error
    check_result(rs)


def test_refutation_is_reproducible_and_independent_of_threads():
    r = ci.causal.ipw(_confounded(n=800), **ROLES)
    a = r.refute("subset", n_simulations=12, random_state=3, n_jobs=1, progress=False)
    b = r.refute("subset", n_simulations=12, random_state=3, n_jobs=2, progress=False)
    np.testing.assert_array_equal(a.details["simulations"]["estimate"], b.details["simulations"]["estimate"])


def test_refuted_estimates_refit_the_propensity():
    """A random common cause changes the refitted propensity, so estimates move (slightly); DoWhy's stay identical."""
    r = ci.causal.ipw(_confounded(n=800), **ROLES)
    ref = r.refute("random_common_cause", n_simulations=5, random_state=3, progress=False)
    sims = ref.details["simulations"]["estimate"].to_numpy()
    assert np.all(sims != r.estimate)
    assert np.allclose(sims, r.estimate, atol=0.05)


def test_refuter_tests_fail_when_they_should():
    """The decision rules: placebo effects not centred at 0, or an original estimate far from the refitted ones, fail."""
    from causalinfer.causal._refute import _judge

    rng = np.random.default_rng(1)
    shifted = rng.normal(0.5, 1.0, 100)  # placebo effects centred away from 0: the estimator invents effects
    _, p, _ = _judge("placebo", shifted, 2.0, 0.3)
    assert p < 0.001
    _, p, _ = _judge("placebo", shifted - shifted.mean(), 2.0, 0.3)
    assert p == pytest.approx(1.0)
    _, p, _ = _judge("random_common_cause", np.full(10, 2.9), 2.0, 0.3)  # moves by 3 standard errors
    assert p < 0.01
    _, p, _ = _judge("subset", rng.normal(5.0, 0.2, 100), 2.0, 0.3)
    assert p < 1e-6


def test_refute_needs_live_result():
    r = ci.causal.ipw(_confounded(n=500), **ROLES)
    rebuilt = ci.Result.from_json(r.to_json())
    assert isinstance(rebuilt, ci.causal.EffectResult)
    assert rebuilt == r
    with pytest.raises(ci.ArgumentError, match="estimate the effect again"):
        rebuilt.refute("placebo")
    with pytest.raises(ci.ArgumentError, match="kind"):
        r.refute("placebos")
    with pytest.raises(ci.ArgumentError, match="n_simulations"):
        r.refute("placebo", n_simulations=1)


# ---------------------------------------------------------------------- sensitivity
def test_robustness_value_published_darfur_example():
    """Cinelli and Hazlett (2020), section 6: t = 4.18 on 783 df gives RV = 13.9%, RV_alpha = 7.6%, partial R2 = 2.2%."""
    r2, rv, rva = robustness_values(4.18, 783)
    assert round(100 * rv, 1) == 13.9
    assert round(100 * rva, 1) == 7.6
    assert round(100 * r2, 1) == 2.2


def test_robustness_value_against_r(reference):
    ref = reference("causal_estimators")["robustness"]
    sim = reference("causal_estimators")["sim"]
    ds_sim = ci.Dataset(pd.DataFrame(sim["data"]), outcome="y", treatment="a", covariates=sim["covariates"])
    cases = [
        ("nhefs", ci.load_dataset("nhefs"), NHEFS_MODEL, {}),
        ("sim", ds_sim, dict(categorical=["g"], squared=["x1"]), {}),
        ("sim_q05", ds_sim, dict(categorical=["g"], squared=["x1"]), dict(q=0.5, alpha=0.1)),
    ]
    for name, ds, model, kw in cases:
        r = ci.causal.ipw(ds, **model).sensitivity("robustness_value", **kw)
        want = ref[name]
        reg = r.details["regression"].iloc[0]
        assert reg["t"] == pytest.approx(want["t"], rel=1e-9)
        assert reg["df"] == want["df"]
        assert reg["coefficient"] == pytest.approx(want["coefficient"], rel=1e-9)
        assert r.estimate == pytest.approx(want["rv"], rel=1e-9)
        assert r.effect_size("robustness value RV_q,alpha").estimate == pytest.approx(want["rv_alpha"], rel=1e-9)
        assert r.effect_size("partial R2 of treatment with outcome").estimate == pytest.approx(want["partial_r2"], rel=1e-9)
        check_result(r)


def test_e_value_published_examples():
    """VanderWeele and Ding (2017): RR 3.9 (95% CI 1.8 to 8.7) has E-values 7.26 and 3.0; RR 0.80 (0.71, 0.91) -> 1.81, 1.43."""
    point, lim = e_value_from_rr(3.9, (1.8, 8.7))
    assert round(point, 2) == 7.26
    assert round(lim, 2) == 3.0
    point, lim = e_value_from_rr(0.80, (0.71, 0.91))
    assert round(point, 2) == 1.81
    assert round(lim, 2) == 1.43
    assert e_value_from_rr(1.2, (0.9, 1.6))[1] == 1.0


def test_e_value_of_results():
    r = ci.causal.ipw(ci.load_dataset("nhefs"), **NHEFS_MODEL)
    ev = r.sensitivity("e_value")
    d = ev.effect_size("standardised difference d").estimate
    rr = np.exp(0.91 * d)
    assert ev.estimate == pytest.approx(rr + np.sqrt(rr * (rr - 1)), rel=1e-9)
    assert 1 < ev.effect_size("E-value (confidence limit)").estimate < ev.estimate
    check_result(ev)
    rng = np.random.default_rng(3)
    x = rng.normal(size=2000)
    a = rng.binomial(1, 1 / (1 + np.exp(-x)))
    yb = rng.binomial(1, 1 / (1 + np.exp(-(-1 + 0.8 * a + x))))
    rb = ci.causal.aipw(pd.DataFrame({"y": yb, "a": a, "x": x}), outcome="y", treatment="a", covariates=["x"])
    evb = rb.sensitivity("e_value")
    po = rb.details["potential_outcomes"]["mean"].to_numpy()
    assert evb.effect_size("risk ratio").estimate == pytest.approx(po[0] / po[1], rel=1e-9)


# ---------------------------------------------------------------------- diagnostics and plots
def test_diagnostics_plots_and_contract():
    import matplotlib.pyplot as plt

    r = ci.causal.aipw(ci.load_dataset("nhefs"), **NHEFS_MODEL)
    bal = r.balance
    assert list(bal.columns) == [
        "covariate",
        "mean_treated",
        "mean_control",
        "smd_before",
        "smd_after",
        "variance_ratio_before",
        "variance_ratio_after",
    ]
    assert bal["smd_after"].abs().max() < bal["smd_before"].abs().max()
    ov = r.details["overlap"]
    assert ov["effective_sample_size"].iloc[0] < ov["n"].iloc[0]
    for kind in ("estimate", "love", "overlap"):
        ax = r.plot(kind=kind)
        assert ax is not None
        plt.close("all")
    rs = ci.causal.compare(ci.load_dataset("lalonde"), methods=["regression", "ipw", "aipw"])
    rs.plot()
    plt.close("all")
    check_result(rs)


def test_simulated_unobserved_confounder():
    df = _confounded(n=1500)
    r = ci.causal.aipw(df, **ROLES)
    s = check_unchanged(df, lambda d: r.sensitivity("unobserved_confounder", n_simulations=3, random_state=4))
    grid = s.details["grid"]
    assert list(grid.columns) == ["treatment_strength", "outcome_strength", "estimate", "shift", "shift_in_se"]
    assert len(grid) == 16
    weak = grid.query("treatment_strength == 0.05 and outcome_strength == 0.05")["shift"].abs().iloc[0]
    strong = grid.query("treatment_strength == 0.3 and outcome_strength == 0.3")["shift"].abs().iloc[0]
    assert weak < strong  # stronger confounding moves the estimate more
    assert s.estimate == r.estimate
    check_result(s)
    with pytest.raises(ci.ArgumentError, match="impossible"):
        r.sensitivity("unobserved_confounder", treatment_strength=[0.8], outcome_strength=[0.8])


def test_rosenbaum_bounds():
    from scipy import stats

    r = ci.causal.matching(ci.load_dataset("lalonde"), distance="propensity", bias_adjust=False)
    b = r.sensitivity("rosenbaum", gammas=[1.0, 1.2, 1.5, 2.0])
    p = b.details["bounds"]["pvalue_upper"].to_numpy()
    assert np.all(np.diff(p) > 0)  # more hidden bias, weaker evidence
    # Gamma = 1 is Wilcoxon's signed-rank test (normal approximation, no continuity correction), one-sided
    from causalinfer.causal._matching import match_estimate

    ctx = r._context
    e, _ = ci.causal._core.propensity(ctx.cd.a, ctx.cd.Z, ctx.spec, None)
    d = match_estimate(ctx.cd.y, ctx.cd.a, ctx.cd.Z, estimand="ATT", distance="propensity", ratio=1, caliper=None, bias_adjust=False, e=e)[
        "differences"
    ]
    w = stats.wilcoxon(d, zero_method="wilcox", correction=False, alternative="greater", method="approx")
    assert p[0] == pytest.approx(w.pvalue, rel=1e-9)
    check_result(b)
    with pytest.raises(ci.ArgumentError, match="matched pairs"):
        ci.causal.matching(ci.load_dataset("lalonde"), ratio=2).sensitivity("rosenbaum")
    with pytest.raises(ci.ArgumentError, match="matching result"):
        ci.causal.ipw(ci.load_dataset("lalonde")).sensitivity("rosenbaum")
