"""Reference values for callaway_santanna from the Python port of R's `did` package (csdid).

Run in a separate environment with `pip install csdid==0.4.3 drdid==1.1.7` (not a project dependency):

    python tests/reference/csdid_reference.py

It writes csdid_reference.json (ATT(g,t) with analytic standard errors, and the simple, group, dynamic and calendar
aggregations with theirs) and csdid_reference_data.csv (the simulated panels, so the tests need neither csdid nor
the simulation code). pytest does not collect this file.
"""

from __future__ import annotations

import json
import platform
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from csdid.att_gt import ATTgt

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def simulate(seed: int, n_units: int = 400, n_times: int = 6, never: bool = True) -> pd.DataFrame:
    """A staggered panel where adoption and trends depend on covariates (parallel trends only conditionally)."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n_units)
    x2 = rng.binomial(1, 0.4, size=n_units).astype(float)
    score = 0.6 * x1 - 0.5 * x2
    u = rng.uniform(size=n_units)
    p_treat = 1 / (1 + np.exp(-score))
    cohorts = np.array([3, 4, 5]) if never else np.array([3, 4, 5, 6])
    g = np.where(u < p_treat if never else np.ones(n_units, bool), rng.choice(cohorts, size=n_units), 0)
    unit = np.repeat(np.arange(1, n_units + 1), n_times)
    time = np.tile(np.arange(1, n_times + 1), n_units)
    gu = g[unit - 1]
    treated = (gu > 0) & (time >= gu)
    effect = np.where(treated, 1.0 + 0.5 * (time - gu) + 0.3 * x1[unit - 1], 0.0)
    x3 = x1[unit - 1] + 0.2 * time + rng.normal(scale=0.5, size=unit.size)  # time-varying
    y = 2.0 + rng.normal(size=n_units)[unit - 1] + 0.3 * time + 0.4 * time * x1[unit - 1] - 0.3 * time * x2[unit - 1]
    y = y + effect + rng.normal(size=unit.size)
    return pd.DataFrame(
        {
            "sim": f"s{seed}{'' if never else 'nn'}",
            "id": unit,
            "time": time,
            "g": gu,
            "d": treated.astype(int),
            "y": y,
            "x1": x1[unit - 1],
            "x2": x2[unit - 1],
            "x3": x3,
        }
    )


def castle() -> pd.DataFrame:
    df = pd.read_csv(ROOT / "datasets" / "castle.csv")
    return df


def run(df: pd.DataFrame, *, y, g, idname, t, xformla, control, est_method, anticipation=0, base_period="varying", dynamic_kw=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ATTgt(
            yname=y,
            gname=g,
            idname=idname,
            tname=t,
            data=df.copy(),
            control_group=control,
            xformla=xformla,
            anticipation=anticipation,
            cband=False,
            faster_mode=False,
        ).fit(est_method=est_method, base_period=base_period, bstrap=False)
        res = fit.results
        out = {
            "cells": {
                "g": [float(v) for v in res["group"]],
                "t": [float(v) for v in res["year"]],
                "att": [float(v) for v in res["att"]],
                "se": [float(v) for v in res["se"]],
            },
            "aggregations": {},
        }
        for typec in ("simple", "group", "dynamic", "calendar"):
            kw = dynamic_kw if (typec == "dynamic" and dynamic_kw) else {}
            a = fit.aggte(typec=typec, bstrap=False, cband=False, **kw).atte
            out["aggregations"][typec] = {
                "overall_att": float(a["overall_att"]),
                "overall_se": float(np.asarray(a["overall_se"]).ravel()[0]),
                "egt": None if a["egt"] is None else [float(v) for v in np.asarray(a["egt"]).ravel()],
                "att_egt": None if a["att_egt"] is None else [float(v) for v in np.asarray(a["att_egt"]).ravel()],
                "se_egt": None if a["se_egt"] is None else [float(v) for v in np.asarray(a["se_egt"]).ravel()],
            }
    return out


def main() -> None:
    sims = pd.concat([simulate(1), simulate(2), simulate(3, never=False)], ignore_index=True)
    sims.to_csv(HERE / "csdid_reference_data.csv", index=False, float_format="%.17g")
    sims = pd.read_csv(HERE / "csdid_reference_data.csv")
    cases = []

    def add(name, data, source, **kw):
        spec = {k: v for k, v in kw.items()}
        cases.append({"name": name, "data": source, "spec": spec, "expected": run(data, **kw)})

    c = castle()
    base = dict(y="l_homicide", g="effyear", idname="sid", t="year")
    add("castle_never", c, "castle", **base, xformla=None, control="nevertreated", est_method="dr")
    add("castle_notyet", c, "castle", **base, xformla=None, control="notyettreated", est_method="dr")
    add("castle_universal", c, "castle", **base, xformla=None, control="nevertreated", est_method="dr", base_period="universal")
    add("castle_reg_covariates", c, "castle", **base, xformla="~ l_income + poverty", control="nevertreated", est_method="reg")
    s1 = sims[sims.sim == "s1"]
    s2 = sims[sims.sim == "s2"]
    snn = sims[sims.sim == "s3nn"]
    sbase = dict(y="y", g="g", idname="id", t="time")
    for method in ("dr", "ipw", "reg"):
        for control in ("nevertreated", "notyettreated"):
            add(f"s1_{method}_{control}", s1, "s1", **sbase, xformla="~ x1 + x2", control=control, est_method=method)
    add("s2_dr_anticipation", s2, "s2", **sbase, xformla="~ x1 + x2", control="notyettreated", est_method="dr", anticipation=1)
    add("s2_ipw_anticipation_never", s2, "s2", **sbase, xformla="~ x1 + x2", control="nevertreated", est_method="ipw", anticipation=1)
    add("s2_dr_universal", s2, "s2", **sbase, xformla="~ x1 + x2", control="nevertreated", est_method="dr", base_period="universal")
    add("s2_reg_timevarying", s2, "s2", **sbase, xformla="~ x3", control="notyettreated", est_method="reg")
    add("s2_dr_window", s2, "s2", **sbase, xformla="~ x1", control="nevertreated", est_method="dr", dynamic_kw={"min_e": -2, "max_e": 2})
    add("s2_dr_balance", s2, "s2", **sbase, xformla="~ x1", control="nevertreated", est_method="dr", dynamic_kw={"balance_e": 1})
    add("s3_no_never_notyet", snn, "s3nn", **sbase, xformla="~ x1 + x2", control="notyettreated", est_method="dr")
    out = {
        "generated_by": "tests/reference/csdid_reference.py",
        "peer": {"csdid": version("csdid"), "drdid": version("drdid"), "python": platform.python_version()},
        "settings": "ATTgt(..., cband=False, faster_mode=False).fit(bstrap=False); aggte(bstrap=False, cband=False): analytic SEs",
        "cases": cases,
    }
    with open(HERE / "csdid_reference.json", "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
