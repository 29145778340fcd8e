"""The 人民调解 file's papers as Word or PDF files (``shiyu.core.papers``): 受理登记表, 调解记录, 调解协议书.

Each paper is a template (``TEMPLATES``: a title and lines with ``{placeholders}``) filled from the record
with the parties' real names, ID numbers and phones — the one place the system prints them in the clear.
So producing one is a reveal: it needs ``dispute.reveal`` over the dispute and is written to the audit
log with the paper's kind and format. Papers are built on each download, never stored: a corrected name is
never left behind in an old copy. The wording follows the 人民调解 卷宗 samples (《人民调解法》第二十八、二十九、
三十一条: the agreement names the parties, the matters and the responsibilities, how and when it is
performed, and is signed by the parties and the mediator and sealed by the 调委会).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from shiyu.core import audit, papers
from shiyu.core.errors import Conflict, ValidationFailed
from shiyu.core.pii import reveal_reason
from shiyu.core.scoping import Principal
from shiyu.disputes import service, workflow
from shiyu.disputes.models import REVEAL, DisputeState, DocumentKind, MediationOrg, Mediator, PartyRole, visible

ROLE_ZH = {PartyRole.APPLICANT: "申请人", PartyRole.RESPONDENT: "被申请人", PartyRole.THIRD: "第三人"}


@dataclass(frozen=True)
class Template(papers.Template):
    needs_agreement: bool = False  # the 调解协议书: only once the parties agreed


TEMPLATES: dict[str, Template] = {
    DocumentKind.ACCEPTANCE: Template("人民调解受理登记表", (
        "编号：{code}",
        "登记日期：{registered_on}",
        "纠纷类型：{type_name}　　来源：{source}",
        "纠纷地点：{address}",
        "当事人：",
        "{party_lines}",
        "纠纷简要情况：{description}",
        "涉及金额：{amount}　　涉及人数：{people_count}",
        "受理调委会：{org_name}",
    )),
    DocumentKind.RECORD: Template("人民调解记录", (
        "编号：{code}",
        "当事人：",
        "{party_lines}",
        "{session_lines}",
        "调解员：{mediator_name}",
    )),
    DocumentKind.AGREEMENT: Template("人民调解协议书", (
        "编号：{code}",
        "当事人：",
        "{party_lines}",
        "纠纷主要事实、争议事项：{description}",
        "经调解，自愿达成如下协议：",
        "{terms}",
        "履行方式、时限：{perform_by}前履行完毕。",
        "本协议一式三份，当事人、人民调解委员会各持一份。",
        "当事人（签名）：{party_names}",
        "调解员（签名）：{mediator_name}",
        "{org_name}（盖章）",
        "{today}",
    ), needs_agreement=True),
}

SOURCE_ZH = {"grid": "网格排查", "application": "当事人申请", "initiative": "调委会主动调解", "police": "公安机关移交",
             "court": "法院委托", "government": "政府部门指定", "petition": "信访转入", "hotline": "12345",
             "case": "事件转入"}


def _facts(session: Session, dispute_id: int, tz: ZoneInfo) -> dict[str, Any]:
    dispute = workflow.load(session, dispute_id)
    parties = service.parties(session, dispute.id)
    mediator = visible(session, Mediator, dispute.mediator_id) if dispute.mediator_id else None
    org = visible(session, MediationOrg, dispute.org_id) if dispute.org_id else None

    def who(p: Any) -> str:
        name = p.name if p.kind == "person" else p.unit_name
        extra = "，".join(x for x in (f"身份证号 {p.id_number}" if p.id_number else "",
                                      f"电话 {p.phone}" if p.phone else "") if x)
        return f"{ROLE_ZH[PartyRole(p.role)]}：{name}" + (f"（{extra}）" if extra else "")

    sessions = service.sessions(session, dispute.id)
    session_lines = "\n".join(
        f"{s.starts_at.astimezone(tz):%Y年%m月%d日 %H:%M}　地点：{s.place or s.video_link}\n"
        f"参加人员：{s.attendees or ''}\n调解情况：{s.record or ''}" for s in sessions) or "（尚无调解记录）"
    return {
        "dispute": dispute, "code": dispute.code,
        "registered_on": f"{dispute.registered_at.astimezone(tz):%Y年%m月%d日}",
        "type_name": service.type_names(session, "zh").get(dispute.type_code, dispute.type_code),
        "source": SOURCE_ZH.get(dispute.source, dispute.source), "address": dispute.address or "",
        "party_lines": "\n".join(who(p) for p in parties),
        "party_names": "　".join((p.name if p.kind == "person" else p.unit_name) or "" for p in parties),
        "description": dispute.description or "", "amount": f"{dispute.amount} 元" if dispute.amount else "无",
        "people_count": dispute.people_count, "org_name": org.name if org else "", "session_lines": session_lines,
        "mediator_name": mediator.name if mediator else "", "terms": dispute.agreement_terms or "",
        "perform_by": f"{dispute.perform_by:%Y年%m月%d日}" if dispute.perform_by else "协议生效后即时",
        "today": f"{(dispute.resolved_at or dispute.registered_at).astimezone(tz):%Y年%m月%d日}",
    }


AGREED_OR_LATER = (DisputeState.AGREED, DisputeState.PERFORMING, DisputeState.FOLLOWED_UP, DisputeState.CLOSED)


def available(state: str) -> list[str]:
    """The papers a dispute in ``state`` has (the page offers these): the agreement only once agreed."""
    return [kind for kind, t in TEMPLATES.items() if not t.needs_agreement or state in AGREED_OR_LATER]


def generate(session: Session, principal: Principal, dispute_id: int, kind: str, reason: str, tz: ZoneInfo,
             fmt: str = papers.Format.DOCX) -> papers.File:
    """The paper as a DOCX or PDF file; the reveal is audited with the caller's reason, the kind and format."""
    if kind not in TEMPLATES:
        raise ValidationFailed("unknown_document", "没有该文书", "No such document", detail={"field": "kind"})
    form = papers.parse_format(fmt)
    reason = reveal_reason(reason)
    facts = _facts(session, dispute_id, tz)
    dispute = facts["dispute"]
    principal.require(REVEAL, dispute.area_path)
    if TEMPLATES[kind].needs_agreement and dispute.state not in AGREED_OR_LATER:
        raise Conflict("no_agreement", "尚未达成调解协议", "There is no agreement yet")
    paper = papers.render(TEMPLATES[kind].fill(facts), form, f"{dispute.code}-{kind}")
    audit.record(session, "reveal", "dispute", dispute.id, area_path=dispute.area_path, reason=reason,
                 after={"document": kind, "format": form.value})
    return paper
