"""Request bodies to model-ready frames: JSON records and Open Inference Protocol tensors, checked field by field.

Every refusal names the row, the field and the type the model was trained on, in one line, and is raised as a
:class:`RequestError` with status 422 (400 for a body that is not the expected JSON shape at all). The typed
frame is then passed through the model's own input contract (:meth:`InputSchema.conform`), the same code a
scoring job runs, so a served row is cast exactly as a scored one.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..predict import ColumnSpec, InputSchema
from ._errors import RequestError

__all__ = ["decode_tensors", "frame_from_records", "parse_json", "records_from_body"]

_JSON_TYPE = {"float": "a number", "int": "an integer", "bool": "true or false", "category": "a string", "string": "a string"}
_JSON_TYPE.update({"datetime": "an ISO 8601 date-time string", "any": "a number, string, boolean or null"})


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (send null for a missing value)")


def parse_json(body: bytes) -> Any:
    """The JSON value of a request body; 400 with the parser's reason (line and column) when it is not JSON."""
    if not body.strip():
        raise RequestError(400, "the request body is empty; send a JSON document")
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"the request body is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except ValueError as exc:
        raise RequestError(400, f"malformed JSON: {exc}") from exc
    except RecursionError as exc:
        raise RequestError(400, "the JSON document is nested too deeply; send a list of flat records") from exc


def records_from_body(doc: Any, max_rows: int) -> list[dict[str, Any]]:
    """The list of records of a ``/predict`` body: a JSON list of objects, or ``{"records": [...]}``."""
    if isinstance(doc, dict) and "records" in doc:
        extra = sorted(set(doc) - {"records"})
        if extra:
            raise RequestError(400, f"unexpected key(s) {extra} in the request object; send {{'records': [...]}} or a plain list")
        doc = doc["records"]
    if not isinstance(doc, list):
        raise RequestError(400, f"the request body must be a JSON list of records (objects); got a JSON {_json_kind(doc)}")
    check_batch(len(doc), max_rows)
    for i, rec in enumerate(doc):
        if not isinstance(rec, dict):
            raise RequestError(422, f"row {i}: a record must be a JSON object of field: value; got a JSON {_json_kind(rec)}")
    return doc


def check_batch(n: int, max_rows: int) -> None:
    if n == 0:
        raise RequestError(422, "the batch is empty; send at least one record")
    if n > max_rows:
        raise RequestError(413, f"the batch has {n} rows, more than this server takes ({max_rows}); split it into smaller batches")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    names: dict[type, str] = {str: "string", list: "list", dict: "object"}
    return names.get(type(value), type(value).__name__)


def expected(spec: ColumnSpec) -> str:
    """How a field's type is described to clients: the JSON type and the training dtype."""
    return f"{_JSON_TYPE.get(spec.kind, 'a value')} (the model was trained on {spec.dtype})"


def _bad(row: int, spec: ColumnSpec, value: Any) -> RequestError:
    shown = json.dumps(value)[:60] if not isinstance(value, float) or math.isfinite(value) else repr(value)
    return RequestError(422, f"row {row}: field {spec.name!r} must be {expected(spec)}; got {shown}")


def _column(values: list[Any], spec: ColumnSpec) -> Any:
    """One column as an array of the JSON values' natural dtype, refusing the first value of a wrong type."""
    kind = spec.kind
    if kind in ("float", "int", "bool"):
        for i, v in enumerate(values):
            if v is None:
                continue
            if kind == "bool":
                ok = isinstance(v, bool) or (type(v) is int and v in (0, 1))
            else:
                ok = isinstance(v, (int, float)) and not isinstance(v, bool)
                if ok and kind == "int" and isinstance(v, float) and not v.is_integer():
                    ok = False
            if not ok:
                raise _bad(i, spec, v)
        if kind == "bool" and all(isinstance(v, bool) for v in values):
            return np.array(values, dtype=bool)
        if kind == "int" and all(type(v) is int for v in values):
            try:
                return np.array(values, dtype=np.int64)
            except OverflowError:
                i = next(i for i, v in enumerate(values) if not -(2**63) <= v < 2**63)
                raise _bad(i, spec, values[i]) from None
        out = np.empty(len(values), dtype=np.float64)
        for i, v in enumerate(values):
            try:
                out[i] = np.nan if v is None else float(v)
            except OverflowError:  # an integer beyond the float range
                raise _bad(i, spec, v) from None
        return out
    if kind in ("category", "string", "datetime"):
        for i, v in enumerate(values):
            if v is not None and not isinstance(v, str):
                raise _bad(i, spec, v)
        if kind == "datetime":
            return _datetimes(values, spec)
        return np.array(values, dtype=object)
    for i, v in enumerate(values):
        if isinstance(v, (list, dict)):
            raise _bad(i, spec, v)
    return (
        np.array(values, dtype=object)
        if any(isinstance(v, str) for v in values)
        else np.array([np.nan if v is None else v for v in values])
    )


def _datetimes(values: list[Any], spec: ColumnSpec) -> Any:
    out = []
    for i, v in enumerate(values):
        try:
            out.append(pd.NaT if v is None else pd.Timestamp(v))
        except (ValueError, TypeError):
            raise _bad(i, spec, v) from None
    return pd.DatetimeIndex(out).as_unit("ns") if out else pd.DatetimeIndex([])


def frame_from_records(records: Sequence[dict[str, Any]], schema: InputSchema) -> pd.DataFrame:
    """The typed frame of ``records`` (columns in the schema's order); every field required, no others allowed."""
    names = schema.names
    wanted = set(names)
    n_fields = len(names)
    for i, rec in enumerate(records):
        if len(rec) != n_fields or rec.keys() != wanted:
            missing = [n for n in names if n not in rec]
            if missing:
                spec = schema.columns[names.index(missing[0])]
                raise RequestError(422, f"row {i}: missing field {missing[0]!r}, {expected(spec)}; every record needs {list(names)}")
            extra = sorted(str(k) for k in rec if k not in wanted)
            raise RequestError(422, f"row {i}: unexpected field {extra[0]!r}; the model takes exactly the fields {list(names)}")
    return pd.DataFrame({spec.name: _column([rec[spec.name] for rec in records], spec) for spec in schema.columns})


_NUMPY_OF: dict[str, Any] = {"BOOL": bool, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "UINT8": np.uint8}
_NUMPY_OF.update(
    {"UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64}
)


def decode_tensors(doc: Any, schema: InputSchema, max_rows: int) -> tuple[list[dict[str, Any]], Any]:
    """Records from an Open Inference Protocol request: one input tensor per field, each of shape ``[n]``.

    Returns the records (for the same field checks as ``/predict``) and the request's ``id`` (or None).
    """
    if not isinstance(doc, dict):
        raise RequestError(400, f"an inference request must be a JSON object with 'inputs'; got a JSON {_json_kind(doc)}")
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise RequestError(400, "an inference request needs 'inputs': a non-empty list of tensors, one per field")
    columns: dict[str, list[Any]] = {}
    n_rows = None
    for k, t in enumerate(inputs):
        name, data = _tensor(t, k)
        if name in columns:
            raise RequestError(422, f"input {name!r} is sent twice")
        if name not in schema.names:
            raise RequestError(422, f"unexpected input {name!r}; the model takes exactly the inputs {list(schema.names)}")
        if n_rows is not None and len(data) != n_rows:
            raise RequestError(
                422, f"input {name!r} has {len(data)} rows but the inputs before it have {n_rows}; all inputs need the same length"
            )
        n_rows = len(data)
        columns[name] = data
    missing = [n for n in schema.names if n not in columns]
    if missing:
        spec = schema.columns[schema.names.index(missing[0])]
        raise RequestError(422, f"missing input {missing[0]!r}, {expected(spec)}; the model takes {list(schema.names)}")
    check_batch(n_rows or 0, max_rows)
    records = [{n: columns[n][i] for n in schema.names} for i in range(n_rows or 0)]
    rid = doc.get("id")
    if rid is not None and not isinstance(rid, str):
        raise RequestError(400, f"the request 'id' must be a string; got a JSON {_json_kind(rid)}")
    return records, rid


def _tensor(t: Any, k: int) -> tuple[str, list[Any]]:
    if not isinstance(t, dict) or not isinstance(t.get("name"), str):
        raise RequestError(400, f"input {k} must be an object with 'name', 'shape', 'datatype' and 'data'")
    name, shape, dtype, data = t["name"], t.get("shape"), t.get("datatype"), t.get("data")
    if not isinstance(shape, list) or not all(type(s) is int and s >= 0 for s in shape):
        raise RequestError(400, f"input {name!r}: 'shape' must be a list of non-negative integers; got {json.dumps(shape)[:40]}")
    if dtype not in _NUMPY_OF and dtype != "BYTES":
        raise RequestError(400, f"input {name!r}: unknown 'datatype' {json.dumps(dtype)[:40]}; use BOOL, INT64, FP64, BYTES, ...")
    if not isinstance(data, list):
        raise RequestError(400, f"input {name!r}: 'data' must be a list")
    if data and isinstance(data[0], list):  # nested form: flatten one level per dimension
        data = list(np.asarray(data, dtype=object).reshape(-1))
    n = int(np.prod(shape)) if shape else 1
    if len(data) != n:
        raise RequestError(422, f"input {name!r}: 'shape' {shape} holds {n} values but 'data' has {len(data)}")
    if (len(shape) == 2 and shape[1] != 1) or len(shape) > 2:
        raise RequestError(422, f"input {name!r}: shape {shape} is not a column; send one tensor of shape [n] (or [n, 1]) per field")
    return name, data
