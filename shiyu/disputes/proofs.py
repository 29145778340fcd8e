"""履行凭证: photos of receipts, transfer slips or signed papers proving an agreement is being kept. Files are
checked exactly like a case's photos (``shiyu.cases.attachments``: type by content, size limit, metadata
stripped) and stored in the same media storage; the row is the dispute's, scoped like it."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, UploadFile
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases import attachments
from shiyu.core.errors import Conflict, NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from shiyu.core.storage import LocalStorage, MediaKind, Storage
from shiyu.core.timeutil import utcnow
from shiyu.disputes import service, workflow
from shiyu.disputes.models import MEDIATE, REGISTER, REPORT, Dispute, DisputeState, Document, DocumentKind, visible

CHUNK = 256 * 1024
PROVABLE = (DisputeState.AGREED, DisputeState.PERFORMING, DisputeState.FOLLOWED_UP)


class ProofOut(BaseModel):
    id: int
    dispute_id: int
    file_name: str
    content_type: str
    size: int


def storage(request: Request) -> LocalStorage:
    return LocalStorage(request.app.state.settings.storage_dir)


async def read(file: UploadFile) -> tuple[bytes, Any]:
    chunks = []
    while chunk := await file.read(CHUNK):
        chunks.append(chunk)
    return attachments.read_limited(iter(chunks))


def may_upload(session: Session, principal: Principal, dispute_id: int) -> Dispute:
    """Checked before the file is read: the dispute is seen, the caller works on it, it has an agreement."""
    dispute = workflow.load(session, dispute_id)
    service.require_any(principal, dispute, (REGISTER, REPORT), (MEDIATE,))
    if dispute.state not in PROVABLE:
        raise Conflict("no_agreement", "只有达成协议后才能上传履行凭证", "Proof of performance needs an agreement")
    return dispute


def store(session: Session, principal: Principal, store_in: Storage, dispute_id: int, filename: str | None,
          read_file: tuple[bytes, Any]) -> Document:
    dispute = may_upload(session, principal, dispute_id)
    data, file_type = read_file
    if file_type.kind != MediaKind.PHOTO:
        raise ValidationFailed("photo_required", "履行凭证须为照片", "Proof of performance must be a photo",
                               detail={"field": "file"})
    upload = attachments.check_upload(filename, data, file_type)
    key = f"disputes/{utcnow():%Y/%m}/{uuid.uuid4().hex}.{upload.file_type.extensions[0]}"
    store_in.put(key, upload.data)
    row = Document(dispute_id=dispute.id, kind=DocumentKind.PERFORMANCE.value, file_name=upload.filename[:120],
                   content_type=upload.file_type.mime, size=len(upload.data), storage_key=key,
                   uploaded_by=principal.user_id, area_path=dispute.area_path)
    session.add(row)
    session.flush()
    return row


def list_for(session: Session, dispute_id: int) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.dispute_id == dispute_id).order_by(Document.id)))


def content(session: Session, store_in: Storage, dispute_id: int, proof_id: int) -> tuple[bytes, str]:
    row = visible(session, Document, proof_id)
    if row is None or row.dispute_id != dispute_id:
        raise NotFound(detail={"object": "proof", "id": proof_id})
    return store_in.get(row.storage_key), row.content_type


def proof_out(row: Document) -> dict[str, Any]:
    return {"id": row.id, "dispute_id": row.dispute_id, "file_name": row.file_name, "content_type": row.content_type,
            "size": row.size}
