"""Weekly and monthly reports against the hand-computed indicator world (tests/cases/test_indicators.py): the
figures in the workbook's cells and the document's text, 环比 against the period before, the overdue and hot
sections, periods, scope, the command line and the Monday filing job."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timedelta

import pytest
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from shiyu.cases.indicators import facts, service
from shiyu.core.errors import Forbidden, NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.storage import LocalStorage
from shiyu.org.identity.service import principal_for
from shiyu.reports import charts, data, excel, export, filing, periods, word
from shiyu.reports.periods import Kind
from shiyu.triage.hot.models import HotIssue
from tests.cases.indicator_fixtures import SH, indicator_world, local, march_cases
from tests.cases.test_indicators import CITY, COMMUNITY_A

MARCH = periods.parse(Kind.MONTHLY, "2026-03")
W11 = periods.parse(Kind.WEEKLY, "2026-W11")  # 9..15 March: every March case but c12 (the 31st)
NOW = local(2026, 4, 2, 10, 0)
CITY_CODE, COMMUNITY_A_CODE = "359900000000", "359901001001"


@pytest.fixture
def world(system_session, factory):
    w = indicator_world(system_session)
    cases = march_cases(system_session, w)
    # 超期督办: c6 is red (its handle step overdue since 12 March), c11 is supervised and yellow.
    cases["c6"].step_alert, cases["c6"].step_due_at = 2, local(2026, 3, 12, 9, 0)
    cases["c11"].supervised, cases["c11"].step_alert = True, 1
    system_session.add(HotIssue(place_area_id=w.community_a.id, area_path=w.community_a.area_path,
                                title="甲社区垃圾堆放反复出现", category_id=w.extra["rubbish"].id, size=4, reporters=3,
                                heat=3.2, growth=0.5, period_start=local(2026, 3, 8, 9, 0),
                                period_end=local(2026, 3, 20, 9, 0)))
    system_session.add(HotIssue(place_area_id=w.community_a.id, area_path=w.community_a.area_path, title="去年的热点",
                                size=3, reporters=3, heat=9.0, period_start=local(2025, 6, 1, 9, 0),
                                period_end=local(2025, 6, 20, 9, 0)))
    system_session.commit()
    facts.rebuild(factory, SH, date(2026, 2, 1), date(2026, 4, 30))
    w.extra["cases"] = cases
    return w


def city_report(session, period=MARCH, code=CITY_CODE, principal=None):
    principal = principal or Principal.system("test")
    session.info["principal"] = principal
    return data.build(session, principal, SH, code, period, now=NOW)


def rows_of(ws) -> dict[str, list]:
    """The rows of a sheet keyed by their first cell."""
    return {str(r[0]): list(r) for r in ws.iter_rows(values_only=True) if r and r[0] is not None}


# -- periods ------------------------------------------------------------------------------------------------


def test_periods_parse_and_step_back():
    assert (W11.start, W11.end, W11.label) == (date(2026, 3, 9), date(2026, 3, 15), "2026-W11")
    first = periods.parse(Kind.WEEKLY, "2026-w01")
    assert first.start == date(2025, 12, 29) and first.previous().label == "2025-W52"
    assert periods.parse(Kind.WEEKLY, "2026-W53").label == "2026-W53"  # 2026 has 53 ISO weeks
    january = periods.parse(Kind.MONTHLY, "2026-01")
    assert january.previous() == periods.parse(Kind.MONTHLY, "2025-12")
    assert periods.parse(Kind.MONTHLY, "2026-02").end == date(2026, 2, 28)
    assert periods.last_complete(Kind.WEEKLY, date(2026, 3, 16)).label == "2026-W11"
    for kind, text in ((Kind.WEEKLY, "2026-W54"), (Kind.WEEKLY, "2027-W53"), (Kind.WEEKLY, "2026-48"),
                       (Kind.WEEKLY, ""), (Kind.MONTHLY, "2026-13"), (Kind.MONTHLY, "2026/11"),
                       (Kind.MONTHLY, "1999-01")):
        with pytest.raises(ValidationFailed) as err:
            periods.parse(kind, text)
        assert ("YYYY-Www" if kind is Kind.WEEKLY else "YYYY-MM") in err.value.zh


def test_format_is_chosen_by_suffix():
    assert export.format_of("out/report.DOCX").suffix == "docx"
    assert export.format_of("r.xlsx").suffix == "xlsx"
    for bad in ("r.pdf", "report", ""):
        with pytest.raises(ValidationFailed) as err:
            export.format_of(bad)
        assert ".xlsx" in err.value.zh


# -- the figures ------------------------------------------------------------------------------------------


def test_monthly_figures_are_the_indicator_figures_with_month_on_month_change(system_session, world):
    report = city_report(system_session)
    assert {f.name: (f.numerator, f.denominator) for f in report.figures} == CITY
    q = service.resolve(system_session, Principal.system(), SH, start=MARCH.start, end=MARCH.end)
    assert report.totals == service.totals(system_session, q)
    assert report.figure("closure_rate").value == pytest.approx(5 / 7)
    # February holds one case, reported and not yet registered: 12 against 1 is +1100 %; no rates to compare.
    assert report.figure("reported").previous == 1 and report.figure("reported").change == pytest.approx(11.0)
    assert report.figure("closure_rate").previous is None and report.figure("closure_rate").change is None
    assert "共上报案件12件（上月1件，环比+1100.0%）" in report.summary and "结案率71.4%" in report.summary

    wb = load_workbook(io.BytesIO(excel.write(report)))
    # the system sees all
    assert wb.sheetnames == [*data.SECTIONS, "矛盾纠纷化解", "信访工作", "重点人员管控", "重点人员集中清查"]
    figures = rows_of(wb["评价指标"])
    assert figures["结案率"][2:5] == [5, 7, pytest.approx(5 / 7)]
    assert figures["按期结案率"][2:5] == [4, 7, pytest.approx(4 / 7)]
    assert figures["满意率"][2:5] == [3, 4, pytest.approx(0.75)]
    assert figures["超期案件数"][2:5] == [3, 9, pytest.approx(3 / 9)]
    assert figures["上报数"][2:7] == [12, None, 12, 1, pytest.approx(11.0)]
    assert wb["评价指标"].cell(row=3, column=5).number_format in ("0", "0.0%")
    overview = rows_of(wb["总体情况"])
    assert overview["上报数"][1:3] == [12, 1] and overview["结案数"][1:3] == [5, 0]
    categories = rows_of(wb["分类统计"])
    assert categories["I01"][1:6] == ["市容环境", 12, 1.0, 1, pytest.approx(11.0)]
    ranked = [r for r in wb["区域排名"].iter_rows(values_only=True) if r and isinstance(r[0], int)]
    assert ranked[0][2:4] == ("东区", pytest.approx(report.score))  # the city's one district carries its score
    assert {r[2] for r in ranked[1:]} == {"甲社区物业办", "乙社区物业办"}


def test_weekly_figures_and_docx_text(system_session, world):
    report = city_report(system_session, W11)
    assert {f.name: (f.numerator, f.denominator) for f in report.figures} == COMMUNITY_A  # c12 is in week 14
    assert report.previous.label == "2026-W10" and report.previous_totals["reported"] == 0
    assert [n for _, n in report.daily] == [0, 11, 0, 0, 0, 0, 0]
    doc = Document(io.BytesIO(word.write(report)))
    text = "\n".join(p.text for p in doc.paragraphs)
    for n, section in enumerate(("总体情况", "GB/T 30428 评价指标", "分类统计", "区域排名", "超期督办", "热点问题")):
        assert f"{'一二三四五六'[n]}、{section}" in text
    assert "测试市社会治理周报 2026年第11周（3月9日—3月15日）" in text
    assert "共上报案件11件（上周0件，环比—）" in text
    cells = [[c.text for c in r.cells] for t in doc.tables for r in t.rows]
    assert ["结案率", "结案数 ÷ 应结案数", "4", "6", "66.7%", "—", "—"] in cells
    assert ["市容环境", "11", "100.0%", "0", "—", "4", "66.7%", "50.0%", "3"] in cells
    assert any(row[:2] == ["1", "东区"] for row in cells)


def test_docx_charts_are_pictures_with_chinese(system_session, world):
    content = word.write(city_report(system_session))
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        pictures = [n for n in z.namelist() if n.startswith("word/media/")]
        assert len(pictures) == 3  # daily, categories, areas
        for name in pictures:
            image = Image.open(io.BytesIO(z.read(name)))
            assert image.format == "PNG" and image.width > 800
    assert charts.cjk_family().startswith(("Noto", "Source", "WenQuanYi", "Microsoft", "SimHei", "PingFang"))


def test_a_cjk_font_installed_after_matplotlib_listed_the_fonts_is_found(monkeypatch):
    """Matplotlib caches its list of the system's fonts: a font package installed after that list was made (on
    a fresh machine, the fonts after the first report) must still be found, not answered with FontMissing."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    charts.cjk_family()  # whatever this machine's cache holds, the CJK files are listed now
    cjk_files = {f.fname for f in manager.ttflist if f.name in charts.CJK_FAMILIES}
    # A list made before the fonts package came: none of its files (every face of a collection) in it.
    monkeypatch.setattr(manager, "ttflist", [f for f in manager.ttflist if f.fname not in cjk_files])
    assert charts.cjk_family() in charts.CJK_FAMILIES


def test_missing_cjk_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(charts, "CJK_FAMILIES", ("No Such Font",))
    with pytest.raises(charts.FontMissing) as err:
        charts.cjk_family()
    assert "fonts-noto-cjk" in err.value.zh


def test_overdue_and_hot_sections(system_session, world):
    report = city_report(system_session)
    cases = world.extra["cases"]
    assert (report.overdue_open, report.yellow_open, report.supervised_open) == (1, 1, 1)
    assert [r.tracking_code for r in report.overdue_cases] == [cases["c6"].tracking_code, cases["c11"].tracking_code]
    first = report.overdue_cases[0]
    assert first.department == "甲社区物业办" and first.state == "处置中" and first.place == "甲社区第二网格"
    assert first.overdue_days == pytest.approx((NOW - local(2026, 3, 12, 9, 0)).total_seconds() / 86400, abs=0.1)
    assert report.overdue_cases[1].supervised
    assert [h.title for h in report.hot] == ["甲社区垃圾堆放反复出现"]  # last year's issue is outside March
    assert report.hot[0].place == "甲社区" and report.hot[0].category == "暴露垃圾"
    wb = load_workbook(io.BytesIO(excel.write(report)))
    overdue = rows_of(wb["超期督办"])
    assert overdue["当前超期（红灯）"][1] == 1 and overdue["督办中"][1] == 1
    assert overdue[cases["c6"].tracking_code][3] == "甲社区物业办"
    assert rows_of(wb["热点问题"])["甲社区垃圾堆放反复出现"][3] == 4


# -- scope ----------------------------------------------------------------------------------------------------


def test_reports_follow_the_callers_grants(system_session, world):
    leader_a = principal_for(world.users["leader_a"])
    report = city_report(system_session, W11, COMMUNITY_A_CODE, leader_a)
    assert report.area_name == "甲社区" and report.totals["reported"] == 11
    assert {r.name for r in report.areas} == {"甲社区第一网格", "甲社区第二网格"}
    with pytest.raises(Forbidden) as err:
        city_report(system_session, W11, "359901001002", leader_a)  # community B
    assert "乙社区" in err.value.zh and "统计权限" in err.value.zh
    with pytest.raises(NotFound) as err:
        city_report(system_session, W11, "123456789012", leader_a)
    assert "123456789012" in err.value.zh
    handler = principal_for(world.users["handler_a"])  # a department's figures, no area grant
    with pytest.raises(Forbidden):
        city_report(system_session, W11, COMMUNITY_A_CODE, handler)


# -- the command line ---------------------------------------------------------------------------------------


def run_cli(monkeypatch, settings, *argv: str) -> int:
    from shiyu.cli import build_parser

    monkeypatch.setenv("SHIYU_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SHIYU_DEMO_MODE", "1")
    monkeypatch.setenv("SHIYU_PII_KEYS", settings.pii_keys)
    monkeypatch.setenv("SHIYU_SECRET_KEY", settings.secret_key)
    args = build_parser().parse_args(list(argv))
    return args.handler(args)


def test_cli_writes_both_formats_and_refuses_clearly(world, settings, tmp_path, monkeypatch, capsys):
    out = tmp_path / "w11.xlsx"
    assert run_cli(monkeypatch, settings, "report", "weekly", "--area", CITY_CODE, "--week", "2026-W11",
                   "--out", str(out)) == 0
    assert "已生成" in capsys.readouterr().out
    assert rows_of(load_workbook(out)["评价指标"])["结案率"][2:4] == [4, 6]
    doc = tmp_path / "m03.docx"
    assert run_cli(monkeypatch, settings, "report", "monthly", "--area", COMMUNITY_A_CODE, "--month", "2026-03",
                   "--out", str(doc), "--user", "leader_a") == 0
    assert "甲社区社会治理月报 2026年3月" in Document(str(doc)).paragraphs[0].text
    capsys.readouterr()
    for argv, message in (
        (("weekly", "--area", "999999999999", "--week", "2026-W11", "--out", str(out)), "没有区划代码为“999999999999”"),
        (("weekly", "--area", CITY_CODE, "--week", "2026-11", "--out", str(out)), "YYYY-Www"),
        (("monthly", "--area", CITY_CODE, "--month", "2026-W11", "--out", str(out)), "YYYY-MM"),
        (("weekly", "--area", CITY_CODE, "--out", str(tmp_path / "r.pdf")), ".xlsx 或 .docx"),
        (("weekly", "--area", "359901001002", "--out", str(out), "--user", "leader_a"), "统计权限"),
        (("weekly", "--area", CITY_CODE, "--out", str(out), "--user", "nobody_here"), "没有启用的用户"),
        (("weekly", "--area", CITY_CODE, "--out", str(tmp_path / "missing" / "r.docx")), "目录不存在"),
    ):
        assert run_cli(monkeypatch, settings, "report", *argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)


# -- the Monday job ---------------------------------------------------------------------------------------------


def test_due_week_starts_monday_seven_in_the_citys_zone():
    monday = datetime(2026, 3, 16, 6, 59, tzinfo=SH)
    assert filing.due_week(monday, SH) is None
    assert filing.due_week(monday + timedelta(minutes=1), SH).label == "2026-W11"
    assert filing.due_week(datetime(2026, 3, 22, 23, 0, tzinfo=SH), SH).label == "2026-W11"  # Sunday: still W11
    assert filing.due_week(datetime(2026, 3, 16, 0, 0, tzinfo=SH), SH) is None  # 16:00 UTC on Sunday


def test_filing_job_files_each_centre_once(system_session, world, factory, settings):
    storage = LocalStorage(settings.storage_dir)
    now = datetime(2026, 3, 16, 7, 5, tzinfo=SH)
    assert filing.file_due(factory, storage, SH, now=now - timedelta(minutes=10)) == 0  # before 07:00
    assert filing.file_due(factory, storage, SH, now=now) == 10  # five centres × docx and xlsx
    assert filing.file_due(factory, storage, SH, now=now + timedelta(hours=1)) == 0  # idempotent
    system_session.info["principal"] = Principal.system("test")
    rows = filing.listed(system_session)
    assert len(rows) == 10 and {r.period for r in rows} == {"2026-W11"}
    city_xlsx = next(r for r in rows if r.area_path == world.city.area_path and r.format == "xlsx")
    assert city_xlsx.file_name == "测试市周报_2026-W11.xlsx"
    assert rows_of(load_workbook(io.BytesIO(storage.get(city_xlsx.storage_key)))["评价指标"])["结案率"][2:4] == [4, 6]
    # A file lost from storage is not refiled behind the row's back, but a missing row is.
    system_session.delete(city_xlsx)
    system_session.commit()
    assert filing.file_due(factory, storage, SH, now=now + timedelta(hours=2)) == 1
    system_session.expire_all()
    leader_a = principal_for(world.users["leader_a"])
    system_session.info["principal"] = leader_a
    system_session.info.pop("_scope_options", None)
    assert {r.area_path for r in filing.listed(system_session)} == {world.community_a.area_path}
