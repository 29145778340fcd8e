"""Reading the papers back in tests: the text of a Word file's paragraphs, and of a PDF's pages.

pypdf reads each character of fpdf2's embedded CJK font (a CID-keyed CFF face whose codes map to CIDs through
an embedded CMap) as a NUL followed by the character; PDF viewers (pdfium, as in Chromium) read the same file
as plain text. The NULs are dropped here, so a test compares what a reader sees."""

from __future__ import annotations

import io

from docx import Document
from pypdf import PdfReader


def docx_text(content: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text().replace("\x00", "") for page in PdfReader(io.BytesIO(content)).pages]


def pdf_text(content: bytes) -> str:
    return "\n".join(pdf_pages(content))
