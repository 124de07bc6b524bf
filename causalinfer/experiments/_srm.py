"""The sample-ratio-mismatch check run first on every analysis."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_column, check_probability, show
from ..exceptions import ArgumentError, AssumptionWarning, DataError
from ..results import Diagnostic, Provenance, Result
from . import _core
from ._inputs import _allocation, _fingerprint, _frame_of, _unit_frame
from ._summary import Summaries

__all__ = ["srm_test"]


def _srm_result(s: Summaries, levels: list[Any], weights: np.ndarray, threshold: float, unit_word: str) -> tuple[Result, Diagnostic]:
    counts = np.array([s.n[s.index(lv)] for lv in levels])
    x2, df, p = _core.srm_chisq(counts, weights)
    share = weights / weights.sum()
    failed = p < threshold
    planned = ", ".join(f"{lv}: {sh:.4g}" for lv, sh in zip(levels, share, strict=True))
    if failed:
        message = (
            f"the {unit_word} counts {show([int(c) for c in counts])} are unlikely under the planned split "
            f"({planned}); p = {p:.3g} < {threshold:g}. Assignment or logging is broken, so every comparison may be biased; "
            "find the cause before reading the lifts (pass allocation= if the planned split was not equal)"
        )
    else:
        message = f"{unit_word} counts agree with the planned split ({planned}); p = {p:.3g} >= {threshold:g}"
    diag = Diagnostic("sample ratio mismatch", "fail" if failed else "ok", float(p), message)
    table = pd.DataFrame(
        {
            "variant": [str(lv) for lv in levels],
            "observed": counts,
            "expected": share * counts.sum(),
            "planned_share": share,
        }
    )
    result = Result(
        method="Sample ratio mismatch: Pearson chi-square test of the observed split against the planned one",
        estimand=f"whether {unit_word}s were assigned in the planned proportions ({planned})",
        statistic=x2,
        statistic_name="X-squared",
        df=df,
        pvalue=p,
        n=int(counts.sum()),
        diagnostics=(diag,),
        details={"counts": table, "threshold": threshold},
        label="sample ratio mismatch",
    )
    return result, diag


@vp.validate_params(
    {
        "data": "data",
        "variant": "column",
        "allocation": [None, "mapping"],
        "unit": [None, "column"],
        "threshold": vp.Interval("real", 0.0, 1.0, closed="neither"),
    }
)
def srm_test(
    data: Any, *, variant: str = "variant", allocation: Mapping[Any, float] | None = None, unit: str | None = None, threshold: float = 0.001
) -> Result:
    """Sample-ratio-mismatch check: a chi-square test of the units per variant against the planned split.

    Parameters
    ----------
    data : DataFrame or Dataset
    variant : str
        Column with the variant of each row.
    allocation : mapping, optional
        Planned share (or weight) of each variant; equal shares by default.
    unit : str, optional
        Randomisation unit column when rows are finer than units (sessions of users): units are counted.
    threshold : float
        The check fails when the p-value is below it (default 0.001, as is usual for SRM alarms).

    Returns
    -------
    Result
        ``statistic`` (X-squared), ``df``, ``pvalue``, a ``"sample ratio mismatch"`` diagnostic (ok / fail) and the
        observed and expected counts in ``details["counts"]``. Same as R's ``chisq.test(counts, p = shares)``.
    """
    frame, fp = _frame_of(data)
    threshold = check_probability(threshold, "threshold", open_interval=True)
    check_column(frame, variant, "variant")
    found = list(pd.unique(frame[variant].dropna()))
    if len(found) < 2:
        raise DataError(f"`variant` column {variant!r} has only one level {show(found)}; nothing to compare")
    levels = list(allocation) if isinstance(allocation, Mapping) else sorted(found, key=str)
    weights = _allocation(allocation, levels)
    missing = [lv for lv in found if lv not in levels]
    if missing:
        raise ArgumentError(f"`allocation` has no share for variant(s) {show(missing)} present in column {variant!r}")
    units = _unit_frame(frame, variant, unit, [], []) if unit is not None else frame
    s = Summaries.from_frame(units, variant=variant, variables=[], levels=levels)
    result, diag = _srm_result(s, levels, weights, threshold, "unit" if unit else "row")
    if diag.status == "fail":
        warnings.warn(f"sample ratio mismatch: {diag.message}", AssumptionWarning, stacklevel=2)
    prov = Provenance.current(data_fingerprint=fp or _fingerprint(frame, [variant] + ([unit] if unit else [])))
    return result.replace(provenance=prov)
