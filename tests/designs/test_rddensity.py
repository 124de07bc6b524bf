"""rdd_density against the rddensity package (tests/reference/rddensity_reference.py -> rddensity_reference.json)."""

from __future__ import annotations

import numpy as np
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer._testing import check_result

REF = load_reference("rddensity_reference")
CASES = {c["name"]: c for c in REF["cases"]}
RTOL = 1e-6


def _x(name: str) -> np.ndarray:
    if name.startswith("lmb"):
        return ci.load_dataset("close_elections_lmb", frame_only=True)["lagdemvoteshare"].to_numpy()
    return np.asarray(REF["sims"][name.split("_")[0]])


@pytest.mark.parametrize("name", list(CASES))
def test_against_rddensity(name):
    want = CASES[name]
    a = dict(want["args"])
    kw = {"cutoff": a.pop("cutoff")}
    if "h" in a:
        kw["bandwidth"] = a.pop("h")[0]
    if "p" in a:
        kw["order"] = a.pop("p")
    kw.update(a)
    r = ci.designs.rdd_density(_x(name), **kw)
    d = r.details
    assert [d["bandwidth_below"], d["bandwidth_above"]] == pytest.approx(want["h"], rel=RTOL)
    assert [d["n_effective_below"], d["n_effective_above"]] == want["n_eff"]
    assert [d["density_below"], d["density_above"], r.estimate] == pytest.approx(want["hat"], rel=RTOL)
    vce = kw.get("vce", "jackknife")
    sd = want["sd_jk"] if vce == "jackknife" else want["sd_asy"]
    assert [d["std_error_below"], d["std_error_above"], r.std_error] == pytest.approx(sd, rel=RTOL)
    assert r.statistic == pytest.approx(want["t_jk"] if vce == "jackknife" else want["t_asy"], rel=RTOL)
    check_result(r)


def test_detects_bunching_and_passes_smooth():
    assert ci.designs.rdd_density(_x("bunch")).pvalue < 0.01
    assert ci.designs.rdd_density(_x("smooth")).pvalue > 0.05


def test_bad_input():
    x = np.r_[np.linspace(-1, -0.01, 10), np.linspace(0, 1, 200)]
    with pytest.raises(
        ci.DataError, match=r"`running` has 10 observation\(s\) below and 200 at or above the cutoff 0; .* needs at least 24"
    ):
        ci.designs.rdd_density(x)
    with pytest.raises(ci.ArgumentError, match="`vce`"):
        ci.designs.rdd_density(x, vce="bootstrap")
