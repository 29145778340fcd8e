"""A handler's writes are committed before its response leaves; overload is an answer the client can retry.

FastAPI's default for dependencies with ``yield`` runs their exit code after the response is sent; our
session dependencies ask for ``scope="function"`` instead. Were that lost, a client could be told "created"
about a write whose commit then fails, and a browser following a redirect could read the page before the
change it just made.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import event

from shiyu.core.http import Db
from tests.factories import login, populated


def test_a_failing_commit_is_the_answer_not_a_success(app, system_session) -> None:
    populated(system_session)
    system_session.commit()

    @app.get("/api/v1/_probe")
    def probe(db: Db) -> dict:
        def refuse(_session) -> None:
            raise RuntimeError("commit refused")

        event.listen(db, "before_commit", refuse)
        return {"ok": True}

    with TestClient(app, raise_server_exceptions=False) as client:
        headers = login(client, "operator_a")
        response = client.get("/api/v1/_probe", headers=headers)
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"



def test_an_exhausted_connection_pool_answers_busy(settings, system_session) -> None:
    """Overload is a 503 with Retry-After that the client can retry, not a 500."""
    from shiyu.app import create_app

    populated(system_session)
    system_session.commit()
    app = create_app(settings.model_copy(update={"db_pool_size": 1, "db_pool_timeout": 0.2}))
    try:
        with TestClient(app) as client:
            headers = login(client, "operator_a")
            with app.state.engine.connect():
                response = client.get("/api/v1/cases", headers=headers)
        assert response.status_code == 503
        assert response.json()["code"] == "busy"
        assert response.headers["retry-after"] == "1"
    finally:
        app.state.engine.dispose()


def test_every_answer_says_how_long_the_app_took(app) -> None:
    with TestClient(app) as client:
        answers = [client.get("/healthz"), client.get("/api/v1/cases"), client.get("/no-such-page")]
    for response in answers:
        name, _, duration = response.headers["server-timing"].partition(";dur=")
        assert name == "app" and float(duration) >= 0, response.headers["server-timing"]
