"""A realistic default category tree: GB/T 30428-style component (部件) and incident (事件) classes plus
social-governance items, with plausible time limits. Demo/default data, meant to be edited by each city.

Time limits are written as ``"2h"`` (working hours) or ``"3d"`` (working days), ``"2nh"``/``"1nd"`` for natural
hours/days: the 突发事件 classes count natural time on every step (a road collapse does not wait for office
hours), and every class's 特急 cases do too (``TimeLimits.critical_natural``). Codes: ``C`` + 2-digit
major + 2-digit minor for components, ``I`` likewise for incidents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.cases.categories.models import Category, CategoryKind, Urgency
from shiyu.cases.categories.schemas import FieldSpec, TimeLimits
from shiyu.org.calendar.worktime import TimeBasis, TimeUnit

COMP, INC = CategoryKind.COMPONENT, CategoryKind.INCIDENT


def _limit(text: str) -> dict[str, Any]:
    unit = TimeUnit.WORKING_DAYS if text.endswith("d") else TimeUnit.WORKING_HOURS
    if text[-2] == "n":
        return {"amount": float(text[:-2]), "unit": unit.in_basis(TimeBasis.NATURAL)}
    return {"amount": float(text[:-1]), "unit": unit}


def limits(register: str, dispatch: str, accept: str, handle: tuple[str, str, str], verify: str) -> dict[str, Any]:
    """Time limits per step; ``handle`` is (normal, urgent, critical)."""
    normal, urgent, critical = handle
    checked = TimeLimits(
        register_=_limit(register), dispatch=_limit(dispatch), accept=_limit(accept),
        handle={"normal": _limit(normal), "urgent": _limit(urgent), "critical": _limit(critical)},
        verify=_limit(verify),
    )
    return checked.model_dump(mode="json")


def choice(name: str, zh: str, en: str, options: list[str], required: bool = False) -> dict[str, Any]:
    return FieldSpec(name=name, label_zh=zh, label_en=en, type="choice", choices=options,
                     required=required).model_dump(mode="json")


def field(name: str, zh: str, en: str, type_: str, required: bool = False) -> dict[str, Any]:
    return FieldSpec(name=name, label_zh=zh, label_en=en, type=type_, required=required).model_dump(mode="json")


FAST = limits("1h", "1h", "1h", ("4h", "2h", "1h"), "2h")
REPAIR = limits("2h", "2h", "2h", ("3d", "1d", "4h"), "1d")
LAMP = limits("2h", "2h", "2h", ("2d", "1d", "4h"), "1d")
HEAVY = limits("2h", "4h", "4h", ("10d", "5d", "2d"), "2d")
EMERGENCY = limits("0.5nh", "0.5nh", "0.5nh", ("1nd", "4nh", "2nh"), "4nh")
DISPUTE = limits("4h", "4h", "1d", ("10d", "3d", "1d"), "2d")
HAZARD = limits("2h", "2h", "2h", ("3d", "1d", "4h"), "1d")
KEY_PERSON = limits("1h", "1h", "1h", ("1d", "4h", "1h"), "4h")
SERVICE = limits("4h", "4h", "1d", ("5d", "2d", "1d"), "2d")
MARKET = limits("2h", "4h", "4h", ("5d", "2d", "1d"), "2d")

OWNERS = ["市政", "自来水公司", "排水公司", "供电公司", "通信公司", "燃气公司", "交警", "园林", "物业", "其他"]
OWNER = choice("owner", "权属单位", "Owner", OWNERS)
COVER = choice("condition", "问题情况", "Condition", ["丢失", "破损", "移位", "下沉", "异响"], required=True)
BROKEN = choice("condition", "问题情况", "Condition", ["破损", "缺失", "倾斜", "污损", "功能失效"], required=True)
LAMP_STATE = choice("condition", "问题情况", "Condition", ["不亮", "昼亮", "闪烁", "灯杆倾斜", "破损"], required=True)
PARTIES = field("parties", "当事人数", "Number of parties", "number", required=True)
MONEY = field("amount_involved", "涉及金额（元）", "Amount involved (CNY)", "number")
ESCALATION = field("escalation_risk", "有激化风险", "Risk of escalation", "bool")
PLACE = choice("place_type", "场所类型", "Kind of place", ["居民楼", "沿街店铺", "三小场所", "仓库", "工地", "其他"],
               required=True)
TOPIC = choice("topic", "事项领域", "Topic", ["社保", "医疗", "教育", "住房", "养老", "交通", "就业", "其他"])

# Repairs whose 核查 must show the repaired thing (a cover back in place, a road patched, a lamp lit): the
# verifier's own on-site photo is required to pass.
VERIFY_PHOTO = frozenset({"C0101", "C0102", "C0103", "C0105", "C0107", "C0108", "C0209", "I0401", "I0803"})

Minor = tuple[str, str, str, dict[str, Any], list[dict[str, Any]], Urgency]


def m(code: str, zh: str, en: str, lim: dict[str, Any], fields: list[dict[str, Any]] | None = None,
      urgency: Urgency = Urgency.NORMAL) -> Minor:
    return code, zh, en, lim, fields or [], urgency


TREE: list[tuple[str, CategoryKind, str, str, list[Minor]]] = [
    ("C01", COMP, "公用设施", "Public utilities", [
        m("C0101", "上水井盖", "Water supply manhole cover", REPAIR, [OWNER, COVER], Urgency.URGENT),
        m("C0102", "污水井盖", "Sewage manhole cover", REPAIR, [OWNER, COVER], Urgency.URGENT),
        m("C0103", "雨水井盖", "Storm drain cover", REPAIR, [OWNER, COVER], Urgency.URGENT),
        m("C0104", "雨水箅子", "Gully grate", REPAIR, [OWNER, COVER]),
        m("C0105", "电力井盖", "Power manhole cover", REPAIR, [OWNER, COVER], Urgency.URGENT),
        m("C0106", "通信井盖", "Telecom manhole cover", REPAIR, [OWNER, COVER]),
        m("C0107", "燃气井盖", "Gas manhole cover", REPAIR, [OWNER, COVER], Urgency.URGENT),
        m("C0108", "路灯", "Street lamp", LAMP, [OWNER, LAMP_STATE]),
        m("C0109", "消防栓", "Fire hydrant", REPAIR, [OWNER, BROKEN], Urgency.URGENT),
        m("C0110", "变压器箱", "Transformer box", REPAIR, [OWNER, BROKEN]),
        m("C0111", "邮筒", "Post box", REPAIR, [OWNER, BROKEN]),
    ]),
    ("C02", COMP, "道路交通设施", "Road and traffic facilities", [
        m("C0201", "交通信号灯", "Traffic light", LAMP, [OWNER, LAMP_STATE], Urgency.URGENT),
        m("C0202", "交通标志牌", "Traffic sign", REPAIR, [OWNER, BROKEN]),
        m("C0203", "道路隔离护栏", "Road barrier", REPAIR, [OWNER, BROKEN]),
        m("C0204", "公交站亭", "Bus shelter", REPAIR, [OWNER, BROKEN]),
        m("C0205", "过街天桥", "Footbridge", REPAIR, [OWNER, BROKEN]),
        m("C0206", "路名牌", "Street name sign", REPAIR, [OWNER, BROKEN]),
        m("C0207", "停车咪表", "Parking meter", REPAIR, [OWNER, BROKEN]),
        m("C0208", "减速带", "Speed bump", REPAIR, [OWNER, BROKEN]),
        m("C0209", "路面破损", "Damaged road surface", REPAIR, [OWNER]),
    ]),
    ("C03", COMP, "市容环境设施", "City appearance facilities", [
        m("C0301", "公共厕所", "Public toilet", REPAIR, [OWNER, BROKEN]),
        m("C0302", "垃圾箱", "Litter bin", REPAIR, [OWNER, BROKEN]),
        m("C0303", "垃圾收集站", "Refuse collection point", REPAIR, [OWNER, BROKEN]),
        m("C0304", "报刊亭", "Newsstand", REPAIR, [OWNER, BROKEN]),
        m("C0305", "户外广告设施", "Outdoor advertising structure", REPAIR, [OWNER, BROKEN]),
    ]),
    ("C04", COMP, "园林绿化设施", "Landscaping facilities", [
        m("C0401", "古树名木", "Heritage tree", REPAIR, [OWNER, BROKEN], Urgency.URGENT),
        m("C0402", "行道树", "Street tree", REPAIR, [OWNER, BROKEN]),
        m("C0403", "绿地", "Green space", REPAIR, [OWNER, BROKEN]),
        m("C0404", "花坛花箱", "Flower bed", REPAIR, [OWNER, BROKEN]),
        m("C0405", "城市雕塑", "Public sculpture", REPAIR, [OWNER, BROKEN]),
    ]),
    ("C05", COMP, "房屋土地", "Buildings and land", [
        m("C0501", "空闲地", "Vacant land", HEAVY, [OWNER]),
        m("C0502", "公房", "Public housing", HEAVY, [OWNER, BROKEN]),
        m("C0503", "临时建筑", "Temporary building", HEAVY, [OWNER]),
    ]),
    ("C06", COMP, "其他设施", "Other facilities", [
        m("C0601", "健身设施", "Fitness equipment", REPAIR, [OWNER, BROKEN]),
        m("C0602", "监控电子眼", "Surveillance camera", REPAIR, [OWNER, BROKEN]),
        m("C0603", "水域护栏", "Waterside railing", REPAIR, [OWNER, BROKEN], Urgency.URGENT),
    ]),
    ("I01", INC, "市容环境", "City appearance", [
        m("I0101", "暴露垃圾", "Exposed rubbish", FAST),
        m("I0102", "积存垃圾渣土", "Accumulated rubbish and muck", FAST),
        m("I0103", "道路不洁", "Dirty road", FAST),
        m("I0104", "水域不洁", "Polluted water surface", FAST),
        m("I0105", "乱堆物堆料", "Materials piled up illegally", FAST),
        m("I0106", "违法建设", "Illegal construction", HEAVY, [
            field("area_m2", "面积（平方米）", "Area (m²)", "number"),
            field("under_construction", "正在施工", "Still being built", "bool"),
        ]),
        m("I0107", "露天烧烤", "Open-air barbecue", FAST),
        m("I0108", "焚烧垃圾树叶", "Burning rubbish or leaves", FAST, urgency=Urgency.URGENT),
    ]),
    ("I02", INC, "宣传广告", "Posters and advertising", [
        m("I0201", "非法小广告", "Illegal flyers", FAST),
        m("I0202", "违规张贴悬挂宣传品", "Posters hung without permission", FAST),
        m("I0203", "乱涂写乱刻画", "Graffiti", FAST),
        m("I0204", "占道广告牌", "Advertising board on the pavement", FAST),
    ]),
    ("I03", INC, "施工管理", "Construction management", [
        m("I0301", "施工扰民", "Construction noise", FAST, [field("night_work", "夜间施工", "At night", "bool")]),
        m("I0302", "工地扬尘", "Construction dust", FAST),
        m("I0303", "无证掘路", "Road dug up without permit", HEAVY, urgency=Urgency.URGENT),
        m("I0304", "渣土车撒漏", "Muck lorry spilling", FAST, urgency=Urgency.URGENT),
    ]),
    ("I04", INC, "突发事件", "Emergencies", [
        m("I0401", "路面塌陷", "Road collapse", EMERGENCY, urgency=Urgency.CRITICAL),
        m("I0402", "自来水管破裂", "Burst water main", EMERGENCY, urgency=Urgency.URGENT),
        m("I0403", "燃气管道泄漏", "Gas pipe leak", EMERGENCY, urgency=Urgency.CRITICAL),
        m("I0404", "道路积水", "Road flooding", EMERGENCY, urgency=Urgency.URGENT),
        m("I0405", "下水道堵塞", "Blocked sewer", EMERGENCY),
        m("I0406", "树木倒伏", "Fallen tree", EMERGENCY, urgency=Urgency.URGENT),
    ]),
    ("I05", INC, "街面秩序", "Street order", [
        m("I0501", "占道经营", "Trading on the pavement", FAST, [field("goods", "经营内容", "Goods", "text")]),
        m("I0502", "无照经营游商", "Unlicensed hawker", FAST),
        m("I0503", "店外经营", "Trading outside the shop", FAST),
        m("I0504", "机动车乱停放", "Illegally parked car", FAST),
        m("I0505", "非机动车乱停放", "Badly parked bicycles", FAST),
        m("I0506", "黑车拉客", "Unlicensed taxi touting", FAST),
    ]),
    ("I06", INC, "市场监管", "Market supervision", [
        m("I0601", "无证照餐饮", "Unlicensed eatery", MARKET),
        m("I0602", "食品安全", "Food safety", MARKET, urgency=Urgency.URGENT),
        m("I0603", "价格欺诈", "Price fraud", MARKET),
        m("I0604", "非法行医", "Illegal medical practice", MARKET, urgency=Urgency.URGENT),
    ]),
    ("I07", INC, "矛盾纠纷", "Disputes", [
        m("I0701", "邻里纠纷", "Neighbour dispute", DISPUTE, [PARTIES, ESCALATION]),
        m("I0702", "劳资纠纷", "Wage dispute", DISPUTE, [PARTIES, MONEY, ESCALATION]),
        m("I0703", "婚姻家庭纠纷", "Family dispute", DISPUTE, [PARTIES, ESCALATION]),
        m("I0704", "物业纠纷", "Property management dispute", DISPUTE, [PARTIES, MONEY]),
        m("I0705", "土地山林纠纷", "Land dispute", DISPUTE, [PARTIES, ESCALATION]),
    ]),
    ("I08", INC, "安全隐患", "Safety hazards", [
        m("I0801", "消防隐患", "Fire hazard", HAZARD, [PLACE], Urgency.URGENT),
        m("I0802", "燃气隐患", "Gas hazard", HAZARD, [PLACE], Urgency.URGENT),
        m("I0803", "危房", "Unsafe building", HEAVY, [PLACE], Urgency.URGENT),
        m("I0804", "电动车违规充电", "Unsafe e-bike charging", HAZARD, [PLACE]),
        m("I0805", "高空坠物隐患", "Risk of falling objects", HAZARD, urgency=Urgency.URGENT),
    ]),
    ("I09", INC, "重点人员", "Key persons", [
        m("I0901", "重点人员异常", "Key person: unusual behaviour", KEY_PERSON, [
            field("person_ref", "人员编号", "Person reference", "text", required=True),
            choice("behaviour", "异常情况", "What happened", ["失联", "情绪异常", "肇事肇祸倾向", "聚集", "其他"],
                   required=True),
        ], Urgency.URGENT),
    ]),
    ("I10", INC, "公共服务", "Public services", [
        m("I1001", "民生诉求", "Request for public service", SERVICE, [TOPIC]),
        m("I1002", "政策咨询", "Policy question", SERVICE, [TOPIC]),
        m("I1003", "意见建议", "Suggestion", SERVICE, [TOPIC]),
    ]),
]


def seed_categories(session: Session) -> None:
    """Add the classes of ``TREE`` whose codes are missing (idempotent; edited classes are left alone)."""
    by_code = {c.code: c for c in session.scalars(select(Category))}
    for order, (code, kind, zh, en, minors) in enumerate(TREE):
        major = by_code.get(code)
        if major is None:
            major = Category(kind=kind.value, code=code, name_zh=zh, name_en=en, sort_order=order)
            session.add(major)
        for minor_order, (mcode, mzh, men, lim, fields, urgency) in enumerate(minors):
            if mcode not in by_code:
                session.add(Category(
                    kind=kind.value, parent=major, code=mcode, name_zh=mzh, name_en=men, sort_order=minor_order,
                    time_limits=lim, fields=fields, default_urgency=urgency.value,
                    verify_photo_required=mcode in VERIFY_PHOTO,
                ))
    session.flush()
