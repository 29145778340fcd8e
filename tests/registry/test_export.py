"""Export of a grid's residents: masked by default, in the clear only for someone who may reveal and says
why (audited with the reason and every person's id); and the issue's proof that a grid worker of grid A
cannot see grid B's residents through the API, the pages or an export."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from tests.factories import add_user, login, populated
from tests.registry.registry_fixtures import POINT_B1, member, registered_family
from tests.web.test_pages import log_in

EXPORT = "/api/v1/registry/persons/export"


def _world(system_session):
    w = populated(system_session)
    a = registered_family(system_session, w, "worker_a1", "operator_a",
                          members=[member("陈明"), member("林红", "配偶")])
    b = registered_family(system_session, w, "worker_b1", "leader_b", point=POINT_B1, road="乙社区花园",
                          members=[member("赵六", occupation="乙社区保安")])
    add_user(system_session, "analyst_a", w.community_a, [("analyst", w.community_a)])
    system_session.commit()
    return w, a, b


def _sheet(content: bytes) -> list[list[str]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [[str(c) if c is not None else "" for c in row] for row in book.worksheets[0].iter_rows(values_only=True)]


def _exports(factory) -> list[AuditEntry]:
    with factory() as s:
        s.info["principal"] = Principal.system()
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == "export",
                                                       AuditEntry.object_type == "registry_person")
                              .order_by(AuditEntry.id)))


def test_masked_unless_a_revealer_gives_a_reason(client, system_session, factory):
    w, a, _ = _world(system_session)
    h = login(client, "worker_a1")
    r = client.post(EXPORT, json={"grid_id": w.grids["a1"].id}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    rows = _sheet(r.content)
    assert rows[0][:3] == ["姓名", "身份证号", "手机"] and len(rows) == 3
    assert {row[0] for row in rows[1:]} == {"陈*", "林*"} and "幸福小区 3栋 2单元 501" in rows[1][9]
    r = client.post(EXPORT, json={"grid_id": w.grids["a1"].id, "reason": "上门走访名单"}, headers=h)
    assert {row[0] for row in _sheet(r.content)[1:]} == {"陈明", "林红"}
    entries = _exports(factory)
    assert [(e.reason, e.after["count"], e.after["in_clear"]) for e in entries] == [
        (None, 2, 0), ("上门走访名单", 2, 2)]
    assert sorted(entries[1].after["ids"]) == sorted(a["persons"])
    r = client.post(EXPORT, json={"grid_id": w.grids["a1"].id, "reason": "看"}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    analyst = login(client, "analyst_a")  # sees the registers, may not reveal
    assert client.post(EXPORT, json={"reason": "统计分析需要"}, headers=analyst).status_code == 403
    masked = client.post(EXPORT, json={}, headers=analyst)
    assert {row[0] for row in _sheet(masked.content)[1:]} == {"陈*", "林*"}
    assert len(_exports(factory)) == 3


def test_a_worker_of_grid_a_cannot_see_grid_b_residents(client, system_session, factory):
    w, _, b = _world(system_session)
    h = login(client, "worker_a1")
    listed = client.get(f"/api/v1/registry/persons?grid_id={w.grids['b1'].id}", headers=h).json()
    assert listed["total"] == 0
    everyone = client.get("/api/v1/registry/persons?limit=500", headers=h).json()
    assert everyone["total"] == 2 and b["persons"][0] not in {p["id"] for p in everyone["items"]}
    assert client.get(f"/api/v1/registry/persons/{b['persons'][0]}", headers=h).status_code == 404
    r = client.post(EXPORT, json={"grid_id": w.grids["b1"].id, "reason": "越权导出名单"}, headers=h)
    assert r.status_code == 404 and "赵" not in r.text
    all_mine = _sheet(client.post(EXPORT, json={"reason": "上门走访名单"}, headers=h).content)
    assert {row[0] for row in all_mine[1:]} == {"陈明", "林红"}
    assert not any("乙社区" in cell for row in all_mine for cell in row)
    csrf = log_in(client, "worker_a1")
    for path in (f"/registry?area={w.grids['b1'].id}", f"/registry/persons/{b['persons'][0]}",
                 f"/registry/houses/{b['house']}"):
        page = client.get(path)
        assert page.status_code == 404 and "乙社区花园" not in page.text, path
    r = client.post("/registry/export", data={"grid_id": w.grids["b1"].id, "csrf_token": csrf})
    assert r.status_code == 404 and "赵" not in r.text
    grid_page = client.get(f"/registry?area={w.grids['a1'].id}")
    assert 'action="/registry/export"' in grid_page.text and 'id="export-reason"' in grid_page.text
    r = client.post("/registry/export", data={"grid_id": w.grids["a1"].id, "csrf_token": csrf})
    assert r.status_code == 200 and {row[0] for row in _sheet(r.content)[1:]} == {"陈*", "林*"}
