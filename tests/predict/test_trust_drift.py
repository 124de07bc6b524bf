"""Drift profile and checks: agreement with scipy, chunk additivity, serialisation, bad input, false alarms and power."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_settings import examples
from scipy import stats
from scipy.spatial.distance import jensenshannon

import causalinfer as ci
from causalinfer._testing import check_result, check_unchanged
from causalinfer.predict import DriftResult, Profile


def _frame(n, rng, shift=0.0, cat_p=(0.5, 0.3, 0.2)):
    return pd.DataFrame(
        {
            "x": rng.normal(shift, 1.0, n),
            "g": rng.gamma(2.0, 1.0, n),
            "r": np.round(rng.normal(0, 1, n), 1),  # heavy ties
            "c": rng.choice(["a", "b", "c"], n, p=list(cat_p)),
        }
    )


@pytest.fixture(scope="module")
def ref():
    return _frame(4000, np.random.default_rng(0))


@pytest.fixture(scope="module")
def profile(ref):
    return Profile.build(ref, prediction="g", max_sample=50_000)


def test_numeric_tests_match_scipy(ref, profile):
    rng = np.random.default_rng(1)
    cur = _frame(2500, rng, shift=0.1)
    row = profile.check(cur, chunk_size=333).table.set_index("feature")
    for col in ("x", "g", "r"):
        ks = stats.ks_2samp(ref[col], cur[col], method="asymp")
        assert row.loc[col, "statistic"] == pytest.approx(ks.statistic, rel=1e-9, abs=1e-15)
        assert row.loc[col, "pvalue"] == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300)
        w = stats.wasserstein_distance(ref[col], cur[col]) / ref[col].std(ddof=1)
        # exact except on gaps between adjacent reference values where the two ECDFs cross (documented)
        assert row.loc[col, "wasserstein"] == pytest.approx(w, rel=1e-3)
        edges = profile[col].bin_edges
        p = np.bincount(np.searchsorted(edges, ref[col], side="left"), minlength=edges.size + 1) / len(ref)
        q = np.bincount(np.searchsorted(edges, cur[col], side="left"), minlength=edges.size + 1) / len(cur)
        assert row.loc[col, "js_distance"] == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)
        assert row.loc[col, "psi"] == pytest.approx(np.sum((q - p) * np.log(q / p)), rel=1e-9)
    assert row.loc["g", "role"] == "prediction"


def test_categorical_test_matches_scipy(ref, profile):
    cur = _frame(900, np.random.default_rng(2), cat_p=(0.4, 0.3, 0.3))
    cur.loc[:9, "c"] = "zz"
    res = profile.check(cur)
    row = res.table.set_index("feature").loc["c"]
    table = pd.crosstab(np.r_[np.zeros(len(ref)), np.ones(len(cur))], np.r_[ref["c"], cur["c"]])
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    assert (row["statistic"], row["df"], row["pvalue"]) == (pytest.approx(chi2, rel=1e-9), dof, pytest.approx(p, rel=1e-9))
    d = res.diagnostic("unseen categories (c)")
    assert d.status == "warn" and "'zz'" in d.message and d.value == pytest.approx(10 / 900)


def test_sampled_reference_is_stated_and_exact_against_its_sample(ref):
    prof = Profile.build(ref[["x"]], max_sample=500, random_state=3)
    f = prof["x"]
    assert f.sampled and f.n_sample == 500 and f.n == 4000
    cur = _frame(700, np.random.default_rng(4))[["x"]]
    sample = np.repeat(f.values, f.value_counts)
    ks = stats.ks_2samp(sample, cur["x"], method="asymp")
    row = prof.check(cur).table.iloc[0]
    assert row["statistic"] == pytest.approx(ks.statistic, rel=1e-9) and row["pvalue"] == pytest.approx(ks.pvalue, rel=1e-9)


def test_chunks_add_up_and_json_roundtrip(profile):
    cur = _frame(3000, np.random.default_rng(5), shift=0.3)
    whole = profile.check(cur, chunk_size=10_000)
    mon = Profile.from_json(profile.to_json()).monitor()
    for i in range(0, 3000, 700):
        mon.update(cur.iloc[i : i + 700])
    pd.testing.assert_frame_equal(mon.result().table, whole.table, check_exact=False, rtol=1e-9)
    assert len(mon.history) == 5 and len(mon.timeline()) == 5 * len(profile)
    check_result(profile.describe())
    assert "prediction" in profile._repr_html_() and repr(profile).startswith("Profile(columns=4")
    text = profile.to_json()
    assert json.loads(text)["type"] == "Profile"
    assert Profile.from_json(text).to_dict() == profile.to_dict()


def test_result_contract_display_and_plot(profile):
    res = check_unchanged(_frame(1500, np.random.default_rng(6), shift=0.8), profile.check)
    assert isinstance(res, DriftResult)
    check_result(res)
    assert res.alerts == ("x",) and res.drifted
    assert "Drift" in res._repr_html_()
    ax = res.plot()
    assert len(ax.patches) == len(profile)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_alert_rules(profile):
    cur = _frame(200_000, np.random.default_rng(7), shift=0.03)  # tiny shift, huge sample
    by_effect = profile.check(cur)
    by_p = profile.check(cur, alert_on="pvalue")
    assert "x" not in by_effect.alerts, "a negligible shift must not alarm by default"
    assert "x" in by_p.alerts, "p-values alone flag negligible shifts in large samples"
    assert profile.check(cur, alert_on="both").alerts == ()
    js = profile.check(_frame(2000, np.random.default_rng(8), shift=1.0), metric="js")
    assert js.details["metric"] == "js" and "x" in js.alerts
    w = profile.check(_frame(2000, np.random.default_rng(8), shift=0.5), metric="wasserstein")
    assert "x" in w.alerts and w.diagnostic("categorical columns").status == "ok"


def test_bad_input(ref, profile):
    with pytest.raises(ci.DataError, match=r"lack column\(s\) \['c'\]"):
        profile.check(ref.drop(columns="c"))
    with pytest.raises(ci.DataError, match="numeric in the reference profile"):
        profile.check(ref.assign(x=ref["x"].astype(str)))
    with pytest.raises(ci.ArgumentTypeError, match="DataFrame"):
        profile.check(ref["x"])
    with pytest.raises(ci.DataError, match="only missing values"):
        Profile.build(ref.assign(m=np.nan))
    with pytest.raises(ci.RoleError, match="not in the reference data"):
        Profile.build(ref, columns=["x", "nope"])
    with pytest.raises(ci.ArgumentError, match="metric"):
        profile.check(ref, metric="kl")
    with pytest.raises(ci.DataError, match="no current data"):
        profile.monitor().result()


def test_stated_warnings(ref):
    prof = Profile.build(ref.assign(k=1.0))
    cur = ref.iloc[:500].assign(k=np.r_[np.ones(450), np.full(50, 2.0)], extra=1)
    cur.loc[cur.index[:100], "g"] = np.nan
    cur["x"] = np.nan
    res = prof.check(cur)
    assert res.diagnostic("constant in reference (k)").status == "warn"
    assert np.isnan(res.table.set_index("feature").loc["k", "wasserstein"])
    assert res.diagnostic("columns not in profile").status == "warn" and "extra" in res.diagnostic("columns not in profile").message
    assert res.diagnostic("missing values (g)").status == "warn"
    assert res.diagnostic("all missing (x)").status == "fail" and "x" in res.alerts
    small = prof.check(ref.iloc[:40].assign(k=1.0))
    assert small.diagnostic("sample size (x)").status == "warn"


@pytest.mark.slow
def test_false_alarm_rate_under_no_drift():
    """1,000 current samples of 1,000 rows from the reference distribution: effect-size alerts <= 1%, Holm p-value alerts <= alpha."""
    rng = np.random.default_rng(9)
    prof = Profile.build(_frame(10_000, rng))
    mon = prof.monitor(alert_on="pvalue", alpha=0.05)
    draws, m = 1000, 1000
    big = _frame(m * draws, rng)
    alarms_e = alarms_p = 0
    for i in range(draws):
        rows = mon._evaluate(mon._counts(big.iloc[i * m : (i + 1) * m])[0], [])  # the rows of DriftResult.table
        alarms_e += any(r["psi"] > 0.2 for r in rows)  # the default effect-size rule
        alarms_p += any(r["alert"] for r in rows)
    assert alarms_e / draws <= 0.01
    se = np.sqrt(0.05 * 0.95 / draws)
    assert alarms_p / draws <= 0.05 + 3 * se


@pytest.mark.slow
def test_alarms_on_stated_shifts():
    """A 0.75 sd mean shift, or category shares moving from (.5, .3, .2) to (.2, .3, .5), alarm in >= 99% of 200 draws of 1,000 rows."""
    rng = np.random.default_rng(10)
    prof = Profile.build(_frame(10_000, rng), columns=["x", "c"])
    mon = prof.monitor()
    hits_x = hits_c = 0
    for _ in range(200):
        rows = mon._evaluate(mon._counts(_frame(1000, rng, shift=0.75, cat_p=(0.2, 0.3, 0.5)))[0], [])
        alerts = {r["feature"] for r in rows if r["alert"]}
        hits_x += "x" in alerts
        hits_c += "c" in alerts
    assert hits_x >= 198 and hits_c >= 198


def test_dataset_roles_and_bundled_data():
    ds = ci.load_dataset("lalonde")
    prof = Profile.build(ds)
    assert prof.columns == (*ds.covariates, ds.outcome)
    treated = ds.frame[ds.frame["treat"] == 1]
    control = ds.frame[ds.frame["treat"] == 0]
    res = Profile.build(control, columns=list(ds.covariates)).check(treated)
    assert not res.drifted  # a randomised experiment: treated and controls share one covariate distribution
    assert res.diagnostic("columns not in profile").status == "warn"


@examples(40)
@given(
    ref=st.lists(st.integers(-20, 20), min_size=5, max_size=60),
    cur=st.lists(st.integers(-25, 25), min_size=1, max_size=80),
    chunk=st.integers(1, 30),
)
def test_ks_and_wasserstein_from_counts_property(ref, cur, chunk):
    """Any chunking of any tied integer data gives scipy's KS statistic, and W1 within the documented bound."""
    prof = Profile.build(pd.DataFrame({"v": np.asarray(ref, dtype=float)}))
    mon = prof.monitor()
    cur_f = pd.DataFrame({"v": np.asarray(cur, dtype=float) / 2})
    for i in range(0, len(cur), chunk):
        mon.update(cur_f.iloc[i : i + chunk], keep_history=False)
    row = mon.result().table.iloc[0]
    assert row["statistic"] == pytest.approx(stats.ks_2samp(ref, cur_f["v"], method="asymp").statistic, abs=1e-12)
    if np.std(ref) > 0:
        sd = np.std(ref, ddof=1)
        w = stats.wasserstein_distance(ref, cur_f["v"]) / sd
        # documented bound: exact except on gaps between adjacent reference values where the ECDFs cross, where the
        # error is at most the gap length times the share of current values inside the gap
        r = np.unique(ref)
        cur_v = cur_f["v"].to_numpy()
        inside = np.array([np.sum((cur_v > a) & (cur_v < b)) for a, b in itertools.pairwise(r)])
        bound = float(np.sum(np.diff(r) * inside) / len(cur_v) / sd)
        assert abs(row["wasserstein"] - w) <= 1e-9 + bound
