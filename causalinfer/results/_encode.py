"""Lossless conversion of result contents to JSON-safe Python objects and back.

Floats survive exactly (JSON writes the shortest repr that round-trips); NaN and infinities, which strict
JSON cannot hold, are written as tagged strings; arrays, Series and DataFrames keep their dtypes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd


def from_json_text(text: Any, what: str, rebuild: Callable[[Mapping[str, Any]], Any]) -> Any:
    """Parse ``text`` and rebuild a ``what`` from it; anything that is not one raises our own error.

    Not a string: :class:`~causalinfer.exceptions.ArgumentTypeError`. Not JSON, not a JSON object, or an
    object that does not describe a ``what`` (missing or mistyped fields): :class:`~causalinfer.exceptions.DataError`.
    """
    from ..exceptions import ArgumentTypeError, CausalInferError, DataError

    if not isinstance(text, (str, bytes, bytearray)):
        raise ArgumentTypeError(f"`text` must be the JSON string written by {what}.to_json(); got {type(text).__name__}")
    try:
        data = json.loads(text)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise DataError(f"`text` is not valid JSON ({exc}); pass the string written by {what}.to_json()") from exc
    if not isinstance(data, dict):
        raise DataError(f"`text` holds a JSON {type(data).__name__}, not the object written by {what}.to_json()")
    try:
        return rebuild(data)
    except CausalInferError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise DataError(
            f"`text` is JSON but not a serialised {what} ({type(exc).__name__}: {exc}); pass the string written by {what}.to_json()"
        ) from exc


_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(x: float) -> Any:
    if math.isnan(x):
        return {"__float__": "NaN"}
    if math.isinf(x):
        return {"__float__": "Infinity" if x > 0 else "-Infinity"}
    return x


def encode(obj: Any) -> Any:
    """Turn ``obj`` into nested dicts/lists/str/int/float/bool/None that JSON can hold."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return encode_float(float(obj))
    if obj is pd.NA or obj is pd.NaT:
        return {"__na__": True}
    if isinstance(obj, pd.DataFrame):
        return {
            "__dataframe__": {
                "columns": [encode(c) for c in obj.columns],
                "index": encode(obj.index.to_list()),
                "index_name": encode(obj.index.name),
                "dtypes": [str(t) for t in obj.dtypes],
                "data": [encode(obj.iloc[:, j].to_list()) for j in range(obj.shape[1])],
            }
        }
    if isinstance(obj, pd.Series):
        return {
            "__series__": {
                "name": encode(obj.name),
                "index": encode(obj.index.to_list()),
                "dtype": str(obj.dtype),
                "data": encode(obj.to_list()),
            }
        }
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": encode(obj.tolist()), "dtype": str(obj.dtype), "shape": list(obj.shape)}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj):
            return {"__mapping__": {k: encode(v) for k, v in obj.items()}}
        return {"__pairs__": [[encode(k), encode(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v) for v in obj]}
    if isinstance(obj, list):
        return [encode(v) for v in obj]
    if hasattr(obj, "to_dict") and hasattr(type(obj), "from_dict"):
        return {"__object__": type(obj).__name__, "value": obj.to_dict()}
    raise TypeError(f"cannot encode an object of type {type(obj).__name__} in a result")


def _restore_dtype(values: Any, dtype: Any) -> Any:
    if dtype.startswith("category"):
        return pd.Categorical(values)
    try:
        return (
            pd.array(values, dtype=dtype) if dtype in ("str", "string", "boolean", "Int64", "Float64") else np.asarray(values, dtype=dtype)
        )
    except (TypeError, ValueError):
        return np.asarray(values, dtype=object)


def decode(obj: Any, registry: Mapping[str, Any] | None = None) -> Any:
    """Inverse of :func:`encode`."""
    if isinstance(obj, list):
        return [decode(v, registry) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__float__" in obj:
        return _NONFINITE[obj["__float__"]]
    if "__na__" in obj:
        return pd.NA
    if "__tuple__" in obj:
        return tuple(decode(v, registry) for v in obj["__tuple__"])
    if "__mapping__" in obj:
        return {k: decode(v, registry) for k, v in obj["__mapping__"].items()}
    if "__pairs__" in obj:
        return {decode(k, registry): decode(v, registry) for k, v in obj["__pairs__"]}
    if "__ndarray__" in obj:
        arr = np.asarray(decode(obj["__ndarray__"], registry), dtype=obj["dtype"])
        return arr.reshape(obj["shape"])
    if "__series__" in obj:
        s = obj["__series__"]
        values = _restore_dtype(decode(s["data"], registry), s["dtype"])
        return pd.Series(values, index=decode(s["index"], registry), name=decode(s["name"], registry))
    if "__dataframe__" in obj:
        f = obj["__dataframe__"]
        columns = [decode(c, registry) for c in f["columns"]]
        data = {j: _restore_dtype(decode(col, registry), dtype) for j, (col, dtype) in enumerate(zip(f["data"], f["dtypes"], strict=True))}
        index = pd.Index(decode(f["index"], registry), name=decode(f["index_name"], registry))
        frame = pd.DataFrame(data, index=index)
        frame.columns = pd.Index(columns)
        return frame
    if "__object__" in obj:
        if registry is None or obj["__object__"] not in registry:
            raise TypeError(f"unknown object type {obj['__object__']!r} in encoded result")
        return registry[obj["__object__"]].from_dict(obj["value"])
    return {k: decode(v, registry) for k, v in obj.items()}
