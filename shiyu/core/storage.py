"""File storage behind a small interface, and file types decided by content.

``Storage`` is what the domains use; ``LocalStorage`` (files under ``settings.storage_dir``) is the
zero-set-up default, and an object store can implement the same three methods later. Keys are generated
by the caller (never taken from a user's file name), so no path traversal is possible; ``LocalStorage``
still refuses keys that are not plain relative paths.

``sniff`` identifies a file by its leading bytes (magic numbers). The file name's extension is only
checked against what the content is: an ``.jpg`` that is really a PNG, or an executable renamed to
``.mp4``, is refused, because a lying extension is how malicious files get past people and viewers.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-./]{0,200}$")


class LocalStorage:
    """Files on local disk; writes go to a temporary file first and are renamed into place (atomic)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class MediaKind(StrEnum):
    PHOTO = "photo"
    AUDIO = "audio"
    VIDEO = "video"


@dataclass(frozen=True)
class FileType:
    mime: str
    kind: MediaKind
    extensions: tuple[str, ...]


JPEG = FileType("image/jpeg", MediaKind.PHOTO, ("jpg", "jpeg"))
PNG = FileType("image/png", MediaKind.PHOTO, ("png",))
GIF = FileType("image/gif", MediaKind.PHOTO, ("gif",))
WEBP = FileType("image/webp", MediaKind.PHOTO, ("webp",))
MP3 = FileType("audio/mpeg", MediaKind.AUDIO, ("mp3",))
WAV = FileType("audio/wav", MediaKind.AUDIO, ("wav",))
AMR = FileType("audio/amr", MediaKind.AUDIO, ("amr",))
M4A = FileType("audio/mp4", MediaKind.AUDIO, ("m4a", "mp4"))
AUDIO_3GP = FileType("audio/3gpp", MediaKind.AUDIO, ("3gp", "3gpp", "3ga"))
OGG = FileType("audio/ogg", MediaKind.AUDIO, ("ogg", "oga", "opus"))
MP4 = FileType("video/mp4", MediaKind.VIDEO, ("mp4", "m4v", "3gp", "3gpp"))
MOV = FileType("video/quicktime", MediaKind.VIDEO, ("mov",))
WEBM = FileType("video/webm", MediaKind.VIDEO, ("webm",))
WEBM_AUDIO = FileType("audio/webm", MediaKind.AUDIO, ("webm", "weba"))

_AUDIO_BRANDS = {b"M4A ", b"M4B "}
_MOV_BRANDS = {b"qt  "}


def sniff(head: bytes) -> FileType | None:
    """The type of a file from its first bytes (at least 16 are needed), or None when not allowed."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"#!AMR"):
        return AMR
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return MP3
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return M4A
        if brand in _MOV_BRANDS:
            return MOV
        return MP4
    return None


# Matroska codec ids of video tracks; a WebM without any is a recording (a browser's MediaRecorder voice note).
_WEBM_VIDEO_CODECS = (b"V_VP8", b"V_VP9", b"V_AV1", b"V_MPEG4", b"V_MPEGH")
_WEBM_AUDIO_CODECS = (b"A_OPUS", b"A_VORBIS")
_WEBM_TRACKS_WITHIN = 64 * 1024


def _mp4_handlers(data: bytes) -> set[bytes]:
    """The handler types of an ISO media file's ``hdlr`` boxes (size, 'hdlr', version+flags, pre_defined,
    then the 4-byte type: ``vide``, ``soun`` …)."""
    found, at = set(), data.find(b"hdlr")
    while at != -1:
        found.add(data[at + 12:at + 16])
        at = data.find(b"hdlr", at + 4)
    return found


def refine(data: bytes, file_type: FileType) -> FileType:
    """The type of a whole file where the first bytes are not enough: phones record voice notes as ISO
    media with a generic brand (``isom``, ``mp42``, ``3gp4``: Android's recorders) or as an audio-only WebM
    (Chrome's MediaRecorder), which start exactly like videos. Such a file is audio when it has a sound
    track and no video track."""
    if file_type is MP4:
        handlers = _mp4_handlers(data)
        if b"soun" in handlers and b"vide" not in handlers:
            return AUDIO_3GP if data[8:11] in (b"3gp", b"3g2") else M4A
    elif file_type is WEBM:
        tracks = data[:_WEBM_TRACKS_WITHIN]
        if any(c in tracks for c in _WEBM_AUDIO_CODECS) and not any(c in tracks for c in _WEBM_VIDEO_CODECS):
            return WEBM_AUDIO
    return file_type


def extension_matches(filename: str | None, file_type: FileType) -> bool:
    """A name without an extension is fine (the camera app may send none); a wrong one is not."""
    if not filename or "." not in filename:
        return True
    return filename.rsplit(".", 1)[1].lower() in file_type.extensions
