"""rdplot against rdrobust.rdplot (tests/reference/rdplot_reference.py -> rdplot_reference.json)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer._testing import check_result

REF = load_reference("rdplot_reference")
SIM = pd.DataFrame(load_reference("rdrobust_reference")["sim"])
CASES = {c["name"]: c for c in REF["cases"]}


@pytest.mark.parametrize("name", list(CASES))
def test_against_rdplot(name):
    want = CASES[name]
    a = dict(want["args"])
    df = ci.load_dataset("close_elections_lmb", frame_only=True) if name.startswith("lmb") else SIM
    kw = {"outcome": a.pop("outcome"), "running": a.pop("running"), "cutoff": a.pop("cutoff")}
    for ours, theirs in (("order", "p"), ("n_bins", "nbins"), ("binselect", "binselect"), ("kernel", "kernel")):
        if theirs in a:
            kw[ours] = a.pop(theirs)
    r = ci.designs.rdplot(df, **kw)
    d = r.details
    assert [d["n_bins_below"], d["n_bins_above"]] == want["J"]
    assert list(d["J_imse"]) == pytest.approx(want["J_IMSE"], rel=1e-9)
    assert list(d["J_mimicking_variance"]) == pytest.approx(want["J_MV"], rel=1e-9)
    bins = d["bins"]
    assert bins["n"].tolist() == want["N"]
    np.testing.assert_allclose(bins["x"], want["mean_x"], rtol=1e-9)
    np.testing.assert_allclose(bins["y"], want["mean_y"], rtol=1e-9)
    np.testing.assert_allclose(d["coefficients"]["below"], want["coef_left"], rtol=1e-7)
    np.testing.assert_allclose(d["coefficients"]["above"], want["coef_right"], rtol=1e-7)
    check_result(r)


def test_plots_and_refuses_thin_sides():
    r = ci.designs.rdplot(SIM, outcome="ys", running="x", cutoff=0.0)
    ax = ci.designs.plot_rdd(r)
    assert len(ax.collections) == 2
    thin = pd.DataFrame({"x": np.r_[-0.5, -0.4, np.linspace(0, 1, 50)], "y": np.arange(52.0)})
    with pytest.raises(ci.DataError, match=r"rdplot needs at least 20 observations and 3 distinct values .* got 2 below"):
        ci.designs.rdplot(thin, outcome="y", running="x", cutoff=0.0)


def test_weights_role_is_refused_not_ignored():
    ds = ci.Dataset(SIM.assign(w=1.0), outcome="ys", running="x", cutoff=0.0, weights="w")
    with pytest.raises(ci.RoleError, match=r"rdplot does not use observation weights"):
        ci.designs.rdplot(ds)
