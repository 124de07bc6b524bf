"""Synthetic control: the exact simplex solver, the nested fit against pysyncon, inference, diagnostics, bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_settings import examples
from reference_data import load_reference
from scipy.optimize import minimize

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged
from causalinfer.designs._synth_core import nested_fit, simplex_ls, simplex_qp, standardise

TEXAS_PREDICTORS = [
    "poverty",
    "income",
    ("bmprison", [1988, 1990, 1991, 1992]),
    ("alcohol", [1990]),
    ("aidscapita", [1990, 1991]),
    ("black", [1990, 1991, 1992]),
    ("perc1519", [1990]),
]
PRE = list(range(1985, 1994))


def _panel(n_units=10, n_times=10, effect=3.0, seed=0):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n_times, 2)).cumsum(0)
    load = rng.uniform(0, 1, size=(n_units, 2))
    y = load @ f.T + rng.normal(scale=0.2, size=(n_units, n_times))
    y[0, n_times - 4 :] += effect
    return pd.DataFrame(
        {
            "u": np.repeat(np.arange(n_units), n_times),
            "t": np.tile(np.arange(2000, 2000 + n_times), n_units),
            "y": y.ravel(),
            "x": rng.normal(size=n_units * n_times),
        }
    )


KW = dict(outcome="y", unit="u", time="t", treated_unit=0, treatment_time=2006)


def _kkt_gap(A, b, w):
    """How far w is from the KKT conditions of min ||Aw - b||^2 on the simplex (0 at the optimum)."""
    g = A.T @ (A @ w - b)
    level = g @ w
    scale = 1 + np.abs(A).max() * (np.abs(A).max() + np.abs(b).max())
    return max(0.0, (level - g[w == 0]).max(initial=0.0)) / scale, np.abs(g[w > 0] - level).max() / scale


# ---------------------------------------------------------------------------------------------- the inner solver
@examples(30)
@given(k=st.integers(1, 10), J=st.integers(2, 40), seed=st.integers(0, 10_000))
def test_simplex_ls_is_exact_and_beats_slsqp(k, J, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(k, J))
    b = rng.normal(size=k) * rng.uniform(0.1, 3)
    w = simplex_ls(A, b)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-12)
    out, flat = _kkt_gap(A, b, w)
    assert out <= 1e-9 and flat <= 1e-9
    f = lambda x: float(np.sum((A @ x - b) ** 2))  # noqa: E731
    ref = minimize(
        f,
        np.full(J, 1 / J),
        jac=lambda x: 2 * A.T @ (A @ x - b),
        method="SLSQP",
        bounds=[(0, 1)] * J,
        constraints=[{"type": "eq", "fun": lambda x: x.sum() - 1}],
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    x = np.clip(ref.x, 0, None)
    x /= x.sum()  # SLSQP's point made feasible, so both are compared on the simplex
    assert f(w) <= f(x) + 1e-9 * (1 + f(x))


def test_simplex_ls_warm_start_and_qp_form_agree():
    rng = np.random.default_rng(3)
    A, b = rng.normal(size=(6, 30)), rng.normal(size=6)
    cold = simplex_ls(A, b)
    warm = simplex_ls(A, b, np.full(30, 1 / 30))
    assert np.sum((A @ cold - b) ** 2) == pytest.approx(np.sum((A @ warm - b) ** 2), rel=1e-10)
    qp = simplex_qp(A.T @ A, A.T @ b)
    assert np.sum((A @ qp - b) ** 2) == pytest.approx(np.sum((A @ cold - b) ** 2), rel=1e-8)


def test_treated_equal_to_a_donor_gets_all_weight():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(5, 12))
    w = simplex_ls(A, A[:, 4].copy())
    assert w[4] == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------- the nested fit
def test_texas_objective_at_least_as_good_as_pysyncon():
    ref = load_reference("synth_pysyncon")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        r = ci.designs.synthetic_control(
            ci.load_dataset("texas"),
            treated_unit=48,
            treatment_time=1994,
            predictors=TEXAS_PREDICTORS,
            predictor_periods=PRE,
            fit_periods=PRE,
            placebo=False,
        )
    ours = r.details["loss"]
    for start in ("equal", "ols"):
        theirs = ref[f"texas_{start}"]["loss_V"]
        assert ours <= theirs * (1 + 1e-9), f"pysyncon ({start}) found {theirs}, we {ours}"
    # our weights reproduce our loss (no stale state)
    g = r.details["gaps"]
    pre = g[g["period"].isin(PRE)]
    assert np.mean(pre["gap"] ** 2) == pytest.approx(ours, rel=1e-10)


@pytest.mark.parametrize("outside", [0.8, 5.0], ids=["inside-hull", "outside-hull"])
def test_nested_fit_never_worse_than_its_starts(outside):
    rng = np.random.default_rng(5)
    X0 = rng.normal(size=(4, 15))
    X1 = X0[:, :3].mean(1) + rng.normal(scale=outside, size=4)
    Z0 = rng.normal(size=(6, 15))
    Z1 = Z0[:, :2].mean(1) + rng.normal(scale=0.1, size=6)
    x1, x0 = standardise(X1, X0)
    fit = nested_fit(x1, x0, Z1, Z0)
    for v in (np.full(4, 0.25), np.array([0.7, 0.1, 0.1, 0.1]), np.array([0.1, 0.1, 0.1, 0.7])):
        w = simplex_ls(x0 * np.sqrt(v)[:, None], x1 * np.sqrt(v))
        assert fit.loss <= np.mean((Z1 - Z0 @ w) ** 2) + 1e-12
    assert fit.v.sum() == pytest.approx(1.0) and fit.w.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------------------------------- the estimator
@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        return ci.designs.synthetic_control(
            _panel(), predictors=["x", ("y", [2001, 2003]), ("y", [2005])], method="regression", leave_one_out=True, **KW
        )


def test_result_contract(fitted):
    check_result(fitted)
    assert fitted.effect == "ATT (synthetic control)"
    d = fitted.details
    assert set(d) >= {"weights", "gaps", "placebos", "placebo_gaps", "balance", "predictor_weights", "leave_one_out", "loss"}
    assert d["weights"]["weight"].sum() == pytest.approx(1.0)
    assert (d["weights"]["weight"] >= 0).all()
    assert {x.name for x in fitted.diagnostics} == {"pre-treatment fit", "weight concentration", "convex hull"}


def test_estimate_is_mean_post_gap_and_placebo_pvalue_is_rank(fitted):
    g = fitted.details["gaps"]
    assert fitted.estimate == pytest.approx(g.loc[g["post"], "gap"].mean(), rel=1e-12)
    pl = fitted.details["placebos"]
    treated = pl[pl["treated"]].iloc[0]
    assert fitted.statistic == pytest.approx(treated["ratio"])
    n = len(pl)
    assert fitted.pvalue == pytest.approx((pl["ratio"] >= treated["ratio"]).sum() / n)
    assert fitted.std_error == pytest.approx(pl.loc[~pl["treated"], "mean_post_gap"].std(ddof=1))
    # a unit with a real effect of 3 sd stands out among the placebos
    assert int(treated["rank"]) == 1 and fitted.pvalue == pytest.approx(1 / n)


def test_interval_inverts_the_placebo_test():
    frame = _panel(n_units=25, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        r = ci.designs.synthetic_control(frame, method="outcome", **KW)
    a = np.sort(np.abs(r.details["placebos"].loc[lambda t: ~t["treated"], "mean_post_gap"].to_numpy()))
    c = a[math.ceil(25 * 0.95) - 1]
    assert (r.ci_low, r.ci_high) == pytest.approx((r.estimate - c, r.estimate + c))
    check_nested_intervals(ci.designs.synthetic_control, frame, method="outcome", **KW)


def test_too_few_donors_for_the_level_gives_an_infinite_interval():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        r = ci.designs.synthetic_control(_panel(n_units=8), method="outcome", conf_level=0.95, **KW)
    assert r.ci == (-math.inf, math.inf)


@pytest.mark.parametrize("method", ["nested", "regression", "equal", "outcome"])
def test_methods_run_and_leave_data_unchanged(method):
    frame = _panel(n_units=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        r = check_unchanged(
            frame, lambda f: ci.designs.synthetic_control(f, predictors=["x", ("y", [2004, 2005])], method=method, placebo=False, **KW)
        )
    assert r.method.startswith("Synthetic control (")
    assert math.isnan(r.pvalue) and math.isfinite(r.estimate)


def test_outcome_method_minimises_pre_mspe_over_all_weights():
    frame = _panel(n_units=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        best = ci.designs.synthetic_control(frame, method="outcome", placebo=False, **KW).details["loss"]
        for method in ("nested", "regression", "equal"):
            r = ci.designs.synthetic_control(frame, predictors=["x", ("y", [2004, 2005])], method=method, placebo=False, **KW)
            assert best <= r.details["loss"] + 1e-12


def test_text_labels_and_shuffled_rows_give_the_same_answer():
    frame = _panel(n_units=8)
    names = {i: f"unit{i}" for i in range(8)}
    relabelled = frame.assign(u=frame["u"].map(names)).sample(frac=1.0, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        a = ci.designs.synthetic_control(frame, method="outcome", **KW)
        b = ci.designs.synthetic_control(relabelled, method="outcome", **{**KW, "treated_unit": "unit0"})
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
    assert a.pvalue == b.pvalue


def test_refute_placebo_in_time_and_donor_subsets(fitted):
    ref = fitted.refute(["placebo", "subset"], n_simulations=4, random_state=0, progress=False)
    check_result(ref)
    placebo = ref[0]
    assert placebo.refuter == "placebo" and "placebo in time" in placebo.method
    assert abs(placebo.estimate) < abs(fitted.estimate)


def test_sensitivity_says_why_it_does_not_apply(fitted):
    with pytest.raises(ci.ArgumentError, match="do not apply to synthetic_control"):
        fitted.sensitivity("robustness_value")


def test_convex_hull_warning_when_treated_is_above_every_donor():
    frame = _panel(n_units=8)
    frame.loc[frame["u"] == 0, "y"] += 100
    with pytest.warns(ci.AssumptionWarning, match="convex hull"):
        r = ci.designs.synthetic_control(frame, method="outcome", placebo=False, **KW)
    assert r.diagnostic("convex hull").status == "warn"
    assert r.diagnostic("pre-treatment fit").status == "warn"


# ---------------------------------------------------------------------------------------------- bad input
def test_donor_pool_smaller_than_predictors():
    frame = _panel(n_units=4)
    frame = frame.assign(x2=frame["x"] ** 2, x3=np.sin(frame["x"]))
    with pytest.raises(ci.ArgumentError, match=r"donor pool \(3 units\) is smaller than the number of predictors \(4\)"):
        ci.designs.synthetic_control(frame, predictors=["x", "x2", "x3", ("y", [2005])], **KW)


def test_unbalanced_panel_names_the_units():
    frame = _panel(n_units=8)
    frame = frame[~((frame["u"].isin([3, 5])) & (frame["t"] == 2002))]
    with pytest.raises(ci.DataError, match=r"unbalanced panel: 2 unit\(s\) lack some of the 10 periods: 3, 5.*donors="):
        ci.designs.synthetic_control(frame, method="outcome", **KW)
    r = ci.designs.synthetic_control(frame, method="outcome", donors=[1, 2, 4, 6, 7], placebo=False, **KW)
    assert math.isfinite(r.estimate)


def test_treated_unit_missing():
    with pytest.raises(ci.ArgumentError, match=r"`treated_unit` = 42 is not a unit of the panel"):
        ci.designs.synthetic_control(_panel(), **{**KW, "treated_unit": 42})
    with pytest.raises(ci.ArgumentError, match="needs `treated_unit`"):
        ci.designs.synthetic_control(_panel(), outcome="y", unit="u", time="t", treatment_time=2006)


def test_too_few_pre_periods():
    with pytest.raises(ci.ArgumentError, match=r"`treatment_time` = 2001 leaves 1 period\(s\) before treatment.*at least 2"):
        ci.designs.synthetic_control(_panel(), **{**KW, "treatment_time": 2001})


def test_treatment_time_not_a_period_and_predictor_periods_after_treatment():
    with pytest.raises(ci.ArgumentError, match=r"`treatment_time` = 2006.5 is not a period of 't'.*e.g. 2007"):
        ci.designs.synthetic_control(_panel(), **{**KW, "treatment_time": 2006.5})
    with pytest.raises(ci.ArgumentError, match=r"`predictors` includes period 2007, which is not before `treatment_time`"):
        ci.designs.synthetic_control(_panel(), predictors=[("y", [2005, 2007])], **KW)


def test_donor_problems():
    with pytest.raises(ci.ArgumentError, match="`donors` includes the treated unit 0"):
        ci.designs.synthetic_control(_panel(), donors=[0, 1, 2], **KW)
    with pytest.raises(ci.ArgumentError, match=r"`donors` = 99 is not a unit"):
        ci.designs.synthetic_control(_panel(), donors=[1, 99], **KW)


def test_missing_predictor_values_are_refused():
    frame = _panel()
    frame.loc[3, "x"] = np.nan
    with pytest.raises(ci.DataError, match="x"):
        ci.designs.synthetic_control(frame, predictors=["x"], **KW)


@pytest.mark.parametrize("kind", ["gaps", "trajectory", "weights"])
def test_plots(fitted, kind):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = ci.designs.plot_synth(fitted, kind=kind, max_pre_rmspe_ratio=5.0 if kind == "gaps" else None)
    assert ax.get_title()
    plt.close("all")


def test_plot_refuses_other_results():
    r = ci.designs.twfe(ci.load_dataset("castle"))
    with pytest.raises(ci.ArgumentTypeError, match="not a synthetic control result"):
        ci.designs.plot_synth(r)


def test_texas_known_results_in_the_data_card():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        r = ci.designs.synthetic_control(
            ci.load_dataset("texas"),
            treated_unit=48,
            treatment_time=1994,
            predictors=TEXAS_PREDICTORS,
            predictor_periods=PRE,
            fit_periods=PRE,
        )
    assert round(r.details["loss"]) == 1034810
    assert round(r.estimate, 1) == 22804.6
    assert r.pvalue == pytest.approx(2 / 51)
    assert ci.data_card("texas").rows == 816
