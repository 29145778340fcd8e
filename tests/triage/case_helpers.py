"""Filing cases with chosen texts through the intake service, for the duplicate and hot-issue tests."""

from __future__ import annotations

import itertools
from datetime import timedelta

from shiyu.cases.intake import service as intake
from shiyu.cases.schemas import IntakeIn
from shiyu.core import outbox
from shiyu.core.db import make_session_factory
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.triage import tasks as _subscribers  # noqa: F401  (registers the outbox subscribers, as the worker does)
from tests.cases.case_fixtures import POINT_A1, POINT_B1, SH, case_world, principal
from tests.factories import World, add_user

TEXT = "幸福路12号门口的人行道上有流动摊贩占道经营，行人无法通过"
NEAR_A1 = {"lon": 117.951, "lat": 24.6005}  # about 110 m from POINT_A1, same grid
OTHER_A = {"lon": 117.96, "lat": 24.45}  # community A, grid a2, kilometres away
_keys = itertools.count(1)


def report(s, w, who: str = "worker_a1", *, description: str, channel: str = "grid", point: dict | None = None,
           now=None, commit: bool = True, **extra):
    """File a case with this test's text through the intake service as ``who`` (``public``: nobody), then
    deliver the outbox as the worker would, so duplicate finding has run (``commit=False``: neither; the
    transaction stays open)."""
    p = principal(s, w, who) if who != "public" else Principal(user_id=None, username="public")
    s.info["principal"] = p
    body = IntakeIn(idempotency_key=f"dup-{next(_keys):06d}", channel=channel, category_id=w.extra["category"].id,
                    description=description, location=point or POINT_A1, **extra)
    result = intake.intake(s, p, body, SH, now=now)
    if not commit:
        s.flush()
        return result
    s.commit()
    outbox.deliver_pending(make_session_factory(s.get_bind()))  # what the worker does within a minute
    s.expire_all()
    return result


def citizen(phone: str | None = "13900001234", name: str = "陈先生") -> dict:
    return {"reporter": {"name": name, "phone": phone}} if phone else {}


BURST = ["幸福路菜市场门口流动摊贩占道经营，早上堵得车都过不去", "幸福路菜市场门口又有流动摊贩占道经营，堵路严重",
         "幸福路菜市场门口流动摊贩占道经营，行人车辆无法通行", "幸福路菜市场门口流动摊贩占道经营问题一直没人管",
         "幸福路菜市场门口早上流动摊贩占道经营，交通拥堵", "反映幸福路菜市场门口流动摊贩占道经营的问题"]
PAIR_B = ["乙社区公园路灯不亮，晚上散步很危险", "乙社区公园路灯坏了不亮，晚上很危险",
          "乙社区公园路灯一直不亮，夜里很危险"]
NOISE = ["小区二号楼电梯停运三天无人维修", "楼下饭店油烟直排扰民", "绿化带里堆放建筑垃圾无人清理"]


def hot_world(s) -> World:
    """The case world with an analyst for each community."""
    world = case_world(s)
    world.users["analyst_a"] = add_user(s, "analyst_a", world.community_a, [("analyst", world.community_a)])
    world.users["analyst_b"] = add_user(s, "analyst_b", world.community_b, [("analyst", world.community_b)])
    s.commit()
    return world


def burst(s, w) -> dict[str, list[int]]:
    """Six similar citizen reports in community A over a week (different people), three in B, some noise."""
    now = utcnow()
    ids: dict[str, list[int]] = {"a": [], "b": [], "noise": []}
    for i, text in enumerate(BURST):
        point = POINT_A1 if i % 2 else OTHER_A
        ids["a"].append(report(s, w, "public", channel="citizen", description=text, point=point,
                               now=now - timedelta(days=6 - i), **citizen(phone=f"1390000{i:04d}")).case.id)
    for i, text in enumerate(PAIR_B):
        ids["b"].append(report(s, w, "public", channel="citizen", description=text, point=POINT_B1,
                               now=now - timedelta(days=3 - i), **citizen(phone=f"1380000{i:04d}")).case.id)
    for text in NOISE:
        ids["noise"].append(report(s, w, description=text).case.id)
    old = report(s, w, "public", channel="citizen", description=BURST[0], now=now - timedelta(days=45),
                 **citizen(phone="13700009999")).case.id
    ids["old"] = [old]
    return ids


def scope_matrix_extra(s, w: World, case_b: int) -> dict[str, int]:
    """A hot issue of community B (with B's case as its member) for tests/test_scope_matrix.py."""
    from shiyu.triage.hot.models import HotIssue, HotIssueMember

    s.info["principal"] = Principal.system("test")
    issue = HotIssue(place_area_id=w.community_b.id, area_path=w.community_b.area_path, title="乙社区的热点",
                     size=1, reporters=1, heat=1.0)
    s.add(issue)
    s.flush()
    s.add(HotIssueMember(issue_id=issue.id, case_id=case_b, area_path=w.community_b.area_path))
    s.flush()
    return {"hot_issue_b": issue.id}
