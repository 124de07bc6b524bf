"""Regression tables: several fits side by side as text, HTML, LaTeX, Markdown and a tidy frame."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_html, check_result
from causalinfer.exceptions import ArgumentError, ArgumentTypeError


@pytest.fixture(scope="module")
def fits():
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"x": rng.normal(size=120), "z": rng.normal(size=120), "w_1": rng.normal(size=120)})
    df["y"] = 0.5 + 1.5 * df.x + 0.02 * df.z + rng.normal(size=120)
    df["b"] = (df.y > 0.5).astype(int)
    return {
        "OLS": ci.stats.ols("y ~ x", data=df),
        "OLS robust": ci.stats.ols("y ~ x + z + w_1", data=df, cov_type="HC3"),
        "Logit": ci.stats.logit("b ~ x", data=df),
        "Median": ci.stats.quantreg("y ~ x", data=df, se="iid"),
    }


def test_numbers_are_the_models_own(fits):
    tab = ci.stats.regression_table(fits)
    assert tab.models == list(fits)
    frame = tab.to_frame()
    for name, r in fits.items():
        part = frame[frame.model == name].reset_index(drop=True)
        pd.testing.assert_series_equal(part["estimate"], r.terms["estimate"], check_names=False)
        pd.testing.assert_series_equal(part["std_error"], r.terms["std_error"], check_names=False)
    fit = tab.details["fit"]
    assert fit.loc["r_squared", "OLS"] == fits["OLS"].fit["r_squared"]
    assert fit.loc["n", "Logit"] == 120
    assert fit.loc["tau", "Median"] == 0.5
    check_result(tab)


def test_layout_and_formatting(fits):
    tab = ci.stats.regression_table(fits["OLS"], fits["OLS robust"], stars=True, digits=2)
    f = tab.formatted()
    r = fits["OLS"].terms.set_index("term")
    assert f.iloc[2, 0] == f"{r.loc['x', 'estimate']:.2f}***"
    assert f.iloc[3, 0] == f"({r.loc['x', 'std_error']:.2f})"
    assert f.iloc[4, 0] == ""  # z is not in model (1)
    text = str(tab)
    assert "* p < 0.05, ** p < 0.01, *** p < 0.001" in text and "Num.Obs." in text and "R2 Adj." in text
    visible = check_html(tab.to_html())
    assert "Num.Obs." in visible and "Standard errors in parentheses." in visible
    ci_tab = ci.stats.regression_table(fits["OLS"], statistic="ci", terms={"x": "Dose"})
    g = ci_tab.formatted()
    assert g.index.tolist()[:2] == ["Dose", ""]
    assert g.iloc[1, 0] == f"[{r.loc['x', 'ci_low']:.3f}, {r.loc['x', 'ci_high']:.3f}]"
    assert "95% confidence intervals in brackets." in str(ci_tab)
    plain = ci.stats.regression_table(fits["OLS"], statistic=None, stars={"+": 0.1})
    assert plain.formatted().index.tolist()[:2] == ["(Intercept)", "x"]


def test_stars_follow_thresholds():
    rows = pd.DataFrame(
        {"term": ["a", "b", "c", "d"], "estimate": [1.0, 1.0, 1.0, 1.0], "std_error": [1.0] * 4, "pvalue": [0.2, 0.04, 0.009, 0.0001]}
    )
    r = ci.results.Result(method="fake model", terms=rows)
    f = ci.stats.regression_table(r, stars=True, statistic=None).formatted()
    assert f.iloc[:, 0].tolist()[:4] == ["1.000", "1.000*", "1.000**", "1.000***"]


def test_latex_and_markdown(fits):
    tab = ci.stats.regression_table(fits["OLS robust"], stars=True)
    tex = tab.to_latex(caption="Results & more", label="tab:reg")
    assert tex.count("\\begin{tabular}{lc}") == 1 and "\\toprule" in tex and "\\bottomrule" in tex
    assert "w\\_1" in tex and "Results \\& more" in tex and "$^{***}$" in tex and "\\label{tab:reg}" in tex
    md = tab.to_markdown()
    assert md.splitlines()[1] == "|:---|:---:|"


def test_quantile_process_as_columns(fits):
    rng = np.random.default_rng(2)
    x = rng.uniform(size=80)
    proc = ci.stats.quantreg(x, 1 + x + rng.normal(size=80), tau=[0.25, 0.75], se="iid")
    tab = ci.stats.regression_table(proc)
    assert tab.models == ["tau=0.25", "tau=0.75"]
    assert "Quantile (tau)" in tab.formatted().index


def test_bad_input(fits):
    with pytest.raises(ArgumentError, match="at least one"):
        ci.stats.regression_table()
    with pytest.raises(ArgumentTypeError, match="model 1 must be a fitted regression"):
        ci.stats.regression_table(ci.stats.ttest([1.0, 2, 3], [2.0, 3, 5]))
    with pytest.raises(ArgumentError, match="`statistic`"):
        ci.stats.regression_table(fits["OLS"], statistic="se")
    with pytest.raises(ArgumentError, match=r"`terms`.*'q'"):
        ci.stats.regression_table(fits["OLS"], terms=["x", "q"])
    with pytest.raises(ArgumentError, match="`fit_stats`"):
        ci.stats.regression_table(fits["OLS"], fit_stats=["nope"])
    with pytest.raises(ArgumentError, match="`labels`"):
        ci.stats.regression_table(fits["OLS"], labels=["a", "b"])
    with pytest.raises(ArgumentError, match="unique"):
        ci.stats.regression_table(fits["OLS"], fits["Logit"], labels=["a", "a"])
    with pytest.raises(ArgumentError, match="`stars`"):
        ci.stats.regression_table(fits["OLS"], stars={"*": 5})


def test_docstring_examples_run():
    from causalinfer.stats import _regtable

    result = doctest.testmod(_regtable, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_mixed_model_column_shows_groups():
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(15), 6)
    df = pd.DataFrame({"g": g, "x": rng.normal(size=90)})
    df["y"] = 1 + df.x + rng.normal(size=15)[g] + rng.normal(size=90)
    tab = ci.stats.regression_table({"OLS": ci.stats.ols("y ~ x", data=df), "LMM": ci.stats.lmm("y ~ x", data=df, groups="g")})
    f = tab.formatted()
    assert f.loc["Groups", "LMM"] == "15" and f.loc["Groups", "OLS"] == ""
    assert f.loc["Std. errors", "LMM"] == "Satterthwaite"
    check_result(tab)
