"""Categories: validation of the tree and its time limits, deadlines per step and urgency, attributes, seed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pydantic
import pytest
from sqlalchemy import func, select

from shiyu.cases.categories import service as svc
from shiyu.cases.categories.models import Category, Step, Urgency
from shiyu.cases.categories.schemas import CategoryIn, CategoryPatch, FieldSpec, TimeLimits
from shiyu.cases.categories.seed import TREE, seed_categories
from shiyu.core.errors import Forbidden, NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.org.calendar.worktime import WorkCalendar
from shiyu.org.identity.service import principal_for
from tests.cases.conftest import LIMITS
from tests.factories import populated

SH = ZoneInfo("Asia/Shanghai")
SYSTEM = Principal.system("test")
CAL = WorkCalendar(tz=SH, holidays=frozenset(date(2026, 10, 1) + timedelta(days=i) for i in range(7)))


def minor(parent_id: int, code: str = "C0199", kind: str = "component", **kw) -> CategoryIn:
    return CategoryIn(kind=kind, parent_id=parent_id, code=code, name_zh="测试小类", time_limits=LIMITS, **kw)


def refused(code: str, fn, *args) -> None:
    with pytest.raises(ValidationFailed) as err:
        fn(*args)
    assert err.value.code == code, err.value.detail


def test_create_major_and_minor(system_session):
    s = system_session
    major = svc.create_category(s, SYSTEM, CategoryIn(kind="component", code="C09", name_zh="扩展部件"))
    fields = [FieldSpec(name="owner", label_zh="权属单位", type="choice", choices=["供电公司", "市政"])]
    m = svc.create_category(s, SYSTEM, minor(major.id, fields=fields, default_urgency="urgent"))
    s.commit()
    assert m.parent is major and m.is_minor and m.selectable and not major.is_minor
    out = svc.category_out(svc.get_category(s, major.id))
    assert [c.code for c in out.children] == ["C0199"]
    assert out.children[0].time_limits.handle.critical.amount == 4
    assert out.children[0].default_urgency is Urgency.URGENT


def test_validation(system_session, cats):
    s = system_session
    refused("category_kind_mismatch", svc.create_category, s, SYSTEM, minor(cats.appearance.id))
    refused("category_parent_not_major", svc.create_category, s, SYSTEM, minor(cats.lamp.id))
    refused("category_parent_missing", svc.create_category, s, SYSTEM, minor(9999))
    refused("category_code_taken", svc.create_category, s, SYSTEM, minor(cats.utilities.id, code="C0108"))
    no_limits = CategoryIn(kind="component", parent_id=cats.utilities.id, code="C0198", name_zh="无时限")
    refused("category_limits_required", svc.create_category, s, SYSTEM, no_limits)
    major_limits = CategoryIn(kind="component", code="C08", name_zh="带时限大类", time_limits=LIMITS)
    refused("category_major_has_limits", svc.create_category, s, SYSTEM, major_limits)
    twice = [FieldSpec(name="x", label_zh="甲", type="text"), FieldSpec(name="x", label_zh="乙", type="bool")]
    refused("category_field_repeated", svc.create_category, s, SYSTEM, minor(cats.utilities.id, fields=twice))


@pytest.mark.parametrize(
    "bad",
    [
        {**LIMITS, "register": {"amount": 0, "unit": "working_hours"}},
        {**LIMITS, "verify": {"amount": -1, "unit": "working_days"}},
        {**LIMITS, "accept": {"amount": 1, "unit": "calendar_days"}},
        {k: v for k, v in LIMITS.items() if k != "dispatch"},
        {**LIMITS, "handle": {"normal": LIMITS["verify"], "urgent": LIMITS["verify"]}},
    ],
)
def test_time_limits_must_be_complete_and_positive(bad):
    with pytest.raises(pydantic.ValidationError):
        TimeLimits.model_validate(bad)


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "owner", "label_zh": "权属", "type": "choice"},
        {"name": "owner", "label_zh": "权属", "type": "choice", "choices": ["a", "a"]},
        {"name": "owner", "label_zh": "权属", "type": "text", "choices": ["a"]},
        {"name": "Owner Name", "label_zh": "权属", "type": "text"},
        {"name": "owner", "label_zh": "权属", "type": "date"},
    ],
)
def test_field_specs(spec):
    with pytest.raises(pydantic.ValidationError):
        FieldSpec.model_validate(spec)


def test_update(system_session, cats):
    s = system_session
    other = svc.create_category(s, SYSTEM, CategoryIn(kind="component", code="C02", name_zh="道路交通设施"))
    patch = CategoryPatch(name_en="Power cover", parent_id=other.id,
                          time_limits={**LIMITS, "register": {"amount": 3, "unit": "working_hours"}})
    updated = svc.update_category(s, SYSTEM, cats.power_cover.id, patch)
    s.commit()
    assert updated.parent is other and updated.name_en == "Power cover" and updated.name_zh == "电力井盖"
    assert updated.time_limits["register"]["amount"] == 3
    assert svc.update_category(s, SYSTEM, cats.lamp.id, CategoryPatch(active=False)).selectable is False
    refused("category_level_fixed", svc.update_category, s, SYSTEM, cats.lamp.id, CategoryPatch(parent_id=None))
    refused("category_level_fixed", svc.update_category, s, SYSTEM, cats.utilities.id,
            CategoryPatch(parent_id=other.id))
    refused("category_kind_mismatch", svc.update_category, s, SYSTEM, cats.lamp.id,
            CategoryPatch(parent_id=cats.appearance.id))
    refused("category_limits_required", svc.update_category, s, SYSTEM, cats.lamp.id, CategoryPatch(time_limits=None))
    refused("category_code_taken", svc.update_category, s, SYSTEM, cats.lamp.id, CategoryPatch(code="C0105"))
    with pytest.raises(NotFound):
        svc.update_category(s, SYSTEM, 9999, CategoryPatch(name_zh="无"))


def test_tree(system_session, cats):
    s = system_session
    svc.update_category(s, SYSTEM, cats.noise.id, CategoryPatch(active=False))
    svc.update_category(s, SYSTEM, cats.lamp.id, CategoryPatch(sort_order=-1))
    tree = svc.tree(s)
    assert [(m.code, [c.code for c in m.children]) for m in tree] == [
        ("C01", ["C0108", "C0105"]),
        ("I01", ["I0101", "I0701"]),
    ]
    assert [m.code for m in svc.tree(s, kind="incident")] == ["I01"]
    assert [c.code for c in svc.tree(s, kind="incident", include_inactive=True)[0].children] == [
        "I0101", "I0301", "I0701"
    ]
    svc.update_category(s, SYSTEM, cats.utilities.id, CategoryPatch(active=False))
    assert [m.code for m in svc.tree(s)] == ["I01"]
    assert s.get(Category, cats.lamp.id).selectable is False  # its major class is inactive


@pytest.mark.parametrize(
    ("step", "urgency", "expected"),
    [
        (Step.REGISTER, Urgency.NORMAL, datetime(2026, 9, 30, 11, 0, tzinfo=SH)),  # 1 working hour
        (Step.DISPATCH, Urgency.CRITICAL, datetime(2026, 9, 30, 12, 0, tzinfo=SH)),  # 2 h, natural for 特急
        (Step.ACCEPT, Urgency.NORMAL, datetime(2026, 9, 30, 10, 30, tzinfo=SH)),  # 0.5 h
        (Step.HANDLE, Urgency.NORMAL, datetime(2026, 10, 12, 10, 0, tzinfo=SH)),  # 3 days over the holiday
        (Step.HANDLE, Urgency.URGENT, datetime(2026, 10, 8, 10, 0, tzinfo=SH)),  # 1 day
        (Step.HANDLE, Urgency.CRITICAL, datetime(2026, 9, 30, 14, 0, tzinfo=SH)),  # 4 natural h: lunch counts
        ("verify", "normal", datetime(2026, 10, 8, 10, 0, tzinfo=SH)),
    ],
)
def test_deadline_for(cats, step, urgency, expected):
    start = datetime(2026, 9, 30, 10, 0, tzinfo=SH)
    assert svc.deadline_for(cats.power_cover, step, urgency, start, CAL) == expected


def test_deadline_for_needs_a_minor_class_and_a_known_step(cats):
    start = datetime(2026, 9, 30, 10, 0, tzinfo=SH)
    refused("category_not_minor", svc.deadline_for, cats.utilities, Step.HANDLE, Urgency.NORMAL, start, CAL)
    with pytest.raises(ValueError):
        svc.deadline_for(cats.lamp, "close", Urgency.NORMAL, start, CAL)


def test_check_attributes(system_session, cats):
    fields = [
        FieldSpec(name="owner", label_zh="权属", type="choice", choices=["供电公司", "市政"], required=True),
        FieldSpec(name="count", label_zh="数量", type="number"),
        FieldSpec(name="moving", label_zh="移动", type="bool"),
        FieldSpec(name="note", label_zh="备注", type="text"),
    ]
    cat = svc.update_category(system_session, SYSTEM, cats.lamp.id, CategoryPatch(fields=fields))
    svc.check_attributes(cat, {"owner": "市政", "count": 2.5, "moving": False, "note": "x"})
    with pytest.raises(ValidationFailed) as err:
        svc.check_attributes(cat, {"owner": "水务", "count": "2", "moving": "no", "note": 3})
    assert [p["problem"] for p in err.value.detail] == ["not_a_choice", "not_a_number", "not_a_bool", "not_text"]
    with pytest.raises(ValidationFailed) as err:
        svc.check_attributes(cat, {"count": True})
    assert err.value.detail == [
        {"field": "owner", "problem": "required"}, {"field": "count", "problem": "not_a_number"}
    ]


def test_only_citywide_editors(system_session, cats):
    w = populated(system_session)
    with pytest.raises(Forbidden):
        svc.create_category(system_session, principal_for(w.users["leader_a"]), minor(cats.utilities.id))
    made = svc.create_category(system_session, principal_for(w.users["admin"]), minor(cats.utilities.id))
    assert made.id


def test_seed(system_session):
    s = system_session
    seed_categories(s)
    s.commit()
    total = s.scalar(select(func.count(Category.id)))
    assert total == len(TREE) + sum(len(minors) for *_, minors in TREE)
    names = set(s.scalars(select(Category.name_zh)))
    expected = (
        "公用设施 路灯 消防栓 道路交通设施 市容环境设施 园林绿化设施 房屋土地 其他设施 "
        "暴露垃圾 乱堆物堆料 违法建设 宣传广告 施工管理 突发事件 占道经营 无照经营游商 市场监管 "
        "邻里纠纷 劳资纠纷 婚姻家庭纠纷 消防隐患 燃气隐患 危房 重点人员异常 民生诉求 政策咨询"
    )
    assert set(expected.split()) <= names
    assert sum("井盖" in n for n in names) >= 5
    for c in s.scalars(select(Category).where(Category.parent_id.is_not(None))):
        assert c.parent.kind == c.kind
        TimeLimits.model_validate(c.time_limits)
        for f in c.fields:
            FieldSpec.model_validate(f)
    lamp = s.scalar(select(Category).where(Category.code == "C0108"))
    lamp.name_zh = "路灯（已改）"
    s.commit()
    seed_categories(s)
    s.commit()
    assert s.scalar(select(func.count(Category.id))) == total
    assert s.get(Category, lamp.id).name_zh == "路灯（已改）"
