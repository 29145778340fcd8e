"""Route for what intake found about a case: its duplicate candidates and its repeat-complaint flag."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from shiyu.cases import service
from shiyu.core.http import Db
from shiyu.triage.duplicates import case_duplicates
from shiyu.triage.hot.schemas import FindingsOut

router = APIRouter(tags=["cases"])


@router.get("/cases/{case_id}/duplicates", response_model=FindingsOut,
            summary="Possible duplicates of a case (open, nearby, similar text) and earlier similar complaints")
def findings(case_id: int, db: Db) -> dict[str, Any]:
    case = service.get_case(db, case_id)
    return {"candidates": case_duplicates.candidates_for(db, case.id), "repeat": case_duplicates.repeat_of(db, case.id)}
