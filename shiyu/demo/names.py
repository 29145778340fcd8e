"""Name pools for the demo city: places, people, phone numbers, departments.

Everything is fictional: 鹭江市 and its districts do not exist, and the division-code prefix 3599 is unused
in GB/T 2260 (35 = Fujian). Place names are two-character compounds of common place-name characters, drawn
without repetition so that every street and community name is unique in the city.
"""

from __future__ import annotations

import numpy as np

CITY_NAME = "鹭江市"
CITY_CODE = "359900000000"
DISTRICT_NAMES = ("鹭屿区", "望海区", "云溪区", "青屿区", "松涛区", "梧溪区", "金滩区", "凤栖区", "榕岭区", "潮音区")

_FIRST = "东西南北中新金银玉碧翠青云霞溪湖海滨港湾屿江山岭峰林松柏梅兰竹榕桂枫凤龙鹭鹤雁莲荷石泉沙潮澳浦岩瑶"
_SECOND = "华安兴盛平宁和丰源阳明光辉泰福祥乐康美园苑桥塘坑头尾前后里埔厝洲亭埕井"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤洪庄柯"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉志红海鹏宇浩俊晨欣雨婷思佳子涵梓轩一诺嘉怡晓东峰燕玲"

# Mobile number blocks of the three mainland operators (first three digits).
MOBILE_PREFIXES = tuple(
    str(p) for p in (*range(130, 140), *range(150, 154), *range(155, 160), 166, 177, *range(180, 190), 191, 198, 199)
)

# (code suffix, name template, category kinds). District templates get {district} (e.g. 鹭屿区) and
# {short} (鹭屿); city templates get {city}.
DISTRICT_DEPARTMENTS = (
    ("cgj", "{district}城市管理局", ["component", "incident"]),
    ("zjj", "{district}住房和建设局", ["component"]),
    ("sthj", "{city}生态环境局{short}分局", ["incident"]),
    ("scjg", "{district}市场监督管理局", ["incident"]),
    ("gafj", "{city}公安局{short}分局", ["incident"]),
    ("yjgl", "{district}应急管理局", ["incident"]),
)
# A street centre's usual departments (街道的城管中队、派出所、市场监管所、司法所), so a street operator has
# someone to dispatch to; templates get {short}, the street's name without 街道/镇 (南泰).
STREET_DEPARTMENTS = (
    ("cgzd", "{short}城管中队", ["component", "incident"]),
    ("pcs", "{short}派出所", ["incident"]),
    ("scjgs", "{short}市场监管所", ["incident"]),
    ("sfs", "{short}司法所", ["incident"]),
)
# A community's own body a community centre dispatches to (neighbour disputes: 人民调解委员会).
COMMUNITY_DEPARTMENTS = (
    ("tjwh", "{community}人民调解委员会", ["incident"]),
)
CITY_DEPARTMENTS = (
    ("slj", "{city}水利局", ["component"]),
    ("jtys", "{city}交通运输局", ["component", "incident"]),
    ("wjw", "{city}卫生健康委员会", ["incident"]),
    ("mzj", "{city}民政局", ["incident"]),
)

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 105 → 一百零五 (1..999), as in 第十二网格."""
    if not 1 <= n <= 999:
        raise ValueError(n)
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = _DIGITS[hundreds] + "百" if hundreds else ""
    if tens:
        out += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    elif hundreds and ones:
        out += "零"
    return out + (_DIGITS[ones] if ones else "")


def district_names(n: int) -> list[str]:
    if n > len(DISTRICT_NAMES):
        raise ValueError(f"at most {len(DISTRICT_NAMES)} demo districts")
    return list(DISTRICT_NAMES[:n])


def place_stems(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct two-character stems (金华, 鹭洲 …) in a seed-determined order."""
    total = len(_FIRST) * len(_SECOND)
    if n > total:
        raise ValueError(f"at most {total} demo place names")
    picks = rng.permutation(total)[:n]
    return [_FIRST[i // len(_SECOND)] + _SECOND[i % len(_SECOND)] for i in picks]


def person_name(rng: np.random.Generator) -> str:
    surname = SURNAMES[rng.integers(len(SURNAMES))]
    given_len = 1 if rng.random() < 0.3 else 2
    return surname + "".join(GIVEN[i] for i in rng.integers(len(GIVEN), size=given_len))


def mobile(rng: np.random.Generator) -> str:
    prefix = MOBILE_PREFIXES[rng.integers(len(MOBILE_PREFIXES))]
    return prefix + "".join(str(d) for d in rng.integers(10, size=8))
