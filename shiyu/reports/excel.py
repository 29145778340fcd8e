"""A report as an Excel workbook: one sheet per section, numbers as numbers (rates as fractions shown as
percentages), so a leader's office can sort, sum and chart them further."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from shiyu.reports.data import SECTIONS, RankRow, Report

PERCENT = "0.0%"
HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
BOLD = Font(bold=True)


def append_table(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]],
           percent_columns: Sequence[int] = ()) -> None:
    """Append a table (header row in bold) below what the sheet holds; ``percent_columns`` are 0-based."""
    ws.append(list(header))
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = BOLD, HEAD_FILL
    for row in rows:
        ws.append(list(row))
        for index in percent_columns:
            ws.cell(ws.max_row, index + 1).number_format = PERCENT
    ws.append([])


def fit_widths(ws: Worksheet) -> None:
    for column in ws.columns:
        longest = max((len(str(c.value)) * (2 if any(ord(ch) > 127 for ch in str(c.value)) else 1)
                       for c in column if c.value is not None), default=8)
        ws.column_dimensions[get_column_letter(column[0].column)].width = min(max(longest + 2, 8), 60)


def _title(ws: Worksheet, text: str) -> None:
    ws.append([text])
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=14)


def _ranking(ws: Worksheet, rows: list[RankRow], what: str) -> None:
    append_table(ws, ["排名", "代码", what, "综合评价得分", "上期得分", "上报数", "结案率", "按期结案率", "超期率",
                "满意率"],
           [[r.rank, r.code, r.name, r.score, r.previous_score, r.reported, r.closure_rate, r.on_time_closure_rate,
             r.overdue_rate, r.satisfaction_rate] for r in rows], percent_columns=(6, 7, 8, 9))


def write(report: Report) -> bytes:
    wb = Workbook()
    overview = wb.active
    overview.title = SECTIONS[0]
    _title(overview, report.title)
    overview.append([f"区域：{report.area_name}（{report.area_code}，{report.area_level}）"])
    overview.append([f"统计期间：{report.period.start}至{report.period.end}；环比对照：{report.previous.start}至"
                     f"{report.previous.end}"])
    overview.append([f"生成时间：{report.generated_at:%Y-%m-%d %H:%M}"])
    overview.append([report.summary])
    overview.append([])
    reported, registered = report.figure("reported"), report.figure("registered")
    append_table(overview, ["项目", "本期", "上期", "环比"],
           [["上报数", reported.value, reported.previous, reported.change],
            ["立案数", registered.value, registered.previous, registered.change],
            ["结案数", report.totals["closed"], report.previous_totals["closed"], None],
            ["综合评价得分", report.score, report.previous_score, None]], percent_columns=(3,))

    gb = wb.create_sheet(SECTIONS[1])
    _title(gb, "GB/T 30428 评价指标（本期上报案件的现状；环比对照上期）")
    first = gb.max_row + 2  # the first figure's row, below the header
    append_table(gb, ["指标", "计算方法", "分子", "分母", "本期", "上期", "环比（比率为百分点，计数为百分比）"],
           [[f.label, f.formula, f.numerator, f.denominator, f.value, f.previous, f.change] for f in report.figures])
    for offset, f in enumerate(report.figures):
        row = first + offset
        fmt = PERCENT if f.is_rate else "0"
        gb.cell(row, 5).number_format = fmt
        gb.cell(row, 6).number_format = fmt
        gb.cell(row, 7).number_format = "+0.0%;-0.0%;0.0%"
        gb.cell(row, 2).alignment = Alignment(wrap_text=True)

    categories = wb.create_sheet(SECTIONS[2])
    _title(categories, "分类统计（按大类）")
    append_table(categories, ["代码", "大类", "上报数", "占比", "上期上报数", "环比", "结案数", "结案率", "按期结案率",
                        "超期案件数"],
           [[c.code, c.name, c.reported, c.share, c.previous_reported, c.change, c.closed, c.closure_rate,
             c.on_time_closure_rate, c.overdue] for c in report.categories], percent_columns=(3, 5, 7, 8))

    ranking = wb.create_sheet(SECTIONS[3])
    _title(ranking, f"区域排名（各{report.child_level}，按综合评价得分）" if report.child_level else "区域排名")
    if report.child_level:
        _ranking(ranking, report.areas, report.child_level)
    else:
        ranking.append(["网格没有下级区域"])
    _title(ranking, "职能部门排名（主办部门，按综合评价得分）")
    _ranking(ranking, report.departments, "部门")

    overdue = wb.create_sheet(SECTIONS[4])
    _title(overdue, f"超期督办（截至{report.generated_at:%Y-%m-%d %H:%M}仍未办结）")
    append_table(overdue, ["项目", "件数"], [
        ["当前超期（红灯）", report.overdue_open], ["当前预警（黄灯）", report.yellow_open],
        ["督办中", report.supervised_open], ["本期上报案件中有环节超期", report.figure("overdue").numerator]])
    append_table(overdue, ["编号", "类别", "网格", "主办部门", "状态", "办理时限", "已超期（天）", "督办"],
           [[r.tracking_code, r.category, r.place, r.department, r.state,
             r.due_at.strftime("%Y-%m-%d %H:%M") if r.due_at else "", r.overdue_days, "是" if r.supervised else ""]
            for r in report.overdue_cases])

    hot = wb.create_sheet(SECTIONS[5])
    _title(hot, "热点问题（本期有上报的热点，按热度）")
    append_table(hot, ["热点", "社区", "类别", "案件数", "反映人数", "增长", "热度", "研判状态"],
           [[h.title, h.place, h.category, h.size, h.reporters, h.growth, h.heat, h.status] for h in report.hot],
           percent_columns=(5,))
    for section in report.sections:
        sheet = wb.create_sheet(section.title)
        _title(sheet, section.title)
        if section.note:
            sheet.append([section.note])
        append_table(sheet, section.header, section.rows)
    for ws in wb.worksheets:
        fit_widths(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
