"""Synthetic difference-in-differences against an independent R implementation (tests/reference/sdid.R)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged


@pytest.fixture(scope="module")
def ref():
    return load_reference("sdid")


def _fit(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        return ci.designs.synthdid(ci.load_dataset("texas"), treatment_time=1993, **kw)


def test_texas_estimate_and_weights_match_r(ref):
    r = _fit(treated_unit=48, se_method="none")
    assert r.estimate == pytest.approx(ref["texas"]["estimate"], rel=1e-9)
    assert r.details["unit_weights"]["unit"].tolist() == ref["texas"]["controls"]
    np.testing.assert_allclose(r.details["unit_weights"]["weight"], ref["texas"]["omega"], atol=1e-10)
    np.testing.assert_allclose(r.details["time_weights"]["weight"], ref["texas"]["lambda"], atol=1e-10)
    assert r.details["noise_level"] == pytest.approx(ref["texas"]["noise"], rel=1e-12)
    assert r.details["zeta_omega"] == pytest.approx(ref["texas"]["zeta_omega"], rel=1e-12)
    assert math.isnan(r.std_error)


def test_three_treated_units_and_jackknife_match_r(ref):
    r = _fit(treated_unit=[48, 6, 12], se_method="jackknife")
    assert r.estimate == pytest.approx(ref["three"]["estimate"], rel=1e-9)
    assert r.std_error == pytest.approx(ref["three"]["jackknife_se"], rel=1e-9)
    np.testing.assert_allclose(r.details["time_weights"]["weight"], ref["three"]["lambda"], atol=1e-10)
    check_result(r)


def test_placebo_standard_error_is_seeded_and_contract_holds():
    frame = ci.load_dataset("texas", frame_only=True)
    kw = dict(outcome="bmprison", unit="statefip", time="year", treated_unit=48, treatment_time=1993, n_replications=20)
    a = check_unchanged(frame, lambda f: ci.designs.synthdid(f, random_state=3, **kw))
    b = ci.designs.synthdid(frame, random_state=3, **kw)
    assert a.std_error == b.std_error > 0
    draws = a.details["replications"]["estimate"]
    assert a.std_error == pytest.approx(math.sqrt(19 / 20) * draws.std(ddof=1), rel=1e-12)
    check_result(a)
    check_nested_intervals(ci.designs.synthdid, frame, random_state=3, **kw)


def test_bad_input():
    with pytest.raises(ci.ArgumentError, match="jackknife' needs at least 2 treated units"):
        _fit(treated_unit=48, se_method="jackknife")
    with pytest.raises(ci.ArgumentError, match="needs `treated_unit`"):
        ci.designs.synthdid(ci.load_dataset("texas"), treatment_time=1993)
    with pytest.raises(ci.ArgumentError, match=r"`treated_unit` = 99 is not a unit"):
        _fit(treated_unit=[48, 99])
    with pytest.raises(ci.ArgumentError, match="placebo' needs more controls than treated units"):
        _fit(treated_unit=[48, 6, 12], donors=[1, 2])


def test_placebo_draws_are_leave_one_out_estimates():
    """synthdid's placebo (vcov.R): the last control of a permutation plays the treated, the weights are re-estimated
    from the fit's weights with the fit's regularisation. With one treated unit each draw is therefore one of the N0
    leave-one-out placebo estimates (the order of the other controls only changes the starting point), computed here
    directly; the Monte-Carlo spread of the standard error is reported beside it."""
    from causalinfer.designs import _sdid

    frame = ci.load_dataset("texas", frame_only=True)
    donors = [1, 4, 5, 6, 8, 9, 10, 12]
    r = ci.designs.synthdid(
        frame, outcome="bmprison", unit="statefip", time="year", treated_unit=48, treatment_time=1993, donors=donors,
        n_replications=10, random_state=4,
    )  # fmt: skip
    wide = frame.pivot(index="statefip", columns="year", values="bmprison").loc[donors]
    Y = wide.to_numpy(float)
    T0 = int((wide.columns < 1993).sum())
    d = r.details
    opts = _sdid._Options(zeta_omega=d["zeta_omega"], zeta_lambda=d["zeta_lambda"], min_decrease=1e-5 * d["noise_level"])
    omega, lam = d["unit_weights"]["weight"].to_numpy(), d["time_weights"]["weight"].to_numpy()
    loo = []
    for j in range(len(donors)):
        order = np.r_[np.delete(np.arange(len(donors)), j), j]
        loo.append(_sdid._estimate(Y[order], len(donors) - 1, T0, opts, _sdid._sum_normalize(omega[order[:-1]]), lam).estimate)
    draws = d["replications"]["estimate"].to_numpy()
    gaps = np.abs(draws[:, None] - np.array(loo)[None, :]).min(axis=1)
    assert gaps.max() < 1e-8 * max(1.0, np.abs(loo).max())
    c = draws - draws.mean()
    spread = math.sqrt((np.mean(c**4) - np.mean(c**2) ** 2) / (4 * draws.size * np.mean(c**2)))
    assert d["placebo_se_monte_carlo_error"] == pytest.approx(spread, rel=1e-12)
