"""Logistic and Poisson fits whose maximum likelihood estimate does not exist are flagged, naming the terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer.exceptions import AssumptionWarning, DataError
from causalinfer.stats._existence import check_existence

RNG = np.random.default_rng(0)


def _status(result: ci.Result, name: str) -> str:
    return next(d.status for d in result.diagnostics if d.name == name)


def test_complete_separation() -> None:
    df = pd.DataFrame({"x": RNG.normal(size=60), "z": RNG.normal(size=60)})
    df["y"] = (df.x > 0.3).astype(int)
    with pytest.warns(AssumptionWarning, match="does not exist"):
        r = ci.stats.logit("y ~ x + z", data=df, cov_type="HC0")
    assert _status(r, "separation") == "fail"


def test_quasi_separation_by_an_empty_category_names_the_term() -> None:
    """One level with no successes: its coefficient runs off to -inf while the others are ordinary."""
    df = pd.DataFrame({"g": np.repeat(["a", "b", "c"], 20), "x": RNG.normal(size=60)})
    df["y"] = (RNG.uniform(size=60) < 0.5).astype(int)
    df.loc[df.g == "c", "y"] = 0
    with pytest.warns(AssumptionWarning, match=r"estimates of C\(g\)\[T\.c\] are not finite"):
        r = ci.stats.logit("y ~ C(g) + x", data=df)
    assert _status(r, "separation") == "fail"


def test_quasi_separation_at_a_single_tied_point() -> None:
    """Quasi-complete separation where only two boundary rows overlap: fitted values stay inside (0, 1) there."""
    x = np.r_[np.linspace(-3, -0.1, 15), 0.0, 0.0, np.linspace(0.1, 3, 15)]
    y = np.r_[np.zeros(15), 0, 1, np.ones(15)]
    with pytest.warns(AssumptionWarning):
        r = ci.stats.logit(x, y)
    assert _status(r, "separation") == "fail"
    assert "x1" in next(d.message for d in r.diagnostics if d.name == "separation")


def test_poisson_zero_count_cell() -> None:
    df = pd.DataFrame({"g": np.repeat(["a", "b", "c"], 20)})
    df["y"] = RNG.poisson(2, 60)
    df.loc[df.g == "c", "y"] = 0
    with pytest.warns(AssumptionWarning, match=r"C\(g\)\[T\.c\]"):
        r = ci.stats.poisson("y ~ C(g)", data=df, cov_type="HC0")
    assert _status(r, "existence of the estimate") == "fail"


def test_ordinary_fits_pass() -> None:
    df = pd.DataFrame({"x": RNG.normal(size=200)})
    df["y"] = (RNG.uniform(size=200) < 1 / (1 + np.exp(-df.x))).astype(int)
    df["c"] = RNG.poisson(np.exp(0.5 + 0.3 * df.x))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", AssumptionWarning)
        assert _status(ci.stats.logit("y ~ x", data=df), "separation") == "ok"
        assert _status(ci.stats.poisson("c ~ x", data=df), "existence of the estimate") == "ok"


def test_check_existence_directly() -> None:
    X = np.column_stack([np.ones(6), [0, 0, 1, 1, 2, 2.0]])
    assert check_existence(X, np.array([0, 1, 0, 1, 1, 0.0]), ["c", "x"], "logit").exists
    assert not check_existence(X, np.array([0, 0, 0, 1, 1, 1.0]), ["c", "x"], "logit").exists
    # a Poisson outcome that is zero wherever x = 0 and positive elsewhere: slope to +inf? no, intercept to -inf
    Xp = np.column_stack([np.ones(6), [0, 0, 1, 1, 1, 1.0]])
    ex = check_existence(Xp, np.array([0, 0, 3, 1, 2, 4.0]), ["c", "d"], "poisson")
    assert not ex.exists and set(ex.infinite_terms) == {"c", "d"}


def test_poisson_all_zero_outcome_is_refused_with_the_reason():
    # statsmodels raised a bare ValueError ("The first guess on the deviance function returned a nan").
    df = pd.DataFrame({"y": [0] * 10, "x": np.arange(10.0)})
    with pytest.raises(DataError, match="zero in every row"):
        ci.stats.poisson("y ~ x", data=df)


def test_ordinary_fits_are_certified_by_their_score_without_the_linear_programme(monkeypatch):
    """Regression: every logistic fit (and every Poisson fit whose positive counts lack full rank) solved the linear
    programme, most of the time of a large fit. The fitted score proves existence when the fit is inside the range."""
    import causalinfer.stats._existence as ex

    def boom(*args, **kwargs):
        raise AssertionError("linear programme solved for a fit whose score certifies existence")

    df = pd.DataFrame({"x": RNG.normal(size=300), "g": np.repeat(["a", "b", "c"], 100)})
    df["y"] = (RNG.uniform(size=300) < 1 / (1 + np.exp(-df.x))).astype(int)
    df["c"] = RNG.poisson(np.exp(0.3 + 0.4 * df.x))
    monkeypatch.setattr(ex, "_solve", boom)
    assert _status(ci.stats.logit("y ~ x + g", data=df), "separation") == "ok"
    for link in ("probit", "cloglog"):
        assert _status(ci.stats.glm("y ~ x + g", data=df, family="binomial", link=link), "separation") == "ok"
    assert _status(ci.stats.glm("c ~ x + g", data=df, family="poisson"), "existence of the estimate") == "ok"
    assert _status(ci.stats.negative_binomial("c ~ x + g", data=df), "existence of the estimate") == "ok"


def test_score_certificate_refuses_separated_and_boundary_fits():
    from causalinfer.stats._existence import certified_by_score

    X = np.column_stack([np.ones(6), [0, 0, 1, 1, 2, 2.0]])
    y = np.array([0, 1, 0, 1, 1, 0.0])
    p = np.full(6, 0.5)
    assert certified_by_score(X, y, y - p, "logit")
    ys = np.array([0, 0, 0, 1, 1, 1.0])  # separated: no positive score can sum to zero
    assert not certified_by_score(X, ys, ys - np.array([1e-12, 1e-12, 0.4, 0.6, 1, 1]), "logit")
    assert not certified_by_score(X, ys, ys - np.full(6, 0.5), "logit")  # not a score at an estimate
