"""Worlds for the triage-in-the-loop tests: the case world plus three minor classes whose codes are the
labels of a tiny generated corpus (tests/triage/conftest.py), routing rules sending each to a community
department, and helpers to file cases, publish models and add training examples quickly."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category
from shiyu.cases.intake import service as intake
from shiyu.cases.models import Case
from shiyu.cases.routing.models import RoutingRule
from shiyu.cases.schemas import IntakeIn
from shiyu.core.scoping import Principal
from shiyu.triage.classification import registry
from shiyu.triage.classification.classifier import TriageModel
from shiyu.triage.classification.learning import held_out
from shiyu.triage.classification.models import ExampleSource, TrainingExample
from tests.cases.case_fixtures import LIMITS, POINT_A1, SH, case_world, principal
from tests.factories import World
from tests.triage.conftest import CLASSES, FILLER

CODES = {"交通运输": "T0101", "教育文体": "T0201", "环境保护": "T0301"}
NAMES = {"T0101": "交通出行", "T0201": "教育文体", "T0301": "环境污染"}
_keys = itertools.count(1)


def sentence(rng: random.Random, label: str) -> str:
    """A message mostly of its class's words, some of another class's and shared filler: learnable, yet
    noisy enough that the calibrated confidence is not always 1."""
    words = []
    for _ in range(12):
        roll = rng.random()
        if roll < 0.3:
            words.append(rng.choice(CLASSES[label]))
        elif roll < 0.45:
            words.append(rng.choice(CLASSES[rng.choice(list(CLASSES))]))
        else:
            words.append(rng.choice(FILLER))
    return "".join(words) + "。"


def corpus(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (text, category code) pairs, the classes in turn."""
    rng = random.Random(seed)
    labels = list(CLASSES)
    return [(sentence(rng, labels[i % 3]), CODES[labels[i % 3]]) for i in range(n)]


def tiny_model(seed: int = 0, n: int = 60, shuffle: bool = False) -> TriageModel:
    pairs = corpus(n, seed)
    labels = [code for _, code in pairs]
    if shuffle:
        random.Random(seed).shuffle(labels)
    return TriageModel(calibration_folds=3).fit([t for t, _ in pairs], labels)


def triage_world(s: Session) -> World:
    w = case_world(s)
    major = Category(kind="incident", code="T01", name_zh="智能分拨测试", name_en="triage test")
    s.add(major)
    s.flush()
    minors = {}
    for code, name in NAMES.items():
        minors[code] = Category(kind="incident", code=code, name_zh=name, name_en=name, parent=major,
                                time_limits=LIMITS, fields=[], default_urgency="normal")
        s.add(minors[code])
    s.flush()
    # Traffic and education go to community A's own department; environment has no rule (territory).
    for code in ("T0101", "T0201"):
        s.add(RoutingRule(name=code, category_id=minors[code].id, kind="incident", area_prefix="/",
                          department_id=w.departments["a2"].id))
    s.commit()
    w.extra["codes"] = {code: c.id for code, c in minors.items()}
    return w


def configured(settings) -> Iterator[Any]:
    """Triage configured for this test's storage, rechecking the active version on every use; switched
    off afterwards so no other test sees this database's versions."""
    registry.configure(settings, recheck_seconds=0)
    yield settings
    registry.configure(None)


def with_threshold(settings, threshold: float | None) -> None:
    registry.configure(settings.model_copy(update={"triage_auto_threshold": threshold}), recheck_seconds=0)


def publish(s: Session, model: TriageModel, activate: bool = True) -> int:
    s.info["principal"] = Principal.system("test")
    row = registry.publish(s, model, created_by="test", activate_it=activate)
    s.commit()
    return row.version


def file_case(s: Session, w: World, text: str, who: str = "worker_a1", channel: str = "grid") -> Case:
    p = principal(s, w, who) if who != "public" else Principal(user_id=None, username="public")
    s.info["principal"] = p
    body = IntakeIn(idempotency_key=f"triage-{next(_keys):06d}", channel=channel,
                    category_id=w.extra["category"].id, description=text, location=POINT_A1)
    result = intake.intake(s, p, body, SH)
    s.commit()
    return result.case


def bulk_cases(s: Session, template: Case, n: int) -> list[int]:
    """``n`` copies of ``template`` (fresh codes and keys), inserted directly: training data needs cases
    to hang on, not the intake's work."""
    s.info["principal"] = Principal.system("test")
    columns = [a.key for a in inspect(Case).column_attrs if a.key not in ("id", "version")]
    values: dict[str, Any] = {k: getattr(template, k) for k in columns}
    cases = []
    for _ in range(n):
        key = next(_keys)
        cases.append(Case(**{**values, "tracking_code": f"T{key:09d}", "idempotency_key": f"bulk-{key}",
                             "attributes": {}}))
    s.add_all(cases)
    s.commit()
    return [c.id for c in cases]


def add_examples(s: Session, case_ids: list[int], pairs: list[tuple[str, str]], *,
                 poison_training: bool = False) -> None:
    """One decision example per case. ``poison_training`` shuffles the labels of the cases outside the
    held-out part only, so the held-out truth stays right while a candidate learns garbage."""
    s.info["principal"] = Principal.system("test")
    labels = [code for _, code in pairs]
    if poison_training:
        train = [i for i, case_id in enumerate(case_ids) if not held_out(case_id)]
        shuffled = [labels[i] for i in train]
        random.Random(7).shuffle(shuffled)
        for i, label in zip(train, shuffled, strict=True):
            labels[i] = label
    area = s.scalar(select(Case.area_path).where(Case.id == case_ids[0]))
    s.add_all(TrainingExample(case_id=case_id, area_path=area, text=text, category_code=label,
                              source=ExampleSource.DECISION.value)
              for case_id, (text, _), label in zip(case_ids, pairs, labels, strict=True))
    s.commit()
