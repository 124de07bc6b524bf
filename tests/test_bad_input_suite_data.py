"""Bad data for representative functions of every module: each case must raise a CausalInferError that names
the argument or the column at fault.

The frames are tiny (40 rows). Every function gets the same variants (no rows, one row, a constant outcome, NaN or
inf or strings in the outcome, a missing column, a constant treatment, NaN in a covariate) where the variant is an
error for it; a variant that R answers with a number (a one-row paired Wilcoxon test, for instance) is not listed.
Cases marked ``xfail`` are known defects of issue 12; each is strict, so its mark must go when the fix lands.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, CausalInferError, DataError, RoleError

N = 40


def _base() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "y": rng.normal(size=N),
            "d": np.tile([0, 1], N // 2),
            "x1": rng.normal(size=N),
            "x2": rng.normal(size=N),
            "g": np.repeat(["a", "b"], N // 2),
            "t": np.tile([0, 0, 1, 1], N // 4),
            "z": np.tile([0, 1, 1, 0], N // 4),
        }
    )


def _variant(kind: str) -> pd.DataFrame:
    df = _base()
    if kind == "empty":
        return df.iloc[:0]
    if kind == "one-row":
        return df.iloc[:1]
    if kind == "constant-outcome":
        df["y"] = 1.0
    elif kind == "nan-outcome":
        df.loc[3, "y"] = np.nan
    elif kind == "inf-outcome":
        df.loc[3, "y"] = np.inf
    elif kind == "string-outcome":
        df["y"] = df["y"].map(lambda v: f"{v:.3f}")
    elif kind == "missing-column":
        df = df.drop(columns="y")
    elif kind == "constant-treatment":
        df["d"] = 1
    elif kind == "nan-covariate":
        df.loc[2, "x1"] = np.nan
    return df


COV = ["x1", "x2"]
# function label -> (call on a frame, the variants that must be refused, the words one of which the message must hold)
FUNCTIONS = {
    "stats.ttest": (
        lambda df: ci.stats.ttest("y", data=df, group="g"),
        ("empty", "one-row", "constant-outcome", "nan-outcome", "inf-outcome", "string-outcome", "missing-column"),
        ("`x", "`group`", "'y'", "'g'", "constant"),
    ),
    "stats.mean_ci": (
        lambda df: ci.stats.mean_ci("y", data=df),
        ("empty", "one-row", "constant-outcome", "nan-outcome", "inf-outcome", "string-outcome", "missing-column"),
        ("`x`", "'y'"),
    ),
    "stats.correlation": (
        lambda df: ci.stats.correlation("y", "x1", data=df),
        ("empty", "one-row", "constant-outcome", "nan-outcome", "inf-outcome", "string-outcome", "missing-column", "nan-covariate"),
        ("`x`", "`y`", "'y'", "n = 1"),
    ),
    "stats.ols": (
        lambda df: ci.stats.ols("y ~ x1 + x2", data=df),
        ("empty", "one-row", "nan-outcome", "inf-outcome", "string-outcome", "missing-column", "nan-covariate"),
        ("'y'", "'x1'", "`data`", "rows", "observation", "outcome"),
    ),
    "stats.mann_whitney": (
        lambda df: ci.stats.mann_whitney("y", data=df, group="g"),
        ("empty", "one-row", "constant-outcome", "nan-outcome", "inf-outcome", "string-outcome", "missing-column"),
        ("`x", "`group`", "'y'", "values"),
    ),
    "stats.anova_oneway": (
        lambda df: ci.stats.anova_oneway("y", data=df, group="g"),
        ("empty", "one-row", "constant-outcome", "nan-outcome", "inf-outcome", "string-outcome", "missing-column"),
        ("`x", "`group`", "'y'", "values"),
    ),
    "stats.shapiro_wilk": (
        lambda df: ci.stats.shapiro_wilk("y", data=df),
        ("empty", "one-row", "constant-outcome", "nan-outcome", "inf-outcome", "string-outcome", "missing-column"),
        ("`x`", "'y'"),
    ),
    "stats.bootstrap": (
        lambda df: ci.stats.bootstrap("y", data=df, n_resamples=99, random_state=0),
        ("empty", "one-row", "constant-outcome", "nan-outcome", "inf-outcome", "string-outcome", "missing-column"),
        ("`x`", "'y'", "constant"),
    ),
    "causal.ipw": (
        lambda df: ci.causal.ipw(df, outcome="y", treatment="d", covariates=COV),
        (
            "empty",
            "one-row",
            "constant-outcome",
            "nan-outcome",
            "inf-outcome",
            "string-outcome",
            "missing-column",
            "constant-treatment",
            "nan-covariate",
        ),
        ("`data`", "'y'", "'d'", "'x1'", "`outcome`"),
    ),
    "causal.aipw": (
        lambda df: ci.causal.aipw(df, outcome="y", treatment="d", covariates=COV),
        (
            "empty",
            "one-row",
            "constant-outcome",
            "nan-outcome",
            "inf-outcome",
            "string-outcome",
            "missing-column",
            "constant-treatment",
            "nan-covariate",
        ),
        ("`data`", "'y'", "'d'", "'x1'", "`outcome`"),
    ),
    "causal.regression_adjustment": (
        lambda df: ci.causal.regression_adjustment(df, outcome="y", treatment="d", covariates=COV),
        (
            "empty",
            "one-row",
            "constant-outcome",
            "nan-outcome",
            "inf-outcome",
            "string-outcome",
            "missing-column",
            "constant-treatment",
            "nan-covariate",
        ),
        ("`data`", "'y'", "'d'", "'x1'", "`outcome`"),
    ),
    "causal.matching": (
        lambda df: ci.causal.matching(df, outcome="y", treatment="d", covariates=COV),
        (
            "empty",
            "one-row",
            "constant-outcome",
            "nan-outcome",
            "inf-outcome",
            "string-outcome",
            "missing-column",
            "constant-treatment",
            "nan-covariate",
        ),
        ("`data`", "'y'", "'d'", "'x1'", "`outcome`"),
    ),
    "causal.stratification": (
        lambda df: ci.causal.stratification(df, outcome="y", treatment="d", covariates=COV, n_strata=2),
        (
            "empty",
            "one-row",
            "constant-outcome",
            "nan-outcome",
            "inf-outcome",
            "string-outcome",
            "missing-column",
            "constant-treatment",
            "nan-covariate",
        ),
        ("`data`", "'y'", "'d'", "'x1'", "`outcome`"),
    ),
    "designs.did_2x2": (
        lambda df: ci.designs.did_2x2(df, outcome="y", treatment="d", time="t"),
        ("empty", "one-row", "nan-outcome", "inf-outcome", "string-outcome", "missing-column", "constant-treatment"),
        ("`data`", "'y'", "'d'", "`outcome`"),
    ),
    "designs.iv_2sls": (
        lambda df: ci.designs.iv_2sls(df, outcome="y", treatment="d", instruments="z"),
        ("empty", "one-row", "nan-outcome", "inf-outcome", "string-outcome", "missing-column", "constant-treatment"),
        ("`data`", "'y'", "'d'", "`outcome`"),
    ),
    "designs.dose_response": (
        lambda df: ci.designs.dose_response(df, outcome="y", treatment="x1"),
        ("empty", "one-row", "nan-outcome", "inf-outcome", "string-outcome", "missing-column"),
        ("`data`", "'y'", "'x1'", "`outcome`"),
    ),
    "experiments.analyze": (
        lambda df: ci.experiments.analyze(df, variant="d", control=0, metrics=["y"], covariates="x1"),
        ("empty", "one-row", "nan-outcome", "inf-outcome", "string-outcome", "missing-column", "constant-treatment", "nan-covariate"),
        ("`data`", "'y'", "'d'", "'x1'", "`metrics`"),
    ),
    "experiments.analyze-quantile": (
        lambda df: ci.experiments.analyze(df, variant="d", control=0, metrics=[ci.experiments.quantile("y", 0.9)]),
        ("empty", "one-row", "nan-outcome", "inf-outcome", "string-outcome", "missing-column", "constant-treatment"),
        ("`data`", "'y'", "'d'", "`metrics`"),
    ),
    "experiments.srm_test": (
        lambda df: ci.experiments.srm_test(df, variant="d"),
        ("empty", "one-row", "constant-treatment"),
        ("`data`", "'d'"),
    ),
}

# Known defects (issue 12): the case stays in the suite, marked, until the fix lands.
KNOWN: dict[tuple[str, str], str] = {}


def _cases():
    for label, (_, variants, _words) in FUNCTIONS.items():
        for kind in variants:
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[label, kind])] if (label, kind) in KNOWN else []
            yield pytest.param(label, kind, id=f"{label}-{kind}", marks=marks)


@pytest.mark.parametrize(("label", "kind"), list(_cases()))
def test_bad_data_is_refused_naming_the_argument_or_column(label, kind):
    call, _, words = FUNCTIONS[label]
    frame = _variant(kind)
    before = frame.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CausalInferError) as info:
            call(frame)
    err = info.value
    message = str(err)
    if kind in ("string-outcome",):
        assert isinstance(err, (DataError, ArgumentTypeError)), repr(err)
    elif kind == "missing-column":
        assert isinstance(err, RoleError), repr(err)
        assert "did you mean" in message or "columns" in message or "not a column" in message
    else:
        assert isinstance(err, (DataError, ArgumentError)), repr(err)
    assert isinstance(err, (ValueError, TypeError))
    assert any(w in message for w in words), f"{label} on {kind}: the message names none of {words}: {message}"
    if kind == "empty":
        assert any(w in message for w in ("no rows", "has 0", "got 0", "0 rows", "empty")), (
            f"the message does not say the data are empty: {message}"
        )
    assert "np.int64" not in message and "np.float64" not in message
    pd.testing.assert_frame_equal(frame, before)


# ----------------------------------------------------------------------------------------------------------------
# Inputs whose rows are paired: never by position when labels disagree.

A = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], index=list("abcdef"))
B = pd.Series([2.0, 1.0, 4.0, 3.0, 6.0, 5.5], index=list("uvwxyz"))

PAIRED = {
    "stats.ttest-paired": lambda: ci.stats.ttest(A, B, paired=True),
    "stats.correlation": lambda: ci.stats.correlation(A, B),
    "stats.wilcoxon": lambda: ci.stats.wilcoxon(A, B),
    "stats.ols": lambda: ci.stats.ols(pd.DataFrame({"x": A.to_numpy()}, index=A.index), B),
    "predict.evaluate": lambda: ci.predict.evaluate(
        pd.Series([0, 1, 0, 1, 1, 0], index=range(6)), pd.Series([0.1, 0.8, 0.3, 0.7, 0.6, 0.2], index=range(10, 16))
    ),
}


@pytest.mark.parametrize("label", list(PAIRED))
def test_misaligned_series_are_refused(label):
    with pytest.raises(DataError, match=r"index|label|align"):
        PAIRED[label]()


@pytest.mark.parametrize(
    ("label", "call", "names"),
    [
        ("ttest-paired-lengths", lambda: ci.stats.ttest([1.0, 2.0, 3.0], [1.0, 2.0], paired=True), ("`x`", "`y`")),
        ("correlation-lengths", lambda: ci.stats.correlation([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0]), ("`x`", "`y`")),
        ("evaluate-lengths", lambda: ci.predict.evaluate([0, 1, 0, 1], [0.2, 0.8, 0.4]), ("`y_pred`",)),
        ("compare_models-lengths", lambda: ci.predict.compare_models([0, 1, 0, 1], [0.2, 0.8, 0.4, 0.6], [0.1, 0.9, 0.3]), ("`y_pred_b`",)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_unequal_lengths_are_refused(label, call, names):
    with pytest.raises(DataError) as info:
        call()
    assert any(n in str(info.value) for n in names), str(info.value)
