"""The OpenAPI document declares the error body that is really sent (security review L6).

FastAPI documents 422 as its own ``HTTPValidationError`` (``{"detail": [{"loc", "msg", "type"}]}``), but
every error here leaves as ``{"code", "message", "detail"}`` (``shiyu.web.errors``), and 401, 403, 404, 409,
413, 429 and 503 were not documented at all. Clients generated from the document, and schemathesis, then
disagree with every error answer. Each operation gets the real body for 422 and as its ``default``
response (every other error status).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message", "detail"],
    "properties": {
        "code": {"type": "string", "description": "stable, e.g. not_found, validation_failed, rate_limited"},
        "message": {"type": "string", "description": "Chinese, or English with Accept-Language: en"},
        "detail": {"description": "what exactly: the fields at fault, a limit, the seconds to wait; or null"},
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}


def with_error_model(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION:
        components.pop(name, None)
    components["Error"] = ERROR_SCHEMA
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            responses["422"] = _error_response("The input is not valid (validation_failed, invalid_input, …)")
            responses["default"] = _error_response(
                "An error: 401 unauthenticated, 403 forbidden, 404 not_found, 409 conflict, 413 body_too_large, "
                "429 rate_limited (Retry-After), 503 unavailable (Retry-After), 500 internal_error")
    return schema


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_model(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
