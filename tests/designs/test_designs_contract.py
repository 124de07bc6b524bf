"""The shared contract over every public estimator in causalinfer.designs: renders, round-trips, nested intervals,
leaves the caller's DataFrame unchanged, refuses a non-table `data`."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged


def _panel():
    rng = np.random.default_rng(0)
    n_units, n_times = 30, 6
    unit = np.repeat(np.arange(n_units), n_times)
    time = np.tile(np.arange(2000, 2000 + n_times), n_units)
    first = np.repeat([2002, 2004, 9999], 10)[unit]
    d = (time >= first).astype(int)
    y = rng.normal(size=n_units)[unit] + 0.1 * (time - 2000) + d + rng.normal(size=unit.size)
    return pd.DataFrame({"u": unit, "t": time, "d": d, "y": y, "post": (time >= 2003).astype(int), "g": (first == 2004).astype(int)})


def _cross():
    rng = np.random.default_rng(1)
    n = 400
    x = rng.normal(size=n)
    z = rng.integers(0, 2, n)
    d = (0.8 * z + 0.5 * x + rng.normal(size=n) > 0.5).astype(int)
    r = rng.uniform(-1, 1, n)
    y = 1 + d + x + (r >= 0) + rng.normal(size=n)
    return pd.DataFrame({"y": y, "d": d, "z": z, "x": x, "r": r, "dose": x + rng.normal(size=n), "grp": (x > 0).astype(int)})


CASES = {
    "iv_2sls": (_cross, dict(outcome="y", treatment="d", instruments="z", covariates="x")),
    "wald_estimator": (_cross, dict(outcome="y", treatment="d", instrument="z")),
    "did_2x2": (lambda: _panel()[lambda f: f.t.isin([2002, 2004]) & (f.u >= 10)], dict(outcome="y", treatment="g", time="post", unit="u")),
    "twfe": (_panel, dict(outcome="y", treatment="d", unit="u", time="t")),
    "event_study": (_panel, dict(outcome="y", treatment="d", unit="u", time="t")),
    "callaway_santanna": (_panel, dict(outcome="y", treatment="d", unit="u", time="t")),
    "sun_abraham": (_panel, dict(outcome="y", treatment="d", unit="u", time="t")),
    "did_imputation": (_panel, dict(outcome="y", treatment="d", unit="u", time="t")),
    "rdd": (_cross, dict(outcome="y", running="r", cutoff=0.0, bandwidth=0.5, covariates="x")),
    "dose_response": (_cross, dict(outcome="y", treatment="dose", covariates="x")),
    "partially_linear_dml": (
        _cross,
        dict(outcome="y", treatment="dose", covariates="x", model_y=LinearRegression(), model_t=LinearRegression()),
    ),
    "cate": (_cross, dict(outcome="y", treatment="d", covariates="x", outcome_model=LinearRegression(), subgroups="grp", n_folds=2)),
    "synthdid": (_panel, dict(outcome="y", unit="u", time="t", treated_unit=0, treatment_time=2003, n_replications=20, random_state=0)),
    "synthetic_control": (_panel, dict(outcome="y", unit="u", time="t", treated_unit=0, treatment_time=2003, method="outcome")),
    "heterogeneity_test": (
        _cross,
        dict(outcome="y", treatment="d", covariates=["x", "z"], outcome_model=LinearRegression(), n_folds=2, n_boot=20),
    ),
    "compare_targeting": (
        _cross,
        dict(
            model_a=ci.designs.DRLearner(LinearRegression(), n_folds=2),
            model_b=ci.designs.TLearner(LinearRegression(), n_folds=2),
            outcome="y",
            treatment="d",
            covariates=["x", "z"],
            outcome_model=LinearRegression(),
            n_folds=2,
            n_boot=20,
        ),
    ),
    "policy_value": (_cross, dict(outcome="y", treatment="d", covariates=["x", "z"], outcome_model=LinearRegression(), n_folds=2)),
    "policy_tree": (
        _cross,
        dict(outcome="y", treatment="d", covariates=["x", "z"], outcome_model=LinearRegression(), n_folds=2, max_splits=8),
    ),
}


def test_every_public_estimator_is_covered():
    estimators = {
        n
        for n in ci.designs.__all__
        if not n.startswith("plot_") and n not in ("density_test", "ik_bandwidth", "rdd_density", "rdplot", "honest_did")
    }
    estimators -= {n for n in estimators if isinstance(getattr(ci.designs, n), type)}  # model classes: tests/designs/test_cate_models.py
    assert estimators == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_contract(name):
    make, kw = CASES[name]
    func = getattr(ci.designs, name)
    frame = make().reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        r = check_unchanged(frame, lambda f: func(f, **kw))
        check_result(r)
        check_nested_intervals(func, frame, **kw)
        ds = ci.Dataset(frame)
        assert func(ds, **kw).estimate == pytest.approx(r.estimate, rel=1e-9)
    assert r.provenance is not None and r.provenance.data_fingerprint
    with pytest.raises(ci.ArgumentTypeError, match="`data` must be a causalinfer Dataset or a pandas DataFrame"):
        func(frame.to_dict("list"), **kw)
    with pytest.raises(ci.ArgumentError, match="`conf_level` must be strictly between 0 and 1"):
        func(frame, conf_level=1.5, **kw)
