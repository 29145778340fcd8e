"""Smart-triage benchmark on the teddy2020c messages.

    python bench/triage.py --data /work/shared/data/teddy2020c/

Classification: 5-fold stratified cross-validation on messages_labeled.csv (text = 留言主题 + 留言详情,
label = 一级标签) of the plain baseline (jieba word TF-IDF + LinearSVC, default C) and of our model, trained
per fold on that fold's labels only. The unlabelled pool (messages_unlabeled/hot/replied, message text only)
and the taxonomy are label-free and used in every fold, but any pool message that is a copy or near copy
(char 3-gram cosine ≥ 0.9) of ANY labelled message is removed first, so no test message reaches training in
any form. Speed is measured on one thread, with the tokenizer cache emptied. Then duplicates and the top
five hot issues in messages_hot.csv. Prints tables; asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jieba_fast as jieba
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from shiyu.triage.classifier import Taxonomy, TriageModel
from shiyu.triage.duplicates import find_duplicates, near_duplicates_of
from shiyu.triage.evaluation import evaluate, format_table
from shiyu.triage.hot import Message, hot_issues, parse_count, parse_time
from shiyu.triage.tabular import read_table
from shiyu.triage.text import clear_token_cache, join_fields, normalize

TEXT = ["留言主题", "留言详情"]
POOL_FILES = ["messages_unlabeled.csv", "messages_hot.csv", "messages_replied.csv"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def baseline_words(text: str) -> list[str]:
    return [w for w in jieba.lcut(text) if w.strip()]


def cross_validate(texts, labels, make_and_fit, folds: int = 5, seed: int = 0):
    """Out-of-fold predictions, confidences and the mean per-fold training time."""
    y = np.asarray(labels, dtype=object)
    predicted = np.empty(len(y), dtype=object)
    confidence = np.zeros(len(y))
    fit_seconds = []
    model = None
    for n, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y), 1):
        start = time.perf_counter()
        model = make_and_fit([texts[i] for i in train], list(y[train]))
        fit_seconds.append(time.perf_counter() - start)
        predicted[test], confidence[test] = model([texts[i] for i in test])
        log(f"  fold {n}/{folds}: {fit_seconds[-1]:.1f}s")
    return list(predicted), confidence, float(np.mean(fit_seconds)), model


def fit_baseline(texts, labels):
    pipe = make_pipeline(TfidfVectorizer(tokenizer=baseline_words, token_pattern=None, lowercase=False),
                         LinearSVC()).fit([normalize(t) for t in texts], labels)
    return lambda batch: (pipe.predict([normalize(t) for t in batch]), np.ones(len(batch)))


def fit_ours(pool, taxonomy):
    def fit(texts, labels):
        model = TriageModel().fit(texts, labels, pool, taxonomy)
        return model.predict
    return fit


def single_thread_rate(predict, texts) -> float:
    clear_token_cache()
    with threadpool_limits(1):
        start = time.perf_counter()
        predict(texts)
        return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="the teddy2020c directory")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

    labelled = read_table(args.data / "messages_labeled.csv")
    texts = [join_fields(c) for c in labelled.joined(TEXT)]
    labels = labelled.column("一级标签")
    pool_all = [join_fields(c) for f in POOL_FILES for c in read_table(args.data / f).joined(TEXT)]
    leaked = near_duplicates_of(texts, pool_all, threshold=0.9)
    pool = [t for t, bad in zip(pool_all, leaked, strict=True) if not bad]
    taxonomy = Taxonomy.from_rows(read_table(args.data / "taxonomy.csv").rows)
    log(f"pool {len(pool_all)} messages, {int(leaked.sum())} removed as (near) copies of labelled ones")

    log("baseline: jieba word TF-IDF + LinearSVC")
    base_pred, _, base_fit, base_model = cross_validate(texts, labels, fit_baseline, args.folds)
    base = evaluate(labels, base_pred)
    log("ours, labelled file only")
    own_pred, own_conf, own_fit, own_model = cross_validate(texts, labels, fit_ours([], None), args.folds)
    own = evaluate(labels, own_pred, own_conf)
    log("ours, + unlabelled pool + taxonomy")
    full_pred, full_conf, full_fit, full_model = cross_validate(texts, labels, fit_ours(pool, taxonomy), args.folds)
    full = evaluate(labels, full_pred, full_conf)

    size = f"{len(texts)} labelled, {args.folds}-fold CV"
    vs = f"baseline {base.macro_f1:.3f}"
    rows = [
        (f"classify: ours (+pool {len(pool)}, +taxonomy)", size, f"macro-F1 {full.macro_f1:.3f}", vs),
        ("classify: ours", size, f"accuracy {full.accuracy:.3f}", f"baseline {base.accuracy:.3f}"),
        ("classify: ours", size, f"ECE {full.ece:.3f}", "10 equal-width bins"),
        ("classify: ours, labelled file only", size, f"macro-F1 {own.macro_f1:.3f}", vs),
        ("classify: ours, labelled file only", size, f"accuracy {own.accuracy:.3f}, ECE {own.ece:.3f}", ""),
        ("train (per fold)", f"{len(texts) * (args.folds - 1) // args.folds} labelled + {len(pool)} pool",
         f"{full_fit:.1f} s", f"labelled only {own_fit:.1f} s; baseline {base_fit:.1f} s"),
    ]
    speed_texts = pool_all[:2000]
    rate = single_thread_rate(full_model, speed_texts)
    base_rate = single_thread_rate(base_model, speed_texts)
    rows.append(("predict, one thread", f"{len(speed_texts)} messages", f"{rate:.0f} messages/s",
                 f"baseline {base_rate:.0f} messages/s"))

    hot = read_table(args.data / "messages_hot.csv")
    hot_texts = [join_fields(c) for c in hot.joined(TEXT)]
    start = time.perf_counter()
    pairs = find_duplicates(hot_texts, threshold=0.9)
    dup_seconds = time.perf_counter() - start
    exact = sum(p.exact for p in pairs)
    rows.append(("duplicates (char-3-gram cosine ≥ 0.9)", f"{len(hot_texts)} messages",
                 f"{len(pairs)} pairs ({exact} exact, {len(pairs) - exact} near)", f"{dup_seconds:.1f} s"))
    messages = [Message(r[hot.index("留言主题")], r[hot.index("留言详情")], parse_time(r[hot.index("留言时间")]),
                        r[hot.index("留言用户")], parse_count(r[hot.index("点赞数")])) for r in hot.rows]
    start = time.perf_counter()
    issues = hot_issues(messages)
    hot_seconds = time.perf_counter() - start
    rows.append(("hot issues (cosine ≥ 0.35, 30-day window)", f"{len(messages)} messages",
                 f"{len(issues)} groups of ≥ 2", f"{hot_seconds:.1f} s"))

    print(format_table(["workload", "size", "figure", "comparison"], rows))
    print("\n每类 F1 / per-class F1 (ours vs baseline)")
    base_f1 = {c.label: c.f1 for c in base.per_class}
    print(format_table(["class", "support", "ours F1", "baseline F1"],
                       [(c.label, c.support, c.f1, base_f1[c.label]) for c in full.per_class]))
    print("\n重复留言示例 / duplicate examples")
    examples = [p for p in pairs if not p.exact][:3] + [p for p in pairs if p.exact][:2]
    print(format_table(["row a", "row b", "cosine", "title a", "title b"],
                       [(p.first + 2, p.second + 2, p.similarity, _short(messages[p.first].title),
                         _short(messages[p.second].title)) for p in examples]))
    print("\n热点问题 Top 5 / hot issues")
    print(format_table(["#", "heat", "messages", "reporters", "likes", "period", "representative title"],
                       [(n, i.heat, i.size, i.reporters, i.likes, _period(i), _short(i.title, 30))
                        for n, i in enumerate(issues[:5], 1)]))


def _short(text: str, width: int = 24) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _period(issue) -> str:
    if issue.start is None:
        return "-"
    return f"{issue.start:%Y-%m-%d} – {issue.end:%Y-%m-%d}"


if __name__ == "__main__":
    main()
