"""Reference values for sun_abraham and did_imputation from pyfixest (a Python port of R's fixest / did2s).

Run in a separate environment with `pip install pyfixest==0.60.0 statsmodels` (not a project dependency):

    python tests/reference/pyfixest_event_reference.py

Writes pyfixest_event_reference.json: for the castle data and one simulated panel of csdid_reference_data.csv,
(1) the saturated cohort-by-event-time regression of Sun and Abraham, y ~ i(rel_time, cohort, ref=-1, ref2=0) | unit
+ time with CRV1 standard errors clustered by unit (pyfixest's default small-sample correction), and (2) Gardner's
two-stage estimates (did2s), which equal the point estimates of the imputation estimator of Borusyak, Jaravel and
Spiess, overall and by event time, and (3) the imputation done by hand on pyfixest's fixed-effect fit of the
untreated observations with a tight demeaning tolerance (did2s keeps pyfixest's default tolerance, good to about
1e-7), and (4) the same with dummies by statsmodels' OLS (exact). pytest does not collect this file.
"""

from __future__ import annotations

import json
import platform
import re
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def prepare(df: pd.DataFrame, g: str, t: str) -> pd.DataFrame:
    out = df.copy()
    out["cohort"] = out[g].astype(int)
    out["rel_time"] = np.where(out["cohort"] > 0, out[t] - out["cohort"], -1).astype(int)
    out["treat"] = ((out["cohort"] > 0) & (out[t] >= out["cohort"])).astype(int)
    return out


def saturated(df: pd.DataFrame, y: str, idname: str, t: str) -> dict:
    fit = pf.feols(f"{y} ~ i(rel_time, cohort, ref=-1, ref2=0) | {idname} + {t}", data=df, vcov={"CRV1": idname})
    tidy = fit.tidy()
    rows = []
    for name, row in tidy.iterrows():
        m = re.search(r"rel_time::(-?\d+):cohort::(\d+)", name)
        rows.append(
            {
                "cohort": int(m.group(2)),
                "event_time": int(m.group(1)),
                "estimate": float(row["Estimate"]),
                "std_error": float(row["Std. Error"]),
            }
        )
    rows.sort(key=lambda r: (r["cohort"], r["event_time"]))
    return {"coefficients": rows, "vcov": np.asarray(fit._vcov).tolist(), "names": list(tidy.index)}


def two_stage(df: pd.DataFrame, y: str, idname: str, t: str) -> dict:
    overall = pf.did2s(df, yname=y, first_stage=f"~ 0 | {idname} + {t}", second_stage="~ treat", treatment="treat", cluster=idname)
    dyn_df = df.assign(rel_post=np.where(df["treat"] == 1, df["rel_time"], -1))
    dyn = pf.did2s(
        dyn_df, yname=y, first_stage=f"~ 0 | {idname} + {t}", second_stage="~ i(rel_post, ref=-1)", treatment="treat", cluster=idname
    )
    tid = dyn.tidy()
    events = [int(re.search(r"(-?\d+)\]?$", n).group(1)) for n in tid.index]
    return {
        "overall": float(overall.tidy().loc["treat", "Estimate"]),
        "event_times": events,
        "dynamic": [float(v) for v in tid["Estimate"]],
    }


def imputation(df: pd.DataFrame, y: str, idname: str, t: str) -> dict:
    """Imputation by hand on pyfixest's fixed-effect fit of the untreated observations (tight demeaning tolerance)."""
    untreated = df[df["treat"] == 0]
    fit = pf.feols(f"{y} ~ 1 | {idname} + {t}", data=untreated, fixef_tol=1e-14)
    treated = df[df["treat"] == 1].copy()
    treated["tau"] = treated[y].to_numpy() - np.asarray(fit.predict(newdata=treated))
    by_e = treated.groupby("rel_time")["tau"].mean()
    return {"overall": float(treated["tau"].mean()), "event_times": [int(e) for e in by_e.index], "dynamic": [float(v) for v in by_e]}


def imputation_dummies(df: pd.DataFrame, y: str, idname: str, t: str) -> dict:
    """The same with unit and period dummies fitted by statsmodels' OLS (exact, no demeaning iterations)."""
    import statsmodels.formula.api as smf

    fit = smf.ols(f"{y} ~ C({idname}) + C({t})", data=df[df["treat"] == 0]).fit()
    treated = df[df["treat"] == 1].copy()
    treated["tau"] = treated[y] - fit.predict(treated)
    by_e = treated.groupby("rel_time")["tau"].mean()
    return {"overall": float(treated["tau"].mean()), "event_times": [int(e) for e in by_e.index], "dynamic": [float(v) for v in by_e]}


def main() -> None:
    warnings.simplefilter("ignore")
    castle = prepare(pd.read_csv(ROOT / "datasets" / "castle.csv"), "effyear", "year")
    sims = pd.read_csv(HERE / "csdid_reference_data.csv")
    s1 = prepare(sims[sims.sim == "s1"].drop(columns="sim").reset_index(drop=True), "g", "time")
    cases = []
    for name, df, y, idname, t in (("castle", castle, "l_homicide", "sid", "year"), ("s1", s1, "y", "id", "time")):
        cases.append(
            {
                "name": name,
                "saturated": saturated(df, y, idname, t),
                "two_stage": two_stage(df, y, idname, t),
                "imputation": imputation(df, y, idname, t),
                "imputation_dummies": imputation_dummies(df, y, idname, t),
            }
        )
    out = {
        "generated_by": "tests/reference/pyfixest_event_reference.py",
        "peer": {"pyfixest": version("pyfixest"), "python": platform.python_version()},
        "cases": cases,
    }
    with open(HERE / "pyfixest_event_reference.json", "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
