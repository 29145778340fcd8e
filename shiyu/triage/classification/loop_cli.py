"""``shiyu triage models | activate VERSION | retrain | import-history | publish --model FILE``: the model
versions of the running deployment (its database and storage), beside the file-based commands of
``shiyu.triage.classification.cli``.

They act as the system principal ``cli`` (whoever can run commands on the server already holds the
database); activation and publishing are ORM writes, so the audit log records them with that actor.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from shiyu.core import pii
from shiyu.core.db import make_engine, make_session_factory, transaction
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal

ACTOR = "cli"


def register(tsub: Any) -> None:
    tsub.add_parser("models", help="list the model versions with their held-out scores").set_defaults(
        handler=_guarded(_models))
    activate = tsub.add_parser("activate", help="make an earlier version the active model (rollback)")
    activate.add_argument("version", type=int)
    activate.set_defaults(handler=_guarded(_activate))
    tsub.add_parser("retrain", help="train a candidate now; it replaces the active model only if not worse"
                    ).set_defaults(handler=_guarded(_retrain))
    tsub.add_parser("import-history", help="add closed cases (description + category) as training examples"
                    ).set_defaults(handler=_guarded(_import_history))
    publish = tsub.add_parser("publish", help="store a model file (from `shiyu triage train`) as a new version")
    publish.add_argument("--model", required=True)
    publish.add_argument("--activate", action="store_true", help="make it the active model at once")
    publish.set_defaults(handler=_guarded(_publish))


@contextmanager
def _factory() -> Iterator[sessionmaker[Session]]:
    from shiyu.core.commands import load_settings
    from shiyu.triage.classification import registry

    settings = load_settings()
    pii.configure(settings.pii_keys, settings.pii_hash_key, settings.secret_key)
    registry.configure(settings)
    engine = make_engine(settings.database_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def _guarded(handler: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args) or 0
        except ShiyuError as exc:
            print(f"错误：{exc.zh}\nerror: {exc.en}", file=sys.stderr)
            return 2

    return run


def _system(factory: sessionmaker[Session]) -> AbstractContextManager[Session]:
    return transaction(factory, principal=Principal.system(ACTOR))


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _models(_args: argparse.Namespace) -> int:
    from shiyu.triage.classification import registry
    from shiyu.triage.classification.evaluation import format_table

    with _factory() as factory, _system(factory) as s:
        rows = [(v.version, v.status, v.training_size, v.heldout_size, _fmt(v.macro_f1), _fmt(v.accuracy),
                 f"v{v.compared_version} {_fmt(v.compared_macro_f1)}" if v.compared_version else "—",
                 v.created_by, v.progress if v.status in ("queued", "training") else v.reason)
                for v in registry.list_versions(s)]
    print(format_table(["版本 version", "状态 status", "训练 train", "留出 held out", "macro-F1", "accuracy",
                        "对比 vs active", "来源 by", "说明 note"], rows))
    return 0


def _activate(args: argparse.Namespace) -> int:
    from shiyu.triage.classification import registry

    with _factory() as factory, _system(factory) as s:
        row = registry.activate(s, Principal.system(ACTOR), args.version)
        print(f"已启用 / active: v{row.version}")
    return 0


def _retrain(_args: argparse.Namespace) -> int:
    from shiyu.triage.classification import training

    start = time.perf_counter()

    def say(message: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {message}", file=sys.stderr, flush=True)

    with _factory() as factory:
        row = training.retrain_now(factory, ACTOR, say)
    print(f"v{row.version}: {row.status} — {row.reason}")
    return 0 if row.status in ("active", "rejected") else 1


def _import_history(_args: argparse.Namespace) -> int:
    from shiyu.triage.classification import learning

    with _factory() as factory, _system(factory) as s:
        print(f"已导入 / imported {learning.import_history(s)} 条已结案案件 closed cases")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from shiyu.triage.classification import registry
    from shiyu.triage.classification.classifier import load

    model = load(args.model)
    with _factory() as factory, _system(factory) as s:
        row = registry.publish(s, model, created_by=ACTOR, activate_it=args.activate)
        print(f"v{row.version}: {row.status}")
    return 0
