"""Reference values for the rdrobust-style regression discontinuity (tests/designs/test_rdrobust.py).

Runs the ``rdrobust`` Python package (Calonico, Cattaneo, Farrell and Titiunik) on the bundled
``close_elections_lmb`` data and on seeded simulated data (written into the JSON so the tests need neither numpy's
generator nor rdrobust), for sharp, fuzzy, kink, covariate-adjusted, clustered and mass-point designs and every
bandwidth selector, and writes estimates, standard errors, intervals and bandwidths to rdrobust_reference.json.

Run from the repository root, in an environment with rdrobust installed (not a project dependency):
    python tests/reference/rdrobust_reference.py
"""

from __future__ import annotations

import json
import platform
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from rdrobust import rdrobust

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def simulate() -> pd.DataFrame:
    rng = np.random.default_rng(20261129)
    n = 1500
    x = rng.uniform(-1, 1, n)
    z1 = rng.normal(size=n) + 0.5 * x
    z2 = rng.binomial(1, 0.4, n).astype(float)
    g = rng.integers(0, 60, n)
    above = (x >= 0).astype(float)
    d = (rng.uniform(size=n) < 0.15 + 0.6 * above).astype(float)
    y = 0.5 + 0.8 * x - 0.6 * x**2 + 0.4 * d + 0.3 * z1 - 0.2 * z2 + 0.7 * above * x + rng.normal(scale=0.5, size=n)
    ysharp = 1 + x + 0.5 * x**2 + 0.6 * above + 0.3 * z1 + rng.normal(scale=0.4, size=n)
    xm = np.round(x * 20) / 20
    ym = 1 + xm + 0.5 * above + rng.normal(scale=0.4, size=n)
    wt = np.random.default_rng(7).uniform(0.2, 3.0, n)  # observation weights, drawn apart so the columns above stay as they were
    return pd.DataFrame(
        {
            k: np.round(v, 12) if v.dtype.kind == "f" else v
            for k, v in dict(x=x, y=y, ys=ysharp, d=d, z1=z1, z2=z2, g=g, xm=xm, ym=ym, wt=wt).items()
        }
    )


def lmb_weights(n: int) -> np.ndarray:
    """Deterministic weights for the LMB data (0.5, 1, 1.5, 2 by row); the test builds the same column."""
    return 0.5 + 0.5 * (np.arange(n) % 4)


def run(df: pd.DataFrame, name: str, *, y: str, x: str, c: float, covs=None, fuzzy=None, cluster=None, weights=None, **kw) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rdrobust(
            df[y].to_numpy(),
            df[x].to_numpy(),
            c=c,
            covs=df[covs] if covs else None,
            fuzzy=df[fuzzy].to_numpy() if fuzzy else None,
            cluster=df[cluster].to_numpy() if cluster else None,
            weights=df[weights].to_numpy() if weights else None,
            **kw,
        )
    out = {
        "name": name,
        "args": {
            "outcome": y,
            "running": x,
            "cutoff": c,
            "covariates": covs,
            "treatment": fuzzy,
            "cluster": cluster,
            "weights": weights,
            **kw,
        },
        "tau_cl": float(r.coef.iloc[0, 0]),
        "tau_bc": float(r.coef.iloc[1, 0]),
        "se_cl": float(r.se.iloc[0, 0]),
        "se_rb": float(r.se.iloc[2, 0]),
        "ci_cl": [float(v) for v in r.ci.iloc[0]],
        "ci_rb": [float(v) for v in r.ci.iloc[2]],
        "pv_rb": float(r.pv.iloc[2, 0]),
        "h": [float(v) for v in r.bws.iloc[0]],
        "b": [float(v) for v in r.bws.iloc[1]],
        "n_h": [int(v) for v in r.N_h],
        "n_b": [int(v) for v in r.N_b],
        "n": [int(v) for v in r.N],
    }
    if fuzzy:
        out["first_stage"] = {
            "tau_cl": float(r.tau_T.iloc[0, 0]),
            "tau_bc": float(r.tau_T.iloc[1, 0]),
            "se_cl": float(r.se_T.iloc[0, 0]),
            "se_rb": float(r.se_T.iloc[2, 0]),
        }
    return out


def main() -> None:
    lmb = pd.read_csv(ROOT / "datasets" / "close_elections_lmb.csv")
    lmb["wt"] = lmb_weights(len(lmb))
    sim = simulate()
    L = dict(y="score", x="lagdemvoteshare", c=0.5)
    S = dict(y="ys", x="x", c=0.0)
    F = dict(y="y", x="x", c=0.0, fuzzy="d")
    cases = [
        run(lmb, "lmb_default", **L),
        run(lmb, "lmb_msetwo", **L, bwselect="msetwo"),
        run(lmb, "lmb_msesum", **L, bwselect="msesum"),
        run(lmb, "lmb_cerrd", **L, bwselect="cerrd"),
        run(lmb, "lmb_certwo", **L, bwselect="certwo"),
        run(lmb, "lmb_uniform_hc3", **L, kernel="uniform", vce="hc3"),
        run(lmb, "lmb_epa_hc1", **L, kernel="epanechnikov", vce="hc1"),
        run(lmb, "lmb_p2", **L, p=2),
        run(lmb, "lmb_cluster_state", **L, cluster="state"),
        run(lmb, "lmb_fuzzy_democrat", **L, fuzzy="democrat"),
        run(lmb, "lmb_covs_year", **L, covs=["year"]),
        run(lmb, "lmb_kink", **L, deriv=1),
        run(lmb, "lmb_manual_h", **L, h=0.1),
        run(lmb, "lmb_manual_hb", **L, h=[0.08, 0.12], b=[0.15, 0.2]),
        run(sim, "sim_sharp", **S),
        run(sim, "sim_sharp_hc0", **S, vce="hc0"),
        run(sim, "sim_sharp_hc2_msetwo", **S, vce="hc2", bwselect="msetwo"),
        run(sim, "sim_sharp_certwo", **S, bwselect="certwo"),
        run(sim, "sim_sharp_cerrd_uniform", **S, bwselect="cerrd", kernel="uniform"),
        run(sim, "sim_covs", **S, covs=["z1", "z2"]),
        run(sim, "sim_covs_hc1_msetwo", **S, covs=["z1", "z2"], vce="hc1", bwselect="msetwo"),
        run(sim, "sim_cluster", **S, cluster="g"),
        run(sim, "sim_cluster_cerrd", **S, cluster="g", bwselect="cerrd"),
        run(sim, "sim_fuzzy", **F),
        run(sim, "sim_fuzzy_covs", **F, covs=["z1"]),
        run(sim, "sim_fuzzy_cluster_hc1", **F, cluster="g"),
        run(sim, "sim_kink", y="ys", x="x", c=0.0, deriv=1),
        run(sim, "sim_kink_p3", y="ys", x="x", c=0.0, deriv=1, p=3),
        run(sim, "sim_fuzzy_kink", **F, deriv=1),
        run(sim, "sim_covs_cluster_cerrd", **S, covs=["z1"], cluster="g", bwselect="cerrd"),
        run(sim, "sim_cersum_hc3", **S, bwselect="cersum", vce="hc3"),
        run(sim, "sim_epa_p2_msetwo", **S, kernel="epanechnikov", p=2, bwselect="msetwo"),
        run(sim, "sim_masspoints", y="ym", x="xm", c=0.0),
        run(sim, "sim_masspoints_off", y="ym", x="xm", c=0.0, masspoints="off"),
        run(sim, "sim_masspoints_msetwo", y="ym", x="xm", c=0.0, bwselect="msetwo"),
        # observation weights (rdrobust's `weights`), through the bandwidth selection and every variance
        run(lmb, "lmb_weights", **L, weights="wt"),
        run(lmb, "lmb_weights_cluster", **L, weights="wt", cluster="state"),
        run(sim, "sim_weights", **S, weights="wt"),
        run(sim, "sim_weights_hc3_msetwo", **S, weights="wt", vce="hc3", bwselect="msetwo"),
        run(sim, "sim_weights_hc2_covs", **S, weights="wt", vce="hc2", covs=["z1", "z2"]),
        run(sim, "sim_weights_fuzzy_cerrd", **F, weights="wt", bwselect="cerrd"),
        run(sim, "sim_weights_cluster_hc1", **S, weights="wt", cluster="g", vce="hc1"),
        run(sim, "sim_weights_masspoints", y="ym", x="xm", c=0.0, weights="wt"),
        run(sim, "sim_weights_kink", y="ys", x="x", c=0.0, deriv=1, weights="wt"),
    ]
    out = {
        "generator": f"rdrobust {version('rdrobust')} (Python), numpy {np.__version__}, Python {platform.python_version()}",
        "sim": {k: v.tolist() for k, v in sim.items()},
        "cases": cases,
    }
    (HERE / "rdrobust_reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
