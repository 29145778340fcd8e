"""Migrations go up and down on both databases, and the models match the migrations (no drift)."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import shiyu.domains  # noqa: F401
from shiyu.core import migrate
from shiyu.core.db import Base, make_engine
from tests.conftest import BACKENDS, drop_database, fresh_database_url


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    url = fresh_database_url(request.param, str(tmp_path), "migrations")
    yield url
    drop_database(url)


def _tables(url):
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    return names


def test_upgrade_downgrade_upgrade(empty_url):
    migrate.upgrade(empty_url)
    assert _tables(empty_url) == set(Base.metadata.tables)
    migrate.downgrade(empty_url, "base")
    assert _tables(empty_url) == set()
    migrate.upgrade(empty_url)
    assert _tables(empty_url) == set(Base.metadata.tables)


def test_models_match_migrations(empty_url):
    migrate.upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration: run `shiyu db revision` (see docs/development.md)"
