"""The installed Chinese (CJK) fonts, found once for everything that draws Chinese text itself: the reports'
charts (matplotlib, by family name) and the PDF papers (fpdf2, which embeds a face from its file).

Both need the same answer — which of the preferred families is installed, and in which file and face of a
collection (Debian's ``fonts-noto-cjk`` ships ``.ttc`` files holding the JP, KR, SC, TC and HK faces; the SC
face is the third) — so the look-up lives here and each caller names its own preference and its own error.
matplotlib's font manager is the index: it already lists the system's fonts with their family, weight and
face index (matplotlib ≥ 3.11 lists every face of a collection), and keeps that list in a cache across runs.
A font installed after the list was made (the fonts package put on a running machine) is not in it, so
before answering "none" the system's font directories are looked through again and the new files added.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.font_manager import FontEntry

# Simplified-Chinese faces first; the JP face of the same Noto collection still draws every Chinese character.
SANS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
        "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Noto Sans CJK JP")
# 宋体-like faces for printed papers (the Word papers name 宋体); any sans face above will do after them.
SERIF = ("Noto Serif CJK SC", "Noto Serif SC", "Source Han Serif SC", "Source Han Serif CN", "SimSun", "Songti SC")
REGULAR = 400
_rescan_lock = threading.Lock()  # two requests finding no font at once scan the directories once, not twice


@dataclass(frozen=True)
class Face:
    """One installed face: its family, its file, and its index in that file (0 unless a collection)."""

    family: str
    path: str
    index: int


def find(families: Sequence[str], weight: int = REGULAR) -> Face | None:
    """The first of ``families`` that is installed, in the weight nearest ``weight``; None when none is (after
    looking through the system's fonts again, see the module's note)."""
    return _first(families, weight) or _first(families, weight, rescan=True)


def _first(families: Sequence[str], weight: int, *, rescan: bool = False) -> Face | None:
    from matplotlib import font_manager  # imported on first use: the app starts without matplotlib

    manager = font_manager.fontManager
    if rescan:
        with _rescan_lock:
            known = {f.fname for f in manager.ttflist}
            for path in font_manager.findSystemFonts():
                if path not in known:
                    with suppress(Exception):  # a file matplotlib cannot read is skipped, as its own scan does
                        manager.addfont(path)
    by_family: dict[str, list[FontEntry]] = {}
    for entry in manager.ttflist:
        by_family.setdefault(entry.name, []).append(entry)
    for family in families:
        if family in by_family:
            best = min(by_family[family], key=lambda e: abs(_weight(e.weight) - weight))
            return Face(family, str(best.fname), best.index)
    return None


def _weight(value: int | str) -> int:
    """matplotlib keeps a weight as a number or as a name (``"bold"``)."""
    from matplotlib import font_manager

    return value if isinstance(value, int) else int(font_manager.weight_dict.get(value, REGULAR))
