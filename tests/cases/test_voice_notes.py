"""Voice notes from phones are accepted as audio: Android recorders write ISO media with a generic brand
(``.m4a``/``.3gpp``), Chrome's MediaRecorder an audio-only WebM; the first bytes look like a video, the
tracks say it is a recording. A file with a video track stays a video."""

from __future__ import annotations

import pytest

from shiyu.core import storage
from tests.factories import login, populated
from tests.media_samples import amr, iso, ogg, webm


@pytest.mark.parametrize("data, expected", [
    (iso(b"isom", b"soun"), storage.M4A),
    (iso(b"mp42", b"soun"), storage.M4A),
    (iso(b"M4A ", b"soun"), storage.M4A),
    (iso(b"3gp4", b"soun"), storage.AUDIO_3GP),
    (iso(b"isom", b"vide", b"soun"), storage.MP4),
    (iso(b"3gp4", b"vide", b"soun"), storage.MP4),
    (webm(b"A_OPUS"), storage.WEBM_AUDIO),
    (webm(b"V_VP8", b"A_OPUS"), storage.WEBM),
    (amr(), storage.AMR),
    (ogg(), storage.OGG),
])
def test_recordings_are_told_from_videos_by_their_tracks(data, expected):
    assert storage.refine(data, storage.sniff(data[:64])) is expected


@pytest.mark.parametrize("name, data, mime", [
    ("录音 001.m4a", iso(b"isom", b"soun"), "audio/mp4"),
    ("voice.3gpp", iso(b"3gp4", b"soun"), "audio/3gpp"),
    ("note.webm", webm(b"A_OPUS"), "audio/webm"),
    ("note.amr", amr(), "audio/amr"),
    ("note.ogg", ogg(), "audio/ogg"),
])
def test_a_field_voice_note_uploads_as_audio(client, system_session, name, data, mime):
    populated(system_session)
    r = client.post("/api/v1/attachments", files={"file": (name, data, "audio/*")}, headers=login(client, "worker_a1"))
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["mime"]) == ("audio", mime)


def test_a_video_named_like_a_voice_note_is_still_refused(client, system_session):
    populated(system_session)
    r = client.post("/api/v1/attachments", files={"file": ("note.m4a", iso(b"isom", b"vide", b"soun"), "audio/mp4")},
                    headers=login(client, "worker_a1"))
    assert r.status_code == 422 and r.json()["code"] == "file_extension_mismatch"
