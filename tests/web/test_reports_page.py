"""The reports page: a leader sees only the areas they hold and exports their reports; another area, a bad week
or format answers the page with the reason (403/404/422), never a 500; filed reports are listed and
downloaded within scope only; people without indicator grants do not get the page."""

from __future__ import annotations

import io
from datetime import date, datetime
from urllib.parse import unquote

import pytest
from docx import Document
from openpyxl import load_workbook

from shiyu.cases.indicators import facts
from shiyu.core.scoping import Principal
from shiyu.core.storage import LocalStorage
from shiyu.reports import filing
from tests.cases.indicator_fixtures import SH, indicator_world, march_cases
from tests.factories import populated
from tests.web.test_pages import log_in

COMMUNITY_A, COMMUNITY_B = "359901001001", "359901001002"


@pytest.fixture
def world(system_session, factory):
    w = indicator_world(system_session)
    march_cases(system_session, w)
    facts.rebuild(factory, SH, date(2026, 3, 1), date(2026, 3, 31))
    return w


def test_page_lists_only_the_leaders_areas(client, world):
    log_in(client, "leader_a")
    r = client.get("/reports")
    assert r.status_code == 200
    assert f'value="{COMMUNITY_A}"' in r.text and f'value="{COMMUNITY_B}"' not in r.text
    assert "导出周报" in r.text and "导出月报" in r.text and "还没有归档的周报" in r.text
    assert 'href="/reports"' in client.get("/").text
    assert f'<option value="{COMMUNITY_A}" selected>' in client.get("/reports", params={"area": COMMUNITY_A}).text
    log_in(client, "admin")
    r = client.get("/reports")
    assert f'value="{COMMUNITY_B}"' in r.text and 'value="359900000000"' in r.text


def test_the_one_map_links_to_the_report_of_its_area(client, system_session):
    populated(system_session)  # (the indicator world's categories carry no time limits, which the map's legend needs)
    log_in(client, "leader_a")
    assert f'href="/reports?area={COMMUNITY_A}"' in client.get("/command").text


def test_export_downloads_the_report(client, world):
    log_in(client, "leader_a")
    r = client.get("/reports/export", params={"area": COMMUNITY_A, "kind": "monthly", "month": "2026-03",
                                              "format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert unquote(r.headers["content-disposition"]).endswith("甲社区月报_2026-03.xlsx")
    rows = {row[0]: row for row in load_workbook(io.BytesIO(r.content))["评价指标"].iter_rows(values_only=True)
            if row and row[0]}
    assert rows["结案率"][2:4] == (4, 6) and rows["上报数"][4] == 11
    r = client.get("/reports/export", params={"area": COMMUNITY_A, "kind": "weekly", "week": "2026-W11"})
    assert r.status_code == 200
    assert "甲社区社会治理周报 2026年第11周" in Document(io.BytesIO(r.content)).paragraphs[0].text


@pytest.mark.parametrize("params, status, message", [
    ({"area": COMMUNITY_B, "week": "2026-W11"}, 403, "统计权限"),
    ({"area": "359900000000", "week": "2026-W11"}, 403, "统计权限"),
    ({"area": "000000000000", "week": "2026-W11"}, 404, "没有区划代码"),
    ({"area": COMMUNITY_A, "week": "2026-11"}, 422, "YYYY-Www"),
    ({"area": COMMUNITY_A, "kind": "monthly", "month": "11/2026"}, 422, "YYYY-MM"),
    ({"area": COMMUNITY_A, "week": "2026-W11", "format": "pdf"}, 422, ".xlsx 或 .docx"),
    ({"area": "", "week": ""}, 422, "YYYY-Www"),
])
def test_bad_exports_answer_the_page_with_the_reason(client, world, params, status, message):
    log_in(client, "leader_a")
    r = client.get("/reports/export", params=params)
    assert r.status_code == status and r.headers["content-type"].startswith("text/html")
    assert message in r.text and 'role="alert"' in r.text


def test_filed_reports_are_listed_and_downloaded_within_scope(client, world, factory, settings, system_session):
    filing.file_due(factory, LocalStorage(settings.storage_dir), SH, now=datetime(2026, 3, 16, 8, 0, tzinfo=SH))
    system_session.info["principal"] = Principal.system("test")
    rows = {(r.area_path, r.format): r.id for r in filing.listed(system_session)}
    mine, theirs = rows[(world.community_a.area_path, "docx")], rows[(world.community_b.area_path, "docx")]
    log_in(client, "leader_a")
    page = client.get("/reports").text
    assert f'href="/reports/filed/{mine}"' in page and f'href="/reports/filed/{theirs}"' not in page
    assert "2026-W11" in page
    r = client.get(f"/reports/filed/{mine}")
    assert r.status_code == 200 and "甲社区" in Document(io.BytesIO(r.content)).paragraphs[0].text
    assert client.get(f"/reports/filed/{theirs}").status_code == 404
    assert client.get("/reports/filed/999999").status_code == 404


@pytest.mark.parametrize("username", ["handler_a", "worker_a1"])
def test_people_without_area_statistics_get_no_reports(client, world, username):
    log_in(client, username)
    r = client.get("/reports")
    if username == "handler_a":
        assert r.status_code == 403
        assert client.get("/reports/export", params={"area": COMMUNITY_A, "week": "2026-W11"}).status_code == 403
    else:  # a grid worker holds indicator.view over their grid only: a grid is not a centre's area
        assert r.status_code == 200 and f'value="{COMMUNITY_A}"' not in r.text
        assert client.get("/reports/export", params={"area": COMMUNITY_A, "week": "2026-W11"}).status_code == 403


def test_anonymous_is_sent_to_log_in(client, world):
    r = client.get("/reports/export", params={"area": COMMUNITY_A}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
