"""``create_app(settings)``: builds the ASGI app. Nothing happens at import time."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from shiyu import __version__, domains
from shiyu.cases.intake.writer import IntakeWriter
from shiyu.core import live, outbox_wake, pii, refcache
from shiyu.core.config import Settings
from shiyu.core.db import make_engine, make_session_factory
from shiyu.core.domains import Domain
from shiyu.core.scoping import Principal
from shiyu.org.identity import deps as identity_deps
from shiyu.org.identity import passwords
from shiyu.web import api_docs, errors, health, openapi_errors, pages
from shiyu.web.bounds import integers_in_range
from shiyu.web.failsafe import Failsafe
from shiyu.web.limits import RequestGate
from shiyu.web.security_headers import SecurityHeaders
from shiyu.web.timing import ServerTiming

log = logging.getLogger("shiyu.app")

DESCRIPTION = """Shiyu (市域) municipal social-governance platform.

Every endpoint is scoped by the caller's grants (a role over an area subtree or a department): objects
outside them answer 404, as if they did not exist. Errors are `{"code", "message", "detail"}`; the message
is Chinese by default, English with `Accept-Language: en` or `?lang=en`. Lists take `limit` and `offset`
and answer `{"items", "total", "limit", "offset"}`. Authenticate with `POST /api/v1/auth/token` and send
`Authorization: Bearer <token>`. Every answer carries `Server-Timing: app;dur=<ms>`, the time the app
itself took.
"""


def _warm_up(factory: sessionmaker[Session], with_domains: Sequence[Domain]) -> None:
    """Before the first request: load the reference data intake reads (the grid index of a whole city takes
    a second to build) and what the domains load on first use (``Domain.warm_up``), then exempt everything
    loaded so far from garbage collection. A full collection of a served process otherwise walks that whole
    long-lived heap, pausing every request for up to 100 ms (seen in bench/intake.py); frozen, it walks only
    what requests create."""
    try:
        with factory() as session:
            session.info["principal"] = Principal.system("warm-up")
            refcache.load_all(session)
            for domain in with_domains:
                if domain.warm_up is not None:
                    domain.warm_up(session)
    except SQLAlchemyError as exc:  # no schema yet, database down: the caches load on first use instead
        log.warning("warm-up skipped: %s", exc)
    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None, *, serving: bool = False,
               with_domains: Sequence[Domain] = domains.DOMAINS) -> FastAPI:
    """``serving``: a server process (``shiyu serve``), which warms up before taking requests (``_warm_up``).
    ``with_domains``: the domains to run (``shiyu.domains.DOMAINS``; a test adds its example domain)."""
    settings = settings or Settings()
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    passwords.configure(settings.password_time_cost, settings.password_memory_kib)
    domains.install(with_domains)
    domains.configure(settings, with_domains)
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size,
                         max_overflow=settings.db_pool_size // 2, pool_timeout=settings.db_pool_timeout,
                         lock_timeout=settings.db_lock_timeout, connect_timeout=settings.db_connect_timeout)
    factory = make_session_factory(engine)
    writer = IntakeWriter(factory, settings.tz)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if serving:
            await asyncio.to_thread(_warm_up, factory, with_domains)
        yield
        await asyncio.to_thread(writer.close)  # reports already queued are written before the process ends

    app = FastAPI(title="Shiyu 市域 API", version=__version__, description=DESCRIPTION,
                  openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None, lifespan=lifespan,
                  dependencies=[Depends(integers_in_range)])
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = factory
    app.state.authenticate = identity_deps.authenticate
    app.state.intake_writer = writer
    app.state.live = live.attach(engine, live.make_broker(settings.redis_url, settings.job_queue))
    outbox_wake.attach(engine, settings)  # SQLite + Redis: a committed report wakes the workers' deliveries
    errors.install(app)
    openapi_errors.install(app)
    app.add_middleware(Failsafe)
    app.add_middleware(RequestGate, settings=settings)
    app.add_middleware(ServerTiming)
    app.add_middleware(SecurityHeaders, settings=settings)
    app.include_router(domains.api_router(with_domains), prefix="/api/v1")
    for domain in with_domains:
        for router in domain.page_routers:
            app.include_router(router)
    app.include_router(api_docs.router)  # Swagger UI from vendored files
    app.mount("/static", StaticFiles(directory=Path(pages.__file__).parent / "static"), name="static")

    app.include_router(health.router)
    return app
