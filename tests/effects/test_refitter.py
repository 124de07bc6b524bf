"""The effects layer: a declared refitter that survives replace(), one refutation loop, clear refusals."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.effects import EffectResult, Refitter, RefutationResult, e_value, refute
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, AssumptionWarning


def _cross(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = rng.integers(0, 2, n)
    u = rng.normal(size=n)
    d = (0.9 * z + 0.5 * x + u > 0.5).astype(int)
    y = 1 + d + x + 0.5 * u + rng.normal(size=n)
    return pd.DataFrame({"y": y, "d": d, "z": z, "x": x, "dose": x + rng.normal(size=n)})


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        return func(*args, **kwargs)


def _ipw() -> EffectResult:
    return ci.causal.ipw(_cross(), outcome="y", treatment="d", covariates="x")


def _iv() -> EffectResult:
    return _quiet(ci.designs.iv_2sls, _cross(), outcome="y", treatment="d", instruments="z", covariates="x")


def _dose() -> EffectResult:
    return _quiet(ci.designs.dose_response, _cross(), outcome="y", treatment="dose", covariates="x")


@pytest.mark.parametrize("make", [_ipw, _iv, _dose], ids=["ipw", "iv_2sls", "dose_response"])
def test_replace_keeps_the_refitter_so_refute_still_works(make):
    r = make()
    relabelled = r.replace(label="renamed")
    assert relabelled.refitter is r.refitter
    assert isinstance(relabelled.refitter, Refitter)
    ref = relabelled.refute("subset", n_simulations=4, random_state=1, progress=False)
    assert isinstance(ref, RefutationResult)
    same = r.refute("subset", n_simulations=4, random_state=1, progress=False)
    assert ref.estimate == pytest.approx(same.estimate, rel=1e-12)
    assert "renamed" in ref.method


def test_replace_keeps_the_refitter_for_sensitivity():
    r = _ipw()
    assert r.replace(label="x").sensitivity("e_value").estimate == pytest.approx(r.sensitivity("e_value").estimate, rel=1e-12)
    rv = r.replace(label="x").sensitivity("robustness_value")
    assert 0 < rv.estimate < 1
    dose = _dose()
    assert dose.replace(label="x").sensitivity("e_value").estimate == pytest.approx(dose.sensitivity("e_value").estimate, rel=1e-12)


@pytest.mark.parametrize("make", [_ipw, _iv], ids=["ipw", "iv_2sls"])
def test_the_refitter_is_declared_but_not_compared_printed_or_serialised(make):
    r = make()
    field = {f.name: f for f in dataclasses.fields(r)}["refitter"]
    assert field.compare is False and field.repr is False
    assert "refitter" not in r.to_dict()
    assert "Refitter" not in str(r) and "refitter" not in repr(r)
    assert r == r.replace(refitter=None)
    rebuilt = ci.Result.from_json(r.to_json())
    assert rebuilt.refitter is None
    assert rebuilt == r
    check_result(r)


def test_design_results_refuse_sensitivity_analyses_that_do_not_apply_with_our_error():
    iv = _iv()
    for call in (
        lambda: e_value(iv),
        lambda: ci.causal.e_value(iv),
        lambda: ci.causal.robustness_value(iv),
        lambda: ci.causal.unobserved_confounder(iv, treatment_strength=[0.1], outcome_strength=[0.1]),
        lambda: ci.causal.rosenbaum_bounds(iv),
        lambda: iv.sensitivity("robustness_value"),
    ):
        with pytest.raises(ci.CausalInferError) as info:
            call()
        assert isinstance(info.value, ArgumentError)
        message = str(info.value)
        assert "iv_2sls" in message or "matching result" in message
    with pytest.raises(ArgumentError, match=r"do not apply.*refute"):
        ci.causal.e_value(iv)
    # where it is meaningful (a continuous treatment) the E-value works through the same function
    dose = _dose()
    assert ci.causal.e_value(dose).estimate == pytest.approx(dose.sensitivity("e_value").estimate, rel=1e-12)


def test_sensitivity_of_something_that_is_not_an_effect_result():
    with pytest.raises(ArgumentTypeError, match="`result` must be an EffectResult"):
        e_value(ci.stats.ttest([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ArgumentError, match="does not carry its data"):
        e_value(_ipw().replace(refitter=None))


class _MeanDifference:
    """A minimal refitter: the difference of means of y between d == 1 and d == 0, refitted on row subsets."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    fingerprint = "toy"
    refuters = ("subset", "placebo")
    default_refuters = ("subset",)

    @staticmethod
    def estimate(frame: pd.DataFrame) -> float:
        return float(frame.y[frame.d == 1].mean() - frame.y[frame.d == 0].mean())

    def title(self, kind: str) -> str:
        return kind

    def null(self, kind: str) -> str:
        return f"{kind} null"

    def deterministic(self, kind: str) -> bool:
        return False

    def simulator(self, kind: str, subset_fraction: float):
        n = len(self.frame)

        def one(rng: np.random.Generator) -> float:
            if kind == "placebo":
                return self.estimate(self.frame.assign(d=self.frame.d.to_numpy()[rng.permutation(n)]))
            return self.estimate(self.frame.iloc[np.sort(rng.choice(n, round(subset_fraction * n), replace=False))])

        return one

    def fixed_test(self):
        raise AssertionError("not used")

    def sensitivity(self, result, kind, **kwargs):
        raise ArgumentError(f"{kind} does not apply to the toy estimator")


def test_any_estimator_following_the_protocol_gets_the_refutation_loop():
    frame = _cross()
    toy = _MeanDifference(frame)
    assert isinstance(toy, Refitter)
    est = toy.estimate(frame)
    r = EffectResult(method="difference of means", estimate=est, std_error=0.1, ci_low=est - 0.2, ci_high=est + 0.2, refitter=toy)
    ref = refute(r, ["subset", "placebo"], n_simulations=20, random_state=2, progress=False)
    assert [x.refuter for x in ref] == ["subset", "placebo"]
    assert abs(ref[1].estimate) < abs(est)  # a permuted treatment has no effect
    with pytest.raises(ArgumentError, match="kind"):
        r.refute("bootstrap")
    with pytest.raises(ArgumentError, match="toy"):
        r.sensitivity("e_value")
