"""Reference values for causalinfer.designs.rdd_density (tests/designs/test_rddensity.py).

Runs the ``rddensity`` Python package (Cattaneo, Jansson and Ma) on the running variable of the bundled
``close_elections_lmb`` data and on seeded simulated running variables (smooth, with bunching above the cutoff, and
with mass points), written into rddensity_reference.json with the results.

Run from the repository root, in an environment with rddensity installed (not a project dependency):
    python tests/reference/rddensity_reference.py
"""

from __future__ import annotations

import json
import platform
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from rddensity import rddensity

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def run(name: str, x: np.ndarray, c: float, **kw) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = rddensity(X=x, c=c, **kw)
    return {
        "name": name,
        "args": {"cutoff": c, **kw},
        "hat": [float(r.hat[k]) for k in ("left", "right", "diff")],
        "sd_jk": [float(r.sd_jk[k]) for k in ("left", "right", "diff")],
        "sd_asy": [float(r.sd_asy[k]) for k in ("left", "right", "diff")],
        "t_jk": float(r.test["t_jk"]),
        "p_jk": float(r.test["p_jk"]),
        "t_asy": float(r.test["t_asy"]),
        "h": [float(r.h["left"]), float(r.h["right"])],
        "n_eff": [int(r.n["eff_left"]), int(r.n["eff_right"])],
    }


def main() -> None:
    lmb = pd.read_csv(ROOT / "datasets" / "close_elections_lmb.csv")["lagdemvoteshare"].to_numpy()
    rng = np.random.default_rng(20261130)
    smooth = np.round(rng.normal(size=2000), 12)
    bunch = np.round(np.concatenate([rng.normal(size=2000), rng.uniform(0, 0.15, 150)]), 12)
    mass = np.round(rng.normal(size=2000), 1)
    sims = {"smooth": smooth, "bunch": bunch, "mass": mass}
    cases = [
        run("lmb", lmb, 0.5),
        run("lmb_plugin", lmb, 0.5, vce="plugin"),
        run("smooth", smooth, 0.0),
        run("smooth_each", smooth, 0.0, bwselect="each"),
        run("smooth_diff_uniform", smooth, 0.0, bwselect="diff", kernel="uniform"),
        run("smooth_epa_p1", smooth, 0.0, kernel="epanechnikov", p=1),
        run("smooth_manual_h", smooth, 0.0, h=[0.5]),
        run("bunch", bunch, 0.0),
        run("mass", mass, 0.05),
    ]
    out = {
        "generator": f"rddensity {version('rddensity')} (Python), numpy {np.__version__}, Python {platform.python_version()}",
        "sims": {k: v.tolist() for k, v in sims.items()},
        "cases": cases,
    }
    (HERE / "rddensity_reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
