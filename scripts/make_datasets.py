"""Regenerate the bundled CSV files in datasets/ from the `causaldata` package (MIT licence).

Run:  python scripts/make_datasets.py        (needs `pip install causaldata==0.1.5`)

The package itself never imports causaldata; it reads the CSV files written here. The data cards
(datasets/*.md) are written by hand and name the source of each file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "datasets"


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain numeric dtypes: categoricals with numeric labels become integers; float32 widened to float64."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = pd.to_numeric(s.astype("string")).astype("int64")
        elif s.dtype == np.float32:
            out[col] = s.astype("float64")
        elif pd.api.types.is_integer_dtype(s.dtype) or (
            pd.api.types.is_float_dtype(s.dtype) and s.notna().all() and (s == np.round(s)).all()
        ):
            out[col] = s.astype("int64")
    return out


def lalonde() -> pd.DataFrame:
    from causaldata import nsw_mixtape

    d = nsw_mixtape.load_pandas().data
    return _plain(d.drop(columns=["data_id"]))


def lalonde_cps() -> pd.DataFrame:
    from causaldata import cps_mixtape, nsw_mixtape

    nsw = nsw_mixtape.load_pandas().data
    cps = cps_mixtape.load_pandas().data
    treated = nsw[nsw["treat"] == 1]
    both = pd.concat([treated, cps], ignore_index=True)
    both.insert(0, "sample", np.where(both["treat"] == 1, "NSW", "CPS"))
    return _plain(both.drop(columns=["data_id"]))


def nhefs() -> pd.DataFrame:
    from causaldata import nhefs_complete

    return _plain(nhefs_complete.load_pandas().data)


def close_college() -> pd.DataFrame:
    from causaldata import close_college as source

    d = source.load_pandas().data
    d = d.dropna().reset_index(drop=True)  # 7 rows lack the marital status code
    return _plain(d[["lwage", "educ", "nearc4", "exper", "black", "south", "smsa", "married"]])


def castle() -> pd.DataFrame:
    from causaldata import castle as source

    d = source.load_pandas().data
    keep = [
        "sid",
        "year",
        "l_homicide",
        "homicide",
        "post",
        "effyear",
        "popwt",
        "l_police",
        "unemployrt",
        "poverty",
        "l_income",
        "l_prisoner",
        "l_lagprisoner",
        "l_exp_subsidy",
        "l_exp_pubwelfare",
        "blackm_15_24",
        "whitem_15_24",
        "blackm_25_44",
        "whitem_25_44",
    ]
    d = d.copy()
    first = d[d["post"] > 0].groupby("sid")["year"].min()
    d["effyear"] = d["sid"].map(first).fillna(0).astype("int64")
    return _plain(d[keep].sort_values(["sid", "year"]).reset_index(drop=True))


def close_elections_lmb() -> pd.DataFrame:
    from causaldata import close_elections_lmb as source

    d = source.load_pandas().data.copy()
    d["state"] = d["state"].astype("string")
    d = d.dropna().reset_index(drop=True)
    return _plain(d)


def texas() -> pd.DataFrame:
    from causaldata import texas as source

    d = source.load_pandas().data.copy()
    d["state"] = d["state"].astype("string")
    return _plain(d.sort_values(["statefip", "year"]).reset_index(drop=True))


DATASETS = {
    "lalonde": lalonde,
    "lalonde_cps": lalonde_cps,
    "nhefs": nhefs,
    "close_college": close_college,
    "castle": castle,
    "close_elections_lmb": close_elections_lmb,
    "texas": texas,
}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, make in DATASETS.items():
        frame = make()
        path = OUT / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n")
        print(f"{path.name}: {frame.shape[0]} rows x {frame.shape[1]} columns")


if __name__ == "__main__":
    main()
