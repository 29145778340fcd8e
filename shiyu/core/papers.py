"""Printed papers (文书) — a title and paragraphs — as Word (python-docx) or PDF (fpdf2) files, for every domain
that hands people a paper: the 人民调解 file's forms (``shiyu.disputes.documents``) and the petition notices and
opinions (``shiyu.petitions.papers``). The domain decides what a paper says, who may have it and when; this
module only lays it out, the same way for both, so a change of layout is made once.

Word: the ``Normal`` style in 宋体 (also for East Asian text) and the title as the document's title, centred.
PDF: A4, margins of 25 mm, the title centred and larger, each paragraph wrapped to the width and carried onto
the next page when it does not fit, page numbers at the foot. A PDF shows Chinese only with a Chinese font
embedded in it, so the installed CJK face is found (``shiyu.core.fonts``; a 宋体-like serif first, as in
the Word file) and fpdf2 embeds the subset of its glyphs the paper uses (a paper of a few pages is some
tens of kilobytes). With no CJK font installed the answer is ``paper_font_missing``, saying what to
install — never a PDF of empty boxes. The choice of fpdf2: docs/adr/0014-papers-pdf.md.

Loading the font is most of the cost of a PDF: fpdf2 reads the face's tables (0.7–1 s for Noto Serif CJK
SC, measured on the 2-core development machine) and subsets them when the file is written (another
0.5–1.3 s by the number of distinct characters; a one-page paper takes 1–1.5 s in all, a three-page record
about 2 s). The loaded font is not reused from one paper to the next: fpdf2 subsets the loaded tables in
place when it writes the file, so a font object shared by two papers would lose the second paper's glyphs,
and a deep copy of it costs a third of a load while depending on fpdf2's private per-document state. Only
one face (the regular weight) is loaded per paper: the title is set larger, not in a bold face that would
cost a second load.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from shiyu.core import fonts
from shiyu.core.errors import ShiyuError, ValidationFailed

WORD_FONT = "宋体"
FONT_KEY = "cjk"  # the PDF's name for the embedded face
PDF_FAMILIES = fonts.SERIF + fonts.SANS
MARGIN_MM = 25
TITLE_PT, BODY_PT, FOOT_PT = 18, 12, 9
LINE_MM = 7.0  # 12 pt text (4.2 mm) with the 1.6 spacing of a printed form
TITLE_LINE_MM = 10.0
# A Chinese line never starts with a closing mark nor ends with an opening one (避头尾): a closing mark that
# would open a line hangs at the end of the one before (标点悬挂), an opening mark goes down with what it opens.
NO_LINE_START = frozenset("，。、；：？！）》」』】〕”’…%,.;:?!)]")
NO_LINE_END = frozenset("（《「『【〔“‘([")
# Control characters (but the tab) and non-characters, typed or pasted into a record: XML — so a Word file —
# cannot hold them, and a PDF would draw nothing for them
UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")
# What is never broken inside: a run of Latin letters and digits (an ID number, a phone, a case number, a word)
UNBROKEN = re.compile(r"[A-Za-z0-9@._%+\-/:]+|\s|.")


class Format(StrEnum):
    DOCX = "docx"
    PDF = "pdf"


MEDIA_TYPES = {
    Format.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    Format.PDF: "application/pdf",
}


class FontMissing(ShiyuError):
    # 503, not 500: nothing broke, the server lacks a font its administrator can install (the message says which)
    status = 503
    code = "paper_font_missing"
    zh = ("找不到中文字体，无法生成 PDF 文书。请安装 Noto CJK 字体（Debian/Ubuntu：apt-get install fonts-noto-cjk）"
          "后重试，或下载 Word 版")
    en = ("No Chinese (CJK) font is installed, so the PDF paper cannot be made. Install the Noto CJK fonts "
          "(Debian/Ubuntu: apt-get install fonts-noto-cjk) and try again, or download the Word file")


def parse_format(value: str) -> Format:
    """The format a caller asked for, or 422 ``unknown_format`` (the API's ``?format=``, the page's buttons)."""
    try:
        return Format(value)
    except ValueError:
        raise ValidationFailed("unknown_format", "文书格式须为 docx（Word）或 pdf",
                               "The paper's format is docx (Word) or pdf", detail={"field": "format"}) from None


@dataclass(frozen=True)
class Paper:
    """What a paper says: its title and its paragraphs, in order (an empty one is a blank line)."""

    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    """A paper with ``{placeholders}``: each line is filled from the record's facts, and a filled line
    holding line breaks (several parties, several sessions) becomes one paragraph per line."""

    title: str
    lines: tuple[str, ...]

    def fill(self, facts: Mapping[str, Any]) -> Paper:
        return Paper(self.title, tuple(text for line in self.lines for text in line.format(**facts).split("\n")))


@dataclass(frozen=True)
class File:
    """A paper ready to download: the file's name, its media type and its bytes."""

    name: str
    media_type: str
    content: bytes


def render(paper: Paper, fmt: Format, stem: str) -> File:
    """The paper as a ``{stem}.{fmt}`` file."""
    content = docx(paper) if fmt is Format.DOCX else pdf(paper)
    return File(f"{stem}.{fmt.value}", MEDIA_TYPES[fmt], content)


def _printable(text: str) -> str:
    return UNPRINTABLE.sub("", text)


def docx(paper: Paper) -> bytes:
    """The Word file: needs no font on the server (the reader's Word draws 宋体), so it works on any machine."""
    doc = new_document()
    normal = doc.styles["Normal"]
    normal.font.name = WORD_FONT
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), WORD_FONT)
    heading = doc.add_heading(_printable(paper.title), level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text in paper.paragraphs:
        doc.add_paragraph(_printable(text))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


class _Sheet(FPDF):
    """An A4 page with the paper's page number at its foot (第 1 页 共 2 页)."""

    def footer(self) -> None:
        self.set_y(-MARGIN_MM / 2 - FOOT_PT * 0.35)
        self.set_font(FONT_KEY, size=FOOT_PT)
        self.cell(0, FOOT_PT * 0.5, f"第 {self.page_no()} 页　共 {{nb}} 页", align=Align.C)


def pdf(paper: Paper) -> bytes:
    """The PDF: the same on every reader, with the installed CJK face embedded (its used glyphs only)."""
    face = fonts.find(PDF_FAMILIES)
    if face is None:
        raise FontMissing()
    sheet = _Sheet(format="A4", unit="mm")
    sheet.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    sheet.set_auto_page_break(True, margin=MARGIN_MM)
    sheet.add_font(FONT_KEY, fname=face.path, collection_font_number=face.index)
    title = _printable(paper.title)
    sheet.set_title(title)
    sheet.set_lang("zh-CN")
    sheet.set_creator("Shiyu 市域")
    sheet.add_page()
    sheet.set_font(FONT_KEY, size=TITLE_PT)
    sheet.multi_cell(0, TITLE_LINE_MM, title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    sheet.ln(LINE_MM / 2)
    sheet.set_font(FONT_KEY, size=BODY_PT)
    for text in paper.paragraphs:
        for line in _wrapped(sheet, _printable(text).replace("\t", "    ")):
            # Left-aligned: justifying would stretch the spaces of a line that mixes Chinese with numbers
            sheet.cell(0, LINE_MM, line, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(sheet.output())


def _wrapped(sheet: FPDF, text: str) -> list[str]:
    """The paragraph's lines at the page's width. Chinese wraps between any two characters, so fpdf2's own
    wrapping (which prefers a space, and takes the ideographic space of a paragraph's indent for one) is not
    used: a line breaks before the character that would not fit, never inside a run of Latin letters and
    digits (``UNBROKEN``) unless the run is wider than the line, and never against ``NO_LINE_START`` /
    ``NO_LINE_END``. A space at a break is dropped; the paragraph's leading indent is kept."""
    width = sheet.epw
    tokens: list[str] = []
    for token in UNBROKEN.findall(text):
        tokens.extend(list(token) if sheet.get_string_width(token) > width else [token])
    lines: list[str] = []
    line = ""
    for token in tokens:
        if line.strip() and sheet.get_string_width(line + token) > width and token not in NO_LINE_START:
            carried = ""
            while len(line) > 1 and line[-1] in NO_LINE_END:
                line, carried = line[:-1], line[-1] + carried
            lines.append(line.rstrip())
            line = carried + ("" if token.isspace() else token)
        else:
            line += token
    lines.append(line.rstrip())
    return lines
