"""Every ORM write is audited in its own transaction, with before/after and no personal data in clear."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from shiyu.core import audit
from shiyu.core.audit import AuditEntry, AuditFilter
from shiyu.core.paging import PageParams
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


def _add_entry(session, at, **values):
    row = {"at": at, "actor_id": None, "actor_name": "system", "action": "create", "object_type": "area",
           "object_id": None, "ip": None, "before": None, "after": None, "reason": None, "area_path": "/"}
    session.connection().execute(insert(AuditEntry), [row | values])


def test_search_applies_every_given_filter_newest_first(system_session):
    at = datetime(2024, 5, 1, 8, tzinfo=UTC)
    _add_entry(system_session, at, actor_name="alice", action="login")
    _add_entry(system_session, at, actor_name="alice", action="reveal", object_type="user_account", object_id="7")
    _add_entry(system_session, at, actor_name="bob", action="reveal", object_type="user_account", object_id="8")

    def found(params=PageParams(), **filters):
        rows, total = audit.search(system_session, AuditFilter(**filters), params)
        return [(r.actor_name, r.action) for r in rows], total

    everything = ([("bob", "reveal"), ("alice", "reveal"), ("alice", "login")], 3)
    assert found() == found(actor="", action="") == everything
    assert found(actor="alice") == ([("alice", "reveal"), ("alice", "login")], 2)
    assert found(actor="alice", action="reveal") == ([("alice", "reveal")], 1)
    assert found(object_type="user_account", object_id="8") == ([("bob", "reveal")], 1)
    assert found(actor="carol") == ([], 0)
    assert found(PageParams(limit=1, offset=1)) == ([("alice", "reveal")], 3)


def test_within_days_spans_whole_days_in_the_city_zone():
    shanghai = ZoneInfo("Asia/Shanghai")
    days = AuditFilter(action="login").within_days(shanghai, date(2024, 5, 1), date(2024, 5, 2))
    assert days.action == "login"
    assert days.since == datetime(2024, 4, 30, 16, tzinfo=UTC)
    assert days.until == datetime(2024, 5, 2, 16, tzinfo=UTC)
    assert AuditFilter().within_days(shanghai, None, date(2024, 5, 2)).since is None
    assert AuditFilter().within_days(shanghai, None, None) == AuditFilter()


def test_search_by_days_keeps_both_ends_of_the_range(system_session):
    """``since`` is inclusive and ``until`` exclusive on both databases (SQLite keeps no zone)."""
    for n, at in enumerate([datetime(2024, 4, 30, 15, 59), datetime(2024, 4, 30, 16, 0),
                            datetime(2024, 5, 1, 15, 59), datetime(2024, 5, 1, 16, 0)]):
        _add_entry(system_session, at.replace(tzinfo=UTC), object_id=str(n))
    may_day = AuditFilter().within_days(ZoneInfo("Asia/Shanghai"), date(2024, 5, 1), date(2024, 5, 1))
    rows, total = audit.search(system_session, may_day, PageParams())
    assert [r.object_id for r in rows] == ["2", "1"] and total == 2
