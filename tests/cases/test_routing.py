"""Routing: owner-first components, territory-first incidents, specificity, priority, eligibility of the
target, the territory fallback, explanations, and rule validation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import event as sa_event

from shiyu.cases.routing import service as svc
from shiyu.cases.routing.models import Basis
from shiyu.cases.routing.schemas import RuleIn, RulePatch
from shiyu.core.errors import Forbidden, NotFound, ValidationFailed
from shiyu.core.scoping import GrantScope, Principal
from shiyu.org.areas.models import Area, AreaLevel
from shiyu.org.identity.service import principal_for
from shiyu.org.units.models import Department, DepartmentJurisdiction
from tests.cases.conftest import Cats
from tests.factories import World, make_people, make_world

SYSTEM = Principal.system("test")


@dataclass
class RW:
    w: World
    c: Cats
    muni: Department  # 区市政园林局: district, component + incident
    power: Department  # 供电公司: city, component only
    chengguan: Department  # 区城管局: district, incident only
    housing: Department  # 区住建局: district, incident only

    def grid(self, key: str) -> Area:
        return self.w.grids[key]


def add_department(s, code: str, name: str, seat: Area, kinds: list[str], jurisdiction: Area) -> Department:
    d = Department(code=code, name=name, area_id=seat.id, area_path=seat.area_path, category_kinds=kinds)
    d.jurisdictions.append(DepartmentJurisdiction(area_id=jurisdiction.id, area_path=jurisdiction.area_path))
    s.add(d)
    s.flush()
    return d


@pytest.fixture
def rw(system_session, cats) -> RW:
    s = system_session
    w = make_world(s)
    both = ["component", "incident"]
    result = RW(
        w, cats,
        muni=add_department(s, "D-muni", "区市政园林局", w.district, both, w.district),
        power=add_department(s, "D-power", "供电公司", w.city, ["component"], w.city),
        chengguan=add_department(s, "D-cg", "区城管局", w.district, ["incident"], w.district),
        housing=add_department(s, "D-zj", "区住建局", w.district, ["incident"], w.district),
    )
    s.commit()
    return result


def rule(s, **kw) -> int:
    return svc.create_rule(s, SYSTEM, RuleIn(**kw)).id


def test_component_goes_to_its_owner_first(system_session, rw):
    s = system_session
    territorial = rule(s, category_id=rw.c.power_cover.id, area_id=rw.w.district.id, department_id=rw.muni.id)
    owner = rule(s, category_id=rw.c.utilities.id, conditions={"owner": "供电公司"}, department_id=rw.power.id)
    d = svc.route(s, rw.c.power_cover, rw.grid("a1"), {"owner": "供电公司"})
    assert (d.rule_id, d.department_id, d.centre_id, d.basis) == (owner, rw.power.id, None, Basis.OWNER)
    assert d.explanation_zh == f"“公用设施”问题由供电公司负责（按权属，设施属于供电公司，派遣规则第{owner}号）"
    assert d.explanation_en == (f"“公用设施” problems go to 供电公司 (by ownership: the facility belongs to 供电公司, "
                                f"routing rule no. {owner})")
    unknown_owner = svc.route(s, rw.c.power_cover, rw.grid("a1"), {})
    assert (unknown_owner.rule_id, unknown_owner.department_id) == (territorial, rw.muni.id)
    assert unknown_owner.explanation_zh == (f"东区的“电力井盖”问题由区市政园林局负责"
                                            f"（按属地管理，派遣规则第{territorial}号）")
    other_owner = svc.route(s, rw.c.power_cover, rw.grid("a1"), {"owner": "市政"})
    assert other_owner.rule_id == territorial


def test_incident_goes_to_the_territory_first(system_session, rw):
    s = system_session
    territorial = rule(s, category_id=rw.c.noise.id, area_id=rw.w.community_a.id,
                       department_id=rw.w.departments["a"].id)
    owner = rule(s, category_id=rw.c.noise.id, conditions={"owner": "住建"}, department_id=rw.housing.id, priority=50)
    in_a = svc.route(s, rw.c.noise, rw.grid("a2"), {"owner": "住建"})
    assert (in_a.rule_id, in_a.department_id, in_a.basis) == (territorial, rw.w.departments["a"].id, Basis.TERRITORY)
    in_b = svc.route(s, rw.c.noise, rw.grid("b1"), {"owner": "住建"})  # no territorial rule for B: the owner
    assert (in_b.rule_id, in_b.department_id, in_b.basis) == (owner, rw.housing.id, Basis.OWNER)


def test_more_specific_category_then_area_then_priority(system_session, rw):
    s = system_session
    anything = rule(s, area_id=rw.w.street.id, department_id=rw.chengguan.id, priority=100)
    incidents = rule(s, kind="incident", department_id=rw.chengguan.id)
    major = rule(s, category_id=rw.c.appearance.id, department_id=rw.chengguan.id)
    assert svc.route(s, rw.c.rubbish, rw.grid("a1"), {}).rule_id == major  # major beats kind and "all"
    city_minor = rule(s, category_id=rw.c.rubbish.id, department_id=rw.chengguan.id, priority=-5)
    assert svc.route(s, rw.c.rubbish, rw.grid("a1"), {}).rule_id == city_minor  # minor beats major
    street_minor = rule(s, category_id=rw.c.rubbish.id, area_id=rw.w.street.id, department_id=rw.muni.id,
                        priority=-10)
    assert svc.route(s, rw.c.rubbish, rw.grid("a1"), {}).rule_id == street_minor  # deeper area beats priority
    tie_low = rule(s, category_id=rw.c.rubbish.id, area_id=rw.w.street.id, department_id=rw.chengguan.id)
    assert svc.route(s, rw.c.rubbish, rw.grid("a1"), {}).rule_id == tie_low  # priority 0 beats -10
    rule(s, category_id=rw.c.rubbish.id, area_id=rw.w.street.id, department_id=rw.muni.id)
    assert svc.route(s, rw.c.rubbish, rw.grid("a1"), {}).rule_id == tie_low  # full tie: the older rule
    conditioned = rule(s, category_id=rw.c.rubbish.id, area_id=rw.w.street.id, department_id=rw.muni.id,
                       conditions={"road": "主干道"})
    assert svc.route(s, rw.c.rubbish, rw.grid("a1"), {"road": "主干道"}).rule_id == conditioned
    assert svc.route(s, rw.c.rubbish, rw.grid("a1"), {"road": "支路"}).rule_id == tie_low
    assert svc.route(s, rw.c.noise, rw.grid("a1"), {}).rule_id == major
    assert svc.route(s, rw.c.lamp, rw.grid("a1"), {}).rule_id is None  # chengguan handles no components
    assert {anything, incidents}  # created first, outranked throughout


def test_inactive_rules_and_other_areas_do_not_match(system_session, rw):
    s = system_session
    r = rule(s, category_id=rw.c.rubbish.id, area_id=rw.w.community_b.id, department_id=rw.chengguan.id)
    assert svc.route(s, rw.c.rubbish, rw.grid("a1"), {}).rule_id is None
    assert svc.route(s, rw.c.rubbish, rw.grid("b2"), {}).rule_id == r
    svc.update_rule(s, SYSTEM, r, RulePatch(active=False))
    assert svc.route(s, rw.c.rubbish, rw.grid("b2"), {}).rule_id is None


def test_fallback_is_the_nearest_centre(system_session, rw):
    d = svc.route(system_session, rw.c.lamp, rw.grid("b1"), {"owner": "供电公司"})
    assert (d.rule_id, d.department_id, d.basis, d.target_name) == (None, None, Basis.TERRITORY, "乙社区综治中心")
    assert d.centre_id is not None
    assert d.explanation_zh == "没有适用的派遣规则，按属地由乙社区综治中心处理"
    assert d.explanation_en == "No routing rule applies; 乙社区综治中心 takes it as the territory's centre"


def test_ineligible_targets_are_skipped_and_named(system_session, rw):
    s = system_session
    wrong_place = rule(s, category_id=rw.c.rubbish.id, department_id=rw.w.departments["b"].id, priority=9)
    wrong_kind = rule(s, department_id=rw.w.departments["a"].id)  # 甲社区物业办 handles incidents only
    d = svc.route(s, rw.c.rubbish, rw.grid("a1"), {})
    assert d.rule_id == wrong_kind and d.department_id == rw.w.departments["a"].id
    assert d.explanation_zh.endswith(f"。未用第{wrong_place}号规则：部门不管辖该区域")
    lamp = svc.route(s, rw.c.lamp, rw.grid("a1"), {})
    assert lamp.rule_id is None and lamp.target_name == "甲社区综治中心"
    assert f"未用第{wrong_kind}号规则：部门不处理该类别" in lamp.explanation_zh
    assert f"Rule no. {wrong_kind} not used: the department does not handle this kind" in lamp.explanation_en


def test_territory_level_rule(system_session, rw):
    s = system_session
    street = rule(s, category_id=rw.c.neighbours.id, territory_level=int(AreaLevel.STREET), name="纠纷归街道")
    d = svc.route(s, rw.c.neighbours, rw.grid("b2"), {"parties": 2})
    assert (d.rule_id, d.department_id, d.target_name) == (street, None, "东街道综治中心")
    assert d.explanation_zh == f"“邻里纠纷”问题由东街道综治中心负责（按属地管理，派遣规则第{street}号）"


def test_rule_validation(system_session, rw):
    s = system_session

    def refused(code, **kw):
        with pytest.raises(ValidationFailed) as err:
            svc.create_rule(s, SYSTEM, RuleIn(**kw))
        assert err.value.code == code

    refused("routing_category_unknown", category_id=9999, department_id=rw.muni.id)
    refused("routing_kind_mismatch", category_id=rw.c.lamp.id, kind="incident", department_id=rw.muni.id)
    refused("routing_department_kind", category_id=rw.c.lamp.id, department_id=rw.chengguan.id)
    refused("routing_department_kind", kind="component", department_id=rw.housing.id)
    refused("routing_territory_owner", category_id=rw.c.lamp.id, territory_level=3, conditions={"owner": "市政"})
    refused("routing_area_unknown", area_id=9999, department_id=rw.muni.id)
    refused("routing_department_unknown", department_id=9999)
    with pytest.raises(ValueError):
        RuleIn(department_id=rw.muni.id, territory_level=2)
    with pytest.raises(ValueError):
        RuleIn()
    stored = svc.get_rule(s, SYSTEM, rule(s, category_id=rw.c.lamp.id, department_id=rw.muni.id))
    assert (stored.kind, stored.area_prefix) == ("component", "/")


def test_update_and_delete_rules(system_session, rw):
    s = system_session
    r = rule(s, category_id=rw.c.lamp.id, department_id=rw.muni.id)
    updated = svc.update_rule(s, SYSTEM, r, RulePatch(category_id=rw.c.rubbish.id, area_id=rw.w.community_a.id,
                                                         department_id=rw.chengguan.id))
    assert (updated.kind, updated.area_prefix) == ("incident", rw.w.community_a.area_path)
    switched = svc.update_rule(s, SYSTEM, r, RulePatch(department_id=None, territory_level=1))
    assert (switched.department_id, switched.territory_level) == (None, 1)
    with pytest.raises(ValidationFailed):
        svc.update_rule(s, SYSTEM, r, RulePatch(department_id=rw.muni.id))  # two targets
    svc.delete_rule(s, SYSTEM, r)
    with pytest.raises(NotFound):
        svc.get_rule(s, SYSTEM, r)


def test_editors_need_citywide_routing_edit_and_must_see_the_department(system_session, rw):
    s = system_session
    make_people(s, rw.w)
    with pytest.raises(Forbidden):
        svc.create_rule(s, principal_for(rw.w.users["leader_a"]), RuleIn(department_id=rw.muni.id))
    blind = Principal(user_id=None, username="blind", grants=(GrantScope("editor", rw.w.city.area_path),),
                      permissions_of=lambda role: frozenset({"routing.edit", "area.view"}))
    muni_rule = svc.create_rule(s, SYSTEM, RuleIn(category_id=rw.c.lamp.id, department_id=rw.muni.id))
    s.commit()
    s.info["principal"] = blind
    try:
        with pytest.raises(ValidationFailed) as err:
            svc.create_rule(s, blind, RuleIn(department_id=rw.muni.id))
        assert err.value.code == "routing_department_unknown"
        # routing itself reads departments unscoped: a caller who cannot list them still gets a decision
        assert svc.route(s, rw.c.lamp, rw.grid("a1"), {}).rule_id == muni_rule.id
    finally:
        s.info["principal"] = SYSTEM


def test_a_batch_routes_the_same_question_once(system_session, rw):
    """With a memo in the session (the outbox's auto-dispatch batch), the same category, grid and attributes
    are routed once; without it, a rule changed in between is seen."""
    s = system_session
    first = rule(s, category_id=rw.c.noise.id, area_id=rw.w.community_a.id, department_id=rw.w.departments["a"].id)
    s.info[svc.MEMO_KEY] = {}
    try:
        d = svc.route(s, rw.c.noise, rw.grid("a2"), {})
        rule(s, category_id=rw.c.noise.id, area_id=rw.grid("a2").id, department_id=rw.housing.id)
        assert svc.route(s, rw.c.noise, rw.grid("a2"), {}) is d and d.rule_id == first
        assert len(s.info[svc.MEMO_KEY]) == 1
    finally:
        s.info.pop(svc.MEMO_KEY)
    assert svc.route(s, rw.c.noise, rw.grid("a2"), {}).department_id == rw.housing.id


def test_routing_reads_nothing_while_its_facts_stay_the_same(system_session, rw):
    """The rules, centres, departments and names live in memory (``facts.FACTS``): within the recheck window
    a decision costs no statement, whatever the grid or category."""
    s = system_session
    rule(s, category_id=rw.c.noise.id, area_id=rw.w.community_a.id, department_id=rw.w.departments["a"].id)
    s.commit()
    statements: list[str] = []
    svc.FACTS.recheck_seconds = 60.0
    try:
        svc.route(s, rw.c.noise, rw.grid("a1"), {})  # loads the snapshot
        listen = sa_event.listens_for(s.get_bind(), "before_cursor_execute")(
            lambda *args: statements.append(args[2]))
        try:
            assert svc.route(s, rw.c.noise, rw.grid("a2"), {}).department_id == rw.w.departments["a"].id
            assert svc.route(s, rw.c.rubbish, rw.grid("b1"), {}).rule_id is None
        finally:
            sa_event.remove(s.get_bind(), "before_cursor_execute", listen)
    finally:
        svc.FACTS.recheck_seconds = 0.0
    assert statements == []


def test_every_change_routing_depends_on_is_seen(system_session, rw):
    """A department's kinds and jurisdiction, a rule's target, a category's and an area's name: each change
    reloads the facts (the generation moves), so the next decision and its explanation follow it."""
    s = system_session
    r = rule(s, category_id=rw.c.noise.id, area_id=rw.w.street.id, department_id=rw.chengguan.id)
    assert svc.route(s, rw.c.noise, rw.grid("a1"), {}).rule_id == r
    rw.chengguan.category_kinds = ["component"]
    s.flush()
    assert svc.route(s, rw.c.noise, rw.grid("a1"), {}).rule_id is None  # kind_not_handled
    rw.chengguan.category_kinds = ["incident"]
    s.query(DepartmentJurisdiction).filter_by(department_id=rw.chengguan.id).delete()
    s.flush()
    assert svc.route(s, rw.c.noise, rw.grid("a1"), {}).rule_id is None  # no_jurisdiction
    rw.chengguan.jurisdictions.append(DepartmentJurisdiction(area_id=rw.w.street.id, area_path=rw.w.street.area_path))
    s.flush()
    assert svc.route(s, rw.c.noise, rw.grid("a1"), {}).rule_id == r
    rw.c.noise.name_zh = "噪声扰民"
    rw.w.street.name = "新街道"
    s.flush()
    assert svc.route(s, rw.c.noise, rw.grid("a1"), {}).explanation_zh.startswith("新街道的“噪声扰民”问题由区城管局负责")
    svc.update_rule(s, SYSTEM, r, RulePatch(department_id=rw.muni.id))
    assert svc.route(s, rw.c.noise, rw.grid("a1"), {}).department_id == rw.muni.id
    svc.delete_rule(s, SYSTEM, r)
    assert svc.route(s, rw.c.noise, rw.grid("a1"), {}).rule_id is None
