"""The weekly report's sections beyond the case loop: 矛盾纠纷化解, 信访工作 and 重点人员管控, narrowed to the
report's area, in the DOCX and the XLSX, and only for a reader holding each domain's view permission."""

from __future__ import annotations

import io
from datetime import timedelta

from docx import Document
from openpyxl import load_workbook

from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.keypersons import census
from shiyu.org.identity.service import principal_for
from shiyu.registry.models import Person
from shiyu.reports import data, excel, periods, word
from shiyu.reports.periods import Kind
from tests.disputes.dispute_fixtures import make_dispute
from tests.factories import add_user
from tests.keypersons.kp_fixtures import opened, today, world
from tests.petitions.petition_fixtures import TZ, officers, register
from tests.registry.registry_fixtures import principal
from tests.web.test_pages import log_in

TITLES = ["矛盾纠纷化解", "信访工作", "重点人员管控", "重点人员集中清查"]


def _report(s, principal: Principal, code: str) -> data.Report:
    s.info["principal"] = principal
    return data.build(s, principal, TZ, code, periods.current(Kind.WEEKLY, today()))


def test_the_sections_count_the_area_and_follow_the_readers_permissions(system_session):
    s = system_session
    w = world(s)
    officers(s, w)
    make_dispute(s)  # community A
    register(s, w, "officer_a", w.community_a.id)
    register(s, w, "officer_b", w.community_b.id)  # another community: not in A's report
    opened(s, w, w.extra["a"]["persons"][0])  # a released prisoner in hand in grid a1
    analyst = add_user(s, "analyst_city", w.city, [("analyst", w.city)])
    leader = principal(s, w, "leader_a")
    s.info["principal"] = leader
    census.start_census(s, leader, w.community_a.id, utcnow() + timedelta(days=3))  # not answered yet
    s.info["principal"] = Principal.system("test")
    s.commit()

    report = _report(s, Principal.system("test"), w.community_a.code)
    by_title = {section.title: section for section in report.sections}
    assert list(by_title) == TITLES
    assert ["登记纠纷（件）", 1] in by_title["矛盾纠纷化解"].rows
    assert ["登记信访（件）", 1] in by_title["信访工作"].rows
    kp = by_title["重点人员管控"]
    assert kp.rows[0][:3] == ["刑满释放人员", 1, 1] and kp.rows[0][3] == "100.0%"
    assert kp.rows[-1][:3] == ["合计", 1, 1]
    name = s.get(Person, w.extra["a"]["persons"][0]).name
    assert name not in str(kp.rows)  # counts and rates only
    assert by_title["重点人员集中清查"].rows == [["甲社区第一网格", 1, 0, 0, "0.0%"], ["合计", 1, 0, 0, "0.0%"]]

    text = "\n".join(p.text for p in Document(io.BytesIO(word.write(report))).paragraphs)
    assert "七、矛盾纠纷化解" in text and "八、信访工作" in text and "九、重点人员管控" in text
    assert "十、重点人员集中清查" in text
    book = load_workbook(io.BytesIO(excel.write(report)))
    assert set(TITLES) <= set(book.sheetnames)
    assert list(next(r for r in book["重点人员管控"].iter_rows(values_only=True)
                                              if r[0] == "刑满释放人员"))[:3] == ["刑满释放人员", 1, 1]

    city = _report(s, principal_for(analyst), w.city.code)  # analysts see disputes; petitions, key persons: no
    assert [section.title for section in city.sections] == ["矛盾纠纷化解"]


def test_the_statistics_page_shows_the_sections_to_the_centre_leader(client, system_session):
    s = system_session
    w = world(s)
    make_dispute(s)
    opened(s, w, w.extra["a"]["persons"][0])
    s.commit()
    log_in(client, "leader_a")
    page = client.get("/analysis/statistics")
    assert page.status_code == 200
    for title in TITLES:
        assert f"<h2>{title}</h2>" in page.text
    assert "刑满释放人员" in page.text
    log_in(client, "worker_a1")  # a grid worker visits key persons but sees no key-person figures
    page = client.get("/analysis/statistics")
    assert page.status_code == 200 and "重点人员管控" not in page.text and "刑满释放人员" not in page.text


def test_the_statistics_page_speaks_the_readers_language(client, system_session):
    s = system_session
    w = world(s)
    opened(s, w, w.extra["a"]["persons"][0])
    s.commit()
    log_in(client, "leader_a")
    page = client.get("/analysis/statistics?lang=en").text
    assert "<h2>Key persons</h2>" in page and "Released prisoner" in page and "重点人员管控" not in page
