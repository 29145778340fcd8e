"""Alembic environment: the URL comes from the caller (``shiyu db upgrade``) or ``SHIYU_DATABASE_URL``."""

from __future__ import annotations

from alembic import context

from shiyu.core.config import Settings
from shiyu.core.db import make_engine
from shiyu.domains import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings(demo_mode=True).database_url
target_metadata = metadata()


def run() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
