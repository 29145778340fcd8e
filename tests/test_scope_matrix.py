"""The scope matrix: a user holding every right over community A can neither see nor change anything of
community B through any endpoint, and no response reveals that B's objects exist.

``ROUTES`` lists every ``/api/v1`` route; ``test_every_route_is_in_the_matrix`` fails when a route is added
without a row here, so the matrix cannot silently fall behind the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from shiyu.cases.categories.models import Category
from shiyu.cases.routing.models import RoutingRule
from shiyu.core.audit import AuditEntry
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.areas.models import AreaBoundary
from shiyu.org.identity.bulk.models import UserImport
from shiyu.org.units.models import Centre
from tests.cases.case_fixtures import scope_matrix_extra
from tests.cases.conftest import LIMITS
from tests.disputes.dispute_fixtures import scope_matrix_extra as dispute_extra
from tests.factories import PASSWORD, World, add_user, box, login, populated
from tests.keypersons.kp_fixtures import scope_matrix_extra as keypersons_extra
from tests.patrol.patrol_fixtures import body as patrol_body
from tests.patrol.patrol_fixtures import scope_matrix_extra as patrol_extra
from tests.petitions.petition_fixtures import scope_matrix_extra as petition_extra
from tests.registry.registry_fixtures import credit_code as registry_credit_code
from tests.registry.registry_fixtures import family
from tests.registry.registry_fixtures import scope_matrix_extra as registry_extra
from tests.tasks.task_fixtures import scope_matrix_extra as tasks_extra
from tests.triage.case_helpers import scope_matrix_extra as hot_extra

B_MARKERS = ("359901001002", "乙社区")


@dataclass
class Case:
    method: str
    path: str
    # "list": B must not appear; "deny": B's object must answer 404 (or 403 for no-right-at-all); "own": acts
    # only on the caller's own account or token (succeeds, and B does not appear)
    kind: str
    url: Callable[[World], str]
    body: Callable[[World], Any] | None = None
    # What must never appear in the answer; an import echoes the codes it was sent, so only names count there.
    markers: tuple[str, ...] = B_MARKERS
    # What an "import" answers for a record under B: the code of its refusal (or of its row's problem).
    refusal: str = "unknown_parent"


def _b(w: World) -> dict[str, int]:
    return {"area": w.community_b.id, "grid": w.grids["b1"].id, "user": w.users["leader_b"].id,
            "dept": w.departments["b"].id, "grant": w.users["leader_b"].grants[0].id}


def _feature_under_b(w: World) -> dict[str, Any]:
    """A new grid whose parent is community B: refused as an unknown parent, like a parent that does not exist."""
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": box(118.06, 24.41, 118.07, 24.42),
        "properties": {"code": "359901001002009", "name": "新网格", "level": "grid",
                       "parent_code": w.community_b.code, "households": 400, "population": 1100},
    }]}


ROUTES: list[Case] = [
    Case("POST", "/api/v1/auth/token", "public", lambda w: "/api/v1/auth/token"),
    Case("GET", "/api/v1/auth/me", "list", lambda w: "/api/v1/auth/me"),
    Case("POST", "/api/v1/auth/logout", "own", lambda w: "/api/v1/auth/logout"),
    Case("POST", "/api/v1/auth/password", "own", lambda w: "/api/v1/auth/password",
         lambda w: {"current_password": PASSWORD, "new_password": "Matrix-2026-pass"}),
    Case("GET", "/api/v1/users", "list", lambda w: "/api/v1/users?limit=500"),
    # A row naming community B's grid is an unknown area, like one that does not exist; nothing is created.
    Case("POST", "/api/v1/users/imports", "import", lambda w: "/api/v1/users/imports",
         lambda w: {"rows": [{"姓名": "越权", "手机": "13900000009", "角色": "网格员",
                              "区域编码": w.grids["b1"].code}]},
         markers=("乙社区",), refusal="unknown_area"),
    # An import is its creator's only: leader_b's is as unknown to admin_a as one that does not exist.
    Case("POST", "/api/v1/users/imports/{import_id}/confirm", "deny",
         lambda w: f"/api/v1/users/imports/{w.extra['import_b']}/confirm", lambda w: {}),
    Case("GET", "/api/v1/users/imports/{import_id}/codes", "deny",
         lambda w: f"/api/v1/users/imports/{w.extra['import_b']}/codes"),
    Case("POST", "/api/v1/auth/activate", "public", lambda w: "/api/v1/auth/activate"),
    Case("POST", "/api/v1/users/{user_id}/activation-code", "deny",
         lambda w: f"/api/v1/users/{_b(w)['user']}/activation-code"),
    Case("POST", "/api/v1/users", "deny", lambda w: "/api/v1/users",
         lambda w: {"username": "sneaky", "password": "Sneaky2026", "home_area_id": _b(w)["area"]}),
    Case("GET", "/api/v1/users/{user_id}", "deny", lambda w: f"/api/v1/users/{_b(w)['user']}"),
    Case("PATCH", "/api/v1/users/{user_id}", "deny", lambda w: f"/api/v1/users/{_b(w)['user']}",
         lambda w: {"is_active": False}),
    Case("POST", "/api/v1/users/{user_id}/grants", "deny", lambda w: f"/api/v1/users/{_b(w)['user']}/grants",
         lambda w: {"role": "grid_worker", "area_id": w.grids["a1"].id}),
    Case("DELETE", "/api/v1/users/{user_id}/grants/{grant_id}", "deny",
         lambda w: f"/api/v1/users/{_b(w)['user']}/grants/{_b(w)['grant']}"),
    Case("POST", "/api/v1/users/{user_id}/reveal", "deny", lambda w: f"/api/v1/users/{_b(w)['user']}/reveal",
         lambda w: {"field": "phone", "reason": "越权查看测试"}),
    Case("GET", "/api/v1/areas", "list", lambda w: "/api/v1/areas?limit=500"),
    Case("GET", "/api/v1/areas/lookup", "deny", lambda w: "/api/v1/areas/lookup?lon=118.1&lat=24.6"),
    # The base map: public outlines and names of every area, B's included, by design (shiyu.org.areas.drawing).
    Case("GET", "/api/v1/map/base", "public", lambda w: "/api/v1/map/base?zoom=12&west=117&south=24&east=119&north=25"),
    Case("GET", "/api/v1/areas/export", "list", lambda w: "/api/v1/areas/export"),
    Case("POST", "/api/v1/areas/import", "import", lambda w: "/api/v1/areas/import?dry_run=false",
         lambda w: _feature_under_b(w), markers=("乙社区",)),
    Case("GET", "/api/v1/areas/{area_id}", "deny", lambda w: f"/api/v1/areas/{_b(w)['area']}"),
    Case("GET", "/api/v1/areas/{area_id}/children", "deny", lambda w: f"/api/v1/areas/{_b(w)['area']}/children"),
    Case("GET", "/api/v1/areas/{area_id}/boundaries", "deny",
         lambda w: f"/api/v1/areas/{_b(w)['grid']}/boundaries"),
    Case("POST", "/api/v1/areas/{area_id}/boundary-proposals", "deny",
         lambda w: f"/api/v1/areas/{_b(w)['grid']}/boundary-proposals",
         lambda w: {"geometry": box(118.05, 24.55, 118.2, 24.69), "note": "越权提议"}),
    Case("POST", "/api/v1/areas/boundary-proposals/{proposal_id}/approve", "deny",
         lambda w: f"/api/v1/areas/boundary-proposals/{w.extra['proposal_b']}/approve", lambda w: {"note": "批准"}),
    Case("POST", "/api/v1/areas/boundary-proposals/{proposal_id}/reject", "deny",
         lambda w: f"/api/v1/areas/boundary-proposals/{w.extra['proposal_b']}/reject", lambda w: {"note": "驳回"}),
    Case("POST", "/api/v1/cases", "deny", lambda w: "/api/v1/cases",
         lambda w: {"idempotency_key": "sneaky-0001", "channel": "grid", "category_id": w.extra["case_category"],
                    "description": "越权上报", "location": {"lon": 118.10, "lat": 24.6}}),
    Case("GET", "/api/v1/cases", "list", lambda w: "/api/v1/cases?limit=500"),
    # Words of B's description: nothing of B is found.
    Case("GET", "/api/v1/search/cases", "list", lambda w: "/api/v1/search/cases?q=%E4%B9%99%E7%A4%BE%E5%8C%BA"),
    Case("GET", "/api/v1/cases/{case_id}", "deny", lambda w: f"/api/v1/cases/{w.extra['case_b']}"),
    Case("POST", "/api/v1/cases/{case_id}/actions/{action}", "deny",
         lambda w: f"/api/v1/cases/{w.extra['case_b']}/actions/register",
         lambda w: {"expected_version": w.extra["case_b_version"]}),
    Case("POST", "/api/v1/cases/{case_id}/reveal", "deny", lambda w: f"/api/v1/cases/{w.extra['case_b']}/reveal",
         lambda w: {"field": "description", "reason": "越权查看原文"}),
    # Multipart upload: its scope is tested in tests/cases/test_case_api.py (another user's upload is 404).
    Case("POST", "/api/v1/attachments", "public", lambda w: "/api/v1/attachments"),
    Case("GET", "/api/v1/attachments/{attachment_id}", "deny",
         lambda w: f"/api/v1/attachments/{w.extra['attachment_b']}"),
    Case("GET", "/api/v1/attachments/{attachment_id}/thumbnail", "deny",
         lambda w: f"/api/v1/attachments/{w.extra['attachment_b']}/thumbnail"),
    Case("GET", "/api/v1/queues", "list", lambda w: "/api/v1/queues"),
    Case("GET", "/api/v1/queues/{name}", "list", lambda w: "/api/v1/queues/to_register?limit=500"),
    # Public by tracking code, by design (the citizen's receipt); tested in tests/cases/test_case_api.py.
    Case("GET", "/api/v1/track/{code}", "public", lambda w: f"/api/v1/track/{w.extra['case_b_code']}"),
    Case("POST", "/api/v1/track/{code}/evaluate", "public",
         lambda w: f"/api/v1/track/{w.extra['case_b_code']}/evaluate"),
    Case("GET", "/api/v1/indicators", "list", lambda w: "/api/v1/indicators"),
    Case("GET", "/api/v1/indicators/trend", "list", lambda w: "/api/v1/indicators/trend?bucket=month"),
    Case("GET", "/api/v1/indicators/ranking", "list", lambda w: "/api/v1/indicators/ranking?level=community"),
    Case("GET", "/api/v1/indicators/weights", "list", lambda w: "/api/v1/indicators/weights"),
    Case("PUT", "/api/v1/indicators/weights", "deny", lambda w: "/api/v1/indicators/weights",
         lambda w: {"weights": {"closure_rate": 50}}),
    Case("GET", "/api/v1/indicators/{name}/cases", "list", lambda w: "/api/v1/indicators/closure_rate/cases"),
    Case("GET", "/api/v1/centres", "list", lambda w: "/api/v1/centres?limit=500"),
    Case("GET", "/api/v1/centres/{centre_id}", "deny", lambda w: f"/api/v1/centres/{w.extra['centre_b']}"),
    Case("POST", "/api/v1/centres", "deny", lambda w: "/api/v1/centres",
         lambda w: {"area_id": _b(w)["grid"], "name": "乙网格中心"}),
    # Centres and departments in bulk: a row under community B names an unknown area; nothing is written.
    Case("POST", "/api/v1/centres/import", "import", lambda w: "/api/v1/centres/import?dry_run=false",
         lambda w: {"rows": [{"区域编码": w.community_b.code, "名称": "越权中心"}]}, markers=("乙社区",),
         refusal="unknown_area"),
    Case("POST", "/api/v1/departments/import", "import", lambda w: "/api/v1/departments/import?dry_run=false",
         lambda w: {"rows": [{"部门编码": "D-x", "部门名称": "越权部门", "区域编码": w.community_b.code}]},
         markers=("乙社区",), refusal="unknown_area"),
    Case("GET", "/api/v1/departments", "list", lambda w: "/api/v1/departments?limit=500"),
    Case("GET", "/api/v1/departments/{department_id}", "deny", lambda w: f"/api/v1/departments/{_b(w)['dept']}"),
    Case("POST", "/api/v1/departments", "deny", lambda w: "/api/v1/departments",
         lambda w: {"code": "D-X", "name": "越权部门", "area_id": _b(w)["area"]}),
    Case("PATCH", "/api/v1/departments/{department_id}", "deny",
         lambda w: f"/api/v1/departments/{_b(w)['dept']}", lambda w: {"name": "改名"}),
    Case("GET", "/api/v1/audit", "list", lambda w: "/api/v1/audit?limit=500"),
    # City-wide reference data: readable by everyone logged in, writable only with a city-wide grant.
    Case("GET", "/api/v1/categories", "list", lambda w: "/api/v1/categories"),
    Case("GET", "/api/v1/categories/suggested-code", "list",
         lambda w: f"/api/v1/categories/suggested-code?parent_id={w.extra['category']}"),
    Case("POST", "/api/v1/categories/{category_id}/copy-limits", "deny",
         lambda w: f"/api/v1/categories/{w.extra['minor']}/copy-limits", lambda w: {"source_id": w.extra["minor"]}),
    Case("GET", "/api/v1/categories/{category_id}", "list", lambda w: f"/api/v1/categories/{w.extra['category']}"),
    Case("POST", "/api/v1/categories", "deny", lambda w: "/api/v1/categories",
         lambda w: {"kind": "incident", "code": "X01", "name_zh": "越权大类"}),
    Case("PATCH", "/api/v1/categories/{category_id}", "deny",
         lambda w: f"/api/v1/categories/{w.extra['category']}", lambda w: {"name_zh": "改名"}),
    Case("GET", "/api/v1/outbox/parked", "deny", lambda w: "/api/v1/outbox/parked"),
    Case("POST", "/api/v1/outbox/parked/{delivery_id}/redeliver", "deny",
         lambda w: "/api/v1/outbox/parked/1/redeliver"),
    Case("POST", "/api/v1/outbox/parked/{delivery_id}/discard", "deny", lambda w: "/api/v1/outbox/parked/1/discard"),
    Case("GET", "/api/v1/calendar/office-hours", "list", lambda w: "/api/v1/calendar/office-hours"),
    Case("PUT", "/api/v1/calendar/office-hours", "deny", lambda w: "/api/v1/calendar/office-hours",
         lambda w: {"periods": [{"start": "09:00", "end": "17:00"}], "weekend": [5, 6]}),
    Case("GET", "/api/v1/calendar/years/{year}", "list", lambda w: "/api/v1/calendar/years/2026"),
    Case("PUT", "/api/v1/calendar/years/{year}", "deny", lambda w: "/api/v1/calendar/years/2026",
         lambda w: {"ranges": []}),
    Case("GET", "/api/v1/calendar/deadline", "list", lambda w: "/api/v1/calendar/deadline?amount=1"),
    Case("GET", "/api/v1/routing/rules", "list", lambda w: "/api/v1/routing/rules?limit=500"),
    Case("GET", "/api/v1/routing/rules/{rule_id}", "deny", lambda w: f"/api/v1/routing/rules/{w.extra['rule_b']}"),
    Case("POST", "/api/v1/routing/rules", "deny", lambda w: "/api/v1/routing/rules",
         lambda w: {"category_id": w.extra["category"], "area_id": _b(w)["area"], "department_id": _b(w)["dept"]}),
    Case("PATCH", "/api/v1/routing/rules/{rule_id}", "deny", lambda w: f"/api/v1/routing/rules/{w.extra['rule_b']}",
         lambda w: {"priority": 9}),
    Case("DELETE", "/api/v1/routing/rules/{rule_id}", "deny",
         lambda w: f"/api/v1/routing/rules/{w.extra['rule_b']}"),
    Case("POST", "/api/v1/routing/preview", "deny", lambda w: "/api/v1/routing/preview",
         lambda w: {"category_id": w.extra["minor"], "area_id": _b(w)["grid"], "attributes": {}}),
    # Triage models are city-wide: admin_a (an admin of community A) may list them but not switch or retrain.
    Case("GET", "/api/v1/triage/models", "list", lambda w: "/api/v1/triage/models"),
    Case("POST", "/api/v1/triage/models/{version}/activate", "deny", lambda w: "/api/v1/triage/models/1/activate"),
    Case("POST", "/api/v1/triage/retrain", "deny", lambda w: "/api/v1/triage/retrain"),
    Case("GET", "/api/v1/triage/cases/{case_id}/suggestions", "deny",
         lambda w: f"/api/v1/triage/cases/{w.extra['case_b']}/suggestions"),
    Case("POST", "/api/v1/patrol/checkins", "deny", lambda w: "/api/v1/patrol/checkins",
         lambda w: patrol_body({"lon": 118.10, "lat": 24.6}, key="sneaky-checkin", grid_id=_b(w)["grid"])),
    Case("GET", "/api/v1/patrol/checkins", "list", lambda w: "/api/v1/patrol/checkins?limit=500"),
    # A heartbeat concerns only the caller's own row; admin_a does not patrol, so it is refused outright.
    Case("POST", "/api/v1/patrol/presence", "deny", lambda w: "/api/v1/patrol/presence"),
    Case("GET", "/api/v1/patrol/presence", "list", lambda w: "/api/v1/patrol/presence?limit=500",
         markers=(*B_MARKERS, "worker_b1")),
    Case("GET", "/api/v1/cases/{case_id}/duplicates", "deny",
         lambda w: f"/api/v1/cases/{w.extra['case_b']}/duplicates"),
    Case("GET", "/api/v1/hot-issues", "list", lambda w: "/api/v1/hot-issues?limit=200&include_dismissed=true"),
    Case("GET", "/api/v1/hot-issues/{issue_id}", "deny", lambda w: f"/api/v1/hot-issues/{w.extra['hot_issue_b']}"),
    Case("POST", "/api/v1/hot-issues/{issue_id}/confirm", "deny",
         lambda w: f"/api/v1/hot-issues/{w.extra['hot_issue_b']}/confirm"),
    Case("POST", "/api/v1/hot-issues/{issue_id}/dismiss", "deny",
         lambda w: f"/api/v1/hot-issues/{w.extra['hot_issue_b']}/dismiss"),
    Case("POST", "/api/v1/hot-issues/{issue_id}/split", "deny",
         lambda w: f"/api/v1/hot-issues/{w.extra['hot_issue_b']}/split", lambda w: {"case_ids": [w.extra["case_b"]]}),
    Case("GET", "/api/v1/registry/persons", "list", lambda w: "/api/v1/registry/persons?limit=500"),
    Case("GET", "/api/v1/registry/persons/{person_id}", "deny",
         lambda w: f"/api/v1/registry/persons/{w.extra['person_b']}"),
    Case("POST", "/api/v1/registry/persons/{person_id}/reveal", "deny",
         lambda w: f"/api/v1/registry/persons/{w.extra['person_b']}/reveal",
         lambda w: {"field": "name", "reason": "核实身份信息"}),
    Case("POST", "/api/v1/registry/persons/{person_id}/merge", "deny",
         lambda w: f"/api/v1/registry/persons/{w.extra['person_b']}/merge",
         lambda w: {"duplicate_id": w.extra["person_b2"]}),
    Case("GET", "/api/v1/registry/duplicates", "list", lambda w: "/api/v1/registry/duplicates"),
    Case("GET", "/api/v1/registry/buildings", "list", lambda w: "/api/v1/registry/buildings?limit=500"),
    Case("GET", "/api/v1/registry/houses", "list", lambda w: "/api/v1/registry/houses?limit=500"),
    Case("GET", "/api/v1/registry/houses/{house_id}", "deny",
         lambda w: f"/api/v1/registry/houses/{w.extra['house_b']}"),
    Case("GET", "/api/v1/registry/units", "list", lambda w: "/api/v1/registry/units?limit=500"),
    Case("GET", "/api/v1/registry/units/{unit_id}", "deny", lambda w: f"/api/v1/registry/units/{w.extra['unit_b']}"),
    Case("GET", "/api/v1/registry/components", "list", lambda w: "/api/v1/registry/components?limit=500"),
    # A change named for grid b1 is refused like a grid that does not exist; nothing is recorded.
    Case("POST", "/api/v1/registry/changes", "deny", lambda w: "/api/v1/registry/changes",
         lambda w: {"entity": "household", "action": "create", "grid_id": _b(w)["grid"], "data": family()}),
    Case("GET", "/api/v1/registry/changes", "list", lambda w: "/api/v1/registry/changes?limit=500"),
    Case("GET", "/api/v1/registry/changes/{change_id}", "deny",
         lambda w: f"/api/v1/registry/changes/{w.extra['change_b']}"),
    *(Case("POST", f"/api/v1/registry/changes/{{change_id}}/{verb}", "deny",
           lambda w, verb=verb: f"/api/v1/registry/changes/{w.extra['change_b']}/{verb}",
           lambda w: {"note": "越权处理"}) for verb in ("review", "accept", "return")),
    # Community B's department type, campaign and item; a campaign sent to grid b1 names an unknown area.
    Case("GET", "/api/v1/tasks/types", "list", lambda w: "/api/v1/tasks/types"),
    Case("POST", "/api/v1/tasks/types", "deny", lambda w: "/api/v1/tasks/types",
         lambda w: {"code": "sneaky.check", "name": "越权事项", "department_id": _b(w)["dept"],
                    "legal_basis": "无", "form": []}),
    Case("GET", "/api/v1/tasks/types/{type_id}", "deny", lambda w: f"/api/v1/tasks/types/{w.extra['task_type_b']}"),
    Case("POST", "/api/v1/tasks/types/{type_id}/decision", "deny",
         lambda w: f"/api/v1/tasks/types/{w.extra['task_type_b']}/decision", lambda w: {"decision": "admit"}),
    Case("POST", "/api/v1/tasks/types/{type_id}/exit", "deny",
         lambda w: f"/api/v1/tasks/types/{w.extra['task_type_b']}/exit", lambda w: {"note": "越权退出"}),
    Case("GET", "/api/v1/tasks/assignments", "list", lambda w: "/api/v1/tasks/assignments?limit=500"),
    Case("POST", "/api/v1/tasks/assignments", "deny", lambda w: "/api/v1/tasks/assignments",
         lambda w: {"type_code": "rental.check", "title": "越权派发", "due_at": "2099-01-01T00:00:00+08:00",
                    "grid_ids": [_b(w)["grid"]]}),
    Case("GET", "/api/v1/tasks/assignments/{assignment_id}/progress", "deny",
         lambda w: f"/api/v1/tasks/assignments/{w.extra['assignment_b']}/progress"),
    Case("GET", "/api/v1/tasks/items", "list", lambda w: "/api/v1/tasks/items?limit=500"),
    Case("GET", "/api/v1/tasks/items/{item_id}", "deny", lambda w: f"/api/v1/tasks/items/{w.extra['item_b']}"),
    Case("POST", "/api/v1/tasks/items/{item_id}/actions", "deny",
         lambda w: f"/api/v1/tasks/items/{w.extra['item_b']}/actions", lambda w: {"action": "review"}),
    # Key persons: admin_a holds no key-person right at all (the strictest access), so even the reference
    # routes answer 403; community B's record, grade request and hand-over are never seen.
    Case("GET", "/api/v1/keypersons/groups", "deny", lambda w: "/api/v1/keypersons/groups"),
    Case("GET", "/api/v1/keypersons/plans", "deny", lambda w: "/api/v1/keypersons/plans"),
    Case("PUT", "/api/v1/keypersons/plans/{plan_id}", "deny",
         lambda w: f"/api/v1/keypersons/plans/{w.extra['kp_plan']}", lambda w: {"interval_days": 1}),
    Case("GET", "/api/v1/keypersons/records", "list", lambda w: "/api/v1/keypersons/records?limit=500"),
    Case("POST", "/api/v1/keypersons/records", "deny", lambda w: "/api/v1/keypersons/records",
         lambda w: {"person_id": w.extra["person_b2"], "group_code": "released", "grade": "red", "source": "police",
                    "attributes": {"offence": "盗窃罪", "released_on": "2026-01-01"}}),
    Case("GET", "/api/v1/keypersons/records/{record_id}", "deny",
         lambda w: f"/api/v1/keypersons/records/{w.extra['kp_record_b']}"),
    Case("GET", "/api/v1/keypersons/records/{record_id}/timeline", "deny",
         lambda w: f"/api/v1/keypersons/records/{w.extra['kp_record_b']}/timeline"),
    Case("POST", "/api/v1/keypersons/records/{record_id}/reveal", "deny",
         lambda w: f"/api/v1/keypersons/records/{w.extra['kp_record_b']}/reveal",
         lambda w: {"field": "name", "reason": "越权查看"}),
    Case("POST", "/api/v1/keypersons/records/{record_id}/act", "deny",
         lambda w: f"/api/v1/keypersons/records/{w.extra['kp_record_b']}/act", lambda w: {"action": "release"}),
    Case("PUT", "/api/v1/keypersons/records/{record_id}/team", "deny",
         lambda w: f"/api/v1/keypersons/records/{w.extra['kp_record_b']}/team",
         lambda w: {"grid_worker_id": w.users["worker_a1"].id}),
    Case("POST", "/api/v1/keypersons/records/{record_id}/grade", "deny",
         lambda w: f"/api/v1/keypersons/records/{w.extra['kp_record_b']}/grade",
         lambda w: {"to_grade": "green", "reason": "越权调整"}),
    Case("GET", "/api/v1/keypersons/grade-requests", "list", lambda w: "/api/v1/keypersons/grade-requests"),
    Case("POST", "/api/v1/keypersons/grade-requests/{change_id}/decide", "deny",
         lambda w: f"/api/v1/keypersons/grade-requests/{w.extra['kp_grade_b']}/decide",
         lambda w: {"approve": True}),
    Case("GET", "/api/v1/keypersons/records/{record_id}/visits", "deny",
         lambda w: f"/api/v1/keypersons/records/{w.extra['kp_record_b']}/visits"),
    Case("POST", "/api/v1/keypersons/records/{record_id}/visits", "deny",
         lambda w: f"/api/v1/keypersons/records/{w.extra['kp_record_b']}/visits",
         lambda w: {"visited_on": "2026-12-01"}),
    Case("GET", "/api/v1/keypersons/my-visits", "list", lambda w: "/api/v1/keypersons/my-visits"),
    Case("GET", "/api/v1/keypersons/dashboard", "deny",
         lambda w: f"/api/v1/keypersons/dashboard?area_id={w.community_b.id}"),
    Case("POST", "/api/v1/keypersons/census", "deny", lambda w: "/api/v1/keypersons/census",
         lambda w: {"area_id": _b(w)["area"], "due_at": "2030-01-01T00:00:00+08:00", "title": "越权清查"}),
    Case("GET", "/api/v1/keypersons/handovers", "list", lambda w: "/api/v1/keypersons/handovers"),
    Case("POST", "/api/v1/keypersons/handovers", "deny", lambda w: "/api/v1/keypersons/handovers",
         lambda w: {"group_code": "released", "to_grid_id": w.grids["b1"].id, "person_id": w.extra["person_b2"],
                    "from_org": "越权监狱", "document_no": "X-1"}),
    Case("POST", "/api/v1/keypersons/handovers/{handover_id}/receive", "deny",
         lambda w: f"/api/v1/keypersons/handovers/{w.extra['kp_handover_b']}/receive",
         lambda w: {"received_items": ["释放证明书"], "grid_worker_id": w.users["worker_a1"].id, "grade": "red",
                    "attributes": {"offence": "盗窃罪", "released_on": "2026-01-01"}}),
    Case("POST", "/api/v1/keypersons/handovers/{handover_id}/cancel", "deny",
         lambda w: f"/api/v1/keypersons/handovers/{w.extra['kp_handover_b']}/cancel", lambda w: {"note": "越权"}),
    # Disputes (shiyu.disputes): B's dispute, its party, referral, question and proof answer like strangers.
    Case("GET", "/api/v1/disputes", "list", lambda w: "/api/v1/disputes?limit=500"),
    Case("POST", "/api/v1/disputes", "deny", lambda w: "/api/v1/disputes",
         lambda w: {"title": "乙社区纠纷", "type_code": "neighbour", "lon": 118.10, "lat": 24.6}),
    Case("GET", "/api/v1/disputes/types", "list", lambda w: "/api/v1/disputes/types"),
    Case("GET", "/api/v1/disputes/indicators", "list", lambda w: "/api/v1/disputes/indicators"),
    Case("GET", "/api/v1/disputes/map", "list", lambda w: "/api/v1/disputes/map"),
    Case("POST", "/api/v1/disputes/screening", "deny", lambda w: "/api/v1/disputes/screening",
         lambda w: {"area_id": _b(w)["area"], "due_at": "2030-01-01T00:00:00+08:00", "title": "越权排查"}),
    Case("GET", "/api/v1/disputes/referrals", "list", lambda w: "/api/v1/disputes/referrals?all=true&limit=500"),
    Case("POST", "/api/v1/disputes/referrals/{referral_id}/feedback", "deny",
         lambda w: f"/api/v1/disputes/referrals/{w.extra['referral_b']}/feedback",
         lambda w: {"status": "done", "feedback": "越权反馈"}),
    Case("GET", "/api/v1/disputes/questions", "list", lambda w: "/api/v1/disputes/questions?unanswered=false"),
    Case("POST", "/api/v1/disputes/questions/{question_id}/answer", "deny",
         lambda w: f"/api/v1/disputes/questions/{w.extra['question_b']}/answer", lambda w: {"answer": "越权答复"}),
    Case("GET", "/api/v1/disputes/orgs", "list", lambda w: "/api/v1/disputes/orgs"),
    Case("POST", "/api/v1/disputes/orgs", "deny", lambda w: "/api/v1/disputes/orgs",
         lambda w: {"area_id": _b(w)["area"], "kind": "village", "name": "越权调委会"}),
    Case("PATCH", "/api/v1/disputes/orgs/{org_id}", "deny", lambda w: f"/api/v1/disputes/orgs/{w.extra['org_b']}",
         lambda w: {"name": "越权改名", "active": False}),
    Case("GET", "/api/v1/disputes/mediators", "list", lambda w: "/api/v1/disputes/mediators"),
    # Moving one's own mediator into B's organisation is refused too (tests/disputes/test_pool.py).
    Case("PATCH", "/api/v1/disputes/mediators/{mediator_id}", "deny",
         lambda w: f"/api/v1/disputes/mediators/{w.extra['mediator_b']}", lambda w: {"active": False}),
    Case("POST", "/api/v1/disputes/mediators", "deny", lambda w: "/api/v1/disputes/mediators",
         lambda w: {"org_id": w.extra["org_b"], "name": "越权"}),
    Case("POST", "/api/v1/disputes/from-case/{case_id}", "deny",
         lambda w: f"/api/v1/disputes/from-case/{w.extra['case_b']}", lambda w: {"type_code": "neighbour"}),
    Case("POST", "/api/v1/disputes/parties/{party_id}/reveal", "deny",
         lambda w: f"/api/v1/disputes/parties/{w.extra['party_b']}/reveal",
         lambda w: {"field": "name", "reason": "越权查看当事人"}),
    Case("GET", "/api/v1/disputes/{dispute_id}", "deny", lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}"),
    Case("POST", "/api/v1/disputes/{dispute_id}/actions/{action}", "deny",
         lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}/actions/escalate",
         lambda w: {"version": w.extra["dispute_b_version"], "note": "越权上报"}),
    Case("POST", "/api/v1/disputes/{dispute_id}/parties", "deny",
         lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}/parties", lambda w: {"role": "third", "name": "越权"}),
    Case("POST", "/api/v1/disputes/{dispute_id}/sessions", "deny",
         lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}/sessions",
         lambda w: {"starts_at": "2026-12-01T09:00:00+08:00", "place": "越权调解室"}),
    Case("POST", "/api/v1/disputes/{dispute_id}/confirmation", "deny",
         lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}/confirmation",
         lambda w: {"court": "越权法院", "applied_on": "2026-12-01"}),
    Case("POST", "/api/v1/disputes/{dispute_id}/confirmation/result", "deny",
         lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}/confirmation/result",
         lambda w: {"result": "confirmed", "decided_on": "2026-12-01"}),
    Case("POST", "/api/v1/disputes/{dispute_id}/questions", "deny",
         lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}/questions", lambda w: {"question": "越权提问"}),
    Case("POST", "/api/v1/disputes/{dispute_id}/documents/{kind}", "deny",
         lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}/documents/acceptance?format=pdf",
         lambda w: {"field": "document", "reason": "越权生成文书"}),
    Case("POST", "/api/v1/disputes/{dispute_id}/proofs", "deny",
         lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}/proofs"),
    Case("GET", "/api/v1/disputes/{dispute_id}/proofs/{proof_id}", "deny",
         lambda w: f"/api/v1/disputes/{w.extra['dispute_b']}/proofs/{w.extra['proof_b']}"),
    # Petitions: admin_a is also community A's petition officer; B's petitions, petitioners and reception
    # days answer like ones that do not exist, and B's area cannot be registered for.
    Case("GET", "/api/v1/petitions", "list", lambda w: "/api/v1/petitions?limit=500"),
    Case("POST", "/api/v1/petitions", "deny", lambda w: "/api/v1/petitions",
         lambda w: {"area_id": _b(w)["area"], "channel": "visit", "demands": "越权登记",
                    "petitioners": [{"name": "越权"}]}),
    Case("GET", "/api/v1/petitions/backlog", "list", lambda w: "/api/v1/petitions/backlog"),
    Case("GET", "/api/v1/petitions/indicators", "list", lambda w: "/api/v1/petitions/indicators"),
    Case("GET", "/api/v1/petitions/receptions", "list", lambda w: "/api/v1/petitions/receptions?limit=500"),
    Case("POST", "/api/v1/petitions/receptions", "deny", lambda w: "/api/v1/petitions/receptions",
         lambda w: {"area_id": _b(w)["area"], "leader_id": _b(w)["user"], "day": "2026-12-01", "place": "越权",
                    "petition_ids": [w.extra["petition_b"]]}),
    Case("GET", "/api/v1/petitions/limits", "list", lambda w: "/api/v1/petitions/limits"),
    # A city's time limits: a grant over one community is not enough.
    Case("PUT", "/api/v1/petitions/limits/{key}", "deny", lambda w: "/api/v1/petitions/limits/accept",
         lambda w: {"amount": 10, "unit": "natural_days"}),
    Case("GET", "/api/v1/petitions/{petition_id}", "deny", lambda w: f"/api/v1/petitions/{w.extra['petition_b']}"),
    Case("POST", "/api/v1/petitions/{petition_id}/actions/{action}", "deny",
         lambda w: f"/api/v1/petitions/{w.extra['petition_b']}/actions/accept", lambda w: {}),
    Case("POST", "/api/v1/petitions/{petition_id}/reveal", "deny",
         lambda w: f"/api/v1/petitions/{w.extra['petition_b']}/reveal",
         lambda w: {"petitioner_id": w.extra["petitioner_b"], "field": "name", "reason": "越权查看信访人"}),
    Case("POST", "/api/v1/petitions/{petition_id}/links", "deny",
         lambda w: f"/api/v1/petitions/{w.extra['petition_b']}/links",
         lambda w: {"kind": "raise_warning", "reason": "越权预警"}),
    Case("POST", "/api/v1/petitions/{petition_id}/documents/{kind}", "deny",
         lambda w: f"/api/v1/petitions/{w.extra['petition_b']}/documents/acceptance?format=pdf",
         lambda w: {"reason": "越权生成信访文书"}),
    Case("GET", "/api/v1/registry/quality", "list", lambda w: "/api/v1/registry/quality"),
    Case("POST", "/api/v1/registry/persons/export", "deny", lambda w: "/api/v1/registry/persons/export",
         lambda w: {"grid_id": w.grids["b1"].id, "reason": "越权导出名单"}),
    Case("POST", "/api/v1/registry/imports", "import", lambda w: "/api/v1/registry/imports?kind=units&mode=all",
         lambda w: {"rows": [{"统一社会信用代码": registry_credit_code(), "名称": "越权单位",
                              "网格编码": w.grids["b1"].code}]}, markers=("乙社区",), refusal="unknown_grid"),
]


@pytest.fixture
def world(system_session) -> World:
    w = populated(system_session)
    add_user(system_session, "admin_a", w.community_a, [("admin", w.community_a), ("auditor", w.community_a),
                                                        ("petition_officer", w.community_a)])
    major = Category(kind="incident", code="I01", name_zh="市容环境")
    minor = Category(kind="incident", code="I0101", name_zh="暴露垃圾", parent=major, time_limits=LIMITS, fields=[])
    proposal_b = AreaBoundary(area_id=w.grids["b1"].id, version=2, geometry=box(118.05, 24.55, 118.2, 24.69),
                              status="proposed", proposed_at=utcnow(), area_path=w.grids["b1"].area_path)
    rule_b = RoutingRule(name="乙社区垃圾", category_id=None, kind="incident", area_id=w.community_b.id,
                         area_prefix=w.community_b.area_path, department_id=w.departments["b"].id)
    case_extra = scope_matrix_extra(system_session, w)
    case_extra.update(patrol_extra(system_session, w))
    case_extra.update(registry_extra(system_session, w))
    case_extra.update(tasks_extra(system_session, w))
    case_extra.update(keypersons_extra(system_session, w, case_extra["person_b"]))
    case_extra.update(dispute_extra(system_session, w))
    case_extra.update(petition_extra(system_session, w))
    case_extra.update(hot_extra(system_session, w, case_extra["case_b"]))
    case_category = w.extra.pop("category")
    import_b = UserImport(created_by=w.users["leader_b"].id, file_name="b.xlsx", rows="[]")
    system_session.add_all([major, minor, rule_b, proposal_b, import_b])
    system_session.flush()
    w.extra = {
        "centre_b": system_session.scalar(select(Centre.id).where(Centre.area_id == w.community_b.id)),
        "category": major.id, "minor": minor.id, "rule_b": rule_b.id, "proposal_b": proposal_b.id,
        "case_category": case_category.id, "import_b": import_b.id, **case_extra,
    }
    system_session.commit()
    return w


def _audit_count(factory) -> int:
    with factory() as s:
        s.info["principal"] = Principal.system()
        return s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor_name == "admin_a"))


def test_every_route_is_in_the_matrix(app):
    declared = {(c.method, c.path) for c in ROUTES}
    actual = {
        (method.upper(), path) for path, ops in app.openapi()["paths"].items() if path.startswith("/api/v1")
        for method in ops
    }
    assert actual - declared == set(), "add these routes to tests/test_scope_matrix.py"
    assert declared - actual == set()


@pytest.mark.parametrize("case", [c for c in ROUTES if c.kind != "public"], ids=lambda c: f"{c.method} {c.path}")
def test_community_a_cannot_reach_b(case: Case, client, world, factory):
    h = login(client, "admin_a")
    before = _audit_count(factory) if case.kind in ("deny", "import") else None
    body = case.body(world) if case.body else None
    r = client.request(case.method, case.url(world), json=body, headers=h)
    text = r.text
    assert not any(m in text for m in case.markers), f"{case.path} reveals community B: {text[:300]}"
    if case.kind == "import":
        assert r.status_code in (201, 422) and case.refusal in text, (r.status_code, text)
        # A people import's dry run (201) keeps its rows for the confirmation: that draft is its only write.
        assert _audit_count(factory) == before + (r.status_code == 201)
    elif case.kind == "deny":
        assert r.status_code in (403, 404), (r.status_code, text)
        assert _audit_count(factory) == before, "a refused write left a trace of a change"
    elif case.kind == "own":
        assert r.status_code in (200, 204), text
    else:
        assert r.status_code == 200, text


def test_sanity_the_same_user_reaches_a(client, world):
    """Guards the matrix against passing only because everything is refused."""
    h = login(client, "admin_a")
    names = {u["username"] for u in client.get("/api/v1/users?limit=500", headers=h).json()["items"]}
    assert {"leader_a", "worker_a1", "operator_a"} <= names
    assert client.get(f"/api/v1/departments/{world.departments['a'].id}", headers=h).status_code == 200
    assert client.get("/api/v1/audit", headers=h).json()["total"] > 0


@pytest.mark.parametrize("params", ["area_id={area}", "area_id={area}&bucket=month"])
def test_indicators_of_b_are_not_found(client, world, params):
    h = login(client, "admin_a")
    area = world.community_b.id
    for path in ("/api/v1/indicators", "/api/v1/indicators/trend", "/api/v1/indicators/closure_rate/cases"):
        r = client.get(f"{path}?{params.format(area=area)}", headers=h)
        assert r.status_code == 404, (path, r.text)
        assert not any(m in r.text for m in B_MARKERS)
