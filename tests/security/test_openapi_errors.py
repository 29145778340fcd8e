"""L6: the OpenAPI document declares the error body the API really sends, for 422 and every other error."""

from __future__ import annotations

import jsonschema
from fastapi.testclient import TestClient

from shiyu.app import create_app
from tests.factories import login, populated


def test_every_operation_declares_the_real_error_body(client) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert "HTTPValidationError" not in str(doc)
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status in ("422", "default"):
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_the_declared_error_schema_validates_the_bodies_sent(settings, system_session) -> None:
    populated(system_session)
    system_session.commit()
    app = create_app(settings.model_copy(update={"max_body_bytes": 64 * 1024, "logins_per_address": 2}))
    with TestClient(app) as client:
        error = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["Error"]
        h = login(client, "operator_a")
        bodies = [
            client.post("/api/v1/cases", json={"channel": "nope"}, headers=h),  # 422 validation_failed
            client.get("/api/v1/cases?offset=99999999999999999999", headers=h),  # 422 invalid_input
            client.get("/api/v1/cases/2147483647", headers=h),  # 404
            client.get("/api/v1/cases"),  # 401
            client.post("/api/v1/cases", content=b" " * 70000, headers=h | {"content-type": "application/json"}),
            client.delete("/api/v1/openapi.json"),  # 405
            client.post("/api/v1/auth/token", json={"username": "x", "password": "y"}),  # 401
            client.post("/api/v1/auth/token", json={"username": "x", "password": "y"}),  # 429 after two
        ]
    app.state.engine.dispose()
    assert [r.status_code for r in bodies] == [422, 422, 404, 401, 413, 405, 401, 429]
    assert "GET" in bodies[5].headers["allow"]  # a 405 names the methods that are allowed
    for r in bodies:
        jsonschema.validate(r.json(), error)
