import argparse
import csv
import json

import pytest

from shiyu.core.tabular import Table, read_table, write_table
from shiyu.triage.classification import cli
from tests.triage.conftest import make_rows


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="shiyu")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["triage", *argv])
    return args.handler(args)


def write_csv(path, rows, encoding="utf-8-sig", drop=()):
    columns = [c for c in rows[0] if c not in drop]
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows([r[c] for c in columns] for r in rows)


@pytest.fixture
def model_file(tmp_path, rows):
    write_csv(tmp_path / "train.csv", rows, encoding="gb18030")
    write_csv(tmp_path / "pool.csv", make_rows(30, seed=5), drop=("标签",))
    model = tmp_path / "m.bin"
    assert run("train", "--data", str(tmp_path / "train.csv"), "--text", "主题,详情", "--label", "标签",
               "--model", str(model), "--unlabeled", str(tmp_path / "pool.csv"), "--unlabeled-text", "主题,详情") == 0
    return model


def test_predict_keeps_rows_and_columns_csv(tmp_path, model_file, capsys):
    test = make_rows(21, seed=9)
    test[4]["详情"] = "\n\t\t" + test[4]["详情"].replace("，", "\u3000") + "\xa0"
    write_csv(tmp_path / "new.csv", test, drop=("标签",))
    assert run("predict", "--model", str(model_file), "--data", str(tmp_path / "new.csv"), "--text", "主题,详情",
               "--out", str(tmp_path / "out.csv")) == 0
    out = read_table(tmp_path / "out.csv")
    assert out.columns == ["编号", "主题", "详情", "predicted", "confidence"]
    assert out.column("编号") == [r["编号"] for r in test]
    assert out.column("详情")[4] == test[4]["详情"]
    hits = sum(p == r["标签"] for p, r in zip(out.column("predicted"), test, strict=True))
    assert hits >= 18
    assert all(0 < float(c) <= 1 for c in out.column("confidence"))
    assert "messages/s" in capsys.readouterr().err


def test_predict_xlsx_in_xlsx_out(tmp_path, model_file):
    test = make_rows(9, seed=4)
    write_table(tmp_path / "new.xlsx", Table(["主题", "详情"], [[r["主题"], r["详情"]] for r in test]))
    assert run("predict", "--model", str(model_file), "--data", str(tmp_path / "new.xlsx"), "--text", "主题,详情",
               "--out", str(tmp_path / "out.xlsx")) == 0
    out = read_table(tmp_path / "out.xlsx")
    assert out.column("主题") == [r["主题"] for r in test]
    assert len(out.column("predicted")) == 9


def test_evaluate_prints_tables_and_json(tmp_path, model_file, capsys):
    write_csv(tmp_path / "test.csv", make_rows(30, seed=11))
    assert run("evaluate", "--model", str(model_file), "--data", str(tmp_path / "test.csv"), "--text", "主题,详情",
               "--label", "标签", "--json", str(tmp_path / "r.json")) == 0
    printed = capsys.readouterr().out
    assert "macro-F1" in printed and "confusion matrix" in printed and "环境保护" in printed
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["macro_f1"] > 0.85 and len(report["confusion"]) == 3


def test_user_mistakes_exit_2_with_both_languages(tmp_path, rows, capsys):
    write_csv(tmp_path / "train.csv", rows)
    assert run("train", "--data", str(tmp_path / "train.csv"), "--text", "主题,正文", "--label", "标签",
               "--model", str(tmp_path / "m.bin")) == 2
    err = capsys.readouterr().err
    assert "正文" in err and "错误" in err and "error: Column '正文' is not in the file" in err
    for r in rows:
        r["标签"] = ""
    write_csv(tmp_path / "empty.csv", rows)
    assert run("train", "--data", str(tmp_path / "empty.csv"), "--text", "主题", "--label", "标签",
               "--model", str(tmp_path / "m.bin")) == 2
    assert "label column '标签' is empty" in capsys.readouterr().err
    assert run("predict", "--model", str(tmp_path / "none.bin"), "--data", str(tmp_path / "train.csv"),
               "--text", "主题", "--out", str(tmp_path / "o.csv")) == 2
