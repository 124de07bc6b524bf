"""Reference values for causalinfer.designs.rdplot (tests/designs/test_rdplot.py).

Runs ``rdrobust.rdplot`` on the bundled ``close_elections_lmb`` data (whose running variable has mass points) and on
the simulated data of rdrobust_reference.json for every bin selector, and writes the numbers of bins (selected,
IMSE-optimal, mimicking variance), the bin means and counts and the polynomial coefficients to rdplot_reference.json.

Run from the repository root, in an environment with rdrobust installed (not a project dependency):
    python tests/reference/rdplot_reference.py
"""

from __future__ import annotations

import contextlib
import io
import json
import platform
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from rdrobust import rdplot

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def run(name: str, df: pd.DataFrame, y: str, x: str, c: float, **kw) -> dict:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        r = rdplot(df[y].to_numpy(), df[x].to_numpy(), c=c, hide=True, **kw)
    vb = r.vars_bins
    return {
        "name": name,
        "args": {"outcome": y, "running": x, "cutoff": c, **kw},
        "J": [int(v) for v in r.J],
        "J_IMSE": [float(v) for v in r.J_IMSE],
        "J_MV": [float(v) for v in r.J_MV],
        "mean_x": vb["rdplot_mean_x"].tolist(),
        "mean_y": vb["rdplot_mean_y"].tolist(),
        "N": [int(v) for v in vb["rdplot_N"]],
        "coef_left": r.coef["Left"].tolist(),
        "coef_right": r.coef["Right"].tolist(),
    }


def main() -> None:
    lmb = pd.read_csv(ROOT / "datasets" / "close_elections_lmb.csv")
    sim = pd.DataFrame(json.loads((HERE / "rdrobust_reference.json").read_text())["sim"])
    L = dict(y="score", x="lagdemvoteshare", c=0.5)
    S = dict(y="ys", x="x", c=0.0)
    cases = [run("lmb_default", lmb, **L), run("lmb_qs", lmb, **L, binselect="qs"), run("lmb_p2_tri", lmb, **L, p=2, kernel="triangular")]
    cases += [run(f"sim_{b}", sim, **S, binselect=b) for b in ("esmv", "es", "espr", "esmvpr", "qs", "qspr", "qsmv", "qsmvpr")]
    cases += [run("sim_nbins", sim, **S, nbins=15), run("sim_masspoints", sim, y="ym", x="xm", c=0.0)]
    out = {
        "generator": f"rdrobust {version('rdrobust')} (Python), numpy {np.__version__}, Python {platform.python_version()}",
        "cases": cases,
    }
    (HERE / "rdplot_reference.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
