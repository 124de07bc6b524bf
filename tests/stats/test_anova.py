"""One-way ANOVA, Welch ANOVA, effect sizes and Tukey HSD against R (tests/reference/anova.R) and NIST StRD."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged

NIST = json.loads((Path(__file__).parents[1] / "reference" / "nist_anova.json").read_text())


def _groups(case):
    return [np.asarray(g, dtype=float) for g in case["groups"]]


def test_classic_and_welch_against_r(reference):
    ref = reference("anova")
    assert len(ref["cases"]) >= 10
    for case in ref["cases"]:
        groups = _groups(case)
        cl = case["conf_level"]
        # with a 1e6 offset R's QR-based aov (and oneway.test) lose ~1e-9; our sums are exact there (see NIST tests)
        tol = 5e-9 if case["name"].startswith("offset") else 1e-10
        r = ci.stats.anova_oneway(*groups, equal_var=True, conf_level=cl)
        c = case["classic"]
        assert r.method == c["method"]
        assert r.statistic == pytest.approx(c["F"], rel=tol)
        assert r.statistic == pytest.approx(c["oneway_F"], rel=tol)
        assert r.df == (c["df1"], c["df2"])
        assert r.pvalue == pytest.approx(c["pvalue"], rel=max(tol, 1e-9))
        tab = r.details["anova_table"]
        assert tab["sum_sq"].tolist() == pytest.approx([c["ss_between"], c["ss_within"]], rel=tol)
        eta, omega = r.effect_size("eta_squared"), r.effect_size("omega_squared")
        assert eta.estimate == pytest.approx(case["eta_squared"], rel=tol)
        assert omega.estimate == pytest.approx(case["omega_squared"], rel=10 * tol, abs=1e-14)
        # noncentral-F inversion: R's pf(ncp) is accurate to ~1e-9 absolute, so allow 1e-7 relative here
        assert [eta.ci_low, eta.ci_high] == pytest.approx(case["eta_ci"], rel=1e-7, abs=1e-10)
        w = ci.stats.anova_oneway(*groups, conf_level=cl)
        wr = case["welch"]
        assert w.method == wr["method"]
        assert w.statistic == pytest.approx(wr["F"], rel=tol)
        assert w.df == pytest.approx((wr["df1"], wr["df2"]), rel=tol)
        assert w.pvalue == pytest.approx(wr["pvalue"], rel=max(tol, 1e-9))
        check_result(r)
        check_result(w)


def test_eta_squared_ci_high_precision(reference):
    """Against 40-digit solutions of the same noncentral-F equations (tests/reference/eta_ci_mpmath.py)."""
    anova = {c["name"]: c for c in reference("anova")["cases"]}
    for case in reference("eta_ci_mpmath")["cases"]:
        src = anova[case["name"]]
        e = ci.stats.anova_oneway(*_groups(src), conf_level=src["conf_level"]).effect_size("eta_squared")
        assert [e.ci_low, e.ci_high] == pytest.approx(case["eta_ci"], rel=1e-11, abs=1e-15), case["name"]


def test_tukey_against_r(reference):
    for case in reference("anova")["cases"]:
        tol = 1e-8 if case["name"].startswith("offset") else 1e-10  # R's aov loses ~1e-9 with a 1e6 offset
        r = ci.stats.tukey_hsd(*_groups(case), conf_level=case["conf_level"])
        tk = case["tukey"]
        terms = r.terms
        assert terms["term"].tolist() == ([tk["term"]] if isinstance(tk["term"], str) else tk["term"])
        assert terms["estimate"].to_numpy() == pytest.approx(np.atleast_1d(tk["diff"]), rel=1e-10, abs=tol)
        # R's qtukey stops its secant iteration at eps = 1e-4 (errors up to ~2e-6 here); against the precise root of
        # R's ptukey(q) = conf_level (uniroot, tol 1e-13) the limits agree to 1e-9
        assert r.details["q_critical"] == pytest.approx(tk["q_precise"], rel=1e-10)
        assert terms["ci_low"].to_numpy() == pytest.approx(np.atleast_1d(tk["lwr_precise"]), rel=1e-9, abs=tol)
        assert terms["ci_high"].to_numpy() == pytest.approx(np.atleast_1d(tk["upr_precise"]), rel=1e-9, abs=tol)
        assert terms["ci_low"].to_numpy() == pytest.approx(np.atleast_1d(tk["lwr"]), rel=1e-5)
        assert terms["ci_high"].to_numpy() == pytest.approx(np.atleast_1d(tk["upr"]), rel=1e-5)
        assert terms["pvalue"].to_numpy() == pytest.approx(np.atleast_1d(tk["padj"]), rel=1e-8, abs=1e-12)
        check_result(r)


def test_tukey_intervals_nest():
    rng = np.random.default_rng(5)
    groups = [rng.normal(m, 1, 9) for m in (0, 0.5, 1.5, 1.0)]
    r90 = ci.stats.tukey_hsd(*groups, conf_level=0.90).terms
    r95 = ci.stats.tukey_hsd(*groups, conf_level=0.95).terms
    assert (r95.ci_low <= r90.ci_low).all()
    assert (r90.ci_high <= r95.ci_high).all()


# ------------------------------------------------------------------------------------------------ NIST StRD
def _nist_groups(name, *, centred=False):
    e = NIST["datasets"][name]
    if "group" in e:
        g = np.array(e["group"])
        v = np.array([float(s) for s in e["value"]])
        return [v[g == k] for k in sorted(set(e["group"]))]
    off = Decimal(e["offset"])
    base = Decimal(0) if centred else off
    out = []
    for t in range(1, 10):
        c = off + (Decimal("0.4") if t == 1 else (Decimal("0.3") if t % 2 == 0 else Decimal("0.5")))
        vals = [c] + [c + d for _ in range((e["replicates"] - 1) // 2) for d in (Decimal("-0.1"), Decimal("0.1"))]
        out.append(np.array([float(v - (off if centred else base)) for v in vals]))
    return out


def _exact_ss(groups):
    fr = [[Fraction(float(v)) for v in g] for g in groups]
    means = [sum(g) / len(g) for g in fr]
    n = sum(len(g) for g in fr)
    gm = sum(sum(g) for g in fr) / n
    ssb = sum(len(g) * (m - gm) ** 2 for g, m in zip(fr, means, strict=True))
    ssw = sum((v - m) ** 2 for g, m in zip(fr, means, strict=True) for v in g)
    return float(ssb), float(ssw)


def _check_certified(r, cert, rtol):
    tab = r.details["anova_table"]
    assert tab.loc[0, "df"] == cert["df_between"]
    assert tab.loc[1, "df"] == cert["df_within"]
    assert tab.loc[0, "sum_sq"] == pytest.approx(float(cert["ss_between"]), rel=rtol)
    assert tab.loc[1, "sum_sq"] == pytest.approx(float(cert["ss_within"]), rel=rtol)
    assert tab.loc[0, "mean_sq"] == pytest.approx(float(cert["ms_between"]), rel=rtol)
    assert tab.loc[1, "mean_sq"] == pytest.approx(float(cert["ms_within"]), rel=rtol)
    assert r.statistic == pytest.approx(float(cert["F"]), rel=rtol)
    assert r.effect_size("eta_squared").estimate == pytest.approx(float(cert["r_squared"]), rel=rtol)
    assert np.sqrt(tab.loc[1, "mean_sq"]) == pytest.approx(float(cert["residual_sd"]), rel=rtol)


@pytest.mark.parametrize("name", ["AtmWtAg", "SiRstv", "SmLs01", "SmLs02", "SmLs03", "SmLs04", "SmLs05", "SmLs06"])
def test_nist_certified_values(name):
    groups = _nist_groups(name)
    r = ci.stats.anova_oneway(*groups, equal_var=True)
    # certified values are rounded to 15 digits; SmLs04-06 and AtmWtAg lose ~1e-10 when their decimals are stored as doubles
    _check_certified(r, NIST["datasets"][name]["certified"], 1e-9)


@pytest.mark.parametrize("name", ["SmLs07", "SmLs08", "SmLs09"])
def test_nist_hard_cases(name):
    """13 constant leading digits: exact for the data as stored, and certified once the data are representable.

    A value such as 1000000000000.4 cannot be stored in binary64 (it becomes 1000000000000.4000244...), so the
    certified sums of squares of the decimal data differ from those of the stored doubles by ~1e-4 relative.
    We therefore check (a) agreement to rtol 1e-12 with exact rational arithmetic on the stored doubles (the
    algorithm loses nothing to the offset) and (b) the certified values at rtol 1e-9 when the same data are
    passed with the offset removed in decimal arithmetic (ANOVA is shift invariant).
    """
    raw = _nist_groups(name)
    r = ci.stats.anova_oneway(*raw, equal_var=True)
    ssb, ssw = _exact_ss(raw)
    tab = r.details["anova_table"]
    assert tab.loc[0, "sum_sq"] == pytest.approx(ssb, rel=1e-12)
    assert tab.loc[1, "sum_sq"] == pytest.approx(ssw, rel=1e-12)
    _check_certified(r, NIST["datasets"][name]["certified"], 2e-4)
    centred = _nist_groups(name, centred=True)
    _check_certified(ci.stats.anova_oneway(*centred, equal_var=True), NIST["datasets"][name]["certified"], 1e-9)


def test_large_offset_matches_unshifted():
    rng = np.random.default_rng(11)
    groups = [np.round(rng.normal(m, 1, 15), 2) for m in (0, 0.3, 0.8)]
    a = ci.stats.anova_oneway(*groups, equal_var=True)
    b = ci.stats.anova_oneway(*[g + 1e8 for g in groups], equal_var=True)
    assert b.statistic == pytest.approx(a.statistic, rel=1e-6)


# ------------------------------------------------------------------------------------------------ interfaces
def test_long_form_and_columns():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"y": rng.normal(size=30), "g": np.repeat(["c", "a", "b"], 10)})
    r = check_unchanged(df, lambda d: ci.stats.anova_oneway("y", data=d, group="g"))
    arrays = [df.y[df.g == lv].to_numpy() for lv in ("a", "b", "c")]
    assert r.statistic == pytest.approx(ci.stats.anova_oneway(*arrays).statistic, rel=1e-12)
    assert r.details["groups"]["group"].tolist() == ["a", "b", "c"]
    wide = pd.DataFrame({"a": arrays[0], "b": arrays[1], "c": arrays[2]})
    r2 = check_unchanged(wide, lambda d: ci.stats.anova_oneway("a", "b", "c", data=d, equal_var=True))
    assert r2.statistic == pytest.approx(ci.stats.anova_oneway(*arrays, equal_var=True).statistic, rel=1e-12)
    t = check_unchanged(df, lambda d: ci.stats.tukey_hsd("y", data=d, group="g"))
    assert t.terms["term"].tolist() == ["b-a", "c-a", "c-b"]
    check_result(t)
    check_nested_intervals(lambda *a, **k: _eta_as_result(ci.stats.anova_oneway(*a, **k)), *arrays)


def _eta_as_result(r):
    e = r.effect_size("eta_squared")
    return r.replace(estimate=e.estimate, ci_low=e.ci_low, ci_high=e.ci_high, conf_level=e.conf_level)


def test_diagnostics_report_variance_ratio_and_normality():
    rng = np.random.default_rng(3)
    r = ci.stats.anova_oneway(rng.normal(0, 1, 20), rng.normal(0, 5, 20), equal_var=True)
    assert r.diagnostic("variance ratio").status == "warn"
    assert r.diagnostic("normality (group 1)").status in ("ok", "warn")
    w = ci.stats.anova_oneway(rng.normal(0, 1, 20), rng.normal(0, 5, 20))
    assert w.diagnostic("variance ratio").status == "ok"


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([1.0, 2.0, 3.0],), {}, ci.DataError, "at least 2 samples"),
        (([1.0, 2.0], []), {}, ci.DataError, "at least 1"),
        (([1.0], [2.0]), {"equal_var": True}, ci.DataError, "more observations"),
        (([1.0], [2.0, 3.0]), {}, ci.DataError, "at least 2 observations per group"),
        (([2.0, 2.0], [2.0, 2.0]), {"equal_var": True}, ci.DataError, "all values are equal"),
        (([1.0, 1.0], [2.0, 2.0]), {"equal_var": True}, ci.DataError, "constant"),
        (([1.0, 1.0], [2.0, 3.0]), {}, ci.DataError, "constant"),
        (([1.0, np.nan, 2.0], [2.0, 3.0]), {}, ci.DataError, "missing value"),
        (([1.0, np.inf, 2.0], [2.0, 3.0]), {}, ci.DataError, "infinite"),
        (([1.0, 2.0], [2.0, 3.0]), {"conf_level": 1.0}, ci.ArgumentError, "conf_level"),
        (([1.0, 2.0], [2.0, 3.0]), {"equal_var": "yes"}, ci.ArgumentTypeError, "equal_var"),
        (("y",), {}, ci.ArgumentTypeError, "no `data`"),
    ],
)
def test_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ci.stats.anova_oneway(*args, **kwargs)


def test_bad_input_long_form_and_tukey():
    df = pd.DataFrame({"y": [1.0, 2.0, 3.0], "g": ["a", "a", "a"]})
    with pytest.raises(ci.DataError, match="`group`"):
        ci.stats.anova_oneway("y", data=df, group="g")
    with pytest.raises(ci.RoleError, match="grp"):
        ci.stats.anova_oneway("y", data=df, group="grp")
    with pytest.raises(ci.DataError, match="constant"):
        ci.stats.tukey_hsd([1.0, 1.0], [2.0, 2.0])
    with pytest.raises(ci.ArgumentError, match="conf_level"):
        ci.stats.tukey_hsd([1.0, 2.0], [2.0, 4.0], conf_level=0)


@pytest.mark.slow
def test_welch_type_one_error_unequal_variances():
    """Under H0 with very unequal variances and sizes, Welch's ANOVA holds its level (the classic F would not)."""
    rng = np.random.default_rng(20261128)
    n_sim = 800
    sizes, sds = (8, 12, 20), (4.0, 2.0, 1.0)
    rej_w = 0
    for _ in range(n_sim):
        groups = [rng.normal(0, s, n) for n, s in zip(sizes, sds, strict=True)]
        rej_w += ci.stats.anova_oneway(*groups).pvalue < 0.05
    se = np.sqrt(0.05 * 0.95 / n_sim)
    assert abs(rej_w / n_sim - 0.05) < 3 * se + 0.01


@pytest.mark.slow
def test_eta_squared_ci_coverage():
    rng = np.random.default_rng(7)
    k, n, effects = 3, 15, np.array([0.0, 0.5, 1.0])
    # population eta^2 = var(effects) / (var(effects) + 1) with population (ddof=0) variance of equal-size groups
    eta_pop = effects.var() / (effects.var() + 1)
    n_sim, hits = 300, 0
    for _ in range(n_sim):
        groups = [rng.normal(m, 1, n) for m in effects]
        e = ci.stats.anova_oneway(*groups, equal_var=True).effect_size("eta_squared")
        hits += e.ci_low <= eta_pop <= e.ci_high
    assert abs(hits / n_sim - 0.95) < 3 * np.sqrt(0.95 * 0.05 / n_sim) + 0.01
    assert k == len(effects)


def test_mapping_of_samples_names_groups():
    rng = np.random.default_rng(9)
    a, b, c = rng.normal(size=8), rng.normal(size=9), rng.normal(1, 1, 10)
    r = ci.stats.tukey_hsd({"ctrl": a, "low": b, "high": c})
    assert r.terms["term"].tolist() == ["low-ctrl", "high-ctrl", "high-low"]
    assert ci.stats.anova_oneway({"x": a, "y": b}).statistic == ci.stats.anova_oneway(a, b).statistic
    with pytest.raises(ci.DataError, match="at least 2"):
        ci.stats.kruskal_wallis({"x": a})
