"""Text normalisation and tokenisation shared by the classifier, the duplicate finder and hot issues.

Exported messages carry layout noise (``\\n\\t`` runs, full-width spaces, NBSP, full-width letters and digits);
NFKC folds the width variants so that "Ａ市" and "A市" are the same feature, then whitespace collapses to
single spaces. Words come from jieba (the ``jieba_fast`` build: the same algorithm and dictionary with the
inner loop in C, about twice as fast) with a private tokenizer (so the process-wide dictionary is left alone)
extended with a small governance-term dictionary shipped in ``data/``.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import jieba_fast as jieba

WORD_WINDOW = 400
"""Words are taken from the first characters only: the subject and the opening sentences decide the
category, and jieba is the slowest step of prediction (this keeps it above 500 messages/s on one core)."""

_DICTIONARY = Path(__file__).parent / "data" / "governance_words.txt"
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w", re.UNICODE)


def normalize(text: object) -> str:
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text))
    return _SPACE.sub(" ", folded).strip()


def join_fields(values: Iterable[object]) -> str:
    """Several text columns (subject, detail…) become one document; empty cells are skipped."""
    return " ".join(part for part in (normalize(v) for v in values) if part)


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    tokenizer.load_userdict(str(_DICTIONARY))
    return tokenizer


@functools.lru_cache(maxsize=65536)
def _cut(head: str) -> tuple[str, ...]:
    """Cached because cross-validation re-featurises the same unlabelled pool in every fold."""
    return tuple(w for w in _tokenizer().cut(head, HMM=False) if _WORD.search(w))


def clear_token_cache() -> None:
    """For honest speed measurements: predicting texts already cut during training would be free."""
    _cut.cache_clear()


def words(text: str) -> list[str]:
    """jieba words of an already normalised text, punctuation and spaces dropped; the vectoriser's analyzer."""
    return list(_cut(text[:WORD_WINDOW]))
