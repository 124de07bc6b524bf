"""The Result family: one immutable answer type for estimates, tests and effects."""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, overload

import numpy as np
import pandas as pd

from .._frames import from_pandas
from ..exceptions import ArgumentError
from ._encode import decode, encode, from_json_text

__all__ = [
    "DIAGNOSTIC_COLUMNS",
    "EFFECT_SIZE_COLUMNS",
    "ESTIMATE_COLUMNS",
    "Diagnostic",
    "EffectSize",
    "Provenance",
    "Result",
]

#: Columns of ``Result.to_frame()``, in this order, whatever the result.
ESTIMATE_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "ci_low",
    "ci_high",
    "conf_level",
    "statistic",
    "df",
    "df2",
    "pvalue",
    "alternative",
    "null_value",
    "n",
    "method",
    "estimand",
)
#: Columns of ``Result.to_frame("effect_sizes")``.
EFFECT_SIZE_COLUMNS: tuple[str, ...] = ("name", "estimate", "ci_low", "ci_high", "conf_level", "method")
#: Columns of ``Result.to_frame("diagnostics")``.
DIAGNOSTIC_COLUMNS: tuple[str, ...] = ("name", "status", "value", "message")

_STATUSES = ("ok", "warn", "fail")
_TERM_NUMERIC = ("estimate", "std_error", "ci_low", "ci_high", "statistic", "df", "df2", "pvalue")

_REGISTRY: dict[str, type[Any]] = {}


def _as_float(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"result field `{name}` must be a real number or None; got {value!r}")
    return float(value)


@dataclass(frozen=True)
class Diagnostic:
    """One assumption check attached to a result.

    Parameters
    ----------
    name : str
        What was checked, e.g. ``"normality (group 1)"``.
    status : {"ok", "warn", "fail"}
        ``"ok"``: the check passed; ``"warn"``: doubtful, read the message; ``"fail"``: the assumption is violated.
    value : float or str, optional
        The measured quantity (a p-value, a ratio, a count).
    message : str
        Plain-language explanation and, when not ok, what to do.
    """

    name: str
    status: str
    value: float | str | None = None
    message: str = ""

    def __post_init__(self) -> None:
        if self.status not in _STATUSES:
            raise ArgumentError(f"`status` of a diagnostic must be one of {_STATUSES}; got {self.status!r}")
        if isinstance(self.value, (np.floating, np.integer)):
            object.__setattr__(self, "value", float(self.value))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "value": encode(self.value), "message": self.message}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Diagnostic:
        return cls(name=d["name"], status=d["status"], value=decode(d["value"]), message=d["message"])


@dataclass(frozen=True)
class EffectSize:
    """A standardised effect size with an optional confidence interval."""

    name: str
    estimate: float
    ci_low: float | None = None
    ci_high: float | None = None
    conf_level: float | None = None
    method: str = ""

    def __post_init__(self) -> None:
        for f in ("estimate", "ci_low", "ci_high", "conf_level"):
            object.__setattr__(self, f, _as_float(getattr(self, f), f))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EffectSize:
        return cls(**{k: decode(v) for k, v in d.items()})


@dataclass(frozen=True)
class Provenance:
    """Where a result came from: package versions, the random seed, and a fingerprint of the data."""

    version: str
    random_state: int | None = None
    data_fingerprint: str | None = None
    environment: tuple[tuple[str, str], ...] = ()

    @classmethod
    def current(cls, *, random_state: Any = None, data_fingerprint: str | None = None) -> Provenance:
        """Provenance for a result computed now, in this environment."""
        from .. import __version__

        seed = (
            int(random_state) if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool) else None
        )
        env = (("numpy", np.__version__), ("pandas", pd.__version__))
        return cls(version=__version__, random_state=seed, data_fingerprint=data_fingerprint, environment=env)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "random_state": self.random_state,
            "data_fingerprint": self.data_fingerprint,
            "environment": [list(p) for p in self.environment],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Provenance:
        return cls(
            version=d["version"],
            random_state=d.get("random_state"),
            data_fingerprint=d.get("data_fingerprint"),
            environment=tuple((str(a), str(b)) for a, b in d.get("environment", [])),
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class Result:
    """An immutable answer: an estimate with its uncertainty, a test, or both.

    The fields generalise R's ``htest``; those that do not apply are ``None``. Every result renders as text
    (``str(result)`` / ``summary()``), as HTML in a notebook, and as a tidy table (``to_frame()``) whose
    column names never change; it survives a JSON round trip (``to_json()`` / ``Result.from_json()``).

    Parameters
    ----------
    method : str
        What was done, in words (``"Welch two-sample t-test"``).
    estimand : str
        What was estimated or tested, in plain language.
    estimate, std_error, ci_low, ci_high : float, optional
        Point estimate, its standard error and confidence limits (``-inf``/``inf`` for one-sided bounds).
    conf_level : float, optional
        Confidence level of the interval, e.g. 0.95.
    statistic : float, optional
        Test statistic; ``statistic_name`` says which (``"t"``, ``"X-squared"``, ``"W"``).
    df : float or (float, float), optional
        Degrees of freedom (two values for an F statistic).
    pvalue : float, optional
        P-value of the test against ``null_value`` in the direction ``alternative``.
    alternative : {"two-sided", "less", "greater"}, optional
    null_value : float, optional
    n : int, optional
        Number of observations used.
    effect_sizes : tuple of EffectSize
    diagnostics : tuple of Diagnostic
        Assumption checks, each ok / warn / fail with a message.
    details : mapping
        Extra tables (DataFrames) and values, e.g. group summaries.
    terms : DataFrame, optional
        For results with several estimates (regression coefficients): one row per term with columns among
        ``term, estimate, std_error, ci_low, ci_high, statistic, df, pvalue``.
    label : str, optional
        Short name used in tables of several results and in forest plots.
    provenance : Provenance, optional
        Package version, random seed and data fingerprint.
    """

    method: str
    estimand: str = ""
    estimate: float | None = None
    std_error: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    conf_level: float | None = None
    statistic: float | None = None
    statistic_name: str | None = None
    df: float | tuple[float, float] | None = None
    pvalue: float | None = None
    alternative: str | None = None
    null_value: float | None = None
    n: int | None = None
    effect_sizes: tuple[EffectSize, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    terms: pd.DataFrame | None = None
    label: str | None = None
    provenance: Provenance | None = None

    _kind: ClassVar[str] = "result"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def __post_init__(self) -> None:
        for name in ("estimate", "std_error", "ci_low", "ci_high", "conf_level", "statistic", "pvalue", "null_value"):
            object.__setattr__(self, name, _as_float(getattr(self, name), name))
        if self.df is not None:
            if isinstance(self.df, Sequence) and not isinstance(self.df, str):
                if len(self.df) != 2:
                    raise TypeError(f"result field `df` must be a number or a pair of numbers; got {self.df!r}")
                object.__setattr__(self, "df", (float(self.df[0]), float(self.df[1])))
            else:
                object.__setattr__(self, "df", _as_float(self.df, "df"))
        if self.n is not None:
            object.__setattr__(self, "n", int(self.n))
        if self.alternative is not None and self.alternative not in ("two-sided", "less", "greater"):
            raise ArgumentError(f"result field `alternative` must be 'two-sided', 'less' or 'greater'; got {self.alternative!r}")
        object.__setattr__(self, "effect_sizes", tuple(self.effect_sizes))
        object.__setattr__(self, "diagnostics", tuple(self.diagnostics))
        for d in self.diagnostics:
            if not isinstance(d, Diagnostic):
                raise TypeError(f"result diagnostics must be Diagnostic objects; got {d!r}")
        for e in self.effect_sizes:
            if not isinstance(e, EffectSize):
                raise TypeError(f"result effect_sizes must be EffectSize objects; got {e!r}")
        object.__setattr__(self, "details", types.MappingProxyType(dict(self.details)))
        if self.terms is not None:
            terms = pd.DataFrame(self.terms).reset_index(drop=True)
            if "term" not in terms.columns:
                raise TypeError("result field `terms` needs a 'term' column")
            unknown = set(terms.columns) - set(_TERM_NUMERIC) - {"term"}
            if unknown:
                raise TypeError(f"result field `terms` has unknown columns {sorted(unknown)}")
            object.__setattr__(self, "terms", terms)

    # ------------------------------------------------------------------ derived views
    @property
    def df1(self) -> float | None:
        """First (or only) degrees of freedom."""
        return self.df[0] if isinstance(self.df, tuple) else self.df

    @property
    def df2(self) -> float | None:
        """Second degrees of freedom of an F statistic, else None."""
        return self.df[1] if isinstance(self.df, tuple) else None

    @property
    def ci(self) -> tuple[float, float] | None:
        """The confidence interval as a ``(low, high)`` pair, or None."""
        if self.ci_low is None and self.ci_high is None:
            return None
        return (
            self.ci_low if self.ci_low is not None else -math.inf,
            self.ci_high if self.ci_high is not None else math.inf,
        )

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """Diagnostics whose status is not ok."""
        return tuple(d for d in self.diagnostics if d.status != "ok")

    def diagnostic(self, name: str) -> Diagnostic:
        """The diagnostic called ``name``."""
        for d in self.diagnostics:
            if d.name == name:
                return d
        known = ", ".join(repr(d.name) for d in self.diagnostics) or "none"
        raise KeyError(f"no diagnostic named {name!r}; this result has: {known}")

    def effect_size(self, name: str) -> EffectSize:
        """The effect size called ``name``."""
        for e in self.effect_sizes:
            if e.name == name:
                return e
        known = ", ".join(repr(e.name) for e in self.effect_sizes) or "none"
        raise KeyError(f"no effect size named {name!r}; this result has: {known}")

    def replace(self, **changes: Any) -> Result:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ tables
    @overload
    def to_frame(self, part: str = ..., *, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
    @overload
    def to_frame(self, part: str = ..., *, backend: str) -> Any: ...
    def to_frame(self, part: str = "estimates", *, backend: str = "pandas") -> Any:
        """Tidy table of the result, at full precision, with fixed column names.

        Parameters
        ----------
        part : {"estimates", "effect_sizes", "diagnostics"}
            ``"estimates"`` gives one row per term with :data:`ESTIMATE_COLUMNS`; ``"effect_sizes"`` one row per
            effect size with :data:`EFFECT_SIZE_COLUMNS`; ``"diagnostics"`` one row per check with
            :data:`DIAGNOSTIC_COLUMNS`.
        backend : {"pandas", "polars", "pyarrow"}
            The kind of table returned (the same columns and values in each).
        """
        return from_pandas(self._frame_part(part), backend)

    def _frame_part(self, part: str) -> pd.DataFrame:
        if part == "estimates":
            return self._estimates_frame()
        if part == "effect_sizes":
            rows = [[getattr(e, c) for c in EFFECT_SIZE_COLUMNS] for e in self.effect_sizes]
            return _typed_frame(rows, EFFECT_SIZE_COLUMNS)
        if part == "diagnostics":
            rows = [[d.name, d.status, d.value, d.message] for d in self.diagnostics]
            return _typed_frame(rows, DIAGNOSTIC_COLUMNS)
        raise ArgumentError(f"`part` must be 'estimates', 'effect_sizes' or 'diagnostics'; got {part!r}")

    def _default_term(self) -> str:
        return self.label or self.estimand or self.method

    def _estimates_frame(self) -> pd.DataFrame:
        shared: dict[str, Any] = {
            "conf_level": self.conf_level,
            "alternative": self.alternative,
            "null_value": self.null_value,
            "n": self.n,
            "method": self.method,
            "estimand": self.estimand,
        }
        if self.terms is not None:
            rows = []
            for rec in self.terms.to_dict("records"):
                row: dict[str, Any] = dict.fromkeys(ESTIMATE_COLUMNS)
                row.update(shared)
                row.update({str(k): v for k, v in rec.items()})
                rows.append([row[c] for c in ESTIMATE_COLUMNS])
        else:
            row = {
                "term": self._default_term(),
                "estimate": self.estimate,
                "std_error": self.std_error,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "statistic": self.statistic,
                "df": self.df1,
                "df2": self.df2,
                "pvalue": self.pvalue,
                **shared,
            }
            rows = [[row[c] for c in ESTIMATE_COLUMNS]]
        return _typed_frame(rows, ESTIMATE_COLUMNS)

    # ------------------------------------------------------------------ rendering
    def summary(self) -> str:
        """A readable text report of the result."""
        from ._format import render_text

        return render_text(self)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from ._format import render_html

        return render_html(self)

    def __repr__(self) -> str:
        from ._format import fmt_num

        parts = [f"method={self.method!r}"]
        if self.estimate is not None:
            parts.append(f"estimate={fmt_num(self.estimate)}")
        if self.ci is not None:
            lo, hi = self.ci
            parts.append(f"ci=[{fmt_num(lo)}, {fmt_num(hi)}]")
        if self.statistic is not None:
            parts.append(f"statistic={fmt_num(self.statistic)}")
        if self.pvalue is not None:
            parts.append(f"pvalue={fmt_num(self.pvalue)}")
        if self.terms is not None:
            parts.append(f"terms={len(self.terms)}")
        if self.n is not None:
            parts.append(f"n={self.n}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the estimate(s) with confidence intervals (a one-row forest plot). Needs matplotlib."""
        from ._plot import forest_plot

        return forest_plot(self.to_frame(), ax=ax, title=self.method, null_value=self.null_value, **kwargs)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict holding every field; ``Result.from_dict`` rebuilds an equal result."""
        out: dict[str, Any] = {"type": type(self).__name__}
        for f in dataclasses.fields(self):
            if f.metadata.get("transient"):  # live state such as an effect result's refitter: not data
                continue
            value = getattr(self, f.name)
            if f.name == "effect_sizes":
                out[f.name] = [e.to_dict() for e in value]
            elif f.name == "diagnostics":
                out[f.name] = [d.to_dict() for d in value]
            elif f.name == "provenance":
                out[f.name] = value.to_dict() if value is not None else None
            elif f.name == "details":
                out[f.name] = encode(dict(value))
            elif f.name == "terms":
                out[f.name] = encode(value) if value is not None else None
            else:
                out[f.name] = encode(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """Rebuild a result (of the right subclass) from :meth:`to_dict` output."""
        kind = data.get("type", cls.__name__)
        target = _REGISTRY.get(kind, cls) if kind != "Result" else Result
        kwargs: dict[str, Any] = {}
        names = {f.name for f in dataclasses.fields(target) if f.init}
        for key, value in data.items():
            if key == "type" or key not in names:
                continue
            if key == "effect_sizes":
                kwargs[key] = tuple(EffectSize.from_dict(e) for e in value)
            elif key == "diagnostics":
                kwargs[key] = tuple(Diagnostic.from_dict(d) for d in value)
            elif key == "provenance":
                kwargs[key] = Provenance.from_dict(value) if value is not None else None
            else:
                kwargs[key] = decode(value, _REGISTRY)
        return target(**kwargs)

    def to_json(self, **kwargs: Any) -> str:
        """The result as a JSON string (strict JSON: no NaN literals)."""
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Result:
        """Rebuild a result from :meth:`to_json` output (a DataError for text that is not one)."""
        return from_json_text(text, cls.__name__, cls.from_dict)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Result)
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


_REGISTRY["Result"] = Result


def _typed_frame(rows: list[list[Any]], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(columns))
    for c in columns:
        if c in _TERM_NUMERIC or c in ("conf_level", "null_value", "estimate", "ci_low", "ci_high"):
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    if "n" in frame.columns:
        frame["n"] = frame["n"].astype("Int64")
    return frame


def result_registry() -> Mapping[str, type[Any]]:
    """Name -> class for every Result subclass (used to rebuild results from dicts)."""
    return types.MappingProxyType(_REGISTRY)
