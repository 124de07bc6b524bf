"""The shared contract over every public analysis in causalinfer.experiments: renders, round-trips, nested
intervals, leaves the caller's DataFrame unchanged, refuses a non-table `data`."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged
from causalinfer.results import Result, ResultSet


def _frame():
    rng = np.random.default_rng(0)
    n = 900
    variant = rng.choice(["control", "b", "c"], n)
    pre = rng.gamma(2.0, 4.0, n)
    return pd.DataFrame(
        {
            "variant": variant,
            "revenue": pre + rng.gamma(2.0, 2.0, n) + (variant == "b"),
            "pre": pre,
            "converted": (rng.uniform(size=n) < 0.3).astype(int),
            "clicks": rng.poisson(4, n),
            "sessions": rng.poisson(2, n) + 1,
            "user": np.arange(n) // 1,
        }
    )


ex = ci.experiments
METRICS = [
    "revenue",
    ex.proportion("converted", role="secondary"),
    ex.ratio("clicks", "sessions", role="secondary"),
    ex.mean("revenue", name="revenue_cuped", covariates="pre"),
    ex.mean("pre", role="guardrail", margin=0.1),
    ex.quantile("revenue", 0.9, role="secondary"),
]
CASES = {
    "analyze": dict(control="control", metrics=METRICS),
    "srm_test": dict(),
}


def test_every_public_analysis_is_covered():
    analyses = {n for n in ex.__all__ if callable(getattr(ex, n)) and n[0].islower()} - {
        "mean",
        "proportion",
        "quantile",
        "ratio",
        "sql_aggregates",
    }
    assert analyses == set(CASES) | set(PLANNING)


PLANNING = {"group_sequential": dict(looks=3), "plan": dict(baseline=0.2, kind="proportion", mde=0.05, daily_units=1000)}


@pytest.mark.parametrize("name", sorted(PLANNING))
def test_planning_contract(name):
    r = getattr(ex, name)(**PLANNING[name])
    check_result(r)


def _nested(func, frame, **kw):
    def one(*args, conf_level, **kwargs):
        out = func(*args, conf_level=conf_level, **kwargs)
        return out["revenue: b"]

    check_nested_intervals(one, frame, **kw)


@pytest.mark.parametrize("name", sorted(CASES))
def test_contract(name):
    kw = CASES[name]
    func = getattr(ex, name)
    frame = _frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = check_unchanged(frame, lambda f: func(f, **kw))
        check_result(r)
        results = list(r) if isinstance(r, ResultSet) else [r]
        for item in results:
            check_result(item)
            assert item.provenance is not None and item.provenance.data_fingerprint
        if name == "analyze":
            _nested(func, frame, **kw)
            for lift in ("absolute", "relative"):
                check_result(func(frame, lift=lift, relative_interval="fieller", control="control", metrics=["revenue"]))
            again = func(ci.Dataset(frame), **kw)
            assert again.to_frame().equals(r.to_frame())
            r.plot()
        else:
            assert isinstance(r, Result)
    with pytest.raises(ci.ArgumentTypeError, match=r"`data` must be .*(Dataset|DataFrame)"):
        func(frame.to_dict("list"), **kw)
    if name == "analyze":
        with pytest.raises(ci.ArgumentError, match="`conf_level` must be strictly between 0 and 1"):
            func(frame, conf_level=1.5, **kw)
