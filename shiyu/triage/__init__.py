"""Smart triage (智能分拨): offline Chinese text classification of citizen messages, duplicate finding and
hot-issue grouping. Pure computation over texts and tables; nothing here touches the database."""

from __future__ import annotations

from shiyu.core.errors import ShiyuError


class TriageError(ShiyuError):
    """A user mistake in triage input (file, column, encoding, labels); the CLI prints it and exits 2."""

    status = 422
    code = "triage.invalid_input"
    zh = "分拨数据有误"
    en = "The triage input is not valid"
