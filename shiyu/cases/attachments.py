"""Uploads of photos, recordings and videos: type by content, size limit by type, thumbnails for photos.

An upload is stored and recorded before any case uses it (a phone uploads photos while the report is
still being typed); it is visible only to its uploader (by id, ``models.owns_upload``) until an intake or
an action links it to a case, after which it is visible exactly like the case. Linking is a claim
(``claim``): one conditional UPDATE that takes the rows only while nothing else has, so of two reports
naming one upload exactly one gets it. An upload nothing took within ``unused_upload_days`` is swept
(``sweep_unused``).

Photos are decoded with Pillow — a file that merely starts like a JPEG but does not decode is refused —
get a 320-pixel JPEG thumbnail, and are kept re-encoded with their orientation applied and without their
metadata (EXIF with the phone's GPS position and model, XMP, comments): the case has its own location,
and whoever may see the case need not learn where the reporter's phone was. The SHA-256 recorded is that
of the stored file. Recordings and videos are checked beyond their first bytes (``shiyu.core.media``).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from shiyu.cases.models import AnonymousReporter, Attachment, owns_upload
from shiyu.core import audit, media
from shiyu.core.db import rowcount, transaction
from shiyu.core.errors import NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.storage import FileType, MediaKind, Storage, extension_matches, refine, sniff
from shiyu.core.timeutil import utcnow
from shiyu.org.identity.api_clients import ApiPrincipal

MB = 1024 * 1024
SIZE_LIMITS = {MediaKind.PHOTO: 15 * MB, MediaKind.AUDIO: 30 * MB, MediaKind.VIDEO: 200 * MB}
MAX_PIXELS = 50_000_000
THUMBNAIL_SIZE = (320, 320)


def read_limited(chunks: Iterator[bytes]) -> tuple[bytes, FileType]:
    """Read an upload, deciding its type from the first bytes and stopping as soon as it passes the limit
    for that type (so a 2 GB "photo" is refused after 15 MB, not after it has filled the memory). A file
    that starts like a video may turn out to be a voice note (``storage.refine``), held to the audio limit."""
    buffer = bytearray()
    file_type: FileType | None = None
    limit = max(SIZE_LIMITS.values())
    for chunk in chunks:
        buffer.extend(chunk)
        if file_type is None and len(buffer) >= 16:
            file_type = _known(bytes(buffer[:64]))
            limit = SIZE_LIMITS[file_type.kind]
        if len(buffer) > limit:
            raise _too_large(limit)
    if file_type is None:
        file_type = _known(bytes(buffer))
    data = bytes(buffer)
    file_type = refine(data, file_type)
    if len(data) > SIZE_LIMITS[file_type.kind]:
        raise _too_large(SIZE_LIMITS[file_type.kind])
    return data, file_type


def _too_large(limit: int) -> ValidationFailed:
    return ValidationFailed("file_too_large", "文件过大（该类型最大 {mb} MB）",
                            "The file is too large (at most {mb} MB for this type)", detail={"field": "file"},
                            mb=limit // MB)


def _known(head: bytes) -> FileType:
    file_type = sniff(head)
    if file_type is None:
        raise ValidationFailed("file_type_refused", "只能上传照片（JPEG/PNG/GIF/WebP）、录音或视频",
                               "Only photos (JPEG/PNG/GIF/WebP), audio recordings and videos can be uploaded",
                               detail={"field": "file"})
    return file_type


def _thumbnail(data: bytes) -> tuple[bytes, int, int]:
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed("image_too_large", "图片像素过多", "The image has too many pixels",
                                       detail={"field": "file"})
            probe.verify()
        with Image.open(io.BytesIO(data)) as opened:
            img = ImageOps.exif_transpose(opened)
            width, height = img.size
            img.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=80)
    except Image.DecompressionBombError as exc:  # opened claiming billions of pixels: refused unread
        raise ValidationFailed("image_too_large", "图片像素过多", "The image has too many pixels",
                               detail={"field": "file"}) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed("image_unreadable", "图片文件已损坏或无法识别", "The image is damaged or unreadable",
                               detail={"field": "file"}) from exc
    return out.getvalue(), width, height


# What a re-encoded photo keeps of the original's info: how it is drawn, nothing about who took it where.
_DRAWING_INFO = frozenset({"icc_profile", "transparency", "duration", "loop", "background"})
_PIL_FORMAT = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


def _without_metadata(data: bytes, file_type: FileType) -> bytes:
    """The photo as it is kept: decoded and encoded again in its own format with the EXIF orientation
    applied to the pixels, keeping only what draws it (colour profile, transparency, animation timing).
    Called after ``_thumbnail`` accepted the image's size; an animation is bounded by its total pixels."""
    with Image.open(io.BytesIO(data)) as img:
        frames = getattr(img, "n_frames", 1)
        if frames * img.width * img.height > MAX_PIXELS:
            raise ValidationFailed("image_too_large", "图片像素过多", "The image has too many pixels",
                                   detail={"field": "file"})
        clean = ImageOps.exif_transpose(img) if frames == 1 else img
        clean.info = {k: v for k, v in clean.info.items() if k in _DRAWING_INFO}
        options: dict[str, Any] = {"save_all": True} if frames > 1 else {}
        if file_type.mime == "image/jpeg":
            options["quality"] = 92
        if file_type.mime == "image/webp":
            options["quality"] = 90
        out = io.BytesIO()
        clean.save(out, _PIL_FORMAT[file_type.mime], **options)
    return out.getvalue()


@dataclass(frozen=True)
class Upload:
    """A file checked and made ready to keep (a photo re-encoded, with its thumbnail), not yet stored."""

    filename: str
    data: bytes
    file_type: FileType
    thumbnail: bytes | None = None
    width: int | None = None
    height: int | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def check_upload(filename: str | None, data: bytes, file_type: FileType) -> Upload:
    """Everything that can refuse a file, before anything is stored."""
    if not extension_matches(filename, file_type):
        raise ValidationFailed("file_extension_mismatch", "文件扩展名与文件内容不符（内容为 {mime}）",
                               "The file name's extension does not match its content ({mime})",
                               detail={"field": "file", "content_type": file_type.mime}, mime=file_type.mime)
    if not data:
        raise ValidationFailed("file_empty", "文件为空", "The file is empty", detail={"field": "file"})
    name = (filename or "upload")[-200:]
    if file_type.kind is not MediaKind.PHOTO:
        problem = media.problem(data, file_type)
        if problem is not None:
            raise ValidationFailed("media_unreadable", "录音或视频文件已损坏或格式不受支持（{problem}）",
                                   "The recording or video is damaged or not in a supported format ({problem})",
                                   detail={"field": "file", "content_type": file_type.mime}, problem=problem)
        return Upload(name, data, file_type)
    thumb, width, height = _thumbnail(data)
    return Upload(name, _without_metadata(data, file_type), file_type, thumb, width, height)


def save_upload(session: Session, principal: Principal, storage: Storage, upload: Upload) -> Attachment:
    """Store a checked file and record it as the caller's (by id; see ``models.AnonymousReporter``)."""
    now = utcnow()
    stem = f"{now:%Y/%m}/{uuid.uuid4().hex}"
    thumb_key = None
    if upload.thumbnail is not None:
        thumb_key = f"thumbnails/{stem}.jpg"
        storage.put(thumb_key, upload.thumbnail)
    key = f"attachments/{stem}.{upload.file_type.extensions[0]}"
    storage.put(key, upload.data)
    attachment = Attachment(
        uploader_id=principal.user_id,
        uploader_client_id=principal.api_client_id if isinstance(principal, ApiPrincipal) else None,
        upload_secret_hash=principal.upload_secret_hash if isinstance(principal, AnonymousReporter) else None,
        uploaded_at=now, filename=upload.filename, mime=upload.file_type.mime, kind=upload.file_type.kind.value,
        size=len(upload.data), sha256=upload.sha256, storage_key=key, thumbnail_key=thumb_key, width=upload.width,
        height=upload.height, area_path="",
    )
    session.add(attachment)
    session.flush()
    return attachment


def store_upload(
    session: Session, principal: Principal, storage: Storage, filename: str | None, data: bytes, file_type: FileType,
) -> Attachment:
    return save_upload(session, principal, storage, check_upload(filename, data, file_type))


def discard_files(storage: Storage, stored: list[Attachment]) -> None:
    """Remove the files of uploads whose rows were rolled back (a refused report) or deleted (the sweep), so
    nothing is left on disk that no row points at."""
    for attachment in stored:
        for key in (attachment.storage_key, attachment.thumbnail_key):
            if key:
                storage.delete(key)


def unused_by(attachment: Attachment, principal: Principal) -> bool:
    """The caller's own upload that no case and no check-in has taken yet (both set its ``area_path``)."""
    return (attachment.case_id is None and not attachment.area_path
            and (principal.is_system or owns_upload(principal, attachment)))


def claim(session: Session, taken: list[Attachment], area_path: str, case_id: int | None = None
          ) -> list[dict[str, Any]] | None:
    """Link uploads to a case (``case_id``) or to a check-in's grid (``area_path`` alone), all or none, in
    one UPDATE that takes a row only while it is unused (or, for a case, already on that case). Checking
    "unused" when the report was prepared is not enough: SQLite has no row locks, and two reports of one
    group-commit batch share a transaction. Returns the audit entries of the change, or None when any row
    was taken meanwhile (then nothing changed)."""
    if not taken:
        return []
    table = Attachment.__table__
    ids = [a.id for a in taken]
    free = and_(table.c.case_id.is_(None), table.c.area_path == "")
    if case_id is not None:
        free = or_(free, table.c.case_id == case_id)
    # All or none: the row count of the free ones is checked in the same statement.
    still_free = select(func.count()).select_from(table).where(table.c.id.in_(ids), free).scalar_subquery()
    values: dict[str, Any] = {"area_path": area_path} | ({"case_id": case_id} if case_id is not None else {})
    done = session.execute(update(table).where(table.c.id.in_(ids), free, still_free == len(ids)).values(**values))
    if rowcount(done) != len(ids):
        return None
    entries = []
    for attachment in taken:
        before = {"case_id": attachment.case_id, "area_path": attachment.area_path}
        after = {"case_id": attachment.case_id if case_id is None else case_id, "area_path": area_path}
        entries.append(audit.entry(session, "update", table.name, attachment.id, area_path, before, after))
        for key, value in after.items():  # the loaded rows as now stored, without another write or read
            set_committed_value(attachment, key, value)
    return entries


def unusable() -> ValidationFailed:
    return ValidationFailed("attachment_unusable", "附件不存在或不可使用", "An attachment does not exist or "
                            "cannot be used here", detail={"field": "attachment_ids"})


def sweep_unused(factory: sessionmaker[Session], storage: Storage, older_than: timedelta, *,
                 now: datetime | None = None, batch: int = 500) -> int:
    """Delete the uploads nothing took within ``older_than`` of their upload; returns how many.

    Rows go in batches, each its own transaction, claimed with SKIP LOCKED so several workers share the
    work; a report or check-in taking an upload holds its row lock until it commits, so the two never both
    win (the report is then told the upload is gone). Files are removed after the commit: a crash between
    the two leaves files no row points at, never a row whose file is missing. Deletions are audited.
    """
    cutoff = (now or utcnow()) - older_than
    removed = 0
    while True:
        with transaction(factory, principal=Principal.system("uploads")) as session:
            found = list(session.scalars(
                select(Attachment).where(Attachment.case_id.is_(None), Attachment.area_path == "",
                                         Attachment.uploaded_at < cutoff)
                .order_by(Attachment.id).limit(batch).with_for_update(skip_locked=True)))
            for attachment in found:
                session.delete(attachment)
        discard_files(storage, found)
        removed += len(found)
        if len(found) < batch:
            return removed


def get_attachment(session: Session, attachment_id: int, *, lock: bool = False) -> Attachment:
    """The upload (visible to the caller), its row locked until the commit when ``lock`` is set."""
    attachment = session.get(Attachment, attachment_id, with_for_update=lock)
    if attachment is None:
        raise NotFound(detail={"object": "attachment", "id": attachment_id})
    return attachment


def content(storage: Storage, attachment: Attachment, thumbnail: bool = False) -> tuple[bytes, str]:
    if thumbnail:
        if attachment.thumbnail_key is None:
            raise NotFound("no_thumbnail", "该附件没有缩略图", "This attachment has no thumbnail")
        return storage.get(attachment.thumbnail_key), "image/jpeg"
    return storage.get(attachment.storage_key), attachment.mime


def attachment_out(a: Attachment) -> dict[str, Any]:
    return {"id": a.id, "case_id": a.case_id, "filename": a.filename, "mime": a.mime, "kind": a.kind, "size": a.size,
            "width": a.width, "height": a.height, "has_thumbnail": a.thumbnail_key is not None,
            "uploaded_at": a.uploaded_at}
