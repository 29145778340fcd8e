"""Working a queue fast (issue 13): the operator sits at the desk eight hours a day.

- The case page knows the queue it was opened from (``?queue=``): J/K go to the next and previous case of that
  queue, and "办理并打开下一件" applies the action and opens the case that is now first in line after it.
- Hotkeys for the main actions (``HOTKEYS``), shown on the buttons and in the ? help; the keys themselves live
  in ``static/desk_work.js``, which never acts while the user types in a field.
- Live queue counts: the desk's event stream (``urgent.events``, beside the 特急 alarm) says that
  some case in the caller's scope changed — an id, nothing else — and the page re-reads its queue tabs
  (``/desk/counts``) through its scoped session; a count that grows rings the new-case sound.
- Batch 督办/催办 on checked rows: each row is applied by the workflow engine on its own savepoint, with the
  version the operator saw, so one refused row (out of scope, changed meanwhile, closed) leaves the others
  done; the batch is in the audit log with what happened to each row, and the page after it (a redirect, so a
  reload sends nothing again) lists that outcome.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shiyu.cases.workflow import engine, queues
from shiyu.core import audit
from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.http import language
from shiyu.core.scoping import Principal
from shiyu.web.desk.routes import BATCH_ACTIONS, DESK_PERMISSIONS, desk_queues
from shiyu.web.page_deps import PageDb, PagePrincipal, PageRoute, page_form, render, require_any

# Included in the desk router (``shiyu.web.desk``), which adds the /desk prefix.
router = APIRouter(route_class=PageRoute, include_in_schema=False)

BATCH_LIMIT = 100


@router.get("/counts")
def counts(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """The queue tabs alone, re-read by the page when the live channel says a case changed."""
    require_any(principal, *DESK_PERMISSIONS)
    current = request.query_params.get("queue") or ""
    return render(request, "desk/_queue_tabs.html", queues=desk_queues(db, principal), current=current)


def _parse_rows(values: list[str]) -> list[tuple[int, int]]:
    rows = []
    for value in values:
        case_id, _, version = value.partition(":")
        if not (case_id.isdigit() and version.isdigit()):
            raise ValidationFailed("batch_rows_invalid", "所选案件有误", "The chosen cases are not valid",
                                   detail={"field": "case"})
        rows.append((int(case_id), int(version)))
    return list(dict.fromkeys(rows))


def apply_batch(db: Session, principal: Principal, action: str, rows: list[tuple[int, int]], note: str,
                fields: dict[str, Any], request: Request) -> int:
    """Apply ``action`` to every row on its own savepoint; the batch's audit entry, which records what
    happened to each row in the order given (a refusal with its reason in the caller's language)."""
    lang, tz = language(request), request.app.state.settings.tz
    done, refused, reasons = [], [], {}
    for case_id, version in rows:
        savepoint = db.begin_nested()
        try:
            engine.apply(db, principal, case_id, action,
                         engine.ActionInput(expected_version=version, note=note, fields=fields), tz)
            savepoint.commit()
            done.append(case_id)
        except ShiyuError as exc:
            savepoint.rollback()
            refused.append(case_id)
            reasons[str(case_id)] = exc.message(lang)
    return audit.record(db, f"case.batch_{action}", "case", None,
                        after={"done": done, "refused": refused, "order": [c for c, _v in rows], "reasons": reasons})


@router.post("/batch")
async def batch(request: Request, db: PageDb, principal: PagePrincipal) -> Response:
    """催办 or 督办 on the checked rows of a queue; the queue page again, with a result per row."""
    require_any(principal, "case.supervise", "case.dispatch")
    form = await page_form(request)
    action = str(form.get("action") or "")
    if action not in BATCH_ACTIONS:
        raise ValidationFailed("batch_action_invalid", "只能批量催办或督办",
                               "Only 催办 or 督办 can be applied in a batch", detail={"field": "action"})
    rows = _parse_rows([str(v) for v in form.getlist("case")])
    if not rows or len(rows) > BATCH_LIMIT:
        raise ValidationFailed("batch_rows_count", "请选择 1 到 {n} 件案件", "Choose 1 to {n} cases",
                               detail={"field": "case"}, n=BATCH_LIMIT)
    note = str(form.get("note") or "").strip()
    if action == "supervise" and not note:
        raise ValidationFailed("note_required", "请填写督办意见", "Write the supervision instruction",
                               detail={"field": "note"})
    fields = {"listed": True} if action == "supervise" and form.get("listed") else {}
    entry_id = apply_batch(db, principal, action, rows, note, fields, request)
    queue = str(form.get("queue") or "")
    queue = queue if queue in queues.BY_NAME else ""
    return RedirectResponse(f"/desk?queue={queue}&batch={entry_id}#batch-results", status_code=303)
