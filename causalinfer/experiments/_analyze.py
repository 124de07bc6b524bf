"""``analyze``: the pandas-facing entry point that checks inputs, builds the summaries and assembles the results."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import check_alternative, check_choice, check_conf_level, check_probability, check_real, show
from ..exceptions import ArgumentError, ArgumentTypeError, AssumptionWarning, DataError
from ..results import Provenance, Result, ResultSet, TableResult
from ..stats._multiple import ADJUST_ALIASES, ADJUST_METHODS
from . import _dask, _engine
from ._compare import _compare
from ._inputs import (
    _allocation,
    _boundary_at,
    _fixed_arms,
    _found_levels,
    _frame_of,
    _levels,
    _metric_list,
    _summaries,
    summary_fingerprint,
)
from ._srm import _srm_result
from ._summary import Summaries

__all__ = ["analyze"]

_ADJUST_FAMILIES = ("primary", "secondary", "guardrail")


@vp.validate_params(
    {
        "data": vp.AnyOf(
            "data",
            "path",
            vp.InstanceOf(Summaries),
            vp.InstanceOf("causalinfer.experiments._engine:ParquetSource"),
            vp.InstanceOf("causalinfer.experiments._engine:SQLTable"),
            vp.HasMethods("aggregate", "project", what="a DuckDB relation"),
            vp.HasMethods("map_partitions", "to_delayed", what="a dask DataFrame"),
            what="a DataFrame, a Dataset, Summaries, a ParquetSource or Parquet path, an SQLTable, a DuckDB relation or a dask DataFrame",
        ),
        "variant": "column",
        "control": vp.NoCheck("a variant label of any type, looked up among the values of the `variant` column"),
        "metrics": [
            "column",
            vp.InstanceOf("causalinfer.experiments._metrics:Metric"),
            vp.SequenceOf(
                vp.AnyOf("string", vp.InstanceOf("causalinfer.experiments._metrics:Metric"), what="a column name or a Metric"),
                min_length=1,
            ),
        ],
        "variants": [None, "array-like"],
        "unit": [None, "column"],
        "covariates": [None, "columns", "mapping"],
        "allocation": [None, "mapping"],
        "lift": vp.Options(("relative", "absolute")),
        "relative_interval": vp.Options(("delta", "fieller")),
        "conf_level": "conf_level",
        "alternative": "alternative",
        "adjust": vp.Options((*ADJUST_METHODS, *ADJUST_ALIASES)),
        "srm_threshold": vp.Interval("real", 0.0, 1.0, closed="neither"),
        "sequential": [None, vp.Options(("mixture",)), vp.InstanceOf("causalinfer.results:TableResult")],
        "sequential_tuning": vp.Interval("real", 0.0, closed="neither"),
        "look": [None, vp.Interval("int", 1)],
        "strata": [None, "column"],
    }
)
def analyze(
    data: Any,
    *,
    variant: str = "variant",
    control: Any = "control",
    metrics: Any,
    variants: Sequence[Any] | None = None,
    unit: str | None = None,
    covariates: str | Sequence[str] | Mapping[str, Any] | None = None,
    allocation: Mapping[Any, float] | None = None,
    lift: str = "relative",
    relative_interval: str = "delta",
    conf_level: float = 0.95,
    alternative: str = "two-sided",
    adjust: str = "holm",
    srm_threshold: float = 0.001,
    sequential: str | TableResult | None = None,
    sequential_tuning: float = 5000.0,
    look: int | None = None,
    strata: str | None = None,
) -> ResultSet:
    """Analyse an online controlled experiment: every metric in every treatment against the control.

    Parameters
    ----------
    data : DataFrame, Dataset, Summaries, ParquetSource, SQLTable, path or DuckDB relation
        One row per randomised unit, or finer rows (sessions) with the unit named by ``unit``; or the per-variant
        :class:`Summaries` of unit-level columns, which give the same numbers. Data that need not fit in memory
        are analysed inside an engine, which returns only the per-variant summaries: a :class:`ParquetSource` (a
        file, folder or glob of Parquet files, also accepted as a plain path) or a DuckDB relation, both run by
        DuckDB (``pip install "causalinfer[duckdb]"``), and a :class:`SQLTable` of a database reached through
        SQLAlchemy (or of a DuckDB connection). Quantile metrics run one more query per column that returns six
        order statistics per variant (the same values as in memory); ``strata`` runs one more
        ``GROUP BY variant, stratum`` query. A dask DataFrame is summarised partition by partition where the
        partitions live and only the summaries are merged (``pip install "causalinfer[dask]"``); with ``unit`` the
        rows are first summed per unit by dask's tree-reduced ``groupby().agg``, ``strata`` adds summaries per
        variant and stratum, and a quantile metric sorts each variant's values with dask's distributed sort and
        fetches the six order statistics it needs.
    variant : str
        Column holding each row's variant.
    control : label
        The control variant's label in ``variant``; it is never guessed.
    metrics : list
        Column names (the mean of the column per unit) or :func:`mean`, :func:`proportion` and :func:`ratio`
        specifications, each with its role (primary, secondary, guardrail with a non-inferiority margin).
    variants : sequence, optional
        Order of the treatment levels in the results (default: sorted).
    unit : str, optional
        Randomisation unit when rows are finer than units: rows are summed per unit, a mean metric becomes the
        ratio of its per-unit sum to the per-unit row count, and every variance is computed over units (so it is
        cluster-robust for the rows). Each unit must belong to one variant.
    covariates : str, list or mapping, optional
        Pre-period covariate(s) for CUPED (one) or regression adjustment (several), applied to every mean and
        proportion metric without its own, or per metric name with a mapping.
    allocation : mapping, optional
        Planned share of each variant for the sample-ratio check (equal shares by default).
    lift : {"relative", "absolute"}
        Scale of the reported estimate; the other scale is in each result's ``effect_sizes`` and
        ``details["lifts"]`` with its own interval and p-value.
    relative_interval : {"delta", "fieller"}
        Interval of the relative lift: delta method (default) or Fieller's (not with covariate adjustment).
    conf_level : float
    alternative : {"two-sided", "less", "greater"}
        For primary and secondary metrics; guardrails are one-sided non-inferiority tests.
    adjust : str
        Multiplicity adjustment (``stats.adjust_pvalues`` methods, e.g. "holm", "BH", "none") applied within each
        role: the primary results form one family, the secondary another, the guardrails a third.
    srm_threshold : float
        The sample-ratio check fails below this p-value (default 0.001).
    sequential : {None, "mixture"}
        ``"mixture"`` replaces the fixed-sample t inference by always-valid inference (a normal-mixture SPRT
        confidence sequence and its p-value, as GrowthBook's sequential engine): the results may be looked at after
        every new unit without inflating the false-positive rate. Each result says so and records the look.
        A design from :func:`group_sequential` instead makes this the analysis at planned look ``look``: each
        interval is the repeated confidence interval ``estimate -/+ c_look * se`` and the result records whether the
        statistic crossed the boundary ``c_look`` (the p-value shown is the nominal one; compare it with the
        look's ``nominal_pvalue``).
    sequential_tuning : float
        Number of units around which the confidence sequence is tightest (default 5000, as GrowthBook).
    look : int, optional
        Which look of a group-sequential design this analysis is (1-based); required with such a design.
    strata : str, optional
        Column of pre-treatment strata (country, platform) for post-stratification of the mean and proportion
        metrics without covariates: each arm's mean is the stratum means weighted by the strata's shares among the
        units of the two arms compared, with variance ``sum_h w_h^2 var_hk / n_hk``. Equals the treatment coefficient
        of Lin's fully interacted regression and its HC2 standard error (checked against R's ``estimatr::lm_lin``).

    Returns
    -------
    ResultSet
        First the sample-ratio-mismatch check, then one result per metric and treatment labelled
        ``"metric: variant"``. When the check fails, every result carries a failing ``"sample ratio mismatch"``
        diagnostic, the title says so and an :class:`~causalinfer.AssumptionWarning` is issued.

    Notes
    -----
    Each arm's mean has variance ``var / n`` with the sample variance per unit (``p (1 - p)`` for a proportion;
    the delta-method variance of ``sum(num) / sum(den)`` for a ratio). The absolute lift ``b - a`` has variance
    ``var_a / n_a + var_b / n_b`` and Welch-Satterthwaite degrees of freedom; the relative lift ``(b - a) / a`` has
    the delta-method variance ``var_b / (a^2 n_b) + var_a b^2 / (a^4 n_a)``; intervals and p-values use the t
    distribution with the Welch degrees of freedom. With covariates, ``theta`` regresses the metric on them over
    the control and the treatment pooled (Deng et al. 2013), the adjusted difference is the raw one minus
    ``theta'`` times the difference of covariate means, and the relative lift divides it by the control's
    unadjusted mean. These are GrowthBook's frequentist definitions; the values are checked against gbstats 0.8
    to 1e-9 relative, and the plain Welch test against R's ``t.test``.

    References
    ----------
    Deng, Xu, Kohavi & Walker (2013) Improving the sensitivity of online controlled experiments by utilizing
    pre-experiment data. WSDM. Kohavi, Tang & Xu (2020) Trustworthy Online Controlled Experiments, ch. 21 (SRM).
    Fieller (1954) JRSS-B 16:175-185.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from causalinfer import experiments
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"variant": rng.choice(["control", "b"], 2000), "revenue": rng.gamma(2.0, 5.0, 2000)})
    >>> res = experiments.analyze(df, control="control", metrics=["revenue"])
    >>> res.labels
    ('sample ratio mismatch', 'revenue: b')
    """
    metric_list = _metric_list(metrics, covariates)
    scale = check_choice(lift, "lift", ("relative", "absolute"))
    interval = check_choice(relative_interval, "relative_interval", ("delta", "fieller"))
    conf_level = check_conf_level(conf_level)
    alternative = check_alternative(alternative)
    srm_threshold = check_probability(srm_threshold, "srm_threshold", open_interval=True)
    from ..stats import adjust_pvalues
    from ..stats._multiple import _method_name

    adjust_name = _method_name(adjust)
    boundary: tuple[int, float, float] | None = None
    if isinstance(sequential, TableResult):
        boundary = _boundary_at(sequential, look)
        sequential = "group"
    elif look is not None:
        raise ArgumentError("`look` goes with a group-sequential design: pass sequential=experiments.group_sequential(...)")
    if sequential is not None:
        if sequential != "group":
            check_choice(sequential, "sequential", ("mixture",))
        if interval == "fieller":
            raise ArgumentError("`relative_interval` 'fieller' is a fixed-sample interval; use 'delta' with `sequential`")
    tuning = check_real(sequential_tuning, "sequential_tuning")
    if tuning <= 0:
        raise ArgumentError(f"`sequential_tuning` must be a positive number of units; got {show(sequential_tuning)}")
    if interval == "fieller" and any(m.covariates for m in metric_list):
        raise ArgumentError("`relative_interval` 'fieller' is not available with covariate adjustment; use 'delta' or drop `covariates`")
    fp: str | None
    if _dask.is_dask_frame(data):
        if strata is not None and unit is not None:
            raise ArgumentError("`strata` with `unit` (rows finer than units) is not supported; aggregate to one row per unit first")
        if not isinstance(variant, str):
            raise ArgumentTypeError(f"`variant` must be a column name (a string); got {show(variant)}")
        s, levels, qarms = _dask.dask_analysis(data, variant, control, variants, metric_list, unit, strata)
        fp = summary_fingerprint(s, unit)
    elif _engine.is_source(data):
        if strata is not None and unit is not None:
            raise ArgumentError("`strata` with `unit` (rows finer than units) is not supported; aggregate to one row per unit first")
        s, levels = _engine.engine_summaries(data, variant, control, variants, metric_list, unit)
        fp = summary_fingerprint(s, unit)
        qarms = _engine.engine_quantile_arms(data, variant, levels, metric_list)
        if strata is not None:
            qarms.update(_engine.engine_strata_arms(data, variant, levels, metric_list, strata))
    elif isinstance(data, Summaries):
        if strata is not None:
            raise ArgumentError("`strata` needs the rows of the data; with summaries, summarise per variant and stratum instead")
        if unit is not None:
            raise ArgumentError("`unit` applies to rows of a frame; summaries are already per randomised unit, so drop `unit`")
        levels = _levels(list(data.variants), "variant", control, variants)
        s = data
        for m in metric_list:
            for c in (*m.columns, *m.covariates):
                if c not in s.variables:
                    raise ArgumentError(
                        f"metric {m.name!r} needs variable {c!r}, which the summaries lack (variables: {list(s.variables)})"
                    )
        fp = summary_fingerprint(s, None)
        qarms = None
    else:
        if strata is not None and unit is not None:
            raise ArgumentError("`strata` with `unit` (rows finer than units) is not supported; aggregate to one row per unit first")
        frame, fp = _frame_of(data)
        if not isinstance(variant, str):
            raise ArgumentTypeError(f"`variant` must be a column name (a string); got {show(variant)}")
        levels = _levels(_found_levels(frame, variant), variant, control, variants)
        s, fp = _summaries(frame, variant, levels, metric_list, unit, fp)
        qarms = _fixed_arms(frame, variant, levels, metric_list, strata)
    for m in metric_list:
        if m.kind == "ratio":
            den = m.columns[1]
            j = s.variables.index(den)
            totals = s.sums[:, j] + s.n * s.shift[j]
            roundoff = 1e-9 * (np.abs(s.sums[:, j]) + s.n * abs(s.shift[j]))
            totals = np.where(np.abs(totals) <= roundoff, 0.0, totals)  # a centred sum of zeros is zero up to rounding
            for lv, t in zip(s.variants, totals, strict=True):
                if not t > 0:
                    raise DataError(
                        f"ratio metric {m.name!r}: the denominator {den!r} sums to {show(float(t))} in variant {show(lv)}; "
                        "it must be positive in every variant"
                    )
    weights = _allocation(allocation, levels)
    srm_result, srm = _srm_result(s, levels, weights, srm_threshold, "unit")
    results: list[Result] = [srm_result]
    for m in metric_list:
        for treatment in levels[1:]:
            results.append(
                _compare(
                    s,
                    m,
                    control,
                    treatment,
                    unit=unit,
                    scale=scale,
                    interval=interval,
                    conf_level=conf_level,
                    alternative=alternative,
                    srm=srm,
                    sequential=sequential,
                    tuning=tuning,
                    boundary=boundary,
                    fixed_arms=qarms,
                )
            )
    prov = Provenance.current(data_fingerprint=fp)
    results = [r.replace(provenance=prov) for r in results]
    padj = np.full(len(results), np.nan)
    roles = [None] + [r.details["role"] for r in results[1:]]
    for family in _ADJUST_FAMILIES:
        idx = [i for i, role in enumerate(roles) if role == family]
        if idx:
            padj[idx] = adjust_pvalues(np.array([results[i].pvalue for i in idx]), method=adjust_name)
    title = f"Experiment: {len(levels) - 1} treatment(s) vs control {show(control)}, {len(metric_list)} metric(s)"
    if srm.status == "fail":
        title = "SAMPLE RATIO MISMATCH - " + title
        warnings.warn(f"sample ratio mismatch: {srm.message}", AssumptionWarning, stacklevel=2)
    return ResultSet(
        results,
        labels=[r.label or r.method for r in results],
        title=title,
        pvalues_adjusted=padj.tolist(),
        adjust_method=f"{adjust_name} within role",
    )
