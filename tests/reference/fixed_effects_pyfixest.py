"""Reference values for absorbed fixed effects and the wild cluster bootstrap, from pyfixest and wildboottest.

Run with pyfixest and wildboottest installed (not project dependencies):
    python tests/reference/fixed_effects_pyfixest.py
It simulates small panels, fits them with pyfixest.feols (default small-sample corrections, singletons removed,
tight demeaning tolerance) and runs wildboottest under full enumeration, and writes the data and the numbers to
fixed_effects_pyfixest.json beside this script.
"""

import json
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pyfixest as pf
import statsmodels.api as sm
from wildboottest.wildboottest import WildboottestCL, wildboottest

OUT = Path(__file__).with_suffix(".json")


def panel(seed, n_firm, n_year, n_state, singletons=0, drop=0.0):
    rng = np.random.default_rng(seed)
    firm = np.repeat(np.arange(n_firm), n_year)
    year = np.tile(np.arange(n_year), n_firm)
    state = firm % n_state  # firms nested in states
    df = pd.DataFrame({"firm": firm, "year": year, "state": state})
    df = df[rng.uniform(size=len(df)) >= drop].reset_index(drop=True)
    if singletons:
        extra = pd.DataFrame({"firm": n_firm + np.arange(singletons), "year": rng.integers(0, n_year, singletons)})
        extra["state"] = extra["firm"] % n_state
        df = pd.concat([df, extra], ignore_index=True)
    n = len(df)
    alpha = rng.normal(size=df.firm.max() + 1)
    gamma = rng.normal(size=n_year)
    df["grp"] = rng.integers(0, 7, n)
    df["x1"] = rng.normal(size=n) + 0.5 * alpha[df.firm]
    df["x2"] = rng.normal(size=n) + 0.3 * gamma[df.year]
    df["w"] = rng.uniform(0.5, 2.0, n)
    shock = rng.normal(size=n_state)[df.state] * 0.7
    df["y"] = 1.0 + 0.5 * df.x1 - 0.3 * df.x2 + alpha[df.firm] + gamma[df.year] + shock + rng.normal(size=n) * (1 + 0.5 * np.abs(df.x1))
    return df


def fit_case(name, df, fml, vcov, weights=None):
    fit = pf.feols(fml, data=df, vcov=vcov, weights=weights, fixef_tol=1e-14, fixef_maxiter=1_000_000)
    tidy = fit.tidy()
    return {
        "name": name,
        "data": name.split("/")[0],
        "formula": fml,
        "vcov": vcov,
        "weights": weights,
        "terms": list(tidy.index),
        "coef": tidy["Estimate"].tolist(),
        "se": tidy["Std. Error"].tolist(),
        "pvalue": tidy["Pr(>|t|)"].tolist(),
        "df_t": float(fit._df_t),
        "nobs": int(fit._N),
    }


def pois_case(name, df, fml, vcov, weights=None):
    fit = pf.fepois(fml, data=df, vcov=vcov, weights=weights, fixef_tol=1e-14, iwls_tol=1e-13, iwls_maxiter=200)
    tidy = fit.tidy()
    return {
        "name": name,
        "data": "counts",
        "formula": fml,
        "vcov": vcov,
        "weights": weights,
        "terms": list(tidy.index),
        "coef": tidy["Estimate"].tolist(),
        "se": tidy["Std. Error"].tolist(),
        "pvalue": tidy["Pr(>|t|)"].tolist(),
        "nobs": int(fit._N),
    }


def counts(seed):
    rng = np.random.default_rng(seed)
    df = panel(seed, 50, 6, 10, singletons=3, drop=0.1)
    df["y"] = rng.poisson(np.exp(0.2 + 0.3 * df.x1 - 0.2 * df.x2 + 0.1 * (df.firm % 5) - 0.05 * df.year))
    df.loc[df.firm.isin([4, 9]), "y"] = 0  # two firms with only zeros: separated, dropped
    return df


def wild_case(name, seed, G, impose_null):
    rng = np.random.default_rng(seed)
    n = 12 * G
    cl = np.repeat(np.arange(G), 12)
    x = rng.normal(size=n) + rng.normal(size=G)[cl]
    y = 1.0 + 0.15 * x + rng.normal(size=G)[cl] + rng.normal(size=n)
    X = pd.DataFrame({"Intercept": 1.0, "x": x})
    model = sm.OLS(y, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = wildboottest(model, param="x", cluster=cl, B=99999, impose_null=impose_null, show=False, parallel=False)
    # the bootstrap t's themselves, to count exact ties: under WCR the all-ones draw reproduces t, and whether
    # wildboottest counts it as exceeding |t| depends on rounding
    boot = WildboottestCL(X=X.to_numpy(), Y=y, cluster=cl, R=np.array([0.0, 1.0]), B=99999, seed=1, parallel=False)
    boot.get_scores(bootstrap_type="11", impose_null=impose_null)
    boot.get_weights("rademacher")
    boot.get_numer()
    boot.get_denom()
    boot.get_tboot()
    boot.get_vcov()
    boot.get_tstat()
    tb, t = np.abs(boot.t_boot), float(np.abs(boot.t_stat).ravel()[0])
    return {
        "name": name,
        "G": G,
        "n_draws": int(tb.size),
        "n_exceed_strict": int(np.sum(tb > t * (1 + 1e-10))),
        "n_ties": int(np.sum(np.abs(tb - t) <= 1e-10 * t)),
        "impose_null": impose_null,
        "x": x.tolist(),
        "y": y.tolist(),
        "cluster": cl.tolist(),
        "pvalue": float(res["p-value"].iloc[0]),
        "statistic": float(np.asarray(res["statistic"].iloc[0]).ravel()[0]),
    }


def wild_fe_case(name, seed, impose_null):
    """pyfixest's wild bootstrap on a fit with unit fixed effects nested in the clusters (it refits with dummies)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(9), 30)
    df = pd.DataFrame({"g": g, "x": rng.normal(size=270)})
    df["y"] = 0.2 * df.x + rng.normal(size=9)[g] + rng.normal(size=270)
    fit = pf.feols("y ~ x | g", data=df, vcov={"CRV1": "g"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit.wildboottest(param="x", reps=99999, seed=1, impose_null=impose_null)
    return {"name": name, "impose_null": impose_null, "data": df.to_dict(orient="list"), "pvalue": float(res["Pr(>|t|)"]), "n_draws": 512}


def main():
    data = {
        "balanced": panel(1, 40, 6, 8),
        "unbalanced": panel(2, 60, 8, 10, singletons=5, drop=0.25),
    }
    cdf = counts(3)
    poisson = [
        pois_case("counts/firm/iid", cdf, "y ~ x1 + x2 | firm", "iid"),
        pois_case("counts/firm+year/hetero", cdf, "y ~ x1 + x2 | firm + year", "hetero"),
        pois_case("counts/firm+year/cl_state", cdf, "y ~ x1 + x2 | firm + year", {"CRV1": "state"}),
        pois_case("counts/firm+year/cl_firm", cdf, "y ~ x1 + x2 | firm + year", {"CRV1": "firm"}),
        pois_case("counts/firm+year/weighted_hetero", cdf, "y ~ x1 + x2 | firm + year", "hetero", "w"),
    ]
    cases = []
    for dname, df in data.items():
        cases += [
            fit_case(f"{dname}/firm/iid", df, "y ~ x1 + x2 | firm", "iid"),
            fit_case(f"{dname}/firm/hetero", df, "y ~ x1 + x2 | firm", "hetero"),
            fit_case(f"{dname}/firm+year/cl_firm", df, "y ~ x1 + x2 | firm + year", {"CRV1": "firm"}),
            fit_case(f"{dname}/firm+year/cl_state", df, "y ~ x1 + x2 | firm + year", {"CRV1": "state"}),
            fit_case(f"{dname}/firm+year/cl_grp", df, "y ~ x1 + x2 | firm + year", {"CRV1": "grp"}),
            fit_case(f"{dname}/firm+year/twoway", df, "y ~ x1 + x2 | firm + year", {"CRV1": "state+year"}),
            fit_case(f"{dname}/firm+year+grp/cl_state", df, "y ~ x1 + x2 | firm + year + grp", {"CRV1": "state"}),
            fit_case(f"{dname}/firm+year/weighted_cl_state", df, "y ~ x1 + x2 | firm + year", {"CRV1": "state"}, "w"),
            fit_case(f"{dname}/firm+year/weighted_iid", df, "y ~ x1 + x2 | firm + year", "iid", "w"),
            fit_case(f"{dname}/none/twoway", df, "y ~ x1 + x2", {"CRV1": "state+year"}),
        ]
    wild = [
        wild_case("wcr_g8", 11, 8, True),
        wild_case("wcu_g8", 11, 8, False),
        wild_case("wcr_g10", 12, 10, True),
        wild_case("wcr_g12", 13, 12, True),
        wild_case("wcu_g12", 13, 12, False),
    ]
    wild_fe = [wild_fe_case("fe_nested_wcr", 5, True), wild_fe_case("fe_nested_wcu", 5, False)]
    out = {
        "provenance": {
            "script": "tests/reference/fixed_effects_pyfixest.py",
            "pyfixest": version("pyfixest"),
            "wildboottest": version("wildboottest"),
        },
        "data": {k: v.to_dict(orient="list") for k, v in {**data, "counts": cdf}.items()},
        "fepois": poisson,
        "feols": cases,
        "wild": wild,
        "wild_fe": wild_fe,
    }
    OUT.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
