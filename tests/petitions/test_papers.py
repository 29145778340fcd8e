"""信访文书: each paper exists once its step happened (409 before), is addressed to the petitioners by their real
names and says what the record says (the refusal's notice, the answer, the opinions, the request windows in
force), comes as Word or PDF, needs ``petition.reveal`` and is one audited reveal per download — through the
service, the API and the petition's page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from shiyu.core import papers as paper_files
from shiyu.core.audit import AuditEntry
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import GrantScope, Principal
from shiyu.petitions import limits, papers, service
from shiyu.petitions.models import VIEW
from shiyu.petitions.service import Step
from tests.factories import login, populated
from tests.paper_text import docx_text, pdf_text
from tests.petitions.petition_fixtures import TZ, as_user, officers, register, walk
from tests.registry.registry_fixtures import id_number
from tests.web.test_pages import log_in

REASON = "书面告知信访人"
ANSWER = "已责令物业十日内修复电梯，街道跟踪落实"
REVIEW = "维持原处理意见，修复期限缩短为七日"


def _world(s):
    w = populated(s)
    officers(s, w)
    return w


def _paper(s, w, petition_id: int, kind: str, fmt: str = "docx", user: str = "officer_a") -> str:
    file = papers.generate(s, as_user(s, w, user), petition_id, kind, REASON, TZ, fmt)
    assert file.name == f"{service.get(s, petition_id).number}-{kind}.{fmt}"
    return docx_text(file.content) if fmt == "docx" else pdf_text(file.content)


def _refused(s, w, petition_id: int, kind: str) -> ShiyuError:
    with pytest.raises(ShiyuError) as refused:
        papers.generate(s, as_user(s, w, "officer_a"), petition_id, kind, REASON, TZ)
    return refused.value


def test_each_paper_once_its_step_happened_saying_what_the_record_says(system_session):
    s = system_session
    w = _world(s)
    petition = register(s, w, "officer_a", w.community_a.id, name="陈建国", demands="小区电梯停运三个月，物业拒绝维修")
    assert papers.available(petition) == []
    early = _refused(s, w, petition.id, "acceptance")
    assert (early.status, early.code, early.detail) == (409, "petition_paper_not_ready",
                                                        {"document": "acceptance", "state": "registered"})
    assert early.zh == "该信访事项尚未受理，不能出具信访事项受理告知书"
    assert early.en == "The petition has not been accepted: there is no acceptance notice yet"

    walk(s, w, "officer_a", petition.id, ("accept", Step()),
         ("assign", Step(assigned_unit="区住房和建设局", leader_id=w.users["leader_a"].id)))
    assert papers.available(petition) == ["acceptance"]
    notice = _paper(s, w, petition.id, "acceptance")
    assert notice.startswith("信访事项受理告知书\n") and f"编号：{petition.number}" in notice
    assert "陈建国：" in notice and "小区电梯停运三个月" in notice and "决定予以受理" in notice
    assert "该事项已交由区住房和建设局办理" in notice and "甲社区（盖章）" in notice
    assert _refused(s, w, petition.id, "refusal").code == "petition_paper_not_ready"
    assert _refused(s, w, petition.id, "answer").code == "petition_paper_not_ready"

    walk(s, w, "officer_a", petition.id, ("start", Step()), ("answer", Step(note=ANSWER)),
         ("evaluate", Step(satisfied=False)), ("request_review", Step(note="信访人认为修复期限过长")))
    assert papers.available(petition) == ["acceptance", "answer"]
    answer = _paper(s, w, petition.id, "answer", "pdf")
    assert "信访事项处理意见书" in answer and "陈建国" in answer and ANSWER in answer
    assert "30日内" in answer and "请求复查" in answer  # the window in force, the default here

    limits.set_limit(s, Principal.system("test"), "re_review_request", 20, "working_days")
    walk(s, w, "officer_a", petition.id, ("answer_review", Step(note=REVIEW)))
    assert papers.available(petition) == ["acceptance", "answer", "review"]
    review = _paper(s, w, petition.id, "review")
    assert "信访事项复查意见书" in review and REVIEW in review and "信访人认为修复期限过长" in review
    assert "20个工作日内" in review and "请求复核" in review
    assert _refused(s, w, petition.id, "re_review").code == "petition_paper_not_ready"

    walk(s, w, "officer_a", petition.id, ("request_re_review", Step(note="仍认为期限过长")),
         ("answer_re_review", Step(note="维持复查意见")), ("conclude", Step()))
    assert papers.available(petition) == ["acceptance", "answer", "review", "re_review"]
    final = _paper(s, w, petition.id, "re_review")
    assert "信访事项复核意见书" in final and "维持复查意见" in final and "不再受理" in final


def test_a_refused_collective_petition_is_told_why(system_session):
    s = system_session
    w = _world(s)
    petition = register(s, w, "officer_a", w.community_a.id, name="王强", group_size=6, channel="letter")
    walk(s, w, "officer_a", petition.id, ("refuse", Step(note="该事项已进入诉讼程序，依法不予受理")))
    assert papers.available(petition) == ["refusal"]
    text = _paper(s, w, petition.id, "refusal", "pdf")
    assert text.splitlines()[0].strip() == "信访事项不予受理告知书"
    assert "王强等6人：" in text and "来信反映" in text and "该事项已进入诉讼程序，依法不予受理" in text
    assert _refused(s, w, petition.id, "acceptance").code == "petition_paper_not_ready"


def test_a_paper_is_a_reveal_needing_the_permission_and_a_reason_and_audited(system_session):
    s = system_session
    w = _world(s)
    petition = register(s, w, "officer_a", w.community_a.id)
    walk(s, w, "officer_a", petition.id, ("accept", Step()))
    viewer = Principal(user_id=w.users["officer_a"].id, username="viewer",
                       grants=(GrantScope("viewer", w.community_a.area_path),),
                       permissions_of=lambda role: frozenset({VIEW}))
    s.info["principal"] = viewer
    with pytest.raises(ShiyuError) as denied:
        papers.generate(s, viewer, petition.id, "acceptance", REASON, TZ)
    assert denied.value.status == 403
    officer = as_user(s, w, "officer_a")
    for reason, kind, fmt, code in (("看", "acceptance", "pdf", "reason_required"),
                                    (REASON, "receipt", "pdf", "unknown_document"),
                                    (REASON, "acceptance", "odt", "unknown_format")):
        with pytest.raises(ShiyuError) as refused:
            papers.generate(s, officer, petition.id, kind, reason, TZ, fmt)
        assert refused.value.code == code
    for fmt in ("pdf", "docx"):
        papers.generate(s, as_user(s, w, "leader_a"), petition.id, "acceptance", REASON, TZ, fmt)
    s.info["principal"] = Principal.system("test")
    entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "reveal").order_by(AuditEntry.id)).all()
    assert [(e.actor_name, e.object_type, e.object_id, e.after, e.reason) for e in entries] == [
        ("leader_a", "petition", str(petition.id), {"document": "acceptance", "format": fmt}, REASON)
        for fmt in ("pdf", "docx")]


def test_the_api_answers_a_pdf_or_a_word_file_for_the_officer_only(client, system_session):
    s = system_session
    w = _world(s)
    petition = register(s, w, "officer_a", w.community_a.id, name="刘洋", id_no=id_number())
    s.commit()
    officer = login(client, "officer_a")
    url = f"/api/v1/petitions/{petition.id}/documents"
    early = client.post(f"{url}/acceptance?format=pdf", headers=officer, json={"reason": REASON})
    assert early.status_code == 409 and early.json()["code"] == "petition_paper_not_ready"
    client.post(f"/api/v1/petitions/{petition.id}/actions/accept", headers=officer, json={})
    pdf = client.post(f"{url}/acceptance?format=pdf", headers=officer, json={"reason": REASON})
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == paper_files.MEDIA_TYPES[paper_files.Format.PDF]
    assert pdf.headers["content-disposition"] == f'attachment; filename="{petition.number}-acceptance.pdf"'
    assert pdf.headers["cache-control"] == "no-store"
    assert "刘洋" in pdf_text(pdf.content) and "信访事项受理告知书" in pdf_text(pdf.content)
    word = client.post(f"{url}/acceptance", headers=officer, json={"reason": REASON})
    assert word.headers["content-type"] == paper_files.MEDIA_TYPES[paper_files.Format.DOCX]
    assert "刘洋" in docx_text(word.content)
    odd = client.post(f"{url}/acceptance?format=rtf", headers=officer, json={"reason": REASON})
    assert odd.status_code == 422 and odd.json()["code"] == "unknown_format"
    for user in ("worker_a1", "operator_a", "officer_b"):  # they do not see the petition at all
        r = client.post(f"{url}/acceptance?format=pdf", headers=login(client, user), json={"reason": REASON})
        assert r.status_code == 404, user


def test_the_petition_page_offers_the_papers_it_has(client, system_session):
    s = system_session
    w = _world(s)
    petition = register(s, w, "officer_a", w.community_a.id, name="王强")
    s.commit()
    csrf = log_in(client, "officer_a")
    assert 'id="papers"' not in client.get(f"/petitions/{petition.id}").text
    early = client.post(f"/petitions/{petition.id}/documents/acceptance",
                        data={"csrf_token": csrf, "reason": REASON, "format": "pdf"})
    assert early.status_code == 409 and "该信访事项尚未受理" in early.text
    walk(s, w, "officer_a", petition.id, ("accept", Step()))
    s.commit()
    page = client.get(f"/petitions/{petition.id}").text
    assert re.findall(r'action="/petitions/\d+/documents/(\w+)"', page) == ["acceptance"]
    assert 'name="format" value="docx"' in page and 'name="format" value="pdf"' in page
    pdf = client.post(f"/petitions/{petition.id}/documents/acceptance",
                      data={"csrf_token": csrf, "reason": REASON, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "王强" in pdf_text(pdf.content)
    no_reason = client.post(f"/petitions/{petition.id}/documents/acceptance",
                            data={"csrf_token": csrf, "reason": "", "format": "pdf"})
    assert no_reason.status_code == 422 and 'id="papers"' in no_reason.text
