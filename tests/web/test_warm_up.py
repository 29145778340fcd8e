"""A served process loads the reference data before its first request and takes it out of garbage
collection; a database that cannot be read yet only postpones the loading to the first use."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from shiyu.app import create_app
from shiyu.cases.categories.selectable import SELECTABLE
from shiyu.org.areas.lookup import INDEXES
from shiyu.org.calendar.service import CALENDARS
from shiyu.org.units.responsible import CENTRES
from tests.factories import populated

CACHES = (INDEXES, SELECTABLE, CENTRES, CALENDARS)


def test_a_served_process_warms_up_before_the_first_request(settings, system_session, monkeypatch) -> None:
    populated(system_session)
    system_session.commit()
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    app = create_app(settings, serving=True)
    try:
        engine = app.state.engine
        assert not any(cache.loaded_for(engine) for cache in CACHES)
        with TestClient(app):
            assert all(cache.loaded_for(engine) for cache in CACHES)
        assert frozen == [True]
    finally:
        app.state.engine.dispose()


def test_without_a_schema_the_warm_up_is_skipped(settings, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(gc, "freeze", lambda: None)
    empty = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    app = create_app(empty, serving=True)
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
        assert not any(cache.loaded_for(app.state.engine) for cache in CACHES)
    finally:
        app.state.engine.dispose()
