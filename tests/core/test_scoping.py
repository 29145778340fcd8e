"""The scope layer itself: default deny, no principal is an error, and ``get`` cannot bypass it."""

import pytest
from sqlalchemy import select

from shiyu.core.errors import Forbidden
from shiyu.core.scoping import Principal, ScopeMissing
from shiyu.org.areas.models import Area
from shiyu.org.identity.service import principal_for
from shiyu.org.units.models import Department
from tests.factories import populated


def test_session_without_principal_refuses_scoped_queries(factory, system_session):
    populated(system_session)
    with factory() as s, pytest.raises(ScopeMissing):
        s.scalars(select(Area)).all()


def test_principal_without_grants_sees_nothing(factory, system_session):
    populated(system_session)
    with factory() as s:
        s.info["principal"] = Principal(user_id=999, username="nobody")
        assert s.scalars(select(Area)).all() == []
        assert s.scalars(select(Department)).all() == []


def test_get_does_not_bypass_scope_through_the_identity_map(factory, system_session):
    w = populated(system_session)
    with factory() as s:
        s.info["principal"] = principal_for(w.users["leader_a"])
        # An unscoped read puts B's department in the identity map ...
        s.execute(select(Department), execution_options={"unscoped": True}).scalars().all()
        # ... yet get() still answers as the scope says.
        assert s.get(Department, w.departments["b"].id) is None
        assert s.get(Department, w.departments["a"].id) is not None


def test_get_keeps_unflushed_changes(factory, system_session):
    w = populated(system_session)
    with factory() as s:
        s.info["principal"] = principal_for(w.users["leader_a"])
        area = s.get(Area, w.community_a.id)
        area.name = "未保存的新名字"
        assert s.get(Area, w.community_a.id).name == "未保存的新名字"


def test_write_outside_scope_is_refused_at_flush(factory, system_session):
    w = populated(system_session)
    with factory() as s:
        s.info["principal"] = principal_for(w.users["leader_a"])
        s.add(Department(code="X", name="越权", area_id=w.community_b.id, area_path=w.community_b.area_path,
                         category_kinds=["incident"]))
        with pytest.raises(Forbidden):
            s.flush()
