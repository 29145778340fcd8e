"""Smart triage: category suggestions and automatic dispatch, duplicates and repeat complaints, hot issues.

Triage builds on cases through cases' published interfaces: it adds its suggestion row to each new case
through an intake hook and offers the "repeat complaint" flag to case lists, so cases never imports triage.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from shiyu.cases.intake.hooks import CaseFlag, IntakeHook, register_flag, register_hook
from shiyu.cases.models import Case
from shiyu.core.config import Settings
from shiyu.core.db import transaction
from shiyu.core.domains import Domain
from shiyu.core.scoping import Principal
from shiyu.triage import tasks as triage_tasks
from shiyu.triage.classification import api as classification_api
from shiyu.triage.classification import cli as classification_cli
from shiyu.triage.classification import models as classification_models
from shiyu.triage.classification import registry, suggest
from shiyu.triage.duplicates import api as duplicates_api
from shiyu.triage.duplicates import case_duplicates, recent_cases, similarity
from shiyu.triage.duplicates import models as duplicate_models
from shiyu.triage.hot import api as hot_api
from shiyu.triage.hot import hot_cases
from shiyu.triage.hot import models as hot_models
from shiyu.triage.hot import tasks as hot_tasks


def _repeat_flagged() -> ColumnElement[bool]:
    return Case.id.in_(select(duplicate_models.RepeatComplaint.case_id))


def install() -> None:
    register_hook(IntakeHook("triage.suggestions", classification_models.CaseSuggestion.__table__,
                             suggest.on_reported))
    register_flag(CaseFlag("repeat", _repeat_flagged))


def configure(settings: Settings) -> None:
    """The model storage and auto threshold (suggestions, automatic dispatch, retraining) and the windows of
    duplicate finding."""
    registry.configure(settings)
    case_duplicates.configure(settings)


def warm_up(session: Session) -> None:
    """Load the active model and the word tokenizer's dictionary (half a second) before the first report,
    instead of in it."""
    suggest.propose(session, "预热")


def warm_up_worker() -> None:
    """Import what comparing texts needs, and keep the recent cases in memory for duplicate finding: a
    worker delivers report after report of the same communities (``recent_cases``)."""
    similarity.warm_up()
    recent_cases.enable()


def demo(factory: sessionmaker[Session], tz: ZoneInfo, end: datetime) -> tuple[str, str]:
    """Group the demo city's case history into hot issues."""
    with transaction(factory, principal=Principal.system("demo"), audit_off=True) as s:
        hot = hot_cases.refresh_in(s, tz, now=end)
    return f"已归并{hot.groups}个热点问题", f"grouped {hot.groups} hot issues"


DOMAIN = Domain(
    name="triage",
    api_routers=(classification_api.router, duplicates_api.router, hot_api.router),
    models=(classification_models, duplicate_models, hot_models),
    worker=(triage_tasks, hot_tasks),
    commands=(classification_cli,),
    permissions={
        "triage.manage": "管理分拨模型（启用、回退、重新训练）",
        "hot_issue.manage": "确认、拆分或忽略热点问题",
    },
    install=install,
    configure=configure,
    warm_up=warm_up,
    warm_up_worker=warm_up_worker,
    demo=demo,
)
