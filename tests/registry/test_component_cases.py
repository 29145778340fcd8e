"""A report names the component (部件) it is about by the code on its plate: the case keeps the component, its
page shows the component's name, code and owner to the department mending it; a code nobody registered, or a
component outside the report's grid, is a clear 422 and files nothing; a report without a component keeps the
fingerprint it had before components could be named (a retry across the upgrade still matches)."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import func, select

from shiyu.cases.intake.service import request_hash
from shiyu.cases.models import Case
from shiyu.cases.schemas import IntakeIn
from shiyu.core.scoping import Principal
from shiyu.registry import changes
from shiyu.registry.changes import Submission
from shiyu.registry.models import Component
from tests.cases.case_fixtures import POINT_A1, POINT_B1, case_world, intake_body
from tests.factories import login
from tests.web.test_pages import log_in

SYSTEM = Principal.system("test")


def _component(s, name: str, point: dict, owner: str = "") -> Component:
    s.info["principal"] = SYSTEM
    record, _ = changes.submit(s, SYSTEM, Submission("component", "create", {
        "class_code": "0101", "name": name, "owner_name": owner, **point}))
    changes.decide(s, SYSTEM, record.id, "review")
    changes.decide(s, SYSTEM, record.id, "accept")
    return s.scalars(select(Component).where(Component.name == name)).one()


@pytest.fixture
def w(system_session):
    return case_world(system_session)


_body = intake_body


def test_a_report_names_its_component_and_the_case_shows_it(client, system_session, w):
    s = system_session
    cover = _component(s, "幸福路井盖", POINT_A1, owner="市政设施管理处")
    elsewhere = _component(s, "乙社区井盖", POINT_B1)
    s.commit()
    h = login(client, "worker_a1")

    filed = client.post("/api/v1/cases", json=_body(w, "comp-0001", component_code=cover.code), headers=h)
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["id"]
    s.info["principal"] = SYSTEM
    assert s.get(Case, case_id).component_id == cover.id
    assert client.get(f"/api/v1/cases/{case_id}", headers=login(client, "operator_a")).json()["component_id"] \
        == cover.id

    unknown = client.post("/api/v1/cases", json=_body(w, "comp-0002", component_code="0000000000"), headers=h)
    away = client.post("/api/v1/cases", json=_body(w, "comp-0003", component_code=elsewhere.code), headers=h)
    bad = client.post("/api/v1/cases", json=_body(w, "comp-0004", component_code="<b>"), headers=h)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_component")
    assert (away.status_code, away.json()["code"]) == (422, "component_elsewhere")
    assert "部件" in away.json()["message"] and bad.status_code == 422
    assert s.scalar(select(func.count()).select_from(Case)) == 1

    log_in(client, "operator_a")
    page = client.get(f"/desk/cases/{case_id}")
    assert 'id="component"' in page.text and cover.code in page.text and "市政设施管理处" in page.text


def test_a_report_without_a_component_keeps_its_fingerprint(w):
    body = IntakeIn(**_body(w, "comp-0005"))
    dumped = body.model_dump(mode="json", exclude={"idempotency_key", "attachment_ids", "component_code"})
    before = hashlib.sha256(json.dumps({**dumped, "attachments": []}, sort_keys=True, ensure_ascii=False)
                            .encode()).hexdigest()
    assert request_hash(body, []) == before
    assert request_hash(IntakeIn(**_body(w, "comp-0005", component_code="ABCD1234")), []) != before
