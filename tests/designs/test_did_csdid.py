"""callaway_santanna against the Python port of R's did (csdid 0.4.3): ATT(g,t), analytic standard errors and the
four aggregations with their standard errors, on the castle data and on simulated panels with covariates.

The values come from tests/reference/csdid_reference.py (run in its own environment); the simulated panels it drew
are stored beside them in csdid_reference_data.csv.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from reference_data import REFERENCE, load_reference

import causalinfer as ci
from causalinfer._testing import check_result

TOL = dict(rtol=1e-6, atol=1e-9)
CASES = load_reference("csdid_reference")["cases"]


@pytest.fixture(scope="module")
def panels():
    sims = pd.read_csv(REFERENCE / "csdid_reference_data.csv")
    out = {name: frame.drop(columns="sim").reset_index(drop=True) for name, frame in sims.groupby("sim")}
    out["castle"] = ci.load_dataset("castle").frame
    return out


def _call(case, panels, aggregate, **extra):
    spec = case["spec"]
    castle = case["data"] == "castle"
    covs = [] if spec["xformla"] is None else [c.strip() for c in spec["xformla"].replace("~", "").split("+")]
    kw = dict(
        outcome=spec["y"],
        treatment="post" if castle else "d",
        unit=spec["idname"],
        time=spec["t"],
        covariates=covs,
        control={"nevertreated": "never", "notyettreated": "notyet"}[spec["control"]],
        est_method=spec["est_method"],
        anticipation=spec.get("anticipation", 0),
        base_period=spec.get("base_period", "varying"),
        aggregate=aggregate,
        n_boot=0,
        **extra,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        return ci.designs.callaway_santanna(panels[case["data"]], **kw)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_group_time_cells(case, panels):
    want = case["expected"]["cells"]
    r = _call(case, panels, "none")
    gt = r.details["group_time"]
    np.testing.assert_array_equal(gt["cohort"].to_numpy(float), want["g"])
    np.testing.assert_array_equal(gt["period"].to_numpy(float), want["t"])
    np.testing.assert_allclose(gt["estimate"], want["att"], **TOL)
    se_want = np.array([np.nan if s is None else s for s in want["se"]], dtype=float)
    finite = np.isfinite(se_want)
    np.testing.assert_allclose(gt["std_error"].to_numpy()[finite], se_want[finite], **TOL)
    assert (gt["std_error"].to_numpy()[~finite] == 0).all()  # universal base cells: 0 by construction
    check_result(r)


@pytest.mark.parametrize("aggregate", ["simple", "group", "dynamic", "calendar"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_aggregations(case, panels, aggregate):
    want = case["expected"]["aggregations"][aggregate]
    extra = {}
    if aggregate == "dynamic" and case["name"] == "s2_dr_window":
        extra = dict(min_e=-2, max_e=2)
    if aggregate == "dynamic" and case["name"] == "s2_dr_balance":
        extra = dict(balance_e=1)
    r = _call(case, panels, aggregate, **extra)
    assert r.estimate == pytest.approx(want["overall_att"], rel=1e-6, abs=1e-9)
    assert r.std_error == pytest.approx(want["overall_se"], rel=1e-6)
    if aggregate == "simple":
        return
    np.testing.assert_allclose(r.terms["estimate"], want["att_egt"], **TOL)
    se_want = np.array([np.nan if s is None else s for s in want["se_egt"]], dtype=float)
    finite = np.isfinite(se_want)
    np.testing.assert_allclose(r.terms["std_error"].to_numpy()[finite], se_want[finite], **TOL)
    labels = [t.split("=")[1] for t in r.terms["term"]]
    np.testing.assert_allclose([float(v) for v in labels], want["egt"])
