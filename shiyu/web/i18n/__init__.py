"""Message catalogues for the pages: ``zh.json`` and ``en.json`` hold every UI string by key, and each
page area may keep its own ``zh.<area>.json`` / ``en.<area>.json`` beside them (merged in, keys unique); a
domain with pages of its own declares its catalogue directory (``Domain.translations``) and
``shiyu.domains.install`` adds it with ``add_directory``.

Why JSON catalogues and not gettext: the strings are few, translators edit one flat file per language, and
a missing key falls back to Chinese and then to the key itself, so a page never breaks on a missing text.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGUAGES = ("zh", "en")
_DIRECTORIES: list[Path] = [HERE]


def add_directory(path: Path) -> None:
    """Merge the ``zh.*.json`` / ``en.*.json`` catalogues of ``path`` in as well (idempotent)."""
    path = path.resolve()
    if path not in _DIRECTORIES:
        _DIRECTORIES.append(path)
        catalogue.cache_clear()


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    paths = [HERE / f"{lang}.json"] + [p for d in _DIRECTORIES for p in sorted(d.glob(f"{lang}.*.json"))]
    for path in paths:
        part = json.loads(path.read_text(encoding="utf-8"))
        clash = merged.keys() & part.keys()
        if clash:
            raise ValueError(f"{path.name} repeats catalogue keys: {sorted(clash)[:5]}")
        merged.update(part)
    return merged


def translate(lang: str, key: str, **params: object) -> str:
    text = catalogue(lang).get(key) or catalogue("zh").get(key) or key
    return text.format(**params) if params else text
