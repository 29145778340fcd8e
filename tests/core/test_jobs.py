"""The job queue runs declared jobs from SQLite storage and, where Redis is available, from Redis."""

import os
import uuid

import pytest
from sqlalchemy import func, select

from shiyu.core import jobs
from shiyu.core.config import Settings
from shiyu.core.scoping import Principal
from shiyu.org.areas.models import Area
from tests.factories import make_world

REDIS_URL = os.environ.get("SHIYU_TEST_REDIS_URL")


@jobs.job
def count_areas(ctx: jobs.JobContext, level: int) -> int:
    with ctx.session_factory() as s:
        s.info["principal"] = Principal.system("job")
        return s.scalar(select(func.count()).select_from(Area).where(Area.level == level))


def _run_one(queue: jobs.Queue, result_handle):
    task = queue.huey.dequeue()
    assert task is not None, "nothing was queued"
    queue.huey.execute(task)
    return result_handle.get()


def test_job_runs_from_sqlite_storage(settings, system_session):
    make_world(system_session)
    system_session.commit()
    queue = jobs.build_queue(settings)
    handle = queue.enqueue(count_areas, 4)
    assert _run_one(queue, handle) == 4


@pytest.mark.skipif(not REDIS_URL, reason="SHIYU_TEST_REDIS_URL not set")
def test_job_runs_from_redis(settings: Settings, system_session):
    make_world(system_session)
    system_session.commit()
    # A queue of its own: parallel test workers share the Redis database.
    queue = jobs.build_queue(settings.model_copy(update={"redis_url": REDIS_URL, "job_queue": f"t{uuid.uuid4().hex}"}))
    queue.huey.flush()
    handle = queue.enqueue(count_areas, 3)
    assert _run_one(queue, handle) == 2
