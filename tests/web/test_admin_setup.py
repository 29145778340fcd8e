"""The administrator's setup pages through TestClient (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from tests.factories import World
from tests.web.test_pages import admin_world, hx, log_in


@pytest.fixture
def world(system_session) -> World:
    return admin_world(system_session)


def test_a_form_without_a_picked_area_says_so_in_the_readers_language(client, world):
    csrf = log_in(client, "admin")
    data = {"username": "no_area", "password": "Longenough1", "home_area_id": ""}
    r = client.post("/admin/users/new", data=data, headers=hx(csrf))
    assert r.status_code == 422 and 'id="err-home_area_id">请从列表中选择区域<' in r.text
    r = client.post("/admin/users/new?lang=en", data=data, headers=hx(csrf))
    assert 'id="err-home_area_id">Choose an area from the list<' in r.text
    data |= {"home_area_id": str(world.grids["a1"].id), "username": "ab"}
    r = client.post("/admin/users/new?lang=zh", data=data,
                    headers=hx(csrf))
    assert r.status_code == 422 and 'id="err-username">至少 3 个字<' in r.text


def _limits_form(handle_normal: str = "3") -> dict[str, str]:
    form = {f"{s}.amount": "1" for s in ("register", "dispatch", "accept", "handle.urgent", "handle.critical",
                                          "verify")}
    form |= {f"{s}.unit": "working_hours" for s in ("register", "dispatch", "accept", "handle.normal",
                                                     "handle.urgent", "handle.critical", "verify")}
    return form | {"handle.normal.amount": handle_normal, "default_urgency": "normal", "critical_natural": "on"}


def test_categories_are_created_with_a_suggested_code_renamed_disabled_and_copied(client, world, system_session):
    from shiyu.cases.categories.models import Category

    csrf = log_in(client, "admin")
    page = client.get("/admin/categories/new?kind=incident").text
    assert 'value="I02"' in page and "新增事件大类" in page
    r = client.post("/admin/categories/new", data={"kind": "incident", "code": "I02", "name_zh": "防汛"},
                    headers=hx(csrf))
    assert r.status_code == 200, r.text[:300]
    major_id = int(r.headers["HX-Redirect"].split("/")[-1].split("?")[0])
    # A minor class of the new major: code I0201 suggested; no sibling, so the limits are typed in.
    page = client.get(f"/admin/categories/new?parent_id={major_id}").text
    assert 'value="I0201"' in page and 'name="handle.normal.amount"' in page
    r = client.post("/admin/categories/new", data={"kind": "incident", "parent_id": str(major_id), "code": "I0201",
                                                   "name_zh": "积水内涝"} | _limits_form("2"), headers=hx(csrf))
    assert r.status_code == 200, r.text[:300]
    # The next one starts from its sibling's limits and suggests I0202; a taken code is refused next to the field.
    page = client.get(f"/admin/categories/new?parent_id={major_id}").text
    assert 'value="I0202"' in page and "以下时限取自“积水内涝”" in page
    bad = client.post("/admin/categories/new", data={"kind": "incident", "parent_id": str(major_id), "code": "I0201",
                                                     "name_zh": "树木倒伏"} | _limits_form(), headers=hx(csrf))
    assert bad.status_code == 422 and 'id="err-code">类别代码 I0201 已被使用<' in bad.text
    r = client.post("/admin/categories/new", data={"kind": "incident", "parent_id": str(major_id), "code": "I0202",
                                                   "name_zh": "树木倒伏"} | _limits_form("5"), headers=hx(csrf))
    second = int(r.headers["HX-Redirect"].split("/")[-1].split("?")[0])

    r = client.post(f"/admin/categories/{second}/rename", data={"name_zh": "树木倒伏阻路", "name_en": "Fallen tree"},
                    headers=hx(csrf))
    assert r.status_code == 200 and "名称已保存" in r.text and "树木倒伏阻路" in r.text
    r = client.post(f"/admin/categories/{second}/rename", data={"name_zh": ""}, headers=hx(csrf))
    assert r.status_code == 422 and 'id="err-name_zh"' in r.text
    r = client.post(f"/admin/categories/{second}/active", data={"active": "0"}, headers=hx(csrf))
    assert r.status_code == 200 and "类别已停用" in r.text
    assert "树木倒伏阻路" not in client.get("/api/v1/categories").text  # no longer offered
    r = client.post(f"/admin/categories/{second}/copy-limits", data={"source_id": str(world.extra["minor"])},
                    headers=hx(csrf))
    assert r.status_code == 422 and "只能复制同一大类下其他小类的时限" in r.text
    first = system_session.scalar(select(Category.id).where(Category.code == "I0201"))
    r = client.post(f"/admin/categories/{second}/copy-limits", data={"source_id": str(first)}, headers=hx(csrf))
    assert r.status_code == 200 and "时限已复制" in r.text
    system_session.expire_all()
    assert system_session.get(Category, second).time_limits["handle"]["normal"]["amount"] == 2
    r = client.post(f"/admin/categories/{second}/active", data={"active": "1"}, headers=hx(csrf))
    assert "类别已启用" in r.text


def test_a_community_admin_cannot_change_city_categories(client, world):
    csrf = log_in(client, "admin_a")
    assert client.get("/admin/categories/new").status_code == 403
    r = client.post(f"/admin/categories/{world.extra['minor']}/active", data={"active": "0"}, headers=hx(csrf))
    assert r.status_code == 403
    r = client.post("/admin/categories/new", data={"kind": "incident", "code": "X9", "name_zh": "越权"},
                    headers=hx(csrf))
    assert r.status_code == 403 or 'class="alert error"' in r.text


def test_routing_preview_at_a_point_uses_the_rule_intake_would(client, world):
    csrf = log_in(client, "admin")
    r = client.post("/admin/routing/rules", data={"name": "乙社区垃圾", "category_id": str(world.extra["minor"]),
                                                  "target": "department",
                                                  "department_id": str(world.departments["b"].id),
                                                  "area_id": str(world.community_b.id), "active": "on"},
                    headers=hx(csrf))
    rule_id = int(r.headers["HX-Redirect"].split("created=")[1])
    assert 'data-pick="1"' in client.get("/admin/routing").text
    point = {"category_id": str(world.extra["minor"]), "mode": "point", "lon": "118.1", "lat": "24.6"}
    r = client.post("/admin/routing/preview?lang=zh", data=point, headers=hx(csrf))
    assert r.status_code == 200, r.text
    assert "位置：东区 东街道 乙社区 乙社区第一网格" in r.text and "派给：乙社区物业办" in r.text
    assert f"依据：规则 #{rule_id}" in r.text and "乙社区垃圾" in r.text
    # In community A no rule applies: the territory takes it.
    r = client.post("/admin/routing/preview", data=point | {"lon": "117.95"}, headers=hx(csrf))
    assert "派给：甲社区综治中心" in r.text and "没有适用的规则，按属地兜底" in r.text
    for bad, message in (({"lon": "100", "lat": "30"}, "该位置不在本市任何网格内"),
                         ({"lon": "", "lat": "24.6"}, "请在地图上点选位置，或填写经纬度"),
                         ({"lon": "nan", "lat": "24.6"}, "请在地图上点选位置，或填写经纬度")):
        r = client.post("/admin/routing/preview", data=point | bad, headers=hx(csrf))
        assert r.status_code == 422 and message in r.text, r.text
    # By area, as before; and a community-A administrator's point in B is "outside", like outside the city.
    r = client.post("/admin/routing/preview", data={"category_id": str(world.extra["minor"]), "mode": "area",
                                                    "area_id": str(world.grids["b2"].id)}, headers=hx(csrf))
    assert "位置：乙社区第二网格" in r.text and "派给：乙社区物业办" in r.text
    csrf = log_in(client, "admin_a")
    r = client.post("/admin/routing/preview?lang=zh", data=point, headers=hx(csrf))
    assert r.status_code == 422 and "乙社区" not in r.text


def test_routing_preview_api_takes_a_location(client, world):
    from tests.factories import login as api_login

    h = api_login(client, "admin")
    body = {"category_id": world.extra["minor"], "location": {"lon": 118.1, "lat": 24.6}}
    r = client.post("/api/v1/routing/preview", json=body, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["area_id"] == world.grids["b1"].id and r.json()["place"] == "东区 东街道 乙社区 乙社区第一网格"
    r = client.post("/api/v1/routing/preview", json=body | {"area_id": world.grids["b1"].id}, headers=h)
    assert r.status_code == 422


def test_the_holiday_notice_is_previewed_then_loaded(client, world):
    from tests.org.test_calendar_import import NOTICE_2026

    csrf = log_in(client, "admin")
    assert 'id="notice-card"' in client.get("/admin/calendar?year=2027").text
    text = NOTICE_2026.replace("2026", "2027").replace("10月10日（周六）", "10月9日（周六）")
    r = client.post("/admin/calendar/import?lang=zh", data={"year": "2027", "text": "元旦：1月1日（周五）放假，共1天。",
                                                            "dry_run": "1"}, headers=hx(csrf))
    assert r.status_code == 200 and 'data-import-state="valid"' in r.text
    assert "2027 年：读到 1 段日期；导入后 1 天新设或变更，0 天恢复为普通日。" in r.text
    # A make-up working day that is not a weekend day is refused with its date, nothing written.
    r = client.post("/admin/calendar/import", data={"year": "2027", "text": text, "dry_run": "0"}, headers=hx(csrf))
    assert r.status_code == 422 and "不是周末" in r.text
    r = client.post("/admin/calendar/import", data={"year": "2027", "dry_run": "0"},
                    files={"file": ("2027.csv", "start,end,kind,name_zh,name_en\n2027-01-01,,holiday,元旦,\n",
                                    "text/csv")}, headers=hx(csrf))
    assert r.status_code == 200 and "已导入 2027 年的放假安排" in r.text and 'title="元旦"' in r.text
    r = client.post("/admin/calendar/import", data={"year": "2027", "text": "元旦：放假。"}, headers=hx(csrf))
    assert r.status_code == 422 and "第 1 行：没有读到放假或上班的日期" in r.text
    r = client.post("/admin/calendar/import", data={"year": "2027"}, headers=hx(csrf),
                    files={"file": ("big.txt", b"x" * 400_001, "text/plain")})
    assert r.status_code == 413 and "文件超过 390 KB" in r.text
    csrf = log_in(client, "admin_a")
    r = client.post("/admin/calendar/import", data={"year": "2027", "text": "元旦：1月1日放假。"}, headers=hx(csrf))
    assert r.status_code == 403


def _pending_user(system_session, world, code: str):
    """An imported account (no password yet) in grid a1 whose code is ``code``."""
    from datetime import timedelta

    from shiyu.core.timeutil import utcnow
    from shiyu.org.identity.bulk.models import ActivationCode
    from shiyu.org.identity.bulk.service import UNUSABLE_PASSWORD, code_hash
    from tests.factories import add_user

    user = add_user(system_session, "sy00000001", world.grids["a1"], [("grid_worker", world.grids["a1"])])
    user.password_hash = UNUSABLE_PASSWORD
    system_session.add(ActivationCode(user_id=user.id, code_hash=code_hash(code),
                                      expires_at=utcnow() + timedelta(days=1)))
    system_session.commit()
    return user


def test_a_lost_activation_code_is_replaced_and_audited(client, world, system_session):
    from shiyu.core.audit import AuditEntry

    user = _pending_user(system_session, world, "AAAA-BBBB-CCCC")
    csrf = log_in(client, "admin")
    page = client.get(f"/admin/users/{user.id}").text
    assert 'id="reissue"' in page
    assert 'id="reissue"' not in client.get(f"/admin/users/{world.users['worker_a1'].id}").text
    r = client.post(f"/admin/users/{user.id}/activation-code", headers=hx(csrf))
    assert r.status_code == 200 and "已生成新激活码" in r.text
    code = re.search(r'id="new-code">([A-Z0-9-]+)<', r.text).group(1)
    old = client.post("/api/v1/auth/activate", json={"username": "sy00000001", "code": "AAAA-BBBB-CCCC",
                                                     "new_password": "Gr1d-worker-pass"})
    assert old.status_code == 401
    new = client.post("/api/v1/auth/activate", json={"username": "sy00000001", "code": code,
                                                     "new_password": "Gr1d-worker-pass"})
    assert new.status_code == 200, new.text
    system_session.expire_all()
    assert system_session.scalar(select(AuditEntry.id).where(AuditEntry.action == "reissue_code",
                                                              AuditEntry.object_id == str(user.id))) is not None
    # Activated: no more codes for it.
    r = client.post(f"/admin/users/{user.id}/activation-code", headers=hx(csrf))
    assert r.status_code == 409 and "不需要激活码" in r.text


def test_reissue_is_scoped(client, world, system_session):
    from tests.factories import login as api_login

    user = _pending_user(system_session, world, "AAAA-BBBB-CCCC")
    r = client.post(f"/api/v1/users/{user.id}/activation-code", headers=api_login(client, "leader_b"))
    assert r.status_code in (403, 404) and "sy00000001" not in r.text
    r = client.post(f"/api/v1/users/{user.id}/activation-code", headers=api_login(client, "admin"))
    assert r.status_code == 200 and r.json()["username"] == "sy00000001"


def test_departments_are_imported_from_a_file_after_a_dry_run(client, world, system_session, tmp_path):
    from shiyu.core.tabular import Table, write_table
    from shiyu.org.units.models import Department

    path = tmp_path / "部门.xlsx"
    rows = [["D-water", "甲社区水务站", world.community_a.code, "事件", ""],
            ["D-park", "甲社区园林站", world.community_a.code, "部件", ""]]
    columns = ["部门编码", "部门名称", "区域编码", "类别", "电话"]
    write_table(path, Table(columns, rows + [["D-x", "无名", "999", "", ""]]))
    csrf = log_in(client, "admin")
    assert "批量导入职能部门" in client.get("/admin/units/import").text
    r = client.post("/admin/units/import?lang=zh", data={"kind": "departments", "csrf_token": csrf},
                    files={"file": ("部门.xlsx", path.read_bytes(), "application/octet-stream")})
    assert r.status_code == 200 and "共 3 行：2 行可导入，1 行有问题" in r.text and "未知区域编码" in r.text
    assert 'id="confirm-import"' not in r.text
    write_table(path, Table(["部门编码", "部门名称", "区域编码", "类别", "电话"], rows))
    r = client.post("/admin/units/import", data={"kind": "departments", "csrf_token": csrf},
                    files={"file": ("部门.xlsx", path.read_bytes(), "application/octet-stream")})
    assert 'id="confirm-import"' in r.text
    before = system_session.scalar(select(func.count()).select_from(Department))
    kept = re.search(r'name="rows" value="([^"]*)"', r.text).group(1)
    rows_json = html.unescape(kept)
    r = client.post("/admin/units/import/confirm", data={"kind": "departments", "rows": rows_json,
                                                          "csrf_token": csrf})
    assert r.status_code == 200 and "已导入 2 个职能部门" in r.text
    assert system_session.scalar(select(func.count()).select_from(Department)) == before + 2
    # The same rows again: refused as a whole (codes taken), nothing written.
    r = client.post("/admin/units/import/confirm", data={"kind": "departments", "rows": rows_json,
                                                          "csrf_token": csrf})
    assert r.status_code == 422 and "有 2 行存在问题，未导入任何数据" in r.text
    assert system_session.scalar(select(func.count()).select_from(Department)) == before + 2
    csrf = log_in(client, "leader_b")
    r = client.post("/admin/units/import/confirm", data={"kind": "departments", "rows": rows_json.replace(
        "D-water", "D-w2").replace("D-park", "D-p2"), "csrf_token": csrf})
    assert r.status_code in (403, 422) and "已导入" not in r.text


def test_the_administrators_home_is_a_setup_checklist_ticked_from_the_database(client, world):
    from shiyu.core.timeutil import utcnow

    def ticks(text: str) -> dict[str, bool]:
        return {key: f'class="done" id="setup-{key}"' in text for key in re.findall(r'id="setup-(\w+)"', text)
                if key not in ("title", "summary")}

    csrf = log_in(client, "admin")
    page = client.get("/?lang=zh").text
    assert "开通检查清单" in page and "已完成 6/8 项" in page
    assert ticks(page) == {"city": True, "grids": True, "centres": True, "departments": True, "categories": True,
                           "calendar": False, "users": True, "routed": False}
    assert 'href="/admin/units/import?kind=departments"' in page
    year = utcnow().year
    client.post("/admin/calendar/import", data={"year": str(year), "text": "元旦：1月1日放假。", "dry_run": "0"},
                headers=hx(csrf))
    assert ticks(client.get("/").text)["calendar"]
    # A community's administrator sets up nothing city-wide: no checklist.
    log_in(client, "admin_a")
    assert 'id="setup"' not in client.get("/").text
