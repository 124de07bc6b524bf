"""The data of a reference profile: what "looks like the training data" means, stored once beside a model.

A :class:`Profile` keeps, per column, the moments, quantile bins and (for numeric columns) a sorted reference
sample with counts; for categorical columns the category frequencies. It is JSON-serialisable
(``to_dict``/``to_json``) and checks new data chunk by chunk through count arrays that add up across chunks, so
a check of any number of rows costs one pass over them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np
import pandas as pd

from .._validation import check_frame, check_random_state, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError
from ._common import check_count

__all__ = ["FeatureProfile", "ProfileData", "category_labels", "numeric_values"]

_FORMAT = 1


@dataclass(frozen=True, eq=False)
class FeatureProfile:
    """Reference summary of one column (see :class:`Profile`)."""

    name: str
    kind: str  # "numeric" or "categorical"
    n: int
    n_missing: int
    role: str = "feature"  # or "prediction"
    # numeric
    mean: float = math.nan
    sd: float = math.nan
    skewness: float = math.nan
    minimum: float = math.nan
    maximum: float = math.nan
    bin_edges: np.ndarray = field(default_factory=lambda: np.empty(0))
    bin_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    value_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    sampled: bool = False
    # categorical
    categories: tuple[str, ...] = ()
    category_counts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    @property
    def n_observed(self) -> int:
        return self.n - self.n_missing

    @property
    def n_sample(self) -> int:
        """Size of the stored reference sample used by KS and Wasserstein (all observed values unless ``sampled``)."""
        return int(self.value_counts.sum())

    @property
    def constant(self) -> bool:
        if self.kind == "numeric":
            return self.n_observed > 0 and self.minimum == self.maximum
        return len(self.categories) == 1

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "role": self.role, "n": self.n, "n_missing": self.n_missing}
        if self.kind == "numeric":
            out.update(
                mean=self.mean,
                sd=self.sd,
                skewness=_json_float(self.skewness),
                minimum=self.minimum,
                maximum=self.maximum,
                bin_edges=self.bin_edges.tolist(),
                bin_counts=self.bin_counts.tolist(),
                values=self.values.tolist(),
                value_counts=self.value_counts.tolist(),
                sampled=self.sampled,
            )
        else:
            out.update(categories=list(self.categories), category_counts=self.category_counts.tolist())
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeatureProfile:
        common = {
            "name": d["name"],
            "kind": d["kind"],
            "role": d.get("role", "feature"),
            "n": int(d["n"]),
            "n_missing": int(d["n_missing"]),
        }
        if d["kind"] == "numeric":
            return cls(
                **common,
                mean=float(d["mean"]),
                sd=float(d["sd"]),
                skewness=_from_json_float(d["skewness"]),
                minimum=float(d["minimum"]),
                maximum=float(d["maximum"]),
                bin_edges=np.asarray(d["bin_edges"], dtype=float),
                bin_counts=np.asarray(d["bin_counts"], dtype=np.int64),
                values=np.asarray(d["values"], dtype=float),
                value_counts=np.asarray(d["value_counts"], dtype=np.int64),
                sampled=bool(d["sampled"]),
            )
        return cls(**common, categories=tuple(d["categories"]), category_counts=np.asarray(d["category_counts"], dtype=np.int64))


def _json_float(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def _from_json_float(x: Any) -> float:
    return math.nan if x is None else float(x)


def _is_numeric(s: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)) and not isinstance(s.dtype, pd.CategoricalDtype)


def numeric_values(s: pd.Series, name: str) -> np.ndarray:
    """Float values of a numeric column (NaN for missing); a clear error for non-numeric data."""
    if not _is_numeric(s):
        raise DataError(
            f"column {name!r} is numeric in the reference profile but has dtype {s.dtype} in the current data; convert it first"
        )
    arr = s.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(arr).any():
        raise DataError(f"column {name!r} contains {int(np.isinf(arr).sum())} infinite value(s); recode them as missing (NaN) first")
    return arr


def category_labels(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """String labels of a categorical column and its missing mask."""
    missing = s.isna().to_numpy()
    if pd.api.types.infer_dtype(s, skipna=True) == "string":
        labels = s.to_numpy(dtype=object)
    else:
        labels = s.astype(str).to_numpy(dtype=object)
    if missing.any():
        labels = labels.copy()
        labels[missing] = None
    return labels, missing


def _numeric_profile(name: str, s: pd.Series, role: str, n_bins: int, max_sample: int, rng: np.random.Generator) -> FeatureProfile:
    arr = numeric_values(s, name)
    n = arr.size
    obs = arr[~np.isnan(arr)]
    if obs.size == 0:
        raise DataError(f"column {name!r} has only missing values in the reference data; drop it from `columns` (it cannot be profiled)")
    mean = float(obs.mean())
    sd = float(obs.std(ddof=1)) if obs.size > 1 else 0.0
    skew = float(np.mean(((obs - mean) / sd) ** 3)) if sd > 0 else math.nan
    probs = np.arange(1, n_bins) / n_bins
    edges = np.unique(np.quantile(obs, probs, method="inverted_cdf"))
    bin_counts = np.bincount(np.searchsorted(edges, obs, side="left"), minlength=edges.size + 1).astype(np.int64)
    sampled = obs.size > max_sample
    sample = rng.choice(obs, size=max_sample, replace=False) if sampled else obs
    values, counts = np.unique(sample, return_counts=True)
    return FeatureProfile(
        name=name,
        kind="numeric",
        n=n,
        n_missing=int(n - obs.size),
        role=role,
        mean=mean,
        sd=sd,
        skewness=skew,
        minimum=float(obs.min()),
        maximum=float(obs.max()),
        bin_edges=edges,
        bin_counts=bin_counts,
        values=values.astype(float),
        value_counts=counts.astype(np.int64),
        sampled=sampled,
    )


def _categorical_profile(name: str, s: pd.Series, role: str) -> FeatureProfile:
    labels, missing = category_labels(s)
    obs = labels[~missing]
    if obs.size == 0:
        raise DataError(f"column {name!r} has only missing values in the reference data; drop it from `columns` (it cannot be profiled)")
    cats, counts = np.unique(obs.astype(str), return_counts=True)
    return FeatureProfile(
        name=name,
        kind="categorical",
        n=int(labels.size),
        n_missing=int(missing.sum()),
        role=role,
        categories=tuple(str(c) for c in cats),
        category_counts=counts.astype(np.int64),
    )


class ProfileData:
    """The stored part of a :class:`~causalinfer.predict.Profile`: per-column summaries, building and serialisation.

    Drift checks read it; :class:`~causalinfer.predict.Profile` adds the methods that start them.
    """

    __slots__ = ("_features", "n_bins", "name")

    def __init__(self, features: Sequence[FeatureProfile], *, n_bins: int, name: str | None = None) -> None:
        self._features = {f.name: f for f in features}
        self.n_bins = int(n_bins)
        self.name = name

    @classmethod
    def build(
        cls,
        data: Any,
        *,
        columns: Sequence[str] | None = None,
        categorical: Sequence[str] = (),
        prediction: str | None = None,
        n_bins: int = 10,
        max_sample: int = 20_000,
        random_state: int | None = 0,
        name: str | None = None,
    ) -> Self:
        """Profile the columns of a reference table (usually the training data, with the model's predictions).

        Parameters
        ----------
        data : DataFrame or Dataset
            Reference data; never modified.
        columns : sequence of str, optional
            Columns to profile; default all (for a Dataset: its covariates, plus outcome if present).
        categorical : sequence of str
            Numeric columns to treat as categories (non-numeric columns always are).
        prediction : str, optional
            Column holding the model's predictions; profiled like a feature and labelled ``"prediction"``.
        n_bins : int
            Number of reference-quantile bins for PSI and Jensen-Shannon (numeric columns).
        max_sample : int
            At most this many reference values per numeric column are kept for KS and Wasserstein (a seeded
            random subsample beyond that; the profile says so in ``sampled``).
        random_state : int, optional
            Seed of that subsample.
        name : str, optional

        Returns
        -------
        Profile
            Per column: kind, row and missing counts; numeric: mean, sd, skewness, min, max, quantile bin edges and
            counts, the sorted reference sample with counts; categorical: categories and counts.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from causalinfer.predict import Profile
        >>> rng = np.random.default_rng(0)
        >>> ref = pd.DataFrame({"x": rng.normal(size=1000), "c": rng.choice(["a", "b"], 1000)})
        >>> prof = Profile.build(ref)
        >>> prof.columns
        ('x', 'c')
        >>> Profile.from_json(prof.to_json()).to_dict() == prof.to_dict()
        True
        """
        frame = as_frame(data)
        if columns is None:
            columns = list(frame.columns)
            covariates = tuple(getattr(data, "covariates", None) or ())
            if covariates:
                outcome = getattr(data, "outcome", None)
                columns = [*covariates, *([outcome] if outcome else [])]
        columns = [str(c) for c in columns]
        if prediction is not None and prediction not in columns:
            columns.append(prediction)
        if not columns:
            raise ArgumentError("`columns` is empty; name at least one column to profile")
        for c in [*columns, *categorical]:
            if c not in frame.columns:
                raise RoleError(
                    f"column {c!r} named in `columns`/`categorical`/`prediction` is not in the reference data (columns: {list(frame.columns)[:12]})"
                )
        n_bins = check_count(n_bins, "n_bins", minimum=2, maximum=1000)
        max_sample = check_count(max_sample, "max_sample", minimum=100)
        rng = check_random_state(random_state)
        cats = set(categorical)
        feats = []
        for c in columns:
            role = "prediction" if c == prediction else "feature"
            s = frame[c]
            if c in cats or not _is_numeric(s):
                feats.append(_categorical_profile(c, s, role))
            else:
                feats.append(_numeric_profile(c, s, role, n_bins, max_sample, rng))
        return cls(feats, n_bins=n_bins, name=name)

    # ------------------------------------------------------------------ access
    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._features)

    def __getitem__(self, column: str) -> FeatureProfile:
        try:
            return self._features[column]
        except KeyError:
            raise KeyError(f"no column {column!r} in this profile; columns are {list(self._features)}") from None

    def __iter__(self) -> Any:
        return iter(self._features.values())

    def __len__(self) -> int:
        return len(self._features)

    def __repr__(self) -> str:
        kinds = [f.kind[0] for f in self._features.values()]
        return f"Profile(columns={len(self)}, numeric={kinds.count('n')}, categorical={kinds.count('c')}, n_bins={self.n_bins})"

    def summary_frame(self) -> pd.DataFrame:
        """One row per column: kind, role, n, missing share, mean, sd, min, max, number of categories."""
        rows = []
        for f in self._features.values():
            rows.append(
                {
                    "column": f.name,
                    "kind": f.kind,
                    "role": f.role,
                    "n": f.n,
                    "missing_share": f.n_missing / f.n if f.n else math.nan,
                    "mean": f.mean,
                    "sd": f.sd,
                    "minimum": f.minimum,
                    "maximum": f.maximum,
                    "n_categories": len(f.categories) if f.kind == "categorical" else pd.NA,
                }
            )
        return pd.DataFrame(rows)

    def describe(self) -> Any:
        """The profile as a :class:`~causalinfer.results.TableResult` (text and notebook display of :meth:`summary_frame`)."""
        from ..results import TableResult

        title = f"Reference profile{f' {self.name!r}' if self.name else ''}"
        return TableResult(
            method=title, estimand=f"{len(self)} column(s), {self.n_bins} quantile bins per numeric column", table=self.summary_frame()
        )

    def _repr_html_(self) -> str:
        return str(self.describe()._repr_html_())

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict; :meth:`from_dict` rebuilds an identical profile."""
        return {
            "type": "Profile",
            "format": _FORMAT,
            "name": self.name,
            "n_bins": self.n_bins,
            "features": [f.to_dict() for f in self._features.values()],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Self:
        if d.get("type") != "Profile":
            raise ArgumentError(f"not a serialised Profile (type = {d.get('type')!r})")
        if int(d.get("format", 0)) > _FORMAT:
            raise ArgumentError(f"this Profile was written by a newer causalinfer (format {d.get('format')}); upgrade to read it")
        return cls([FeatureProfile.from_dict(f) for f in d["features"]], n_bins=int(d["n_bins"]), name=d.get("name"))

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Rebuild a profile from :meth:`to_json` output (a DataError for text that is not one)."""
        from ..results._encode import from_json_text

        return from_json_text(text, "Profile", cls.from_dict)  # type: ignore[no-any-return]


def as_frame(data: Any, name: str = "data") -> pd.DataFrame:
    if hasattr(data, "frame") and isinstance(getattr(data, "frame", None), pd.DataFrame):
        data = data.frame
    if not isinstance(data, pd.DataFrame):
        raise ArgumentTypeError(f"`{name}` must be a pandas DataFrame or a Dataset; got {show(data)}")
    return check_frame(data, name)
