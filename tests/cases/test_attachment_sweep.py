"""Uploads nothing used: the periodic sweep removes their rows and files after the retention, keeps every
upload a case or a check-in took and every recent one, changes nothing when run again, and a report that
still names a swept upload is told so."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from shiyu.cases import tasks
from shiyu.cases.models import Attachment
from shiyu.core.audit import AuditEntry
from shiyu.core.jobs import JobContext
from shiyu.core.timeutil import utcnow
from tests.cases.case_fixtures import POINT_A1, case_world, jpeg_bytes
from tests.factories import login
from tests.patrol.patrol_fixtures import body as checkin_body


@pytest.fixture
def w(system_session):
    return case_world(system_session)


def _upload(client, headers) -> int:
    r = client.post("/api/v1/attachments", files={"file": ("scene.jpg", jpeg_bytes(), "image/jpeg")},
                    headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _report(w, key: str, attachment_ids: list[int]) -> dict:
    return {"idempotency_key": key, "channel": "grid", "category_id": w.extra["category"].id,
            "description": "井盖缺失", "location": POINT_A1, "attachment_ids": attachment_ids}


def test_sweep_removes_only_old_unused_uploads(client, system_session, factory, settings, w):
    h = login(client, "worker_a1")
    by_case, by_checkin, old_unused, fresh_unused = (_upload(client, h) for _ in range(4))
    assert client.post("/api/v1/cases", json=_report(w, "sweep-0001", [by_case]), headers=h).status_code == 201
    checkin = client.post("/api/v1/patrol/checkins", json=checkin_body(POINT_A1, attachment_id=by_checkin), headers=h)
    assert checkin.status_code == 201, checkin.text
    # A check-in's photo is taken: a case cannot take it as well.
    taken = client.post("/api/v1/cases", json=_report(w, "sweep-0002", [by_checkin]), headers=h)
    assert taken.status_code == 422 and taken.json()["code"] == "attachment_unusable"

    old = utcnow() - timedelta(days=settings.unused_upload_days + 1)
    system_session.execute(update(Attachment).where(Attachment.id != fresh_unused).values(uploaded_at=old))
    system_session.commit()
    keys = {a.id: [k for k in (a.storage_key, a.thumbnail_key) if k]
            for a in system_session.scalars(select(Attachment))}
    files = Path(settings.storage_dir)
    assert all((files / k).is_file() for ks in keys.values() for k in ks)

    ctx = JobContext(settings, factory)
    assert tasks.sweep_unused_uploads(ctx) == 1
    assert tasks.sweep_unused_uploads(ctx) == 0

    system_session.expire_all()
    assert set(system_session.scalars(select(Attachment.id))) == {by_case, by_checkin, fresh_unused}
    assert not any((files / k).exists() for k in keys[old_unused])
    assert all((files / k).is_file() for i in (by_case, by_checkin, fresh_unused) for k in keys[i])
    deleted = system_session.scalars(select(AuditEntry).where(AuditEntry.object_type == "attachment",
                                                              AuditEntry.action == "delete")).one()
    assert deleted.object_id == str(old_unused) and deleted.actor_name == "uploads"

    gone = client.post("/api/v1/cases", json=_report(w, "sweep-0003", [old_unused]), headers=h)
    assert gone.status_code == 422 and gone.json()["code"] == "attachment_unusable"
    assert client.post("/api/v1/cases", json=_report(w, "sweep-0004", [fresh_unused]), headers=h).status_code == 201
