"""The desk's search box and the 辖区案件 list through TestClient: a tracking code typed any way opens its case,
a phone (whole or last 4) and words find the caller's cases only, a phone search is audited; the list filters
(empty = all, bad values = the page with a Chinese message), sorts, saves filters per user, and exports the
rows it shows as Excel. The API's search answers the same, in scope."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from shiyu.cases import search
from shiyu.core.audit import AuditEntry
from shiyu.core.paging import PageParams
from shiyu.core.scoping import Principal
from tests.cases.case_fixtures import case_world, principal, report, scope_matrix_extra
from tests.factories import World
from tests.web.test_pages import log_in

PHONE = "13912345678"


@pytest.fixture
def world(system_session) -> World:
    w = case_world(system_session)
    found = report(system_session, w, address="南华路18号", reporter={"name": "王五", "phone": PHONE})
    w.extra["case"], w.extra["code"] = found.case.id, found.case.tracking_code
    other = report(system_session, w).case
    system_session.info["principal"] = Principal.system("test")
    other.description = "小区路灯不亮，晚上很黑"  # a change of the text is searchable at once
    w.extra["other"] = other.id
    system_session.commit()
    w.extra.update(scope_matrix_extra(system_session, w))
    system_session.commit()
    return w


@pytest.mark.parametrize(("typed", "kind"), [
    ("2612 ab3c-def4 56", "code"), ("2612AB3CDEF456", "code"), ("5678", "phone_tail"),
    ("139 1234 5678", "phone"), ("+86-139-1234-5678", "phone"), ("路灯", "text"), ("12345", "text"),
])
def test_what_was_typed_decides_the_search(typed, kind):
    assert search.read(typed).kind == kind


def test_a_tracking_code_typed_any_way_opens_the_case(client, world):
    log_in(client, "operator_a")
    code = world.extra["code"]
    typed = f"{code[:4]} {code[4:9].lower()}-{code[9:]}"
    r = client.get("/desk", params={"q": typed}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/desk/cases/{world.extra['case']}"
    # B's code is not found from community A: the page says nothing was found.
    r = client.get("/desk", params={"q": world.extra["case_b_code"].lower()})
    assert r.status_code == 200 and "没有找到案件" in r.text


def test_phone_and_its_last_four_find_the_case_masked_and_audited(client, world, factory):
    log_in(client, "operator_a")
    for typed in ("5678", "139-1234-5678"):
        r = client.get("/desk", params={"q": typed})
        assert r.status_code == 200 and world.extra["code"] in r.text, typed
        assert "139****5678" in r.text and PHONE not in r.text
        assert client.get("/desk", params={"q": typed}).text.count("/desk/cases/") == 1
    assert "没有找到案件" in client.get("/desk", params={"q": "0000"}).text
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "case.search_phone")).all()
    assert {e.after["phone"] for e in entries} == {"****5678", "139****5678", "****0000"}
    assert PHONE not in str([e.after for e in entries])


def test_words_of_the_description_and_address_find_cases_in_scope_only(client, world):
    log_in(client, "operator_a")
    r = client.get("/desk", params={"q": "路灯"})
    assert f'href="/desk/cases/{world.extra["other"]}"' in r.text and "找到 1 件" in r.text
    r = client.get("/desk", params={"q": "南华路 18号"})
    assert f'href="/desk/cases/{world.extra["case"]}"' in r.text
    assert "没有找到案件" in client.get("/desk", params={"q": "乙社区"}).text
    empty = client.get("/desk", params={"q": "  "})
    assert empty.status_code == 422 and "请输入案件编号" in empty.text and 'id="desk-q"' in empty.text


def test_a_search_pages_through_its_matches_newest_first_and_counts_them(system_session, world, monkeypatch):
    """The page is a slice of the counted, sorted matches; past the counted ones the page query still answers."""
    more = [report(system_session, world, address=f"南华路{n}号").case.id for n in range(5)]
    system_session.info["principal"] = principal(system_session, world, "operator_a")
    newest_first = [*reversed(more), world.extra["case"]]
    first = search.search(system_session, "南华路", PageParams(limit=4, offset=0))
    second = search.search(system_session, "南华路", PageParams(limit=4, offset=4))
    assert [c.id for c in first.cases] == newest_first[:4] and [c.id for c in second.cases] == newest_first[4:]
    assert (first.total, first.capped, second.total) == (6, False, 6)
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    capped = search.search(system_session, "南华路", PageParams(limit=2, offset=2))
    assert [c.id for c in capped.cases] == newest_first[2:4] and (capped.total, capped.capped) == (3, True)


def test_area_list_filters_sorts_and_says_what_is_wrong(client, world):
    log_in(client, "operator_a")
    everything = client.get("/desk/area", params={"state": "", "category": "", "channel": "", "from": "",
                                                  "to": "", "overdue": "", "department": "", "area": ""})
    assert everything.status_code == 200
    assert world.extra["code"] in everything.text and world.extra["case_b_code"] not in everything.text
    assert everything.text.count('<a class="mono" href="/desk/cases/') == 2
    reported = client.get("/desk/area", params={"state": "reported", "channel": "grid", "sort": "code",
                                                 "dir": "asc"})
    assert reported.text.count('<a class="mono" href="/desk/cases/') == 2 and 'aria-sort="ascending"' in reported.text
    assert "没有符合条件的案件" in client.get("/desk/area", params={"state": "closed"}).text
    for params, message in (({"from": "yesterday"}, "开始日期应为日期"), ({"state": "nope"}, "状态选择有误"),
                            ({"from": "2026-12-05", "to": "2026-12-01"}, "结束日期不能早于开始日期"),
                            ({"category": "x"}, "类别选择有误")):
        r = client.get("/desk/area", params=params)
        assert r.status_code == 422 and message in r.text and "<form" in r.text, params


def test_export_holds_the_rows_shown(client, world):
    log_in(client, "operator_a")
    r = client.get("/desk/area/export.xlsx", params={"sort": "code", "dir": "asc"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("编号", "类别", "社区/网格", "来源", "状态", "当前部门", "剩余/超期", "紧急")
    page = client.get("/desk/area", params={"sort": "code", "dir": "asc"}).text
    shown = [line.split(">")[1].split("<")[0] for line in page.split('<a class="mono" href="/desk/cases/')[1:]]
    assert [row[0] for row in rows[1:]] == shown == sorted(shown) and len(shown) == 2
    assert rows[1][3] == "网格员上报" and rows[1][4] == "待受理" and world.extra["case_b_code"] not in str(rows)


def test_saved_filters_belong_to_their_user(client, world):
    csrf = log_in(client, "operator_a")
    r = client.post("/desk/area/filters", data={"csrf_token": csrf, "name": "待受理网格上报",
                                                "query": "state=reported&channel=grid&sort=code&offset=30"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/desk/area?state=reported&channel=grid"
    page = client.get("/desk/area").text
    assert "待受理网格上报" in page and 'href="/desk/area?state=reported&amp;channel=grid"' in page
    bad = client.post("/desk/area/filters", data={"csrf_token": csrf, "name": " ", "query": ""},
                      follow_redirects=True)
    assert "请给筛选条件起个名字" in bad.text
    log_in(client, "operator_s")
    assert "待受理网格上报" not in client.get("/desk/area").text


def test_api_search_is_scoped(client, world):
    from tests.factories import login

    headers = login(client, "operator_a")
    r = client.get("/api/v1/search/cases", params={"q": "5678"}, headers=headers)
    assert r.status_code == 200 and r.json()["kind"] == "phone_tail"
    assert [c["id"] for c in r.json()["items"]] == [world.extra["case"]]
    r = client.get("/api/v1/search/cases", params={"q": world.extra["case_b_code"]}, headers=headers)
    assert r.json()["items"] == [] and r.json()["kind"] == "code"
    assert client.get("/api/v1/search/cases", params={"q": ""}, headers=headers).status_code == 422
