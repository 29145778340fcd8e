"""Substring search over Chinese free text: normalised text plus its set of character bigrams.

Chinese has no spaces between words and its commonest search words have two characters (路灯, 噪音, 井盖), so
a word index does not fit and PostgreSQL's trigram index cannot serve a two-character pattern (see
docs/adr/0007-case-search-index.md). A row keeps ``search_text`` — its searchable text normalised (NFKC, so
full-width letters and digits match half-width ones; lower case; runs of white space collapsed) — and, on
PostgreSQL, ``search_grams``: the distinct single characters and adjacent pairs of that text, under a GIN
index. A search term matches when the row's grams contain all of the term's grams (the index) and the
normalised text contains the term (the exact check on the few rows the index leaves). SQLite stores no grams
and checks ``search_text`` alone.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import Text, and_, false, literal
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

_SPACES = re.compile(r"\s+")
# Single-character grams are kept for CJK ideographs only: a one-character Chinese search (狗, 漏) is a real
# word, a one-letter Latin one is not worth the index space.
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
MAX_TERMS = 8
MAX_TERM_LENGTH = 40


def normalise(text: str | None) -> str:
    """The form both the stored text and a query are compared in."""
    if not text:
        return ""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()


def grams(text: str) -> list[str]:
    """The distinct grams of already normalised text: CJK single characters and every adjacent pair within
    a run of non-space characters, sorted so that the stored value is stable."""
    out: set[str] = set()
    for word in text.split(" "):
        out.update(ch for ch in word if _CJK.match(ch))
        out.update(word[i:i + 2] for i in range(len(word) - 1))
    return sorted(out)


def terms(query: str) -> list[str]:
    """The query's words, normalised; each must occur in a matching row."""
    return [t[:MAX_TERM_LENGTH] for t in normalise(query).split(" ") if t][:MAX_TERMS]


def term_grams(term: str) -> list[str]:
    """What the index must hold for ``term`` to possibly occur: its pairs, or the character itself."""
    return sorted({term[i:i + 2] for i in range(len(term) - 1)}) if len(term) > 1 else [term]


class Grams(TypeDecorator[list[str]]):
    """A text array on PostgreSQL (GIN-indexed); nothing on other databases, which search the text itself."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(Text))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: list[str] | None, dialect: Any) -> Any:
        return value if dialect.name == "postgresql" else None

    def process_result_value(self, value: Any, dialect: Any) -> list[str] | None:
        return value if dialect.name == "postgresql" else None


def _like_escaped(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def match(text_column: Any, grams_column: Any, query: str, use_grams: bool) -> Any:
    """A WHERE clause: every term of ``query`` occurs in ``text_column`` (false when the query has none).
    ``use_grams``: also ask for the terms' grams, which lets PostgreSQL answer from the GIN index."""
    words = terms(query)
    if not words:
        return false()
    clauses = []
    for term in words:
        clauses.append(text_column.like(literal("%" + _like_escaped(term) + "%"), escape="\\"))
        if use_grams:
            clauses.append(grams_column.op("@>")(literal(term_grams(term), postgresql.ARRAY(Text))))
    return and_(*clauses)
