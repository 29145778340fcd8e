"""Every ORM write is audited in its own transaction, with before/after and no personal data in clear."""

import pytest
from sqlalchemy import select

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.org.units.models import Department
from tests.factories import add_user, login, populated


def _entries(factory, **where):
    with factory() as s:
        s.info["principal"] = Principal.system()
        stmt = select(AuditEntry).order_by(AuditEntry.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(AuditEntry, k) == v)
        return s.scalars(stmt).all()


def test_update_records_before_and_after_of_changed_columns(client, system_session, factory):
    w = populated(system_session)
    h = login(client, "admin")
    r = client.patch(f"/api/v1/departments/{w.departments['a'].id}", json={"name": "甲社区城管办"}, headers=h)
    assert r.status_code == 200
    [entry] = _entries(factory, action="update", object_type="department")
    assert entry.before == {"name": "甲社区物业办"} and entry.after == {"name": "甲社区城管办"}
    assert entry.actor_name == "admin" and entry.ip == "testclient"
    assert entry.area_path == w.community_a.area_path


def test_delete_records_the_whole_row(client, system_session, factory):
    w = populated(system_session)
    grant_id = w.users["worker_a1"].grants[0].id
    h = login(client, "admin")
    r = client.delete(f"/api/v1/users/{w.users['worker_a1'].id}/grants/{grant_id}", headers=h)
    assert r.status_code == 204
    [entry] = _entries(factory, action="delete", object_type="grant")
    assert entry.before["role"] == "grid_worker" and entry.before["user_id"] == w.users["worker_a1"].id
    assert entry.after is None


def test_rolled_back_write_leaves_no_entry(factory, system_session):
    w = populated(system_session)
    before = len(_entries(factory))
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        dept = s.get(Department, w.departments["a"].id)
        dept.name = "不会保存"
        s.flush()
        s.rollback()
    assert len(_entries(factory)) == before


def test_personal_data_never_in_clear(factory, system_session):
    populated(system_session)
    for entry in _entries(factory, object_type="user_account"):
        text = str(entry.before) + str(entry.after)
        assert "13812345678" not in text and "张三丰" not in text


@pytest.mark.parametrize("who, sees", [("city_auditor", True), ("community_auditor", False)])
def test_city_wide_entries_visible_to_city_auditors_only(client, system_session, who, sees):
    w = populated(system_session)
    add_user(system_session, "city_auditor", w.city, [("auditor", w.city)])
    add_user(system_session, "community_auditor", w.community_a, [("auditor", w.community_a)])
    system_session.commit()
    admin = login(client, "admin")
    r = client.put("/api/v1/calendar/office-hours", headers=admin,
                   json={"periods": [{"start": "08:30", "end": "12:00"}, {"start": "14:00", "end": "17:30"}],
                         "weekend": [5, 6]})
    assert r.status_code == 200, r.text
    h = login(client, who)
    rows = client.get("/api/v1/audit", params={"limit": 500}, headers=h).json()["items"]
    assert any(e["area_path"] == "/" and e["actor_name"] == "admin" for e in rows) is sees
