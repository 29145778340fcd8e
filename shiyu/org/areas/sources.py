"""Boundary files as cities have them, turned into the importer's own feature properties.

The importer's format has ``code, name, level, parent_code, population, households``. Two other shapes of
file are read as they come:

- **DataV GeoAtlas** (阿里云 DataV, the most common public source of division boundaries): properties
  ``adcode`` (6-digit GB/T 2260 code, a number or a string), ``name``, ``level`` (``province``/``city``/
  ``district``) and ``parent`` as ``{"adcode": …}``; ``center``, ``centroid``, ``childrenNum``,
  ``acroutes``, ``subFeatureIndex`` are ignored. The adcode is padded to the 12-digit statistical code
  (350203 → 350203000000). A city's own ``parent`` (its province) is dropped: the platform's root is the
  city. Recognised by an ``adcode`` property without a ``code`` one, feature by feature.
- **Files keyed by other (typically Chinese) property names**, through a field mapping
  ``网格编码=code,网格名称=name,上级编码=parent_code``. Levels may then be written the way such tables do
  (网格, 社区, 村, 街道, 镇, 区, 县 …); without a mapped level column the level follows from the code's
  pattern (a 15-digit code is a grid, a 12-digit one ending in 000 a street, and so on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shiyu.core.errors import ShiyuError
from shiyu.org.areas.models import LEVEL_LABELS, AreaLevel
from shiyu.org.areas.rules import Issue, issue, level_of_code

TARGETS = ("code", "name", "level", "parent_code", "population", "households")
ADCODE = re.compile(r"[1-9]\d{5}")
LEVEL_ALIASES = {
    "市": AreaLevel.CITY, "地级市": AreaLevel.CITY, "区": AreaLevel.DISTRICT, "县": AreaLevel.DISTRICT,
    "县级市": AreaLevel.DISTRICT, "区县": AreaLevel.DISTRICT, "街道": AreaLevel.STREET, "镇": AreaLevel.STREET,
    "乡": AreaLevel.STREET, "乡镇": AreaLevel.STREET, "社区": AreaLevel.COMMUNITY, "村": AreaLevel.COMMUNITY,
    "居委会": AreaLevel.COMMUNITY, "村委会": AreaLevel.COMMUNITY,
} | {zh: level for level, (zh, _en) in LEVEL_LABELS.items()}


class InvalidMapping(ShiyuError):
    status = 422
    code = "invalid_map"
    zh = "字段映射“{item}”无效：{reason_zh}。格式为 源字段=目标字段，多个用逗号分隔；目标字段可为 {targets}"
    en = "The field mapping '{item}' is not valid: {reason_en}. Write source=target, separated by commas; " \
         "the targets are {targets}"


def parse_mapping(text: str | None) -> dict[str, str]:
    """``网格编码=code,网格名称=name`` → {"网格编码": "code", "网格名称": "name"}; raises InvalidMapping for a
    malformed item, an unknown target field or a target named twice (also ，and ＝ as typed on a Chinese
    keyboard)."""
    mapping: dict[str, str] = {}
    if not text or not text.strip():
        return mapping
    for raw in re.split(r"[,，\n]", text.replace("＝", "=")):
        item = raw.strip()
        if not item:
            continue
        source, eq, target = (part.strip() for part in item.partition("="))
        if not eq or not source or not target:
            raise _refused(item, "invalid_map", "缺少“=”或字段名", "'=' or a field name is missing")
        if target not in TARGETS:
            raise _refused(item, "unknown_map_field", f"未知的目标字段“{target}”", f"unknown target field '{target}'")
        if target in mapping.values():
            raise _refused(item, "invalid_map", f"目标字段“{target}”出现了两次",
                           f"the target field '{target}' is named twice")
        mapping[source] = target
    return mapping


def _refused(item: str, code: str, reason_zh: str, reason_en: str) -> InvalidMapping:
    return InvalidMapping(code, item=item, reason_zh=reason_zh, reason_en=reason_en, targets=", ".join(TARGETS),
                          detail={"field": "map", "item": item})


@dataclass
class Normalised:
    """The features with the importer's properties, which format each came in, and issues found while
    translating (keyed by feature index, 1-based; ``general`` for the file as a whole)."""

    features: list[Any]
    formats: set[str] = field(default_factory=set)
    issues: dict[int, list[Issue]] = field(default_factory=dict)
    general: list[Issue] = field(default_factory=list)


def normalise(features: list[Any], mapping: dict[str, str]) -> Normalised:
    out = Normalised([])
    seen: set[str] = set()
    for index, feature in enumerate(features, start=1):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            out.features.append(feature)
            continue
        seen.update(props)
        if mapping:
            props = _mapped(props, mapping)
            out.formats.add("mapped")
        if "adcode" in props and "code" not in props:
            props = _datav(props, index, out)
            out.formats.add("datav")
        elif not mapping:
            out.formats.add("shiyu")
        out.features.append({**feature, "properties": props})
    for source in mapping:
        if source not in seen:
            out.general.append(issue("map_source_missing", "—", source=source))
    return out


def _mapped(props: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    out = {k: v for k, v in props.items() if k not in mapping}
    for source, target in mapping.items():
        if source in props:
            out[target] = props[source]
    level = out.get("level")
    if isinstance(level, str) and level.strip() in LEVEL_ALIASES:
        out["level"] = int(LEVEL_ALIASES[level.strip()])
    elif level in (None, "") and "level" not in mapping.values():
        found = level_of_code(str(out.get("code") or "").strip())
        out["level"] = int(found) if found is not None else None
    return out


def _adcode(value: Any) -> str | None:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return text + "000000" if ADCODE.fullmatch(text) else None


def _datav(props: dict[str, Any], index: int, out: Normalised) -> dict[str, Any]:
    subject = f"{props.get('adcode')} {props.get('name') or ''}".strip()
    code = _adcode(props["adcode"])
    if code is None:
        out.issues.setdefault(index, []).append(issue("invalid_adcode", subject, value=props["adcode"]))
    level = props.get("level")
    parent = props.get("parent")
    parent_value = parent.get("adcode") if isinstance(parent, dict) else parent
    parent_code = None
    if level != "city" and parent_value not in (None, ""):
        parent_code = _adcode(parent_value)
        if parent_code is None:
            out.issues.setdefault(index, []).append(issue("invalid_adcode", subject, value=parent_value))
    return {"code": code or str(props["adcode"]), "name": props.get("name"), "level": level,
            "parent_code": parent_code, "population": props.get("population"),
            "households": props.get("households")}
