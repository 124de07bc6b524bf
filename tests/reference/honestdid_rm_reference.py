"""Reference values for honest_did(restriction="relative_magnitudes") from the Python port of R's HonestDiD
(honestdid 0.1.1): ``createSensitivityResults_relativeMagnitudes`` on the Benzarti-Carloni event study bundled with
HonestDiD (honestdid_BC.csv, written by honestdid_data.R), for the first post-treatment effect, the average of the
four post-treatment effects and a one-post-period version (the test without nuisance parameters), by the hybrid
("C-LF") and the conditional ARP tests.

Run in a separate environment with `pip install honestdid==0.1.1` (not a project dependency):

    python tests/reference/honestdid_rm_reference.py

The port is loaded with six float() calls on 1 x 1 arrays read through .item() (numpy 2 refuses them; see FIX).
The port reports the lowest and highest accepted points of a grid of ``gridPoints`` values from ``grid_lb`` to
``grid_ub`` (both written here), so a bound it reports is within one grid step of the exact one: the true lower end
lies in (lb - step, lb], the true upper end in [ub, ub + step). Its least-favourable critical value is simulated
from 1000 draws of numpy's legacy generator seeded 0 for every polyhedron. pytest does not collect this file.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import types
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
# honestdid 0.1.1 calls float() on 1 x 1 arrays, which numpy 2.4 refuses: these six expressions are read with
# .item() instead (nothing else in the port changes).
FIX = {
    "float(np.sqrt(gamma.T @ sigma_np @ gamma))": "float(np.sqrt(gamma.T @ sigma_np @ gamma).item())",
    "float(gamma.T @ sigma_np @ gamma)": "(gamma.T @ sigma_np @ gamma).item()",
    "float(T_B @ dtilde)": "(T_B @ dtilde).item()",
    "float(gf.T @ sigma_full @ gf)": "(gf.T @ sigma_full @ gf).item()",
    "float(v_B.T @ sigma_ARP @ v_B)": "(v_B.T @ sigma_ARP @ v_B).item()",
    "float(v_B.T @ y_T_ARP)": "(v_B.T @ y_T_ARP).item()",
}


def load_port() -> types.ModuleType:
    spec = importlib.util.find_spec("honestdid.core")
    assert spec is not None and spec.origin is not None
    src = Path(spec.origin).read_text(encoding="utf-8")
    for old, new in FIX.items():
        assert old in src, old
        src = src.replace(old, new)
    module = types.ModuleType("honestdid_core_numpy2")
    exec(compile(src, spec.origin, "exec"), module.__dict__)
    return module


def cases() -> list[dict]:
    raw = pd.read_csv(HERE / "honestdid_BC.csv")
    beta = raw["betahat"].to_numpy()
    sigma = raw.iloc[:, 2:].to_numpy()
    n_pre = int(raw["n_pre"].iloc[0])
    keep = n_pre + 1
    return [
        # one post period: the test without nuisance parameters
        {
            "name": "BC_one_post",
            "beta": beta[:keep],
            "sigma": sigma[:keep, :keep],
            "n_pre": n_pre,
            "l_vec": [1.0],
            "mbar": [0.0, 0.5, 1.0, 2.0],
            "methods": ("C-LF", "Conditional"),
            "grid_points": 1000,
            "half_width": 20,
        },
        # four post periods: the test with nuisance parameters (slow in the port, seconds per grid point)
        {
            "name": "BC_first",
            "beta": beta,
            "sigma": sigma,
            "n_pre": n_pre,
            "l_vec": [1.0, 0.0, 0.0, 0.0],
            "mbar": [0.0, 1.0],
            "methods": ("C-LF",),
            "grid_points": 200,
            "half_width": 10,
        },
        {
            "name": "BC_first",
            "beta": beta,
            "sigma": sigma,
            "n_pre": n_pre,
            "l_vec": [1.0, 0.0, 0.0, 0.0],
            "mbar": [0.5],
            "methods": ("Conditional",),
            "grid_points": 200,
            "half_width": 10,
        },
        {
            "name": "BC_average",
            "beta": beta,
            "sigma": sigma,
            "n_pre": n_pre,
            "l_vec": [0.25] * 4,
            "mbar": [0.5],
            "methods": ("C-LF",),
            "grid_points": 200,
            "half_width": 10,
        },
    ]


def main() -> None:
    port = load_port()
    out_cases = []
    for case in cases():
        beta, sigma, n_pre, lv = case["beta"], case["sigma"], case["n_pre"], np.array(case["l_vec"])
        n_post = beta.size - n_pre
        sd = float(np.sqrt(lv @ sigma[n_pre:, n_pre:] @ lv))
        centre = float(lv @ beta[n_pre:])
        grid = (centre - case["half_width"] * sd, centre + case["half_width"] * sd)
        for method in case["methods"]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = port.createSensitivityResults_relativeMagnitudes(
                    beta,
                    sigma,
                    n_pre,
                    n_post,
                    method=method,
                    Mbarvec=case["mbar"],
                    l_vec=lv,
                    gridPoints=case["grid_points"],
                    grid_lb=grid[0],
                    grid_ub=grid[1],
                    seed=0,
                )
            out_cases.append(
                {
                    "name": f"{case['name']}_{method}",
                    "method": "hybrid" if method == "C-LF" else "conditional",
                    "estimates": beta.tolist(),
                    "cov": sigma.tolist(),
                    "n_pre": n_pre,
                    "l_vec": lv.tolist(),
                    "grid": list(grid),
                    "grid_points": case["grid_points"],
                    "rows": [{"mbar": float(r.Mbar), "lb": float(r.lb), "ub": float(r.ub)} for r in res.itertuples()],
                }
            )
            print(out_cases[-1]["name"], out_cases[-1]["rows"], flush=True)
            write(out_cases)  # after every case: the nuisance-parameter cases take long


def write(out_cases: list[dict]) -> None:
    out = {
        "generated_by": "tests/reference/honestdid_rm_reference.py",
        "peer": {"honestdid": version("honestdid"), "python": platform.python_version()},
        "cases": out_cases,
    }
    with open(HERE / "honestdid_rm_reference.json", "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
