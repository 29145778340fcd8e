"""Re-encrypting personal data under the active key after a new key is put first (key rotation).

Reading decrypts with whichever key id a stored value names; writing encrypts with the active key. So a
rotation reads the raw stored text, and rewrites only values under an older key id. Rows go in batches,
each in its own transaction, so a large table rotates without one huge transaction and can be resumed.
"""

from __future__ import annotations

from sqlalchemy import Text, select, type_coerce, update
from sqlalchemy.orm import Session, sessionmaker

from shiyu.core.db import Base
from shiyu.core.pii import PersonalData, keyring

BATCH = 500


def personal_tables() -> dict[str, list[str]]:
    """Tables with personal-data columns among the models imported so far: ``core`` knows no domain, so the
    caller (the ``pii rotate`` command) imports every model first."""
    return {
        table.name: [c.name for c in table.columns if isinstance(c.type, PersonalData)]
        for table in Base.metadata.sorted_tables
        if any(isinstance(c.type, PersonalData) for c in table.columns)
    }


def rotate_all(factory: sessionmaker[Session]) -> dict[str, int]:
    """Returns the number of rows rewritten per table."""
    ring = keyring()
    prefix = ring.active_kid + ":"
    done: dict[str, int] = {}
    for name, columns in personal_tables().items():
        table = Base.metadata.tables[name]
        raw_cols = [type_coerce(table.c[c], Text).label(c) for c in columns]
        count, last_id = 0, 0
        while True:
            with factory() as s, s.begin():
                rows = s.execute(
                    select(table.c.id, *raw_cols).where(table.c.id > last_id).order_by(table.c.id).limit(BATCH)
                ).all()
                if not rows:
                    break
                for row in rows:
                    stored = dict(zip(columns, row[1:], strict=True))
                    if all(v is None or v.startswith(prefix) for v in stored.values()):
                        continue
                    clear = {c: None if v is None else ring.decrypt(v) for c, v in stored.items()}
                    s.execute(update(table).where(table.c.id == row[0]).values(clear))
                    count += 1
                last_id = rows[-1][0]
        done[name] = count
    return done
