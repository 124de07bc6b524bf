"""Meta-learners and subgroup effects against R (tests/reference/cate.R -> cate.json) and by simulation."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged


def _logit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000)


@pytest.fixture(scope="module")
def ref():
    from reference_data import load_reference

    return load_reference("cate")


def test_against_r(ref):
    sim = pd.DataFrame(ref["sim"])
    want = ref["expected"]
    kw = dict(
        outcome="y", treatment="t", covariates=["x1", "x2"], outcome_model=LinearRegression(), propensity_model=_logit(), folds=sim["folds"]
    )
    r = check_unchanged(sim, lambda f: ci.designs.cate(f, learner="t", subgroups="grp", **kw))
    np.testing.assert_allclose(r.details["cate"]["propensity"], want["propensity"], rtol=1e-6)
    np.testing.assert_allclose(r.details["cate"]["cate"], want["tau_t"], rtol=1e-9, atol=1e-12)
    assert r.estimate == pytest.approx(want["ate"], rel=1e-6)
    assert r.std_error == pytest.approx(want["ate_se"], rel=1e-6)
    for row, sub in zip(r.terms.itertuples(), want["subgroups"], strict=True):
        assert row.term == f"grp={sub['level']}"
        assert row.estimate == pytest.approx(sub["effect"], rel=1e-6)
        assert row.std_error == pytest.approx(sub["se"], rel=1e-6)
    check_result(r)


@pytest.mark.parametrize("learner", ["s", "t", "x", "dr"])
def test_learners_recover_heterogeneity(learner):
    rng = np.random.default_rng(8)
    n = 1500
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x))).astype(int)
    y = x + t * (1 + x) + rng.normal(size=n)
    df = pd.DataFrame({"y": y, "t": t, "x": x, "high": (x > 0).astype(int)})
    # the S-learner needs the interaction as a feature to express heterogeneity with a linear model
    model = LinearRegression()
    if learner == "s":
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import PolynomialFeatures

        model = make_pipeline(PolynomialFeatures(2, interaction_only=True), LinearRegression())
    r = ci.designs.cate(
        df,
        outcome="y",
        treatment="t",
        covariates="x",
        learner=learner,
        outcome_model=model,
        final_model=LinearRegression(),
        subgroups="high",
        n_folds=3,
    )
    tau = r.details["cate"]["cate"].to_numpy()
    assert np.corrcoef(tau, 1 + x)[0, 1] > 0.95
    assert r.ci_low < 1.0 < r.ci_high
    truth = {0: 1 + x[x <= 0].mean(), 1: 1 + x[x > 0].mean()}
    for row, level in zip(r.terms.itertuples(), (0, 1), strict=True):
        assert row.ci_low < truth[level] < row.ci_high
    assert r.diagnostic("overlap").status == "ok"


def test_default_models_and_nested_intervals():
    rng = np.random.default_rng(1)
    n = 160
    x = rng.normal(size=(n, 2))
    t = rng.integers(0, 2, n)
    y = x[:, 0] + 2 * t + rng.normal(size=n)
    df = pd.DataFrame({"y": y, "t": t, "a": x[:, 0], "b": x[:, 1]})
    r = ci.designs.cate(df, outcome="y", treatment="t", covariates=["a", "b"], n_folds=2)
    assert "DR-learner" in r.method and "RandomForestRegressor" in r.method
    assert r.ci_low < 2 < r.ci_high
    check_result(r)
    check_nested_intervals(
        ci.designs.cate, df, outcome="y", treatment="t", covariates=["a", "b"], outcome_model=LinearRegression(), n_folds=2
    )


def test_poor_overlap_warns():
    rng = np.random.default_rng(2)
    n = 600
    x = rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-4 * x))).astype(int)
    y = x + t + rng.normal(size=n)
    with pytest.warns(ci.AssumptionWarning, match="overlap"):
        r = ci.designs.cate(
            pd.DataFrame({"y": y, "t": t, "x": x}), outcome="y", treatment="t", covariates="x", outcome_model=LinearRegression()
        )
    assert r.diagnostic("overlap").status == "warn"


@pytest.mark.slow
def test_subgroup_coverage():
    hits, reps = 0, 40
    rng = np.random.default_rng(33)
    for _ in range(reps):
        n = 300
        x = rng.normal(size=n)
        t = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x))).astype(int)
        y = x + t * (1 + x) + rng.normal(size=n)
        g = (x > 0).astype(int)
        df = pd.DataFrame({"y": y, "t": t, "x": x, "g": g})
        r = ci.designs.cate(
            df,
            outcome="y",
            treatment="t",
            covariates="x",
            learner="t",
            outcome_model=LinearRegression(),
            subgroups="g",
            n_folds=2,
            random_state=int(rng.integers(1 << 30)),
        )
        truth = 1 + x[g == 1].mean()
        row = r.terms.iloc[1]
        hits += row.ci_low <= truth <= row.ci_high
    assert hits / reps >= 0.85


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        (dict(learner="r"), ci.ArgumentError, "`learner` must be one of"),
        (dict(treatment="dose"), ci.RoleError, "must be 0/1 for cate"),
        (dict(subgroups="nope"), ci.RoleError, "`subgroups` names column 'nope'"),
        (dict(subgroups="alltreated"), ci.DataError, "has only treated units"),
        (dict(outcome_model="rf"), ci.ArgumentTypeError, "`outcome_model` must be a scikit-learn regressor"),
        (dict(covariates=None), ci.RoleError, "cate needs the `covariates` role"),
    ],
)
def test_bad_input(change, exc, match):
    rng = np.random.default_rng(0)
    n = 100
    t = rng.integers(0, 2, n)
    df = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "t": t,
            "x": rng.normal(size=n),
            "alltreated": np.where(t == 1, 1, np.arange(n) + 2),
            "dose": rng.normal(size=n),
        }
    )
    kw = dict(outcome="y", treatment="t", covariates="x", outcome_model=LinearRegression(), n_folds=2)
    kw.update(change)
    with pytest.raises(exc, match=match):
        ci.designs.cate(df, **kw)
