"""Fixtures of the case reference-data tests: a small category tree with explicit time limits."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shiyu.cases.categories.models import Category

LIMITS = {
    "register": {"amount": 1, "unit": "working_hours"},
    "dispatch": {"amount": 2, "unit": "working_hours"},
    "accept": {"amount": 0.5, "unit": "working_hours"},
    "handle": {
        "normal": {"amount": 3, "unit": "working_days"},
        "urgent": {"amount": 1, "unit": "working_days"},
        "critical": {"amount": 4, "unit": "working_hours"},
    },
    "verify": {"amount": 1, "unit": "working_days"},
}


@dataclass
class Cats:
    utilities: Category  # component major 公用设施
    power_cover: Category  # component minor 电力井盖
    lamp: Category  # component minor 路灯
    appearance: Category  # incident major 市容环境
    rubbish: Category  # incident minor 暴露垃圾
    noise: Category  # incident minor 施工扰民
    neighbours: Category  # incident minor 邻里纠纷


def add_category(s, code: str, kind: str, zh: str, parent: Category | None = None, **kw) -> Category:
    extra = {"time_limits": LIMITS, "fields": []} if parent is not None else {}
    extra.update(kw)
    c = Category(kind=kind, code=code, name_zh=zh, name_en=zh, parent=parent, **extra)
    s.add(c)
    s.flush()
    return c


@pytest.fixture
def cats(system_session) -> Cats:
    s = system_session
    utilities = add_category(s, "C01", "component", "公用设施")
    appearance = add_category(s, "I01", "incident", "市容环境")
    result = Cats(
        utilities=utilities,
        power_cover=add_category(s, "C0105", "component", "电力井盖", utilities),
        lamp=add_category(s, "C0108", "component", "路灯", utilities),
        appearance=appearance,
        rubbish=add_category(s, "I0101", "incident", "暴露垃圾", appearance),
        noise=add_category(s, "I0301", "incident", "施工扰民", appearance),
        neighbours=add_category(s, "I0701", "incident", "邻里纠纷", appearance),
    )
    s.commit()
    return result
