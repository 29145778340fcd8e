"""``shiyu triage train | predict | evaluate``: the offline classifier on CSV/XLSX files.

User mistakes (missing column, unreadable file, unknown encoding, empty labels…) are printed in Chinese and
English and exit with code 2; progress goes to stderr so that stdout stays the report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shiyu.core.tabular import Table, TableError, read_table, split_names, write_table
from shiyu.triage import TriageError
from shiyu.triage.classification import loop_cli
from shiyu.triage.text import join_fields

EXIT_USER_ERROR = 2


def register(sub: Any) -> None:
    triage = sub.add_parser("triage", help="智能分拨：留言文本分类 / smart triage: message classification")
    tsub = triage.add_subparsers(dest="triage_command", required=True)

    train = tsub.add_parser("train", help="train a model from a labelled CSV/XLSX file")
    _data_args(train)
    train.add_argument("--label", required=True, help="label column")
    train.add_argument("--model", required=True, help="model file to write")
    train.add_argument("--unlabeled", help="unlabelled CSV/XLSX files for self-training, comma-separated")
    train.add_argument("--unlabeled-text", help="text columns of the unlabelled files (default: --text)")
    train.add_argument("--taxonomy", help="category tree CSV/XLSX: first-level class, then lower-level names")
    train.set_defaults(handler=_guarded(_train))

    predict = tsub.add_parser("predict", help="add predicted and confidence columns to a table")
    predict.add_argument("--model", required=True)
    _data_args(predict)
    predict.add_argument("--out", required=True, help="output .csv or .xlsx")
    predict.set_defaults(handler=_guarded(_predict))

    evaluate = tsub.add_parser("evaluate", help="score a model on a labelled table")
    evaluate.add_argument("--model", required=True)
    _data_args(evaluate)
    evaluate.add_argument("--label", required=True)
    evaluate.add_argument("--json", help="also write the figures as JSON to this file")
    evaluate.set_defaults(handler=_guarded(_evaluate))
    loop_cli.register(tsub)


def _data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="CSV (UTF-8, UTF-8 BOM, GB18030/GBK) or XLSX file")
    parser.add_argument("--text", required=True, help="text column(s), comma-separated; joined in this order")
    parser.add_argument("--encoding", help="CSV encoding when detection (utf-8-sig, then gb18030) is not enough")


def _guarded(handler: Callable[[argparse.Namespace], int | None]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args) or 0
        except (TriageError, TableError) as exc:
            print(f"错误：{exc.zh}\nerror: {exc.en}", file=sys.stderr)
            return EXIT_USER_ERROR

    return run


def _progress(start: float) -> Callable[[str], None]:
    return lambda message: print(f"[{time.perf_counter() - start:6.1f}s] {message}", file=sys.stderr, flush=True)


def _texts(table: Table, spec: str) -> list[str]:
    return [join_fields(cells) for cells in table.joined(split_names(spec))]


def _labels(table: Table, column: str) -> list[str]:
    labels = [v.strip() for v in table.column(column)]
    if not any(labels):
        raise TriageError("triage.empty_label", "标签列“{column}”为空", "The label column '{column}' is empty",
                          column=column)
    return labels


def _train(args: argparse.Namespace) -> int:
    from shiyu.triage.classification.classifier import Taxonomy, train

    say = _progress(time.perf_counter())
    say(f"读取 / reading {args.data}")
    table = read_table(args.data, args.encoding)
    texts, labels = _texts(table, args.text), _labels(table, args.label)
    unlabeled: list[str] = []
    for path in split_names(args.unlabeled) if args.unlabeled else []:
        say(f"读取未标注 / reading unlabelled {path}")
        unlabeled += _texts(read_table(path, args.encoding), args.unlabeled_text or args.text)
    taxonomy = None
    if args.taxonomy:
        tree = read_table(args.taxonomy, args.encoding)
        taxonomy = Taxonomy.from_rows(tree.rows)
    model = train(texts, labels, unlabeled, taxonomy, progress=say)
    model.save(args.model)
    say(f"已保存 / saved {args.model}")
    print(json.dumps(model.header, ensure_ascii=False, indent=2))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from shiyu.triage.classification.classifier import load

    model = load(args.model)
    table = read_table(args.data, args.encoding)
    texts = _texts(table, args.text)
    start = time.perf_counter()
    predicted, confidence = model.predict(texts)
    elapsed = time.perf_counter() - start
    out = Table(table.columns + ["predicted", "confidence"],
                [row + [label, f"{conf:.4f}"] for row, label, conf in zip(table.rows, predicted, confidence,
                                                                         strict=True)])
    write_table(args.out, out)
    rate = len(texts) / elapsed if elapsed > 0 else float("inf")
    print(f"已预测 / predicted {len(texts)} 条 messages in {elapsed:.2f}s ({rate:.0f} 条/秒 messages/s) → {args.out}",
          file=sys.stderr)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from shiyu.triage.classification.classifier import load
    from shiyu.triage.classification.evaluation import evaluate, format_report

    model = load(args.model)
    table = read_table(args.data, args.encoding)
    texts, labels = _texts(table, args.text), _labels(table, args.label)
    predicted, confidence = model.predict(texts)
    report = evaluate(labels, predicted, confidence)
    print(format_report(report))
    if args.json:
        try:
            Path(args.json).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        except OSError as exc:
            raise TriageError("triage.unwritable_file", "无法写入文件 {path}：{reason}",
                              "Cannot write {path}: {reason}", path=args.json, reason=exc.strerror) from None
    return 0
