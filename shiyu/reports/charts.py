"""The report's charts as PNG pictures (matplotlib, Agg backend: no display, safe in a worker thread).

Chinese labels need a CJK font. matplotlib's default (DejaVu) has no Chinese glyphs and would draw empty
boxes without failing, so the font is looked up among the installed ones (Noto Sans CJK first: Debian's
``fonts-noto-cjk``) and its absence is an error that says what to install, never a report with boxes.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from shiyu.core import fonts  # noqa: E402
from shiyu.core.errors import ShiyuError  # noqa: E402
from shiyu.reports.data import Report  # noqa: E402

CJK_FAMILIES = fonts.SANS
DPI = 150
TOP_CATEGORIES = 10
TOP_AREAS = 15
NOW_COLOUR, BEFORE_COLOUR, SECOND_COLOUR = "#1f5fa8", "#b8c4d6", "#e07b39"
_lock = threading.Lock()  # pyplot's font cache and rc state are process-wide


class FontMissing(ShiyuError):
    # 503, not 500: nothing broke, the server lacks a font its administrator can install (the message says which)
    status = 503
    code = "report_font_missing"
    zh = ("找不到中文字体，报告图表无法显示中文。请安装 Noto CJK 字体（Debian/Ubuntu：apt-get install fonts-noto-cjk）"
          "后重试")
    en = ("No Chinese (CJK) font is installed, so the report's charts cannot show Chinese. Install the Noto CJK "
          "fonts (Debian/Ubuntu: apt-get install fonts-noto-cjk) and try again")


def cjk_family() -> str:
    """The first installed font family of ``CJK_FAMILIES`` (``shiyu.core.fonts`` looks, and looks again
    through the system's fonts before giving up)."""
    face = fonts.find(CJK_FAMILIES)
    if face is None:
        raise FontMissing()
    return face.family


@contextmanager
def _style() -> Iterator[None]:
    family = cjk_family()
    with _lock, plt.rc_context({"font.family": "sans-serif", "font.sans-serif": [family, "DejaVu Sans"],
                                "axes.unicode_minus": False, "axes.spines.top": False,
                                "axes.spines.right": False, "font.size": 10}):
        yield


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def daily(report: Report) -> bytes:
    """Reports per day, this period against the last (day n beside day n)."""
    weekly = report.period.kind.value == "weekly"
    names = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
    labels = names if weekly else [str(d.day) for d, _ in report.daily]
    with _style():
        fig, ax = plt.subplots(figsize=(8, 3.4))
        xs = range(len(report.daily))
        ax.plot(list(xs), [n for _, n in report.daily], marker="o", color=NOW_COLOUR, label="本期")
        before = [n for _, n in report.previous_daily][: len(report.daily)]
        ax.plot(list(range(len(before))), before, marker="o", linestyle="--", color=BEFORE_COLOUR, label="上期")
        ax.set_xticks(list(xs), labels, fontsize=10 if weekly else 8)
        if not weekly:
            ax.set_xlabel("日")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("上报案件数（件）")
        ax.set_title("每日上报案件数（本期与上期）")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False)
        ax.grid(axis="y", alpha=0.3)
        return _png(fig)


def categories(report: Report) -> bytes:
    """The most reported major classes, this period against the last."""
    rows = report.categories[:TOP_CATEGORIES][::-1]
    with _style():
        fig, ax = plt.subplots(figsize=(8, 0.45 * max(len(rows), 2) + 1.2))
        ys = range(len(rows))
        ax.barh([y + 0.2 for y in ys], [r.reported for r in rows], height=0.4, color=NOW_COLOUR, label="本期")
        ax.barh([y - 0.2 for y in ys], [r.previous_reported for r in rows], height=0.4, color=BEFORE_COLOUR,
                label="上期")
        ax.set_yticks(list(ys), [r.name for r in rows])
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("上报案件数（件）")
        ax.set_title(f"分类统计：上报案件数前{min(TOP_CATEGORIES, len(rows))}的大类")
        ax.legend(frameon=False, loc="lower right")
        ax.grid(axis="x", alpha=0.3)
        return _png(fig)


def _pct(rate: float | None) -> float:
    return 0.0 if rate is None else rate * 100


def areas(report: Report) -> bytes:
    """结案率 and 按期结案率 of the areas one level down, in ranking order."""
    rows = report.areas[:TOP_AREAS]
    with _style():
        fig, ax = plt.subplots(figsize=(8, 3.8))
        xs = range(len(rows))
        ax.bar([x - 0.2 for x in xs], [_pct(r.closure_rate) for r in rows], width=0.4, color=NOW_COLOUR, label="结案率")
        ax.bar([x + 0.2 for x in xs], [_pct(r.on_time_closure_rate) for r in rows], width=0.4, color=SECOND_COLOUR,
               label="按期结案率")
        ax.set_xticks(list(xs), [r.name for r in rows], rotation=30 if len(rows) > 5 else 0, ha="right"
                      if len(rows) > 5 else "center")
        ax.set_ylim(0, 125)
        ax.set_yticks([0, 20, 40, 60, 80, 100])
        ax.set_ylabel("%")
        ax.set_title(f"区域排名：各{report.child_level or ''}结案率与按期结案率（按综合评价排序）")
        ax.legend(frameon=False, ncols=2, loc="upper center")
        ax.grid(axis="y", alpha=0.3)
        return _png(fig)

