"""Malformed input answered cleanly (security review 2026-12, S9 c, L4, L5): a department keeps its
jurisdiction when saved, a description of blanks is no description, report attributes the category does
not declare are refused by name."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shiyu.cases.models import Case
from shiyu.org.units.models import DepartmentJurisdiction
from tests.cases.case_fixtures import POINT_A1, case_world
from tests.factories import World, login
from tests.web.test_pages import hx, log_in


@pytest.fixture
def w(system_session) -> World:
    return case_world(system_session)


def _jurisdictions(s, dept_id: int) -> list[int]:
    s.expire_all()
    jurisdiction = DepartmentJurisdiction
    return sorted(s.scalars(select(jurisdiction.area_id).where(jurisdiction.department_id == dept_id)))


def test_a_department_saved_with_its_jurisdiction_kept_added_or_removed(client, system_session, w):
    """S9 c: replacing the collection inserted the kept area again before deleting it (unique violation, 500)."""
    dept = w.departments["a"]
    h = login(client, "admin")
    url = f"/api/v1/departments/{dept.id}"
    unchanged = client.patch(url, json={"jurisdiction_area_ids": [w.community_a.id]}, headers=h)
    assert unchanged.status_code == 200, unchanged.text
    assert _jurisdictions(system_session, dept.id) == [w.community_a.id]
    both = [w.community_a.id, w.grids["a1"].id]
    added = client.patch(url, json={"jurisdiction_area_ids": both}, headers=h)
    assert added.status_code == 200 and sorted(added.json()["jurisdiction_area_ids"]) == sorted(both)
    removed = client.patch(url, json={"jurisdiction_area_ids": [w.grids["a1"].id]}, headers=h)
    assert removed.status_code == 200 and removed.json()["jurisdiction_area_ids"] == [w.grids["a1"].id]
    assert _jurisdictions(system_session, dept.id) == [w.grids["a1"].id]

    csrf = log_in(client, "admin")  # the admin page saves the form unchanged
    page = client.post(f"/admin/units/departments/{dept.id}", headers=hx(csrf), data={
        "name": dept.name, "category_kinds": "incident", "jurisdiction_area_ids": [str(w.grids["a1"].id)]})
    assert page.status_code == 200 and "HX-Redirect" in page.headers, page.text[:300]
    assert _jurisdictions(system_session, dept.id) == [w.grids["a1"].id]


def _report(w, key: str, **extra) -> dict:
    return {"idempotency_key": key, "channel": "grid", "category_id": w.extra["category"].id,
            "description": "井盖缺失", "location": POINT_A1, **extra}


@pytest.mark.parametrize("blank", ["   \n\t  ", " x ", "\u3000\u3000"])
def test_a_description_of_blanks_is_refused(client, system_session, w, blank):
    """L4: the length is counted after stripping (a blank description was stored empty)."""
    r = client.post("/api/v1/cases", json=_report(w, "blank-0001", description=blank),
                    headers=login(client, "worker_a1"))
    assert r.status_code == 422, r.text
    assert system_session.scalar(select(Case.id)) is None


def test_unknown_attributes_are_refused_by_name(client, system_session, w):
    """L5: only the fields of the category's attribute form are taken; unknown keys were stored unchecked."""
    category = system_session.merge(w.extra["category"])
    category.fields = [{"name": "owner", "label_zh": "权属单位", "label_en": "Owner", "type": "text"}]
    system_session.commit()
    h = login(client, "worker_a1")
    r = client.post("/api/v1/cases", headers=h, json=_report(w, "attrs-0001", attributes={
        "owner": "园林所", "evil": "<script>alert(1)</script>", "zz": 1}))
    assert r.status_code == 422 and r.json()["code"] == "case_attributes_invalid", r.text
    assert r.json()["detail"] == [{"field": "evil", "problem": "unknown"}, {"field": "zz", "problem": "unknown"}]
    assert system_session.scalar(select(Case.id)) is None
    ok = client.post("/api/v1/cases", headers=h, json=_report(w, "attrs-0002", attributes={"owner": "园林所"}))
    assert ok.status_code == 201, ok.text
