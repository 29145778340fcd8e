"""Synthetic messages: three classes built from their own word lists plus shared filler, so a model can
learn them but no single word gives every message away."""

from __future__ import annotations

import random

import pytest

CLASSES = {
    "交通运输": ["公交线路", "出租车", "红绿灯", "地铁站", "驾驶证", "停车场", "高速公路", "网约车"],
    "教育文体": ["幼儿园", "学校", "老师", "学生", "体育馆", "图书馆", "入学", "课外培训"],
    "环境保护": ["噪音", "油烟", "污水", "垃圾", "粉尘", "排污", "化工厂", "臭味"],
}
FILLER = ["请问", "希望", "相关部门", "尽快", "解决", "我们", "小区", "附近", "最近", "反映", "问题", "领导"]


def sentence(rng: random.Random, label: str) -> tuple[str, str]:
    words = CLASSES[label]
    title = f"关于{rng.choice(words)}{rng.choice(['的问题', '的投诉', '的建议'])}"
    body = "".join(rng.choice(words) if rng.random() < 0.4 else rng.choice(FILLER) for _ in range(14))
    return title, body + "。"


def make_rows(n: int, seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    labels = list(CLASSES)
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        title, body = sentence(rng, label)
        rows.append({"编号": str(1000 + i), "主题": title, "详情": body, "标签": label})
    return rows


@pytest.fixture
def rows() -> list[dict[str, str]]:
    return make_rows(60)
