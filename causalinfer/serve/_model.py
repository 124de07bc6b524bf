"""The model a host serves: loaded with its checks, its input contract, what it can output, and one model call."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import CausalInferError
from ..predict import InputSchema, load_model
from ..predict._common import model_input_error
from ..predict._contract import bind_schema
from ._errors import RequestError

__all__ = ["ServedModel", "batch_invariant"]


@dataclass
class ServedModel:
    """A loaded model with its contract: ``predict(X)`` returns the response fields for a conformed frame."""

    name: str
    path: Path
    estimator: Any
    schema: InputSchema
    version: str
    sha256: str
    kind: str  # "interval", "set", "classifier" or "regressor"
    classes: tuple[Any, ...] | None
    alpha: float | None
    mtime: float = 0.0
    batchable: bool = False
    batch_note: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, name: str | None = None, trusted: Sequence[str] = (), batching: str = "auto"
    ) -> ServedModel:
        """Load ``path`` through :func:`~causalinfer.predict.load_model` (content hash and type checks)."""
        p = Path(path)
        mtime = p.stat().st_mtime if p.is_file() else 0.0
        est, info = load_model(p, trusted=tuple(trusted), with_info=True)
        schema = bind_schema(est, info.schema, what="the saved model's schema")
        if hasattr(est, "predict_with_interval"):
            kind = "interval"
        elif hasattr(est, "predict_set") and hasattr(est, "predict_frame"):
            kind = "set"
        elif hasattr(est, "predict_proba") and getattr(est, "classes_", None) is not None:
            kind = "classifier"
        else:
            kind = "regressor"
        classes = None if getattr(est, "classes_", None) is None else tuple(np.asarray(est.classes_).tolist())
        alpha = getattr(est, "alpha", None) if kind in ("interval", "set") else None
        served = cls(
            name=name or p.stem, path=p, estimator=est, schema=schema, version=info.sha256[:12], sha256=info.sha256,
            kind=kind, classes=classes, alpha=None if alpha is None else float(alpha), mtime=mtime,
            info={"estimator": info.estimator, "versions": info.versions, "training_fingerprint": info.training_fingerprint},
        )  # fmt: skip
        served.batchable, served.batch_note = _batching(served, batching)
        return served

    def __post_init__(self) -> None:
        # the dtypes a frame needs to skip the contract unchanged (None when some column is not plainly numeric)
        wanted = {"float": "float64", "int": "int64", "bool": "bool"}
        plain = all(wanted.get(c.kind) == c.dtype for c in self.schema.columns)
        self._exact_dtypes: list[str] | None = [c.dtype for c in self.schema.columns] if plain else None

    # ------------------------------------------------------------------ one model call
    def conform(self, frame: pd.DataFrame) -> Any:
        """The model input for a typed frame, through the same input contract as scoring jobs (422 on refusal).

        A frame whose every column already has the exact numeric dtype the model was trained on (``float64``,
        ``int64``, ``bool``, as :func:`~causalinfer.serve._records.frame_from_records` builds from JSON numbers)
        is what the contract would return for it, value for value and dtype for dtype, so it is passed on as it
        is: the contract's column-by-column checks cost a third of a one-row model call.
        """
        exact = self._exact_dtypes
        if exact is not None and list(frame.columns) == list(self.schema.names) and [str(t) for t in frame.dtypes] == exact:
            return self.schema.model_input(frame)
        try:
            X, _ = self.schema.conform(frame, where="request", row_label=lambda i: f"row {i}")
        except CausalInferError as exc:
            raise RequestError(422, str(exc)) from exc
        return self.schema.model_input(X)

    def predict(self, frame: pd.DataFrame) -> dict[str, Any]:
        """Response columns for ``frame`` (arrays): ``prediction``, and ``proba``/``lower``/``upper``/``sets`` as the model gives."""
        X = self.conform(frame)
        try:
            return self._call(X)
        except CausalInferError as exc:
            raise RequestError(422, str(exc)) from exc
        except (ValueError, TypeError) as exc:
            err = model_input_error(exc, X if isinstance(X, pd.DataFrame) else frame, "scoring the request", lambda i: f"row {i}")
            raise RequestError(422, str(err)) from exc

    def _call(self, X: Any) -> dict[str, Any]:
        est = self.estimator
        if self.kind == "interval":
            pred, iv = est.predict_with_interval(X)
            return {"prediction": np.asarray(pred), "lower": np.asarray(iv[:, 0]), "upper": np.asarray(iv[:, 1])}
        if self.kind == "set":
            cf = est.predict_frame(X, proba=True)
            classes = list(est.classes_)
            return {
                "prediction": cf["prediction"].to_numpy(),
                "proba": np.column_stack([cf[f"proba_{c}"].to_numpy() for c in classes]),
                "set": np.column_stack([cf[f"in_set_{c}"].to_numpy() for c in classes]),
            }
        out = {"prediction": np.asarray(est.predict(X))}
        if self.kind == "classifier":
            out["proba"] = np.asarray(est.predict_proba(X))
        return out

    # ------------------------------------------------------------------ description
    def metadata(self) -> dict[str, Any]:
        """Open Inference Protocol model metadata (inputs and outputs as tensors)."""
        inputs = [{"name": c.name, "datatype": _datatype(c.kind), "shape": [-1]} for c in self.schema.columns]
        outs = [{"name": "predict", "datatype": _out_datatype(self.classes), "shape": [-1]}]
        if self.kind in ("classifier", "set"):
            outs.append({"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(self.classes or ())]})
        if self.kind == "set":
            outs.append({"name": "prediction_set", "datatype": "BOOL", "shape": [-1, len(self.classes or ())]})
        if self.kind == "interval":
            outs += [{"name": "lower", "datatype": "FP64", "shape": [-1]}, {"name": "upper", "datatype": "FP64", "shape": [-1]}]
        params: dict[str, Any] = {"estimator": self.info.get("estimator"), "sha256": self.sha256, "micro_batching": self.batchable}
        if self.classes is not None:
            params["classes"] = list(self.classes)
        if self.alpha is not None:
            params["alpha"] = self.alpha
        return {
            "name": self.name,
            "versions": [self.version],
            "platform": "causalinfer-sklearn",
            "inputs": inputs,
            "outputs": outs,
            "parameters": params,
        }


def _datatype(kind: str) -> str:
    return {"float": "FP64", "int": "INT64", "bool": "BOOL"}.get(kind, "BYTES")


def _out_datatype(classes: Any) -> str:
    if classes is None:
        return "FP64"
    if all(isinstance(c, bool) for c in classes):
        return "BOOL"
    if all(isinstance(c, int) for c in classes):
        return "INT64"
    return "BYTES"


# ---------------------------------------------------------------------- is one call on many rows the same as one per row?
def probe_frame(schema: InputSchema, n: int = 64, seed: int = 0) -> pd.DataFrame:
    """Synthetic rows of the schema's types (numbers from a seeded normal, levels from the recorded categories)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for c in schema.columns:
        if c.kind in ("float", "any"):
            cols[c.name] = rng.normal(size=n) * 3
        elif c.kind == "int":
            cols[c.name] = rng.integers(-5, 50, size=n)
        elif c.kind == "bool":
            cols[c.name] = rng.random(n) < 0.5
        elif c.kind in ("category", "string"):
            levels = list(c.categories or ("a",))
            cols[c.name] = np.array([levels[i] for i in rng.integers(0, len(levels), size=n)], dtype=object)
        else:
            cols[c.name] = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.DataFrame(cols)


def batch_invariant(served: ServedModel) -> tuple[bool, str]:
    """True when predicting synthetic rows together gives bit for bit what predicting them one group at a time gives."""
    try:
        frame = probe_frame(served.schema)
        whole = served.predict(frame)
        cuts = [(i, 1) for i in range(16)] + [(16, 7), (23, 41)]
        parts = [served.predict(frame.iloc[i : i + k].reset_index(drop=True)) for i, k in cuts]
    except (CausalInferError, ValueError, TypeError) as exc:
        return False, f"the batching probe could not run ({' '.join(str(exc).split())[:160]})"
    for key, arr in whole.items():
        joined = np.concatenate([p[key] for p in parts])
        if not np.array_equal(arr, joined, equal_nan=arr.dtype.kind == "f"):
            return False, f"predictions on many rows differ (in the last bits) from one row at a time ({key!r})"
    return True, "predictions on many rows equal one row at a time, bit for bit (checked on synthetic rows)"


#: Final estimators that score each row on its own with comparisons and sums in a fixed order (tree ensembles):
#: their predictions do not depend on which other rows share the call. Linear models go through BLAS, whose
#: blocking (and so the last bits) changes with the number of rows, so ``"auto"`` never batches them.
_ROW_WISE = ("Tree", "Forest", "Boosting", "Trees")


def _final(est: Any) -> Any:
    while True:
        inner = getattr(est, "estimator_", None)
        steps = getattr(est, "steps", None)
        if steps:
            est = steps[-1][1]
        elif inner is not None and inner is not est:
            est = inner
        else:
            return est


def _batching(served: ServedModel, batching: str) -> tuple[bool, str]:
    if batching == "off":
        return False, "micro-batching switched off"
    if batching == "on":
        return True, "micro-batching switched on (predictions may differ in the last bits from one call per request)"
    final = type(_final(served.estimator)).__name__
    if not any(k in final for k in _ROW_WISE):
        return False, f"{final} is not known to score rows independently of the batch (BLAS), so each request gets its own call"
    return batch_invariant(served)
