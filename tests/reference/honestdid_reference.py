"""Reference values for honest_did from the Python port of R's HonestDiD (honestdid 0.1.1): optimal FLCIs under the
smoothness restriction Delta^SD(M) for the two event studies bundled with HonestDiD (honestdid_BC.csv,
honestdid_LW.csv, written by honestdid_data.R).

Run in a separate environment with `pip install honestdid==0.1.1` (not a project dependency):

    python tests/reference/honestdid_reference.py

HonestDiD computes the folded-normal quantile from 10^6 simulated normals (seed 0) and solves its programs with a
conic solver, so agreement is to about three or four digits. pytest does not collect this file.
"""

from __future__ import annotations

import json
import platform
from importlib.metadata import version
from pathlib import Path

import pandas as pd
from honestdid import find_optimal_flci

HERE = Path(__file__).parent
GRIDS = {"BC": [0.0, 0.01, 0.05], "LW": [0.0, 0.05]}  # the port takes minutes per interval


def main() -> None:
    cases = []
    for name, grid in GRIDS.items():
        raw = pd.read_csv(HERE / f"honestdid_{name}.csv")
        beta = raw["betahat"].to_numpy()
        n_pre = int(raw["n_pre"].iloc[0])
        sigma = raw.iloc[:, 2:].to_numpy()
        n_post = beta.size - n_pre
        rows = []
        for m in grid:
            res = find_optimal_flci(beta, sigma, M=m, numPrePeriods=n_pre, numPostPeriods=n_post)
            rows.append(
                {
                    "m": m,
                    "ci_low": float(res["FLCI"][0]),
                    "ci_high": float(res["FLCI"][1]),
                    "half_length": float(res["optimalHalfLength"]),
                    "status": str(res["status"]),
                }
            )
        cases.append({"name": name, "n_pre": n_pre, "rows": rows})
    out = {
        "generated_by": "tests/reference/honestdid_reference.py",
        "peer": {"honestdid": version("honestdid"), "python": platform.python_version()},
        "cases": cases,
    }
    with open(HERE / "honestdid_reference.json", "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
