"""Routes for hot issues (热点问题): the hottest in your scope, one with its member cases, and the analyst's
three decisions. Thin: parse, call one service function, return."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from shiyu.core.http import CurrentPrincipal, Db
from shiyu.triage.hot import hot_cases
from shiyu.triage.hot.models import HotIssue
from shiyu.triage.hot.schemas import HotIssueDetail, HotIssueOut, SplitIn

router = APIRouter(prefix="/hot-issues", tags=["hot issues"])


def _detail(db: Session, issue: HotIssue) -> dict[str, Any]:
    out = hot_cases.issue_out(issue, hot_cases.place_names(db, [issue]))
    out["members"] = [hot_cases.member_out(c) for c in hot_cases.member_cases(db, issue)]
    return out


@router.get("", response_model=list[HotIssueOut], summary="The hottest issues in your scope, hottest first")
def list_issues(db: Db, limit: int = Query(20, ge=1, le=200), include_dismissed: bool = False) -> list[dict[str, Any]]:
    issues = hot_cases.top(db, limit, include_dismissed=include_dismissed)
    places = hot_cases.place_names(db, issues)
    return [hot_cases.issue_out(i, places) for i in issues]


@router.get("/{issue_id}", response_model=HotIssueDetail, summary="A hot issue with its member cases")
def get_issue(issue_id: int, db: Db) -> dict[str, Any]:
    return _detail(db, hot_cases.get(db, issue_id))


@router.post("/{issue_id}/confirm", response_model=HotIssueDetail, summary="Confirm: one matter worth attention")
def confirm(issue_id: int, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return _detail(db, hot_cases.confirm(db, principal, issue_id))


@router.post("/{issue_id}/dismiss", response_model=HotIssueDetail,
             summary="Dismiss: not a hot issue (the daily job keeps it dismissed)")
def dismiss(issue_id: int, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return _detail(db, hot_cases.dismiss(db, principal, issue_id))


@router.post("/{issue_id}/split", response_model=HotIssueDetail, status_code=201,
             summary="Move some member cases into a new issue of the same place; answers the new issue")
def split(issue_id: int, body: SplitIn, db: Db, principal: CurrentPrincipal) -> dict[str, Any]:
    return _detail(db, hot_cases.split(db, principal, issue_id, body.case_ids))
