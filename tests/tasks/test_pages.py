"""The task pages: a department proposes through the admitted list, the same-level centre leader admits, the
operator sends a campaign with the wizard, follows it by area down to a grid and reviews; the grid worker's
field tab shows the item with its form and due mark. Another community's campaign is a 404 page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.tasks import service
from shiyu.tasks.models import Assignment, TaskType, WorkItem
from tests.factories import populated
from tests.tasks.task_fixtures import scope_matrix_extra
from tests.web.test_pages import hx, log_in


def _propose(client, w) -> None:
    csrf = log_in(client, "handler_a")
    assert client.get("/tasks/types").status_code == 200
    r = client.post("/tasks/types", headers=hx(csrf), data={
        "department_id": str(w.departments["a"].id), "name": "出租房屋检查", "code": "rental.inspect",
        "legal_basis": "《商品房屋租赁管理办法》", "cycle_days": "90",
        "f0_label": "租住人数", "f0_name": "tenants", "f0_type": "number", "f0_required": "1",
        "f1_label": "消防隐患", "f1_name": "hazards", "f1_type": "multichoice", "f1_options": "通道堵塞，电线私拉",
        "f2_label": "现场照片", "f2_name": "photo", "f2_type": "photo"})
    assert r.status_code == 200 and r.headers["HX-Redirect"] == "/tasks/types", r.text[:500]


def test_propose_admit_assign_and_follow(client, system_session, factory):
    w = populated(system_session)
    _propose(client, w)
    with factory() as s:
        s.info["principal"] = Principal.system()
        proposed = s.scalar(select(TaskType).where(TaskType.code == "rental.inspect"))
        assert proposed.status == "proposed"
        assert [f["type"] for f in proposed.form] == ["number", "multichoice", "photo"]
        assert proposed.form[1]["options"] == ["通道堵塞", "电线私拉"]
    csrf = log_in(client, "leader_a")
    page = client.get("/tasks/types")
    assert f'action="/tasks/types/{proposed.id}/decision"' in page.text
    r = client.post(f"/tasks/types/{proposed.id}/decision", data={"decision": "admit"}, headers=hx(csrf))
    assert r.status_code == 200, r.text[:300]

    csrf = log_in(client, "operator_a")
    wizard = client.get("/tasks/new")
    assert wizard.status_code == 200 and "甲社区第一网格" in wizard.text and "乙社区" not in wizard.text
    due = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%d")
    refused = client.post("/tasks/new", headers=hx(csrf), data={"type_code": "rental.inspect", "title": "检查",
                                                                 "due_date": due})
    assert refused.status_code == 422 and "请选择派发的网格或对象" in refused.text
    r = client.post("/tasks/new", headers=hx(csrf), data={
        "type_code": "rental.inspect", "title": "出租房屋专项检查", "due_date": due,
        "grid_ids": [str(w.grids["a1"].id), str(w.grids["a2"].id)]})
    assert r.status_code == 200 and r.headers["HX-Redirect"].startswith("/tasks/assignments/"), r.text[:300]
    url = r.headers["HX-Redirect"]
    listing = client.get("/tasks")
    assert "出租房屋专项检查" in listing.text
    progress = client.get(url)
    assert progress.status_code == 200 and "甲社区第一网格" in progress.text and "0/2" in progress.text

    log_in(client, "worker_a1")
    field = client.get("/field/tasks")
    assert field.status_code == 200 and "出租房屋专项检查" in field.text and 'data-type="multichoice"' in field.text
    with factory() as s:
        s.info["principal"] = Principal.system()
        item = s.scalar(select(WorkItem).where(WorkItem.grid_id == w.grids["a1"].id))
        service.act(s, Principal.system(), item.id, "submit", data={"tenants": 4, "hazards": ["电线私拉"]})
        s.commit()
    csrf = log_in(client, "operator_a")
    grid = client.get(f"{url}?area={w.grids['a1'].id}")
    assert "电线私拉" in grid.text and f'action="/tasks/items/{item.id}/review"' in grid.text
    r = client.post(f"/tasks/items/{item.id}/review", data={"back": url}, headers=hx(csrf))
    assert r.status_code == 200 and r.headers["HX-Redirect"] == url
    assert "1/2" in client.get(url).text


def test_an_overdue_item_is_marked_red_on_the_field_tab(client, system_session):
    w = populated(system_session)
    s = system_session
    service.ensure_system_type(s, "visit", "走访", [{"name": "note", "label": "情况", "type": "text"}])
    service.open_item(s, type_code="visit", target=service.TargetRef("grid", None, w.grids["a1"].id, "网格走访"),
                      due_at=utcnow() - timedelta(hours=1), source_ref="visit:1")
    service.open_item(s, type_code="visit", target=service.TargetRef("grid", None, w.grids["a1"].id, "明日走访"),
                      due_at=utcnow() + timedelta(hours=5), source_ref="visit:2")
    s.commit()
    log_in(client, "worker_a1")
    text = client.get("/field/tasks").text
    assert text.index("网格走访") < text.index("明日走访")  # soonest due first
    assert 'deadline-red' in text and 'deadline-yellow' in text
    home = client.get("/").text  # the home page's to-do list counts them, the overdue one first and marked
    assert home.index("已超期的任务") < home.index("待办任务")
    assert '<li class="urgent"><a href="/field/tasks"><span>已超期的任务</span><b class="count">1</b>' in home
    assert '<a href="/field/tasks"><span>待办任务</span><b class="count">1</b>' in home


def test_another_communitys_campaign_is_not_found(client, system_session):
    w = populated(system_session)
    extra = scope_matrix_extra(system_session, w)
    system_session.commit()
    log_in(client, "operator_a")
    r = client.get(f"/tasks/assignments/{extra['assignment_b']}")
    assert r.status_code == 404 and "乙社区" not in r.text
    assert "乙社区" not in client.get("/tasks").text and "乙社区" not in client.get("/tasks/types").text
    assert system_session.get(Assignment, extra["assignment_b"]) is not None  # it does exist
