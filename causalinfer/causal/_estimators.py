"""Public estimators of the effect of a binary treatment under unconfoundedness."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import check_choice, check_conf_level, check_int, check_probability, check_random_state, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, Provenance
from ..stats._scale import SCALE_DATA, is_scale_data
from . import _core as core
from ._design import CausalData, check_covariate_rank, check_estimand, check_rank_by_blocks, prepare
from ._diagnostics import balance_diagnostic, balance_table, overlap_diagnostics, overlap_table, propensity_histogram, split_groups
from ._effect import EffectResult
from ._models import check_classifier, check_regressor
from ._refitter import CausalRefitter

METHODS = ("ipw", "regression", "aipw", "dml", "stratification", "matching")
MIN_CLUSTERS = 20


# ---------------------------------------------------------------------- shared plumbing
def _z(conf_level: float) -> float:
    from ..stats._normal import z_crit

    return z_crit(conf_level)


def _pvalue(z: float) -> float:
    from ..stats._normal import z_pvalue

    return z_pvalue(z, "two-sided")


def _check_clip_trim(clip: Any, trim: Any) -> tuple[float | None, float | None]:
    out: list[float | None] = []
    for name, v in (("clip", clip), ("trim", trim)):
        if v is None:
            out.append(None)
            continue
        p = check_probability(v, name, open_interval=True)
        if p >= 0.5:
            raise ArgumentError(f"`{name}` must be below 0.5 (propensities are kept within [{name}, 1 - {name}]); got {show(v)}")
        out.append(p)
    return out[0], out[1]


def _interactions(cd: CausalData, interactions: Any) -> tuple[int, ...]:
    if interactions is True or interactions == "all":
        return tuple(range(len(cd.names)))
    if interactions is False or interactions is None or interactions == "none":
        return ()
    if isinstance(interactions, str):
        interactions = [interactions]
    if not isinstance(interactions, Sequence):
        raise ArgumentTypeError(f"`interactions` must be True, False or a list of covariate columns; got {show(interactions)}")
    idx = []
    for name in interactions:
        if name not in cd.names:
            raise ArgumentError(f"`interactions` names {name!r}, which is not a covariate column; the columns are {list(cd.names)}")
        idx.append(cd.names.index(name))
    return tuple(idx)


def _cluster_diagnostic(cd: CausalData) -> list[Diagnostic]:
    if cd.cluster is None:
        return []
    sizes = np.bincount(cd.cluster)
    g = sizes.size
    if g < 2:
        raise DataError(f"cluster {cd.cluster_name!r} has a single cluster; cluster-robust standard errors need at least 2 (better 20+)")
    status = "ok" if g >= MIN_CLUSTERS else "warn"
    msg = f"{g} clusters of {cd.cluster_name!r} (sizes {int(sizes.min())} to {int(sizes.max())})"
    if status == "warn":
        msg += f"; with fewer than {MIN_CLUSTERS} clusters cluster-robust standard errors are too small and CIs under-cover"
    return [Diagnostic("clusters", status, float(g), msg)]


def _trim(cd: CausalData, spec: core.Spec, trim: float | None) -> tuple[CausalData, list[Diagnostic], str]:
    if trim is None:
        return cd, [], ""
    e, _ = core.propensity(cd.a, cd.Z, spec, _design_warm(cd), cd.names)
    keep = (e >= trim) & (e <= 1.0 - trim)
    dropped = int((~keep).sum())
    n1, n0 = int(cd.a[keep].sum()), int((1 - cd.a[keep]).sum())
    if n1 < 2 or n0 < 2:
        raise DataError(f"trim={trim} leaves {n1} treated and {n0} untreated units; use a smaller `trim`")
    msg = f"{dropped} of {cd.n} units with propensity outside [{trim:g}, {1 - trim:g}] were dropped before estimation; the estimate is for the remaining population"
    diag = Diagnostic("trimming", "warn" if dropped else "ok", float(dropped), msg)
    return cd.subset(keep), [diag], f", among units with propensity in [{trim:g}, {1 - trim:g}]"


def _design_warm(cd: CausalData) -> core.Warm:
    """The standardised design of ``cd`` (built once) for a first propensity fit: no coefficients to start from."""
    std, X = cd.standardized()
    return core.Warm(std=std, X=X)


def _diagnostics_for(cd: CausalData, fit: core.EffectFit, spec: core.Spec) -> tuple[list[Diagnostic], dict[str, Any]]:
    """Overlap and balance, from the estimator's own propensity/weights or, for outcome models, a logistic fit."""
    e, w = fit.e, fit.weights
    diags: list[Diagnostic] = []
    details: dict[str, Any] = {}
    if e is None:
        try:
            e, _ = core.propensity(cd.a, cd.Z, core.Spec("ipw", estimand=spec.estimand), _design_warm(cd), cd.names)
        except DataError as exc:
            diags.append(Diagnostic("overlap", "fail", None, str(exc)))
            e = None
        if e is not None:
            w, _ = core.weights_and_slope(cd.a, e, spec.estimand)
    if e is not None and w is None:
        w, _ = core.weights_and_slope(cd.a, e, spec.estimand)
    if e is not None:
        groups = split_groups(e, cd.a, w)  # each arm's propensities and weights, taken out once for the three summaries
        diags += overlap_diagnostics(e, cd.a, w, spec.estimand, groups)
        details["overlap"] = overlap_table(e, cd.a, w, groups)
        details["propensity_histogram"] = propensity_histogram(e, cd.a, groups=groups)
    if cd.Z.shape[1]:
        table = balance_table(cd.Z, cd.names, cd.a, w)
        details["balance"] = table
        diags.append(balance_diagnostic(table, adjusted=w is not None))
    if fit.n_clipped and spec.clip is not None:
        diags.append(
            Diagnostic(
                "clipping",
                "warn",
                float(fit.n_clipped),
                f"{fit.n_clipped} propensity score(s) were clipped into [{spec.clip:g}, {1 - spec.clip:g}] (clip={spec.clip:g}); "
                "this bounds the weights at the price of some bias",
            )
        )
    return diags, details


def _bootstrap_se(cd: CausalData, spec: core.Spec, n_bootstrap: int, rng: np.random.Generator) -> float:
    """Bootstrap standard error through the stats resampling engine, refitting every nuisance model per resample."""
    from ..stats import resample_apply

    def refit(idx: np.ndarray) -> float:
        return float(core.run(cd.y[idx], cd.a[idx], cd.Z[idx], spec, need_phi=False, names=cd.names).estimate)

    seed = int(rng.integers(0, 2**63 - 1))
    ests = np.asarray(resample_apply(refit, cd.n, n_resamples=n_bootstrap, random_state=seed, n_jobs=1), dtype=float)
    return float(ests.std(ddof=1))


def _finish(
    cd: CausalData,
    spec: core.Spec,
    fit: core.EffectFit,
    *,
    method: str,
    conf_level: float,
    extra_diags: list[Diagnostic],
    estimand_suffix: str,
    random_state: Any,
    se_override: float | None = None,
    se_note: str = "",
) -> EffectResult:
    if random_state is not None:
        check_random_state(random_state)  # recorded in the provenance even where nothing is random: it must be valid
    cluster_diags = _cluster_diagnostic(cd)  # raises before any standard error is formed from one cluster
    if se_override is not None:
        se = se_override
    else:
        assert fit.phi is not None
        se = core.standard_error(fit.phi, cd.cluster)
    if not math.isfinite(fit.estimate) or not math.isfinite(se):
        raise DataError(f"{method}: the estimate is not finite (estimate={fit.estimate}, se={se}); check overlap and the covariates")
    z = _z(conf_level)
    diags, details = _diagnostics_for(cd, fit, spec)
    diags = extra_diags + cluster_diags + diags
    if se_note:
        diags.append(Diagnostic("standard error", "ok", None, se_note))
    if fit.mu1 is not None and fit.mu0 is not None:
        import pandas as pd

        details["potential_outcomes"] = pd.DataFrame({"treatment": [1, 0], "mean": [fit.mu1, fit.mu0]})
    details["covariate_columns"] = list(cd.names)
    stat = fit.estimate / se if se > 0 else math.nan
    result = EffectResult(
        method=method,
        estimand=cd.estimand_text(spec.estimand) + estimand_suffix,
        estimate=fit.estimate,
        std_error=se,
        ci_low=fit.estimate - z * se,
        ci_high=fit.estimate + z * se,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="z",
        pvalue=_pvalue(stat) if se > 0 else None,
        alternative="two-sided",
        null_value=0.0,
        n=cd.n,
        diagnostics=tuple(diags),
        details=details,
        label=f"{spec.method} {spec.estimand}",
        provenance=Provenance.current(random_state=random_state, data_fingerprint=cd.fingerprint),
        effect=spec.estimand,
        treatment=cd.treatment,
        outcome=cd.outcome,
    )
    std = cd.standardized()[0]
    if fit.logit is not None:
        warm = core.Warm(std=std, beta=fit.logit.beta, X=fit.logit.X, H=fit.logit.hessian())
    else:
        warm = core.Warm(std=std)
    return result.replace(refitter=CausalRefitter(cd=cd, spec=spec, warm=warm, conf_level=conf_level))


def _common(
    data: Any, outcome: Any, treatment: Any, covariates: Any, categorical: Any, squared: Any, cluster: Any, estimand: Any, conf_level: Any
) -> tuple[CausalData, str, float]:
    estimand = check_estimand(estimand)
    conf_level = check_conf_level(conf_level)
    cd = prepare(
        data, outcome=outcome, treatment=treatment, covariates=covariates, categorical=categorical, squared=squared, cluster=cluster
    )
    check_covariate_rank(cd, "covariates")
    return cd, estimand, conf_level


# ---------------------------------------------------------------------- IPW
@vp.validate_params(
    {
        "data": ["data", *SCALE_DATA],
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "categorical": "columns",
        "squared": "columns",
        "estimand": vp.Options(("ATE", "ATT", "ATC")),
        "normalize": "boolean",
        "stabilize": "boolean",
        "trim": [None, vp.Interval("real", 0, 0.5, closed="neither")],
        "clip": [None, vp.Interval("real", 0, 0.5, closed="neither")],
        "se": vp.Options(("influence", "sandwich")),
        "propensity_model": [
            None,
            vp.HasMethods("fit", "predict_proba", "get_params", what="a scikit-learn classifier with predict_proba"),
        ],
        "random_state": "random_state",
        "cluster": [None, "column"],
        "conf_level": "conf_level",
    }
)
def ipw(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    squared: Sequence[str] = (),
    estimand: str = "ATE",
    normalize: bool = True,
    stabilize: bool = False,
    trim: float | None = None,
    clip: float | None = None,
    se: str = "influence",
    propensity_model: Any = None,
    random_state: Any = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    r"""Inverse-probability-weighted estimate of the ATE, ATT or ATC of a binary treatment.

    Parameters
    ----------
    data : Dataset, DataFrame, ParquetSource, SQLTable, DuckDB relation or dask DataFrame
        The data; with a DataFrame give the roles below. A :class:`~causalinfer.data.ParquetSource` (a file or
        folder, scanned by DuckDB), a :class:`~causalinfer.data.SQLTable` (e.g. PostgreSQL through SQLAlchemy), a
        DuckDB relation or a dask DataFrame is analysed where it lives: the propensity fit, the estimate, its
        standard error and the diagnostics are computed from sums over the rows (a few passes), with the
        in-memory numbers; give ``outcome``, ``treatment`` and ``covariates`` by name. ``propensity_model`` is not
        available there, and rows with missing values are refused as in memory.
    outcome, treatment : str, optional
        Outcome column and binary (0/1) treatment column (override the Dataset's roles).
    covariates : sequence of str, optional
        The adjustment set (overrides the Dataset's covariates).
    categorical : sequence of str
        Covariates to expand into indicators for every level but the first (non-numeric ones always are).
    squared : sequence of str
        Numeric covariates that also enter squared, ``I(x^2)``.
    estimand : {"ATE", "ATT", "ATC"}
        Average effect over everyone, over the treated, or over the untreated.
    normalize : bool
        True (default): Hajek estimator, the weights are normalised to sum to one in each group (the same
        estimate as a weighted regression of the outcome on the treatment). False: Horvitz-Thompson.
    stabilize : bool
        Report stabilised weights in ``details["weights"]`` (ATE: :math:`P(A=a)/P(A=a \mid Z)`; ATT and ATC:
        the weights of the non-target group times the ratio of the group shares, so their mean is near 1).
        The Hajek estimate and its standard error do not change, since a constant factor within a group cancels.
    trim : float, optional
        Drop units whose estimated propensity lies outside ``[trim, 1 - trim]`` and estimate again on the rest
        (a different, stated population). Reported in the diagnostics.
    clip : float, optional
        Clip propensities into ``[clip, 1 - clip]`` (bounded weights, some bias). Reported in the diagnostics.
    se : {"influence", "sandwich"}
        ``"influence"`` (default): the influence function of the estimator stacked with the logistic score,
        so the uncertainty of the estimated propensity is accounted for. ``"sandwich"``: the robust standard
        error of the weighted outcome regression with the weights treated as known (What If, Program 12.2;
        conservative for the ATE).
    propensity_model : scikit-learn classifier, optional
        Replaces the logistic regression (cloned and refitted); its uncertainty is then ignored in the SE.
    random_state : int, optional
        Recorded in the provenance (the estimate itself is deterministic).
    cluster : str, optional
        Cluster column for cluster-robust standard errors.
    conf_level : float
        Confidence level of the normal interval.

    Returns
    -------
    EffectResult
        ``estimate``, ``std_error``, ``ci_low``/``ci_high``, ``statistic`` (z), ``pvalue`` (against no effect),
        ``n``; diagnostics for overlap, weights (effective sample size, largest weight), balance, clipping and
        trimming; ``details``: ``balance``, ``overlap``, ``propensity_histogram``, ``potential_outcomes``, ``weights``.

    Notes
    -----
    With balancing weights :math:`w_i` (ATE: :math:`1/e_i` for the treated and :math:`1/(1-e_i)` for
    controls; ATT: 1 and :math:`e_i/(1-e_i)`; ATC: :math:`(1-e_i)/e_i` and 1), the Hajek estimate is
    :math:`\sum_{A=1} w_i Y_i / \sum_{A=1} w_i - \sum_{A=0} w_i Y_i / \sum_{A=0} w_i`; Horvitz-Thompson divides
    both sums by the size of the target population instead. The standard error is
    :math:`\sqrt{\sum_i \phi_i^2} / n` with :math:`\phi` the influence function (clusters: sums of
    :math:`\phi` within clusters, scaled by :math:`G/(G-1)`). Validated against R (``glm`` and estimating
    equations solved by hand, ``sandwich``; ``tests/reference/causal_estimators.R``) and What If, Program 12.2.

    Examples
    --------
    >>> import causalinfer as ci
    >>> nhefs = ci.load_dataset("nhefs")
    >>> r = ci.causal.ipw(nhefs, categorical=["education", "exercise", "active"],
    ...                   squared=["age", "smokeintensity", "smokeyrs", "wt71"], se="sandwich")
    >>> round(r.estimate, 1), round(r.ci_low, 1), round(r.ci_high, 1)
    (3.4, 2.4, 4.5)
    """
    if is_scale_data(data):  # a Parquet file, SQL table, DuckDB relation or dask DataFrame: computed in the engine
        from ._scale_ipw import ipw_at_scale

        return ipw_at_scale(data, **{k: v for k, v in locals().items() if k != "data"})
    cd, estimand, conf_level = _common(data, outcome, treatment, covariates, categorical, squared, cluster, estimand, conf_level)
    se = check_choice(se, "se", ("influence", "sandwich"))
    clip, trim = _check_clip_trim(clip, trim)
    for name, v in (("normalize", normalize), ("stabilize", stabilize)):
        if not isinstance(v, bool):
            raise ArgumentTypeError(f"`{name}` must be True or False; got {show(v)}")
    spec = core.Spec(
        "ipw",
        estimand=estimand,
        normalize=normalize,
        clip=clip,
        se=se,
        propensity_model=check_classifier(propensity_model, "propensity_model"),
    )
    cd, extra, suffix = _trim(cd, spec, trim)
    fit = core.ipw(cd.y, cd.a, cd.Z, spec, warm=_design_warm(cd), names=cd.names)
    kind = "normalised (Hajek)" if normalize else "Horvitz-Thompson"
    pmodel = "logistic propensity" if propensity_model is None else f"{type(propensity_model).__name__} propensity"
    se_text = "influence-function SE" if se == "influence" else "robust sandwich SE, weights treated as known"
    if se == "influence" and propensity_model is not None:
        se_text = "influence-function SE treating the propensity as known"
    method = f"Inverse probability weighting, {kind}, {pmodel}, {se_text}"
    result = _finish(
        cd, spec, fit, method=method, conf_level=conf_level, extra_diags=extra, estimand_suffix=suffix, random_state=random_state
    )
    w = fit.weights
    assert w is not None
    import pandas as pd

    p1 = cd.a.mean()
    if not stabilize:
        sw = w
    elif estimand == "ATE":
        sw = w * np.where(cd.a == 1, p1, 1 - p1)  # P(A = a) / P(A = a | Z)
    elif estimand == "ATT":
        sw = w * np.where(cd.a == 1, 1.0, (1 - p1) / p1)  # controls: e / (1 - e) * P(A = 0) / P(A = 1)
    else:
        sw = w * np.where(cd.a == 1, p1 / (1 - p1), 1.0)
    details = dict(result.details)
    sw1, sw0 = sw[cd.a == 1], sw[cd.a == 0]
    details["weights"] = pd.DataFrame(
        {
            "group": ["treated", "control"],
            "stabilized": [bool(stabilize)] * 2,
            "mean": [float(sw1.mean()), float(sw0.mean())],
            "min": [float(sw1.min()), float(sw0.min())],
            "max": [float(sw1.max()), float(sw0.max())],
        }
    )
    return result.replace(details=details)


# ---------------------------------------------------------------------- regression adjustment
@vp.validate_params(
    {
        "data": ["data", *SCALE_DATA],
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "categorical": "columns",
        "squared": "columns",
        "estimand": vp.Options(("ATE", "ATT", "ATC")),
        "interactions": ["boolean", "columns"],
        "outcome_model": [None, vp.HasMethods("fit", "predict", "get_params", what="a scikit-learn regressor")],
        "n_bootstrap": vp.Interval("int", 10),
        "random_state": "random_state",
        "cluster": [None, "column"],
        "conf_level": "conf_level",
    }
)
def regression_adjustment(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    squared: Sequence[str] = (),
    estimand: str = "ATE",
    interactions: bool | str | Sequence[str] = True,
    outcome_model: Any = None,
    n_bootstrap: int = 200,
    random_state: Any = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    r"""Regression adjustment (standardisation, the parametric g-formula) for a binary treatment.

    Fits :math:`E[Y \mid A, Z]`, predicts every unit's outcome under treatment and under control, and
    averages the difference over the target population.

    Parameters
    ----------
    data : Dataset, DataFrame, ParquetSource, SQLTable, DuckDB relation or dask DataFrame
        The data. A :class:`~causalinfer.data.ParquetSource` (file or folder, computed in DuckDB), a
        :class:`~causalinfer.data.SQLTable` (computed in the database), a DuckDB relation or a dask DataFrame is
        analysed where it lives, from sums over the rows (see Notes); give the roles as column names.
    outcome, treatment, covariates, categorical, squared, estimand, cluster, conf_level
        As in :func:`ipw`.
    interactions : bool, or sequence of str
        Covariate columns that interact with the treatment in the linear outcome model. True (default): all
        of them (the same fit as separate regressions per group); False: none (a common treatment shift);
        a list of column names (see ``details["covariate_columns"]``), e.g. ``["smokeintensity"]``.
    outcome_model : scikit-learn regressor, optional
        Replaces the linear model: it is cloned and fitted separately to treated and control units, and the
        standard error comes from ``n_bootstrap`` bootstrap refits of the whole procedure.
    n_bootstrap : int
        Bootstrap replicates when ``outcome_model`` is given.
    random_state : int or Generator, optional
        Seed of the bootstrap.

    Returns
    -------
    EffectResult
        As for :func:`ipw`; ``details["potential_outcomes"]`` holds the standardised means under treatment and
        control. Balance and overlap diagnostics use a logistic propensity model fitted for the purpose.

    Notes
    -----
    With :math:`c_i` the target indicator (1, :math:`A_i` or :math:`1-A_i`), :math:`\hat\theta =
    \sum_i c_i(\hat m_1(Z_i) - \hat m_0(Z_i)) / \sum_i c_i`. Its influence function adds to
    :math:`c_i(\hat m_1 - \hat m_0 - \hat\theta)` the effect of the estimated coefficients,
    :math:`\bar{c\,\Delta x}^\top (X^\top X/n)^{-1} x_i r_i`, so the interval covers the population (not just
    the sample) effect. Validated against R (``lm`` plus influence functions from ``sandwich::estfun`` /
    ``bread``; ``tests/reference/causal_estimators.R``) and What If, Program 13.4 (3.5 kg).

    On a Parquet source, SQL table, DuckDB relation or dask DataFrame the linear model, the influence function
    and the overlap and balance diagnostics are computed inside the engine from k x k sums (memory stays flat in
    the number of rows) and equal the in-memory numbers on the same rows; missing values are refused, and
    ``outcome_model`` (a scikit-learn model cannot be fitted from sums) is not available there. The propensity
    histogram and refutations need the rows in memory.

    Examples
    --------
    >>> import causalinfer as ci
    >>> nhefs = ci.load_dataset("nhefs")
    >>> r = ci.causal.regression_adjustment(nhefs, categorical=["education", "exercise", "active"],
    ...     squared=["age", "smokeintensity", "smokeyrs", "wt71"], interactions=["smokeintensity"])
    >>> round(r.estimate, 2)
    3.52
    """
    if is_scale_data(data):
        from ._scale_aipw import regression_adjustment_at_scale

        if outcome_model is not None:
            raise ArgumentError(
                f"`outcome_model` {type(outcome_model).__name__} cannot be fitted from sums over a Parquet, SQL or dask `data`: "
                "leave it None for the linear outcome model, or analyse a sample loaded into memory"
            )
        roles: dict[str, Any] = {"outcome": outcome, "treatment": treatment, "covariates": covariates, "categorical": categorical}
        opts: dict[str, Any] = {"estimand": estimand, "cluster": cluster, "conf_level": conf_level, "random_state": random_state}
        return regression_adjustment_at_scale(data, interactions=interactions, squared=squared, **roles, **opts)
    cd, estimand, conf_level = _common(data, outcome, treatment, covariates, categorical, squared, cluster, estimand, conf_level)
    inter = _interactions(cd, interactions)
    model = check_regressor(outcome_model, "outcome_model")
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", minimum=10)
    rng = check_random_state(random_state)
    spec = core.Spec("regression", estimand=estimand, outcome_model=model, interactions=inter)
    if model is None:
        for arm in (1.0, 0.0):
            rows = int((cd.a == arm).sum())
            if rows < 1 + len(inter):
                raise DataError(
                    f"outcome model: {rows} {core.arm_name(arm)} row(s) cannot fit the {1 + len(inter)} parameters specific to that "
                    f"group (intercept and {len(inter)} treatment interaction(s)); use fewer `interactions` or more data"
                )
        check_rank_by_blocks(
            lambda sl: core.outcome_design(cd.a[sl], cd.Z[sl], inter),
            cd.n,
            ("(intercept)", cd.treatment, *cd.names, *[f"{cd.treatment}:{cd.names[j]}" for j in inter]),
            "outcome model",
        )
    fit = core.run(cd.y, cd.a, cd.Z, spec, names=cd.names)
    if model is None:
        which = (
            "all covariates" if len(inter) == len(cd.names) else ("no covariates" if not inter else ", ".join(cd.names[j] for j in inter))
        )
        method = f"Regression adjustment (g-formula), linear outcome model with treatment interactions on {which}, influence-function SE"
        return _finish(cd, spec, fit, method=method, conf_level=conf_level, extra_diags=[], estimand_suffix="", random_state=random_state)
    if cd.cluster is not None:
        raise ArgumentError(
            "`cluster` is not available with a custom `outcome_model` (bootstrap SE); use the linear model or method='aipw'"
        )
    se = _bootstrap_se(cd, spec, n_bootstrap, rng)
    method = f"Regression adjustment (g-formula), {type(model).__name__} per treatment group, bootstrap SE ({n_bootstrap} refits)"
    return _finish(
        cd,
        spec,
        fit,
        method=method,
        conf_level=conf_level,
        extra_diags=[],
        estimand_suffix="",
        random_state=random_state,
        se_override=se,
        se_note=f"standard error from {n_bootstrap} bootstrap refits of the outcome models",
    )


# ---------------------------------------------------------------------- AIPW and DML
def _n_folds(n_folds: Any, flexible: bool) -> int:
    if n_folds is None:
        return 5 if flexible else 1
    return check_int(n_folds, "n_folds", minimum=1, maximum=50)


@vp.validate_params(
    {
        "data": ["data", *SCALE_DATA],
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "categorical": "columns",
        "squared": "columns",
        "estimand": vp.Options(("ATE", "ATT", "ATC")),
        "propensity_model": [
            None,
            vp.HasMethods("fit", "predict_proba", "get_params", what="a scikit-learn classifier with predict_proba"),
        ],
        "outcome_model": [None, vp.HasMethods("fit", "predict", "get_params", what="a scikit-learn regressor")],
        "n_folds": [None, vp.Interval("int", 1, 50)],
        "trim": [None, vp.Interval("real", 0, 0.5, closed="neither")],
        "clip": [None, vp.Interval("real", 0, 0.5, closed="neither")],
        "random_state": "random_state",
        "cluster": [None, "column"],
        "fold_key": [None, "column"],
        "conf_level": "conf_level",
    }
)
def aipw(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    squared: Sequence[str] = (),
    estimand: str = "ATE",
    propensity_model: Any = None,
    outcome_model: Any = None,
    n_folds: int | None = None,
    trim: float | None = None,
    clip: float | None = None,
    random_state: Any = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
    fold_key: str | None = None,
) -> EffectResult:
    r"""Augmented inverse probability weighting (doubly robust), with optional cross-fitting.

    Parameters
    ----------
    data : Dataset, DataFrame, ParquetSource, SQLTable, DuckDB relation or dask DataFrame
        The data; a Parquet source, SQL table, DuckDB relation or dask DataFrame is analysed where it lives, from
        sums over the rows, as in :func:`regression_adjustment` (cross-fitting there needs ``fold_key``; ``trim``
        and scikit-learn nuisance models are not available there).
    outcome, treatment, covariates, categorical, squared, estimand, trim, clip, cluster, conf_level
        As in :func:`ipw`.
    propensity_model : scikit-learn classifier, optional
        Default: logistic regression.
    outcome_model : scikit-learn regressor, optional
        Fitted separately in each treatment group. Default: linear regression.
    n_folds : int, optional
        Cross-fitting folds (stratified by treatment): nuisance models are fitted on the other folds and
        evaluated on each fold. Default: 1 (no cross-fitting) when both models are the built-in parametric
        ones, 5 when either is a scikit-learn model.
    random_state : int or Generator, optional
        Seed of the fold assignment (without ``fold_key``).
    fold_key : str, optional
        An integer unit-id column: cross-fitting folds come from a hash of its values (``n_folds`` defaults to 5),
        so every unit keeps its fold whatever the row order, partitioning or engine, and the in-memory and
        in-engine estimates agree. The hash is 64-bit integer arithmetic written identically in numpy and SQL:
        with ``P = 2147483579``, ``x = key mod P``, ``x = (1103515245 x + 12345) mod P``, ``x = x^3 mod P``,
        ``x = (747796405 x + 1013904223) mod P`` and the fold is ``x mod n_folds``. Folds are not stratified by
        treatment. Missing keys are refused. Refutations of the result refit with seeded folds.

    Returns
    -------
    EffectResult
        As for :func:`ipw`.

    Notes
    -----
    ATE: :math:`\psi_i = \hat m_1 - \hat m_0 + A(Y - \hat m_1)/\hat e - (1-A)(Y - \hat m_0)/(1-\hat e)`,
    :math:`\hat\theta = \bar\psi`. ATT: :math:`\psi_i = A(Y - \hat m_0) - (1-A)\hat e(Y - \hat m_0)/(1-\hat e)`
    divided by the share treated; ATC symmetrically. The standard error is that of the efficient influence
    function, :math:`\sqrt{\sum(\psi_i - c_i\hat\theta)^2}/\sum c_i`. Consistent if either model is right.
    Validated against R (``glm``/``lm`` and the same formulas, with and without folds;
    ``tests/reference/causal_estimators.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.aipw(ci.load_dataset("lalonde"))
    >>> round(r.estimate)
    1619
    """
    if is_scale_data(data):
        from ._scale_aipw import aipw_at_scale

        roles: dict[str, Any] = {"outcome": outcome, "treatment": treatment, "covariates": covariates, "categorical": categorical}
        nuisance: dict[str, Any] = {"propensity_model": propensity_model, "outcome_model": outcome_model, "n_folds": n_folds}
        opts: dict[str, Any] = {"estimand": estimand, "trim": trim, "clip": _check_clip_trim(clip, trim)[0], "cluster": cluster}
        return aipw_at_scale(
            data, **roles, **nuisance, **opts, squared=squared, fold_key=fold_key, conf_level=conf_level, random_state=random_state
        )
    cd, estimand, conf_level = _common(data, outcome, treatment, covariates, categorical, squared, cluster, estimand, conf_level)
    clip, trim = _check_clip_trim(clip, trim)
    pm = check_classifier(propensity_model, "propensity_model")
    om = check_regressor(outcome_model, "outcome_model")
    k = _n_folds(n_folds, pm is not None or om is not None or fold_key is not None)
    seed = _seed(random_state)
    spec = core.Spec("aipw", estimand=estimand, clip=clip, propensity_model=pm, outcome_model=om, n_folds=k, fold_seed=seed)
    folds = None
    if fold_key is not None:  # folds from a hash of a unit key: the folds the engines compute for the same data
        from ._scale_aipw import key_folds

        folds = key_folds(cd.raw.frame, fold_key, k, trim)
    cd, extra, suffix = _trim(cd, spec, trim)
    fit = core.aipw(cd.y, cd.a, cd.Z, spec, warm=_design_warm(cd) if k <= 1 else None, names=cd.names, folds=folds)
    models = f"{'logistic' if pm is None else type(pm).__name__} propensity, {'linear' if om is None else type(om).__name__} outcome models"
    by_key = f" by a hash of {fold_key!r}" if fold_key is not None else ""
    method = f"Augmented IPW (doubly robust), {models}, {f'{k}-fold cross-fitting{by_key}' if k > 1 else 'no cross-fitting'}, influence-function SE"
    return _finish(
        cd, spec, fit, method=method, conf_level=conf_level, extra_diags=extra, estimand_suffix=suffix, random_state=random_state
    )


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "categorical": "columns",
        "squared": "columns",
        "estimand": vp.Options(("ATE", "ATT", "ATC")),
        "model": vp.Options(("partially_linear", "interactive")),
        "propensity_model": [
            None,
            vp.HasMethods("fit", "predict_proba", "get_params", what="a scikit-learn classifier with predict_proba"),
        ],
        "outcome_model": [None, vp.HasMethods("fit", "predict", "get_params", what="a scikit-learn regressor")],
        "n_folds": vp.Interval("int", 2, 50),
        "clip": [None, vp.Interval("real", 0, 0.5, closed="neither")],
        "random_state": "random_state",
        "cluster": [None, "column"],
        "conf_level": "conf_level",
    }
)
def dml(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    squared: Sequence[str] = (),
    model: str = "partially_linear",
    estimand: str = "ATE",
    propensity_model: Any = None,
    outcome_model: Any = None,
    n_folds: int = 5,
    clip: float | None = None,
    random_state: Any = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    r"""Double/debiased machine learning (Chernozhukov et al. 2018) with cross-fitting.

    Parameters
    ----------
    model : {"partially_linear", "interactive"}
        ``"partially_linear"``: :math:`Y = \theta A + g(Z) + U`, estimated by regressing the cross-fitted
        outcome residual on the treatment residual (only the ATE; under heterogeneity it is a
        variance-weighted average effect). ``"interactive"``: the doubly robust score of :func:`aipw` with
        cross-fitting (ATE, ATT or ATC).
    propensity_model, outcome_model : scikit-learn estimators, optional
        Nuisance learners (default logistic and linear regression); the outcome model of the partially
        linear model predicts :math:`E[Y \mid Z]`.
    n_folds : int
        Cross-fitting folds (at least 2).
    clip : float, optional
        Clip the cross-fitted propensities into ``[clip, 1 - clip]`` (both models; stated in ``method``).
    Other parameters are as in :func:`aipw`.

    Returns
    -------
    EffectResult

    Notes
    -----
    Partially linear: :math:`\hat\theta = \sum \tilde A_i \tilde Y_i / \sum \tilde A_i^2` with
    :math:`\tilde A = A - \hat e(Z)`, :math:`\tilde Y = Y - \hat\ell(Z)` from the held-out folds; influence
    function :math:`\tilde A_i(\tilde Y_i - \hat\theta\tilde A_i)/\overline{\tilde A^2}`.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.dml(ci.load_dataset("lalonde"), random_state=1)
    >>> r.effect
    'ATE'
    """
    model = check_choice(model, "model", ("partially_linear", "interactive"))
    n_folds = check_int(n_folds, "n_folds", minimum=2, maximum=50)
    clip, _ = _check_clip_trim(clip, None)
    if model == "interactive":
        r = aipw(
            data,
            outcome=outcome,
            treatment=treatment,
            covariates=covariates,
            categorical=categorical,
            squared=squared,
            estimand=estimand,
            propensity_model=propensity_model,
            outcome_model=outcome_model,
            n_folds=n_folds,
            clip=clip,
            random_state=random_state,
            cluster=cluster,
            conf_level=conf_level,
        )
        return r.replace(method="Double ML, interactive model: " + r.method[0].lower() + r.method[1:])
    cd, estimand, conf_level = _common(data, outcome, treatment, covariates, categorical, squared, cluster, estimand, conf_level)
    if estimand != "ATE":
        raise ArgumentError(
            f"the partially linear model estimates a single constant effect; `estimand` {estimand!r} needs model='interactive'"
        )
    pm = check_classifier(propensity_model, "propensity_model")
    om = check_regressor(outcome_model, "outcome_model")
    spec = core.Spec(
        "dml", estimand="ATE", clip=clip, propensity_model=pm, outcome_model=om, n_folds=n_folds, fold_seed=_seed(random_state)
    )
    fit = core.dml_plr(cd.y, cd.a, cd.Z, spec, names=cd.names)
    models = f"{'logistic' if pm is None else type(pm).__name__} propensity, {'linear' if om is None else type(om).__name__} outcome model"
    clipped = "" if clip is None else f", propensities clipped to [{clip:g}, {1 - clip:g}]"
    method = f"Double ML, partially linear model, {models}{clipped}, {n_folds}-fold cross-fitting, influence-function SE"
    return _finish(
        cd,
        spec,
        fit,
        method=method,
        conf_level=conf_level,
        extra_diags=[],
        estimand_suffix=" (partially linear model)",
        random_state=random_state,
    )


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "categorical": "columns",
        "squared": "columns",
        "estimand": vp.Options(("ATE", "ATT", "ATC")),
        "n_strata": vp.Interval("int", 2, 100),
        "propensity_model": [
            None,
            vp.HasMethods("fit", "predict_proba", "get_params", what="a scikit-learn classifier with predict_proba"),
        ],
        "random_state": "random_state",
        "cluster": [None, "column"],
        "conf_level": "conf_level",
    }
)
def stratification(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: Sequence[str] | None = None,
    categorical: Sequence[str] = (),
    squared: Sequence[str] = (),
    estimand: str = "ATE",
    n_strata: int = 5,
    propensity_model: Any = None,
    random_state: Any = None,
    cluster: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    r"""Propensity-score stratification (subclassification) for a binary treatment.

    Units are grouped into ``n_strata`` quantile classes of the estimated propensity; the effect is the
    weighted average of the within-stratum differences in mean outcome.

    Parameters
    ----------
    data, outcome, treatment, covariates, categorical, squared, estimand, propensity_model, cluster, conf_level
        As in :func:`ipw`.
    n_strata : int
        Number of strata (5, quintiles, after Rosenbaum and Rubin 1984). Every stratum needs treated and
        untreated units.
    random_state : int, optional
        Recorded in the provenance (the estimate itself is deterministic).

    Returns
    -------
    EffectResult
        As for :func:`ipw`; ``details["strata"]`` lists each stratum's size, treated count, mean outcomes and
        weight.

    Notes
    -----
    :math:`\hat\theta = \sum_k w_k(\bar Y_{1k} - \bar Y_{0k})` with :math:`w_k` the share of the target
    population in stratum :math:`k`. Strata are the classes :math:`(q_{k-1}, q_k]` of the propensity
    quantiles (R's ``quantile`` type 7 and ``cut(include.lowest = TRUE)``). The standard error treats the strata
    and weights as fixed: :math:`\sqrt{\sum_k w_k^2 (\hat\sigma^2_{1k}/n_{1k} + \hat\sigma^2_{0k}/n_{0k})}` with
    variances divided by the group sizes. Residual confounding within strata remains (about 10% of the bias
    with five strata). Validated against R (``glm`` and the same formulas; ``tests/reference/causal_estimators.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.stratification(ci.load_dataset("lalonde"))
    >>> r.details["strata"].shape[0]
    5
    """
    cd, estimand, conf_level = _common(data, outcome, treatment, covariates, categorical, squared, cluster, estimand, conf_level)
    n_strata = check_int(n_strata, "n_strata", minimum=2, maximum=100)
    spec = core.Spec(
        "stratification", estimand=estimand, propensity_model=check_classifier(propensity_model, "propensity_model"), n_strata=n_strata
    )
    fit = core.stratification(cd.y, cd.a, cd.Z, spec, names=cd.names)
    pmodel = "logistic propensity" if propensity_model is None else f"{type(propensity_model).__name__} propensity"
    method = f"Propensity-score stratification, {n_strata} strata, {pmodel}, SE conditional on the strata"
    result = _finish(cd, spec, fit, method=method, conf_level=conf_level, extra_diags=[], estimand_suffix="", random_state=random_state)
    import pandas as pd

    nk, n1k, m1, m0, wk = fit.extras["strata"]
    details = dict(result.details)
    empty = int(np.sum(nk == 0))
    if empty:
        note = Diagnostic(
            "strata",
            "warn",
            float(empty),
            f"{empty} of {n_strata} propensity strata are empty because of tied propensities; the others carry the estimate",
        )
        result = result.replace(diagnostics=(*result.diagnostics, note))
    details["strata"] = pd.DataFrame(
        {
            "stratum": np.arange(1, n_strata + 1),
            "n": nk.astype(np.int64),
            "n_treated": n1k.astype(np.int64),
            "mean_treated": m1,
            "mean_control": m0,
            "weight": wk,
        }
    )
    return result.replace(details=details)


def _seed(random_state: Any) -> int:
    rng = check_random_state(random_state)
    return int(rng.integers(0, 2**31 - 1))


# ---------------------------------------------------------------------- one entry point
def _functions() -> dict[str, Callable[..., EffectResult]]:
    from ._matching import matching

    return {
        "aipw": aipw,
        "ipw": ipw,
        "regression": regression_adjustment,
        "dml": dml,
        "stratification": stratification,
        "matching": matching,
    }


@vp.validate_params(
    {
        "data": "data",
        "method": vp.Options((*METHODS, "iv")),
        "estimand": vp.Options(("ATE", "ATT", "ATC")),
        "graph": [None, vp.String("DOT or GML text"), vp.HasMethods("edges", "nodes"), vp.SequenceOf(vp.SequenceOf("string", length=2))],
        "unobserved": "columns",
        "options": vp.NoCheck("passed on to the chosen estimator, whose own declaration checks them"),
    }
)
def estimate_effect(
    data: Any,
    *,
    method: str = "aipw",
    estimand: str = "ATE",
    graph: Any = None,
    unobserved: Sequence[str] = (),
    **options: Any,
) -> EffectResult:
    """Estimate the effect of a binary treatment with the named method, from roles or from a causal graph.

    Parameters
    ----------
    data : Dataset or DataFrame
    method : {"aipw", "ipw", "regression", "dml", "stratification", "matching", "iv"}
        Doubly robust AIPW (default), inverse probability weighting, regression adjustment (g-formula),
        double machine learning, propensity-score stratification, nearest-neighbour matching, or ``"iv"``:
        two-stage least squares (:func:`causalinfer.designs.iv_2sls`) with the Dataset's instruments or, given a
        graph, the instruments DoWhy identifies from it.
    estimand : {"ATE", "ATT", "ATC"}
    graph : str, networkx.DiGraph or sequence of (str, str), optional
        A causal graph (DOT, GML, DiGraph or edge list); default the Dataset's ``graph`` role. When there is a
        graph and no explicit ``covariates``, the back-door adjustment set identified from it (see
        :func:`identify_effect`) becomes the covariates, and the identification is reported in the diagnostics.
    unobserved : sequence of str
        Graph nodes that are not columns (latent variables).
    **options
        Passed to :func:`aipw`, :func:`ipw`, :func:`regression_adjustment`, :func:`dml`, :func:`stratification`
        or :func:`matching`.

    Returns
    -------
    EffectResult

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.estimate_effect(ci.load_dataset("lalonde"), method="ipw", estimand="ATT")
    >>> r.effect
    'ATT'
    """
    if method == "iv":
        return _estimate_iv(data, graph=graph, unobserved=unobserved, **options)
    method = check_choice(method, "method", (*METHODS, "iv"))
    funcs = _functions()
    func = funcs[method]
    import inspect

    accepted = set(inspect.signature(func).parameters)
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ArgumentTypeError(f"method={method!r} does not take the option(s) {unknown}; see causalinfer.causal.{func.__name__}")
    from ..data import Dataset

    g = graph if graph is not None else (data.graph if isinstance(data, Dataset) else None)
    ident = None
    if g is not None and options.get("covariates") is None:
        from ._graph import identify_effect

        ident = identify_effect(data, graph=g, treatment=options.get("treatment"), outcome=options.get("outcome"), unobserved=unobserved)
        if ident.strategy != "backdoor":
            from ..exceptions import IdentificationError

            raise IdentificationError(
                f"the graph identifies the effect by the {ident.strategy} criterion, not by back-door adjustment; "
                f"method={method!r} needs an adjustment set"
                + ("; use method='iv' for two-stage least squares with the instruments it found" if ident.strategy == "iv" else "")
            )
        options["covariates"] = list(ident.adjustment_set)
        for key in ("categorical", "squared"):
            if key in options:
                options[key] = [c for c in options[key] if c in ident.adjustment_set]
    result = func(data, estimand=estimand, **options)  # type: ignore[operator]
    if ident is None:
        return result  # type: ignore[no-any-return]
    adj = ", ".join(ident.adjustment_set) or "nothing"
    diag = Diagnostic("identification", "ok", None, f"back-door adjustment set from the graph: {adj}; assumes {ident.assumptions[0]}")
    return result.replace(diagnostics=(diag, *result.diagnostics))


@vp.validate_params(
    {
        "data": "data",
        "methods": vp.SequenceOf(vp.Options((*METHODS, "iv")), min_length=1),
        "estimand": vp.Options(("ATE", "ATT", "ATC")),
        "options": vp.NoCheck("passed on to each estimator, whose own declaration checks them"),
    }
)
def compare(
    data: Any,
    *,
    methods: Sequence[str] = ("regression", "ipw", "aipw"),
    estimand: str = "ATE",
    **options: Any,
) -> Any:
    """Estimate one effect with several methods, side by side (a ResultSet with a forest plot).

    Parameters
    ----------
    data : Dataset or DataFrame
    methods : sequence of {"regression", "ipw", "aipw", "dml", "stratification", "matching", "iv"}
        ``"iv"`` is two-stage least squares (:func:`causalinfer.designs.iv_2sls`) with the Dataset's (or the
        ``instruments`` option's) instruments, so an instrumental-variables estimate can sit next to adjustment
        estimates. With a treatment that is not 0/1, ``"regression"`` is linear regression adjustment for a
        continuous treatment (:func:`causalinfer.designs.dose_response`, degree 1: the average marginal effect per
        unit of treatment); the other adjustment methods need a 0/1 treatment.
    estimand : {"ATE", "ATT", "ATC"}
        For the adjustment methods; 2SLS estimates a local effect whatever ``estimand`` says (its ``effect`` field
        tells which), and a continuous treatment allows only ``"ATE"``.
    **options
        Shared options (roles, ``categorical``, ``squared``, ``conf_level``, ...); each method receives the
        ones it accepts (``clip`` goes to IPW and AIPW but not to regression adjustment, ``instruments`` only to
        ``"iv"``).

    Returns
    -------
    ResultSet
        One :class:`EffectResult` per method, labelled by method; ``plot()`` draws the forest plot. Results with
        a coefficient table (2SLS, the continuous-treatment regression) show only their effect row; the full
        table is in their ``details["terms"]``.

    Examples
    --------
    >>> import causalinfer as ci
    >>> rs = ci.causal.compare(ci.load_dataset("lalonde"), methods=["regression", "ipw"])
    >>> list(rs.labels)
    ['regression', 'ipw']
    >>> rs = ci.causal.compare(ci.load_dataset("close_college"), methods=["regression", "iv"])
    >>> [round(r.estimate, 3) for r in rs]
    [0.071, 0.124]
    """
    import inspect

    from ..designs import dose_response, iv_2sls
    from ..results import ResultSet

    allowed_methods = (*METHODS, "iv")
    if isinstance(methods, str) or not isinstance(methods, Sequence) or not methods:
        raise ArgumentTypeError(f"`methods` must be a non-empty list of method names from {allowed_methods}; got {show(methods)}")
    for m in methods:
        check_choice(m, "methods", allowed_methods)
    if len(set(methods)) != len(methods):
        raise ArgumentError(f"`methods` lists a method twice: {list(methods)}")
    funcs: dict[str, Callable[..., Any]] = {**_functions(), "iv": iv_2sls}
    continuous = "regression" in methods and not _binary_treatment(data, options.get("treatment"))
    if continuous:
        if estimand != "ATE":
            raise ArgumentError(
                f"`estimand` {estimand!r} needs a 0/1 treatment; with a continuous treatment 'regression' estimates the average "
                "marginal effect: use estimand='ATE'"
            )
        funcs["regression"] = dose_response
    allowed = set().union(*(inspect.signature(funcs[m]).parameters for m in methods)) | {"graph", "unobserved"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ArgumentTypeError(f"no method among {list(methods)} takes the option(s) {unknown}")
    results = []
    for m in methods:
        accepted = set(inspect.signature(funcs[m]).parameters) | {"graph", "unobserved"}
        opts = {k: v for k, v in options.items() if k in accepted}
        if m == "iv":
            results.append(estimate_effect(data, method="iv", **opts))
        elif m == "regression" and continuous:
            opts = {k: v for k, v in opts.items() if k not in ("graph", "unobserved")}
            results.append(dose_response(data, **opts))
        else:
            results.append(estimate_effect(data, method=m, estimand=estimand, **opts))
    # one row per method in the table and forest plot: a coefficient table moves to details["terms"]
    results = [r if r.terms is None else r.replace(terms=None, details={**r.details, "terms": r.terms}) for r in results]
    what = estimand if not ("iv" in methods or continuous) else f"effect of {results[0].treatment} on {results[0].outcome}"
    # say plainly when 'regression' was answered by the dose-response slope (a continuous treatment)
    labels = ["regression (dose-response slope)" if (m == "regression" and continuous) else m for m in methods]
    return ResultSet(results, labels=labels, title=f"{what} by {len(methods)} methods")


def _binary_treatment(data: Any, treatment: str | None) -> bool:
    """Whether the treatment column (the option, or the Dataset's role) holds only 0/1 (or False/True) values."""
    from ..data import Dataset

    if isinstance(data, Dataset) and data.treated_level is not None:
        return True  # a stated treated level makes a binary treatment
    name = treatment if treatment is not None else (data.treatment if isinstance(data, Dataset) else None)
    frame = data.frame if isinstance(data, Dataset) else data
    if name is None or not hasattr(frame, "columns") or name not in frame.columns:
        return True  # let the estimator report the missing role
    values = frame[name].dropna().unique()
    try:
        return bool(np.isin(np.asarray(values, dtype=float), (0.0, 1.0)).all())
    except (TypeError, ValueError):
        return True  # non-numeric: the estimator explains how to encode it


def _estimate_iv(data: Any, *, graph: Any = None, unobserved: Sequence[str] = (), **options: Any) -> Any:
    """Two-stage least squares, with instruments from the options, the Dataset, or the graph's IV identification."""
    from ..data import Dataset
    from ..designs import iv_2sls

    g = graph if graph is not None else (data.graph if isinstance(data, Dataset) else None)
    has_instruments = options.get("instruments") or (isinstance(data, Dataset) and data.instruments)
    if g is not None and not has_instruments:
        from ..exceptions import IdentificationError
        from ._graph import identify_effect

        ident = identify_effect(data, graph=g, treatment=options.get("treatment"), outcome=options.get("outcome"), unobserved=unobserved)
        if ident.strategy != "iv" or not ident.instruments:
            raise IdentificationError(
                f"method='iv' needs instruments, but the graph identifies the effect by the {ident.strategy} criterion "
                "with no instrument; name `instruments` or use an adjustment method"
            )
        options["instruments"] = list(ident.instruments)
        result = iv_2sls(data, **options)
        diag = Diagnostic("identification", "ok", None, f"instruments from the graph: {', '.join(ident.instruments)}")
        return result.replace(diagnostics=(diag, *result.diagnostics))
    return iv_2sls(data, **options)
