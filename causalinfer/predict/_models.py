"""Saving and loading models safely: skops files (no pickle) with a metadata sidecar that pins their content."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._optional import import_optional
from .._validation import show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError, SourceError
from ._contract import InputSchema, bind_schema, model_feature_names
from ._errors import ModelError, UntrustedModelError
from ._manifest import remove_quietly

__all__ = ["ModelInfo", "frame_fingerprint", "load_model", "model_info", "save_model"]

_META_FORMAT = 1

#: causalinfer's own model types, trusted by :func:`load_model` without being named (plain scikit-learn
#: estimators holding fitted models; loading them runs no code of the file's choosing).
OWN_TYPES: frozenset[str] = frozenset(
    f"causalinfer.predict._conformal.{name}"
    for name in ("SplitConformalRegressor", "ConformalizedQuantileRegressor", "SplitConformalClassifier", "JackknifePlusRegressor")
)
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


@dataclass(frozen=True)
class ModelInfo:
    """The metadata sidecar of a saved model.

    Attributes
    ----------
    path : Path
        The model file.
    sha256 : str
        SHA-256 of the model file's bytes; :func:`load_model` refuses a file whose hash differs.
    format : {"skops", "pickle"}
    estimator : str
        Class name of the saved estimator (the last step for a pipeline).
    schema : InputSchema or None
        Input columns with their training dtypes and categories (None when neither training data nor
        ``feature_names_in_`` was available).
    classes : tuple or None
        Class labels of a classifier.
    versions : dict
        Library versions at save time (python, numpy, pandas, scikit-learn, skops).
    training_fingerprint : str or None
        Fingerprint of the training data given to :func:`save_model`.
    """

    path: Path
    sha256: str
    format: str
    estimator: str
    schema: InputSchema | None
    classes: tuple[Any, ...] | None
    versions: dict[str, str]
    training_fingerprint: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": _META_FORMAT,
            "file": self.path.name,
            "sha256": self.sha256,
            "format": self.format,
            "estimator": self.estimator,
            "schema": None if self.schema is None else self.schema.to_dict(),
            "classes": None if self.classes is None else [c.item() if isinstance(c, np.generic) else c for c in self.classes],
            "versions": dict(self.versions),
            "training_fingerprint": self.training_fingerprint,
        }


@vp.validate_params(
    {
        "frame": "frame",
    }
)
def frame_fingerprint(frame: pd.DataFrame) -> str:
    """A content fingerprint of a DataFrame: SHA-256 over column names, dtypes and row hashes (index ignored)."""
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentTypeError(f"`frame` must be a pandas DataFrame; got {show(frame)} (wrap arrays or lists in pd.DataFrame first)")
    h = hashlib.sha256()
    h.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    if len(frame):
        try:
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        except TypeError as exc:  # cells holding lists, dicts or other unhashable objects
            raise DataError(
                f"`frame` cannot be fingerprinted: a column holds values that cannot be hashed ({exc}); "
                "store lists or dicts as text (e.g. JSON) or drop those columns"
            ) from exc
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _versions() -> dict[str, str]:
    import sklearn

    out = {"python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__}
    try:
        import skops

        out["skops"] = skops.__version__
    except ImportError:  # pragma: no cover - skops is a core dependency
        pass
    return out


def _classes(model: Any) -> tuple[Any, ...] | None:
    classes = getattr(model, "classes_", None)
    return None if classes is None else tuple(np.asarray(classes).tolist())


def _final_step(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    return steps[-1][1] if steps else model


def _check_fitted(model: Any) -> None:
    """Refuse an estimator that has not been fitted (scikit-learn's own test, with the fitted-state convention)."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    if not hasattr(model, "__sklearn_tags__") and not hasattr(model, "steps"):
        # not built on scikit-learn's BaseEstimator (whose tags check_is_fitted reads): the same convention by hand
        probe = getattr(model, "__sklearn_is_fitted__", None)
        fitted = probe() if callable(probe) else any(k.endswith("_") and not k.startswith("__") for k in getattr(model, "__dict__", {}))
        if not fitted:
            raise ModelError(f"`model` ({type(model).__name__}) is not fitted; fit it before saving")
        return
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ModelError(f"`model` ({type(model).__name__}) is not fitted; fit it before saving ({exc})") from exc
    except TypeError:  # not a scikit-learn estimator: it only has to predict
        return


def _saved_schema(model: Any, training_data: pd.DataFrame | None, feature_order: Any) -> tuple[InputSchema | None, str | None]:
    """The input schema to record (columns matched to the model by name, or by a stated order) and the data fingerprint."""
    fingerprint = None if training_data is None else frame_fingerprint(training_data)
    if training_data is None and feature_order is None and model_feature_names(model) is None:
        return None, None  # nothing known about the columns; score() will ask for them
    schema = None if training_data is None else InputSchema.from_frame(training_data)
    return bind_schema(model, schema, feature_order, what="`training_data`"), fingerprint


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        remove_quietly(tmp)
        raise SourceError(f"could not write {str(path)!r}: {exc.strerror or exc}") from exc


@vp.validate_params(
    {
        "model": vp.HasMethods("predict", what="a fitted estimator with a predict method"),
        "path": vp.PathLike("a model file path (a string or pathlib.Path)"),
        "training_data": [None, "frame"],
        "feature_order": [None, "columns"],
        "overwrite": "boolean",
    }
)
def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    training_data: pd.DataFrame | None = None,
    overwrite: bool = False,
    feature_order: Sequence[str] | None = None,
) -> ModelInfo:
    """Save a fitted scikit-learn-compatible model as a skops file with a metadata sidecar.

    Parameters
    ----------
    model : estimator
        A fitted estimator or pipeline with ``predict``.
    path : str or path-like
        Target file, conventionally ending in ``.skops``. The sidecar is written to ``<path>.json``.
    training_data : DataFrame, optional
        The feature frame the model was fitted on. Its column names, dtypes and categories become the input
        schema that :func:`score` enforces, and its fingerprint is recorded. Without it the schema holds only
        the names in ``model.feature_names_in_`` (when present).
    overwrite : bool, default False
        Replace an existing file at ``path``.
    feature_order : list of str, optional
        Only for a model fitted on an array (no ``feature_names_in_``): the names of its input columns in the
        order it was fitted on. Such a model reads columns by position, so this order is the contract; it is
        checked against ``n_features_in_`` and recorded in the sidecar (``schema['positional']``), and
        ``training_data`` (if given) then supplies only dtypes and categories. Without it, ``training_data`` for
        such a model is refused: the order of its columns would be an unchecked assumption. A model fitted on a
        DataFrame matches columns by name, and ``training_data`` must hold exactly its ``feature_names_in_``.

    Returns
    -------
    ModelInfo
        The metadata written to the sidecar (content hash, schema, classes, library versions, training fingerprint).

    Notes
    -----
    skops stores the model as a zip archive of JSON descriptions and arrays; loading it never runs arbitrary
    code, and types outside skops' trusted set must be trusted by name in :func:`load_model`.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, pathlib
    >>> from sklearn.linear_model import LogisticRegression
    >>> from causalinfer.predict import save_model, load_model
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    >>> m = LogisticRegression().fit(X, X["a"] > 0)
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.skops"
    >>> info = save_model(m, p, training_data=X)
    >>> info.schema.names
    ('a', 'b')
    >>> load_model(p).predict(X.iloc[:3]).tolist()
    [True, False, True]
    """
    if not hasattr(model, "predict"):
        raise ArgumentTypeError(f"`model` must be a fitted estimator with a predict method; got {show(model)}")
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"`path` must be a file path; got {show(path)}")
    p = Path(path)
    if p.suffix in _PICKLE_SUFFIXES:
        raise ArgumentError(f"`path` {str(p)!r} has a pickle suffix; models are saved as skops files, e.g. 'model.skops'")
    if p.exists() and not overwrite:
        raise SourceError(f"`path` {str(p)!r} already exists; pass overwrite=True to replace it")
    if training_data is not None and not isinstance(training_data, pd.DataFrame):
        raise ArgumentTypeError(f"`training_data` must be the training feature DataFrame; got {show(training_data)}")
    _check_fitted(model)
    sio = import_optional("skops.io", purpose="saving models")
    schema, fingerprint = _saved_schema(model, training_data, feature_order)
    try:
        payload = sio.dumps(model)
    except Exception as exc:
        raise ModelError(f"skops cannot serialise this model ({type(exc).__name__}: {exc})") from exc
    if not p.parent.exists():
        raise SourceError(f"the folder {str(p.parent)!r} for `path` does not exist; create it first")
    _write_atomic(p, payload)
    info = ModelInfo(
        path=p,
        sha256=hashlib.sha256(payload).hexdigest(),
        format="skops",
        estimator=type(_final_step(model)).__name__,
        schema=schema,
        classes=_classes(model),
        versions=_versions(),
        training_fingerprint=fingerprint,
    )
    _write_atomic(sidecar_path(p), json.dumps(info.to_dict(), indent=1, sort_keys=True).encode())
    return info


@vp.validate_params(
    {
        "path": vp.PathLike("a model file path (a string or pathlib.Path)"),
    }
)
def model_info(path: str | os.PathLike[str]) -> ModelInfo:
    """Read the metadata sidecar of a saved model (without loading the model)."""
    p = Path(path)
    side = sidecar_path(p)
    if not side.exists():
        raise ModelError(
            f"model file {str(p)!r} has no metadata sidecar {side.name!r}; save models with causalinfer.predict.save_model, "
            "which records the content hash and input schema"
        )
    try:
        d = json.loads(side.read_text(encoding="utf-8"))
        return ModelInfo(
            path=p,
            sha256=str(d["sha256"]),
            format=str(d["format"]),
            estimator=str(d.get("estimator", "")),
            schema=None if d.get("schema") is None else InputSchema.from_dict(d["schema"]),
            classes=None if d.get("classes") is None else tuple(d["classes"]),
            versions=dict(d.get("versions", {})),
            training_fingerprint=d.get("training_fingerprint"),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"metadata sidecar {str(side)!r} is not valid model metadata ({type(exc).__name__}: {exc})") from exc


@vp.validate_params(
    {
        "path": vp.PathLike("a model file path (a string or pathlib.Path)"),
        "trusted": [vp.SequenceOf("string"), vp.InstanceOf(set), vp.InstanceOf(frozenset)],
        "allow_pickle": "boolean",
        "with_info": "boolean",
    }
)
def load_model(
    path: str | os.PathLike[str],
    *,
    trusted: Iterable[str] = (),
    allow_pickle: bool = False,
    with_info: bool = False,
) -> Any:
    """Load a model saved by :func:`save_model`, checking its content hash and the types it contains.

    Parameters
    ----------
    path : str or path-like
        The model file; its sidecar ``<path>.json`` must exist (written by :func:`save_model`).
    trusted : iterable of str, default ()
        Fully qualified type names (e.g. ``"mypackage.MyTransformer"``) to trust beyond skops' default set.
        Loading a file that holds other untrusted types raises :class:`UntrustedModelError` listing them.
        causalinfer's conformal predictors (``causalinfer.predict._conformal.SplitConformalRegressor``,
        ``...ConformalizedQuantileRegressor``, ``...SplitConformalClassifier``, ``...JackknifePlusRegressor``;
        the set ``OWN_TYPES``) are always trusted: a saved conformal predictor loads with no ``trusted`` argument.
    allow_pickle : bool, default False
        Allow a ``.pkl``/``.pickle``/``.joblib`` file. Unpickling runs arbitrary code: only for files you made.
        A pickle file needs no sidecar (when it has one, its hash is checked).
    with_info : bool, default False
        Return ``(model, ModelInfo)`` instead of the model alone.

    Returns
    -------
    estimator, or (estimator, ModelInfo)

    Raises
    ------
    ModelError
        The file is missing its sidecar, its hash differs from the recorded one (tampered or replaced), or it
        is not a model.
    UntrustedModelError
        The file contains types that were not trusted by name.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentTypeError(f"`path` must be a model file path; got {show(path)}")
    if isinstance(trusted, str):
        trusted = (trusted,)
    trusted_set = {str(t) for t in trusted}
    p = Path(path)
    if p.is_dir():
        raise SourceError(f"`path` {str(p)!r} is a directory, not a model file; pass the .skops file saved by save_model")
    if not p.is_file():
        raise SourceError(f"model file {str(p)!r} does not exist")
    is_pickle = p.suffix in _PICKLE_SUFFIXES
    if is_pickle and not allow_pickle:
        raise ModelError(
            f"{str(p)!r} is a pickle file; unpickling runs arbitrary code. Re-save it with save_model (skops), "
            "or pass allow_pickle=True if you created the file yourself"
        )
    digest = file_sha256(p)
    if is_pickle and not sidecar_path(p).exists():
        info = ModelInfo(
            path=p, sha256=digest, format="pickle", estimator="", schema=None, classes=None, versions={}, training_fingerprint=None
        )
    else:
        info = model_info(p)
    if digest != info.sha256:
        raise ModelError(
            f"model file {str(p)!r} does not match its metadata: SHA-256 {digest[:16]}... but {info.sha256[:16]}... was recorded; "
            "the file was modified or replaced after saving. Re-save the model or restore the original file"
        )
    if is_pickle:
        import joblib

        try:
            model = joblib.load(p)
        except Exception as exc:
            raise ModelError(f"{str(p)!r} is not a loadable pickle ({type(exc).__name__}: {exc})") from exc
    else:
        sio = import_optional("skops.io", purpose="loading models")
        try:
            untrusted = sio.get_untrusted_types(file=p)
        except Exception as exc:
            raise ModelError(f"{str(p)!r} is not a skops model file ({type(exc).__name__}: {exc})") from exc
        refused = sorted(set(untrusted) - trusted_set - OWN_TYPES)
        if refused:
            raise UntrustedModelError(
                f"model file {str(p)!r} contains types that are not trusted: {refused}. If you trust their source, pass trusted={refused!r}"
            )
        try:
            model = sio.load(p, trusted=sorted(set(untrusted)))
        except Exception as exc:
            raise ModelError(f"{str(p)!r} could not be loaded as a model ({type(exc).__name__}: {exc})") from exc
    if not hasattr(model, "predict"):
        raise ModelError(f"{str(p)!r} holds a {type(model).__name__}, not a model with a predict method")
    if info.schema is None and getattr(model, "feature_names_in_", None) is not None:
        info = dataclasses.replace(
            info, schema=InputSchema.from_names(model.feature_names_in_), estimator=type(_final_step(model)).__name__
        )
    if with_info:
        return model, info
    return model


def model_hash(model: Any) -> str:
    """A content hash of an in-memory model: SHA-256 of its pickle (stable for one set of library versions)."""
    import pickle

    try:
        data = pickle.dumps(model, protocol=5)
    except Exception as exc:
        raise ModelError(f"cannot fingerprint the model: it cannot be serialised ({type(exc).__name__}: {exc})") from exc
    return hashlib.sha256(data).hexdigest()
