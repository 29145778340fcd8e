"""Uploads (security review 2026-12, S10, L7): taking an upload is atomic — of many reports naming one
upload at once exactly one gets it, in one transaction or in many; photos are kept without their metadata
(EXIF with the phone's GPS position), orientation applied; recordings and videos are checked beyond their
magic bytes."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest
from PIL import Image
from sqlalchemy import func, select

from shiyu.cases import attachments
from shiyu.cases.intake import service as intake
from shiyu.cases.intake.writer import IntakeWriter, Report
from shiyu.cases.models import Attachment, Case, CaseEvent
from shiyu.cases.schemas import IntakeIn
from shiyu.core.errors import ShiyuError
from shiyu.core.scoping import Principal
from tests import media_samples
from tests.cases.case_fixtures import POINT_A1, SH, case_world, evidence, principal
from tests.factories import World, login

REPORTS = 10


@pytest.fixture
def w(system_session) -> World:
    return case_world(system_session)


def _body(w, key: str, upload: int) -> IntakeIn:
    return IntakeIn(idempotency_key=key, channel="grid", category_id=w.extra["category"].id,
                    description=f"占道经营 {key}", location=POINT_A1, attachment_ids=[upload])


def _holders(s, upload: int) -> tuple[list[int], int | None]:
    """The cases whose report event lists the upload, and the case the upload row points at."""
    s.info["principal"] = Principal.system("test")
    s.expire_all()
    listed = [e.case_id for e in s.scalars(select(CaseEvent).where(CaseEvent.action == "report"))
              if upload in e.attachment_ids]
    return listed, s.get(Attachment, upload).case_id


def test_one_batch_of_reports_naming_one_upload_gives_it_to_the_first(system_session, factory, w):
    """Within one group-commit transaction nothing re-checked the upload: every report took it in turn."""
    upload = evidence(system_session, "worker_a1")
    system_session.commit()
    reports = [Report(lambda s: principal(s, w, "worker_a1"), None, _body(w, f"same-upload-{n:02d}", upload))
               for n in range(REPORTS)]
    IntakeWriter(factory, SH).write_batch(reports)
    answers = []
    for report in reports:
        try:
            answers.append(report.answer.result(timeout=30)["id"])
        except ShiyuError as error:
            answers.append(error.code)
    assert answers[1:] == ["attachment_unusable"] * (REPORTS - 1) and isinstance(answers[0], int), answers
    assert _holders(system_session, upload) == ([answers[0]], answers[0])
    assert system_session.scalar(select(func.count()).select_from(Case)) == 1


def test_concurrent_reports_naming_one_upload_one_case_has_it(system_session, factory, w):
    """In separate transactions at once: SQLite has no row locks, and the link was an unconditional UPDATE,
    so several cases listed the photo while the row moved from case to case."""
    upload = evidence(system_session, "worker_a1")
    system_session.commit()
    barrier, outcomes = threading.Barrier(REPORTS), []

    def send(n: int) -> None:
        with factory() as session:
            worker = principal(session, w, "worker_a1")
            session.info["principal"] = worker
            barrier.wait()
            try:
                outcomes.append(intake.intake(session, worker, _body(w, f"race-upload-{n:02d}", upload), SH).case_id)
                session.commit()
            except ShiyuError as error:
                session.rollback()
                outcomes.append(error.code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(REPORTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cases = [o for o in outcomes if isinstance(o, int)]
    assert len(cases) == 1 and outcomes.count("attachment_unusable") == REPORTS - 1, outcomes
    assert _holders(system_session, upload) == (cases, cases[0])


def _photo_with_metadata(fmt: str) -> bytes:
    """40×20 pixels, EXIF saying "rotate 90°" with a GPS position and the phone's make, and a comment."""
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "LeakyPhone"
    exif[0x8825] = {1: "N", 2: (24.0, 30.0, 15.5), 3: "E", 4: (118.0, 5.0, 9.25)}
    out = io.BytesIO()
    extra = {"comment": b"home of the reporter"} if fmt == "JPEG" else {}
    Image.new("RGB", (40, 20), (200, 30, 30)).save(out, fmt, exif=exif.tobytes(), **extra)
    return out.getvalue()


@pytest.mark.parametrize("fmt, name", [("JPEG", "scene.jpg"), ("PNG", "scene.png"), ("WEBP", "scene.webp")])
def test_photos_are_kept_without_metadata_and_upright(client, system_session, w, fmt, name):
    original = _photo_with_metadata(fmt)
    h = login(client, "worker_a1")
    r = client.post("/api/v1/attachments", files={"file": (name, original, "image/*")}, headers=h)
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"]) == (20, 40)  # orientation applied
    kept = client.get(f"/api/v1/attachments/{r.json()['id']}", headers=h).content
    for leak in (b"LeakyPhone", b"home of the reporter", b"Exif"):
        assert leak not in kept
    with Image.open(io.BytesIO(kept)) as img:
        assert img.format == fmt and img.size == (20, 40) and not img.getexif()
    system_session.expire_all()
    assert system_session.get(Attachment, r.json()["id"]).sha256 == hashlib.sha256(kept).hexdigest()


GOOD = {"voice.mp3": media_samples.mp3(), "voice.wav": media_samples.wav(), "voice.amr": media_samples.amr(),
        "voice.ogg": media_samples.ogg(), "voice.webm": media_samples.webm(b"A_OPUS"),
        "clip.webm": media_samples.webm(b"V_VP8", b"A_OPUS"), "voice.m4a": media_samples.iso(b"M4A ", b"soun"),
        "clip.mp4": media_samples.iso(b"isom", b"vide", b"soun"), "clip.mov": media_samples.iso(b"qt  ", b"vide")}
BAD = {
    "id3-then-junk.mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"<html><script>alert(1)</script></html>" * 20,
    "one-frame-then-junk.mp3": media_samples.mp3(1) + b"MZ\x90\x00" * 100,
    "ftyp-then-junk.mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41" + b"<html>" * 100,
    "cut.mp4": media_samples.iso(b"isom", b"vide")[:-20],
    "no-movie.mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41" + b"\x00\x00\x00\x10mdat" + b"\x00" * 8,
    "magic-only.ogg": b"OggS" + b"\x00" * 60,
    "bad-crc.ogg": media_samples.ogg()[:30] + b"\xff" + media_samples.ogg()[31:],
    "magic-only.amr": b"#!AMR\n" + b"\x00" * 32,
    "magic-only.webm": b"\x1a\x45\xdf\xa3" + b"\x00" * 60,
    "not-webm.webm": media_samples.webm(b"A_OPUS").replace(b"webm", b"junk", 1),
    "header-only.wav": b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40,
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_well_formed_recordings_and_videos_are_accepted(client, w, name):
    r = client.post("/api/v1/attachments", files={"file": (name, GOOD[name], "application/octet-stream")},
                    headers=login(client, "worker_a1"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("name", sorted(BAD))
def test_magic_bytes_in_front_of_anything_are_refused(client, w, name):
    r = client.post("/api/v1/attachments", files={"file": (name, BAD[name], "application/octet-stream")},
                    headers=login(client, "worker_a1"))
    assert r.status_code == 422 and r.json()["code"] == "media_unreadable", r.text


def test_a_claim_takes_all_the_uploads_or_none(system_session, factory, w):
    """The check is in the statement that writes: a row taken after the report loaded it fails the whole
    claim and leaves the other rows unused."""
    first, second = evidence(system_session, "worker_a1"), evidence(system_session, "worker_a1")
    system_session.commit()
    with factory() as s:
        s.info["principal"] = principal(s, w, "worker_a1")
        rows = list(s.scalars(select(Attachment).where(Attachment.id.in_([first, second])).order_by(Attachment.id)))
        with factory() as other:  # meanwhile a check-in takes the second one
            other.info["principal"] = Principal.system("test")
            other.get(Attachment, second).area_path = w.grids["a1"].area_path
            other.commit()
        assert attachments.claim(s, rows, w.grids["a1"].area_path) is None
        s.rollback()
        s.expire_all()
        assert (s.get(Attachment, first).area_path, s.get(Attachment, first).case_id) == ("", None)
        third = evidence(system_session, "worker_a1")
        system_session.commit()
        s.info["principal"] = principal(s, w, "worker_a1")
        rows = list(s.scalars(select(Attachment).where(Attachment.id.in_([first, third]))))
        entries = attachments.claim(s, rows, w.grids["a1"].area_path)
        assert entries is not None and len(entries) == 2
        assert {r.area_path for r in rows} == {w.grids["a1"].area_path}
