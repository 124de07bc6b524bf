"""Fitted CATE models: the scikit-learn protocol, columns matched by name, scoring jobs, no leakage, coverage."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalinfer.designs import DRLearner, RLearner, SLearner, TLearner, XLearner, cate
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, CausalInferError, DataError, RoleError


def simulate(n=2000, seed=0, hetero=1.0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    e = 1 / (1 + np.exp(-0.5 * X["a"]))
    t = (rng.random(n) < e).astype(int)
    tau = 1 + hetero * X["b"].to_numpy()
    y = X["a"] + X["c"] + t * tau + rng.normal(size=n)
    return X, pd.Series(y, index=X.index), pd.Series(t, index=X.index), tau


LIN = LinearRegression()
LEARNERS = {
    "s": lambda: SLearner(LIN, n_folds=3),
    "t": lambda: TLearner(LIN, n_folds=3),
    "x": lambda: XLearner(LIN, final_model=LIN, n_folds=3),
    "dr": lambda: DRLearner(LIN, n_folds=3),
    "dr_spline": lambda: DRLearner(LIN, final_model="spline", n_folds=3),
    "r": lambda: RLearner(LIN, n_folds=3),
}


@pytest.fixture(scope="module")
def data():
    return simulate()


@pytest.mark.parametrize("kind", list(LEARNERS))
def test_learners_recover_a_linear_cate(kind, data):
    X, y, t, tau = data
    m = LEARNERS[kind]().fit(X, y, t)
    err = np.sqrt(np.mean((m.effect(X) - tau) ** 2))
    assert err < (1.1 if kind == "s" else 0.25)  # a linear S-learner has no interaction: it finds the average only
    assert list(m.feature_names_in_) == ["a", "b", "c"]


@pytest.mark.parametrize("kind", list(LEARNERS))
def test_sklearn_protocol(kind):
    m = LEARNERS[kind]()
    params = m.get_params(deep=False)
    c = clone(m)
    assert c.get_params(deep=False).keys() == params.keys()
    c.set_params(random_state=3)
    assert c.random_state == 3 and m.random_state == 0
    assert not hasattr(c, "feature_names_in_")
    with pytest.raises(ArgumentError, match="no parameter 'nope'"):
        c.set_params(nope=1)
    assert "fit_intercept" in "".join(m.get_params(deep=True))


def test_columns_are_matched_by_name_never_by_position(data):
    X, y, t, _ = data
    m = DRLearner(LIN, n_folds=3).fit(X, y, t)
    np.testing.assert_allclose(m.effect(X[["c", "a", "b"]]), m.effect(X), rtol=0, atol=0)
    np.testing.assert_allclose(m.effect_interval(X[["b", "c", "a"]]), m.effect_interval(X))
    with pytest.raises(DataError, match=r"missing \['c'\]"):
        m.effect(X[["a", "b"]])
    with pytest.raises(DataError, match=r"not seen in training \['d'\]"):
        m.effect(X.assign(d=1.0))
    with pytest.raises(ArgumentTypeError, match=r"covariate .b. of `X` has dtype"):
        m.effect(X.assign(b=X["b"].astype(str)))
    with pytest.raises(ArgumentTypeError, match="DataFrame"):
        m.effect(X.to_numpy())
    with pytest.raises(DataError, match=r"covariate 'a'.*1 missing"):
        m.effect(X.assign(a=X["a"].where(X.index != 3)))


def test_series_are_paired_by_label(data):
    X, y, t, _ = data
    perm = np.random.default_rng(1).permutation(len(X))
    a = DRLearner(LIN, n_folds=3).fit(X, y, t)
    b = DRLearner(LIN, n_folds=3).fit(X, y.iloc[perm], t.iloc[perm])
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    with pytest.raises(DataError, match="index labels differ"):
        DRLearner(LIN).fit(X, y.set_axis(y.index + 5), t)


def test_bad_treatment_and_unfitted(data):
    X, y, t, _ = data
    with pytest.raises(RoleError, match=r"`treatment` must be binary \(0/1\).*values \[0, 1, 2\]"):
        DRLearner(LIN).fit(X, y, t.where(t.index != 0, 2))
    with pytest.raises(DataError, match="only the value 1"):
        DRLearner(LIN).fit(X, y, np.ones(len(X)))
    with pytest.raises(ArgumentError, match="not fitted"):
        DRLearner(LIN).effect(X)
    with pytest.raises(DataError, match="n_folds"):
        DRLearner(LIN, n_folds=5).fit(X.head(12), y.head(12), t.head(12))
    with pytest.raises(ArgumentTypeError, match="final_model"):
        DRLearner(LIN, final_model=3).fit(X, y, t)
    with pytest.raises(ArgumentError, match="final_model"):
        DRLearner(LIN, final_model="cubic").fit(X, y, t)


def test_models_without_intervals_say_so(data):
    X, y, t, _ = data
    m = TLearner(LIN, n_folds=3).fit(X, y, t)
    assert not hasattr(m, "predict_interval")
    with pytest.raises(ArgumentError, match=r"gives no confidence intervals.*DRLearner"):
        m.effect_interval(X)
    with pytest.raises(ArgumentError, match="alpha"):
        DRLearner(LIN, n_folds=3).fit(X, y, t).effect_interval(X, alpha=1.5)


def test_errors_are_ours(data):
    X, y, t, _ = data
    for bad in (lambda: DRLearner(LIN).fit(X, y.head(5), t), lambda: DRLearner(LIN).fit("x", y, t)):
        with pytest.raises(CausalInferError):
            bad()


def test_dr_linear_final_matches_least_squares_with_hc1(data):
    """The final stage is OLS of the cross-fitted scores on (1, X) with the HC1 sandwich (statsmodels as the check)."""
    sm = pytest.importorskip("statsmodels.api")
    X, y, t, _ = data
    m = DRLearner(LIN, LogisticRegression(), n_folds=3).fit(X, y, t)
    ref = sm.OLS(m.scores_, sm.add_constant(X.to_numpy())).fit(cov_type="HC1")
    np.testing.assert_allclose(m.coef_, ref.params, rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(m.cov_)), ref.bse, rtol=1e-9)
    fr = m.effect_frame(X.head(4))
    pred = ref.get_prediction(sm.add_constant(X.head(4).to_numpy(), has_constant="add"))
    np.testing.assert_allclose(fr["std_error"], pred.se_mean, rtol=1e-9)


def test_out_of_fold_effects_never_use_the_units_own_outcome(data):
    X, y, t, _ = data
    X, y, t = X.head(300), y.head(300), t.head(300)
    for make in (lambda: DRLearner(LIN, n_folds=3), lambda: RLearner(LIN, n_folds=3), lambda: TLearner(LIN, n_folds=3)):
        m = make()
        base = m.effect_out_of_fold(X, y, t)
        folds = m._folds(t.to_numpy().astype(float))
        i = int(np.flatnonzero(folds == 1)[0])
        y2 = y.copy()
        y2.iloc[i] += 1e6  # a wild outcome for unit i changes only the effects of units in other folds
        moved = m.effect_out_of_fold(X, y2, t)
        assert moved[i] == pytest.approx(base[i], rel=1e-10, abs=1e-10)
        same_fold = folds == 1
        np.testing.assert_allclose(moved[same_fold], base[same_fold], rtol=1e-10, atol=1e-10)
        assert np.abs(moved[~same_fold] - base[~same_fold]).max() > 1


def test_scoring_job_writes_effect_and_interval_to_sqlite(tmp_path, data):
    from causalinfer.predict import SQLDestination, score

    X, y, t, _ = data
    m = DRLearner(LIN, n_folds=3, alpha=0.1).fit(X, y, t)
    new = X.head(1000)[["c", "b", "a"]].assign(customer=np.arange(1000) + 10_000)
    dest = SQLDestination(f"sqlite:///{tmp_path / 'scores.db'}", "effects")
    res = score(m, new, dest, chunk_size=128, key="customer", outputs=["prediction", "interval"], progress=False)
    assert res.chunks == 8
    with sqlite3.connect(tmp_path / "scores.db") as con:
        out = pd.read_sql("select * from effects order by customer", con)
    assert list(out.columns) == ["customer", "prediction", "lower", "upper"]
    np.testing.assert_allclose(out["prediction"], m.effect(X.head(1000)), rtol=1e-12)
    np.testing.assert_allclose(out[["lower", "upper"]], m.effect_interval(X.head(1000), alpha=0.1), rtol=1e-12)
    again = score(m, new, dest, chunk_size=128, key="customer", outputs=["prediction", "interval"], progress=False)
    assert again.details["status"] == "already complete"


def test_scoring_refuses_intervals_from_a_model_without_them(data):
    from causalinfer.predict import score

    X, y, t, _ = data
    m = TLearner(LIN, n_folds=3).fit(X, y, t)
    with pytest.raises(ArgumentError, match="interval"):
        score(m, X, outputs=["prediction", "interval"], progress=False)
    out = score(m, X, outputs="prediction", progress=False).output
    np.testing.assert_allclose(out["prediction"], m.effect(X))


def test_the_cate_function_still_works(data):
    X, y, t, _ = data
    df = X.assign(y=y, t=t)
    r = cate(df, outcome="y", treatment="t", covariates=["a", "b", "c"], learner="t", outcome_model=LIN)
    assert abs(r.estimate - 1) < 0.15


def _coverage_run(seed, hetero):
    X, y, t, tau = simulate(n=1000, seed=seed, hetero=hetero)
    m = DRLearner(LIN, n_folds=2, random_state=seed).fit(X, y, t)
    iv = m.effect_interval(X)
    return (iv[:, 0] <= tau) & (tau <= iv[:, 1]), tau


@pytest.mark.slow
def test_dr_projection_intervals_cover_by_decile_of_the_true_effect():
    hits, taus = zip(*(_coverage_run(s, 1.0) for s in range(200)), strict=True)
    hits, taus = np.concatenate(hits), np.concatenate(taus)
    deciles = pd.qcut(taus, 10, labels=False)
    by = pd.Series(hits).groupby(deciles).mean()
    assert by.between(0.91, 0.985).all(), by
