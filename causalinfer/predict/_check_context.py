"""What a check suite runs on: the tables, the model with its input contract, the label and cached predictions."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import show
from ..exceptions import ArgumentError, DataError
from ._contract import InputSchema
from ._errors import SchemaError

__all__ = ["TABLES", "CheckContext"]

TABLES: tuple[str, ...] = ("train", "test", "production")
#: The drift profile is built from at most this many training rows (a seeded subsample beyond that): the
#: profile keeps quantile bins and a 20,000-value reference sample, so more rows change nothing but the time.
PROFILE_ROWS = 250_000


@dataclass
class CheckContext:
    """The inputs of one suite run; predictions, conformed frames and the training profile are computed once."""

    tables: dict[str, pd.DataFrame | None]
    model: Any = None
    champion: Any = None
    schema: InputSchema | None = None
    label: str | None = None
    alpha: float = 0.05
    pos_label: Any = None
    random_state: int | None = 0
    given_predictions: dict[str, Any] = field(default_factory=dict)
    not_features: frozenset[str] = frozenset()  # key and group columns named by the suite
    _cache: dict[Any, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ tables and columns
    def frame(self, name: str, check: str) -> pd.DataFrame:
        if name not in TABLES:
            raise ArgumentError(f"`data` of check {check!r} must be one of {list(TABLES)}; got {show(name)}")
        frame = self.tables.get(name)
        if frame is None:
            raise DataError(f"check {check!r} needs the {name} data, but `{name}` was not given; pass {name}=... or drop the check")
        return frame

    def available(self, names: tuple[str, ...]) -> list[str]:
        return [n for n in names if self.tables.get(n) is not None]

    @property
    def features(self) -> list[str]:
        """The model's input columns (from its contract), else every column but the label."""
        if self.schema is not None:
            return list(self.schema.names)
        first = next(f for f in self.tables.values() if f is not None)
        return [str(c) for c in first.columns if str(c) != self.label and str(c) not in self.not_features]

    def present_features(self, frame: pd.DataFrame) -> list[str]:
        return [c for c in self.features if c in frame.columns]

    def training_schema(self) -> InputSchema | None:
        if self.schema is not None:
            return self.schema
        train = self.tables.get("train")
        return None if train is None else InputSchema.from_frame(train[self.present_features(train)])

    def profile(self) -> Any:
        """The training profile for drift checks (built once from the training data)."""
        if "profile" not in self._cache:
            from ._profile import Profile

            train = self.frame("train", "drift")
            if len(train) > PROFILE_ROWS:  # a seeded subsample: reference shares then carry noise ~ 1/PROFILE_ROWS
                train = train.sample(PROFILE_ROWS, random_state=self.random_state if self.random_state is not None else 0)
            self._cache["profile"] = Profile.build(train, columns=self.present_features(train), random_state=self.random_state)
        return self._cache["profile"]

    def row_hashes(self, name: str, columns: list[str]) -> np.ndarray:
        """A 64-bit hash per row of the given columns (per-column hashes cached and combined in column order)."""
        frame = self.frame(name, "row hashes")
        acc = np.zeros(len(frame), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for c in columns:
                key = ("hash", name, c)
                if key not in self._cache:
                    self._cache[key] = pd.util.hash_pandas_object(frame[c], index=False).to_numpy()
                acc = acc * np.uint64(1_000_003) ^ self._cache[key]
        return acc

    # ------------------------------------------------------------------ labels and predictions
    def labels(self, name: str, check: str) -> tuple[np.ndarray, np.ndarray]:
        """Labels of the labelled rows of a table and the mask of those rows; a clear error when there are none."""
        frame = self.frame(name, check)
        if self.label is None:
            raise DataError(f"check {check!r} needs labels: pass `label=` (the label column of the {name} data)")
        if self.label not in frame.columns:
            raise DataError(
                f"check {check!r} needs labels, but the {name} data have no column {self.label!r} (the `label`); "
                "add the labels or drop the check"
            )
        y = frame[self.label]
        mask = y.notna().to_numpy()
        if not mask.any():
            raise DataError(f"check {check!r}: the label column {self.label!r} of the {name} data holds no labels (all missing)")
        return y.to_numpy()[mask], mask

    def task(self, y: np.ndarray) -> str:
        classes = getattr(self.model, "classes_", None)
        if classes is not None:
            return "binary" if len(classes) == 2 else "multiclass"
        if y.dtype.kind in "OUSb" or np.unique(y).size <= 2:
            return "binary" if np.unique(y).size <= 2 else "multiclass"
        return "regression"

    def positive(self) -> Any:
        if self.pos_label is not None:
            return self.pos_label
        classes = getattr(self.model, "classes_", None)
        return None if classes is None or len(classes) != 2 else classes[1]

    def predictions(self, name: str, check: str, *, which: str = "model") -> np.ndarray:
        """Predictions of the model (or the champion) on every row of a table: positive-class probability for a
        binary classifier, class probabilities for a multiclass one, predictions for a regressor."""
        key = (which, name)
        if key not in self._cache:
            self._cache[key] = self._predict(name, check, which)
        return self._cache[key]

    def _predict(self, name: str, check: str, which: str) -> np.ndarray:
        frame = self.frame(name, check)
        given = self.given_predictions.get(f"{which}:{name}")
        if given is not None:
            return aligned_predictions(given, frame, f"{which} predictions for the {name} data")
        model = self.model if which == "model" else self.champion
        if model is None:
            arg = "model" if which == "model" else "champion"
            raise DataError(f"check {check!r} needs predictions: pass `{arg}=` (a fitted model or a saved model file)")
        X = self.model_input(name, check)
        if hasattr(model, "predict_proba") and getattr(model, "classes_", None) is not None:
            proba = np.asarray(model.predict_proba(X), dtype=float)
            return proba[:, 1] if proba.shape[1] == 2 else proba
        return np.asarray(model.predict(X))

    def model_input(self, name: str, check: str) -> Any:
        key = ("input", name)
        if key not in self._cache:
            frame = self.frame(name, check)
            schema = self.schema or InputSchema.from_names(self.present_features(frame))
            try:
                X, report = schema.conform(frame, where=f"the {name} data")
            except SchemaError as exc:
                raise DataError(f"check {check!r} cannot score the {name} data: {exc}") from exc
            self._cache[key] = schema.model_input(X)
            self._cache[("report", name)] = report
        return self._cache[key]


def aligned_predictions(pred: Any, frame: pd.DataFrame, what: str) -> np.ndarray:
    """Predictions given by the caller, put in the rows' order by index label (refused when the rows differ)."""
    if isinstance(pred, (pd.Series, pd.DataFrame)):
        idx = pred.index
        if not idx.equals(frame.index):
            if not idx.is_unique or len(idx) != len(frame) or frame.index.get_indexer(idx).min(initial=0) < 0:
                extra = idx.difference(frame.index)[:5].tolist()
                lacking = frame.index.difference(idx)[:5].tolist()
                raise DataError(
                    f"the {what} were scored on different rows than the data: index labels {extra} are not in the data "
                    f"and {lacking} have no prediction; score both on the same rows (matched by index label)"
                )
            pred = pred.loc[frame.index]
        return np.asarray(pred.to_numpy(), dtype=float)
    arr = np.asarray(pred)
    if arr.shape[0] != len(frame):
        raise DataError(f"the {what} have {arr.shape[0]} rows but the data have {len(frame)}; score the same rows")
    return arr


def finite_or_nan(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v
