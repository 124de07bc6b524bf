"""Group-sequential critical values against the published tables, an independent multivariate-normal computation and
simulation; and the analysis at a planned look."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalinfer as ci
from causalinfer import experiments as ex
from causalinfer._testing import check_result
from causalinfer.experiments._groupseq import crossing_probabilities

# Jennison & Turnbull (2000), Tables 2.1 (Pocock C_P) and 2.3 (O'Brien-Fleming C_B), two-sided alpha 0.05
POCOCK = {1: 1.960, 2: 2.178, 3: 2.289, 4: 2.361, 5: 2.413, 10: 2.555}
OBF = {1: 1.960, 2: 1.977, 3: 2.004, 4: 2.024, 5: 2.040, 10: 2.087}


@pytest.mark.parametrize("k", sorted(POCOCK))
def test_published_constants(k):
    pocock = ex.group_sequential(k, boundary="pocock").table
    assert np.allclose(pocock.critical_z, POCOCK[k], atol=5e-4)
    obf = ex.group_sequential(k).table
    assert obf.critical_z.iloc[-1] == pytest.approx(OBF[k], abs=5e-4)
    np.testing.assert_allclose(obf.critical_z * np.sqrt(obf.information_fraction), OBF[k], atol=5e-4)
    assert obf.alpha_spent.iloc[-1] == pytest.approx(0.05, abs=1e-9)


def test_spending_boundaries_match_published_and_spend_as_planned():
    # Lan-DeMets O'Brien-Fleming-type spending, five equally spaced looks (as ldbounds / gsDesign tabulate it)
    obf = ex.group_sequential(5, spending=True).table
    np.testing.assert_allclose(obf.critical_z, [4.8769, 3.3569, 2.6803, 2.2898, 2.0310], atol=2e-4)
    poc = ex.group_sequential(5, boundary="pocock", spending=True).table
    np.testing.assert_allclose(poc.critical_z.iloc[:2], [2.4380, 2.4268], atol=2e-4)
    t = np.array([0.1, 0.35, 0.7, 1.0])
    d = ex.group_sequential(information=t * 1234, spending=True, alpha=0.01).table
    np.testing.assert_allclose(np.cumsum(crossing_probabilities(d.critical_z, t)), d.alpha_spent, rtol=1e-7)
    np.testing.assert_allclose(d.alpha_spent, 2 * 2 * stats.norm.sf(stats.norm.isf(0.01 / 4) / np.sqrt(t)), rtol=1e-9)


@pytest.mark.parametrize("boundary", ["pocock", "obrien-fleming"])
def test_against_multivariate_normal(boundary):
    t = np.array([0.3, 0.6, 1.0])
    c = ex.group_sequential(information=t, boundary=boundary).table.critical_z.to_numpy()
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    inside = stats.multivariate_normal.cdf(c, np.zeros(3), cov, abseps=1e-7, releps=1e-7, lower_limit=-c)
    assert 1 - inside == pytest.approx(0.05, abs=2e-4)


def test_simulated_type_one_error():
    rng = np.random.default_rng(7)
    z = np.cumsum(rng.normal(size=(40000, 4)), axis=1) / np.sqrt(np.arange(1, 5))
    for boundary in ("pocock", "obrien-fleming"):
        c = ex.group_sequential(4, boundary=boundary).table.critical_z.to_numpy()
        rate = np.mean(np.any(np.abs(z) >= c, axis=1))
        assert rate == pytest.approx(0.05, abs=0.0035)  # ~3 Monte Carlo standard errors
    naive = np.mean(np.any(np.abs(z) >= 1.96, axis=1))
    assert naive > 0.1


def test_analysis_at_a_planned_look():
    rng = np.random.default_rng(3)
    f = pd.DataFrame({"variant": np.repeat(["control", "b"], 400), "y": rng.normal(10, 2, 800) + np.repeat([0, 0.6], 400)})
    design = ex.group_sequential(3)
    check_result(design)
    fixed = ex.analyze(f, control="control", metrics=["y"], lift="absolute")["y: b"]
    r = ex.analyze(f, control="control", metrics=["y"], lift="absolute", sequential=design, look=2)["y: b"]
    c = design.table.critical_z.iloc[1]
    assert r.estimate == fixed.estimate and r.pvalue == fixed.pvalue
    assert r.ci_high - r.ci_low == pytest.approx(2 * c * r.std_error, rel=1e-12)
    info = r.details["sequential"]
    assert info["look"] == 2 and info["crossed"] == (abs(r.statistic) >= c)
    assert "look 2" in r.method and r.diagnostic("group-sequential boundary").status == "ok"
    check_result(r)
    with pytest.raises(ci.ArgumentError, match="`look` must say which"):
        ex.analyze(f, control="control", metrics=["y"], sequential=design)
    with pytest.raises(ci.ArgumentError, match="`look` must be an integer <= 3"):
        ex.analyze(f, control="control", metrics=["y"], sequential=design, look=4)
    with pytest.raises(ci.ArgumentError, match="`look` goes with a group-sequential design"):
        ex.analyze(f, control="control", metrics=["y"], look=1)


def test_bad_design_arguments():
    with pytest.raises(ci.ArgumentError, match="`boundary` must be one of"):
        ex.group_sequential(3, boundary="haybittle")
    with pytest.raises(ci.ArgumentError, match="`information` must be positive and strictly increasing"):
        ex.group_sequential(information=[10, 5, 20])
    with pytest.raises(ci.ArgumentError, match="`looks` must be an integer >= 1"):
        ex.group_sequential(0)
    with pytest.raises(ci.ArgumentError, match=r"`alpha` must be a finite number in \(0, 1\)"):
        ex.group_sequential(3, alpha=1.2)
