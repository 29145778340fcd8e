"""Smart triage (智能分拨) in three parts: ``classification`` (category model and suggestions), ``duplicates``
and ``hot`` (hot issues); ``text`` is shared by all three (tables are read by ``shiyu.core.tabular``),
``tasks`` holds the outbox subscribers that run them after intake."""

from __future__ import annotations

from shiyu.core.errors import ShiyuError


class TriageError(ShiyuError):
    """A user mistake in triage input (file, column, encoding, labels); the CLI prints it and exits 2."""

    status = 422
    code = "triage.invalid_input"
    zh = "分拨数据有误"
    en = "The triage input is not valid"
