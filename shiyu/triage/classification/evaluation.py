"""Quality figures for a classifier: accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix,
and expected calibration error, plus their rendering as plain-text tables and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from unicodedata import east_asian_width

import numpy as np


@dataclass
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    size: int
    accuracy: float
    macro_f1: float
    per_class: list[ClassScore]
    labels: list[str]
    confusion: list[list[int]]
    ece: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(
    truth: Sequence[str], predicted: Sequence[str], confidence: Sequence[float] | np.ndarray | None = None
) -> Report:
    """Labels are the union of true and predicted ones, so a class the model never predicts still shows.
    (scikit-learn is imported here, not with the module: see ``classifier``.)"""
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = sorted(set(truth) | set(predicted))
    p, r, f, s = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    per_class = [ClassScore(lab, float(p[i]), float(r[i]), float(f[i]), int(s[i])) for i, lab in enumerate(labels)]
    ece = None
    if confidence is not None:
        correct = np.asarray(truth, dtype=object) == np.asarray(predicted, dtype=object)
        ece = expected_calibration_error(confidence, correct)
    return Report(
        size=len(truth),
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, labels=sorted(set(truth)), average="macro", zero_division=0)),
        per_class=per_class,
        labels=labels,
        confusion=confusion_matrix(truth, predicted, labels=labels).tolist(),
        ece=ece,
    )


def expected_calibration_error(
    confidence: Sequence[float] | np.ndarray, correct: Sequence[bool], bins: int = 10
) -> float:
    """Mean |accuracy − confidence| over equal-width confidence bins, weighted by bin size: how far an
    auto-dispatch threshold of, say, 0.9 is from meaning "right nine times in ten"."""
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.sum() * abs(hit[members].mean() - conf[members].mean())
    return float(total / max(len(conf), 1))


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table that lines up with CJK text (East Asian wide characters count as two columns)."""
    cells = [[str(c) for c in header]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c + " " * (widths[i] - _width(c)) for i, c in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_report(report: Report) -> str:
    summary = [("样本数 / messages", report.size), ("准确率 / accuracy", report.accuracy),
               ("宏平均 F1 / macro-F1", report.macro_f1)]
    if report.ece is not None:
        summary.append(("期望校准误差 / ECE", report.ece))
    per_class = format_table(
        ["类别 / class", "precision", "recall", "F1", "support"],
        [(c.label, c.precision, c.recall, c.f1, c.support) for c in report.per_class],
    )
    short = [f"C{i + 1}" for i in range(len(report.labels))]
    confusion = format_table(
        ["真实 \\ 预测 / true \\ predicted", *short],
        [(f"C{i + 1} {lab}", *report.confusion[i]) for i, lab in enumerate(report.labels)],
    )
    return "\n\n".join([format_table(["指标 / figure", "值 / value"], summary), per_class,
                        "混淆矩阵 / confusion matrix\n" + confusion])


def _fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _width(text: str) -> int:
    return sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)
