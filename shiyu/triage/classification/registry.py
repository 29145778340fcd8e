"""Versioned triage models: where their files live, which one is active, and the per-process model cache.

Why a process-wide configuration (``configure``, called by ``create_app`` and by the job worker, like
``pii.configure``): the model is used from inside the intake and from outbox subscribers, which receive a
session and not the settings. Until ``configure`` has run nothing is suggested, so code paths that never
configured triage (the demo builder, unrelated tests) simply make no suggestions.

Models are loaded once per process and kept by version id. Which version is active is asked of the
database at most every ``recheck_seconds`` (one indexed one-row query), so an activation or a rollback made
by another process is picked up within seconds without a restart, and a busy intake pays nothing per case.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shiyu.core.config import Settings
from shiyu.core.errors import Conflict, NotFound
from shiyu.core.scoping import Principal, require_citywide
from shiyu.core.timeutil import utcnow
from shiyu.triage.classification.classifier import TriageModel, load
from shiyu.triage.classification.models import MANAGE, USABLE, TriageModelVersion, VersionStatus

MODEL_DIR = "triage/models"
RECHECK_SECONDS = 5.0


@dataclass
class Runtime:
    storage_dir: Path | None = None
    auto_threshold: float | None = None
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    recheck_seconds: float = RECHECK_SECONDS
    models: dict[int, TriageModel] = field(default_factory=dict)
    active: TriageModelVersion | None = None
    checked_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


RUNTIME = Runtime()


def configure(settings: Settings | None, *, recheck_seconds: float = RECHECK_SECONDS) -> None:
    """Point triage at this deployment's storage and threshold (``None``: switch suggestions off). Forgets
    cached models, so tests that reconfigure never see another database's versions."""
    fresh = Runtime() if settings is None else Runtime(
        storage_dir=Path(settings.storage_dir).resolve(), auto_threshold=settings.triage_auto_threshold,
        tz=settings.tz, recheck_seconds=recheck_seconds)
    with RUNTIME.lock:
        for name in ("storage_dir", "auto_threshold", "tz", "recheck_seconds", "models", "active", "checked_at"):
            setattr(RUNTIME, name, getattr(fresh, name))


def model_path(key: str) -> Path:
    if RUNTIME.storage_dir is None:
        raise RuntimeError("triage is not configured (shiyu.triage.classification.registry.configure)")
    return RUNTIME.storage_dir / key


def save_model(model: TriageModel, version: int) -> str:
    """Write the file next to its final name and rename it into place, so a reader never sees half a model."""
    key = f"{MODEL_DIR}/model-v{version:04d}.bin"
    path = model_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    model.save(partial)
    os.replace(partial, path)
    return key


def model_for(version: TriageModelVersion) -> TriageModel:
    """The loaded model of ``version``, from the cache or its file."""
    with RUNTIME.lock:
        model = RUNTIME.models.get(version.id)
        if model is None:
            assert version.storage_key is not None
            model = RUNTIME.models[version.id] = load(model_path(version.storage_key))
        return model


def active_model(session: Session) -> tuple[TriageModelVersion, TriageModel] | None:
    """The active version and its model, or None when triage is off or no version is active."""
    if RUNTIME.storage_dir is None:
        return None
    now = time.monotonic()
    if now - RUNTIME.checked_at >= RUNTIME.recheck_seconds:
        row = session.scalar(select(TriageModelVersion).where(TriageModelVersion.status == VersionStatus.ACTIVE))
        if row is not None:
            session.expunge(row)  # a detached snapshot: the cache outlives this session
        RUNTIME.active, RUNTIME.checked_at = row, now
    if RUNTIME.active is None:
        return None
    return RUNTIME.active, model_for(RUNTIME.active)


def forget_active() -> None:
    """After this process changed the active version: look it up again on the next use."""
    RUNTIME.checked_at = float("-inf")


# ---- versions ----------------------------------------------------------------------------------------


def require_manage(principal: Principal, *, citywide: bool = False) -> None:
    """Listing versions needs ``triage.manage`` somewhere; changing which model serves the whole city needs
    it over a whole city, like the other city-wide reference data."""
    if citywide:
        require_citywide(principal, MANAGE)
    else:
        principal.require(MANAGE)


def list_versions(session: Session) -> list[TriageModelVersion]:
    return list(session.scalars(select(TriageModelVersion).order_by(TriageModelVersion.version.desc())))


def get_version(session: Session, version: int) -> TriageModelVersion:
    row = session.scalar(select(TriageModelVersion).where(TriageModelVersion.version == version))
    if row is None:
        raise NotFound(detail={"object": "triage_model_version", "version": version})
    return row


def next_version(session: Session) -> int:
    return (session.scalar(select(func.max(TriageModelVersion.version))) or 0) + 1


def make_active(session: Session, row: TriageModelVersion, reason: str) -> None:
    """Retire the current active version (if another) and activate ``row``; both are ORM writes, so the
    audit log records the switch with its actor."""
    current = session.scalar(select(TriageModelVersion).where(TriageModelVersion.status == VersionStatus.ACTIVE))
    if current is not None and current.id != row.id:
        current.status = VersionStatus.RETIRED.value
        session.flush()  # the one-active index must never see two
    row.status, row.activated_at, row.reason = VersionStatus.ACTIVE.value, utcnow(), reason
    session.flush()
    forget_active()


def activate(session: Session, principal: Principal, version: int) -> TriageModelVersion:
    """Rollback (or roll forward) to an earlier trained version."""
    require_manage(principal, citywide=True)
    row = get_version(session, version)
    if row.status not in USABLE or row.storage_key is None:
        raise Conflict("triage_version_unusable", "该模型版本没有可用的模型文件（状态：{state}）",
                       "This model version has no usable model (status: {state})",
                       detail={"version": version, "status": row.status}, state=row.status)
    if not model_path(row.storage_key).is_file():
        raise Conflict("triage_model_missing", "模型文件已丢失，无法启用", "The model file is missing; it cannot be "
                       "activated", detail={"version": version})
    if row.status != VersionStatus.ACTIVE:
        make_active(session, row, f"由 {principal.username} 手动启用 / activated by {principal.username}")
    return row


def publish(session: Session, model: TriageModel, *, created_by: str, activate_it: bool,
            scores: dict[str, Any] | None = None) -> TriageModelVersion:
    """Store a model trained outside the retraining job (the CLI's file, the demo's first model) as a new
    version, active at once when asked."""
    number = next_version(session)
    scores = scores or model.header.get("holdout") or {}
    now = utcnow()
    row = TriageModelVersion(
        version=number, status=VersionStatus.RETIRED.value, storage_key=save_model(model, number),
        labels=list(model.header.get("labels", [])), training_size=int(model.header.get("training_size", 0)),
        heldout_size=int(scores.get("size") or 0), macro_f1=scores.get("macro_f1"), accuracy=scores.get("accuracy"),
        created_by=created_by, started_at=now, finished_at=now,
    )
    session.add(row)
    session.flush()
    if activate_it:
        make_active(session, row, f"由 {created_by} 发布 / published by {created_by}")
    return row
