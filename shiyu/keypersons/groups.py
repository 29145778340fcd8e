"""The special groups and their visit plans as data, with the defaults a new city starts from.

Groups and forms follow GB/T 31000-2015 (特殊人群, 重点青少年) and the design notes (coverage.md §3). The visit
intervals for 严重精神障碍 are those of 《严重精神障碍管理治疗工作规范（2018年版）》 as far as they could be
checked (docs/keypersons.md says which figure is sourced); every other interval is a configurable default
that a city changes in ``kp_visit_plan`` — the code reads the table, never these numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shiyu.keypersons.errors import invalid
from shiyu.keypersons.models import GRADES, GradeScheme, KeyPersonGroup, VisitPlan

SOURCES = ("judicial", "police", "health", "petition", "grid", "dispute", "warning", "institution")
SOURCE_LABELS = {"judicial": ("司法移交", "From the justice bureau"), "police": ("公安移交", "From the police"),
                 "health": ("卫健移交", "From the health commission"), "petition": ("信访移交", "From petitions"),
                 "grid": ("网格发现", "Found by the grid"), "dispute": ("矛盾纠纷转入", "From a dispute"),
                 "warning": ("预警转入", "From an early warning"),
                 "institution": ("必接必送", "Handed over by an institution")}
NORM_2018 = "《严重精神障碍管理治疗工作规范（2018年版）》"
DEFAULT = "可配置默认值（无国家规定出处）"


def _f(name: str, label: str, label_en: str, type_: str = "text", *, required: bool = False,
       options: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "label": label, "label_en": label_en, "type": type_, "required": required,
            "options": options or []}


DANGER = GradeScheme.DANGER.value
COLOUR = GradeScheme.COLOUR.value
# code, 中文, English, grade scheme, form
GROUPS: list[tuple[str, str, str, str, list[dict[str, Any]]]] = [
    ("released", "刑满释放人员", "Released prisoner", COLOUR, [
        _f("offence", "原罪名", "Offence", required=True),
        _f("sentence", "原判刑期", "Sentence"),
        _f("released_on", "释放日期", "Released on", "date", required=True),
        _f("institution", "释放单位", "Released from"),
        _f("placement", "安置情况", "Placement", "choice", options=["已安置", "未安置", "自谋职业"]),
        _f("assistance", "帮教措施", "Assistance"),
    ]),
    ("correction", "社区矫正对象", "Community correction", COLOUR, [
        _f("category", "矫正类别", "Category", "choice", required=True,
           options=["管制", "缓刑", "假释", "暂予监外执行"]),
        _f("from_on", "矫正起始日期", "From", "date"),
        _f("to_on", "矫正终止日期", "To", "date"),
        _f("office", "负责司法所", "Justice office", required=True),
    ]),
    ("drugs", "社区戒毒/社区康复人员", "Community drug rehabilitation", COLOUR, [
        _f("control", "管控类型", "Control type", "choice", required=True, options=["社区戒毒", "社区康复"]),
        _f("last_test_on", "最近检测日期", "Last test", "date"),
        _f("last_test_result", "最近检测结果", "Last result", "choice", options=["阴性", "阳性"]),
    ]),
    ("mental", "严重精神障碍患者", "Serious mental disorder", DANGER, [
        _f("diagnosis", "诊断", "Diagnosis", "choice", required=True,
           options=["精神分裂症", "分裂情感性障碍", "偏执性精神病", "双相（情感）障碍", "癫痫所致精神障碍",
                    "精神发育迟滞伴发精神障碍"]),
        _f("medication", "服药情况", "Medication", "choice", options=["规律服药", "间断服药", "不服药"]),
        _f("hospitalisations", "住院次数", "Hospital stays", "number"),
        _f("subsidy", "监护补贴/以奖代补", "Guardian subsidy", "yesno"),
    ]),
    ("youth", "重点青少年", "Key youth", COLOUR, [
        _f("kind", "类别", "Kind", "choice", required=True,
           options=["闲散青少年", "有不良行为青少年", "流浪乞讨未成年人", "服刑在教人员未成年子女", "农村留守儿童"]),
        _f("school", "就学就业情况", "School or work"),
    ]),
    ("petition", "信访重点人员", "Key petitioner", COLOUR, [
        _f("matter", "信访事项", "Matter", required=True),
        _f("petitions", "信访次数", "Petitions", "number"),
    ]),
    ("stability", "涉稳重点人员", "Stability risk", COLOUR, [_f("matter", "涉稳事项", "Matter", required=True)]),
    ("dispute", "高危矛盾纠纷当事人", "High-risk dispute party", COLOUR, [
        _f("dispute_ref", "纠纷编号", "Dispute"),
        _f("risk", "风险情况", "Risk", required=True),
    ]),
]

# (group, grade) → (days between visits, basis)
PLANS: dict[tuple[str, str], tuple[int, str]] = {
    ("mental", "0"): (90, f"{NORM_2018}：病情稳定患者3个月时随访"),
    ("mental", "1"): (14, DEFAULT + "；规范要求每年至少随访4次，病情基本稳定者的间隔未核实"),
    ("mental", "2"): (14, DEFAULT + "；规范要求每年至少随访4次，病情基本稳定者的间隔未核实"),
    **{("mental", g): (14, f"{NORM_2018}：病情不稳定患者（危险性3～5级）2周内随访") for g in ("3", "4", "5")},
    **{(code, g): (days, DEFAULT) for code, _zh, _en, scheme, _form in GROUPS if scheme == COLOUR
       for g, days in (("red", 7), ("yellow", 30), ("green", 90))},
}


def seed(session: Session) -> None:
    """Add the groups and plans that are missing (idempotent; a city's edits are left alone)."""
    have = set(session.scalars(select(KeyPersonGroup.code)))
    for order, (code, zh, en, scheme, form) in enumerate(GROUPS):
        if code not in have:
            session.add(KeyPersonGroup(code=code, name_zh=zh, name_en=en, grade_scheme=scheme, form=form,
                                       order=order))
    session.flush()
    plans = {(p.group_code, p.grade) for p in session.scalars(select(VisitPlan))}
    for (code, grade), (days, basis) in PLANS.items():
        if (code, grade) not in plans:
            session.add(VisitPlan(group_code=code, grade=grade, interval_days=days, basis=basis))
    session.flush()


def get_group(session: Session, code: str) -> KeyPersonGroup:
    group = session.scalar(select(KeyPersonGroup).where(KeyPersonGroup.code == code, KeyPersonGroup.active))
    if group is None:
        raise invalid("group_code", "没有该重点人群类别", "No such special group")
    return group


def check_grade(group: KeyPersonGroup, grade: str) -> str:
    if grade not in GRADES[group.grade_scheme]:
        raise invalid("grade", "该类别没有这个等级", "This group has no such grade")
    return grade


def interval(session: Session, group_code: str, grade: str) -> int | None:
    return session.scalar(select(VisitPlan.interval_days).where(VisitPlan.group_code == group_code,
                                                                VisitPlan.grade == grade))


def check_attributes(group: KeyPersonGroup, values: dict[str, Any]) -> dict[str, Any]:
    """The answers to the group's form, checked field by field; unknown fields are refused."""
    fields = {f["name"]: f for f in group.form}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise invalid(unknown[0][:40], "表单没有该字段", "The group's form has no such field")
    out: dict[str, Any] = {}
    for name, f in fields.items():
        value = values.get(name)
        if value in (None, ""):
            if f.get("required"):
                raise invalid(name, f"请填写{f['label']}", f"{f['label_en']} is required")
            continue
        out[name] = _typed(f, value)
    return out


def _typed(f: dict[str, Any], value: Any) -> Any:
    name, kind = f["name"], f["type"]
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise invalid(name, "日期格式应为 YYYY-MM-DD", "A date is YYYY-MM-DD") from None
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise invalid(name, "应为数字", "A number is expected")
        try:
            number = float(value)
        except ValueError:
            raise invalid(name, "应为数字", "A number is expected") from None
        if not 0 <= number <= 1_000_000:
            raise invalid(name, "数字超出范围", "The number is out of range")
        return number
    if kind == "yesno":
        if not isinstance(value, bool):
            raise invalid(name, "应为是或否", "Yes or no is expected")
        return value
    if not isinstance(value, str) or len(value) > 200:
        raise invalid(name, "应为不超过200字的文字", "Text of at most 200 characters is expected")
    if kind == "choice" and value not in f["options"]:
        raise invalid(name, "不是可选的值", "Not one of the options")
    return value.strip()
