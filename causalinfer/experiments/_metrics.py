"""Metric specifications: what to compute for each metric of an experiment, and its role in the decision."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import _validation as vp
from .._validation import check_choice, check_real, show
from ..exceptions import ArgumentError, ArgumentTypeError

__all__ = ["ROLES", "Metric", "mean", "proportion", "quantile", "ratio"]

#: Roles a metric can play: decision metrics, supporting metrics, and guardrails tested for non-inferiority.
ROLES: tuple[str, ...] = ("primary", "secondary", "guardrail")
KINDS: tuple[str, ...] = ("mean", "proportion", "ratio", "quantile")


def _names(value: Any, arg: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ArgumentTypeError(f"`{arg}` must be a column name or a list of column names; got {show(value)}")


@dataclass(frozen=True)
class Metric:
    """One metric of an experiment.

    Build it with :func:`mean`, :func:`proportion` or :func:`ratio`; a plain column name in ``metrics=`` means
    :func:`mean` of that column.

    Attributes
    ----------
    name : str
        Label in results (defaults to the column, or ``"numerator/denominator"``).
    kind : {"mean", "proportion", "ratio", "quantile"}
    columns : tuple of str
        ``(column,)`` for a mean or proportion, ``(numerator, denominator)`` for a ratio.
    covariates : tuple of str
        Pre-period covariates for CUPED (one) or regression adjustment (several).
    role : {"primary", "secondary", "guardrail"}
    margin : float or None
        Non-inferiority margin of a guardrail, on the scale of the reported lift (``0.02`` with
        ``lift="relative"`` tolerates a 2% deterioration).
    higher_is_better : bool
        Direction in which the guardrail must not deteriorate.
    level : float or None
        Quantile level of a quantile metric (0.5 for the median).
    """

    name: str
    kind: str
    columns: tuple[str, ...]
    covariates: tuple[str, ...] = ()
    role: str = "primary"
    margin: float | None = None
    higher_is_better: bool = True
    level: float | None = None

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", KINDS)
        check_choice(self.role, "role", ROLES)
        if not isinstance(self.name, str) or not self.name:
            raise ArgumentTypeError(f"`name` of a metric must be a non-empty string; got {show(self.name)}")
        if self.role == "guardrail" and self.margin is None:
            raise ArgumentError(
                f"guardrail metric {self.name!r} needs a non-inferiority `margin` (e.g. margin=0.02 for a tolerated 2% loss)"
            )
        if self.margin is not None:
            m = check_real(self.margin, "margin")
            if m < 0:
                raise ArgumentError(f"`margin` must be >= 0 (the tolerated deterioration); got {show(self.margin)}")
            if self.role != "guardrail":
                raise ArgumentError(f"`margin` is for guardrail metrics; metric {self.name!r} has role {self.role!r}")
            object.__setattr__(self, "margin", m)
        if not isinstance(self.higher_is_better, bool):
            raise ArgumentTypeError(f"`higher_is_better` must be True or False; got {show(self.higher_is_better)}")
        if self.kind in ("ratio", "quantile") and self.covariates:
            raise ArgumentError(f"covariate adjustment of the {self.kind} metric {self.name!r} is not supported; drop `covariates` for it")
        if self.kind == "quantile":
            q = check_real(self.level, "q")
            if not 0 < q < 1:
                raise ArgumentError(f"`q` (quantile level) must be strictly between 0 and 1; got {show(self.level)}")
            object.__setattr__(self, "level", q)


def _make(kind: str, columns: tuple[str, ...], name: Any, covariates: Any, role: str, margin: Any, higher_is_better: bool) -> Metric:
    label = name if name is not None else "/".join(columns)
    return Metric(label, kind, columns, _names(covariates, "covariates"), role, margin, higher_is_better)


def _column(value: Any, arg: str) -> str:
    if not isinstance(value, str) or not value:
        raise ArgumentTypeError(f"`{arg}` must be a column name (a string); got {show(value)}")
    return value


@vp.validate_params(
    {
        "column": "column",
        "covariates": [None, "columns"],
        "name": [None, "string"],
        "role": vp.Options(ROLES),
        "margin": [None, vp.Interval("real", 0.0)],
        "higher_is_better": "boolean",
    }
)
def mean(
    column: str,
    *,
    name: str | None = None,
    covariates: str | Sequence[str] | None = None,
    role: str = "primary",
    margin: float | None = None,
    higher_is_better: bool = True,
) -> Metric:
    """The mean of ``column`` per randomised unit (revenue per user), with an optional pre-period covariate."""
    return _make("mean", (_column(column, "column"),), name, covariates, role, margin, higher_is_better)


@vp.validate_params(
    {
        "column": "column",
        "covariates": [None, "columns"],
        "name": [None, "string"],
        "role": vp.Options(ROLES),
        "margin": [None, vp.Interval("real", 0.0)],
        "higher_is_better": "boolean",
    }
)
def proportion(
    column: str,
    *,
    name: str | None = None,
    covariates: str | Sequence[str] | None = None,
    role: str = "primary",
    margin: float | None = None,
    higher_is_better: bool = True,
) -> Metric:
    """The share of units with ``column`` equal to 1 (conversion); variance ``p (1 - p)`` per unit."""
    return _make("proportion", (_column(column, "column"),), name, covariates, role, margin, higher_is_better)


@vp.validate_params(
    {
        "numerator": "column",
        "denominator": "column",
        "name": [None, "string"],
        "role": vp.Options(ROLES),
        "margin": [None, vp.Interval("real", 0.0)],
        "higher_is_better": "boolean",
    }
)
def ratio(
    numerator: str,
    denominator: str,
    *,
    name: str | None = None,
    role: str = "primary",
    margin: float | None = None,
    higher_is_better: bool = True,
) -> Metric:
    """``sum(numerator) / sum(denominator)`` over randomised units (clicks per session), by the delta method."""
    cols = (_column(numerator, "numerator"), _column(denominator, "denominator"))
    return _make("ratio", cols, name, None, role, margin, higher_is_better)


@vp.validate_params(
    {
        "column": "column",
        "q": vp.Interval("real", 0.0, 1.0, closed="neither"),
        "name": [None, "string"],
        "role": vp.Options(ROLES),
        "margin": [None, vp.Interval("real", 0.0)],
        "higher_is_better": "boolean",
    }
)
def quantile(
    column: str,
    q: float = 0.5,
    *,
    name: str | None = None,
    role: str = "primary",
    margin: float | None = None,
    higher_is_better: bool = True,
) -> Metric:
    """The ``q`` quantile of ``column`` over units (median, p90 latency); needs the rows (a frame or an engine), not summaries.

    Each arm's standard error comes from the distribution-free order-statistic band: the sample quantiles at
    levels ``q -/+ 1.96 sqrt(q (1 - q) / n)`` are about 2 x 1.96 standard errors apart (as GrowthBook's quantile
    metrics); the lifts then follow as for means.
    """
    label = name if name is not None else f"{_column(column, 'column')} p{100 * float(q):g}"
    return Metric(label, "quantile", (_column(column, "column"),), (), role, margin, higher_is_better, q)
