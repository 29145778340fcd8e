"""Hot issues (热点问题): group messages about the same matter within a time window and rank the groups.

Grouping: character 3-gram TF-IDF cosine ≥ ``threshold`` links two messages when they were posted at most
``window_days`` apart (a message without a readable time links regardless of time); groups are the
connected components of those links. Components can chain, which is the wanted behaviour for an issue
that keeps being reported week after week.

Heat of a group (documented so that a ranking can be explained to a leader)::

    heat = ln(1 + N) + 2·ln(1 + R) + 0.5·ln(1 + L) + ln(1 + N / W)

N messages, R distinct reporters (one person posting ten times is not ten people, hence the weight on R),
L likes in total, W the group's span in weeks (at least 1): N / W is how fast it grew, so a burst of twenty
messages in a week outranks twenty messages spread over two years.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from shiyu.triage.duplicates.similarity import char_ngram_matrix, components, similar_pairs

if TYPE_CHECKING:  # imported where used: see ``shiyu.triage.classification.classifier``
    import scipy.sparse as sp

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[\sT]*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    time: datetime | None = None
    reporter: str = ""
    likes: int = 0


@dataclass
class HotIssue:
    members: list[int]
    heat: float
    start: datetime | None
    end: datetime | None
    reporters: int
    likes: int
    title: str

    @property
    def size(self) -> int:
        return len(self.members)


def parse_time(value: object) -> datetime | None:
    """``2019/2/28 11:25:05``, ``2019-02-28 11:25``, ``2019年2月28日``, datetimes and Excel serial days;
    None when nothing date-like is found."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    text = str(value or "").strip()
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _EXCEL_EPOCH + timedelta(days=float(text))
    match = _DATE.search(text)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(p) if p else 0 for p in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def parse_count(value: object) -> int:
    try:
        return max(int(float(str(value).strip() or 0)), 0)
    except ValueError:
        return 0


def heat_score(count: int, reporters: int, likes: int, weeks: float) -> float:
    return (math.log1p(count) + 2 * math.log1p(reporters) + 0.5 * math.log1p(likes)
            + math.log1p(count / max(weeks, 1.0)))


def hot_issues(messages: Sequence[Message], threshold: float = 0.35, window_days: int = 30,
               min_size: int = 2) -> list[HotIssue]:
    """Groups of at least ``min_size`` messages, hottest first."""
    if not messages:
        return []
    matrix = char_ngram_matrix([f"{m.title} {m.title} {m.text}" for m in messages])
    times = [m.time for m in messages]
    window = timedelta(days=window_days)
    links = [(i, j) for i, j, _ in similar_pairs(matrix, threshold)
             if _near(times[i], times[j], window)]
    component = components(len(messages), links)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(component):
        groups.setdefault(int(label), []).append(index)
    issues = [_issue(members, messages, matrix) for members in groups.values() if len(members) >= min_size]
    return sorted(issues, key=lambda issue: -issue.heat)


def _near(a: datetime | None, b: datetime | None, window: timedelta) -> bool:
    """Within ``window`` of each other; a message without a time is near any other."""
    return a is None or b is None or abs(a - b) <= window


def _issue(members: list[int], messages: Sequence[Message], matrix: sp.csr_matrix) -> HotIssue:
    stamps = [t for i in members if (t := messages[i].time) is not None]
    start, end = (min(stamps), max(stamps)) if stamps else (None, None)
    weeks = (end - start).total_seconds() / (7 * 86400) if start is not None and end is not None else 1.0
    reporters = len({messages[i].reporter or f"#{i}" for i in members})
    likes = sum(messages[i].likes for i in members)
    centroid = np.asarray(matrix[members].mean(axis=0)).ravel()
    representative = members[int(np.argmax(matrix[members] @ centroid))]
    return HotIssue(members, heat_score(len(members), reporters, likes, weeks), start, end, reporters, likes,
                    messages[representative].title)
