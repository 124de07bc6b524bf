"""Reference values for the synthetic control: pysyncon's nested fit on the Mixtape's Texas data.

Run with pysyncon 1.7.0 installed (it is not a dependency of causalinfer):

    python tests/reference/synth_pysyncon.py

Writes tests/reference/synth_pysyncon.json. The predictors are those of the Mixtape's Texas example (Cunningham
2021, chapter 10): poverty and income averaged over 1985-1993, and the special predictors below; outcome fit over
1985-1993. pysyncon's outer optimiser (Nelder-Mead from equal predictor weights, as its default) is not
guaranteed to find the global minimum, so the test compares objectives: causalinfer's fit-period MSPE must be at
most pysyncon's.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import pandas as pd
import pysyncon
from pysyncon import Dataprep, Synth

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "datasets" / "texas.csv"

PRE = list(range(1985, 1994))
SPECIAL = [
    ("bmprison", [1988, 1990, 1991, 1992], "mean"),
    ("alcohol", [1990], "mean"),
    ("aidscapita", [1990, 1991], "mean"),
    ("black", [1990, 1991, 1992], "mean"),
    ("perc1519", [1990], "mean"),
]


def main() -> None:
    df = pd.read_csv(DATA)
    controls = sorted(set(df["statefip"]) - {48})
    prep = Dataprep(
        foo=df,
        predictors=["poverty", "income"],
        predictors_op="mean",
        time_predictors_prior=PRE,
        special_predictors=SPECIAL,
        dependent="bmprison",
        unit_variable="statefip",
        time_variable="year",
        treatment_identifier=48,
        controls_identifier=controls,
        time_optimize_ssr=PRE,
    )
    out = {"pysyncon": pysyncon.__version__ if hasattr(pysyncon, "__version__") else "1.7.0", "python": platform.python_version()}
    for initial in ("equal", "ols"):
        synth = Synth()
        start = time.perf_counter()
        synth.fit(dataprep=prep, optim_method="Nelder-Mead", optim_initial=initial)
        seconds = time.perf_counter() - start
        weights = {str(int(k)): float(v) for k, v in zip(synth.W_names, synth.W, strict=True)}
        out[f"texas_{initial}"] = {
            "loss_V": float(synth.loss_V),
            "V": [float(v) for v in synth.V],
            "W": weights,
            "seconds": seconds,
        }
        print(initial, synth.loss_V, round(seconds, 1), "s")
    (HERE / "synth_pysyncon.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
