"""The small world with community A's mediation pool (``dispute_fixtures.pool``) in ``world.extra``."""

from __future__ import annotations

import pytest

from tests.disputes.dispute_fixtures import pool
from tests.factories import populated


@pytest.fixture
def world(system_session):
    w = populated(system_session)
    w.extra = pool(system_session, w)
    system_session.commit()
    return w
