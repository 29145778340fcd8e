"""The disputes API end to end: a grid worker registers, the centre assigns, the mediator mediates and
writes the papers (the DOCX opens and carries the real names; producing it is an audited reveal), a case
becomes a dispute once, a referral stays open until its feedback, the legal adviser answers, indicators
count what happened, the map shows no personal data."""

from __future__ import annotations

import io

import pytest
from docx import Document
from sqlalchemy import select

from shiyu.core.audit import AuditEntry
from tests.cases.case_fixtures import scope_matrix_extra as case_extra
from tests.disputes.dispute_fixtures import APPLICANT, RESPONDENT, make_dispute
from tests.factories import login
from tests.paper_text import docx_text, pdf_text

BODY = {"title": "楼上漏水", "type_code": "neighbour", "lon": 117.95, "lat": 24.6, "address": "幸福小区3栋",
        "description": "楼上漏水，申请人电话13812345678",
        "parties": [{"role": "applicant", "name": APPLICANT, "id_number": "350203198001010011",
                     "phone": "13812345678"},
                    {"role": "respondent", "name": RESPONDENT, "phone": "13900001111"}]}


def _act(client, h, d, action, note="", **fields):
    r = client.post(f"/api/v1/disputes/{d['id']}/actions/{action}", headers=h,
                    json={"version": d["version"], "note": note, "fields": fields})
    assert r.status_code == 200, r.text
    return r.json()


def test_registered_assigned_mediated_agreed_with_papers(client, world, factory):
    worker = login(client, "worker_a1")
    r = client.post("/api/v1/disputes", json=BODY, headers=worker)
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["grid_id"] == world.grids["a1"].id and d["centre_area_id"] == world.community_a.id
    assert d["description"] == "楼上漏水，申请人电话138****5678"
    detail = client.get(f"/api/v1/disputes/{d['id']}", headers=worker).json()
    assert [p["name"] for p in detail["parties"]] == ["陈*平", "刘*英"]
    assert APPLICANT not in client.get(f"/api/v1/disputes/{d['id']}", headers=worker).text
    assert detail["actions"] == [{"action": "review_risk", "label": "风险研判", "fields":
                                  ["risk_level", "signals", "enrol_party_ids"], "note_required": True}]

    operator = login(client, "operator_a")
    d = _act(client, operator, d, "assign", mediator_id=world.extra["mediator"])
    mediator = login(client, "mediator_a")
    mine = client.get("/api/v1/disputes?mine=true", headers=mediator).json()
    assert [x["id"] for x in mine["items"]] == [d["id"]]
    d = _act(client, mediator, d, "start")
    r = client.post(f"/api/v1/disputes/{d['id']}/sessions", headers=mediator, json={
        "starts_at": "2026-12-05T09:30:00+08:00", "place": "社区调解室", "attendees": f"{APPLICANT}、{RESPONDENT}",
        "record": "双方同意由被申请人赔偿维修费。"})
    assert r.status_code == 201, r.text
    d = _act(client, mediator, d, "agree", terms="一、刘秀英于七日内赔偿陈建平维修费3200元。", perform_by="2026-12-12")
    assert d["state"] == "agreed"

    refused = client.post(f"/api/v1/disputes/{d['id']}/documents/agreement", headers=mediator,
                          json={"field": "document", "reason": "看"})
    assert refused.status_code == 422 and refused.json()["code"] == "reason_required"
    r = client.post(f"/api/v1/disputes/{d['id']}/documents/agreement", headers=mediator,
                    json={"field": "document", "reason": "打印协议书供双方签字"})
    assert r.status_code == 200, r.text
    text = "\n".join(p.text for p in Document(io.BytesIO(r.content)).paragraphs)
    assert "人民调解协议书" in text and APPLICANT in text and RESPONDENT in text and "3200元" in text
    assert "350203198001010011" in text and "王建国" in text
    for kind in ("acceptance", "record"):
        paper = client.post(f"/api/v1/disputes/{d['id']}/documents/{kind}", headers=mediator,
                            json={"field": "document", "reason": "归档人民调解卷宗"})
        assert paper.status_code == 200 and APPLICANT in "\n".join(
            p.text for p in Document(io.BytesIO(paper.content)).paragraphs)
    # a grid worker sees the dispute but may not print the parties' names
    assert client.post(f"/api/v1/disputes/{d['id']}/documents/agreement", headers=worker,
                       json={"field": "document", "reason": "想看看协议"}).status_code == 403
    with factory() as s:
        from shiyu.core.scoping import Principal
        s.info["principal"] = Principal.system("test")
        reveals = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "reveal",
                                                          AuditEntry.object_type == "dispute")
                                 .order_by(AuditEntry.id)))
    assert [(e.actor_name, e.after["document"], e.reason) for e in reveals][0] == (
        "mediator_a", "agreement", "打印协议书供双方签字")

    r = client.post(f"/api/v1/disputes/{d['id']}/confirmation", headers=mediator,
                    json={"court": "思明区人民法院", "applied_on": "2026-12-06"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/disputes/{d['id']}/confirmation/result", headers=mediator,
                    json={"result": "confirmed", "ruling_no": "(2026)闽0203民特1号", "decided_on": "2026-12-10"})
    assert r.json()["result"] == "confirmed"

    party = client.get(f"/api/v1/disputes/{d['id']}", headers=operator).json()["parties"][0]
    r = client.post(f"/api/v1/disputes/parties/{party['id']}/reveal", headers=operator,
                    json={"field": "phone", "reason": "电话回访当事人"})
    assert r.json() == {"field": "phone", "value": "13812345678"}
    assert client.post(f"/api/v1/disputes/parties/{party['id']}/reveal", headers=worker,
                       json={"field": "phone", "reason": "电话回访当事人"}).status_code == 403


def test_papers_as_word_or_pdf_each_an_audited_reveal(client, world, system_session, factory):
    dispute = make_dispute(system_session, mediator_id=world.extra["mediator"], state="mediating")
    system_session.commit()
    mediator = login(client, "mediator_a")
    url, body = f"/api/v1/disputes/{dispute.id}/documents", {"field": "document", "reason": "归档人民调解卷宗"}
    pdf = client.post(f"{url}/acceptance?format=pdf", headers=mediator, json=body)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.headers["cache-control"] == "no-store"
    assert pdf.headers["content-disposition"] == f'attachment; filename="{dispute.code}-acceptance.pdf"'
    text = pdf_text(pdf.content)
    assert "人民调解受理登记表" in text and APPLICANT in text and RESPONDENT in text and "350203198001010011" in text
    word = client.post(f"{url}/record", headers=mediator, json=body)  # no format: Word, as before
    assert word.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    assert word.headers["content-disposition"] == f'attachment; filename="{dispute.code}-record.docx"'
    assert "人民调解记录" in docx_text(word.content) and APPLICANT in docx_text(word.content)

    odd = client.post(f"{url}/record?format=odt", headers=mediator, json=body)
    assert odd.status_code == 422 and odd.json()["code"] == "unknown_format"
    assert odd.json()["detail"] == {"field": "format"}
    early = client.post(f"{url}/agreement?format=pdf", headers=mediator, json=body)
    assert early.status_code == 409 and early.json()["code"] == "no_agreement"
    worker = login(client, "worker_a1")  # sees the dispute (masked), may not print the names
    denied = client.post(f"{url}/acceptance?format=pdf", headers=worker, json=body)
    assert denied.status_code == 403
    with factory() as s:
        from shiyu.core.scoping import Principal
        s.info["principal"] = Principal.system("test")
        reveals = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "reveal",
                                                          AuditEntry.object_type == "dispute")
                                 .order_by(AuditEntry.id)))
    assert [(e.actor_name, e.object_id, e.after, e.reason) for e in reveals] == [
        ("mediator_a", str(dispute.id), {"document": "acceptance", "format": "pdf"}, "归档人民调解卷宗"),
        ("mediator_a", str(dispute.id), {"document": "record", "format": "docx"}, "归档人民调解卷宗")]


def test_a_case_becomes_a_dispute_once(client, world, system_session):
    ids = case_extra(system_session, world)  # a case of community B
    leader_b = login(client, "leader_b")
    r = client.post(f"/api/v1/disputes/from-case/{ids['case_b']}", headers=leader_b, json={"type_code": "neighbour"})
    assert r.status_code == 201, r.text
    assert r.json()["case_id"] == ids["case_b"] and r.json()["source"] == "case"
    again = client.post(f"/api/v1/disputes/from-case/{ids['case_b']}", headers=leader_b,
                        json={"type_code": "neighbour"})
    assert again.status_code == 409 and again.json()["detail"] == {"dispute_id": r.json()["id"]}
    bad = client.post(f"/api/v1/disputes/from-case/{ids['case_b']}", headers=leader_b, json={"type_code": "x"})
    assert bad.status_code in (409, 422)


def test_a_referral_stays_open_until_its_result(client, world):
    worker, operator = login(client, "worker_a1"), login(client, "operator_a")
    d = client.post("/api/v1/disputes", json=BODY, headers=worker).json()
    d = _act(client, operator, d, "assign", mediator_id=world.extra["mediator"])
    d = _act(client, operator, d, "start")
    d = _act(client, operator, d, "fail", "被申请人拒绝调解")
    d = _act(client, operator, d, "refer", "引导诉讼", channel="court", counterpart="思明区人民法院")
    open_ = client.get("/api/v1/disputes/referrals", headers=operator).json()["items"]
    assert [(x["dispute_id"], x["status"]) for x in open_] == [(d["id"], "open")]
    rid = open_[0]["id"]
    accepted = client.post(f"/api/v1/disputes/referrals/{rid}/feedback", headers=operator,
                           json={"status": "accepted", "external_ref": "(2026)闽0203民初88号"})
    assert accepted.status_code == 200
    assert len(client.get("/api/v1/disputes/referrals", headers=operator).json()["items"]) == 1
    no_result = client.post(f"/api/v1/disputes/referrals/{rid}/feedback", headers=operator, json={"status": "done"})
    assert no_result.status_code == 422
    done = client.post(f"/api/v1/disputes/referrals/{rid}/feedback", headers=operator,
                       json={"status": "done", "feedback": "法院已立案审理"})
    assert done.json()["feedback_at"] is not None
    assert client.get("/api/v1/disputes/referrals", headers=operator).json()["items"] == []
    assert client.get("/api/v1/disputes/referrals?all=true", headers=operator).json()["total"] == 1
    wrong = client.post(f"/api/v1/disputes/{d['id']}/actions/close", headers=operator,
                        json={"version": d["version"]})
    assert wrong.status_code == 409 and wrong.json()["code"] == "transition_not_allowed"


def test_legal_adviser_answers_the_grid(client, world):
    worker = login(client, "worker_a1")
    d = client.post("/api/v1/disputes", json=BODY, headers=worker).json()
    r = client.post(f"/api/v1/disputes/{d['id']}/questions", headers=worker,
                    json={"question": "漏水损失由谁承担？房东还是租户？"})
    assert r.status_code == 201
    adviser = login(client, "adviser_a")
    queue = client.get("/api/v1/disputes/questions", headers=adviser).json()
    assert [q["dispute_id"] for q in queue] == [d["id"]]
    r = client.post(f"/api/v1/disputes/questions/{queue[0]['id']}/answer", headers=adviser,
                    json={"answer": "依《民法典》第一千一百六十五条，由过错方承担。"})
    assert r.status_code == 200 and r.json()["answered_at"]
    assert client.get("/api/v1/disputes/questions", headers=adviser).json() == []
    detail = client.get(f"/api/v1/disputes/{d['id']}", headers=worker).json()
    assert "民法典" in detail["questions"][0]["answer"]
    assert client.post(f"/api/v1/disputes/questions/{queue[0]['id']}/answer", headers=worker,
                       json={"answer": "网格员不能答复"}).status_code == 403


def test_indicators_map_and_mediators(client, world):
    worker, operator = login(client, "worker_a1"), login(client, "operator_a")
    agreed = client.post("/api/v1/disputes", json=BODY, headers=worker).json()
    for action, fields in (("assign", {"mediator_id": world.extra["mediator"]}), ("start", {}),
                           ("agree", {"terms": "赔偿"})):
        agreed = _act(client, operator, agreed, action, **fields)
    failed = client.post("/api/v1/disputes", json={**BODY, "signals": ["criminal"]}, headers=worker).json()
    for action, fields, note in (("assign", {"mediator_id": world.extra["mediator"]}, ""), ("start", {}, ""),
                                 ("fail", {}, "不成")):
        failed = _act(client, operator, failed, action, note, **fields)
    client.post("/api/v1/disputes", json=BODY, headers=worker)
    ind = client.get("/api/v1/disputes/indicators", headers=operator).json()
    assert (ind["total"], ind["resolved"], ind["resolution_rate"], ind["success_rate"]) == (3, 1, 0.3333, 0.5)
    assert ind["resolved_by_level"] == {"4": 1.0} and ind["criminal_count"] == 1
    lead = next(m for m in client.get("/api/v1/disputes/mediators", headers=operator).json()
                if m["id"] == world.extra["mediator"])
    assert (lead["workload"], lead["success_rate"]) == (0, 0.5)
    points = client.get("/api/v1/disputes/map", headers=operator)
    assert len(points.json()) == 3 and APPLICANT not in points.text and "漏水" not in points.text
    assert client.get("/api/v1/disputes/map", headers=login(client, "handler_a")).json() == []


@pytest.mark.parametrize("body", [
    {**BODY, "lon": 100.0, "lat": 10.0},
    {**BODY, "type_code": "no_such"},
    {**BODY, "parties": [{"role": "judge", "name": "某"}]},
    {**BODY, "source": "application"},
    {**BODY, "amount": "-5"},
])
def test_bad_registrations_are_refused_without_a_trace(client, world, body):
    worker = login(client, "worker_a1")
    r = client.post("/api/v1/disputes", json=body, headers=worker)
    assert r.status_code == 422 and r.json()["code"], r.text
    assert client.get("/api/v1/disputes", headers=worker).json()["total"] == 0
