"""Synthetic control on the Mixtape's Texas panel (51 states x 16 years): causalinfer against pysyncon.

    python benchmarks/synth_pysyncon.py            # runs both (pysyncon must be installed; one fit takes minutes)
    python benchmarks/synth_pysyncon.py --no-peer  # causalinfer only; pysyncon's time read from
                                                   # tests/reference/synth_pysyncon.json (measured on the same machine)

causalinfer runs the full analysis: the nested fit for Texas plus the placebo-in-space fits of all 50 donor
states (51 nested fits). pysyncon runs one nested fit (its default: Nelder-Mead from equal predictor weights);
a placebo analysis with it would take 51 such fits. Both fit the same predictors; the fit-period MSPE of each is
printed as well (lower is better).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import pandas as pd

import causalinfer as ci

ROOT = Path(__file__).resolve().parents[1]
PRE = list(range(1985, 1994))
PREDICTORS = [
    "poverty",
    "income",
    ("bmprison", [1988, 1990, 1991, 1992]),
    ("alcohol", [1990]),
    ("aidscapita", [1990, 1991]),
    ("black", [1990, 1991, 1992]),
    ("perc1519", [1990]),
]


def ours() -> tuple[float, float, float]:
    ds = ci.load_dataset("texas")
    kw = dict(treated_unit=48, treatment_time=1994, predictors=PREDICTORS, predictor_periods=PRE, fit_periods=PRE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        ci.designs.synthetic_control(ds, method="outcome", placebo=False, **{k: v for k, v in kw.items() if k != "predictors"})  # compile
        start = time.perf_counter()
        r = ci.designs.synthetic_control(ds, **kw)
        seconds = time.perf_counter() - start
    return seconds, float(r.details["loss"]), float(r.pvalue)


def peer() -> tuple[float, float]:
    from pysyncon import Dataprep, Synth

    df = pd.read_csv(ROOT / "datasets" / "texas.csv")
    special = [(c, p, "mean") for c, p in PREDICTORS[2:]]
    prep = Dataprep(
        foo=df,
        predictors=["poverty", "income"],
        predictors_op="mean",
        time_predictors_prior=PRE,
        special_predictors=special,
        dependent="bmprison",
        unit_variable="statefip",
        time_variable="year",
        treatment_identifier=48,
        controls_identifier=sorted(set(df["statefip"]) - {48}),
        time_optimize_ssr=PRE,
    )
    synth = Synth()
    start = time.perf_counter()
    synth.fit(dataprep=prep)
    return time.perf_counter() - start, float(synth.loss_V)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-peer", action="store_true", help="read pysyncon's time from the committed reference run")
    args = parser.parse_args()
    ours_s, ours_loss, p = ours()
    print(f"causalinfer: full placebo-in-space analysis (51 nested fits) {ours_s:.2f} s; Texas fit MSPE {ours_loss:.6g}; p = {p:.4f}")
    if args.no_peer:
        ref = json.loads((ROOT / "tests" / "reference" / "synth_pysyncon.json").read_text())["texas_equal"]
        peer_s, peer_loss = ref["seconds"], ref["loss_V"]
        print(f"pysyncon (reference run): one nested fit {peer_s:.1f} s; fit MSPE {peer_loss:.6g}")
    else:
        peer_s, peer_loss = peer()
        print(f"pysyncon: one nested fit {peer_s:.1f} s; fit MSPE {peer_loss:.6g}")
    print(f"ratio, one pysyncon fit / our full placebo analysis: {peer_s / ours_s:.0f}x")
    print(f"ratio, pysyncon placebo analysis (51 fits, extrapolated) / ours: {51 * peer_s / ours_s:.0f}x")


if __name__ == "__main__":
    main()
