"""Categories set up by an administrator: the suggested code of a new class and copying a sibling's limits."""

from __future__ import annotations

import pytest

from shiyu.cases.categories import service as svc
from shiyu.cases.categories.models import CategoryKind
from shiyu.core.errors import Forbidden, ValidationFailed
from shiyu.core.scoping import Principal
from tests.cases.conftest import LIMITS, add_category
from tests.factories import populated

SYSTEM = Principal.system("test")


def test_the_suggested_code_follows_the_siblings(system_session, cats):
    s = system_session
    # I01 has I0101, I0301, I0701: the seed's scheme (major code + 2 digits) wins over the odd ones.
    assert svc.suggest_code(s, CategoryKind.INCIDENT, cats.appearance.id) == "I0102"
    assert svc.suggest_code(s, CategoryKind.COMPONENT, cats.utilities.id) == "C0109"
    assert svc.suggest_code(s, CategoryKind.INCIDENT, None) == "I02"
    assert svc.suggest_code(s, CategoryKind.COMPONENT, None) == "C02"
    add_category(s, "I0102", "incident", "占道经营", cats.appearance)
    assert svc.suggest_code(s, CategoryKind.INCIDENT, cats.appearance.id) == "I0103"


def test_a_city_scheme_and_an_empty_major(system_session):
    s = system_session
    major = add_category(s, "SQ", "incident", "社区事务")
    for code in ("SQ-7", "SQ-12", "X1"):
        add_category(s, code, "incident", code, major)
    assert svc.suggest_code(s, CategoryKind.INCIDENT, major.id) == "SQ-13"
    empty = add_category(s, "SQB", "incident", "空大类")
    assert svc.suggest_code(s, CategoryKind.INCIDENT, empty.id) == "SQB01"
    # A taken code is skipped, even when another major holds it.
    add_category(s, "SQB01", "incident", "别处的小类", major)
    assert svc.suggest_code(s, CategoryKind.INCIDENT, empty.id) == "SQB02"


def test_copy_limits_from_a_sibling_only(system_session, cats):
    s = system_session
    fast = LIMITS | {"register": {"amount": 0.5, "unit": "natural_hours"}}
    cats.noise.time_limits = fast
    s.flush()
    copied = svc.copy_limits(s, SYSTEM, cats.rubbish.id, cats.noise.id)
    assert copied.time_limits["register"] == {"amount": 0.5, "unit": "natural_hours"}
    assert copied.time_limits["handle"] == cats.noise.time_limits["handle"]
    for target, source in ((cats.rubbish.id, cats.lamp.id), (cats.rubbish.id, cats.rubbish.id),
                           (cats.appearance.id, cats.rubbish.id), (cats.rubbish.id, 999_999)):
        with pytest.raises(ValidationFailed) as err:
            svc.copy_limits(s, SYSTEM, target, source)
        assert err.value.code == "category_copy_not_sibling"


def test_copy_limits_needs_a_citywide_editor(system_session, cats):
    w = populated(system_session)
    from shiyu.org.identity.service import principal_for
    from tests.factories import add_user

    local_admin = principal_for(add_user(system_session, "admin_a", w.community_a, [("admin", w.community_a)]))
    with pytest.raises(Forbidden):
        svc.copy_limits(system_session, local_admin, cats.rubbish.id, cats.noise.id)
