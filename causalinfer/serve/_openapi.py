"""The OpenAPI description of a host, generated from the served model's input schema."""

from __future__ import annotations

from typing import Any

from ..predict import ColumnSpec

__all__ = ["openapi"]


def _field(c: ColumnSpec) -> dict[str, Any]:
    base: dict[str, Any] = {
        "float": {"type": "number"}, "int": {"type": "integer"}, "bool": {"type": "boolean"},
        "category": {"type": "string"}, "string": {"type": "string"}, "datetime": {"type": "string", "format": "date-time"},
    }.get(c.kind, {})  # fmt: skip
    out = {**base, "description": f"trained on dtype {c.dtype}; null marks a missing value"}
    if "type" in out:
        out["type"] = [out["type"], "null"]
    if c.categories is not None and c.kind in ("category", "string"):
        out["examples"] = list(c.categories[:20])
        out["description"] += f"; {len(c.categories)} level(s) seen in training (others are accepted and counted as unseen)"
    return out


def _error(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


_ERRORS = {
    "400": _error("malformed JSON or a body of the wrong shape"),
    "401": _error("missing or wrong bearer token"),
    "404": _error("unknown model name or version"),
    "413": _error("request body or batch too large"),
    "422": _error("a record that does not fit the model's input schema (names the row, the field and the expected type)"),
    "503": _error("the score log is falling behind (retry after the Retry-After seconds)"),
}


def openapi(served: Any, *, max_rows: int, title: str = "causalinfer model server") -> dict[str, Any]:
    """OpenAPI 3.1 for ``/predict`` and the Open Inference Protocol routes of ``served``."""
    names = list(served.schema.names)
    record = {
        "type": "object", "properties": {c.name: _field(c) for c in served.schema.columns},
        "required": names, "additionalProperties": False,
    }  # fmt: skip
    response: dict[str, Any] = {
        "type": "object",
        "properties": {
            "model_name": {"type": "string"}, "model_version": {"type": "string"}, "request_id": {"type": "string"},
            "predictions": {"type": "array"}, "logged": {"type": "string", "enum": ["committed", "queued", "off"]},
        },
    }  # fmt: skip
    if served.kind in ("classifier", "set"):
        response["properties"]["probabilities"] = {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "number"}}}
    if served.kind == "interval":
        response["properties"]["intervals"] = {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2}}
    if served.kind == "set":
        response["properties"]["sets"] = {"type": "array", "items": {"type": "array"}}
    durable = {
        "name": "durable",
        "in": "query",
        "schema": {"type": "boolean"},
        "description": "answer only after the request is committed to the score log",
    }
    name_param = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "enum": [served.name]}}
    ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": served.version,
            "description": f"Serves model {served.name!r} ({served.info.get('estimator')}).",
        },
        "paths": {
            "/predict": {
                "post": {
                    "summary": "Score a list of records",
                    "parameters": [durable],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Record"},
                                    "minItems": 1,
                                    "maxItems": max_rows,
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "scores",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictResponse"}}},
                        },
                        **_ERRORS,
                    },
                }
            },
            "/v2/models/{name}/infer": {
                "post": {
                    "summary": "Open Inference Protocol inference (one input tensor of shape [n] per field)",
                    "parameters": [name_param, durable],
                    "responses": {"200": ok, **_ERRORS},
                }
            },
            "/v2/models/{name}": {
                "get": {"summary": "Model metadata", "parameters": [name_param], "responses": {"200": ok, "404": _ERRORS["404"]}}
            },
            "/v2/models/{name}/drift": {
                "get": {
                    "summary": "Drift of the recent rows against the training profile (JSON, or HTML with ?format=html)",
                    "parameters": [name_param],
                    "responses": {"200": ok},
                }
            },
            "/v2/health/live": {"get": {"summary": "Liveness", "responses": {"200": ok}}},
            "/v2/health/ready": {"get": {"summary": "Readiness", "responses": {"200": ok}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text exposition format"}}}},
        },
        "components": {
            "schemas": {
                "Record": record,
                "PredictResponse": response,
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}, "request_id": {"type": "string"}},
                    "required": ["error"],
                },
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
