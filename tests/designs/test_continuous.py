"""Continuous treatments against R (tests/reference/continuous.R -> continuous.json) and by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged


@pytest.fixture(scope="module")
def ref():
    from reference_data import load_reference

    return load_reference("continuous")


def test_dose_response_against_r(ref):
    sim = pd.DataFrame(ref["sim"])
    for case in ref["cases"]:
        want = case["expected"]
        r = ci.designs.dose_response(
            sim,
            outcome="y",
            treatment="d",
            covariates=["x1", "x2"],
            degree=case["degree"],
            cov_type=case["cov_type"],
            cluster="g" if case["cov_type"] == "cluster" else None,
        )
        np.testing.assert_allclose(r.terms["estimate"], want["coef"], rtol=1e-9)
        np.testing.assert_allclose(r.terms["std_error"], want["se"], rtol=1e-9)
        assert r.estimate == pytest.approx(want["ame"], rel=1e-9)
        assert r.std_error == pytest.approx(want["ame_se"], rel=1e-9)
        assert r.df == want["df"]
        check_result(r)


def test_dml_against_hand_crossfitting_in_r(ref):
    sim = pd.DataFrame(ref["sim"])
    r = check_unchanged(
        sim,
        lambda f: ci.designs.partially_linear_dml(
            f, outcome="y", treatment="d", covariates=["x1", "x2"], model_y=LinearRegression(), model_t=LinearRegression(), folds=f["folds"]
        ),
    )
    assert r.estimate == pytest.approx(ref["dml"]["theta"], rel=1e-9)
    assert r.std_error == pytest.approx(ref["dml"]["se"], rel=1e-9)
    check_result(r)


def test_dml_default_forest_is_seeded_and_learners_unchanged():
    rng = np.random.default_rng(3)
    n = 200
    x = rng.normal(size=(n, 2))
    d = np.sin(2 * x[:, 0]) + rng.normal(size=n)
    y = 1.0 * d + np.cos(2 * x[:, 0]) + x[:, 1] ** 2 + rng.normal(size=n)
    df = pd.DataFrame({"y": y, "d": d, "x1": x[:, 0], "x2": x[:, 1]})
    kw = dict(outcome="y", treatment="d", covariates=["x1", "x2"], random_state=7, n_folds=2)
    r1 = ci.designs.partially_linear_dml(df, **kw)
    assert r1.ci_low < 1.0 < r1.ci_high
    assert "RandomForestRegressor" in r1.method
    from sklearn.ensemble import RandomForestRegressor

    small = RandomForestRegressor(n_estimators=10, random_state=0)
    r2, r3 = (ci.designs.partially_linear_dml(df, model_y=small, model_t=small, **kw) for _ in range(2))
    assert r2.estimate == r3.estimate
    assert r1.provenance.random_state == 7
    lr = LinearRegression()
    ci.designs.partially_linear_dml(df, outcome="y", treatment="d", covariates=["x1"], model_y=lr, model_t=lr)
    assert not hasattr(lr, "coef_")  # cloned, never fitted in place
    check_nested_intervals(ci.designs.partially_linear_dml, df, outcome="y", treatment="d", covariates=["x1", "x2"], model_y=lr, model_t=lr)


@pytest.mark.slow
def test_dml_coverage_with_flexible_linear_learners():
    """Nonlinear confounding handled by polynomial features; intervals cover the true effect about 95% of the time."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    learner = make_pipeline(PolynomialFeatures(3), LinearRegression())
    rng = np.random.default_rng(21)
    hits, reps = 0, 100
    for _ in range(reps):
        n = 300
        x = rng.uniform(-1, 1, size=(n, 2))
        d = x[:, 0] ** 2 + 0.5 * x[:, 1] + rng.normal(size=n)
        y = 0.7 * d + x[:, 0] ** 3 - x[:, 0] * x[:, 1] + rng.normal(size=n)
        df = pd.DataFrame({"y": y, "d": d, "a": x[:, 0], "b": x[:, 1]})
        r = ci.designs.partially_linear_dml(
            df,
            outcome="y",
            treatment="d",
            covariates=["a", "b"],
            model_y=learner,
            model_t=learner,
            n_folds=2,
            random_state=int(rng.integers(1 << 30)),
        )
        hits += r.ci_low <= 0.7 <= r.ci_high
    assert 0.89 <= hits / reps <= 0.99


def test_dose_response_detects_curvature(ref):
    sim = pd.DataFrame(ref["sim"])
    with pytest.warns(ci.AssumptionWarning, match="not linear in the dose"):
        r = ci.designs.dose_response(sim, outcome="y", treatment="d", covariates=["x1", "x2"])
    assert r.diagnostic("linearity in the dose").status == "warn"
    assert len(r.details["curve"]) == 25


@pytest.mark.parametrize(
    ("func", "change", "exc", "match"),
    [
        ("partially_linear_dml", dict(covariates=None), ci.RoleError, "needs the `covariates` role"),
        ("partially_linear_dml", dict(model_y="forest"), ci.ArgumentTypeError, "`model_y` must be a scikit-learn regressor"),
        ("partially_linear_dml", dict(folds=[1, 2]), ci.ArgumentError, "one fold label per row"),
        ("partially_linear_dml", dict(n_folds=1), ci.ArgumentError, "`n_folds` must be an integer >= 2"),
        ("dose_response", dict(degree=0), ci.ArgumentError, "`degree` must be an integer >= 1"),
        ("dose_response", dict(treatment="binary", degree=2), ci.DataError, "takes 2 distinct value"),
    ],
)
def test_bad_input(ref, func, change, exc, match):
    sim = pd.DataFrame(ref["sim"]).assign(binary=lambda f: (f.d > 1).astype(int))
    kw = dict(outcome="y", treatment="d", covariates=["x1", "x2"])
    kw.update(change)
    with pytest.raises(exc, match=match):
        getattr(ci.designs, func)(sim, **kw)
