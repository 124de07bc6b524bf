"""Instrumental variables: two-stage least squares and the Wald (LATE) estimator, with first-stage diagnostics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_conf_level
from ..exceptions import DataError, RoleError
from ..results import Diagnostic, Provenance, Result
from ._common import check_cov_type, cov_label, dataset, emit, labels, matrix, need, numeric, t_inference, terms_frame
from ._effect import as_effect
from ._linalg import LinearFit, ols, tsls, wald_test

if TYPE_CHECKING:
    from ..causal._effect import EffectResult

__all__ = ["iv_2sls", "wald_estimator"]

#: First-stage F below which an instrument is called weak (Staiger and Stock 1997).
WEAK_F = 10.0


@dataclass(frozen=True)
class IVFit:
    """Numbers from a 2SLS fit (no presentation)."""

    names: list[str]
    second: LinearFit
    first: LinearFit
    first_names: list[str]
    f_classical: float
    f_robust: float | None
    f_df: tuple[int, int]
    partial_r2: float
    sargan: float | None
    sargan_df: int


def _check_not_copy(d: np.ndarray, z: np.ndarray, names: Sequence[str], treatment: str) -> None:
    for j, name in enumerate(names):
        zj = z[:, j]
        if np.array_equal(zj, d):
            raise RoleError(
                f"instrument {name!r} is identical to the treatment {treatment!r}; an instrument must be a separate "
                "source of variation in the treatment (remove it from `instruments`)"
            )
        sd_z, sd_d = zj.std(), d.std()
        if sd_z > 0 and sd_d > 0 and abs(np.corrcoef(zj, d)[0, 1]) > 1 - 1e-10:
            raise RoleError(
                f"instrument {name!r} is an exact linear function of the treatment {treatment!r}; it is a copy of the "
                "treatment, not an instrument (remove it from `instruments`)"
            )


def fit_2sls(
    y: np.ndarray,
    d: np.ndarray,
    z: np.ndarray,
    w: np.ndarray,
    *,
    cov_type: str,
    cluster: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    treatment: str = "treatment",
    instruments: Sequence[str] = ("z",),
    covariates: Sequence[str] = (),
) -> IVFit:
    """2SLS of ``y`` on ``[1, d, w]`` with instruments ``[1, z, w]``, plus first-stage F statistics."""
    n = y.size
    one = np.ones((n, 1))
    x = np.column_stack([one, d, w])
    zz = np.column_stack([one, z, w])
    names = ["(Intercept)", treatment, *covariates]
    _check_not_copy(d, z, instruments, treatment)
    q = z.shape[1]
    first_names = ["(Intercept)", *instruments, *covariates]
    first = ols(d, zz, weights=weights, cov_type=cov_type, cluster=cluster, names=first_names)
    restricted = ols(d, np.column_stack([one, w]), weights=weights, cov_type="classical")
    sw = np.ones(n) if weights is None else weights
    rss_u = float(np.sum(sw * first.resid**2))
    rss_r = float(np.sum(sw * restricted.resid**2))
    df2 = n - zz.shape[1]
    f_classical = ((rss_r - rss_u) / q) / (rss_u / df2) if rss_u > 0 else math.inf
    idx = list(range(1, 1 + q))
    f_robust = wald_test(first.coef, first.cov, idx) / q if cov_type != "classical" else None
    partial_r2 = (rss_r - rss_u) / rss_r if rss_r > 0 else math.nan
    if rss_r - rss_u <= 1e-12 * max(rss_r, 1.0):
        raise DataError(
            f"the instrument(s) {list(instruments)} do not move the treatment {treatment!r} at all once the covariates are "
            "accounted for (first-stage F = 0): the effect is not identified"
        )
    second = tsls(y, x, zz, weights=weights, cov_type=cov_type, cluster=cluster, names=names)
    sargan = None
    if q > 1:
        aux = ols(second.resid, zz, weights=weights, cov_type="classical")
        u = second.resid
        tss = float(np.sum(sw * (u - np.average(u, weights=sw)) ** 2))
        sargan = n * (1 - float(np.sum(sw * aux.resid**2)) / tss) if tss > 0 else 0.0
    return IVFit(names, second, first, first_names, f_classical, f_robust, (q, df2), partial_r2, sargan, q - 1)


def _first_stage_diagnostics(fit: IVFit, cov_type: str) -> list[Diagnostic]:
    from scipy import stats

    q, df2 = fit.f_df
    f = fit.f_robust if fit.f_robust is not None else fit.f_classical
    kind = "robust " if fit.f_robust is not None else ""
    p = float(stats.f.sf(f, q, df2))
    if f < WEAK_F:
        diag = Diagnostic(
            "first-stage strength",
            "warn",
            f,
            f"{kind}first-stage F = {f:.3g} < {WEAK_F:g} (p = {p:.3g}): the instrument is weak, so 2SLS is biased towards "
            "OLS and its confidence interval is unreliable; find a stronger instrument or use weak-IV-robust inference",
        )
    else:
        diag = Diagnostic("first-stage strength", "ok", f, f"{kind}first-stage F = {f:.3g} on ({q}, {df2}) df (>= {WEAK_F:g})")
    out = [diag]
    if fit.sargan is not None:
        ps = float(stats.chi2.sf(fit.sargan, fit.sargan_df))
        status = "ok" if ps >= 0.05 else "warn"
        msg = f"Sargan statistic {fit.sargan:.3g} on {fit.sargan_df} df, p = {ps:.3g}"
        msg += (
            ": no evidence against the overidentifying restrictions"
            if status == "ok"
            else ": the instruments disagree; at least one may be invalid"
        )
        out.append(Diagnostic("overidentification (Sargan)", status, ps, msg))
    return out


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "instruments": [None, "columns"],
        "covariates": [None, "columns"],
        "cluster": [None, "column"],
        "weights": [None, "column"],
        "cov_type": [None, "cov_type"],
        "conf_level": "conf_level",
    }
)
def iv_2sls(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    instruments: str | Sequence[str] | None = None,
    covariates: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    cov_type: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    """Two-stage least squares for the effect of one endogenous treatment, with first-stage diagnostics.

    Parameters
    ----------
    data : Dataset or DataFrame
        The data; role keywords override (or, for a DataFrame, set) the Dataset roles.
    outcome, treatment : str, optional
        Outcome and the (single) endogenous treatment, numeric.
    instruments : str or sequence of str, optional
        Excluded instruments (at least one).
    covariates : str or sequence of str, optional
        Exogenous controls, included in both stages.
    cluster : str, optional
        Cluster identifier for cluster-robust standard errors.
    weights : str, optional
        Observation weights (weighted 2SLS).
    cov_type : {"classical", "HC0", "HC1", "cluster"}, optional
        Covariance of the coefficients. Default: ``"cluster"`` (CR1) when a cluster is given, else ``"HC1"``.
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    EffectResult
        ``estimate``, ``std_error``, ``ci_low``/``ci_high``, ``statistic`` (t), ``df`` (n - k) and ``pvalue``
        for the treatment coefficient; ``terms`` has every second-stage coefficient. Diagnostics:
        ``"first-stage strength"`` (warns when F < 10; robust F unless ``cov_type="classical"``) and, with more
        instruments than treatments, ``"overidentification (Sargan)"``. ``details``: ``"first_stage"``
        (coefficient table), ``"first_stage_F"`` (classical and robust F, their df and partial R²).

    Raises
    ------
    RoleError
        When an instrument is the treatment itself (or an exact linear function of it).
    DataError
        When the instruments do not move the treatment at all (first-stage F = 0).

    Notes
    -----
    With :math:`X = [1, D, W]` and :math:`Z = [1, Z_1, W]`, :math:`\\hat X = Z(Z'Z)^{-1}Z'X` and
    :math:`\\hat\\beta = (\\hat X'\\hat X)^{-1}\\hat X'y`. Standard errors are sandwich estimators with
    bread :math:`(\\hat X'\\hat X)^{-1}` and structural residuals :math:`y - X\\hat\\beta`; intervals and
    p-values use the t distribution on :math:`n - k` df, as ``lmtest::coeftest`` does. The classical first-stage
    F compares the first stage with and without the excluded instruments; the robust F is the Wald statistic
    for the same restriction, divided by the number of instruments.
    Validated against R's ``AER::ivreg`` with ``sandwich::vcovHC`` / ``vcovCL`` (``tests/reference/iv.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> ds = ci.load_dataset("close_college")
    >>> r = ci.designs.iv_2sls(ds)
    >>> round(r.estimate, 3), r.diagnostic("first-stage strength").status
    (0.124, 'ok')
    """
    conf_level = check_conf_level(conf_level)
    ds = dataset(
        data, outcome=outcome, treatment=treatment, instruments=instruments, covariates=covariates, cluster=cluster, weights=weights
    )
    y_name = need(ds, "outcome", "iv_2sls")
    d_name = need(ds, "treatment", "iv_2sls")
    z_names = need(ds, "instruments", "iv_2sls")
    cov_type = check_cov_type(cov_type, ds.cluster)
    y = numeric(ds, y_name, "outcome")
    d = numeric(ds, d_name, "treatment")
    z = matrix(ds, z_names, "instrument")
    w = matrix(ds, ds.covariates, "covariate")
    wt = numeric(ds, ds.weights, "weights") if ds.weights else None
    cl = labels(ds, ds.cluster) if cov_type == "cluster" and ds.cluster else None
    fit = fit_2sls(y, d, z, w, cov_type=cov_type, cluster=cl, weights=wt, treatment=d_name, instruments=z_names, covariates=ds.covariates)
    diags = _first_stage_diagnostics(fit, cov_type)
    emit(diags, "iv_2sls")
    result = _iv_result(
        fit,
        ds,
        conf_level,
        cov_type,
        method="Two-stage least squares (instrumental variables)",
        estimand=f"effect of {d_name} on {y_name}, instrumented by {', '.join(z_names)}",
        diags=diags,
    )
    binary_d = bool(np.isin(d, (0.0, 1.0)).all())
    return as_effect(
        result,
        effect="LATE" if binary_d else "IV effect",
        func=iv_2sls,
        ds=ds,
        design="iv",
        options={"cov_type": cov_type, "conf_level": conf_level},
        group=ds.cluster if cl is not None else None,
        adjusts=True,
    )


def _iv_result(
    fit: IVFit,
    ds: Any,
    conf_level: float,
    cov_type: str,
    *,
    method: str,
    estimand: str,
    diags: list[Diagnostic],
    extra: dict[str, Any] | None = None,
) -> Result:
    s = fit.second
    df = float(s.df_resid)
    terms = terms_frame(fit.names, s.coef, s.std_error, df, conf_level)
    first = terms_frame(fit.first_names, fit.first.coef, fit.first.std_error, float(fit.first.df_resid), conf_level)
    est, se = float(s.coef[1]), float(s.std_error[1])
    stat, p, lo, hi = t_inference(est, se, df, conf_level)
    fstats = pd.DataFrame(
        [
            {
                "F_classical": fit.f_classical,
                "F_robust": math.nan if fit.f_robust is None else fit.f_robust,
                "df1": fit.f_df[0],
                "df2": fit.f_df[1],
                "partial_r2": fit.partial_r2,
            }
        ]
    )
    details: dict[str, Any] = {"first_stage": first, "first_stage_F": fstats, "cov_type": cov_type}
    if s.n_clusters is not None:
        details["n_clusters"] = s.n_clusters
    details.update(extra or {})
    return Result(
        method=f"{method}, {cov_label(cov_type)}",
        estimand=estimand,
        estimate=est,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="t",
        df=df,
        pvalue=p,
        alternative="two-sided",
        null_value=0.0,
        n=s.n,
        diagnostics=tuple(diags),
        details=details,
        terms=terms,
        label=str(fit.names[1]),
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "instrument": [None, "column"],
        "cluster": [None, "column"],
        "cov_type": [None, "cov_type"],
        "conf_level": "conf_level",
    }
)
def wald_estimator(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    instrument: str | None = None,
    cluster: str | None = None,
    cov_type: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    """Wald estimator: the ratio of the reduced-form to the first-stage difference for a binary instrument.

    With a binary treatment and the usual IV assumptions plus monotonicity (no defiers), the ratio is the local
    average treatment effect (LATE) for compliers.

    Parameters
    ----------
    data : Dataset or DataFrame
    outcome, treatment : str, optional
    instrument : str, optional
        A binary (0/1) instrument; defaults to the Dataset's single instrument.
    cluster : str, optional
    cov_type : {"classical", "HC0", "HC1", "cluster"}, optional
        As in :func:`iv_2sls` (default HC1, or cluster-robust when a cluster is given).
    conf_level : float

    Returns
    -------
    EffectResult
        ``estimate`` :math:`= (\\bar Y_1 - \\bar Y_0)/(\\bar D_1 - \\bar D_0)` with its standard error, CI and
        p-value; ``details["components"]`` has the reduced form (intention-to-treat) and first-stage
        differences, and with a binary treatment the complier share; first-stage diagnostics as in
        :func:`iv_2sls`.

    Notes
    -----
    The Wald ratio equals just-identified 2SLS with an intercept, so its standard error is the 2SLS sandwich
    standard error (validated against ``AER::ivreg``, ``tests/reference/iv.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.designs.wald_estimator(ci.load_dataset("close_college"), instrument="nearc4")
    >>> round(r.estimate, 3)
    0.186
    """
    conf_level = check_conf_level(conf_level)
    ds = dataset(data, outcome=outcome, treatment=treatment, cluster=cluster)
    if instrument is None:
        zs = need(ds, "instruments", "wald_estimator")
        if len(zs) != 1:
            raise RoleError(f"wald_estimator needs exactly one instrument; the data have {list(zs)}: pass instrument='name'")
        instrument = zs[0]
    ds = ds.with_roles(instruments=(instrument,), covariates=())
    y_name = need(ds, "outcome", "wald_estimator")
    d_name = need(ds, "treatment", "wald_estimator")
    cov_type = check_cov_type(cov_type, ds.cluster)
    y, d, z = numeric(ds, y_name, "outcome"), numeric(ds, d_name, "treatment"), numeric(ds, instrument, "instrument")
    levels = np.unique(z)
    if levels.size != 2 or not np.array_equal(levels, [0.0, 1.0]):
        raise RoleError(f"the Wald estimator needs a 0/1 instrument; {instrument!r} has values {levels[:6].tolist()}; use iv_2sls instead")
    cl = labels(ds, ds.cluster) if cov_type == "cluster" and ds.cluster else None
    fit = fit_2sls(y, d, z[:, None], np.empty((y.size, 0)), cov_type=cov_type, cluster=cl, treatment=d_name, instruments=(instrument,))
    on, off = z == 1, z == 0
    itt = float(y[on].mean() - y[off].mean())
    fs = float(d[on].mean() - d[off].mean())
    comp = {"reduced_form": itt, "first_stage": fs, "n_instrument_1": int(on.sum()), "n_instrument_0": int(off.sum())}
    binary_d = np.isin(np.unique(d), [0.0, 1.0]).all()
    if binary_d:
        comp["complier_share"] = fs
    diags = _first_stage_diagnostics(fit, cov_type)
    if binary_d and fs < 0:
        diags.append(
            Diagnostic(
                "monotonicity",
                "warn",
                fs,
                "the instrument lowers take-up on average; LATE needs monotonicity, check the coding of the instrument",
            )
        )
    emit(diags, "wald_estimator")
    what = "local average treatment effect (compliers)" if binary_d else "Wald ratio (reduced form / first stage)"
    result = _iv_result(
        fit,
        ds,
        conf_level,
        cov_type,
        method="Wald estimator (binary instrument)",
        estimand=f"{what} of {d_name} on {y_name}, instrument {instrument}",
        diags=diags,
        extra={"components": pd.DataFrame([comp])},
    )
    return as_effect(
        result,
        effect="LATE" if binary_d else "Wald ratio",
        func=wald_estimator,
        ds=ds,
        design="iv",
        options={"instrument": instrument, "cov_type": cov_type, "conf_level": conf_level},
        group=ds.cluster if cl is not None else None,
    )
