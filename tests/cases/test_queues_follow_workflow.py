"""The work queues are the workflow table seen from a desk: generated over every state variant × persona ×
queue, each queue lists exactly the cases on which the persona has one of the queue's actions available
(``workflow.available``: state, scope rule and guards, evaluated in Python on the loaded case).

Besides the matrix personas, ``verifier_s`` works for the case's main department *and* holds a grid worker's
grant over its grid: 采办分离 forbids them to verify, so the verification queue must not offer the case."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shiyu.cases.models import Case
from shiyu.cases.workflow import engine, queues
from shiyu.cases.workflow import table as workflow
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from tests.cases.case_fixtures import case_world, principal, report  # noqa: F401
from tests.cases.test_case_workflow_matrix import PERSONAS, VARIANTS, _arrange
from tests.factories import add_user


@pytest.mark.slow
def test_every_work_queue_lists_exactly_the_cases_its_actions_are_available_on(system_session) -> None:
    s = system_session
    w = case_world(s)
    w.extra["other_case"] = report(s, w).case.id
    s.info["principal"] = Principal.system("test")
    w.users["verifier_s"] = add_user(s, "verifier_s", w.community_a,
                                     [("department_handler", w.departments["s"]), ("grid_worker", w.grids["a1"])])
    s.commit()
    arranged = {variant: _arrange(s, w, variant, state, extra).id for variant, state, extra in VARIANTS}
    work = [q for q in queues.QUEUES if q.actions]
    checked = 0
    for user in [p.user for p in PERSONAS] + ["verifier_s"]:
        p = principal(s, w, user)
        s.info["principal"] = p
        s.expire_all()
        for q in work:
            listed = set(s.scalars(select(Case.id).where(q.where(p), Case.id.in_(arranged.values()))))
            expected = set()
            for case_id in arranged.values():
                try:
                    case = engine.load_case(s, case_id)
                except ShiyuError:
                    continue  # out of the persona's scope: the scope listener hides it from the queue too
                if any(t.action in q.actions for t in workflow.available(p, case)):
                    expected.add(case_id)
                checked += 1
            assert listed == expected, (user, q.name, {v: i for v, i in arranged.items() if i in listed ^ expected})
    assert checked > 0
    verifier = principal(s, w, "verifier_s")
    s.info["principal"] = verifier
    to_verify = set(s.scalars(select(Case.id).where(queues.BY_NAME["to_verify"].where(verifier))))
    assert arranged["to_verify"] not in to_verify


def test_a_queue_action_whose_guard_has_no_sql_form_is_refused_at_declaration() -> None:
    with pytest.raises(ValueError, match="guards without an SQL form"):
        queues.Queue("odd", "自处置", "self-resolve", ("self_resolve",))
    assert workflow.clause(workflow.ACTIONS["close"], Principal.system("test")) is not None
