"""Imports every model module so that ``Base.metadata`` is complete (Alembic, tests, create_all)."""

from shiyu.cases.calendar_models import CalendarDay, CalendarSettings
from shiyu.cases.categories.models import Category
from shiyu.cases.routing.models import RoutingRule
from shiyu.core.audit import AuditEntry
from shiyu.core.db import Base
from shiyu.org.areas.models import Area, AreaBoundary, AreaGeneration
from shiyu.org.identity.models import Grant, User
from shiyu.org.units.models import Centre, Department, DepartmentJurisdiction

__all__ = [
    "Area",
    "AreaBoundary",
    "AreaGeneration",
    "AuditEntry",
    "Base",
    "CalendarDay",
    "CalendarSettings",
    "Category",
    "Centre",
    "Department",
    "DepartmentJurisdiction",
    "Grant",
    "RoutingRule",
    "User",
]
