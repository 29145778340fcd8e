"""The paper renderer both domains print with: the Word file keeps the layout the 人民调解 papers always had, the
PDF embeds a Chinese face and reads back as the same text (title, names, numbers), runs onto a second page
when the paper is long, never opens a line with a comma, and says what to install when no CJK font is there."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from shiyu.core import fonts, papers
from shiyu.core.errors import ValidationFailed
from tests.paper_text import docx_text, pdf_pages, pdf_text

NAME, ID_NUMBER = "陈建平", "350203198001010011"
PAPER = papers.Paper("人民调解协议书", (
    "编号：TJ20261205001",
    "当事人：",
    f"申请人：{NAME}（身份证号 {ID_NUMBER}，电话 13812345678）",
    "",
    "经调解，自愿达成如下协议：一、刘秀英于七日内赔偿陈建平维修费3200元。",
))


def test_a_template_is_filled_one_paragraph_per_line():
    template = papers.Template("人民调解记录", ("编号：{code}", "{party_lines}", "调解员：{mediator}"))
    paper = template.fill({"code": "TJ1", "party_lines": "申请人：甲\n被申请人：乙", "mediator": "王建国"})
    assert paper == papers.Paper("人民调解记录", ("编号：TJ1", "申请人：甲", "被申请人：乙", "调解员：王建国"))


def test_the_word_file_has_the_title_centred_and_every_paragraph_in_songti():
    file = papers.render(PAPER, papers.Format.DOCX, "TJ20261205001-agreement")
    assert file.name == "TJ20261205001-agreement.docx"
    assert file.media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    doc = Document(io.BytesIO(file.content))
    title, *body = doc.paragraphs
    assert (title.text, title.style.name, title.alignment) == ("人民调解协议书", "Title", WD_ALIGN_PARAGRAPH.CENTER)
    assert tuple(p.text for p in body) == PAPER.paragraphs
    normal = doc.styles["Normal"]
    assert normal.font.name == "宋体"
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"


def test_the_pdf_reads_back_as_the_paper():
    file = papers.render(PAPER, papers.Format.PDF, "TJ20261205001-agreement")
    assert (file.name, file.media_type) == ("TJ20261205001-agreement.pdf", "application/pdf")
    assert file.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(file.content))
    assert len(reader.pages) == 1 and reader.metadata.title == "人民调解协议书"
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (210, 297)  # A4
    text = pdf_text(file.content)
    assert text.splitlines()[0].strip() == "人民调解协议书"
    for expected in (NAME, ID_NUMBER, "13812345678", "3200元", "第 1 页"):
        assert expected in text
    fonts_used = reader.pages[0]["/Resources"]["/Font"]
    assert any("CJK" in str(f.get_object()["/BaseFont"]) for f in fonts_used.values())  # embedded, not a guess
    assert len(file.content) < 100_000  # a subset of the face, not the 20 MB collection


def test_a_long_record_runs_onto_a_second_page_and_no_line_opens_with_a_comma():
    session = "调解情况：双方陈述事实，经释法说理，被申请人同意赔偿维修费，申请人表示接受。" * 6
    paper = papers.Paper("人民调解记录", ("编号：TJ20261205001", f"申请人：{NAME}", *([session] * 6), "调解员：王建国"))
    pages = pdf_pages(papers.pdf(paper))
    assert len(pages) == 2
    assert NAME in pages[0] and "调解员：王建国" in pages[1]
    assert "第 1 页" in pages[0] and "第 2 页" in pages[1] and "共 2 页" in pages[1]
    lines = [line.strip() for page in pages for line in page.splitlines() if line.strip()]
    assert len(lines) > 40
    assert not [line for line in lines if line[0] in papers.NO_LINE_START]


def test_lines_keep_the_indent_numbers_stay_whole_and_brackets_go_down_with_what_they_open():
    notice = "　　" + "你（们）于2026年12月5日来访反映的信访事项收悉，" * 3 + f"身份证号{ID_NUMBER}。"
    bracket = "经" * 36 + "（注）" + "后续" * 5  # the 37th character, the last a line holds, is the bracket
    first, second, *rest = pdf_text(papers.pdf(papers.Paper("告知书", (notice, bracket)))).splitlines()[1:]
    assert first.startswith("　　你（们）") and second.startswith("来访反映")  # the indent, once
    assert any(ID_NUMBER in line for line in rest)
    assert "经" * 36 in rest and "（注）后续" in " ".join(rest)
    assert not [line for line in (first, second, *rest) if line and line[-1] in papers.NO_LINE_END]


def test_a_control_character_pasted_into_a_record_is_left_out_not_an_error():
    paper = papers.Paper("人民调解记录\x02", ("调解情况：双方\x01同意\x0b赔偿\r", "调解员：王建国\x7f"))
    for fmt in papers.Format:  # XML refuses them: the Word file failed with a server error
        file = papers.render(paper, fmt, "TJ1-record")
        text = docx_text(file.content) if fmt is papers.Format.DOCX else pdf_text(file.content)
        assert "人民调解记录\n调解情况：双方同意赔偿\n调解员：王建国" in text


def test_an_unknown_format_is_refused_with_its_code():
    assert papers.parse_format("pdf") is papers.Format.PDF
    with pytest.raises(ValidationFailed) as refused:
        papers.parse_format("odt")
    assert refused.value.code == "unknown_format" and refused.value.detail == {"field": "format"}


def test_no_cjk_font_is_a_clear_error_not_a_pdf_of_boxes(monkeypatch):
    monkeypatch.setattr(papers, "PDF_FAMILIES", ("No Such Font",))
    with pytest.raises(papers.FontMissing) as missing:
        papers.pdf(PAPER)
    assert missing.value.code == "paper_font_missing" and missing.value.status == 503
    assert "fonts-noto-cjk" in missing.value.zh and "fonts-noto-cjk" in missing.value.en


def test_the_face_found_is_the_simplified_chinese_face_of_its_collection():
    face = fonts.find(papers.PDF_FAMILIES)
    assert face is not None and face.family in papers.PDF_FAMILIES
    names = TTFont(face.path, fontNumber=face.index, lazy=True)["name"]
    assert face.family in {names.getDebugName(1), names.getDebugName(16)}
    assert fonts.find(("No Such Font",)) is None


def test_two_papers_made_at_once_each_carry_their_own_text():
    other = papers.Paper("人民调解受理登记表", ("当事人：", "申请人：欧阳娜娜",))
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(papers.pdf, (PAPER, other))
    assert NAME in pdf_text(first) and "欧阳娜娜" not in pdf_text(first)
    assert "欧阳娜娜" in pdf_text(second) and NAME not in pdf_text(second)
