"""A report as a Word document (python-docx): numbered sections with a lead sentence, tables and the charts
as PNG pictures. Word picks a font per script, so the East Asian font is set on every style used (``w:eastAsia``):
without it a Word without the Latin font's CJK fallback shows the Chinese in whatever it finds first."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from shiyu.reports import charts
from shiyu.reports.data import SECTIONS, Figure, RankRow, Report, change_text, value_text

BODY_FONT, HEADING_FONT = "宋体", "黑体"
NUMERALS = "一二三四五六七八九十"
CHART_WIDTH = Cm(15.5)


def _fonts(doc: DocumentType) -> None:
    for name, font in (("Normal", BODY_FONT), ("Title", HEADING_FONT), ("Heading 1", HEADING_FONT),
                       ("Heading 2", HEADING_FONT), ("Caption", BODY_FONT), ("Table Grid", BODY_FONT)):
        style = doc.styles[name]
        style.font.name = font
        rpr = style.element.get_or_add_rPr()
        rfonts = rpr.find(qn("w:rFonts"))
        if rfonts is None:
            rfonts = rpr.makeelement(qn("w:rFonts"), {})
            rpr.append(rfonts)
        rfonts.set(qn("w:eastAsia"), font)
    doc.styles["Normal"].font.size = Pt(11)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _table(doc: DocumentType, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles["Table Grid"]
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(text)
        run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = str(value)
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(9)
    if not rows:
        doc.add_paragraph("（本期无数据）")


def _chart(doc: DocumentType, png: bytes, caption: str) -> None:
    doc.add_picture(io.BytesIO(png), width=CHART_WIDTH)
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    p = doc.add_paragraph(caption, style="Caption")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _heading(doc: DocumentType, index: int, text: str) -> None:
    doc.add_heading(f"{NUMERALS[index]}、{text}", level=1)


def _figure_row(f: Figure) -> list[str]:
    return [f.label, f.formula, _num(f.numerator), _num(f.denominator), value_text(f),
            "—" if f.previous is None else (_pct(f.previous) if f.is_rate else str(f.previous)), change_text(f)]


def _rank_rows(rows: list[RankRow]) -> list[list[str]]:
    return [[str(r.rank), r.name, _num(r.score), _num(r.previous_score), str(r.reported), _pct(r.closure_rate),
             _pct(r.on_time_closure_rate), _pct(r.overdue_rate), _pct(r.satisfaction_rate)] for r in rows]


RANK_HEADER = ["排名", "{what}", "综合得分", "上期得分", "上报数", "结案率", "按期结案率", "超期率", "满意率"]


def write(report: Report) -> bytes:
    doc = Document()
    _fonts(doc)
    title = doc.add_heading(report.title, level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    meta = doc.add_paragraph(f"{report.area_name}（区划代码 {report.area_code}，{report.area_level}）  "
                             f"统计期间：{report.period.start}至{report.period.end}  "
                             f"生成时间：{report.generated_at:%Y-%m-%d %H:%M}")
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER

    _heading(doc, 0, SECTIONS[0])
    doc.add_paragraph(report.summary)
    _chart(doc, charts.daily(report), "图1 每日上报案件数（本期与上期）")

    _heading(doc, 1, "GB/T 30428 评价指标")
    doc.add_paragraph("各项指标均按本期上报的案件统计其当前办理情况（与统计分析页面口径一致）；环比中比率指标为百分点差，"
                      "计数指标为增减百分比。")
    _table(doc, ["指标", "计算方法", "分子", "分母", "本期", "上期", "环比"], [_figure_row(f) for f in report.figures])
    doc.add_paragraph(f"综合评价得分：本期{_num(report.score)}分，上期{_num(report.previous_score)}分。")

    _heading(doc, 2, SECTIONS[2])
    if report.categories:
        top = report.categories[0]
        doc.add_paragraph(f"本期上报最多的大类是“{top.name}”，{top.reported}件，占{_pct(top.share)}，"
                          f"环比{'—' if top.change is None else f'{top.change * 100:+.1f}%'}。")
    _table(doc, ["大类", "上报数", "占比", "上期", "环比", "结案数", "结案率", "按期结案率", "超期数"],
           [[c.name, str(c.reported), _pct(c.share), str(c.previous_reported),
             "—" if c.change is None else f"{c.change * 100:+.1f}%", str(c.closed), _pct(c.closure_rate),
             _pct(c.on_time_closure_rate), str(c.overdue)] for c in report.categories])
    if report.categories:
        _chart(doc, charts.categories(report), "图2 分类统计：上报案件数（本期与上期）")

    _heading(doc, 3, SECTIONS[3])
    if report.child_level:
        doc.add_paragraph(f"各{report.child_level}按综合评价得分排名（得分按各比率指标加权，满分100分）：")
        _table(doc, [h.format(what=report.child_level) for h in RANK_HEADER], _rank_rows(report.areas))
        if report.areas:
            number = 3 if report.categories else 2
            _chart(doc, charts.areas(report), f"图{number} 各{report.child_level}结案率与按期结案率")
    doc.add_paragraph("职能部门（主办）排名：")
    _table(doc, [h.format(what="部门") for h in RANK_HEADER], _rank_rows(report.departments))

    _heading(doc, 4, SECTIONS[4])
    doc.add_paragraph(f"截至{report.generated_at:%Y年%m月%d日 %H:%M}，辖区内未办结案件中超期（红灯）"
                      f"{report.overdue_open}件、预警（黄灯）{report.yellow_open}件、督办中{report.supervised_open}件；本期上报的案件中有"
                      f"{report.figure('overdue').numerator}件有环节超期。超期最久的案件如下：")
    _table(doc, ["编号", "类别", "网格", "主办部门", "状态", "办理时限", "已超期(天)", "督办"],
           [[r.tracking_code, r.category, r.place, r.department, r.state,
             r.due_at.strftime("%m-%d %H:%M") if r.due_at else "—", _num(r.overdue_days), "是" if r.supervised else ""]
            for r in report.overdue_cases])

    _heading(doc, 5, SECTIONS[5])
    doc.add_paragraph("本期有上报的热点问题（同一社区内内容相近的多件反映），按热度排列：")
    _table(doc, ["热点", "社区", "类别", "案件数", "反映人数", "周增长", "研判"],
           [[h.title, h.place, h.category, str(h.size), str(h.reporters), f"{h.growth * 100:+.0f}%", h.status]
            for h in report.hot])

    for index, section in enumerate(report.sections, start=6):
        _heading(doc, index, section.title)
        if section.note:
            doc.add_paragraph(section.note)
        _table(doc, section.header, [[str(v) for v in row] for row in section.rows])
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
