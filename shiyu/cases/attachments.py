"""Uploads of photos, recordings and videos: type by content, size limit by type, thumbnails for photos.

An upload is stored and recorded before any case uses it (a phone uploads photos while the report is
still being typed); it is visible only to its uploader until an intake or an action links it to a case,
after which it is visible exactly like the case. An upload nothing took within ``unused_upload_days`` is
swept (``sweep_unused``). Photos are decoded once with Pillow — a file that merely
starts like a JPEG but does not decode is refused — and get a 320-pixel JPEG thumbnail without EXIF (the
original keeps its bytes unchanged, as evidence, with its SHA-256 recorded).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shiyu.cases.models import Attachment
from shiyu.core.db import transaction
from shiyu.core.errors import NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.storage import FileType, MediaKind, Storage, extension_matches, refine, sniff
from shiyu.core.timeutil import utcnow

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
        with Image.open(io.BytesIO(data)) as img:
            img = ImageOps.exif_transpose(img)
            width, height = img.size
            img.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationFailed("image_unreadable", "图片文件已损坏或无法识别", "The image is damaged or unreadable",
                               detail={"field": "file"}) from exc
    return out.getvalue(), width, height


def store_upload(
    session: Session, principal: Principal, storage: Storage, filename: str | None, data: bytes, file_type: FileType,
) -> Attachment:
    if not extension_matches(filename, file_type):
        raise ValidationFailed("file_extension_mismatch", "文件扩展名与文件内容不符（内容为 {mime}）",
                               "The file name's extension does not match its content ({mime})",
                               detail={"field": "file", "content_type": file_type.mime}, mime=file_type.mime)
    if not data:
        raise ValidationFailed("file_empty", "文件为空", "The file is empty", detail={"field": "file"})
    now = utcnow()
    stem = f"{now:%Y/%m}/{uuid.uuid4().hex}"
    thumb_key, width, height = None, None, None
    if file_type.kind is MediaKind.PHOTO:
        thumb, width, height = _thumbnail(data)
        thumb_key = f"thumbnails/{stem}.jpg"
        storage.put(thumb_key, thumb)
    key = f"attachments/{stem}.{file_type.extensions[0]}"
    storage.put(key, data)
    attachment = Attachment(
        uploader=principal.username, uploaded_at=now, filename=(filename or "upload")[-200:], mime=file_type.mime,
        kind=file_type.kind.value, size=len(data), sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
        thumbnail_key=thumb_key, width=width, height=height, area_path="",
    )
    session.add(attachment)
    session.flush()
    return attachment


def discard_files(storage: Storage, stored: list[Attachment]) -> None:
    """Remove the files of uploads whose rows were rolled back (a refused report) or deleted (the sweep), so
    nothing is left on disk that no row points at."""
    for attachment in stored:
        for key in (attachment.storage_key, attachment.thumbnail_key):
            if key:
                storage.delete(key)


def unused_by(attachment: Attachment, principal: Principal) -> bool:
    """The caller's own upload that no case and no check-in has taken yet (both set its ``area_path``)."""
    return attachment.case_id is None and not attachment.area_path and attachment.uploader == principal.username


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


def attachment_out(a: Attachment) -> dict:
    return {"id": a.id, "case_id": a.case_id, "filename": a.filename, "mime": a.mime, "kind": a.kind, "size": a.size,
            "width": a.width, "height": a.height, "has_thumbnail": a.thumbnail_key is not None,
            "uploaded_at": a.uploaded_at}
