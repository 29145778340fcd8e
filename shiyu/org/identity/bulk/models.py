"""People in bulk: an import in progress (``UserImport``) and the one-time codes of imported accounts
(``ActivationCode``).

An import keeps the rows it read (names, phones, ID numbers: personal data, so encrypted like the users'
own columns) between the dry run and the confirmation, and after the confirmation the codes it made, until
the importing administrator downloads them once; then they are wiped. Only a keyed hash of a code is kept
with the account, so a copy of the database opens no account.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from shiyu.core.db import Base, TimestampMixin
from shiyu.core.pii import personal


class UserImport(TimestampMixin, Base):
    """One upload of a people file by one administrator. Not area-scoped: only its creator reaches it
    (``shiyu.org.identity.bulk.service.get_import``), and every row in it is checked against the creator's
    grants at the dry run and again at the confirmation."""

    __tablename__ = "user_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft → imported
    rows: Mapped[str | None] = personal("text")  # JSON of the rows read, wiped once imported
    row_count: Mapped[int] = mapped_column(default=0)
    imported_count: Mapped[int] = mapped_column(default=0)
    imported_at: Mapped[datetime | None]
    codes: Mapped[str | None] = personal("text")  # JSON of the codes to hand out, wiped at the download
    codes_downloaded_at: Mapped[datetime | None]


class ActivationCode(Base):
    """The first-login code of a bulk-imported account, which has no password yet: a keyed hash
    (``shiyu.core.pii.blind_hash``), an expiry, and when it was used (a code opens an account once)."""

    __tablename__ = "activation_code"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    import_id: Mapped[int | None] = mapped_column(ForeignKey("user_import.id", ondelete="SET NULL"), index=True)
