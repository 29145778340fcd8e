"""A task type's form: the list of fields a department declares when it proposes the type, and the check of
what a grid worker sends against it.

A form is plain JSON (``[{name, label, label_en, type, required, options}]``) so that the phone renders it
offline from the cached type, and the server checks every submission against the same list: a field the form
does not name is refused, a required one missing is refused, each value must have its field's type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shiyu.core.errors import ValidationFailed

FIELD_TYPES = ("text", "textarea", "number", "date", "choice", "multichoice", "yesno", "photo", "gps")
MAX_FIELDS = 40
MAX_TEXT = {"text": 500, "textarea": 2000}
MAX_PHOTOS = 9
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _spec_problem(spec: Any, seen: set[str]) -> str | None:
    if not isinstance(spec, dict):
        return "not_an_object"
    name, kind, options = spec.get("name"), spec.get("type"), spec.get("options", [])
    if not isinstance(name, str) or not _NAME.match(name):
        return "bad_name"
    if name in seen:
        return "duplicate_name"
    if kind not in FIELD_TYPES:
        return "bad_type"
    label = spec.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > 100:
        return "bad_label"
    if not isinstance(spec.get("label_en", ""), str) or not isinstance(spec.get("required", False), bool):
        return "bad_label_en_or_required"
    if kind in ("choice", "multichoice"):
        if (not isinstance(options, list) or not options or len(options) > 50
                or not all(isinstance(o, str) and o.strip() and len(o) <= 100 for o in options)
                or len(set(options)) != len(options)):
            return "bad_options"
    elif options not in ([], None):
        return "options_not_allowed"
    return None


def check_form(form: Any) -> list[dict[str, Any]]:
    """The form in its stored shape, or ``task_form_invalid`` naming each bad field (by position)."""
    if not isinstance(form, list) or len(form) > MAX_FIELDS:
        raise ValidationFailed("task_form_invalid", "表单格式有误", "The form is not valid",
                               detail=[{"field": "form", "problem": "not_a_list_of_at_most_40"}])
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for i, spec in enumerate(form):
        problem = _spec_problem(spec, seen)
        if problem is not None:
            problems.append({"field": f"form[{i}]", "problem": problem})
            continue
        seen.add(spec["name"])
        out.append({"name": spec["name"], "label": spec["label"].strip(),
                    "label_en": spec.get("label_en", "").strip(), "type": spec["type"],
                    "required": spec.get("required", False), "options": list(spec.get("options") or [])})
    if problems:
        raise ValidationFailed("task_form_invalid", "表单格式有误", "The form is not valid", detail=problems)
    return out


@dataclass
class Filled:
    """A submission's data as checked: the values, the photos (attachment ids) and the first GPS point."""

    data: dict[str, Any]
    photos: list[int] = field(default_factory=list)
    point: tuple[float, float] | None = None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _value_problem(kind: str, options: list[str], value: Any) -> str | None:
    if kind in MAX_TEXT:
        ok = isinstance(value, str) and len(value) <= MAX_TEXT[kind]
    elif kind == "number":
        ok = _is_number(value) and abs(value) < 1e12
    elif kind == "date":
        ok = isinstance(value, str) and _is_date(value)
    elif kind == "choice":
        ok = value in options
    elif kind == "multichoice":
        ok = isinstance(value, list) and all(v in options for v in value) and len(set(value)) == len(value)
    elif kind == "yesno":
        ok = isinstance(value, bool)
    elif kind == "photo":
        ok = (isinstance(value, list) and len(value) <= MAX_PHOTOS
              and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value))
    else:  # gps
        ok = (isinstance(value, dict) and set(value) == {"lon", "lat"} and _is_number(value["lon"])
              and _is_number(value["lat"]) and -180 <= value["lon"] <= 180 and -90 <= value["lat"] <= 90)
    return None if ok else f"not_{kind}"


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def fill(form: list[dict[str, Any]], sent: dict[str, Any] | Any) -> Filled:
    """Check ``sent`` against ``form``: ``task_data_invalid`` with one problem per field, or the clean data."""
    if not isinstance(sent, dict):
        raise ValidationFailed("task_data_invalid", "填报内容有误", "The form data is not valid",
                               detail=[{"field": "data", "problem": "not_an_object"}])
    specs = {f["name"]: f for f in form}
    problems = [{"field": name, "problem": "unknown"} for name in sorted(set(sent) - set(specs))]
    filled = Filled({})
    for name, spec in specs.items():
        value: Any = sent.get(name)
        if isinstance(value, str) and spec["type"] in MAX_TEXT:
            value = value.strip()
        if _empty(value):
            if spec["required"]:
                problems.append({"field": name, "problem": "required"})
            continue
        problem = _value_problem(spec["type"], spec["options"], value)
        if problem is not None:
            problems.append({"field": name, "problem": problem})
            continue
        filled.data[name] = value
        if spec["type"] == "photo":
            filled.photos.extend(v for v in value if v not in filled.photos)
        elif spec["type"] == "gps" and filled.point is None:
            filled.point = (float(value["lon"]), float(value["lat"]))
    if problems:
        raise ValidationFailed("task_data_invalid", "填报内容不完整或有误",
                               "Some answers of the form are missing or not valid", detail=problems)
    return filled
