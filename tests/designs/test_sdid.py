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
