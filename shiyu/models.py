"""Imports every model module so that ``Base.metadata`` is complete (Alembic, tests, create_all)."""

from shiyu.cases.categories.models import Category
from shiyu.cases.indicators.facts import IndicatorDirtyCase, IndicatorFact, IndicatorGridFact
from shiyu.cases.indicators.weights import IndicatorWeight
from shiyu.cases.models import Attachment, Case, CaseAssignment, CaseEvent, CaseRequest
from shiyu.cases.reporters import CaseReporter
from shiyu.cases.routing.models import RoutingRule
from shiyu.cases.saved_filters import SavedCaseFilter
from shiyu.core.audit import AuditEntry
from shiyu.core.db import Base
from shiyu.core.outbox import OutboxDelivery, OutboxEvent
from shiyu.org.areas.models import Area, AreaBoundary, AreaGeneration
from shiyu.org.calendar.models import CalendarDay, CalendarSettings
from shiyu.org.identity.api_clients import ApiClient
from shiyu.org.identity.models import Grant, LoginThrottle, RevokedToken, User
from shiyu.org.units.models import Centre, Department, DepartmentJurisdiction
from shiyu.patrol.models import PatrolCheckin, PresenceDay
from shiyu.triage.dup_models import DuplicateCandidate, RepeatComplaint
from shiyu.triage.hot_models import HotIssue, HotIssueMember
from shiyu.triage.models import CaseSuggestion, TrainingExample, TriageModelVersion

__all__ = [
    "ApiClient",
    "Area",
    "AreaBoundary",
    "AreaGeneration",
    "Attachment",
    "AuditEntry",
    "Base",
    "CalendarDay",
    "CalendarSettings",
    "Case",
    "CaseAssignment",
    "CaseEvent",
    "CaseRequest",
    "CaseReporter",
    "CaseSuggestion",
    "Category",
    "Centre",
    "Department",
    "DepartmentJurisdiction",
    "DuplicateCandidate",
    "Grant",
    "HotIssue",
    "HotIssueMember",
    "IndicatorDirtyCase",
    "IndicatorFact",
    "IndicatorGridFact",
    "IndicatorWeight",
    "LoginThrottle",
    "OutboxDelivery",
    "OutboxEvent",
    "PatrolCheckin",
    "PresenceDay",
    "RepeatComplaint",
    "RevokedToken",
    "RoutingRule",
    "SavedCaseFilter",
    "TrainingExample",
    "TriageModelVersion",
    "User",
]
