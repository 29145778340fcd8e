"""Model versions: exactly one active, rollback through the API (audited, city-wide right needed), the
per-process cache picking up another process's activation within the recheck interval, and who may see
what (versions with triage.manage, a case's suggestions through the case's scope)."""

from __future__ import annotations

import gc

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shiyu.app import create_app
from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.triage.classification import registry
from shiyu.triage.classification.models import CaseSuggestion, TriageModelVersion
from tests.factories import add_user, login
from tests.triage.triage_fixtures import configured, file_case, publish, tiny_model, triage_world


@pytest.fixture(scope="module")
def models():
    return tiny_model(seed=0), tiny_model(seed=1)


@pytest.fixture
def world(system_session):
    w = triage_world(system_session)
    add_user(system_session, "admin_a", w.community_a, [("admin", w.community_a)])
    system_session.commit()
    return w


@pytest.fixture
def runtime(settings):
    yield from configured(settings)


def _statuses(factory) -> dict[int, str]:
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        return dict(s.execute(select(TriageModelVersion.version, TriageModelVersion.status)).all())


def test_rollback_through_the_api_is_audited_and_used_at_once(system_session, world, runtime, models, client,
                                                              factory):
    publish(system_session, models[0])
    publish(system_session, models[1])
    assert _statuses(factory) == {1: "retired", 2: "active"}
    case = file_case(system_session, world, "关于红绿灯的问题 公交线路改道")
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        assert s.scalar(select(CaseSuggestion.model_version).where(CaseSuggestion.case_id == case.id)) == 2

    h = login(client, "admin")
    r = client.post("/api/v1/triage/models/1/activate", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active" and "admin" in r.json()["reason"]
    assert _statuses(factory) == {1: "active", 2: "retired"}
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        audited = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "triage_model_version",
                                                     AuditEntry.actor_name == "admin")).all()
    assert {(e.before or {}).get("status") for e in audited} == {"retired", "active"}

    later = file_case(system_session, world, "关于红绿灯的问题 公交线路改道")
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        assert s.scalar(select(CaseSuggestion.model_version).where(CaseSuggestion.case_id == later.id)) == 1


def test_only_one_version_can_be_active(system_session, world, runtime, models):
    publish(system_session, models[0])
    publish(system_session, models[1], activate=False)
    system_session.info["principal"] = Principal.system("test")
    with pytest.raises(IntegrityError):
        system_session.execute(update(TriageModelVersion).where(TriageModelVersion.version == 2)
                               .values(status="active"))
    system_session.rollback()


def test_the_cache_rechecks_the_active_version_only_every_few_seconds(system_session, world, settings, models,
                                                                      monkeypatch, factory):
    registry.configure(settings, recheck_seconds=5)
    try:
        clock = [1000.0]
        monkeypatch.setattr(registry.time, "monotonic", lambda: clock[0])
        publish(system_session, models[0])
        publish(system_session, models[1], activate=False)
        with factory() as s:
            s.info["principal"] = Principal.system("test")
            assert registry.active_model(s)[0].version == 1
            # Another process activates version 2 (no in-process notice).
            s.execute(update(TriageModelVersion).values(status="retired"))
            s.execute(update(TriageModelVersion).where(TriageModelVersion.version == 2).values(status="active"))
            s.commit()
            clock[0] += 4
            assert registry.active_model(s)[0].version == 1  # still cached: no query per case
            clock[0] += 2
            version, model = registry.active_model(s)
            assert version.version == 2 and model is registry.model_for(version)  # loaded once, then cached
    finally:
        registry.configure(None)


def test_who_may_manage_models(system_session, world, runtime, models, client):
    publish(system_session, models[0])
    operator = login(client, "operator_a")
    assert client.get("/api/v1/triage/models", headers=operator).status_code == 403
    assert client.post("/api/v1/triage/retrain", headers=operator).status_code == 403
    local_admin = login(client, "admin_a")  # an admin of one community: may look, not switch the city's model
    assert client.get("/api/v1/triage/models", headers=local_admin).status_code == 200
    assert client.post("/api/v1/triage/models/1/activate", headers=local_admin).status_code == 403
    assert client.post("/api/v1/triage/retrain", headers=local_admin).status_code == 403
    admin = login(client, "admin")
    assert client.post("/api/v1/triage/models/9/activate", headers=admin).status_code == 404
    queued = client.post("/api/v1/triage/retrain", headers=admin).json()["version"]
    r = client.post(f"/api/v1/triage/models/{queued}/activate", headers=admin)
    assert r.status_code == 409 and r.json()["code"] == "triage_version_unusable"


def test_case_suggestions_follow_the_case_scope(system_session, world, runtime, models, client):
    publish(system_session, models[0])
    case = file_case(system_session, world, "化工厂排污 污水和粉尘很大")
    assert client.get(f"/api/v1/triage/cases/{case.id}/suggestions",
                      headers=login(client, "worker_b1")).status_code == 404
    mine = client.get(f"/api/v1/triage/cases/{case.id}/suggestions", headers=login(client, "worker_a1"))
    assert mine.status_code == 200 and mine.json()["suggestions"][0]["code"] == "T0301"


def test_a_served_process_loads_the_active_model_before_the_first_report(settings, system_session, models,
                                                                         monkeypatch) -> None:
    """Loading the model file and the tokenizer's dictionary takes half a second: the server's warm-up
    pays it, not the first caller."""
    triage_world(system_session)
    registry.configure(settings)
    publish(system_session, models[0])
    monkeypatch.setattr(gc, "freeze", lambda: None)
    app = create_app(settings, serving=True)
    try:
        assert registry.RUNTIME.models == {}
        with TestClient(app):
            assert len(registry.RUNTIME.models) == 1
    finally:
        app.state.engine.dispose()
        registry.configure(None)
