"""``stats.glm`` on a Parquet file, SQL table, DuckDB relation or dask DataFrame: IRLS from sums computed in the engine.

The same steps as the at-scale logit and Poisson (:mod:`._scale`): the start is the in-memory IRLS fit
(:func:`._glm_irls.irls`, R's starting values) on a bounded, seeded sample; the first full pass also takes the
moments, the outcome checks and the sums of the outcome alone that the null deviance and the likelihood need; every
pass computes, at the current coefficients, ``X'WX`` with the working weights ``W = w (dmu/deta)^2 / V(mu)``, the
score ``X' w (y - mu) (dmu/deta) / V(mu)`` (a Fisher-scoring step, the same fixed point as IRLS), the deviance and
the Pearson chi-square; the converging pass also takes the sandwich sums. Rows are never fetched beyond the sample.

Supported: families gaussian, binomial, poisson, gamma and inverse_gaussian with the links identity, log, logit,
inverse and inverse_squared. Refused, with the reason: the probit and cloglog links (SQL engines have no normal
distribution function, and ``1 - exp(-exp(eta))`` loses the digits ``expm1`` keeps), Tweedie (its deviance needs
real powers of every row and R gives no likelihood) and the negative binomial (theta is estimated by its own
iterations over the rows), and an offset or exposure (the null deviance is then a fit of its own).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, Provenance
from ._glm_families import Family, make_family
from ._scale import (
    _check_clusters,
    _check_moments,
    _check_options,
    _collinearity,
    _design,
    _has_cov_sums,
    _hessian,
    _meat,
    _passes,
    _polish,
    _solve_normal,
    _start,
    _unshift,
)
from ._scale_design import ScaleDesign
from ._scale_passes import _upper, irls_sums

__all__ = ["SCALE_FAMILIES", "glm_at_scale"]

_EPS = float(np.finfo(float).eps)
#: Families and the links each supports inside an engine.
SCALE_FAMILIES = {
    "gaussian": ("identity", "log", "inverse"),
    "binomial": ("logit", "log"),
    "poisson": ("log", "identity"),
    "gamma": ("inverse", "identity", "log"),
    "inverse_gaussian": ("inverse_squared", "inverse", "identity", "log"),
}


def _refuse(fam: str, link: str, opts: dict[str, Any]) -> None:
    if fam == "negative_binomial":
        raise ArgumentError(
            "family='negative_binomial' is not available on a Parquet, SQL or dask `data`: theta is estimated by its own "
            "iterations over the rows; fit family='poisson' with cov_type='HC0' (robust Poisson) there, or the negative "
            "binomial on a frame"
        )
    if fam == "tweedie":
        raise ArgumentError(
            "family='tweedie' is not available on a Parquet, SQL or dask `data` (its deviance needs real powers of every "
            "row and there is no likelihood to report); use family='gamma' or 'poisson' there, or fit a frame"
        )
    if link not in SCALE_FAMILIES[fam]:
        raise ArgumentError(
            f"link={link!r} is not available on a Parquet, SQL or dask `data` (SQL engines have no normal distribution "
            f"function, and the complementary log-log loses digits without expm1); use one of {list(SCALE_FAMILIES[fam])}"
        )
    for arg in ("offset", "exposure"):
        if opts.get(arg) is not None:
            raise ArgumentError(
                f"`{arg}` is not supported by glm on a Parquet, SQL or dask `data` (the null deviance with an offset is a fit "
                "of its own); add the log exposure as a regressor, or fit a frame"
            )


# ---------------------------------------------------------------------------------------------- per-row SQL
def _link_sql(link: str) -> dict[str, str]:
    """``mu__`` and ``me__`` (dmu/deta) from ``eta__``, as the in-memory links compute them (R's clipping)."""
    if link == "identity":
        return {"mu__": "eta__", "me__": "1.0"}
    if link == "log":
        return {"mu__": f"GREATEST(EXP(LEAST(eta__, 700.0)), {_EPS!r})", "me__": "mu__"}
    if link == "logit":
        a = "EXP(-LEAST(ABS(eta__), 700.0))"
        mu = f"LEAST(GREATEST(CASE WHEN eta__ >= 0 THEN 1.0 / (1.0 + {a}) ELSE {a} / (1.0 + {a}) END, {_EPS!r}), {1 - _EPS!r})"
        return {"mu__": mu, "me__": f"GREATEST({a} / ((1.0 + {a}) * (1.0 + {a})), {_EPS!r})"}
    if link == "inverse":
        return {"se__": "CASE WHEN eta__ = 0 THEN 1e-300 ELSE eta__ END", "mu__": "1.0 / se__", "me__": "-1.0 / (se__ * se__)"}
    # inverse_squared: eta <= 0 has no mean (flagged as invalid below)
    return {"se__": "GREATEST(eta__, 1e-300)", "mu__": "1.0 / SQRT(se__)", "me__": "-0.5 / (se__ * SQRT(se__))"}


def _family_sql(fam: str, y: str) -> dict[str, str]:
    """``v__`` (variance function), ``bad__`` (mean outside the family's range) and ``dev__`` (unit deviance)."""
    pm = "GREATEST(mu__, 1e-300)"
    ylogy = lambda yy, mm: f"(CASE WHEN {yy} > 0 THEN {yy} * (LN(CASE WHEN {yy} > 0 THEN {yy} ELSE 1.0 END) - LN({mm})) ELSE 0.0 END)"  # noqa: E731
    if fam == "gaussian":
        return {"v__": "1.0", "bad__": "0.0", "dev__": f"({y} - mu__) * ({y} - mu__)"}
    if fam == "binomial":
        bad = "CASE WHEN mu__ > 0 AND mu__ < 1 THEN 0.0 ELSE 1.0 END"
        dev = f"2.0 * ({ylogy(y, pm)} + {ylogy(f'(1.0 - {y})', 'GREATEST(1.0 - mu__, 1e-300)')})"
        return {"v__": "mu__ * (1.0 - mu__)", "bad__": bad, "dev__": dev}
    bad = "CASE WHEN mu__ > 0 THEN 0.0 ELSE 1.0 END"
    if fam == "poisson":
        return {"v__": "mu__", "bad__": bad, "dev__": f"2.0 * ({ylogy(y, pm)} - ({y} - mu__))"}
    if fam == "gamma":
        dev = f"-2.0 * (LN(CASE WHEN {y} > 0 THEN {y} ELSE 1.0 END) - LN({pm}) - ({y} - mu__) / {pm})"
        return {"v__": "mu__ * mu__", "bad__": bad, "dev__": dev}
    return {"v__": "mu__ * mu__ * mu__", "bad__": bad, "dev__": f"({y} - mu__) * ({y} - mu__) / ({y} * {pm} * {pm})"}


def _sql_sums(fam: Family, b: np.ndarray, meat: bool, cluster: str | None) -> tuple[dict[str, str], dict[str, str], list[str] | None]:
    k = len(b)
    y = f"z{k}"
    row = {"eta__": f"({' + '.join(f'{float(v)!r} * z{j}' for j, v in enumerate(b))})", **_link_sql(fam.link.name)}
    row.update(_family_sql(fam.name, y))
    row["r__"] = f"CASE WHEN bad__ > 0 THEN 0.0 ELSE ({y} - mu__) * me__ / v__ END"  # the score factor
    row["ww__"] = "CASE WHEN bad__ > 0 THEN 0.0 ELSE me__ * me__ / v__ END"  # the working weight over w
    sums = {
        "dev": "w__ * dev__",
        "bad": "bad__",
        "pearson": f"CASE WHEN bad__ > 0 THEN 0.0 ELSE w__ * ({y} - mu__) * ({y} - mu__) / v__ END",
    }
    edge = "mu__ < 1e-10 OR mu__ > 1 - 1e-10" if fam.name == "binomial" else "mu__ < 1e-10"
    sums["edge"] = f"CASE WHEN {edge} THEN 1.0 ELSE 0.0 END"
    if fam.name == "binomial":  # R's binomial()$aic: the rounded successes and trials
        mu, mu1 = "LN(GREATEST(mu__, 1e-300))", "LN(GREATEST(1.0 - mu__, 1e-300))"
        sums["binll"] = f"ROUND(w__ * {y}) * {mu} + (ROUND(w__) - ROUND(w__ * {y})) * {mu1}"
    sums.update({f"g{j}": f"w__ * r__ * z{j}" for j in range(k)})
    sums.update({f"h{i}_{j}": f"w__ * ww__ * z{i} * z{j}" for i, j in _upper(k)})
    if meat and not cluster:
        sums.update({f"m{i}_{j}": f"w__ * w__ * r__ * r__ * z{i} * z{j}" for i, j in _upper(k)})
    score = [f"w__ * r__ * z{j}" for j in range(k)] if (meat and cluster) else None
    return row, sums, score


def _outcome_sums_sql(fam: str, y: str, sy: float) -> dict[str, str]:
    """Sums of the outcome alone: the null deviance at a constant mean and the likelihood's constant terms."""
    ly = f"LN(CASE WHEN {y} > 0 THEN {y} ELSE 1.0 END)"
    out = {
        "yc1": f"w__ * ({y} - {sy!r})",
        "yc2": f"w__ * ({y} - {sy!r}) * ({y} - {sy!r})",
        "ypos": f"CASE WHEN {y} > 0 THEN 1.0 ELSE 0.0 END",
    }
    out["bad_y"] = {
        "gaussian": "0.0",
        "binomial": f"CASE WHEN {y} < 0 OR {y} > 1 THEN 1.0 ELSE 0.0 END",
        "poisson": f"CASE WHEN {y} < 0 THEN 1.0 ELSE 0.0 END",
    }.get(fam, f"CASE WHEN {y} <= 0 THEN 1.0 ELSE 0.0 END")
    if fam == "binomial":
        ly1 = f"LN(CASE WHEN 1.0 - {y} > 0 THEN 1.0 - {y} ELSE 1.0 END)"
        out["sylogy"] = f"w__ * ({y} * {ly} + (1.0 - {y}) * {ly1})"
    elif fam == "poisson":
        out["sylogy"] = f"w__ * {y} * {ly}"
        out["nonint"] = f"CASE WHEN {y} <> FLOOR({y}) THEN 1.0 ELSE 0.0 END"
    elif fam in ("gamma", "inverse_gaussian"):
        out["slogy"] = f"w__ * {ly}"
        out["sinvy"] = f"w__ / (CASE WHEN {y} > 0 THEN {y} ELSE 1.0 END)"
    return out


# ---------------------------------------------------------------------------------------------- dask twins
def _dask_part(
    part: pd.DataFrame,
    fam: Family,
    design: ScaleDesign,
    shift: np.ndarray,
    b: np.ndarray,
    weights: str | None,
    cluster: str | None,
    meat: bool,
) -> dict[str, Any]:
    from ._scale_passes import _weights, _z

    Z, w = _z(part, design, shift), _weights(part, weights)
    X, y, k = Z[:, :-1], Z[:, -1], len(b)
    with np.errstate(all="ignore"):
        eta = X @ b
        mu = fam.link.linkinv(eta)
        bad = ~np.isfinite(mu) | ((mu <= 0) if fam.name != "gaussian" else False) | ((mu >= 1) if fam.name == "binomial" else False)
        me, v = fam.link.mu_eta(eta), fam.variance(mu)
        dev = fam.dev_resids(y, mu, np.ones_like(y))
        r = np.where(bad, 0.0, (y - mu) * me / v)
        ww = np.where(bad, 0.0, me * me / v)
        pear = np.where(bad, 0.0, w * (y - mu) ** 2 / v)
    edge = (mu < 1e-10) | (mu > 1 - 1e-10) if fam.name == "binomial" else mu < 1e-10
    out: dict[str, Any] = {
        "dev": float(np.sum(w * dev)),
        "bad": float(np.sum(bad)),
        "pearson": float(np.sum(pear)),
        "edge": float(np.sum(edge)),
    }
    if fam.name == "binomial":
        with np.errstate(all="ignore"):
            ll = np.round(w * y) * np.log(np.maximum(mu, 1e-300)) + (np.round(w) - np.round(w * y)) * np.log(np.maximum(1 - mu, 1e-300))
        out["binll"] = float(np.sum(ll))
    return irls_sums(out, part, X, w, r, ww, k, cluster, meat)


def _dask_first_part(
    part: pd.DataFrame, fam: Family, design: ScaleDesign, shift: np.ndarray, b: np.ndarray, weights: str | None, meat: bool, sy: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    from ._scale_passes import _moments_part, _weights

    r = _dask_part(part, fam, design, shift, b, weights, None, meat)
    y, w = part[design.response].to_numpy(dtype=float, na_value=np.nan), _weights(part, weights)
    with np.errstate(all="ignore"):
        ly = np.log(np.where(y > 0, y, 1.0))
        ly1 = np.log(np.where(1 - y > 0, 1 - y, 1.0))
        r["yc1"], r["yc2"], r["ypos"] = float(np.sum(w * (y - sy))), float(np.sum(w * (y - sy) ** 2)), float(np.sum(y > 0))
        bad_y = {"gaussian": np.zeros(len(y), bool), "binomial": (y < 0) | (y > 1), "poisson": y < 0}.get(fam.name, y <= 0)
        r["bad_y"] = float(np.sum(bad_y))
        if fam.name == "binomial":
            r["sylogy"] = float(np.sum(w * (y * ly + (1 - y) * ly1)))
        elif fam.name == "poisson":
            from scipy import special

            r["sylogy"], r["lgam"] = float(np.sum(w * y * ly)), float(np.sum(w * special.gammaln(y + 1.0)))
            r["nonint"] = float(np.sum(y != np.floor(y)))
        elif fam.name in ("gamma", "inverse_gaussian"):
            r["slogy"], r["sinvy"] = float(np.sum(w * ly)), float(np.sum(w / np.where(y > 0, y, 1.0)))
    return _moments_part(part, design, shift, weights, {}), r


class _Pass:
    """One IRLS pass of ``fam`` over the source (SQL or dask), and the combined first pass."""

    def __init__(self, passes: Any, fam: Family, design: ScaleDesign, shift: np.ndarray, weights: str | None, cluster: str | None) -> None:
        self.passes, self.fam, self.design, self.shift, self.weights, self.cluster = passes, fam, design, shift, weights, cluster
        self.sql = not hasattr(passes, "frame")

    def __call__(self, b: np.ndarray, with_cov: bool) -> dict[str, Any]:
        cl = self.cluster if with_cov else None
        if self.sql:
            row, sums, score = _sql_sums(self.fam, b, with_cov, cl)
            r = self.passes._pass(self.design, self.shift, self.weights, cl if score else None, row, sums, score, len(b))
        else:
            parts = self.passes._run(_dask_part, self.fam, self.design, self.shift, b, self.weights, cl, with_cov)
            r = self.passes._combine(parts, cl, len(b))
        if r["bad"] > 0:
            r["dev"] = math.nan  # a mean outside the family's range: the step is halved
        return r

    def first(self, b: np.ndarray, meat: bool, sy: float) -> tuple[dict[str, Any], dict[str, Any]]:
        k = len(b)
        if self.sql:
            from ._scale_passes import _unpack_moments

            row, sums, _ = _sql_sums(self.fam, b, meat, None)
            sums.update(_outcome_sums_sql(self.fam.name, f"z{k}", sy))
            if self.fam.name == "poisson" and self.passes.lgamma:
                sums["lgam"] = f"w__ * LGAMMA(z{k} + 1.0)"
            aggs = self.passes._moment_aggs(self.design, self.weights, {}, k + 1)
            got = self.passes._pass(self.design, self.shift, self.weights, None, row, sums, None, k, extra=aggs)
            m = _unpack_moments(got.pop("extra__"), self.design, [], k + 1)
        else:
            parts = self.passes._run(_dask_first_part, self.fam, self.design, self.shift, b, self.weights, meat, sy)
            m = self.passes._sum_moments([p[0] for p in parts], self.design, {})
            got = self.passes._combine([p[1] for p in parts], None, k)
        for key in ("yc1", "yc2", "ypos", "bad_y", "sylogy", "lgam", "slogy", "sinvy", "nonint"):
            if key in got:
                m[key] = got.pop(key)
        if got["bad"] > 0:
            got["dev"] = math.nan
        return m, got


# ---------------------------------------------------------------------------------------------- entry point
def glm_at_scale(x: Any, y: Any, data: Any, fam_name: str, link: str, helpers: dict[str, Any], namespaces: Any, **opts: Any) -> Any:
    """``stats.glm`` on a source or a dask DataFrame (``helpers``: the in-memory modules' result builders, handed in)."""
    from ..data._engine import ParquetSource, check_parquet_schema
    from ..exceptions import SourceError
    from ._scale import _named_columns

    _refuse(fam_name, link, opts)
    _check_options("glm", opts)
    if isinstance(data, ParquetSource):
        check_parquet_schema(data, _named_columns(x, y, opts))
    fam = make_family(fam_name, link)
    with _passes(data) as passes:
        design = _design(passes, x, y, opts, namespaces)
        try:
            return _fit(passes, design, fam, opts, helpers)
        except SourceError as exc:
            raise SourceError(
                f"`data`: {exc}. The scan stopped part-way, so no result is returned; rerun on a table that is not "
                "dropped or rewritten during the analysis (for example a snapshot or a copy)"
            ) from exc


def _fit(passes: Any, design: ScaleDesign, fam: Family, opts: dict[str, Any], helpers: dict[str, Any]) -> Any:
    k, weights, cluster, cov_type = len(design.columns), opts.get("weights"), opts.get("cluster"), opts["cov_type"]
    shift = passes.shifts(design) if design.intercept else np.zeros(k + 1)
    sy = float(shift[-1])
    shift[[j for j, c in enumerate(design.columns) if not c.factors]] = 0.0
    shift[-1] = 0.0  # the outcome enters the likelihood as it is
    b, whole = _start("glm", passes, design, shift, weights, fam)
    one_pass = _Pass(passes, fam, design, shift, weights, cluster)
    m, first = one_pass.first(b, whole and cov_type in ("HC0", "HC1"), sy)
    _check_moments(passes, design, m, opts)
    _check_outcome(fam, design, m)
    robust = cov_type != "nonrobust"
    b, r, iterations, converged = _polish("glm", passes, design, shift, b, weights, cluster, robust, first, one_pass)
    if robust and not _has_cov_sums(r):
        r = one_pass(b, True)
    if cluster is not None:
        _check_clusters(r, cluster, passes.label)
    H, _ = _hessian(r, k)
    _, bread = _solve_normal(H, np.zeros(k), design.names)
    m["sy"] = sy
    fit_stats = _fit_statistics(fam, passes, design, m, r, opts, iterations, converged)
    fit_stats.update(helpers["lr_against_null"](fit_stats, fam, k - (1 if design.intercept else 0)))
    if robust:
        cov = bread @ _meat(r, k) @ bread
        if cov_type == "HC1":
            cov *= m["n"] / (m["n"] - k)
        elif cov_type == "cluster":
            cov *= r["n_clusters"] / (r["n_clusters"] - 1)
    else:
        cov = fit_stats["dispersion"] * bread
    coef, cov = _unshift(design, shift, b, cov)
    return _result(fam, design, m, shift, coef, cov, fit_stats, r, opts, helpers)


def _check_outcome(fam: Family, design: ScaleDesign, m: dict[str, Any]) -> None:
    """The outcome checks of the in-memory glm, from counts taken in the first pass."""
    bad, response = int(m["bad_y"]), design.response
    if fam.name == "binomial" and bad:
        raise DataError(
            f"the outcome {response!r} of a binomial GLM must lie in [0, 1] (0/1 outcomes, or proportions of successes with the "
            f"numbers of trials as `weights`); {bad} row(s) are outside"
        )
    if fam.name == "poisson" and bad:
        raise DataError(f"the outcome {response!r} of a Poisson GLM must be non-negative; got {bad} negative value(s)")
    if fam.name in ("gamma", "inverse_gaussian") and bad:
        label = "a Gamma" if fam.name == "gamma" else "an inverse Gaussian"
        raise DataError(f"the outcome {response!r} of {label} GLM must be positive; {bad} row(s) are zero or negative")
    if fam.link.name == "log" and fam.name == "gaussian" and m["ypos"] == 0:
        raise DataError(f"a log link needs a positive mean, but the outcome {response!r} is never positive")


def _constant_deviance(fam: Family, c: float, m: dict[str, Any], sy: float) -> float:
    """The deviance at one mean ``c`` for every row, from sums of the outcome alone."""
    sw, swy = m["sw"], m["wsum"][-1]
    if fam.name == "gaussian":
        return float(m["yc2"] - 2 * (c - sy) * m["yc1"] + (c - sy) ** 2 * sw)
    if fam.name == "binomial":
        return float(2 * (m["sylogy"] - swy * math.log(c) - (sw - swy) * math.log1p(-c)))
    if fam.name == "poisson":
        return float(2 * (m["sylogy"] - swy * math.log(c) - (swy - c * sw)))
    if fam.name == "gamma":
        return float(-2 * (m["slogy"] - sw * math.log(c) - (swy - c * sw) / c))
    return float((swy - 2 * c * sw + c * c * m["sinvy"]) / (c * c))


def _binomial_constant(passes: Any, design: ScaleDesign, weights: str | None) -> float:
    """``sum log choose(round(w), round(w y))`` (zero without weights), by one grouped query over the rounded pairs."""
    from scipy import special

    if weights is None:
        return 0.0
    if hasattr(passes, "frame"):
        parts = passes._run(_pairs_part, design.response, weights)
        table = pd.concat(parts).groupby(level=[0, 1]).sum()
        pairs = [(float(a), float(c), float(v)) for (a, c), v in table.items()]
    else:
        w, y = passes.num(weights), passes.num(design.response)
        rows = passes.runner.run(f"SELECT ROUND({w}), ROUND({w} * {y}), COUNT(*) FROM {{src}} GROUP BY ROUND({w}), ROUND({w} * {y})")
        pairs = [(float(a), float(c), float(v)) for a, c, v in rows]
    return float(sum(v * (special.gammaln(a + 1) - special.gammaln(c + 1) - special.gammaln(a - c + 1)) for a, c, v in pairs))


def _pairs_part(part: pd.DataFrame, response: str, weights: str) -> pd.Series:
    w, y = part[weights].to_numpy(dtype=float), part[response].to_numpy(dtype=float)
    return pd.Series(np.ones(len(w)), index=pd.MultiIndex.from_arrays([np.round(w), np.round(w * y)])).groupby(level=[0, 1]).sum()


def _aic_family(fam: Family, passes: Any, design: ScaleDesign, m: dict[str, Any], r: dict[str, Any], weights: str | None) -> float:
    """R's ``family$aic`` from the sums (as :meth:`._glm_families.Family.aic`)."""
    from scipy import special

    n, sw, swy, dev = m["n"], m["sw"], m["wsum"][-1], r["dev"]
    if fam.name == "gaussian":
        return float(n * (math.log(2 * math.pi * dev / n) + 1) + 2 - (m["slogw"] if weights is not None else 0.0))
    if fam.name == "binomial":  # the rounded successes and trials, as R's binomial()$aic
        return float(-2 * (r["binll"] + _binomial_constant(passes, design, weights)))
    if fam.name == "poisson":
        if m.get("nonint", 0):
            return math.inf  # a non-integer count has probability zero, as dpois says
        if "lgam" not in m:
            counts = passes.count_values(design.response, weights)
            m["lgam"] = sum(wt * float(special.gammaln(v + 1.0)) for v, wt in counts)
        return float(-2 * (m["sylogy"] - dev / 2 - swy - m["lgam"]))
    if fam.name == "gamma":
        disp = dev / sw
        a = 1 / disp
        loglik = -m["slogy"] - a * (sw + dev / 2) - sw * float(special.gammaln(a)) - a * sw * math.log(disp)
        return float(-2 * loglik + 2)
    return float(sw * (1 + math.log(dev / sw * 2 * math.pi)) + 3 * m["slogy"] + 2)


def _fit_statistics(
    fam: Family,
    passes: Any,
    design: ScaleDesign,
    m: dict[str, Any],
    r: dict[str, Any],
    opts: dict[str, Any],
    iterations: int,
    converged: bool,
) -> dict[str, Any]:
    n, k = m["n"], len(design.columns)
    dispersion = 1.0 if fam.fixed_dispersion else r["pearson"] / (n - k)
    aic_family = _aic_family(fam, passes, design, m, r, opts.get("weights"))
    n_par = k + (0 if fam.fixed_dispersion else 1)
    loglik = n_par - k - aic_family / 2 if math.isfinite(aic_family) else math.nan
    with np.errstate(all="ignore"):
        c = m["wsum"][-1] / m["sw"] if design.intercept else float(fam.link.linkinv(np.array([0.0]))[0])
    out: dict[str, Any] = {
        "n": n,
        "k": k,
        "df_resid": float(n - k),
        "df_null": float(n - (1 if design.intercept else 0)),
        "deviance": r["dev"],
        "null_deviance": _constant_deviance(fam, c, m, m["sy"]),
        "dispersion": dispersion,
        "pearson_chi2": r["pearson"],
        "loglik": loglik,
        "aic": -2 * loglik + 2 * n_par,
        "bic": -2 * loglik + math.log(n) * n_par,
        "iterations": iterations,
        "converged": converged,
        "cov_type": opts["cov_type"],
        "model": "glm",
        "family": fam.name,
        "link": fam.link.name,
        "var_power": None,
        "formula": design.formula,
        "response": design.response,
        "weighted": opts.get("weights") is not None,
    }
    if opts.get("cluster") is not None:
        out["n_clusters"] = r["n_clusters"]
    return out


def _diagnostics(fam: Family, fit: dict[str, Any], r: dict[str, Any], m: dict[str, Any], cov_type: str, weighted: bool) -> list[Diagnostic]:
    from ._glm_irls import MAXIT

    diags = []
    if not fit["converged"]:
        diags.append(Diagnostic("convergence", "fail", None, f"IRLS did not converge in {MAXIT} passes; the estimates are unreliable"))
    binary = fam.name == "binomial" and m.get("sylogy", 0.0) == 0.0
    if binary or (fam.name == "poisson" and fam.link.name == "log"):
        name = "separation" if binary else "existence of the estimate"
        if int(r["edge"]):
            what = "probabilities are numerically 0 or 1" if binary else "means are numerically 0"
            msg = f"{int(r['edge'])} fitted {what}: the maximum likelihood estimate may not exist; fit a frame to run the exact check"
            diags.append(Diagnostic(name, "warn", float(r["edge"]), msg))
        else:
            diags.append(
                Diagnostic(name, "ok", 0.0, "no fitted value at the boundary (the linear-programming existence check needs the rows)")
            )
    if fam.name == "poisson" or (fam.name == "binomial" and (weighted or not binary)):
        ratio = fit["pearson_chi2"] / fit["df_resid"]
        if ratio > 1.5:
            status = "warn" if cov_type == "nonrobust" else "ok"
            advice = (
                "classical standard errors are too small; use cov_type='HC0'"
                if status == "warn"
                else f"handled by the robust covariance ({cov_type})"
            )
            diags.append(Diagnostic("overdispersion", status, ratio, f"Pearson chi-square / df = {ratio:.3g} > 1.5: {advice}"))
        else:
            diags.append(
                Diagnostic(
                    "overdispersion", "ok", ratio, f"Pearson chi-square / df = {ratio:.3g} (the Cameron-Trivedi tests need the rows)"
                )
            )
    elif fam.name != "binomial":
        diags.append(
            Diagnostic("variance function", "ok", None, "not checked inside the engine (the variance-power fit needs the residuals)")
        )
    return diags


def _result(
    fam: Family,
    design: ScaleDesign,
    m: dict[str, Any],
    shift: np.ndarray,
    coef: np.ndarray,
    cov: np.ndarray,
    fit: dict[str, Any],
    r: dict[str, Any],
    opts: dict[str, Any],
    h: dict[str, Any],
) -> Any:
    names, cov_type, n = design.names, opts["cov_type"], m["n"]
    t_df = None if fam.fixed_dispersion or cov_type != "nonrobust" else float(n - len(names))
    fit["inference"] = "z" if t_df is None else "t"
    if t_df is not None:
        fit["inference_df"] = t_df
    fit.update(h["slopes_wald"](names, coef, cov, t_df))
    coll, vifs = _collinearity(design, m, shift)
    diags = [coll, *h["few_clusters"](fit.get("n_clusters")), *_diagnostics(fam, fit, r, m, cov_type, opts.get("weights") is not None)]
    label, stat_name, stat, sdf, pval = h["glm_family_test"](fit, cov_type, fam)
    cov_text = h["cov_label"](cov_type, None, fit.get("n_clusters"), linear=False)
    return h["RegressionResult"](
        method=f"{h['family_titles'][fam.name]} GLM, {fam.link.name} link, {cov_text}, computed inside the engine",
        estimand=f"{fam.link.name}-scale coefficients for {design.response} ({label}: all slopes zero)",
        statistic=stat,
        statistic_name=stat_name,
        df=sdf,
        pvalue=pval,
        conf_level=opts["conf_level"],
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=tuple(diags),
        terms=h["terms"](names, coef, cov, opts["conf_level"], t_df),
        details={"fit": fit, "cov": pd.DataFrame(cov, index=names, columns=names), "vif": vifs},
        provenance=Provenance.current(),
        design=h["GLMDesign"](design.design_info, False, None, None),
    )
