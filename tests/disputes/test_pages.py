"""The dispute pages: the grid worker's form, the desk's queues and indicators, a dispute's page (masked,
the audited reveal, the actions the caller may take), the mediator's workbench and papers, the legal
adviser's queue, 转为矛盾纠纷 on a case page, and the portal's application; another community's dispute is
a 404 page."""

from __future__ import annotations

import io
import re

from docx import Document

from shiyu.disputes import service
from tests.cases.case_fixtures import scope_matrix_extra as case_extra
from tests.disputes.dispute_fixtures import APPLICANT, RESPONDENT, make_dispute, pool
from tests.factories import add_user, populated
from tests.paper_text import pdf_text
from tests.web.test_pages import hx, log_in


def _world(system_session):
    w = populated(system_session)
    w.extra = pool(system_session, w)
    system_session.commit()
    return w


def _version(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found, "no action form on the page"
    return found.group(1)


def test_from_the_grid_form_to_an_agreement_through_the_pages(client, system_session):
    w = _world(system_session)
    csrf = log_in(client, "worker_a1")
    form = client.get("/disputes/new")
    assert form.status_code == 200 and "甲社区第一网格" in form.text and "乙社区" not in form.text
    data = {"csrf_token": csrf, "title": "楼上漏水", "type_code": "neighbour", "grid_id": str(w.grids["a1"].id),
            "applicant_name": APPLICANT, "applicant_phone": "13812345678", "respondent_name": RESPONDENT,
            "amount": "abc", "people_count": "2"}
    bad = client.post("/disputes/new", data=data)
    assert bad.status_code == 422 and "金额须为数字" in bad.text
    assert client.get("/disputes").text.count("/disputes/1\"") == 0
    created = client.post("/disputes/new", data={**data, "amount": "3200"}, follow_redirects=False)
    assert created.status_code == 303, created.text
    page = client.get(created.headers["location"])
    assert page.status_code == 200 and "陈*平" in page.text and APPLICANT not in page.text
    dispute_id = int(created.headers["location"].rsplit("/", 1)[1])

    csrf = log_in(client, "operator_a")
    desk = client.get("/disputes")
    assert desk.status_code == 200 and "楼上漏水" in desk.text and "化解率" in desk.text
    page = client.get(f"/disputes/{dispute_id}").text
    assigned = client.post(f"/disputes/{dispute_id}/act/assign", follow_redirects=False,
                           data={"csrf_token": csrf, "version": _version(page), "mediator_id": w.extra["mediator"]})
    assert assigned.status_code == 303
    stale = client.post(f"/disputes/{dispute_id}/act/start", data={"csrf_token": csrf, "version": "1"})
    assert stale.status_code == 409 and "刷新" in stale.text
    revealed = client.post(f"/disputes/parties/{service_party(system_session, dispute_id)}/reveal",
                           data={"field": "name", "reason": "电话联系当事人"}, headers=hx(csrf))
    assert revealed.status_code == 200 and APPLICANT in revealed.text

    csrf = log_in(client, "mediator_a")
    bench = client.get("/disputes/workbench")
    assert bench.status_code == 200 and "楼上漏水" in bench.text
    page = client.get(f"/disputes/{dispute_id}").text
    client.post(f"/disputes/{dispute_id}/act/start", data={"csrf_token": csrf, "version": _version(page)})
    session = client.post(f"/disputes/{dispute_id}/sessions", follow_redirects=False, data={
        "csrf_token": csrf, "starts_at": "2030-01-05T09:30", "place": "社区调解室", "record": "双方同意赔偿"})
    assert session.status_code == 303
    assert "社区调解室" in client.get("/disputes/workbench").text  # on the schedule ahead
    page = client.get(f"/disputes/{dispute_id}").text
    agreed = client.post(f"/disputes/{dispute_id}/act/agree", follow_redirects=False, data={
        "csrf_token": csrf, "version": _version(page), "terms": "赔偿维修费3200元", "perform_by": "2030-01-12"})
    assert agreed.status_code == 303
    paper = client.post(f"/disputes/{dispute_id}/documents/agreement",
                        data={"csrf_token": csrf, "reason": "打印协议书签字"})
    assert paper.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(paper.content)).paragraphs)
    assert APPLICANT in text and RESPONDENT in text and "赔偿维修费3200元" in text
    no_reason = client.post(f"/disputes/{dispute_id}/documents/agreement", data={"csrf_token": csrf, "reason": ""})
    assert no_reason.status_code == 422 and "事由" in no_reason.text


def service_party(system_session, dispute_id: int) -> int:
    return service.parties(system_session, dispute_id)[0].id


def test_a_case_becomes_a_dispute_from_its_page(client, system_session):
    w = populated(system_session)
    ids = case_extra(system_session, w)
    csrf = log_in(client, "leader_b")
    case_page = client.get(f"/desk/cases/{ids['case_b']}")
    assert case_page.status_code == 200 and "转为矛盾纠纷" in case_page.text
    made = client.post(f"/disputes/from-case/{ids['case_b']}", data={"csrf_token": csrf, "type_code": "property"},
                       follow_redirects=False)
    assert made.status_code == 303
    assert "已转为矛盾纠纷" in client.get(f"/desk/cases/{ids['case_b']}").text
    again = client.post(f"/disputes/from-case/{ids['case_b']}", data={"csrf_token": csrf}, follow_redirects=False)
    assert again.headers["location"] == made.headers["location"]


def test_each_paper_is_offered_as_word_and_pdf(client, system_session):
    w = _world(system_session)
    dispute = make_dispute(system_session, mediator_id=w.extra["mediator"], state="mediating")
    system_session.commit()
    csrf = log_in(client, "mediator_a")
    page = client.get(f"/disputes/{dispute.id}").text
    papers = re.findall(r'<form method="post" action="/disputes/\d+/documents/(\w+)"', page)
    assert papers == ["acceptance", "record"]  # the agreement once there is one
    assert page.count('name="format" value="docx"') == 2 and page.count('name="format" value="pdf"') == 2
    pdf = client.post(f"/disputes/{dispute.id}/documents/record",
                      data={"csrf_token": csrf, "reason": "归档调解记录", "format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].endswith(f'filename="{dispute.code}-record.pdf"')
    assert APPLICANT in pdf_text(pdf.content) and RESPONDENT in pdf_text(pdf.content)
    odd = client.post(f"/disputes/{dispute.id}/documents/record",
                      data={"csrf_token": csrf, "reason": "归档调解记录", "format": "odt"})
    assert odd.status_code == 422 and "文书格式须为" in odd.text and 'id="papers"' in odd.text
    early = client.post(f"/disputes/{dispute.id}/documents/agreement",
                        data={"csrf_token": csrf, "reason": "打印协议书签字", "format": "pdf"})
    assert early.status_code == 409 and "尚未达成调解协议" in early.text


def test_adviser_queue_and_isolation(client, system_session):
    _world(system_session)
    mine = make_dispute(system_session)
    theirs = make_dispute(system_session, (118.10, 24.6), title="乙社区的纠纷")
    system_session.commit()
    csrf = log_in(client, "worker_a1")
    asked = client.post(f"/disputes/{mine.id}/questions", data={"csrf_token": csrf, "question": "赔偿标准是什么？"},
                        follow_redirects=False)
    assert asked.status_code == 303
    assert client.get(f"/disputes/{theirs.id}").status_code == 404
    assert "乙社区的纠纷" not in client.get("/disputes").text
    csrf = log_in(client, "adviser_a")
    queue = client.get("/disputes/advice")
    assert queue.status_code == 200 and "赔偿标准是什么" in queue.text
    qid = re.search(r"/disputes/questions/(\d+)/answer", queue.text).group(1)
    client.post(f"/disputes/questions/{qid}/answer", data={"csrf_token": csrf, "text": "按实际损失赔偿。"})
    assert "赔偿标准是什么" not in client.get("/disputes/advice").text
    assert client.get("/disputes/workbench").status_code == 403


def test_a_citizen_applies_for_mediation_and_picks_a_mediator(client, system_session):
    w = _world(system_session)
    add_user(system_session, "citizen_a", w.city, [("citizen", w.city)])
    system_session.commit()
    csrf = log_in(client, "citizen_a")
    page = client.get("/portal/mediation")
    assert page.status_code == 200 and "王建国" in page.text and "李淑芬" in page.text
    data = {"csrf_token": csrf, "title": "邻居占用楼道", "type_code": "neighbour", "place": "甲社区第一网格",
            "applicant_name": "赵敏", "respondent_name": "钱多多", "mediator_id": str(w.extra["other_mediator"])}
    unknown = client.post("/portal/mediation", data={**data, "place": "不存在的地方"})
    assert unknown.status_code == 422 and "找不到该地点" in unknown.text
    done = client.post("/portal/mediation", data=data, follow_redirects=True)
    assert done.status_code == 200, re.findall(r"role=\"alert\">([^<]*)", done.text)
    assert "申请已提交" in done.text and "邻居占用楼道" in done.text
    csrf = log_in(client, "operator_a")
    desk = client.get("/disputes")
    assert "邻居占用楼道" in desk.text
    dispute_id = re.search(r'href="/disputes/(\d+)">邻居占用楼道', desk.text).group(1)
    page = client.get(f"/disputes/{dispute_id}").text
    assert f'value="{w.extra["other_mediator"]}" selected' in page and "当事人申请" in page


def test_the_desk_sends_a_screening_round(client, system_session):
    w = _world(system_session)
    csrf = log_in(client, "leader_a")
    desk = client.get("/disputes")
    assert "发起矛盾纠纷排查" in desk.text and "未开展排查任务" in desk.text
    sent = client.post("/disputes/screening", data={"csrf_token": csrf, "area_id": str(w.community_a.id),
                                                      "due_on": "2030-01-31"}, follow_redirects=True)
    assert sent.status_code == 200 and "排查任务已派发到各网格" in sent.text
    assert "0.0%" in sent.text and "0/2个网格已报" in sent.text
    assert client.post("/disputes/screening", data={"csrf_token": csrf, "area_id": str(w.community_b.id),
                                                      "due_on": "2030-01-31"}).status_code in (403, 404)
    log_in(client, "worker_a1")
    assert "发起矛盾纠纷排查" not in client.get("/disputes").text
