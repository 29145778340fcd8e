"""Message catalogues for the pages: ``zh.json`` and ``en.json`` hold every UI string by key, and each
page area may keep its own ``zh.<area>.json`` / ``en.<area>.json`` beside them (merged in, keys unique).

Why JSON catalogues and not gettext: the strings are few, translators edit one flat file per language, and
a missing key falls back to Chinese and then to the key itself, so a page never breaks on a missing text.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANGUAGES = ("zh", "en")


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in [HERE / f"{lang}.json", *sorted(HERE.glob(f"{lang}.*.json"))]:
        part = json.loads(path.read_text(encoding="utf-8"))
        clash = merged.keys() & part.keys()
        if clash:
            raise ValueError(f"{path.name} repeats catalogue keys: {sorted(clash)[:5]}")
        merged.update(part)
    return merged


def translate(lang: str, key: str, **params: object) -> str:
    text = catalogue(lang).get(key) or catalogue("zh").get(key) or key
    return text.format(**params) if params else text
