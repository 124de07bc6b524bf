"""Reference values for did_imputation with time-varying covariates and anticipation periods (Borusyak, Jaravel and
Spiess): the imputation done by hand with dense unit and period dummies (numpy least squares on the untreated
observations, the estimator's weights v = -Z0 (Z0'Z0)^+ Z1'w for the untreated rows, and BJS's conservative
variance with the imputed effects centred within cohort x event-time cells), plus the point estimates of Gardner's
two-stage estimator in pyfixest (did2s with the covariates in its first stage), which coincide with the imputation
estimator's.

Run in a separate environment with `pip install pyfixest==0.60.0` (not a project dependency):

    python tests/reference/did_imputation_reference.py

pytest does not collect this file.
"""

from __future__ import annotations

import json
import platform
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def by_hand(df: pd.DataFrame, y: str, idname: str, t: str, g: str, covs: list[str], k: int) -> dict:
    first = df[t].min()
    df = df[~((df[g] > 0) & (df[g] - k <= first))].reset_index(drop=True)  # no observation before the anticipation window
    cohort = df[g].to_numpy()
    time = df[t].to_numpy()
    out_of_model = (cohort > 0) & (time >= cohort - k)
    event = np.where(cohort > 0, time - cohort, -999)
    units = pd.factorize(df[idname])[0]
    periods = np.sort(np.unique(time))
    dummies_u = (units[:, None] == np.arange(units.max() + 1)[None, :]).astype(float)
    dummies_t = (time[:, None] == periods[None, 1:]).astype(float)
    z = np.column_stack([dummies_u, dummies_t, df[covs].to_numpy(float)]) if covs else np.column_stack([dummies_u, dummies_t])
    z0, y0 = z[~out_of_model], df[y].to_numpy(float)[~out_of_model]
    theta = np.linalg.lstsq(z0, y0, rcond=None)[0]
    tau = df[y].to_numpy(float) - z @ theta
    events = np.unique(event[out_of_model])
    post = out_of_model & (event >= 0)
    cols = [post / post.sum()] + [(out_of_model & (event == e)) / (out_of_model & (event == e)).sum() for e in events]
    w = np.column_stack(cols)
    v = w.copy()
    v[~out_of_model] = -z0 @ np.linalg.pinv(z0.T @ z0) @ (z[out_of_model].T @ w[out_of_model])
    resid = np.where(out_of_model, 0.0, tau)
    for c in set(zip(cohort[out_of_model], event[out_of_model], strict=True)):
        m = out_of_model & (cohort == c[0]) & (event == c[1])
        resid[m] = tau[m] - tau[m].mean()
    scores = np.zeros((units.max() + 1, w.shape[1]))
    np.add.at(scores, units, v * resid[:, None])
    est = w[out_of_model].T @ tau[out_of_model]
    se = np.sqrt((scores**2).sum(axis=0))
    n_cov = len(covs)
    return {
        "overall": float(est[0]),
        "overall_se": float(se[0]),
        "event_times": [int(e) for e in events],
        "dynamic": [float(v) for v in est[1:]],
        "dynamic_se": [float(v) for v in se[1:]],
        "covariate_coefficients": [float(v) for v in theta[len(theta) - n_cov :]] if n_cov else [],
    }


def two_stage(df: pd.DataFrame, y: str, idname: str, t: str, g: str, covs: list[str]) -> float:
    d = df.assign(treat=((df[g] > 0) & (df[t] >= df[g])).astype(int))
    first = f"~ {' + '.join(covs)} | {idname} + {t}" if covs else f"~ 0 | {idname} + {t}"
    fit = pf.did2s(d, yname=y, first_stage=first, second_stage="~ treat", treatment="treat", cluster=idname)
    return float(fit.tidy().loc["treat", "Estimate"])


def main() -> None:
    warnings.simplefilter("ignore")
    castle = pd.read_csv(ROOT / "datasets" / "castle.csv")
    covs = ["l_police", "unemployrt", "l_income"]
    spec = dict(y="l_homicide", idname="sid", t="year", g="effyear")
    cases = []
    for name, cv, k in (("castle_covariates", covs, 0), ("castle_anticipation", [], 1), ("castle_covariates_anticipation", covs, 2)):
        case = {"name": name, "covariates": cv, "anticipation": k, "by_hand": by_hand(castle, covs=cv, k=k, **spec)}
        if k == 0:
            case["did2s_overall"] = two_stage(castle, covs=cv, **spec)
        cases.append(case)
    out = {
        "generated_by": "tests/reference/did_imputation_reference.py",
        "peer": {"pyfixest": version("pyfixest"), "numpy": np.__version__, "python": platform.python_version()},
        "cases": cases,
    }
    with open(HERE / "did_imputation_reference.json", "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
