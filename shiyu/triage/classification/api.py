"""Routes for smart triage: model versions (list, activate = rollback, retrain) for holders of
``triage.manage``, and a case's suggestions for whoever can see the case."""

from __future__ import annotations

from fastapi import APIRouter

from shiyu.core.http import CurrentPrincipal, Db
from shiyu.triage.classification import registry, suggest, training
from shiyu.triage.classification.schemas import CaseSuggestionsOut, VersionOut

router = APIRouter(prefix="/triage", tags=["triage"])


@router.get("/models", response_model=list[VersionOut], summary="Model versions with their held-out scores")
def list_models(db: Db, principal: CurrentPrincipal) -> list[VersionOut]:
    registry.require_manage(principal)
    return [VersionOut.model_validate(v) for v in registry.list_versions(db)]


@router.post("/models/{version}/activate", response_model=VersionOut,
             summary="Make this version the active model (rollback); needs triage.manage city-wide")
def activate(version: int, db: Db, principal: CurrentPrincipal) -> VersionOut:
    return VersionOut.model_validate(registry.activate(db, principal, version))


@router.post("/retrain", response_model=VersionOut, status_code=202,
             summary="Queue a retraining run (a worker picks it up within a minute)")
def retrain(db: Db, principal: CurrentPrincipal) -> VersionOut:
    return VersionOut.model_validate(training.request(db, principal))


@router.get("/cases/{case_id}/suggestions", response_model=CaseSuggestionsOut,
            summary="The categories suggested for a case at intake, best first")
def case_suggestions(case_id: int, db: Db) -> CaseSuggestionsOut:
    found = suggest.of_case(db, case_id)
    if found is None:
        return CaseSuggestionsOut(case_id=case_id)
    return CaseSuggestionsOut(case_id=case_id, model_version=found.model_version, created_at=found.created_at,
                              auto_action=found.auto_action, suggestions=found.suggestions)
