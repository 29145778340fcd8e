import random
from datetime import datetime, timedelta

import pytest

from shiyu.triage.hot.grouping import Message, heat_score, hot_issues, parse_time
from tests.triage.conftest import make_rows


@pytest.mark.parametrize("text, expected", [
    ("2019/2/28 11:25:05", datetime(2019, 2, 28, 11, 25, 5)),
    ("2019-02-28 9:05", datetime(2019, 2, 28, 9, 5)),
    ("2019年2月28日", datetime(2019, 2, 28)),
    ("43524", datetime(2019, 2, 28)),
    ("2019/2/30", None),
    ("", None),
])
def test_parse_time_mixed_formats(text, expected):
    assert parse_time(text) == expected


def test_burst_ranks_first():
    rng = random.Random(0)
    start = datetime(2019, 1, 1)
    background = [Message(r["主题"], r["详情"], start + timedelta(days=rng.randrange(365)), f"u{i}", rng.randrange(3))
                  for i, r in enumerate(make_rows(150, seed=6))]
    burst_text = "A3区金色家园小区门口搅拌站夜间施工噪音扰民粉尘严重，居民无法休息，请求相关部门查处"
    burst = [Message("金色家园搅拌站噪音扰民", burst_text + "。" * (i % 3),
                     datetime(2019, 6, 1) + timedelta(hours=9 * i), f"b{i}", 5) for i in range(12)]
    issues = hot_issues(background + burst)
    assert sorted(issues[0].members) == list(range(150, 162))
    assert issues[0].reporters == 12 and issues[0].title == "金色家园搅拌站噪音扰民"
    assert issues[0].start == datetime(2019, 6, 1)


def test_window_splits_the_same_text_far_apart_in_time():
    text = "某小区垃圾站臭味严重影响居民生活，请尽快处理"
    messages = [Message("垃圾站臭味", text, datetime(2019, 1, 1)), Message("垃圾站臭味", text, datetime(2019, 12, 1))]
    assert hot_issues(messages, window_days=30) == []
    assert hot_issues(messages, window_days=400)[0].size == 2


def test_heat_prefers_many_reporters_and_fast_growth():
    assert heat_score(10, 10, 0, 1) > heat_score(10, 1, 0, 1)
    assert heat_score(10, 5, 0, 1) > heat_score(10, 5, 0, 52)
