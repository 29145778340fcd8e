"""Platform sub-commands: serve, worker, db, pii. They act on the whole platform (the app, every job, every
model), so they live at the top, beside ``shiyu.app``, not in ``core``."""

from __future__ import annotations

import argparse
import os
from typing import Any

from shiyu.core import migrate, pii

# How much the worker lowers its CPU priority. With the web server and two workers on two cores
# (bench/pipeline.py, 200 reports/s for 60 s) intake answered in p50 0.81 s, p99 3.5 s at normal priority and
# in p50 0.39 s, p99 1.4 s lowered by 10, while the work behind intake still kept its p95 under 5 s
# (2.7 s instead of 1.4 s; docs/adr/0006-outbox-delivery.md).
WORKER_NICE = 10


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="serve the web app and API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="app processes (production mode)")
    serve.set_defaults(handler=_serve)

    worker = sub.add_parser("worker", help="deliver the outbox and run background and periodic jobs")
    worker.add_argument("--workers", type=int, default=2, help="job threads (huey consumer)")
    worker.add_argument("--delivery-loops", type=int, default=1,
                        help="outbox delivery threads (one per process is enough: start a process per core)")
    worker.add_argument("--nice", type=int, default=WORKER_NICE,
                        help=f"lower the worker's CPU priority by this much ({WORKER_NICE}; 0 keeps it): on cores "
                             "shared with the web server, people's requests go first")
    worker.set_defaults(handler=_worker)

    db = sub.add_parser("db", help="database migrations")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="migrate up (to head by default)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=lambda a: migrate.upgrade(_settings().database_url, a.revision))
    down = dbsub.add_parser("downgrade", help="migrate down (to base by default)")
    down.add_argument("revision", nargs="?", default="base")
    down.set_defaults(handler=lambda a: migrate.downgrade(_settings().database_url, a.revision))
    rev = dbsub.add_parser("revision", help="autogenerate a migration from model changes (developers)")
    rev.add_argument("-m", "--message", required=True)
    rev.set_defaults(handler=lambda a: migrate.revision(_settings().database_url, a.message))

    p = sub.add_parser("pii", help="personal-data keys")
    psub = p.add_subparsers(dest="pii_command", required=True)
    rot = psub.add_parser("rotate", help="re-encrypt every personal-data value under the active key")
    rot.set_defaults(handler=_rotate)


def _settings() -> Any:
    from shiyu.core.commands import load_settings

    return load_settings()


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = _settings()  # fail fast on bad configuration, before forking workers
    uvicorn.run("shiyu.asgi:app", host=args.host, port=args.port, workers=args.workers,
                proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips, log_level="info")


def _worker(args: argparse.Namespace) -> None:
    from huey.consumer import Consumer

    from shiyu import domains
    from shiyu.core import outbox_worker
    from shiyu.core.jobs import build_queue

    if args.nice > 0:  # before any thread starts: threads take the priority of the one that starts them
        os.nice(args.nice)
    settings = _settings()
    domains.install()
    queue = build_queue(settings, configure=domains.configure)
    domains.warm_up_worker()
    stop = outbox_worker.start(queue.context().session_factory, settings.database_url, loops=args.delivery_loops,
                               batch=settings.outbox_batch, poll_seconds=settings.outbox_poll_seconds,
                               redis_url=settings.redis_url, job_queue=settings.job_queue)
    try:
        Consumer(queue.huey, workers=args.workers, worker_type="thread", periodic=True).run()
    finally:
        stop.set()


def _rotate(_args: argparse.Namespace) -> None:
    import shiyu.domains  # noqa: F401  (every table with personal data)
    from shiyu.core.db import make_engine, make_session_factory
    from shiyu.core.rotation import rotate_all

    settings = _settings()
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    factory = make_session_factory(make_engine(settings.database_url))
    for table, count in rotate_all(factory).items():
        print(f"{table}: {count} 行已重新加密 / rows re-encrypted")
