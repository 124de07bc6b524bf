"""TOST equivalence tests against R's t.test (tests/reference/equivalence.R -> equivalence.json)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged


def test_against_r(reference):
    cases = reference("equivalence")["cases"]
    assert len(cases) >= 7
    for case in cases:
        args = dict(case["args"])
        args["bounds"] = tuple(args["bounds"])
        y = None if case["y"] is None else np.asarray(case["y"], dtype=float)
        r = ci.stats.tost(np.asarray(case["x"], dtype=float), y, **args)
        e = case["expected"]
        name = case["name"]
        for f in ("estimate", "std_error", "df", "pvalue"):
            assert getattr(r, f) == pytest.approx(e[f], rel=1e-10), (name, f)
        for f in ("t_lower", "p_lower", "t_upper", "p_upper"):
            assert r.details[f] == pytest.approx(e[f], rel=1e-10), (name, f)
        assert [r.ci_low, r.ci_high] == pytest.approx(e["ci"], rel=1e-10)
        assert r.conf_level == pytest.approx(1 - 2 * args.get("alpha", 0.05))
        # the TOST decision agrees with the 1 - 2 alpha interval lying inside the bounds
        inside = args["bounds"][0] < r.ci_low and r.ci_high < args["bounds"][1]
        assert r.details["equivalent"] == inside
        check_result(r)


def test_forms_and_nesting():
    rng = np.random.default_rng(12)
    df = pd.DataFrame({"y": rng.normal(size=50), "g": np.repeat(["a", "b"], 25), "pre": rng.normal(size=50)})
    r = check_unchanged(df, lambda d: ci.stats.tost("y", data=d, group="g", bounds=(-0.6, 0.6)))
    r2 = ci.stats.tost(df.y[:25].to_numpy(), df.y[25:].to_numpy(), bounds=(-0.6, 0.6))
    assert r.pvalue == pytest.approx(r2.pvalue, rel=1e-12)
    p = check_unchanged(df, lambda d: ci.stats.tost("y", "pre", data=d, paired=True, bounds=(-0.5, 0.5)))
    assert p.method == "Paired TOST t-test"

    def by_level(*a, conf_level, **k):
        return ci.stats.tost(*a, alpha=(1 - conf_level) / 2, **k)

    check_nested_intervals(by_level, df.y.to_numpy(), bounds=(-0.5, 0.5))
    # pvalue < alpha exactly when the 1 - 2 alpha interval lies within the bounds
    t = ci.stats.tost(df.y.to_numpy(), bounds=(-0.5, 0.5), alpha=0.05)
    assert (t.pvalue < 0.05) == (t.ci_low > -0.5 and t.ci_high < 0.5)
    assert set(t.details["tests"]["test"]) == {"lower", "upper"}


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([1.0, 2.0, 3.0],), {"bounds": (1.0, -1.0)}, ci.ArgumentError, "low < high"),
        (([1.0, 2.0, 3.0],), {"bounds": 0.5}, ci.ArgumentError, "bounds"),
        (([1.0, 2.0, 3.0],), {"bounds": (-np.inf, 1.0)}, ci.ArgumentError, r"bounds\[0\]"),
        (([1.0, 2.0, 3.0],), {"bounds": (-1.0, 1.0), "alpha": 0.6}, ci.ArgumentError, "alpha"),
        (([1.0, 2.0, 3.0],), {"bounds": (-1.0, 1.0), "alpha": 0.0}, ci.ArgumentError, "alpha"),
        (([1.0],), {"bounds": (-1.0, 1.0)}, ci.DataError, "not enough observations"),
        (([2.0, 2.0, 2.0],), {"bounds": (-1.0, 1.0)}, ci.DataError, "constant"),
        (([1.0, 2.0], [1.0]), {"bounds": (-1.0, 1.0)}, ci.DataError, "not enough observations"),
        (([1.0, 2.0], [1.0, 2.0, 3.0]), {"bounds": (-1.0, 1.0), "paired": True}, ci.DataError, "same length"),
        (([1.0, np.nan, 2.0],), {"bounds": (-1.0, 1.0)}, ci.DataError, "missing value"),
        (([],), {"bounds": (-1.0, 1.0)}, ci.DataError, "at least 1"),
    ],
)
def test_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ci.stats.tost(*args, **kwargs)


def test_bounds_required():
    with pytest.raises(TypeError, match="bounds"):
        ci.stats.tost([1.0, 2.0, 3.0])  # type: ignore[call-arg]


@pytest.mark.slow
def test_tost_size_at_the_margin():
    """With the true difference on the equivalence margin, TOST rejects at most alpha of the time.

    The margins are many standard errors wide here, so the size should be close to alpha itself (with narrow
    margins TOST is conservative, well below alpha).
    """
    rng = np.random.default_rng(20261128)
    n_sim, rej = 1500, 0
    for _ in range(n_sim):
        r = ci.stats.tost(rng.normal(0.5, 1, 200), rng.normal(0, 1.5, 150), bounds=(-0.5, 0.5))
        rej += r.pvalue < 0.05
    se = np.sqrt(0.05 * 0.95 / n_sim)
    assert rej / n_sim < 0.05 + 3 * se
    assert rej / n_sim > 0.05 - 3 * se - 0.01
