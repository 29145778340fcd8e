"""Hot issues (热点问题) over the city's cases: the daily grouping job and what analysts do with its groups.

**Grouping** (``refresh``, run daily by ``shiyu.triage.hot.tasks``): the cases of the last ``WINDOW_DAYS``
(30) — not merged (a merged report is counted with its survivor, below) and not rejected — are split by
place (the community of their grid), and within each community grouped by topic and time as
``shiyu.triage.hot.grouping`` groups messages: character 3-gram cosine ≥ ``THRESHOLD`` links two cases of the same
community reported at most ``LINK_DAYS`` apart; groups are the connected components with at least
``MIN_SIZE`` cases.

**Heat** (``shiyu.triage.hot.grouping.heat_score``)::

    heat = ln(1 + N) + 2·ln(1 + R) + 0.5·ln(1 + L) + ln(1 + N / W)

N member cases, R distinct reporters (phone hash, else a citizen's user id, else the case itself — one
person reporting ten times is one reporter), L "me too" reports: reports merged into a member as duplicates
(``CaseReporter`` links; cases have no likes), W the group's span in weeks (at least 1). ``growth`` is shown
beside it: (cases of the last 7 days − cases of the 7 days before) / max(cases of the 7 days before, 1).

**Idempotent**: a group is matched to the existing issue sharing most of its cases, and updates it; only a
group matching none makes a new issue. Running twice on one day changes nothing the second time. The
status an analyst set (confirmed, dismissed) is never touched by the job, and members an analyst moved by a
split are ``pinned``: the job leaves them where the analyst put them. An undecided issue whose group has
dissolved is deleted; a decided one keeps its last members.

Scope: an issue belongs to its community's area path; the job runs as the system, analysts act through
their scoped session and need ``hot_issue.manage`` over the issue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from shiyu.cases.models import Case, CaseState
from shiyu.cases.reporters import CaseReporter
from shiyu.core.db import transaction
from shiyu.core.errors import NotFound, ValidationFailed
from shiyu.core.pii import mask_text
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import Area
from shiyu.triage.duplicates.case_duplicates import community_path
from shiyu.triage.duplicates.similarity import char_ngram_matrix, components, similar_pairs
from shiyu.triage.hot.grouping import heat_score
from shiyu.triage.hot.models import HotIssue, HotIssueMember, HotIssueStatus

WINDOW_DAYS = 30
LINK_DAYS = 14
THRESHOLD = 0.3
MIN_SIZE = 3
TITLE_CHARS = 120
MANAGE = "hot_issue.manage"
UNSCOPED = {"unscoped": True}

_COLUMNS = (Case.id, Case.description, Case.area_path, Case.category_id, Case.reported_at, Case.channel,
            Case.reporter_phone_hash, Case.reporter_user_id)


@dataclass
class RefreshReport:
    groups: int
    created: int
    updated: int
    deleted: int


def _reporter_key(row: Row[Any]) -> str:
    if row.reporter_phone_hash:
        return f"p:{row.reporter_phone_hash}"
    if row.channel == "citizen" and row.reporter_user_id is not None:
        return f"u:{row.reporter_user_id}"
    return f"c:{row.id}"


def _window_rows(session: Session, since: datetime) -> list[Row[Any]]:
    return list(session.execute(
        select(*_COLUMNS).where(Case.reported_at >= since,
                                Case.state.notin_([CaseState.MERGED.value, CaseState.REJECTED.value]))
        .order_by(Case.id)))


def _groups(rows: list[Row[Any]]) -> list[list[Row[Any]]]:
    """Groups of rows about one matter in one community (see the module docstring). The TF-IDF weights come
    from the whole window, not one community's few cases: with a handful of texts every shared word looks
    common and similar reports would look unrelated."""
    if not rows:
        return []
    matrix = char_ngram_matrix([f"{r.description} {r.description}" for r in rows])
    places = [community_path(r.area_path) for r in rows]
    link = timedelta(days=LINK_DAYS)
    pairs = [(i, j) for i, j, _ in similar_pairs(matrix, THRESHOLD)
             if places[i] == places[j] and abs(rows[i].reported_at - rows[j].reported_at) <= link]
    labels = components(len(rows), pairs)
    groups: dict[int, list[Row[Any]]] = {}
    for index, label in enumerate(labels.tolist()):
        groups.setdefault(label, []).append(rows[index])
    return [g for _, g in sorted(groups.items()) if len(g) >= MIN_SIZE]


def _stats(
    issue: HotIssue, rows: Sequence[Row[*tuple[Any, ...]]], followers: dict[int, int], now: datetime
) -> None:
    """Size, reporters, period, growth and heat of ``issue`` from its member rows (formula above)."""
    stamps = [r.reported_at for r in rows]
    start, end = min(stamps), max(stamps)
    weeks = (end - start).total_seconds() / (7 * 86400)
    issue.size = len(rows)
    issue.reporters = len({_reporter_key(r) for r in rows})
    issue.followers = sum(followers.get(r.id, 0) for r in rows)
    issue.period_start, issue.period_end = start, end
    week_ago, fortnight_ago = now - timedelta(days=7), now - timedelta(days=14)
    issue.recent = sum(1 for s in stamps if s >= week_ago)
    before = sum(1 for s in stamps if fortnight_ago <= s < week_ago)
    issue.growth = round((issue.recent - before) / max(before, 1), 3)
    issue.heat = round(heat_score(issue.size, issue.reporters, issue.followers, weeks), 4)
    issue.category_id = Counter(r.category_id for r in rows).most_common(1)[0][0]
    if not issue.title:  # the first report names the issue; it stays stable while the group grows
        issue.title = mask_text(min(rows, key=lambda r: r.id).description)[:TITLE_CHARS]


def _followers(session: Session, case_ids: list[int]) -> dict[int, int]:
    if not case_ids:
        return {}
    counts = session.execute(select(CaseReporter.case_id, func.count(CaseReporter.id))
                             .where(CaseReporter.case_id.in_(case_ids)).group_by(CaseReporter.case_id))
    return {case_id: n for case_id, n in counts}


def refresh(factory: sessionmaker[Session], tz: ZoneInfo, *, now: datetime | None = None) -> RefreshReport:
    """Group the last ``WINDOW_DAYS`` of cases into hot issues and update the stored ones (idempotent)."""
    with transaction(factory, principal=Principal.system("hot_issues")) as s:
        return refresh_in(s, tz, now=now)


def refresh_in(session: Session, tz: ZoneInfo, *, now: datetime | None = None) -> RefreshReport:
    """``refresh`` in the caller's transaction (the demo build writes its history and groups it in one)."""
    now = now or utcnow()
    return _refresh(session, now, now.astimezone(tz).date())


def _refresh(s: Session, now: datetime, today: date) -> RefreshReport:
    since = now - timedelta(days=WINDOW_DAYS)
    rows = _window_rows(s, since)
    by_id = {r.id: r for r in rows}
    issues = list(s.scalars(select(HotIssue).options(selectinload(HotIssue.members))
                            .where(HotIssue.period_end >= since - timedelta(days=LINK_DAYS))))
    pinned = set(s.scalars(select(HotIssueMember.case_id).where(HotIssueMember.pinned.is_(True))))
    member_of: dict[int, HotIssueMember] = {m.case_id: m for i in issues for m in i.members}
    by_issue = {i.id: i for i in issues}
    groups = _groups([r for r in rows if r.id not in pinned])
    places = {p.area_path: p.id for p in s.scalars(select(Area).where(
        Area.area_path.in_({community_path(g[0].area_path) for g in groups})))}
    matched: set[int] = set()
    created = updated = 0
    for group in groups:
        ids = {r.id for r in group}
        overlap = Counter(member_of[i].issue_id for i in ids if i in member_of)
        target = next((by_issue[i] for i, _n in sorted(overlap.items(), key=lambda kv: (-kv[1], kv[0]))
                       if i not in matched), None)
        if target is None:
            place = community_path(group[0].area_path)
            target = HotIssue(place_area_id=places[place], area_path=place, status=HotIssueStatus.OPEN.value)
            s.add(target)
            issues.append(target)
            created += 1
        else:
            updated += 1
        _set_automatic_members(s, target, ids, member_of)
        target.computed_on = today
        s.flush()
        matched.add(target.id)
    deleted = 0
    for issue in issues:
        if issue.id in matched:
            continue
        _set_automatic_members(s, issue, set(), member_of)
        if not issue.members and issue.status == HotIssueStatus.OPEN:
            s.delete(issue)
            deleted += 1
    s.flush()
    live = [i for i in issues if i.id in matched or i.members]
    member_ids = [m.case_id for i in live for m in i.members]
    missing = [i for i in member_ids if i not in by_id]
    if missing:
        by_id.update({r.id: r for r in s.execute(select(*_COLUMNS).where(Case.id.in_(missing)))})
    followers = _followers(s, member_ids)
    for issue in live:
        member_rows = [by_id[m.case_id] for m in issue.members if m.case_id in by_id]
        if member_rows:
            _stats(issue, member_rows, followers, now)
    return RefreshReport(len(groups), created, updated, deleted)


def _set_automatic_members(s: Session, issue: HotIssue, ids: set[int], member_of: dict[int, HotIssueMember]) -> None:
    """Make the unpinned members of ``issue`` exactly ``ids`` (taking them from other issues if needed)."""
    for member in list(issue.members):
        if not member.pinned and member.case_id not in ids:
            issue.members.remove(member)
            member_of.pop(member.case_id, None)
    current = {m.case_id for m in issue.members}
    moving = [member_of[i] for i in ids - current if i in member_of]
    for member in moving:
        member.issue.members.remove(member)
    if moving:
        s.flush()
    for case_id in sorted(ids - current):
        member = HotIssueMember(case_id=case_id, area_path=issue.area_path)
        issue.members.append(member)
        member_of[case_id] = member


# -- what analysts do (scoped session) ---------------------------------------------------------------------


def top(session: Session, limit: int, *, include_dismissed: bool = False) -> list[HotIssue]:
    """The hottest issues the caller can see."""
    stmt = select(HotIssue).order_by(HotIssue.heat.desc(), HotIssue.id).limit(limit)
    if not include_dismissed:
        stmt = stmt.where(HotIssue.status != HotIssueStatus.DISMISSED.value)
    return list(session.scalars(stmt))


def get(session: Session, issue_id: int) -> HotIssue:
    issue = session.scalar(select(HotIssue).options(selectinload(HotIssue.members)).where(HotIssue.id == issue_id))
    if issue is None:
        raise NotFound(detail={"object": "hot_issue", "id": issue_id})
    return issue


def member_cases(session: Session, issue: HotIssue) -> list[Case]:
    """The member cases the caller can see, oldest first."""
    ids = [m.case_id for m in issue.members]
    return list(session.scalars(select(Case).where(Case.id.in_(ids)).order_by(Case.reported_at, Case.id)))


def place_names(session: Session, issues: list[HotIssue]) -> dict[int, str]:
    """Community names of the issues (a fact about the area, named even without ``area.view``)."""
    ids = {i.place_area_id for i in issues}
    rows = session.execute(select(Area.id, Area.name).where(Area.id.in_(ids)), execution_options=UNSCOPED)
    return {area_id: name for area_id, name in rows}


def _decide(session: Session, principal: Principal, issue_id: int, status: HotIssueStatus) -> HotIssue:
    issue = get(session, issue_id)
    principal.require(MANAGE, issue.area_path)
    issue.status, issue.decided_by_id, issue.decided_at = status.value, principal.user_id, utcnow()
    session.flush()
    return issue


def confirm(session: Session, principal: Principal, issue_id: int) -> HotIssue:
    return _decide(session, principal, issue_id, HotIssueStatus.CONFIRMED)


def dismiss(session: Session, principal: Principal, issue_id: int) -> HotIssue:
    return _decide(session, principal, issue_id, HotIssueStatus.DISMISSED)


def split(session: Session, principal: Principal, issue_id: int, case_ids: list[int]) -> HotIssue:
    """Move ``case_ids`` (some, not all, members) into a new issue of the same place; they are pinned there so
    the daily job does not put them back. The new issue starts undecided; both get their figures again."""
    issue = get(session, issue_id)
    principal.require(MANAGE, issue.area_path)
    chosen = set(case_ids)
    members = {m.case_id: m for m in issue.members}
    if not chosen or not chosen <= set(members) or chosen == set(members):
        raise ValidationFailed("hot_issue_split_invalid", "请选择部分（而非全部）成员案件拆分出去",
                               "Choose some, not all, member cases to split off", detail={"field": "case_ids"})
    new = HotIssue(place_area_id=issue.place_area_id, area_path=issue.area_path, status=HotIssueStatus.OPEN.value,
                   computed_on=issue.computed_on, split_from_id=issue.id, decided_by_id=principal.user_id,
                   decided_at=utcnow())
    session.add(new)
    for case_id in sorted(chosen):
        issue.members.remove(members[case_id])
    session.flush()
    for case_id in sorted(chosen):
        new.members.append(HotIssueMember(case_id=case_id, area_path=issue.area_path, pinned=True))
    session.flush()
    now = utcnow()
    ids = [m.case_id for i in (issue, new) for m in i.members]
    rows = {r.id: r for r in session.execute(select(*_COLUMNS).where(Case.id.in_(ids)))}
    followers = _followers(session, ids)
    issue.title = ""
    for target in (issue, new):
        visible = [rows[m.case_id] for m in target.members if m.case_id in rows]
        if visible:
            _stats(target, visible, followers, now)
    session.flush()
    return new


def member_out(case: Case) -> dict[str, Any]:
    """A member case as a hot issue lists it (its description with typed-in numbers masked)."""
    return {"id": case.id, "tracking_code": case.tracking_code, "state": case.state,
            "description": mask_text(case.description), "reported_at": case.reported_at, "grid_id": case.grid_id}


def issue_out(issue: HotIssue, places: dict[int, str]) -> dict[str, Any]:
    return {"id": issue.id, "status": issue.status, "title": issue.title, "place_area_id": issue.place_area_id,
            "place": places.get(issue.place_area_id, ""), "category_id": issue.category_id,
            "period_start": issue.period_start, "period_end": issue.period_end, "size": issue.size,
            "reporters": issue.reporters, "followers": issue.followers, "recent": issue.recent,
            "growth": issue.growth, "heat": issue.heat, "computed_on": issue.computed_on,
            "split_from_id": issue.split_from_id, "decided_at": issue.decided_at}
