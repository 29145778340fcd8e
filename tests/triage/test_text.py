from shiyu.triage.text import join_fields, normalize, words


def test_normalize_removes_layout_noise_and_width_variants():
    assert normalize("\n\t\t尊敬的领导：\u3000\u3000Ａ市\xa0A3区\r\n  ") == "尊敬的领导: A市 A3区"


def test_join_fields_skips_empty_cells():
    assert join_fields(["标题", None, "\n\t", "详情"]) == "标题 详情"


def test_words_drop_spaces_and_punctuation():
    tokens = words(normalize("小区物业费太高了！ 请相关部门处理。"))
    assert "物业费" in tokens
    assert not any(t.strip(" !。,") == "" for t in tokens)
