"""Suggestions at intake, auto-dispatch at and above the threshold (never below it or when unset), human
decisions becoming training examples, and the desk showing the suggestions with their departments."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event, select

from shiyu.cases.categories.models import Category
from shiyu.cases.models import Case, CaseEvent
from shiyu.cases.routing.models import RoutingRule
from shiyu.core import outbox
from shiyu.core.scoping import Principal
from shiyu.triage import tasks as _subscribers  # noqa: F401  (registers the outbox subscribers)
from shiyu.triage.classification import learning
from shiyu.triage.classification.models import CaseSuggestion, TrainingExample
from tests.cases.case_fixtures import act
from tests.factories import login
from tests.triage.triage_fixtures import configured, corpus, publish, tiny_model, triage_world, with_threshold
from tests.triage.triage_fixtures import file_case as report
from tests.web.test_pages import log_in

ROAD = "关于红绿灯的问题 最近小区附近红绿灯坏了，公交线路改道，出租车和网约车乱停，停车场也满了，希望尽快解决"
SCHOOL = "关于幼儿园入学的问题 学校老师说学生入学名额不够，幼儿园和图书馆附近的课外培训太多，请相关部门解决"
MIXED = "学校附近的红绿灯坏了，学生过马路危险"
SMOKE = "化工厂排污 附近化工厂排污，污水和粉尘很大，噪音和臭味也很严重，垃圾没人清理，油烟扰民"


@pytest.fixture(scope="module")
def good_model():
    return tiny_model()


@pytest.fixture
def world(system_session):
    return triage_world(system_session)


@pytest.fixture
def runtime(settings):
    yield from configured(settings)


def _load(factory, model, case_id):
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        return s.scalar(select(model).where(model.case_id == case_id))


def _case(factory, case_id) -> Case:
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        return s.get(Case, case_id)


def test_suggestions_are_stored_at_intake(system_session, world, runtime, good_model, factory, client):
    publish(system_session, good_model)
    case = report(system_session, world, SMOKE)
    stored = _load(factory, CaseSuggestion, case.id)
    assert stored is not None and stored.model_version == 1 and len(stored.suggestions) == 3
    top = stored.suggestions[0]
    assert top["code"] == "T0301" and top["category_id"] == world.extra["codes"]["T0301"]
    assert 0 < top["confidence"] <= 1
    assert [s["confidence"] for s in stored.suggestions] == sorted((s["confidence"] for s in stored.suggestions),
                                                                   reverse=True)
    # The case itself keeps the reporter's category; suggestions are a separate row.
    assert _case(factory, case.id).category_id == world.extra["category"].id

    h = login(client, "operator_a")
    r = client.get(f"/api/v1/triage/cases/{case.id}/suggestions", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["model_version"] == 1 and r.json()["suggestions"][0]["code"] == "T0301"


def test_anonymous_citizen_reports_get_suggestions_too(system_session, world, runtime, good_model, factory):
    """The suggestion is written with the case, while an anonymous reporter may still write it."""
    publish(system_session, good_model)
    case = report(system_session, world, ROAD, who="public", channel="citizen")
    assert _load(factory, CaseSuggestion, case.id).suggestions[0]["code"] == "T0101"


def test_a_deactivated_category_is_not_suggested(system_session, world, runtime, good_model, factory):
    """Suggestions come from the in-memory tree intake uses; a class switched off is skipped from the next
    report on, and the next best takes its place."""
    publish(system_session, good_model)
    first = _load(factory, CaseSuggestion, report(system_session, world, SMOKE).id).suggestions
    off = system_session.get(Category, first[0]["category_id"])
    off.active = False
    system_session.commit()
    after = _load(factory, CaseSuggestion, report(system_session, world, SMOKE).id).suggestions
    assert off.code not in [s["code"] for s in after]
    assert [s["code"] for s in after][:2] == [s["code"] for s in first][1:3]


def test_no_active_model_no_suggestion(system_session, world, runtime, good_model, factory):
    publish(system_session, good_model, activate=False)
    case = report(system_session, world, SMOKE)
    assert _load(factory, CaseSuggestion, case.id) is None


def test_auto_dispatch_at_the_threshold(system_session, world, runtime, good_model, factory, settings):
    publish(system_session, good_model)
    case = report(system_session, world, ROAD)
    top = _load(factory, CaseSuggestion, case.id).suggestions[0]
    assert top["code"] == "T0101"
    with_threshold(settings, top["confidence"])  # exactly at the threshold counts
    outbox.deliver_pending(factory)

    done = _case(factory, case.id)
    assert done.state == "to_accept"
    assert done.category_id == world.extra["codes"]["T0101"]
    assert done.main_department_id == world.departments["a2"].id
    assert done.step == "accept" and done.step_due_at is not None  # the new step's clock runs
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        events = list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
    assert [e.action for e in events] == ["report", "register", "dispatch"]
    assert {e.actor_name for e in events[1:]} == {"triage"}
    assert "v1" in events[1].note and f"{top['confidence']:.0%}" in events[1].note
    assert _load(factory, CaseSuggestion, case.id).auto_action == "dispatched"
    # The system's own registration teaches nothing.
    outbox.deliver_pending(factory)
    assert _load(factory, TrainingExample, case.id) is None


def test_no_auto_dispatch_below_the_threshold_or_when_unset(system_session, world, runtime, good_model, factory,
                                                            settings):
    publish(system_session, good_model)
    unset = report(system_session, world, ROAD)
    outbox.deliver_pending(factory)
    assert _case(factory, unset.id).state == "reported"
    assert _load(factory, CaseSuggestion, unset.id).auto_action is None

    below = report(system_session, world, SCHOOL)
    top = _load(factory, CaseSuggestion, below.id).suggestions[0]
    with_threshold(settings, min(1.0, top["confidence"] + 0.0001))
    outbox.deliver_pending(factory)
    assert _case(factory, below.id).state == "reported"
    assert _load(factory, CaseSuggestion, below.id).auto_action == "below_threshold"
    assert _case(factory, unset.id).state == "reported"  # its event was delivered while the setting was unset


def test_no_auto_dispatch_when_routing_names_no_department(system_session, world, runtime, good_model, factory,
                                                           settings):
    """Environment cases have no department rule: the territory centre decides, so a person must."""
    publish(system_session, good_model)
    with_threshold(settings, 0.0)
    case = report(system_session, world, SMOKE)
    outbox.deliver_pending(factory)
    assert _case(factory, case.id).state == "reported"
    assert _load(factory, CaseSuggestion, case.id).auto_action == "no_department"


def test_a_dispatch_the_engine_would_refuse_runs_no_transition(system_session, world, runtime, good_model, factory,
                                                                settings):
    """The rule names the street's department, which a community centre cannot dispatch to: the engine's own
    rule (``effects.dispatch_refusal``) says so before anything is registered, so the case is not touched."""
    s = system_session
    s.info["principal"] = Principal.system("test")
    for rule in s.scalars(select(RoutingRule)):
        rule.department_id = world.departments["s"].id
    s.commit()
    publish(s, good_model)
    with_threshold(settings, 0.0)
    case = report(s, world, ROAD)
    statements: list[str] = []

    def listen(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", listen)
    try:
        outbox.deliver_pending(factory)
    finally:
        event.remove(Engine, "before_cursor_execute", listen)
    assert _load(factory, CaseSuggestion, case.id).auto_action == "refused:department_not_at_level"
    assert _case(factory, case.id).state == "reported"
    assert not [q for q in statements if q.lstrip().upper().startswith('UPDATE "CASE"')]


def test_a_human_register_decision_becomes_a_training_example(system_session, world, runtime, good_model, factory):
    publish(system_session, good_model)
    case = report(system_session, world, SCHOOL)
    chosen = world.extra["codes"]["T0301"]  # the operator disagrees with the model
    act(system_session, world, "operator_a", case, "register", fields={"category_id": chosen})
    outbox.deliver_pending(factory)
    example = _load(factory, TrainingExample, case.id)
    assert example is not None
    assert (example.text, example.category_code, example.source, example.decided_by) == (
        SCHOOL, "T0301", "decision", "operator_a")

    # The latest decision wins: one example per case.
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        current = s.get(Case, case.id)
        current.category_id = world.extra["codes"]["T0101"]
        learning.record_decision(s, current, "leader_a")
        s.commit()
        rows = list(s.scalars(select(TrainingExample).where(TrainingExample.case_id == case.id)))
    assert [(r.category_code, r.decided_by) for r in rows] == [("T0101", "leader_a")]


def test_history_import_takes_closed_cases(system_session, world, runtime, factory):
    case = report(system_session, world, ROAD)
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        s.get(Case, case.id).state = "closed"
        s.commit()
        assert learning.import_history(s) == 1
        assert learning.import_history(s) == 0
        s.commit()
    assert _load(factory, TrainingExample, case.id).source == "history"


def test_desk_shows_suggestions_with_departments(system_session, world, runtime, good_model, client):
    publish(system_session, good_model)
    case = report(system_session, world, ROAD)
    log_in(client, "operator_a")
    r = client.get(f"/desk/cases/{case.id}")
    assert r.status_code == 200, r.text[:500]
    block = r.text[r.text.index('id="triage-suggestions"'):]
    assert "交通出行" in block and "甲社区市场办" in block and "%" in block
    assert f'name="category_id" value="{world.extra["codes"]["T0101"]}"' in block
    assert "v1" in block


def test_desk_register_with_a_suggested_category(system_session, world, runtime, good_model, client, factory):
    publish(system_session, good_model)
    case = report(system_session, world, ROAD)
    csrf = log_in(client, "operator_a")
    chosen = world.extra["codes"]["T0101"]
    r = client.post(f"/desk/cases/{case.id}/actions/register",
                    data={"expected_version": "1", "category_id": str(chosen), "note": "", "csrf_token": csrf},
                    headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    registered = _case(factory, case.id)
    assert registered.state == "to_dispatch" and registered.category_id == chosen
    assert registered.routing["department_id"] == world.departments["a2"].id
    # Once registered, the suggestions are history and leave the page.
    assert 'id="triage-suggestions"' not in client.get(f"/desk/cases/{case.id}").text


def test_generated_corpus_is_learnable(good_model):
    """Guards the fixtures: the tiny model does tell the three classes apart."""
    pairs = corpus(30, seed=99)
    predicted, confidence = good_model.predict([t for t, _ in pairs])
    assert sum(p == code for p, (_, code) in zip(predicted, pairs, strict=True)) >= 24
    assert min(confidence) < 0.99  # calibrated, not always certain
