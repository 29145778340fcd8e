"""Smart-triage benchmark on the teddy2020c messages.

    python bench/triage.py --data /work/shared/data/teddy2020c/

``--smoke`` runs the same on small synthetic files of the same shape (what CI does).

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
import tempfile
import time
from pathlib import Path

import jieba_fast as jieba
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from shiyu.core.tabular import read_table
from shiyu.triage.classification.classifier import Taxonomy, TriageModel
from shiyu.triage.classification.evaluation import evaluate, format_table
from shiyu.triage.duplicates.similarity import find_duplicates, near_duplicates_of
from shiyu.triage.hot.grouping import Message, hot_issues, parse_count, parse_time
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
    parser.add_argument("--data", type=Path, help="the teddy2020c directory (required without --smoke)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--smoke", action="store_true",
                        help="run on small synthetic messages of the same shape (what CI does)")
    args = parser.parse_args()
    if args.smoke:
        args.folds = 2
        with tempfile.TemporaryDirectory(prefix="shiyu-bench-triage-") as tmp:
            args.data = synthetic_data(Path(tmp))
            measure(args)
        return
    if args.data is None:
        parser.error("--data is required (or --smoke)")
    measure(args)


SYNTHETIC = {  # class: (subjects, complaints) — synthetic, in the board's style; never the shared data
    "城乡建设": (["小区道路", "老旧小区改造", "楼道照明", "物业维修"], ["破损严重", "长期无人维修", "施工扰民"]),
    "劳动和社会保障": (["社保缴纳", "工资拖欠", "养老保险", "失业金"], ["迟迟不到账", "单位拒不支付", "办理困难"]),
    "教育文体": (["学校招生", "学区划分", "幼儿园收费", "体育场馆"], ["不合理", "乱收费", "开放时间太短"]),
    "商贸旅游": (["景区门票", "商家欺诈", "预付卡", "农贸市场"], ["价格过高", "拒不退款", "缺斤少两"]),
    "环境保护": (["工厂排污", "餐馆油烟", "夜间噪音", "河道污染"], ["气味刺鼻", "严重扰民", "水质发黑"]),
    "卫生计生": (["医院挂号", "诊所资质", "疫苗接种", "生育登记"], ["排队太久", "无证行医", "手续繁琐"]),
    "交通运输": (["公交线路", "出租车", "道路拥堵", "违章停车"], ["班次太少", "拒载绕路", "高峰期堵死"]),
}


def synthetic_data(folder: Path) -> Path:
    """Files shaped like teddy2020c (same names and columns), written into ``folder``: 20 labelled messages
    per class, pools of unlabelled, hot and replied messages with some exact and near repeats."""
    import csv
    import random

    rng = random.Random(7)

    def message(label: str) -> tuple[str, str]:
        subjects, complaints = SYNTHETIC[label]
        subject, complaint = rng.choice(subjects), rng.choice(complaints)
        place = f"A{rng.randint(1, 9)}区{rng.choice(['东', '西', '南', '北'])}{rng.randint(1, 30)}号"
        return f"{place}{subject}{complaint}", f"我是{place}的居民，{subject}{complaint}，已经反映多次，希望尽快解决。"

    def write(name: str, header: list[str], rows: list[list[object]]) -> None:
        with (folder / name).open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *rows])

    labels = list(SYNTHETIC)
    write("messages_labeled.csv", ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "一级标签"],
          [[n, f"U{n}", title, "2019/2/28 11:25:05", detail, label]
           for n, (label, (title, detail)) in enumerate((label, message(label)) for label in labels * 20)])
    pool = [message(rng.choice(labels)) for _ in range(60)]
    pool += pool[:6]  # exact repeats for the duplicate finder
    write("messages_unlabeled.csv", ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情"],
          [[n, f"U{n}", t, "2019/3/1 09:00:00", d] for n, (t, d) in enumerate(pool)])
    write("messages_hot.csv", ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "反对数", "点赞数"],
          [[n, f"U{n % 17}", t, f"2019/3/{n % 28 + 1} 10:00:00", d, 0, n % 5] for n, (t, d) in enumerate(pool)])
    write("messages_replied.csv", ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"],
          [[n, f"U{n}", t, "2019/3/1 09:00:00", d, "已转交相关部门处理。", "2019/3/12 09:00:00"]
           for n, (t, d) in enumerate(pool[:20])])
    write("taxonomy.csv", ["一级分类", "二级分类", "三级分类"],
          [[label, subject, complaint] for label, (subjects, complaints) in SYNTHETIC.items()
           for subject in subjects for complaint in complaints])
    return folder


def measure(args: argparse.Namespace) -> None:

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
