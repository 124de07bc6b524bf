"""Conformal predictors: scikit-learn conventions, chunked use, bad input, and coverage by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, QuantileRegressor, Ridge

import causalinfer as ci
from causalinfer.predict import ConformalizedQuantileRegressor, JackknifePlusRegressor, SplitConformalClassifier, SplitConformalRegressor


def _reg_data(n, rng, hetero=False):
    X = rng.uniform(-2, 2, size=(n, 3))
    noise = rng.normal(size=n) * (0.2 + np.abs(X[:, 0]) if hetero else 1.0)
    return X, X @ np.array([1.5, -1.0, 0.5]) + noise


def _clf_data(n, rng, k=3):
    X = rng.normal(size=(n, 2))
    logits = np.column_stack([X[:, 0], X[:, 1], -X[:, 0] - X[:, 1]])[:, :k] * 1.5
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in p])
    return X, y


def test_conventions_clone_and_no_mutation():
    rng = np.random.default_rng(0)
    X, y = _reg_data(300, rng)
    base = Ridge(alpha=2.0)
    cp = SplitConformalRegressor(base, alpha=0.2, random_state=1)
    assert cp.get_params()["alpha"] == 0.2 and not hasattr(cp, "estimator_")
    cp.fit(X, y)
    assert not hasattr(base, "coef_"), "the caller's estimator must not be fitted"
    assert cp.estimator_ is not base and cp.n_calibration_ == 75
    assert np.all(np.diff(cp.conformity_scores_) >= 0)
    c2 = clone(cp)
    assert not hasattr(c2, "estimator_") and c2.get_params()["random_state"] == 1
    again = SplitConformalRegressor(Ridge(alpha=2.0), alpha=0.2, random_state=1).fit(X, y)
    np.testing.assert_array_equal(again.predict_interval(X[:5]), cp.predict_interval(X[:5]))


def test_frame_columns_and_chunks_agree():
    rng = np.random.default_rng(1)
    X, y = _reg_data(400, rng)
    df = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(400) + 1000)
    cp = SplitConformalRegressor(LinearRegression(), random_state=0).fit(df, y)
    full = cp.predict_frame(df)
    assert list(full.columns) == ["prediction", "lower", "upper"] and full.index.equals(df.index)
    parts = pd.concat([cp.predict_frame(df.iloc[i : i + 64]) for i in range(0, 400, 64)])
    pd.testing.assert_frame_equal(parts, full)
    iv = cp.predict_interval(df)
    np.testing.assert_allclose(iv[:, 1] - iv[:, 0], 2 * cp.quantile())
    narrower = cp.predict_interval(df, alpha=0.3)
    assert np.all(narrower[:, 1] - narrower[:, 0] <= iv[:, 1] - iv[:, 0])


def test_prefit_and_recalibrate():
    rng = np.random.default_rng(2)
    X, y = _reg_data(300, rng)
    model = LinearRegression().fit(X[:150], y[:150])
    coef = model.coef_.copy()
    cp = SplitConformalRegressor(model, prefit=True).fit(X[150:], y[150:])
    assert cp.estimator_ is model and cp.n_calibration_ == 150
    np.testing.assert_array_equal(model.coef_, coef)
    cp.calibrate(X[150:200], y[150:200])
    assert cp.n_calibration_ == 50


def test_normalized_intervals_adapt_to_heteroscedasticity():
    rng = np.random.default_rng(3)
    X, y = _reg_data(1500, rng, hetero=True)
    cp = SplitConformalRegressor(
        LinearRegression(),
        conformity_score="normalized",
        scale_estimator=GradientBoostingRegressor(n_estimators=50, max_depth=2, random_state=0),
        random_state=0,
    ).fit(X, y)
    calm = np.array([[0.0, 0.0, 0.0]])
    wild = np.array([[1.9, 0.0, 0.0]])
    w = lambda x: float(np.diff(cp.predict_interval(x))[0, 0])  # noqa: E731
    assert w(wild) > 2 * w(calm)


def test_cqr_single_estimator_and_pair():
    rng = np.random.default_rng(4)
    X, y = _reg_data(300, rng, hetero=True)
    qr = QuantileRegressor(alpha=0.0, solver="highs")
    cqr = ConformalizedQuantileRegressor(qr, alpha=0.1, random_state=0).fit(X, y)
    assert cqr.lower_estimator_.quantile == 0.05 and cqr.upper_estimator_.quantile == 0.95
    assert qr.quantile == 0.5, "the caller's estimator keeps its parameters"
    lo = QuantileRegressor(quantile=0.05, alpha=0.0, solver="highs").fit(X[:200], y[:200])
    hi = QuantileRegressor(quantile=0.95, alpha=0.0, solver="highs").fit(X[:200], y[:200])
    pre = ConformalizedQuantileRegressor((lo, hi), prefit=True).fit(X[200:], y[200:])
    f = pre.predict_frame(X[:4])
    assert (f["lower"] <= f["prediction"]).all() and (f["prediction"] <= f["upper"]).all()
    with pytest.raises(ci.ArgumentError, match="no quantile parameter"):
        ConformalizedQuantileRegressor(Ridge()).fit(X, y)


@pytest.mark.parametrize("method", ["lac", "aps"])
def test_classifier_sets(method):
    rng = np.random.default_rng(5)
    X, y = _clf_data(600, rng)
    labels = np.array(["low", "mid", "top"])[y]
    cp = SplitConformalClassifier(LogisticRegression(), method=method, alpha=0.1, random_state=0).fit(X, labels)
    sets = cp.predict_set(X[:50])
    assert sets.shape == (50, 3) and sets.dtype == bool
    f = cp.predict_frame(X[:50])
    assert list(f.columns) == ["prediction", "set_size", "in_set_low", "in_set_mid", "in_set_top"]
    np.testing.assert_array_equal(f["set_size"], sets.sum(axis=1))
    with pytest.raises(ci.DataError, match="never saw"):
        cp.calibrate(X[:5], np.array(["low", "mid", "top", "other", "low"]))


def test_jackknife_plus_matches_definition():
    rng = np.random.default_rng(6)
    X, y = _reg_data(30, rng)
    jp = JackknifePlusRegressor(LinearRegression(), alpha=0.1, method="jackknife+").fit(X, y)
    x0 = X[:1] + 0.1
    mus = np.array([m.predict(x0)[0] for m in jp.models_])
    lows = np.sort(mus - jp.residuals_)
    highs = np.sort(mus + jp.residuals_)
    n = 30
    expect = (lows[int(np.floor(0.1 * (n + 1))) - 1], highs[int(np.ceil(0.9 * (n + 1))) - 1])
    np.testing.assert_allclose(jp.predict_interval(x0)[0], expect)
    cv = JackknifePlusRegressor(LinearRegression(), n_folds=5, random_state=0).fit(X, y)
    assert len(cv.models_) == 5 and set(cv.fold_) == set(range(5))


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (
            lambda: SplitConformalRegressor(LinearRegression(), alpha=0.01, calibration_size=50),
            ci.DataError,
            "at least 99 calibration points",
        ),
        (lambda: SplitConformalRegressor(LinearRegression(), alpha=1.5), ci.ArgumentError, "alpha"),
        (lambda: SplitConformalRegressor(LinearRegression(), conformity_score="relative"), ci.ArgumentError, "must be one of"),
        (lambda: SplitConformalRegressor("not a model"), ci.ArgumentTypeError, "estimator"),
        (lambda: SplitConformalRegressor(LinearRegression(), calibration_size=1.0), ci.ArgumentError, "calibration_size"),
        (lambda: SplitConformalClassifier(Ridge()), ci.ArgumentTypeError, "predict_proba"),
        (lambda: SplitConformalClassifier(LogisticRegression(), method="lac", randomized=True), ci.ArgumentError, "randomized"),
        (lambda: JackknifePlusRegressor(LinearRegression(), alpha=0.001), ci.DataError, "training set has 200"),
    ],
)
def test_bad_input(make, exc, match):
    rng = np.random.default_rng(7)
    X, y = _reg_data(200, rng)
    if "Classifier" in repr(make()):
        y = (y > 0).astype(int)
    with pytest.raises(exc, match=match):
        make().fit(X, y)


def test_not_fitted_and_label_problems():
    cp = SplitConformalRegressor(LinearRegression())
    with pytest.raises(ci.ArgumentError, match="not fitted"):
        cp.predict_interval(np.zeros((2, 3)))
    X = np.zeros((20, 3))
    with pytest.raises(ci.DataError, match="requires y to be passed"):
        cp.fit(X, None)
    with pytest.raises(ci.DataError, match="missing"):
        cp.fit(X, np.r_[np.nan, np.ones(19)])
    with pytest.raises(ci.DataError, match="one value per row"):
        cp.fit(X, np.ones(19))


# ---------------------------------------------------------------------- coverage simulations
def _coverage_bounds(covs, alpha, n_cal, n_test):
    """Mean coverage must lie in [1 - alpha, 1 - alpha + 1/(n+1)] up to Monte Carlo error."""
    se = covs.std(ddof=1) / np.sqrt(covs.size)
    mean = covs.mean()
    assert mean >= 1 - alpha - 3.5 * se, (mean, se)
    assert mean <= 1 - alpha + 1 / (n_cal + 1) + 3.5 * se, (mean, se)
    return mean


@pytest.mark.slow
@pytest.mark.parametrize(("score", "hetero"), [("absolute", False), ("absolute", True), ("normalized", True)])
def test_split_conformal_regression_coverage(score, hetero):
    rng = np.random.default_rng(11)
    alpha, n_cal, n_test, reps = 0.1, 100, 400, 400
    Xtr, ytr = _reg_data(500, rng, hetero=hetero)
    model = LinearRegression().fit(Xtr, ytr)
    scale = None
    if score == "normalized":
        scale = GradientBoostingRegressor(n_estimators=40, max_depth=2, random_state=0).fit(Xtr, np.abs(ytr - model.predict(Xtr)))
    cp = SplitConformalRegressor(model, conformity_score=score, scale_estimator=scale, alpha=alpha, prefit=True)
    Xp, yp = _reg_data(reps * (n_cal + n_test), rng, hetero=hetero)
    covs = np.empty(reps)
    for r in range(reps):
        s = r * (n_cal + n_test)
        cp.calibrate(Xp[s : s + n_cal], yp[s : s + n_cal])
        iv = cp.predict_interval(Xp[s + n_cal : s + n_cal + n_test])
        yt = yp[s + n_cal : s + n_cal + n_test]
        covs[r] = np.mean((iv[:, 0] <= yt) & (yt <= iv[:, 1]))
    _coverage_bounds(covs, alpha, n_cal, n_test)


@pytest.mark.slow
def test_cqr_coverage_heteroscedastic():
    rng = np.random.default_rng(12)
    alpha, n_cal, n_test, reps = 0.1, 100, 400, 300
    Xtr, ytr = _reg_data(600, rng, hetero=True)
    gb = GradientBoostingRegressor(loss="quantile", n_estimators=60, max_depth=2, random_state=0)
    pair = (clone(gb).set_params(alpha=0.05).fit(Xtr, ytr), clone(gb).set_params(alpha=0.95).fit(Xtr, ytr))
    cqr = ConformalizedQuantileRegressor(pair, alpha=alpha, prefit=True)
    Xp, yp = _reg_data(reps * (n_cal + n_test), rng, hetero=True)
    covs = np.empty(reps)
    for r in range(reps):
        s = r * (n_cal + n_test)
        cqr.calibrate(Xp[s : s + n_cal], yp[s : s + n_cal])
        iv = cqr.predict_interval(Xp[s + n_cal : s + n_cal + n_test])
        yt = yp[s + n_cal : s + n_cal + n_test]
        covs[r] = np.mean((iv[:, 0] <= yt) & (yt <= iv[:, 1]))
    _coverage_bounds(covs, alpha, n_cal, n_test)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "randomized"), [("lac", False), ("aps", False), ("aps", True)])
def test_classification_coverage(method, randomized):
    rng = np.random.default_rng(13)
    alpha, n_cal, n_test, reps = 0.1, 150, 300, 300
    Xtr, ytr = _clf_data(600, rng)
    model = LogisticRegression().fit(Xtr, ytr)
    cp = SplitConformalClassifier(model, method=method, randomized=randomized, alpha=alpha, prefit=True, random_state=0)
    Xp, yp = _clf_data(reps * (n_cal + n_test), rng)
    covs = np.empty(reps)
    for r in range(reps):
        s = r * (n_cal + n_test)
        cp.calibrate(Xp[s : s + n_cal], yp[s : s + n_cal])
        sets = cp.predict_set(Xp[s + n_cal : s + n_cal + n_test])
        yt = yp[s + n_cal : s + n_cal + n_test]
        covs[r] = sets[np.arange(n_test), yt].mean()
    _coverage_bounds(covs, alpha, n_cal, n_test)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["jackknife+", "cv+"])
def test_jackknife_plus_coverage_small_data(method):
    rng = np.random.default_rng(14)
    alpha, n, n_test = 0.1, 30, 200
    reps = 100 if method == "jackknife+" else 200
    covs = np.empty(reps)
    for r in range(reps):
        X, y = _reg_data(n + n_test, rng)
        jp = JackknifePlusRegressor(LinearRegression(), alpha=alpha, method=method, n_folds=10, random_state=r).fit(X[:n], y[:n])
        iv = jp.predict_interval(X[n:])
        covs[r] = np.mean((iv[:, 0] <= y[n:]) & (y[n:] <= iv[:, 1]))
    se = covs.std(ddof=1) / np.sqrt(reps)
    # guaranteed: >= 1 - 2 alpha; in practice close to 1 - alpha (Barber et al. 2021)
    assert covs.mean() >= 1 - alpha - 3.5 * se
    assert covs.mean() <= 1 - alpha + 0.06
