"""信访文书: the written notices and opinions a petition's steps owe the petitioner, as Word or PDF files
(``shiyu.core.papers``, the renderer the dispute papers use) — 受理告知书 (accepted), 不予受理告知书 (not accepted,
with the notice written when it was refused), 处理意见书 (the answer), 复查意见书 and 复核意见书 (the opinions).

A paper is addressed to the petitioners by their real names — the one place the petitions domain prints a
name in the clear — so producing one is a reveal like ``service.reveal``: it needs ``petition.reveal`` over
the petition and a reason, and is written to the audit log with the paper's kind and format. Only the names
are printed: a notice needs no ID number or phone. A paper exists once its step happened (409
``petition_paper_not_ready`` before), is built from the record on each download and never stored.

The wording cites 《信访工作条例》 without article numbers (the article of the acceptance notice could not be
confirmed from the sources at hand: docs/petitions.md, "Time limits"). The request windows printed on the
处理意见书 and 复查意见书 are the city's figures in force (``limits.current``); the 复核 sentence, and that a
复核 opinion ends the same request, follow the regulation's text as docs/petitions.md quotes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.core import audit, papers
from shiyu.core.errors import ValidationFailed
from shiyu.core.pii import reveal_reason
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area
from shiyu.org.calendar.worktime import TimeUnit
from shiyu.petitions import errors, limits, service
from shiyu.petitions.limits import Limit
from shiyu.petitions.models import REVEAL, Petition, PetitionEvent, State

CHANNEL_ZH = {"letter": "来信", "visit": "来访", "online": "通过网上信访", "phone": "来电",
              "leader_mailbox": "通过领导信箱", "hotline": "经12345热线"}
SEAL = ("", "{area_name}（盖章）", "{on}")


@dataclass(frozen=True)
class Template(papers.Template):
    """A petition paper: its English name (for messages), when the petition has it, and what is missing
    before then (zh, en)."""

    name_en: str
    ready: Callable[[Petition], bool]
    not_ready: tuple[str, str]
    dated_by: str  # the action whose date the paper bears


def _opening(after: str) -> str:
    return "　　你（们）于{received_on}{channel}反映的“{demands}”信访事项" + after


TEMPLATES: dict[str, Template] = {
    "acceptance": Template(
        "信访事项受理告知书",
        ("编号：{number}", "{names}：",
         _opening("收悉。经审查，根据《信访工作条例》的规定，决定予以受理。{assignment}"),
         "　　本事项的办理期限至{handle_due_on}，办结后将书面答复你（们）。", "　　特此告知。", *SEAL),
        "acceptance notice", lambda p: p.state not in (State.REGISTERED, State.NOT_ACCEPTED),
        ("该信访事项尚未受理", "The petition has not been accepted"), "accept"),
    "refusal": Template(
        "信访事项不予受理告知书",
        ("编号：{number}", "{names}：", _opening("收悉。经审查，决定不予受理，理由如下："), "　　{notice}",
         "　　特此告知。", *SEAL),
        "notice of non-acceptance", lambda p: p.state == State.NOT_ACCEPTED,
        ("该信访事项未作不予受理决定", "The petition was not refused"), "refuse"),
    "answer": Template(
        "信访事项处理意见书",
        ("编号：{number}", "{names}：", _opening("，已于{accepted_on}受理{handled_by}。现提出处理意见如下："),
         "　　{answer}",
         "　　如对本处理意见不服，可以自收到本意见书之日起{review_window}内，向原办理机关、单位的上一级机关、单位"
         "请求复查。", *SEAL),
        "answer", lambda p: p.answered_at is not None,
        ("该信访事项尚未出具处理意见", "No answer has been given"), "answer"),
    "review": Template(
        "信访事项复查意见书",
        ("编号：{number}", "{names}：",
         "　　你（们）对{answered_on}出具的处理意见不服，于{review_requested_on}请求复查：{review_request}",
         "　　经复查，意见如下：", "　　{review_answer}",
         "　　如对本复查意见不服，可以自收到本意见书之日起{re_review_window}内，向复查机关、单位的上一级机关、单位"
         "请求复核。", *SEAL),
        "review opinion", lambda p: bool(p.review_answer),
        ("该信访事项尚未出具复查意见", "No review opinion has been given"), "answer_review"),
    "re_review": Template(
        "信访事项复核意见书",
        ("编号：{number}", "{names}：",
         "　　你（们）对{reviewed_on}出具的复查意见不服，于{re_review_requested_on}请求复核：{re_review_request}",
         "　　经复核，意见如下：", "　　{re_review_answer}",
         "　　对本复核意见不服，仍以同一事实和理由提出信访请求的，不再受理。", *SEAL),
        "re-review opinion", lambda p: bool(p.re_review_answer),
        ("该信访事项尚未出具复核意见", "No re-review opinion has been given"), "answer_re_review"),
}


def available(petition: Petition) -> list[str]:
    """The papers this petition has now (the page offers these)."""
    return [kind for kind, t in TEMPLATES.items() if t.ready(petition)]


def _day(at: datetime | None, tz: ZoneInfo) -> str:
    if at is None:
        return ""
    local = at.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日"


def _window(figure: limits.Figure) -> str:
    return f"{figure.amount}个工作日" if figure.unit == TimeUnit.WORKING_DAYS else f"{figure.amount}日"


def _facts(session: Session, petition: Petition, tz: ZoneInfo, dated_by: str) -> dict[str, Any]:
    """What the papers say, from the record and its timeline (a request's text and date are the entry's);
    ``on`` is the date of ``dated_by``, the step the paper reports."""
    people = service.petitioners_of(session, [petition.id])[petition.id]
    names = "、".join(p.name for p in people if p.name)
    if petition.group_size > len(people):  # a collective visit names its representatives
        names += f"等{petition.group_size}人"
    last: dict[str, PetitionEvent] = {}  # each action's latest entry on the timeline
    for event in session.scalars(select(PetitionEvent).where(PetitionEvent.petition_id == petition.id)
                                 .order_by(PetitionEvent.at, PetitionEvent.id)):
        last[event.action] = event

    def on(action: str) -> str:
        return _day(last[action].at, tz) if action in last else ""

    def note(action: str) -> str:
        return last[action].note if action in last else ""

    area = session.get(Area, petition.area_id)
    figures = limits.current(session)
    unit = petition.assigned_unit
    return {
        "number": petition.number, "names": names, "received_on": _day(petition.received_at, tz),
        "channel": CHANNEL_ZH.get(petition.channel, ""), "demands": petition.demands,
        "area_name": area.name if area is not None else "",
        "assignment": f"该事项已交由{unit}办理。" if unit else "", "handled_by": f"，交由{unit}办理" if unit else "",
        "handle_due_on": _day(petition.handle_due_at, tz) + ("（已延长）" if petition.extended else ""),
        "notice": petition.notice, "answer": petition.answer, "review_answer": petition.review_answer,
        "re_review_answer": petition.re_review_answer,
        "accepted_on": on("accept"), "answered_on": on("answer"), "reviewed_on": on("answer_review"),
        "review_requested_on": on("request_review"), "review_request": note("request_review"),
        "re_review_requested_on": on("request_re_review"), "re_review_request": note("request_re_review"),
        "review_window": _window(figures[Limit.REVIEW_REQUEST]),
        "re_review_window": _window(figures[Limit.RE_REVIEW_REQUEST]),
        "on": on(dated_by),
    }


def generate(session: Session, principal: Principal, petition_id: int, kind: str, reason: str, tz: ZoneInfo,
             fmt: str = papers.Format.DOCX) -> papers.File:
    """The paper as a Word or PDF file named ``{number}-{kind}``; the reveal of the names is audited with the
    caller's reason, the kind and the format."""
    template = TEMPLATES.get(kind)
    if template is None:
        raise ValidationFailed("unknown_document", "没有该文书", "No such document", detail={"field": "kind"})
    form = papers.parse_format(fmt)
    reason = reveal_reason(reason)
    petition = service.get(session, petition_id)
    principal.require(REVEAL, petition.area_path)
    if not template.ready(petition):
        raise errors.paper_not_ready(kind, template.title, template.name_en, petition.state, *template.not_ready)
    facts = _facts(session, petition, tz, template.dated_by)
    paper = papers.render(template.fill(facts), form, f"{petition.number}-{kind}")
    audit.record(session, "reveal", "petition", petition.id, area_path=petition.area_path, reason=reason,
                 after={"document": kind, "format": form.value})
    return paper
