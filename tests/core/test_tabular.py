import pytest

from shiyu.core.tabular import Table, TableError, read_table, split_names, write_table

CSV = "编号,主题,详情\n1,噪音扰民,\"晚上\n\t施工\"\n2,油烟,餐馆油烟\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "m.csv"
    path.write_bytes(CSV.encode(encoding))
    table = read_table(path)
    assert table.columns == ["编号", "主题", "详情"]
    assert table.column("主题") == ["噪音扰民", "油烟"]
    assert table.rows[0][2] == "晚上\n\t施工"


def test_explicit_encoding_and_unknown_encoding(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(CSV.encode("gb18030"))
    assert read_table(path, "gbk").column("详情")[1] == "餐馆油烟"
    with pytest.raises(TableError) as err:
        read_table(path, "no-such-codec")
    assert err.value.code == "table.unknown_encoding"


def test_undecodable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes(b"\x81\x30\xff\xfe\x00" * 10)
    with pytest.raises(TableError) as err:
        read_table(path, "utf-8")
    assert err.value.code == "table.undecodable_file"


def test_xlsx_round_trip(tmp_path):
    table = Table(["编号", "主题"], [["1", "噪音"], ["2", "油烟 \u3000"]])
    write_table(tmp_path / "t.xlsx", table)
    assert read_table(tmp_path / "t.xlsx") == table


def test_missing_column_names_the_available_ones(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(TableError) as err:
        read_table(path).column("标签")
    assert err.value.code == "table.missing_column"
    assert "标签" in err.value.zh and "编号, 主题, 详情" in err.value.en


@pytest.mark.parametrize("name, code", [("m.txt", "table.unsupported_format"), ("none.csv", "table.file_not_found")])
def test_bad_paths(tmp_path, name, code):
    (tmp_path / "m.txt").write_text("a", encoding="utf-8")
    with pytest.raises(TableError) as err:
        read_table(tmp_path / name)
    assert err.value.code == code


def test_split_names_accepts_full_width_commas():
    assert split_names("主题，详情") == ["主题", "详情"]
    with pytest.raises(TableError):
        split_names("主题,,详情")
