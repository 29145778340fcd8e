"""Training data from the case loop: every human category decision, plus the labelled history.

A person registering a case confirms or corrects its category; either way the pair (description, category
code) is what the model should have said. ``record_decision`` keeps one example per case — the latest
decision wins — so a case whose category is corrected twice teaches only its final category.

The held-out split is a property of the example, not of the run: ``held_out`` hashes the case id, so the
same cases are held out in every retraining, no version ever trains on them, and the scores of different
versions on that part are comparable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category
from shiyu.cases.models import Case, CaseState
from shiyu.triage.classification.models import ExampleSource, TrainingExample

HELD_OUT_PERCENT = 20


def held_out(case_id: int) -> bool:
    """Deterministic across processes and runs (no Python ``hash`` salt): about one case in five."""
    digest = hashlib.sha256(f"triage-split:{case_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT


def record_decision(session: Session, case: Case, decided_by: str | None,
                    source: ExampleSource = ExampleSource.DECISION) -> TrainingExample:
    """Upsert the example of ``case`` with its current category (call after the decision was applied)."""
    code = session.scalar(select(Category.code).where(Category.id == case.category_id))
    assert code is not None
    example = session.scalar(select(TrainingExample).where(TrainingExample.case_id == case.id))
    if example is None:
        example = TrainingExample(case_id=case.id, area_path=case.area_path)
        session.add(example)
    example.text, example.category_code, example.source, example.decided_by = (
        case.description, code, source.value, decided_by)
    session.flush()
    return example


def import_history(session: Session) -> int:
    """Closed cases without an example become ``history`` examples (their category was confirmed by the
    whole loop). Cases that already have a decision keep it. Returns how many were added."""
    rows = session.execute(
        select(Case.id, Case.area_path, Case.description, Category.code)
        .join(Category, Category.id == Case.category_id)
        .where(Case.state == CaseState.CLOSED, ~Case.id.in_(select(TrainingExample.case_id)))
    ).all()
    session.add_all(TrainingExample(case_id=i, area_path=path, text=text, category_code=code,
                                    source=ExampleSource.HISTORY.value) for i, path, text, code in rows)
    session.flush()
    return len(rows)


@dataclass
class Dataset:
    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]


def dataset(session: Session) -> Dataset:
    """Every example plus the closed cases not yet imported, split by ``held_out``."""
    rows = list(session.execute(select(TrainingExample.case_id, TrainingExample.text, TrainingExample.category_code)))
    rows += session.execute(
        select(Case.id, Case.description, Category.code)
        .join(Category, Category.id == Case.category_id)
        .where(Case.state == CaseState.CLOSED, ~Case.id.in_(select(TrainingExample.case_id)))
    ).all()
    data = Dataset([], [], [], [])
    for case_id, text, code in sorted(rows):
        if held_out(case_id):
            data.test_texts.append(text)
            data.test_labels.append(code)
        else:
            data.train_texts.append(text)
            data.train_labels.append(code)
    return data
