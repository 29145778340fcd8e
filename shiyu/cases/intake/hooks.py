"""What other domains add to a case as it is filed, without cases knowing them.

A domain that keeps a row per new case (triage's category suggestions) registers an ``IntakeHook``: while a
report is checked, ``prepare`` builds that row from the case in hand (reads only; None for no row), and the
intake inserts the rows of a whole batch into the hook's table in one statement, in the case's transaction,
so the row exists exactly when the case does. A hook must never refuse a report: one that cannot do its
work returns None.

Case lists can likewise be filtered by what another domain knows about cases (a repeat complaint): a
``CaseFlag`` names the flag and gives the SQL condition for "flagged".

A report may name the component (部件, GB/T 30428.2) it is about by the code on its plate; the registers own
components, so the one ``ComponentResolver`` they register turns the code into the component's id for the
case — refusing, with a clear 422, a code it does not know or a component outside the report's grid. Without
the registers installed a report naming a component is refused (nothing is silently dropped).

All are registered by the domain's declaration (``shiyu.core.domains``) when the app or worker starts;
registering the same name again replaces the entry, so starting twice (tests) is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table
from sqlalchemy.orm import Session

from shiyu.cases.models import Case
from shiyu.core.errors import ValidationFailed


@dataclass(frozen=True)
class IntakeHook:
    name: str
    table: Table  # where the rows go; each row gets the new case's id as ``case_id``
    prepare: Callable[[Session, Case], dict[str, Any] | None]


@dataclass(frozen=True)
class CaseFlag:
    name: str  # the filter's name in case lists (``?repeat=true``)
    flagged: Callable[[], ColumnElement[bool]]  # a condition on ``Case`` true for flagged cases


# (session, the case being filed, the code) → the component's id, or ValidationFailed
ComponentResolver = Callable[[Session, Case, str], int]

_HOOKS: dict[str, IntakeHook] = {}
_FLAGS: dict[str, CaseFlag] = {}
_COMPONENTS: dict[str, ComponentResolver] = {}


def register_hook(hook: IntakeHook) -> None:
    _HOOKS[hook.name] = hook


def register_flag(flag: CaseFlag) -> None:
    _FLAGS[flag.name] = flag


def register_component_resolver(resolve: ComponentResolver) -> None:
    _COMPONENTS["resolver"] = resolve


def resolve_component(session: Session, case: Case, code: str) -> int:
    resolve = _COMPONENTS.get("resolver")
    if resolve is None:
        raise ValidationFailed("components_unavailable", "本系统未启用部件登记，不能按部件上报",
                               "Components are not kept here: a report cannot name one",
                               detail={"field": "component_code"})
    return resolve(session, case, code)


def hooks() -> list[IntakeHook]:
    return list(_HOOKS.values())


def flag_clause(name: str, wanted: bool) -> ColumnElement[bool]:
    """The condition for cases flagged ``name`` (``wanted``) or not; a flag no installed domain provides is
    refused rather than ignored, so a filter never silently answers everything."""
    flag = _FLAGS.get(name)
    if flag is None:
        raise ValidationFailed("unknown_filter", "该筛选条件不可用", "This filter is not available",
                               detail={"field": name})
    clause = flag.flagged()
    return clause if wanted else ~clause
