"""The one list of domains, and what the app, the worker, the commands and the migrations do with it.

Adding a domain is one package with a ``declaration`` module plus one line here (``docs/development.md``,
"How to add a domain"). The order is the order of mounting: the busiest API (case intake) is matched first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fastapi import APIRouter
from sqlalchemy import MetaData

from shiyu.cases.declaration import DOMAIN as CASES
from shiyu.core.config import Settings
from shiyu.core.db import Base
from shiyu.core.declaration import DOMAIN as PLATFORM
from shiyu.core.domains import Domain
from shiyu.disputes.declaration import DOMAIN as DISPUTES
from shiyu.keypersons.declaration import DOMAIN as KEYPERSONS
from shiyu.org.declaration import DOMAIN as ORG
from shiyu.org.identity import roles
from shiyu.patrol.declaration import DOMAIN as PATROL
from shiyu.petitions.declaration import DOMAIN as PETITIONS
from shiyu.registry.declaration import DOMAIN as REGISTRY
from shiyu.reports.declaration import DOMAIN as REPORTS
from shiyu.tasks.declaration import DOMAIN as TASKS
from shiyu.triage.declaration import DOMAIN as TRIAGE
from shiyu.web import i18n, nav, todo
from shiyu.web.declaration import DOMAIN as PAGES

DOMAINS: tuple[Domain, ...] = (CASES, ORG, PLATFORM, TRIAGE, PATROL, REGISTRY, TASKS, KEYPERSONS, DISPUTES, PETITIONS,
                               REPORTS, PAGES)


def install(domains: Sequence[Domain] = DOMAINS) -> None:
    """Register what the domains declare with the registries that serve them: navigation, catalogues, role
    permissions, to-do sources and each domain's own hooks. Idempotent; the app, the worker and the commands call it."""
    for domain in domains:
        for entry in domain.nav:
            nav.register(entry)
        for source in domain.todo:
            todo.register(source)
        if domain.translations is not None:
            i18n.add_directory(domain.translations)
        for role, permissions in domain.role_permissions.items():
            roles.extend(role, permissions)
        if domain.install is not None:
            domain.install()


def configure(settings: Settings, domains: Sequence[Domain] = DOMAINS) -> None:
    for domain in domains:
        if domain.configure is not None:
            domain.configure(settings)


def warm_up_worker(domains: Sequence[Domain] = DOMAINS) -> None:
    """Before a worker delivers anything: what the first event would otherwise wait for (a second of imports
    on the first report's path, seen in the pipeline bench's profile)."""
    for domain in domains:
        if domain.warm_up_worker is not None:
            domain.warm_up_worker()


def api_router(domains: Iterable[Domain] = DOMAINS) -> APIRouter:
    router = APIRouter()
    for domain in domains:
        for sub in domain.api_routers:
            router.include_router(sub)
    return router


def metadata() -> MetaData:
    """Every table of the domains: their declarations import their model modules (``Domain.models``), and
    importing this module imports every declaration."""
    return Base.metadata


def permissions(domains: Iterable[Domain] = DOMAINS) -> dict[str, str]:
    """Every declared permission with what it allows; a name declared twice is a mistake."""
    out: dict[str, str] = {}
    for domain in domains:
        clash = out.keys() & domain.permissions.keys()
        if clash:
            raise ValueError(f"{domain.name} declares permissions declared before: {sorted(clash)}")
        out.update(domain.permissions)
    return out
