"""The ``case.reported`` subscriber's batch work equals the one-case-at-a-time work it replaced: the same
duplicate candidates, repeat flags and automatic merges (duplicate finding's look-ups made once per grid),
the same auto-dispatch decisions, and the same timeline, audit and outbox records.

Each comparison runs both ways on the same undelivered cases, each in a transaction that is rolled back
afterwards, and compares everything written (ids of new rows and clock times left out)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from shiyu.cases.models import Case
from shiyu.core.outbox import OutboxEvent
from shiyu.core.scoping import Principal
from shiyu.triage import tasks
from shiyu.triage.classification.autodispatch import auto_dispatch_batch
from shiyu.triage.classification.models import CaseSuggestion
from shiyu.triage.duplicates import case_duplicates
from tests.batch_records import both_ways
from tests.cases.case_fixtures import POINT_B1, act
from tests.triage.case_helpers import NEAR_A1, OTHER_A, TEXT, citizen, report
from tests.triage.triage_fixtures import configured, publish, tiny_model, triage_world, with_threshold

ROAD = "关于红绿灯的问题 最近小区附近红绿灯坏了，公交线路改道，出租车和网约车乱停，停车场也满了，希望尽快解决"
SCHOOL = "关于幼儿园入学的问题 学校老师说学生入学名额不够，幼儿园和图书馆附近的课外培训太多，请相关部门解决"
SMOKE = "化工厂排污 附近化工厂排污，污水和粉尘很大，噪音和臭味也很严重，垃圾没人清理，油烟扰民"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def good_model():
    return tiny_model()


@pytest.fixture
def world(system_session, settings, good_model):
    w = triage_world(system_session)
    registry_settings = configured(settings)
    next(registry_settings)
    publish(system_session, good_model)
    yield w
    next(registry_settings, None)


def _backlog(s, w, monkeypatch) -> list[int]:
    """Delivered history (candidates, a closed case for repeat complaints), then a batch left undelivered:
    near duplicates in two grids of community A and in B, an exact repeat by the same citizen (merged), texts
    the model dispatches, and one with no department rule."""
    report(s, w, description=TEXT)
    report(s, w, "worker_a2", description=TEXT + "。", point=OTHER_A)
    closed = report(s, w, description=SCHOOL).case
    act(s, w, "operator_a", closed, "reject", note="重复")
    # In grid a2: the batch's read of grid a1 holds it only for its same-person repeat, which the look-ups of
    # grid a1's other cases leave out (with a small cap they then ask their own queries).
    report(s, w, "public", channel="citizen", description=ROAD, point=OTHER_A, **citizen("13900005555"))
    report(s, w, "worker_b1", description=TEXT, point=POINT_B1)
    monkeypatch.setattr("tests.triage.case_helpers.outbox.deliver_pending", lambda *a, **k: 0)
    texts = [(TEXT + "！", "worker_a1", NEAR_A1, {}), (ROAD, "worker_a1", None, {}),
             (TEXT, "worker_a2", OTHER_A, {}), (SCHOOL, "worker_a1", None, {}),
             (ROAD, "public", NEAR_A1, citizen("13900005555")), (SMOKE, "worker_a1", None, {}),
             (TEXT + "，请处理", "worker_a1", NEAR_A1, {}), (TEXT, "worker_b1", POINT_B1, {}),
             (SCHOOL + "！", "worker_a2", OTHER_A, {})]
    ids = []
    for text, who, point, extra in texts:
        channel = "citizen" if who == "public" else "grid"
        ids.append(report(s, w, who, channel=channel, description=text, point=point, **extra).case.id)
    report(s, w, description=TEXT + "，后报", point=NEAR_A1)  # after the batch, not in it: newer than all
    return ids


def _examine_one_by_one(s, ids: list[int]) -> None:
    """The duplicate finding of before the batch look-ups: two queries of its own for each case."""
    for case in s.scalars(select(Case).where(Case.id.in_(ids), Case.state != "merged").order_by(Case.id)).all():
        case_duplicates.examine(s, case, SH, now=case.reported_at)


@pytest.mark.parametrize("cap, arms", [(case_duplicates.CAP, case_duplicates.ARMS), (2, case_duplicates.ARMS),
                                       (case_duplicates.CAP, 2)])
def test_duplicate_finding_per_grid_equals_case_by_case(system_session, world, monkeypatch, cap, arms):
    """With the real cap and with a cap of 2 (the grid's read is cut, so cases fall back to their own
    query), the batch finds what case-by-case finding found, merge included (with the real cap: with a cap of 2
    the earlier case the repeat would merge into is not among the two newest); and so it does when the
    batch's three grids take two look-up statements (two grids a statement)."""
    s = system_session
    ids = _backlog(s, world, monkeypatch)
    monkeypatch.setattr(case_duplicates, "CAP", cap)
    monkeypatch.setattr(case_duplicates, "ARMS", arms)
    batch, single = both_ways(s, ids, lambda s: case_duplicates.on_reported_batch(s, ids),
                               lambda s: _examine_one_by_one(s, ids))
    assert batch == single
    assert batch["candidates"] and batch["repeats"]
    assert cap == 2 or any(c[4] is not None for c in batch["cases"])  # merged into another


def test_when_the_batch_merge_is_refused_each_repeat_is_merged_on_its_own(system_session, world, monkeypatch):
    """The batch's exact repeats are merged together (``engine.apply_each``); if the engine refuses that, the
    savepoint is undone and each merge is made alone — the same records as case-by-case finding."""
    from shiyu.cases.workflow import engine
    from shiyu.core.errors import ValidationFailed

    s = system_session
    ids = _backlog(s, world, monkeypatch)

    def refuse(*_args, **_kwargs):
        raise ValidationFailed("merge_target_invalid", "拒绝", "refused")

    def batch_refused(s):
        with monkeypatch.context() as m:
            m.setattr(engine, "apply_each", refuse)
            case_duplicates.on_reported_batch(s, ids)

    batch, single = both_ways(s, ids, batch_refused, lambda s: _examine_one_by_one(s, ids))
    assert batch == single
    assert any(c[4] is not None for c in batch["cases"])


def test_auto_dispatch_per_batch_equals_case_by_case(system_session, world, settings, monkeypatch):
    s = system_session
    ids = _backlog(s, world, monkeypatch)
    s.info["principal"] = Principal.system("test")
    tops = sorted(x.suggestions[0]["confidence"] for x in s.scalars(
        select(CaseSuggestion).where(CaseSuggestion.case_id.in_(ids))))
    with_threshold(settings, tops[len(tops) // 2])  # some above, some below
    batch, single = both_ways(s, ids, lambda s: auto_dispatch_batch(s, ids),
                               lambda s: [auto_dispatch_batch(s, [i]) for i in ids])
    assert batch == single
    outcomes = {a for _i, a in batch["auto"]}
    assert {"dispatched", "below_threshold"} <= outcomes
    assert any('"dispatch"' in e for e in batch["timeline"])


def test_the_subscriber_equals_its_case_by_case_work(system_session, world, settings, monkeypatch):
    """The whole ``case.reported`` subscriber on a batch of events: duplicates for all (per grid), then
    auto-dispatch for all, equals the old path (each case's own look-ups, then each case's dispatch)."""
    s = system_session
    ids = _backlog(s, world, monkeypatch)
    with_threshold(settings, 0.0)
    s.info["principal"] = Principal.system("test")
    events = s.scalars(select(OutboxEvent).where(OutboxEvent.topic == "case.reported",
                                                 OutboxEvent.aggregate_id.in_(ids)).order_by(OutboxEvent.id)).all()

    def old(s) -> None:
        _examine_one_by_one(s, ids)
        for i in ids:
            auto_dispatch_batch(s, [i])

    batch, single = both_ways(s, ids, lambda s: tasks.on_cases_reported(s, events), old)
    assert batch == single
    states = {c[1] for c in batch["cases"]}
    assert {"merged", "to_accept", "reported"} <= states  # merged, dispatched, no department for SMOKE


def test_a_grid_is_looked_up_once_per_batch(system_session, world, monkeypatch):
    s = system_session
    report(s, world, description=TEXT)
    monkeypatch.setattr("tests.triage.case_helpers.outbox.deliver_pending", lambda *a, **k: 0)
    ids = [report(s, world, description=TEXT + tail, point=NEAR_A1).case.id for tail in ("！", "。", "，急")]
    ids += [report(s, world, "worker_b1", description=TEXT, point=POINT_B1).case.id]
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    s.info["principal"] = Principal.system("outbox")
    event.listen(s.get_bind(), "before_cursor_execute", listen)
    try:
        found = case_duplicates.on_reported_batch(s, ids)
    finally:
        event.remove(s.get_bind(), "before_cursor_execute", listen)
    assert set(found) == set(ids) and all(found[i].candidates for i in ids[:3])
    lookups = [q for q in statements if "ORDER BY" in q and "reported_at DESC" in q]
    # One open-case read and one earlier-case read for the batch's two grids, not two per case or per grid.
    assert len(lookups) == 2 and all("UNION ALL" in q for q in lookups)
