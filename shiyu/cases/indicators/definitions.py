"""What each indicator means: its components as SQL predicates over one case row, and each figure as a
numerator component over a denominator component.

**Population.** Every figure for a period describes the cases *reported* in that period — local calendar
days in the city's zone (Asia/Shanghai by default), both ends inclusive — *as they stand now*: "of the
cases reported in March, how many are closed, how many on time, how many were reworked". Anchoring every
component on the report day (a cohort) has two reasons. The rates compare like with like (numerator and
denominator are the same cases), and a case belongs to exactly one (report day, grid) key for its whole
life, so the pre-aggregated facts can be kept exact by recomputing that one key whenever the case changes
(see ``facts``). A figure for a recent period still moves while its cases are being handled; that is the
point of looking at it.

**Components** (each a count of cases of the population):

- ``registered`` 立案: registered by a centre, or resolved on the spot by the grid worker (自行处置 cases
  never pass registration but are cases of the loop all the same).
- ``decided``: registered or rejected (不予立案) — the reports on which a registration decision was made.
  Duplicates merged into another case and reports still awaiting a decision are in neither.
- ``dispatched``: dispatched to a department at least once; ``dispatched_right``: and never returned (退回).
- ``handled``: a result was reported (处置反馈, or self-resolution); ``handled_on_time``: and no handle step
  of it was late (the handle bit of ``Case.late_steps``).
- ``reworked``: handled and failed verification at least once (返工).
- ``extended``: dispatched and granted at least one extension (延期).
- ``closed`` 结案: in state closed. ``closed_on_time`` 按期结案: closed and no step ever went overdue.
- ``due`` 应结案: closed, or registered, still open and past a time limit (some step went overdue). An open
  case still within its limits is not yet due, so a month whose cases are being handled on time is not
  punished for them; once a limit is missed the case stays due until it is closed.
- ``overdue`` 超期: registered cases of which some step went overdue.
- ``rated``: evaluated (回访评价); ``satisfied``: rated satisfied or basically satisfied. Counting 基本满意
  as satisfied is the practice of 12345 hotline and 数字城管 evaluations (满意率 = (满意 + 基本满意) / 参评数).

"Went overdue" (late) is what the engine records in ``Case.late_steps``, one bit per step: set when a step
ends after its due instant (the ending transition's timeline entry says ``late``) and when the deadline scan
marks a running step red. A step finished late counts as late even if no scan ran before it ended, and
every predicate stays a plain expression over the case row, which the fact tables need. An approved
extension moves the due instant, so a step finished within its extended limit is on time — unless the scan
had already marked it red before the extension.

**Composite score** (综合评价): 100 × Σ wᵢ·sᵢ / Σ wᵢ over the rate indicators with a non-zero denominator,
where sᵢ is the rate (or 1 − rate for those where lower is better). Rates without cases drop out and the
remaining weights are renormalised, so a community with no evaluated cases is neither punished nor
rewarded for satisfaction. Default weights (``DEFAULT_WEIGHTS``, overridable as data in
``indicator_weight``): on-time handling 20, closure 15, on-time closure 15, registration 10, dispatch
accuracy 10, rework 10, satisfaction 10, extension 5, overdue 5 — 100 in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, true

from shiyu.cases.categories.models import Step
from shiyu.cases.models import TERMINAL, Case, CaseState, Rating
from shiyu.core.errors import ValidationFailed

MAX_DAYS = 400

_REGISTERED = or_(Case.registered_at.is_not(None), Case.self_resolved.is_(True))
_DISPATCHED = Case.dispatched_at.is_not(None)
_HANDLED = Case.handled_at.is_not(None)
_CLOSED = Case.state == CaseState.CLOSED.value
_OPEN = Case.state.not_in([s.value for s in TERMINAL])
_EVER_OVERDUE = Case.late_steps != 0
_HANDLE_ON_TIME = Case.late_steps.op("&")(Step.HANDLE.bit) == 0

# name -> predicate over one case row; the fact tables have one count column per name, in this order.
COMPONENTS: dict[str, ColumnElement[bool]] = {
    "reported": true(),
    "registered": _REGISTERED,
    "decided": or_(_REGISTERED, Case.state == CaseState.REJECTED.value),
    "dispatched": _DISPATCHED,
    "dispatched_right": and_(_DISPATCHED, Case.return_count == 0),
    "handled": _HANDLED,
    "handled_on_time": and_(_HANDLED, _HANDLE_ON_TIME),
    "reworked": and_(_HANDLED, Case.rework_count > 0),
    "extended": and_(_DISPATCHED, Case.extension_count > 0),
    "due": or_(_CLOSED, and_(_REGISTERED, _OPEN, _EVER_OVERDUE)),
    "closed": _CLOSED,
    "closed_on_time": and_(_CLOSED, Case.late_steps == 0),
    "overdue": and_(_REGISTERED, _EVER_OVERDUE),
    "rated": Case.rating.is_not(None),
    "satisfied": Case.rating.in_([Rating.SATISFIED.value, Rating.BASICALLY.value]),
}


@dataclass(frozen=True)
class Indicator:
    name: str
    zh: str
    en: str
    numerator: str
    denominator: str | None  # None: a count, no rate
    formula_zh: str
    formula_en: str
    higher_is_better: bool = True

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None


INDICATORS: tuple[Indicator, ...] = (
    Indicator("reported", "上报数", "reported", "reported", None, "本期上报的案件数", "cases reported in the period"),
    Indicator("registered", "立案数", "registered", "registered", None, "本期上报且已立案（含自行处置）的案件数",
              "cases reported in the period and registered (self-resolved included)"),
    Indicator("registration_rate", "立案率", "registration rate", "registered", "decided",
              "立案数 ÷ (立案数 + 不予立案数)", "registered ÷ (registered + rejected)"),
    Indicator("dispatch_accuracy", "准确派遣率", "dispatch accuracy", "dispatched_right", "dispatched",
              "1 − 被退回案件数 ÷ 派遣案件数", "1 − returned ÷ dispatched"),
    Indicator("on_time_handling_rate", "按期处置率", "on-time handling rate", "handled_on_time", "handled",
              "处置环节未超期的已处置案件数 ÷ 已处置案件数", "handled without an overdue handle step ÷ handled"),
    Indicator("closure_rate", "结案率", "closure rate", "closed", "due", "结案数 ÷ 应结案数",
              "closed ÷ due (closed, or open past a time limit)"),
    Indicator("on_time_closure_rate", "按期结案率", "on-time closure rate", "closed_on_time", "due",
              "各环节均未超期的结案数 ÷ 应结案数", "closed with no step overdue ÷ due"),
    Indicator("rework_rate", "返工率", "rework rate", "reworked", "handled", "返工案件数 ÷ 已处置案件数",
              "reworked ÷ handled", higher_is_better=False),
    Indicator("extension_rate", "延期率", "extension rate", "extended", "dispatched", "延期案件数 ÷ 派遣案件数",
              "extended ÷ dispatched", higher_is_better=False),
    Indicator("overdue", "超期案件数", "overdue cases", "overdue", "registered",
              "有环节超期的立案案件数（超期率 = ÷ 立案数）",
              "registered cases with an overdue step (rate: ÷ registered)", higher_is_better=False),
    Indicator("satisfaction_rate", "满意率", "satisfaction rate", "satisfied", "rated",
              "(满意 + 基本满意) ÷ 参评案件数", "(satisfied + basically satisfied) ÷ rated"),
)
BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}
SCORED: tuple[Indicator, ...] = tuple(i for i in INDICATORS if i.is_rate)

DEFAULT_WEIGHTS: dict[str, float] = {
    "on_time_handling_rate": 20,
    "closure_rate": 15,
    "on_time_closure_rate": 15,
    "registration_rate": 10,
    "dispatch_accuracy": 10,
    "rework_rate": 10,
    "satisfaction_rate": 10,
    "extension_rate": 5,
    "overdue": 5,
}


def rate(totals: dict[str, int], indicator: Indicator) -> float | None:
    if indicator.denominator is None or not totals[indicator.denominator]:
        return None
    return totals[indicator.numerator] / totals[indicator.denominator]


def score(totals: dict[str, int], weights: dict[str, float]) -> float | None:
    """The 100-point composite (see the module docstring); None when no weighted rate has cases."""
    earned = possible = 0.0
    for indicator in SCORED:
        weight, value = weights.get(indicator.name, 0.0), rate(totals, indicator)
        if weight <= 0 or value is None:
            continue
        earned += weight * (value if indicator.higher_is_better else 1.0 - value)
        possible += weight
    return round(100.0 * earned / possible, 2) if possible else None


@dataclass(frozen=True)
class Period:
    """Local calendar days ``start``..``end`` (both included) in the city's zone."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationFailed("period_reversed", "结束日期早于开始日期", "The end date is before the start date",
                                   detail={"start": self.start.isoformat(), "end": self.end.isoformat()})
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise ValidationFailed("period_too_long", "统计期间不能超过{n}天", "The period is longer than {n} days",
                                   detail={"field": "end"}, n=MAX_DAYS)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as a half-open UTC interval [local start 00:00, local day after end 00:00)."""
        return day_start(self.start, tz), day_start(self.end + timedelta(days=1), tz)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def local_day(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()
