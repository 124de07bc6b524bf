"""Evaluation with confidence intervals: contract, bad input, performance by chunk, and interval coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result
from causalinfer.predict import PerformanceResult, compare_models, evaluate, performance_by_chunk


def _binary(n, rng, sep=1.0):
    y = rng.integers(0, 2, n)
    p = 1 / (1 + np.exp(-(sep * (2 * y - 1) + rng.normal(size=n))))
    return y, p


def test_binary_contract_and_nesting():
    rng = np.random.default_rng(0)
    y, p = _binary(300, rng)
    res = evaluate(y, p)
    check_result(res)
    assert res.labels == ("accuracy", "auc", "log_loss", "brier")
    assert res["accuracy"].method == "Accuracy with Wilson score interval"
    for r in res:
        check_result(r)
    for metric in ("accuracy", "auc", "brier"):
        check_nested_intervals(lambda *a, m=metric, **k: evaluate(*a, metrics=m, **k)[m], y, p)
    boot = evaluate(y, p, metrics="auc", auc_method="bootstrap", n_resamples=400, random_state=1)["auc"]
    assert boot.estimate == res["auc"].estimate and abs(boot.std_error - res["auc"].std_error) < 0.01
    two_col = evaluate(y, np.column_stack([1 - p, p]))
    assert two_col["auc"].estimate == res["auc"].estimate


def test_string_labels_and_hard_predictions():
    rng = np.random.default_rng(1)
    y, p = _binary(200, rng)
    labels = np.where(y == 1, "yes", "no")
    r1 = evaluate(labels, p, pos_label="yes")
    r0 = evaluate(y, p)
    assert r1["auc"].estimate == r0["auc"].estimate
    hard = evaluate(labels, np.where(p >= 0.5, "yes", "no"), metrics="accuracy")
    assert hard["accuracy"].estimate == r0["accuracy"].estimate


def test_multiclass_and_regression():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 400)
    proba = rng.dirichlet([1, 1, 1], 400)
    proba[np.arange(400), y] += 1
    proba /= proba.sum(axis=1, keepdims=True)
    res = evaluate(y, proba)
    assert res.labels == ("accuracy", "log_loss", "brier")
    check_result(res)
    x = rng.normal(size=200)
    yr = 2 * x + rng.normal(size=200)
    reg = evaluate(yr, 2 * x, random_state=3)
    assert reg.labels == ("rmse", "mae", "r2")
    r2 = reg["r2"]
    assert r2.ci_low < r2.estimate < r2.ci_high and r2.method.startswith("R-squared")
    assert evaluate(yr, 2 * x, random_state=3)["r2"].ci_low == r2.ci_low  # seeded


def test_compare_models_resultset():
    rng = np.random.default_rng(3)
    y, good = _binary(500, rng, sep=1.5)
    weak = np.clip(good + rng.normal(0, 0.3, 500), 0.001, 0.999)
    res = compare_models(y, good, weak, names=("gb", "lr"))
    check_result(res)
    assert res.labels == ("auc", "accuracy", "log_loss", "brier")
    assert res["auc"].estimand == "difference in AUC: gb minus lr" and res["auc"].estimate > 0
    assert res["log_loss"].estimate < 0 and res["log_loss"].details["direction"] == "smaller is better"
    reg = compare_models(rng.normal(size=50), rng.normal(size=50), rng.normal(size=50))
    assert reg.labels == ("mse", "mae")


def test_performance_by_chunk_with_late_labels():
    rng = np.random.default_rng(4)
    y, p = _binary(900, rng)
    yf = y.astype(float)
    yf[700:] = np.nan
    days = np.repeat(["mon", "tue", "wed"], 300)
    res = performance_by_chunk(yf, p, chunks=days, metric="auc")
    assert isinstance(res, PerformanceResult)
    check_result(res)
    t = res.table
    assert t["chunk"].tolist() == ["mon", "tue", "wed"] and t["n_labelled"].tolist() == [300, 300, 100]
    first = evaluate(y[:300], p[:300], metrics="auc")["auc"]
    assert t["estimate"][0] == first.estimate and t["ci_low"][0] == first.ci_low
    yf[600:] = np.nan
    res2 = performance_by_chunk(yf, p, chunks=days)
    assert np.isnan(res2.table["estimate"][2]) and res2.diagnostic("chunks without estimate").status == "warn"
    ax = res.plot()
    assert ax.get_xlabel() == "chunk"
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda y, p: evaluate(None, p), ci.DataError, "need the true labels"),
        (lambda y, p: evaluate(np.full(y.size, np.nan), p), ci.DataError, "labels are absent"),
        (lambda y, p: evaluate(np.r_[np.nan, y[1:]], p), ci.DataError, "1 missing label"),
        (lambda y, p: evaluate(y, p[:-1]), ci.DataError, "one row per label"),
        (lambda y, p: evaluate(y, p, metrics="rmse"), ci.ArgumentError, "metrics"),
        (lambda y, p: evaluate(y, p, conf_level=95), ci.ArgumentError, "conf_level"),
        (lambda y, p: evaluate(np.zeros(y.size, int), p, metrics="auc"), ci.DataError, "both classes"),
        (lambda y, p: evaluate(y, p * 3, metrics="log_loss"), ci.DataError, "probabilities"),
        (lambda y, p: performance_by_chunk(np.full(y.size, np.nan), p, chunk_size=10), ci.DataError, "no labels at all"),
        (lambda y, p: performance_by_chunk(y, p), ci.ArgumentError, "chunk_size"),
        (lambda y, p: compare_models(y, p, p, metrics="auc"), ci.DataError, "identically"),
    ],
)
def test_bad_input(call, exc, match):
    y, p = _binary(60, np.random.default_rng(5))
    with pytest.raises(exc, match=match):
        call(y, p)


def test_inputs_unchanged():
    rng = np.random.default_rng(6)
    y, p = _binary(100, rng)
    df = pd.DataFrame({"y": y, "p": p})
    before = df.copy()
    evaluate(df["y"], df["p"])
    compare_models(df["y"], df["p"], df["p"].sample(frac=1.0, random_state=0).to_numpy())
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.slow
def test_interval_coverage_by_simulation():
    """95% intervals for accuracy (Wilson), AUC (DeLong), Brier and MAE (t) cover the true value ~95% of the time."""
    rng = np.random.default_rng(7)
    reps, n, sep = 400, 200, 0.8
    # true values from a very large sample of the same process
    yb, pb = _binary(2_000_000, rng, sep=sep)
    truth_acc = np.mean((pb >= 0.5) == yb)
    truth_brier = np.mean((pb - yb) ** 2)
    from scipy.stats import norm

    truth_auc = norm.cdf(2 * sep / np.sqrt(2))  # logistic transform is monotone: AUC of the latent normal scores
    hits = np.zeros(4)
    for _ in range(reps):
        y, p = _binary(n, rng, sep=sep)
        res = evaluate(y, p, metrics=("accuracy", "auc", "brier"))
        x = rng.normal(size=n)
        e = rng.standard_t(5, size=n)
        mae = evaluate(x + e, x, metrics="mae")["mae"]
        hits += [
            res["accuracy"].ci_low <= truth_acc <= res["accuracy"].ci_high,
            res["auc"].ci_low <= truth_auc <= res["auc"].ci_high,
            res["brier"].ci_low <= truth_brier <= res["brier"].ci_high,
            mae.ci_low <= _t5_mean_abs() <= mae.ci_high,
        ]
    cover = hits / reps
    se = np.sqrt(0.95 * 0.05 / reps)
    assert np.all(np.abs(cover - 0.95) <= 3.5 * se), cover


def _t5_mean_abs():
    """E|T| for Student t with 5 df: 2 sqrt(5) Gamma(3) / (sqrt(pi) (5 - 1) Gamma(2.5))."""
    from math import gamma, pi, sqrt

    return 2 * sqrt(5) * gamma(3) / (sqrt(pi) * 4 * gamma(2.5))


def test_coverage_of_intervals_and_sets():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalinfer.predict import SplitConformalClassifier, SplitConformalRegressor, coverage

    rng = np.random.default_rng(8)
    X = rng.normal(size=(2000, 2))
    y = X @ [1.0, 1.0] + rng.normal(size=2000)
    cp = SplitConformalRegressor(LinearRegression(), alpha=0.1, random_state=0).fit(X[:1000], y[:1000])
    res = coverage(y[1000:], cp.predict_interval(X[1000:]), nominal=0.9)
    check_result(res)
    assert abs(res.estimate - 0.9) < 0.04 and res.details["mean_width"] > 0
    shifted = coverage(y[1000:] + 2.0, cp.predict_interval(X[1000:]), nominal=0.9)
    assert shifted.diagnostic("nominal coverage").status == "fail"
    labels = (y > 0).astype(int)
    cc = SplitConformalClassifier(LogisticRegression(), alpha=0.1, random_state=0).fit(X[:1000], labels[:1000])
    sets = coverage(labels[1000:], cc.predict_set(X[1000:]), classes=cc.classes_, nominal=0.9)
    assert 0.85 < sets.estimate < 0.96 and "mean_set_size" in sets.details
    with pytest.raises(ci.ArgumentError, match="classes"):
        coverage(labels[1000:], cc.predict_set(X[1000:]))
    with pytest.raises(ci.DataError, match="need the true labels"):
        coverage(None, cp.predict_interval(X[:3]))
