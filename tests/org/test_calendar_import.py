"""Loading a year's 放假安排: the notice's lines as published, CSV and JSON; a dry run that counts what
would change; the CLI (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from shiyu.core.errors import Forbidden, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.org.calendar import notice, service
from shiyu.org.calendar.models import DayKind
from shiyu.org.calendar.seed import CHINA_2026
from tests.factories import add_user, populated
from tests.security.test_first_admin import shiyu  # noqa: F401  (the `shiyu …` command runner)

SYSTEM = Principal.system("test")
# 国务院办公厅关于2026年部分节假日安排的通知, as published.
NOTICE_2026 = """一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
"""


def _as_tuples(ranges) -> set[tuple[str, str, DayKind]]:
    return {(r.start.isoformat(), r.end.isoformat(), r.kind) for r in ranges}


def test_the_notice_as_published_gives_the_seeded_2026_calendar():
    parsed = notice.parse(NOTICE_2026, 2026)
    assert parsed.format == "notice" and parsed.year == 2026
    assert _as_tuples(parsed.ranges) == {(s, e, k) for s, e, k, _zh, _en in CHINA_2026}
    spring = next(r for r in parsed.ranges if r.name_zh == "春节")
    assert spring.name_en == "Spring Festival"
    assert next(r for r in parsed.ranges if r.start == date(2026, 2, 28)).name_zh == "春节调休上班"


def test_notice_lines_with_years_across_months_and_joined_holidays():
    text = ("元旦：2025年1月1日（周三）放假，共1天。\n"
            "春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。\n"
            "\n八、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。")
    parsed = notice.parse(text, None)
    assert parsed.year == 2025
    assert ("2025-01-28", "2025-02-04", DayKind.HOLIDAY) in _as_tuples(parsed.ranges)
    joined = next(r for r in parsed.ranges if r.start == date(2025, 10, 1))
    assert (joined.end, joined.name_zh, joined.name_en) == (date(2025, 10, 8), "国庆节、中秋节",
                                                           "National Day and Mid-Autumn Festival")


def test_csv_and_json():
    csv_text = ("start,end,kind,name_zh,name_en\n2027-01-01,2027-01-03,holiday,元旦,New Year\n"
                "2027-01-04,,上班,元旦调休上班,\n")
    parsed = notice.parse(csv_text, None)
    assert parsed.format == "csv" and parsed.year == 2027
    assert _as_tuples(parsed.ranges) == {("2027-01-01", "2027-01-03", DayKind.HOLIDAY),
                                         ("2027-01-04", "2027-01-04", DayKind.WORKDAY)}
    parsed = notice.parse('{"year": 2027, "ranges": [{"start": "2027-05-01", "end": "2027-05-05", '
                          '"kind": "holiday", "name_zh": "劳动节"}]}', None)
    assert parsed.format == "json" and parsed.ranges[0].end == date(2027, 5, 5)


@pytest.mark.parametrize("text, code, words", [
    ("元旦 1月1日放假", "calendar_line_invalid", "第 1 行"),
    ("元旦：1月1日放假。\n春节：放假调休。", "calendar_line_invalid", "第 2 行"),
    ("元旦：2月30日放假。", "calendar_line_invalid", "日期 2月30日 不存在"),
    ("start,end,kind\n2027-13-01,,holiday", "calendar_line_invalid", "第 2 行"),
    ("[" * 100_000, "calendar_line_invalid", "不是有效的 JSON"),
    ("   ", "calendar_file_empty", "没有可读取的内容"),
])
def test_bad_files_name_their_line(text, code, words):
    with pytest.raises(ValidationFailed) as err:
        notice.parse(text, 2026)
    assert err.value.code == code and words in err.value.message("zh")


def test_a_dry_run_counts_and_writes_nothing_then_the_import_replaces_the_year(system_session):
    s = system_session
    parsed = notice.parse(NOTICE_2026, 2026)
    service.replace_year(s, SYSTEM, 2026, [parsed.ranges[0]] + [
        service.DayRange(start=date(2026, 3, 2), kind=DayKind.HOLIDAY, name_zh="旧的安排")])
    dry = service.import_year(s, SYSTEM, 2026, parsed.ranges, dry_run=True)
    assert (dry.changed, dry.removed) == (len(service._expand(s, 2026, parsed.ranges)) - 3, 1)
    assert len(service.year_ranges(s, 2026)) == 2
    done = service.import_year(s, SYSTEM, 2026, parsed.ranges, dry_run=False)
    assert not done.dry_run and _as_tuples(service.year_ranges(s, 2026)) == _as_tuples(parsed.ranges)
    # Read back in another year, it is refused (a date outside the year), as a make-up day on a weekday is.
    with pytest.raises(ValidationFailed):
        service.import_year(s, SYSTEM, 2027, parsed.ranges, dry_run=True)


def test_only_a_citywide_editor_imports(system_session):
    w = populated(system_session)
    from shiyu.org.identity.service import principal_for

    local = principal_for(add_user(system_session, "admin_a", w.community_a, [("admin", w.community_a)]))
    with pytest.raises(Forbidden):
        service.import_year(system_session, local, 2026, notice.parse(NOTICE_2026, 2026).ranges, dry_run=True)


def test_the_cli_imports_the_notice(shiyu, system_session, tmp_path):  # noqa: F811
    path = tmp_path / "2026放假安排.txt"
    path.write_text(NOTICE_2026, encoding="utf-8")
    code, out, err = shiyu("calendar", "import", str(path), "--year", "2026", "--dry-run")
    assert code == 0, err
    assert "2026-02-15 – 2026-02-23  放假  春节" in out and "可导入（未写入）" in out
    code, out, err = shiyu("calendar", "import", str(path), "--year", "2026")
    assert code == 0 and "已写入" in out, err
    bad = tmp_path / "bad.txt"
    bad.write_text("元旦：放假。", encoding="utf-8")
    code, _, err = shiyu("calendar", "import", str(bad), "--year", "2026")
    assert code == 2 and "第 1 行" in err
