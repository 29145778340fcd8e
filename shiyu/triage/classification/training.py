"""Retraining: train a candidate on the examples, judge it against the active model, keep the better one.

One run, step by step (each step committed, so the API shows where a run is):

1. claim the queued version row (several workers may race for it; one ``UPDATE … WHERE status='queued'``
   wins) or create one, status ``training``;
2. read the examples and split them with ``learning.held_out`` (fixed per case);
3. fit a candidate on the training part only — it never sees the held-out part, like every version before;
4. score the candidate and the active model on the *same* held-out part;
5. activate the candidate only if its macro-F1 is at least the active model's; otherwise keep it as
   ``rejected`` with both scores, so a bad batch of labels never replaces a good model.

Training happens outside any open transaction (it takes seconds to minutes); only the row updates are
transactions. A run that cannot train (too few examples or classes) ends ``failed`` with the reason.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from shiyu.cases.categories.models import Category
from shiyu.core.db import rowcount, transaction
from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.triage import TriageError
from shiyu.triage.classification.classifier import Taxonomy, TriageModel
from shiyu.triage.classification.evaluation import evaluate
from shiyu.triage.classification.learning import Dataset, dataset
from shiyu.triage.classification.models import TriageModelVersion, VersionStatus
from shiyu.triage.classification.registry import make_active, model_for, next_version, require_manage, save_model

log = logging.getLogger("shiyu.triage")
SYSTEM = "triage"
Say = Callable[[str], None]


def _system(factory: sessionmaker[Session]) -> AbstractContextManager[Session]:
    return transaction(factory, principal=Principal.system(SYSTEM))


def request(session: Session, principal: Principal) -> TriageModelVersion:
    """Queue a retraining (API, CLI); a run already queued or training is answered instead of a second."""
    require_manage(principal, citywide=True)
    pending = session.scalar(select(TriageModelVersion).where(
        TriageModelVersion.status.in_([VersionStatus.QUEUED, VersionStatus.TRAINING])))
    if pending is not None:
        return pending
    row = TriageModelVersion(version=next_version(session), status=VersionStatus.QUEUED.value,
                             created_by=principal.username, progress="排队中 / queued")
    session.add(row)
    session.flush()
    return row


def _claim(factory: sessionmaker[Session], version_id: int) -> bool:
    with _system(factory) as s:
        claimed = s.execute(update(TriageModelVersion).where(
            TriageModelVersion.id == version_id, TriageModelVersion.status == VersionStatus.QUEUED,
        ).values(status=VersionStatus.TRAINING.value, started_at=utcnow(), progress="开始 / starting"))
        return rowcount(claimed) == 1


def _progress(factory: sessionmaker[Session], version_id: int, say: Say | None) -> Say:
    """Progress is bookkeeping of the run, not a change worth an audit entry: a Core UPDATE per step."""

    def report(message: str) -> None:
        if say is not None:
            say(message)
        with _system(factory) as s:
            s.execute(update(TriageModelVersion.__table__).where(TriageModelVersion.__table__.c.id == version_id)
                      .values(progress=message[:200]))

    return report


def run_queued(factory: sessionmaker[Session], say: Say | None = None) -> list[TriageModelVersion]:
    """Every queued run, oldest first; each is claimed, so two workers never train the same one."""
    with _system(factory) as s:
        queued = list(s.scalars(select(TriageModelVersion.id).where(TriageModelVersion.status == VersionStatus.QUEUED)
                                .order_by(TriageModelVersion.id)))
    return [run(factory, version_id, say) for version_id in queued if _claim(factory, version_id)]


def retrain_now(factory: sessionmaker[Session], created_by: str, say: Say | None = None) -> TriageModelVersion:
    """Queue and run at once (the CLI and the nightly job)."""
    with _system(factory) as s:
        row = request(s, Principal.system(created_by))
        version_id, queued = row.id, row.status == VersionStatus.QUEUED
    if not queued or not _claim(factory, version_id):
        with _system(factory) as s:
            return s.get_one(TriageModelVersion, version_id)
    return run(factory, version_id, say)


def _taxonomy(session: Session, codes: set[str]) -> Taxonomy:
    """Each class's own names (the minor class and its major class) as extra short documents."""
    names: dict[str, list[str]] = {}
    for category in session.scalars(select(Category).where(Category.code.in_(codes))):
        names[category.code] = [n for n in (category.name_zh, category.parent.name_zh if category.parent else "") if n]
    return Taxonomy(names)


def _trainable(data: Dataset) -> Dataset:
    """Classes with fewer than two training examples cannot be learned (nor calibrated) yet; they stay out
    of training but their held-out examples still count, as misses, for every model alike."""
    counts = Counter(data.train_labels)
    keep = [i for i, label in enumerate(data.train_labels) if counts[label] >= 2]
    return Dataset([data.train_texts[i] for i in keep], [data.train_labels[i] for i in keep], data.test_texts,
                   data.test_labels)


def run(factory: sessionmaker[Session], version_id: int, say: Say | None = None) -> TriageModelVersion:
    report = _progress(factory, version_id, say)
    try:
        return _run(factory, version_id, report)
    except TriageError as exc:
        return _finish(factory, version_id, VersionStatus.FAILED, {}, exc.zh + " / " + exc.en)
    except Exception as exc:
        log.exception("triage retraining of version row %s failed", version_id)
        _finish(factory, version_id, VersionStatus.FAILED, {}, f"{type(exc).__name__}: {exc}"[:500])
        raise


def _run(factory: sessionmaker[Session], version_id: int, report: Say) -> TriageModelVersion:
    report("读取训练样本 / reading examples")
    with _system(factory) as s:
        data = _trainable(dataset(s))
        taxonomy = _taxonomy(s, set(data.train_labels))
        active = s.scalar(select(TriageModelVersion).where(TriageModelVersion.status == VersionStatus.ACTIVE))
        version = s.get_one(TriageModelVersion, version_id).version
    if len(set(data.train_labels)) < 2 or not data.test_texts:
        raise TriageError("triage.too_little_data", "训练样本不足：至少需要两个类别各 2 条训练样本，并有留出样本",
                          "Too little data: at least two classes with 2 training examples each, and held-out "
                          "examples, are needed")
    report(f"训练 / training on {len(data.train_texts)} examples, {len(set(data.train_labels))} classes")
    candidate = TriageModel().fit(data.train_texts, data.train_labels, taxonomy=taxonomy)
    report(f"留出评估 / evaluating on {len(data.test_texts)} held-out examples")
    mine = _score(candidate, data)
    theirs = _score(model_for(active), data) if active is not None else None
    candidate.header["holdout"] = mine
    key = save_model(candidate, version)
    facts = {"storage_key": key, "labels": [str(c) for c in candidate.classes_],
             "training_size": len(data.train_texts), "heldout_size": len(data.test_texts),
             "macro_f1": mine["macro_f1"], "accuracy": mine["accuracy"]}
    if active is not None and theirs is not None:
        facts.update(compared_version=active.version, compared_macro_f1=theirs["macro_f1"],
                     compared_accuracy=theirs["accuracy"])
    if active is None or theirs is None:
        return _finish(factory, version_id, VersionStatus.ACTIVE, facts,
                       "没有启用中的模型，已启用 / no active model; activated")
    figures = f"{mine['macro_f1']:.3f} vs v{active.version} {theirs['macro_f1']:.3f}"
    if mine["macro_f1"] >= theirs["macro_f1"]:
        return _finish(factory, version_id, VersionStatus.ACTIVE, facts,
                       f"留出宏F1 {figures}，不低于当前模型，已启用 / held-out macro-F1 {figures}: as good; activated")
    return _finish(factory, version_id, VersionStatus.REJECTED, facts,
                   f"留出宏F1 {figures}，低于当前模型，未启用 / held-out macro-F1 {figures}: worse; active model kept")


def _score(model: TriageModel, data: Dataset) -> dict[str, Any]:
    predicted, confidence = model.predict(data.test_texts)
    report = evaluate(data.test_labels, predicted, confidence)
    return {"size": report.size, "accuracy": report.accuracy, "macro_f1": report.macro_f1, "ece": report.ece}


def _finish(factory: sessionmaker[Session], version_id: int, status: VersionStatus, facts: dict[str, Any],
            reason: str) -> TriageModelVersion:
    with _system(factory) as s:
        row = s.get_one(TriageModelVersion, version_id)
        for name, value in facts.items():
            setattr(row, name, value)
        row.finished_at, row.progress = utcnow(), "完成 / finished"
        if status is VersionStatus.ACTIVE:
            make_active(s, row, reason)
        else:
            row.status, row.reason = status.value, reason
        s.flush()
        s.expunge(row)
    return row
