"""Power and sample size against R's power.t.test / power.prop.test / power.anova.test (tests/reference/power.R)."""

from __future__ import annotations

import math

import pytest

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.stats import power_anova, power_prop_test, power_ttest

FUNCS = {"power_ttest": power_ttest, "power_prop_test": power_prop_test, "power_anova": power_anova}
QUANTITIES = {
    "power_ttest": ("n", "delta", "sd", "sig_level", "power"),
    "power_prop_test": ("n", "p1", "p2", "sig_level", "power"),
    "power_anova": ("groups", "n", "between_var", "within_var", "sig_level", "power"),
}


def _py_args(fn, args):
    out = {}
    for key, value in args.items():
        key = key.replace(".", "_")
        if isinstance(value, str):
            value = value.replace(".", "-")
        out[key] = value
    if fn != "power_anova":
        out.setdefault("power", None)
    if fn == "power_ttest" and "n" not in out:
        out["n"] = None
    if fn == "power_ttest" and "delta" not in out:
        out["delta"] = None
    if fn == "power_prop_test":
        for k in ("n", "p1", "p2"):
            out.setdefault(k, None)
    if fn == "power_anova":
        for k in ("groups", "n", "between_var", "within_var", "power"):
            out.setdefault(k, None)
    return out


def test_against_r(reference):
    ref = reference("power")
    assert len(ref["cases"]) >= 25
    for case in ref["cases"]:
        fn = case["fn"]
        kwargs = _py_args(fn, case["args"])
        r = FUNCS[fn](**kwargs)
        solved = r.details["solved_for"]
        assert kwargs[solved] is None
        for q in QUANTITIES[fn]:
            assert r.details[q] == pytest.approx(case[q], rel=1e-8), (fn, case["args"], q)
        assert r.estimate == pytest.approx(case[solved], rel=1e-8)
        check_result(r)


def test_estimand_and_rounding():
    r = power_ttest(delta=0.5, power=0.8)
    assert r.estimand.startswith("sample size per group needed for 80% power")
    assert r.details["n_rounded_up"] == math.ceil(r.estimate)
    assert r.method == "Two-sample t test power calculation (two-sided)"
    assert power_ttest(n=r.details["n_rounded_up"], delta=0.5).estimate >= 0.8
    assert power_ttest(n=20, delta=-1.0).estimate == power_ttest(n=20, delta=1.0).estimate  # two-sided uses |delta|


def test_strict_adds_wrong_direction():
    loose = power_ttest(n=5, delta=0.1).estimate
    strict = power_ttest(n=5, delta=0.1, strict=True).estimate
    assert strict > loose


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: power_ttest(n=20), ci.ArgumentError, "exactly one of"),
        (lambda: power_ttest(n=20, delta=1, power=0.8), ci.ArgumentError, "exactly one of"),
        (lambda: power_ttest(n=20, delta=1, sig_level=1.5), ci.ArgumentError, "`sig_level`"),
        (lambda: power_ttest(delta=1, power=0.0), ci.ArgumentError, "`power`"),
        (lambda: power_ttest(n=0, delta=1), ci.ArgumentError, "`n`"),
        (lambda: power_ttest(n=20, delta=1, sd=-1), ci.ArgumentError, "`sd`"),
        (lambda: power_ttest(n=20, delta="big"), ci.ArgumentTypeError, "`delta`"),
        (lambda: power_ttest(n=20, delta=1, type="welch"), ci.ArgumentError, "`type`"),
        (lambda: power_ttest(n=20, delta=1, alternative="less"), ci.ArgumentError, "`alternative`"),
        (lambda: power_prop_test(n=50, p1=0.5, p2=1.2), ci.ArgumentError, "`p2`"),
        (lambda: power_prop_test(p1=0.5, p2=0.75), ci.ArgumentError, "exactly one of"),
        (lambda: power_anova(groups=1, n=5, between_var=1, within_var=3), ci.ArgumentError, "`groups`"),
        (lambda: power_anova(groups=3, between_var=1e-9, within_var=3, power=0.8), ci.ArgumentError, "`n`"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
