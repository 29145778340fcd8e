"""Background jobs on huey: SQLite storage by default (zero set-up), Redis in production.

Domains declare jobs with ``@job`` and periodic jobs with ``@periodic(crontab)`` on plain functions taking a
``JobContext`` first, in the modules their declaration lists as ``Domain.worker``; nothing binds to a queue
at import time. ``build_queue(settings)`` makes the huey instance and registers every job declared so far
on it — ``shiyu worker`` calls it after importing the domains (``shiyu.domains``). Periodic jobs must be
idempotent: with several worker processes a tick can run more than once, and a job run twice must change
nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.api import crontab
from sqlalchemy.orm import Session, sessionmaker

from shiyu.core import live, outbox, outbox_wake, pii
from shiyu.core.config import Settings
from shiyu.core.db import make_engine, make_session_factory

_JOBS: dict[str, Callable[..., Any]] = {}
_PERIODIC: dict[str, tuple[Callable[..., Any], dict[str, str]]] = {}


@dataclass
class JobContext:
    settings: Settings
    session_factory: sessionmaker[Session]


def job(fn: Callable[..., Any]) -> Callable[..., Any]:
    _JOBS[f"{fn.__module__}.{fn.__name__}"] = fn
    return fn


def periodic(**schedule: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@periodic(minute="*/5")`` — the keywords of huey's crontab."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        _PERIODIC[f"{fn.__module__}.{fn.__name__}"] = (fn, schedule)
        return fn

    return decorate


@dataclass
class Queue:
    huey: Huey
    tasks: dict[str, Any]
    context: Callable[[], JobContext]  # the process's engine and configured domains, made on first use

    def enqueue(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self.tasks[f"{fn.__module__}.{fn.__name__}"](*args, **kwargs)


def build_queue(settings: Settings, *, immediate: bool = False,
                configure: Callable[[Settings], None] | None = None) -> Queue:
    """``configure``: what the domains need of the settings in a worker process (``shiyu.domains.configure``),
    run once per process before the first job."""
    if settings.redis_url:
        huey: Huey = RedisHuey(settings.job_queue, url=settings.redis_url, immediate=immediate)
    else:
        path = Path(settings.storage_dir).parent / "jobs.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(settings.job_queue, filename=str(path), immediate=immediate)
    context: dict[str, JobContext] = {}

    def ctx() -> JobContext:
        """One engine per process, made on first use (after the worker forks)."""
        if "c" not in context:
            pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
            outbox.configure(settings)
            engine = make_engine(settings.database_url)
            # The deadline scan's changes reach the command views of every app process (through Redis).
            live.attach(engine, live.make_broker(settings.redis_url, settings.job_queue))
            outbox_wake.attach(engine, settings)  # events written by jobs and subscribers wake the loops
            if configure is not None:
                configure(settings)
            context["c"] = JobContext(settings, make_session_factory(engine))
        return context["c"]

    tasks: dict[str, Any] = {}
    for name, fn in _JOBS.items():
        tasks[name] = huey.task(name=name)(_bound(fn, ctx))
    for name, (fn, schedule) in _PERIODIC.items():
        tasks[name] = huey.periodic_task(crontab(**schedule), name=name)(_bound(fn, ctx))
    return Queue(huey, tasks, ctx)


def _bound(fn: Callable[..., Any], ctx: Callable[[], JobContext]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        return fn(ctx(), *args, **kwargs)

    run.__name__ = fn.__name__
    return run
