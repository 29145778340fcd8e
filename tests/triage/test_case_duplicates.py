"""Duplicates at intake, merging with reporters following the survivor, automatic merge of exact repeats
and repeat complaints (重复诉求), on the factories' world (communities A and B, two grids each)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, inspect, select

from shiyu.cases import service
from shiyu.cases.models import Case, CaseEvent
from shiyu.cases.reporters import CaseReporter
from shiyu.core.outbox import OutboxEvent
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.triage.duplicates import case_duplicates
from shiyu.triage.duplicates.models import DuplicateCandidate, RepeatComplaint
from tests.cases.case_fixtures import POINT_B1, act, case_world
from tests.triage.case_helpers import NEAR_A1, OTHER_A, TEXT, citizen, report


@pytest.fixture
def w(system_session):
    return case_world(system_session)


def _candidates(s, case_id: int) -> list[DuplicateCandidate]:
    s.info["principal"] = Principal.system("test")
    return list(s.scalars(select(DuplicateCandidate).where(DuplicateCandidate.case_id == case_id)))


def test_near_duplicate_in_the_same_community_is_a_candidate(system_session, w):
    s = system_session
    first = report(s, w, description=TEXT).case
    far_same_community = report(s, w, "worker_a2", description=TEXT, point=OTHER_A).case
    second = report(s, w, description="幸福路12号门口人行道有流动摊贩占道经营，行人过不去", point=NEAR_A1).case
    found = {c.candidate_id: c for c in _candidates(s, second.id)}
    assert first.id in found and found[first.id].score >= case_duplicates.MIN_SCORE
    assert "same_grid" in found[first.id].reasons and "similar_text" in found[first.id].reasons
    assert found[first.id].score >= found[far_same_community.id].score  # same community: a candidate, lower


def test_a_near_case_across_the_community_boundary_is_a_candidate(system_session, w):
    """Communities A and B meet at lon 118.05: a report 200 m east of the line, in B, finds the same matter
    reported 100 m west of it, in A, as "nearby"; the same text a kilometre into B is not a candidate."""
    s = system_session
    west = report(s, w, description=TEXT, point={"lon": 118.049, "lat": 24.6}).case
    far_in_b = report(s, w, "worker_b1", description=TEXT, point={"lon": 118.06, "lat": 24.6}).case
    east = report(s, w, "worker_b1", description=TEXT, point={"lon": 118.051, "lat": 24.6}).case
    assert west.grid_id == w.grids["a1"].id and east.grid_id == w.grids["b1"].id
    found = {c.candidate_id: c for c in _candidates(s, east.id)}
    assert "nearby" in found[west.id].reasons
    assert far_in_b.id in found and "same_grid" in found[far_in_b.id].reasons  # its own community, as before
    assert west.id not in {c.candidate_id for c in _candidates(s, far_in_b.id)}  # 1 km from A's case


def test_distant_old_and_closed_cases_are_not_candidates(system_session, w):
    s = system_session
    now = utcnow()
    other_community = report(s, w, "worker_b1", description=TEXT, point=POINT_B1).case
    old = report(s, w, description=TEXT, now=now - timedelta(days=10)).case
    closed = report(s, w, description=TEXT).case
    act(s, w, "operator_a", closed, "reject", note="重复")
    unrelated = report(s, w, description="小区二号楼电梯停运三天无人维修").case
    new = report(s, w, description=TEXT, now=now).case
    ids = {c.candidate_id for c in _candidates(s, new.id)}
    assert other_community.id not in ids and old.id not in ids and closed.id not in ids and unrelated.id not in ids


def test_merge_moves_reporters_to_the_survivor_and_tells_them(system_session, w):
    s = system_session
    survivor = report(s, w, description=TEXT).case
    dup = report(s, w, "citizen", channel="citizen", description=TEXT + "！", point=NEAR_A1, **citizen()).case
    assert survivor.id in {c.candidate_id for c in _candidates(s, dup.id)}
    act(s, w, "operator_a", dup, "merge", fields={"into_case_id": survivor.id})
    s.info["principal"] = Principal.system("test")
    link = s.scalar(select(CaseReporter).where(CaseReporter.merged_case_id == dup.id))
    assert link is not None and link.case_id == survivor.id and link.tracking_code == dup.tracking_code
    assert link.reporter_user_id == w.users["citizen"].id and link.reporter_phone_hash == dup.reporter_phone_hash
    told = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "case.merged")).all()
    assert [e.payload["tracking_code"] for e in told] == [dup.tracking_code]
    # the survivor is registered: the merged case's tracking page shows that progress
    act(s, w, "operator_a", survivor, "register")
    tracked = service.track(s, dup.tracking_code, "zh")
    assert tracked["state"] == "merged"
    assert tracked["merged_into"]["state"] == "to_dispatch"
    assert [e["action"] for e in tracked["merged_into"]["timeline"]] == ["report", "register"]
    assert survivor.tracking_code not in str(tracked)


def test_followers_move_along_when_the_survivor_is_merged_again(system_session, w):
    s = system_session
    oldest = report(s, w, description=TEXT).case
    middle = report(s, w, description=TEXT + "。", point=NEAR_A1).case
    newest = report(s, w, description=TEXT + "!", point=NEAR_A1).case
    act(s, w, "operator_a", newest, "merge", fields={"into_case_id": middle.id})
    act(s, w, "operator_a", middle, "merge", fields={"into_case_id": oldest.id})
    s.info["principal"] = Principal.system("test")
    links = s.scalars(select(CaseReporter).order_by(CaseReporter.merged_case_id)).all()
    assert {(link.merged_case_id, link.case_id) for link in links} == {(middle.id, oldest.id), (newest.id, oldest.id)}
    assert service.track(s, newest.tracking_code, "en")["merged_into"]["state"] == "reported"


def test_exact_repeat_by_the_same_reporter_is_merged_automatically(system_session, w):
    s = system_session
    first = report(s, w, "citizen", channel="citizen", description=TEXT, **citizen()).case
    again = report(s, w, "public", channel="citizen", description=f"  {TEXT}\n", point=NEAR_A1, **citizen()).case
    s.info["principal"] = Principal.system("test")
    s.refresh(again)
    assert again.state == "merged" and again.merged_into_id == first.id
    event = s.scalar(select(CaseEvent).where(CaseEvent.case_id == again.id, CaseEvent.action == "merge"))
    assert event is not None and event.actor_name == "triage" and "自动合并" in event.note
    assert s.scalar(select(CaseReporter).where(CaseReporter.merged_case_id == again.id)) is not None


def test_anonymous_and_late_repeats_are_not_merged(system_session, w):
    s = system_session
    now = utcnow()
    first = report(s, w, "citizen", channel="citizen", description=TEXT, now=now - timedelta(hours=30),
                   **citizen()).case
    late = report(s, w, "citizen", channel="citizen", description=TEXT, now=now, **citizen()).case
    anonymous = report(s, w, "public", channel="citizen", description=TEXT, anonymous=True).case
    s.info["principal"] = Principal.system("test")
    for case in (late, anonymous):
        s.refresh(case)
        assert case.state == "reported"
    assert first.id in {c.candidate_id for c in _candidates(s, late.id)}  # still offered to a person


def test_repeat_complaint_is_flagged_across_weeks_even_when_closed(system_session, w):
    s = system_session
    now = utcnow()
    earlier = report(s, w, "citizen", channel="citizen", description=TEXT, now=now - timedelta(weeks=5),
                     **citizen(phone="13911112222")).case
    act(s, w, "operator_a", earlier, "reject", note="已处理")
    too_old = report(s, w, description=TEXT, now=now - timedelta(weeks=10)).case
    again = report(s, w, "citizen", channel="citizen", description="幸福路12号人行道又有流动摊贩占道经营了", now=now,
                   point=OTHER_A, **citizen(phone="13911112222")).case
    unrelated = report(s, w, description="小区二号楼电梯停运三天无人维修", now=now).case
    s.info["principal"] = Principal.system("test")
    flag = s.scalar(select(RepeatComplaint).where(RepeatComplaint.case_id == again.id))
    assert flag is not None and [e["id"] for e in flag.earlier] == [earlier.id]
    assert "same_person" in flag.earlier[0]["reasons"] and too_old.id not in [e["id"] for e in flag.earlier]
    assert s.scalar(select(RepeatComplaint).where(RepeatComplaint.case_id == unrelated.id)) is None


def test_case_list_filters_repeats(client, system_session, w):
    from tests.factories import login

    s = system_session
    report(s, w, description=TEXT, now=utcnow() - timedelta(weeks=3))
    again = report(s, w, description=TEXT).case
    headers = login(client, "operator_a")
    flagged = client.get("/api/v1/cases?repeat=true", headers=headers).json()
    assert [c["id"] for c in flagged["items"]] == [again.id]
    others = client.get("/api/v1/cases?repeat=false", headers=headers).json()
    assert again.id not in [c["id"] for c in others["items"]] and others["total"] == 1
    s.info["principal"] = Principal.system("test")
    assert s.get(Case, again.id) is not None


def test_desk_lists_candidates_and_merges_with_one_action(client, system_session, w):
    from tests.web.test_pages import hx, log_in

    s = system_session
    survivor = report(s, w, description=TEXT).case
    dup = report(s, w, "citizen", channel="citizen", description=TEXT + "！", point=NEAR_A1, **citizen()).case
    csrf = log_in(client, "operator_a")
    page = client.get(f"/desk/cases/{dup.id}").text
    assert f'data-candidate="{survivor.id}"' in page and "合并到此案件" in page
    r = client.post(f"/desk/cases/{dup.id}/actions/merge", headers=hx(csrf),
                    data={"expected_version": str(dup.version), "into_case_id": str(survivor.id)})
    assert r.status_code == 200 and r.headers["HX-Redirect"] == f"/desk/cases/{dup.id}?done=merge"
    s.info["principal"] = Principal.system("test")
    s.expire_all()
    assert s.get(Case, dup.id).merged_into_id == survivor.id
    assert s.scalar(select(CaseReporter).where(CaseReporter.merged_case_id == dup.id)).case_id == survivor.id
    api = client.get(f"/api/v1/cases/{survivor.id}/duplicates").json()
    assert api == {"candidates": [], "repeat": None}


def test_repeat_badge_on_the_desk(client, system_session, w):
    from tests.web.test_pages import log_in

    s = system_session
    report(s, w, description=TEXT, now=utcnow() - timedelta(weeks=3))
    again = report(s, w, description=TEXT).case
    log_in(client, "operator_a")
    assert 'id="repeat-badge"' in client.get(f"/desk/cases/{again.id}").text
    assert "重复诉求" in client.get("/desk?queue=to_register").text


def test_a_delivery_batch_examines_its_cases_once_with_shared_reads(system_session, w, monkeypatch):
    """The outbox hands ``on_reported_batch`` a whole batch: cases already examined are skipped, the others
    are examined, and the "already examined?" reads are one query per batch, not one per case."""
    s = system_session
    first = report(s, w, description=TEXT).case
    examined = report(s, w, description=TEXT + "！", point=NEAR_A1).case
    monkeypatch.setattr("tests.triage.case_helpers.outbox.deliver_pending", lambda *a, **k: 0)  # not yet
    second = report(s, w, description=TEXT + "。", point=NEAR_A1).case
    third = report(s, w, "worker_a2", description=TEXT, point=OTHER_A).case
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    event.listen(s.get_bind(), "before_cursor_execute", listen)
    try:
        found = case_duplicates.on_reported_batch(s, [examined.id, second.id, third.id])
    finally:
        event.remove(s.get_bind(), "before_cursor_execute", listen)
    assert set(found) == {second.id, third.id}
    assert first.id in {c.candidate_id for c in found[second.id].candidates}
    checks = [q for q in statements if "FROM duplicate_candidate" in q or "FROM repeat_complaint" in q]
    assert len(checks) == 2
    assert case_duplicates.on_reported_batch(s, [second.id, third.id]) == {}  # a redelivery does nothing


def test_the_earlier_look_up_reads_indexes_even_with_an_address(system_session, w):
    """The repeat finder ORs a case's grid, address and phone; were one of them without an index, the
    database would read every case of the window (weeks of a city's reports) for every new report. SQLite's
    plan shows it on any table (one index per branch, or a range scan of the window); PostgreSQL's planner
    prefers the window's range on a test-sized table whatever exists, so there the index is what is checked."""
    s = system_session
    case = report(s, w, description=TEXT).case
    s.info["principal"] = Principal.system("test")
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        leading = {tuple(ix["column_names"][:1]) for ix in inspect(conn).get_indexes("case")}
        assert ("address",) in leading and ("grid_id",) in leading and ("reporter_phone_hash",) in leading
        return
    expanded = case_duplicates._read_statement("earlier", 1, "sqlite").compile(conn).construct_expanded_state({
        "since_0": case.reported_at - timedelta(weeks=8), "until_0": case.reported_at, "grid_0": case.grid_id,
        "addresses_0": ["幸福路12号"], "phones_0": ["0" * 64], "cap_0": 201})
    plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + expanded.statement,
                                                tuple(expanded.positional_parameters))]
    assert any("MULTI-INDEX OR" in line for line in plan), plan


def test_the_recent_look_up_has_an_index_range_for_each_branch(system_session):
    """The duplicate finder's look-up ORs the community and the grids around the point, each within the
    7-day window: PostgreSQL reads them as two index ranges, (area path, reported at) and (grid, reported
    at), so a report reads the recent cases around it, not every open case of its street whatever their
    age. Test-sized tables get other plans, so what is checked is that both indexes exist."""
    columns = {tuple(ix["column_names"]) for ix in inspect(system_session.connection()).get_indexes("case")}
    assert ("grid_id", "reported_at") in columns and ("area_path", "reported_at") in columns


def test_the_look_ups_are_planned_for_their_own_window(system_session, w, monkeypatch):
    """psycopg prepares a statement from its fifth run and PostgreSQL may then keep a generic plan, which
    walks the time index backwards through the whole window (20 ms a look-up on the demo city instead of
    0.2). A batch's look-ups are planned for their parameters, and the setting ends with them."""
    s = system_session
    first = report(s, w, description=TEXT).case
    monkeypatch.setattr("tests.triage.case_helpers.outbox.deliver_pending", lambda *a, **k: 0)
    cases = [report(s, w, description=TEXT + "！" * i, point=NEAR_A1).case for i in range(1, 7)]
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    event.listen(s.get_bind(), "before_cursor_execute", listen)
    try:
        found = case_duplicates.on_reported_batch(s, [c.id for c in cases])
    finally:
        event.remove(s.get_bind(), "before_cursor_execute", listen)
    assert len(found) == 6 and first.id in {c.candidate_id for c in found[cases[0].id].candidates}
    look_ups = [i for i, q in enumerate(statements) if "reported_at DESC" in q]
    assert look_ups
    if s.connection().dialect.name != "postgresql":
        assert not any("plan_cache_mode" in q for q in statements)
        return
    force = statements.index("SET LOCAL plan_cache_mode = force_custom_plan")
    reset = statements.index("SET LOCAL plan_cache_mode TO DEFAULT")
    assert force < min(look_ups) and max(look_ups) < reset
    assert s.connection().exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"
