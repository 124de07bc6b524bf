"""The Result family: fields, fixed to_frame columns, rendering, JSON round trip, ResultSet."""

from __future__ import annotations

import dataclasses
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_settings import examples

import causalinfer as ci
from causalinfer._testing import check_html, check_result
from causalinfer.results import (
    DIAGNOSTIC_COLUMNS,
    EFFECT_SIZE_COLUMNS,
    ESTIMATE_COLUMNS,
    RESULTSET_COLUMNS,
    Diagnostic,
    EffectSize,
    Provenance,
    Result,
    ResultSet,
    TableResult,
)


def full_result(**changes) -> Result:
    base = dict(
        method="Welch Two Sample t-test",
        estimand="difference in means of y: a minus b",
        estimate=1.25,
        std_error=0.5,
        ci_low=0.2,
        ci_high=2.3,
        conf_level=0.95,
        statistic=2.5,
        statistic_name="t",
        df=17.3,
        pvalue=0.0226,
        alternative="two-sided",
        null_value=0.0,
        n=20,
        effect_sizes=(EffectSize("Hedges' g", 1.1, 0.1, 2.0, 0.95, "noncentral t"),),
        diagnostics=(Diagnostic("normality (a)", "ok", 0.4, "fine"), Diagnostic("variance ratio", "warn", 3.2, "unequal <b>")),
        details={
            "groups": pd.DataFrame({"group": ["a", "b"], "n": [10, 10], "mean": [2.0, 0.75], "flag": [True, False]}),
            "draws": np.array([[1.0, np.nan], [np.inf, -np.inf]]),
            "note": "text",
            "series": pd.Series([1.5, 2.5], index=["u", "v"], name="s"),
            "nested": {"k": (1, 2.5, None)},
        },
        provenance=Provenance.current(random_state=7, data_fingerprint="abc"),
    )
    base.update(changes)
    return Result(**base)


def test_contract_full_result():
    r = full_result()
    check_result(r)
    frame = r.to_frame()
    assert list(frame.columns) == list(ESTIMATE_COLUMNS)
    assert frame.loc[0, "estimate"] == 1.25
    assert frame.loc[0, "df2"] != frame.loc[0, "df2"]  # NaN
    assert list(r.to_frame("effect_sizes").columns) == list(EFFECT_SIZE_COLUMNS)
    assert list(r.to_frame("diagnostics").columns) == list(DIAGNOSTIC_COLUMNS)
    assert r.warnings == (r.diagnostics[1],)
    assert r.diagnostic("variance ratio").value == 3.2
    assert r.effect_size("Hedges' g").estimate == 1.1
    with pytest.raises(KeyError, match="no diagnostic named 'x'"):
        r.diagnostic("x")
    with pytest.raises(ci.ArgumentError, match="`part` must be"):
        r.to_frame("everything")


def test_to_frame_full_precision_and_level_independent_names():
    r = full_result(estimate=1 / 3, conf_level=0.9)
    f = r.to_frame()
    assert f.loc[0, "estimate"] == 1 / 3
    assert list(f.columns) == list(ESTIMATE_COLUMNS)


def test_minimal_result_and_one_sided_ci():
    r = Result(method="Some test", statistic=3.0, pvalue=0.01)
    check_result(r)
    assert r.ci is None
    r2 = Result(method="One-sided", estimate=2.0, ci_low=1.0, ci_high=math.inf, conf_level=0.95, alternative="greater")
    check_result(r2)
    assert r2.ci == (1.0, math.inf)
    assert "Inf" in str(r2)


def test_terms_give_one_row_per_term():
    terms = pd.DataFrame(
        {"term": ["Intercept", "x"], "estimate": [1.0, 2.0], "std_error": [0.1, 0.2], "statistic": [10.0, 10.0], "pvalue": [1e-20, 1e-3]}
    )
    r = Result(method="OLS", terms=terms, conf_level=0.95, n=50)
    check_result(r)
    f = r.to_frame()
    assert f["term"].tolist() == ["Intercept", "x"]
    assert f["n"].tolist() == [50, 50]
    assert np.isnan(f.loc[0, "ci_low"])
    assert "< 2.2e-16" in str(r)
    with pytest.raises(TypeError, match="unknown columns"):
        Result(method="bad", terms=terms.assign(junk=1))


def test_f_statistic_two_df():
    r = Result(method="F test", statistic=4.2, statistic_name="F", df=(2, 27), pvalue=0.026)
    check_result(r)
    assert r.df1 == 2.0
    assert r.df2 == 27.0
    assert r.to_frame().loc[0, "df2"] == 27.0
    assert "df = (2, 27)" in str(r)


def test_frozen_and_validated():
    r = full_result()
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.estimate = 3.0  # type: ignore[misc]
    with pytest.raises(ci.ArgumentError, match="alternative"):
        full_result(alternative="two.sided")
    with pytest.raises(ci.ArgumentError, match="status"):
        Diagnostic("x", "bad")
    with pytest.raises(TypeError, match="estimate"):
        full_result(estimate="1.0")
    assert r.replace(estimate=2.0).estimate == 2.0
    assert r.estimate == 1.25


def test_numpy_scalars_become_floats():
    r = full_result(estimate=np.float32(1.5), n=np.int64(20), df=np.float64(3.0))
    assert type(r.estimate) is float
    assert type(r.n) is int
    check_result(r)


def test_json_is_strict_and_round_trips_special_values():
    r = full_result(estimate=math.nan, ci_low=-math.inf, ci_high=math.inf)
    text = r.to_json()
    assert "NaN" not in text.replace('"NaN"', "")
    json.loads(text)
    back = Result.from_json(text)
    assert math.isnan(back.estimate)
    assert back.ci_low == -math.inf
    d = back.details["draws"]
    assert np.isnan(d[0, 1])
    assert d[1, 0] == np.inf
    pd.testing.assert_frame_equal(back.details["groups"], r.details["groups"])
    pd.testing.assert_series_equal(back.details["series"], r.details["series"])
    assert back.details["nested"] == {"k": (1, 2.5, None)}
    assert back.provenance == r.provenance


def test_html_escapes_and_is_self_contained():
    r = full_result(method="Test <script>alert(1)</script>")
    markup = r._repr_html_()
    assert "<script>" not in markup
    text = check_html(markup)
    assert "unequal <b>" in text


def test_repr_is_deterministic_one_line():
    r = full_result()
    assert repr(r) == repr(full_result())
    assert repr(r) == "Result(method='Welch Two Sample t-test', estimate=1.25, ci=[0.2, 2.3], statistic=2.5, pvalue=0.0226, n=20)"


def test_plot_returns_axes():
    ax = full_result().plot()
    assert ax.get_title() == "Welch Two Sample t-test"
    plt.close("all")


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class _SpecialResult(Result):
    extra_note: str = ""


def test_subclasses_round_trip_as_themselves():
    r = _SpecialResult(method="special", estimate=1.0, extra_note="kept")
    back = Result.from_json(r.to_json())
    assert type(back) is _SpecialResult
    assert back.extra_note == "kept"
    check_result(r)


def test_table_result():
    t = TableResult(method="Balance", estimand="before and after", table=pd.DataFrame({"covariate": ["x"], "smd": [0.12]}))
    check_result(t)
    assert list(t.to_frame().columns) == ["covariate", "smd"]
    assert "Balance" in str(t)


def test_resultset():
    a = full_result(label="welch")
    b = full_result(label="pooled", estimate=1.3, pvalue=0.03)
    rs = ResultSet([a, b], title="Two tests", pvalues_adjusted=[0.0452, 0.0452], adjust_method="holm")
    check_result(rs)
    f = rs.to_frame()
    assert list(f.columns) == list(RESULTSET_COLUMNS)
    assert f["label"].tolist() == ["welch", "pooled"]
    assert f["pvalue_adjusted"].tolist() == [0.0452, 0.0452]
    assert rs["pooled"] is b
    assert rs[0] is a
    assert len(rs[1:]) == 1
    assert "p adj. (holm)" in str(rs)
    assert "variance ratio" in str(rs)  # diagnostics needing attention are listed
    np.testing.assert_array_equal(rs.pvalues, [0.0226, 0.03])
    ax = rs.plot()
    assert len(ax.get_yticklabels()) == 2
    plt.close("all")
    with pytest.raises(KeyError, match="no result labelled"):
        rs["nope"]
    with pytest.raises(ci.ArgumentError, match="unique"):
        ResultSet([a, b], labels=["x", "x"])
    with pytest.raises(ci.ArgumentError, match="adjust_method"):
        ResultSet([a], pvalues_adjusted=[0.1])
    with pytest.raises(ci.ArgumentTypeError, match="item 1 is int"):
        ResultSet([a, 3])  # type: ignore[list-item]
    auto = ResultSet([full_result(), full_result()])
    assert auto.labels == ("Welch Two Sample t-test", "Welch Two Sample t-test (2)")
    check_result(ResultSet([]))


_floats = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**6), 10**6).map(float))


@examples(80)
@given(
    estimate=_floats,
    se=_floats,
    stat=_floats,
    p=st.one_of(st.none(), st.floats(0, 1)),
    n=st.one_of(st.none(), st.integers(0, 10**9)),
    method=st.text(min_size=1, max_size=40),
    detail=st.lists(st.floats(allow_nan=True), max_size=5),
)
def test_roundtrip_property(estimate, se, stat, p, n, method, detail):
    r = Result(
        method=method,
        estimate=estimate,
        std_error=se,
        statistic=stat,
        pvalue=p,
        n=n,
        details={"values": np.array(detail, dtype=float), "frame": pd.DataFrame({"v": detail})},
    )
    back = Result.from_json(r.to_json())
    assert back == r
    assert repr(back) == repr(r)
    assert list(back.to_frame().columns) == list(ESTIMATE_COLUMNS)
