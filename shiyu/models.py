"""Imports every model module so that ``Base.metadata`` is complete (Alembic, tests, create_all)."""

from shiyu.core.audit import AuditEntry
from shiyu.core.db import Base
from shiyu.org.areas.models import Area, AreaBoundary
from shiyu.org.identity.models import Grant, User
from shiyu.org.units.models import Centre, Department, DepartmentJurisdiction

__all__ = [
    "Area",
    "AreaBoundary",
    "AuditEntry",
    "Base",
    "Centre",
    "Department",
    "DepartmentJurisdiction",
    "Grant",
    "User",
]
