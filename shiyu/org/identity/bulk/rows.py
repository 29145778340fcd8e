"""The rows of a people file and everything that can be wrong with each one.

Columns (Chinese as people name them, or the English field names an API client sends): 姓名, 手机, 身份证号
(optional), 角色 (a role code or its Chinese label, ``ROLE_LABELS``), 区域编码 (for roles over an area) or 部门
(code or name, for department roles), and optionally 用户名. Every row is checked on its own and against the
others and the database, all at once (a handful of queries for the whole file, not per row, so that ten
thousand rows check in seconds):

- the ID number's GB 11643 check digit and date, the phone's form (``shiyu.core.validators``);
- duplicates of phone, ID number or username inside the file and against existing accounts (by blind index,
  so no personal data is decrypted; city-wide, as a phone or an ID number belongs to one person);
- areas and departments the importer cannot see answer "unknown", like ones that do not exist;
- the importer must manage users over the row's area and may hand out only what identity's grant check
  allows (``service.check_grantable``: no escalation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shiyu.core.errors import ShiyuError, ValidationFailed
from shiyu.core.pii import blind_hash
from shiyu.core.scoping import Principal
from shiyu.core.tabular import Table, TableError
from shiyu.core.validators import validate_id_number, validate_phone
from shiyu.org.areas.models import Area
from shiyu.org.identity.models import User
from shiyu.org.identity.roles import DEPARTMENT_ROLES, ROLE_LABELS, Role
from shiyu.org.identity.service import RESERVED_USERNAMES, check_grantable
from shiyu.org.units.models import Department

MAX_ROWS = 20_000
COLUMNS = {
    "姓名": "full_name", "手机": "phone", "手机号": "phone", "身份证号": "id_number", "角色": "role",
    "区域编码": "area_code", "部门": "department", "用户名": "username",
}
FIELDS = ("full_name", "phone", "id_number", "role", "area_code", "department", "username")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
UNSCOPED = {"unscoped": True}
_ROLE_BY_LABEL = {zh: role for role, (zh, _en) in ROLE_LABELS.items()} | {r.value: r for r in Role}


@dataclass
class Row:
    """One person as read from the file (``number``: the spreadsheet row, the header being row 1)."""

    number: int
    full_name: str = ""
    phone: str = ""
    id_number: str = ""
    role: str = ""
    area_code: str = ""
    department: str = ""
    username: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Problem:
    code: str
    zh: str
    en: str
    field: str | None = None

    def message(self, lang: str) -> str:
        return self.en if lang.startswith("en") else self.zh


@dataclass
class Checked:
    """A row with its problems and, when it has none, what the import will create."""

    row: Row
    problems: list[Problem] = field(default_factory=list)
    role: Role | None = None
    home: Area | None = None
    area: Area | None = None
    department: Department | None = None
    phone: str = ""
    id_number: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def place(self) -> str:
        """The area or department the role is held over, by name (for the report and the codes sheet)."""
        if self.department is not None:
            return self.department.name
        return self.area.name if self.area is not None else ""

    def refuse(self, error: ShiyuError, field: str | None = None) -> None:
        detail = error.detail if isinstance(error.detail, dict) else {}
        self.problems.append(Problem(error.code, error.zh, error.en, field or detail.get("field")))


def rows_from_table(table: Table) -> list[Row]:
    """The rows of a file; unknown columns are ignored, the required ones must be there."""
    mapping = {i: COLUMNS.get(name, name if name in FIELDS else None) for i, name in enumerate(table.columns)}
    present = set(mapping.values())
    for needed, label in (("full_name", "姓名"), ("phone", "手机"), ("role", "角色")):
        if needed not in present:
            raise TableError("table.missing_column", "文件中没有列“{column}”；现有列：{available}",
                             "Column '{column}' is not in the file; available columns: {available}",
                             column=label, available=", ".join(table.columns))
    if "area_code" not in present and "department" not in present:
        raise TableError("table.missing_column", "文件中须有“区域编码”或“部门”列；现有列：{available}",
                         "The file needs a column 区域编码 (area code) or 部门 (department); available: {available}",
                         available=", ".join(table.columns))
    return rows_from_dicts(
        ({f: cells[i] for i, f in mapping.items() if f} for cells in table.rows), first=2)


def rows_from_dicts(records: Iterable[dict[str, Any]], first: int = 1) -> list[Row]:
    """Rows from mappings keyed by the Chinese column names or the field names (the API's JSON)."""
    rows = []
    for number, record in enumerate(records, start=first):
        values = {COLUMNS.get(k, k): str(v if v is not None else "").strip() for k, v in record.items()}
        rows.append(Row(number, **{f: values.get(f, "") for f in FIELDS}))
        if len(rows) > MAX_ROWS:
            raise ValidationFailed("too_many_rows", "一次最多导入 {limit} 行，请拆分文件",
                                   "At most {limit} rows per import; split the file", limit=MAX_ROWS)
    if not rows:
        raise ValidationFailed("no_rows", "文件中没有人员数据", "The file has no rows of people")
    return rows


def check(session: Session, principal: Principal, rows: list[Row]) -> list[Checked]:
    """Every problem of every row (see the module's docstring). Reads only; writes nothing."""
    out = [Checked(r) for r in rows]
    areas = _areas(session, {r.area_code for r in rows if r.area_code})
    departments = _departments(session, {r.department for r in rows if r.department})
    first: dict[tuple[str, str], int] = {}
    for c in out:
        _check_own(c, areas, departments, principal)
        for key, value, label in (("phone", c.phone, "手机号"), ("id_number", c.id_number, "身份证号"),
                                  ("username", c.row.username.lower(), "用户名")):
            if not value:
                continue
            seen = first.setdefault((key, value), c.row.number)
            if seen != c.row.number:
                c.problems.append(Problem("duplicate_in_file", f"{label}与第 {seen} 行重复",
                                          f"The same {key.replace('_', ' ')} as row {seen}", key))
    taken = _taken(session, [c for c in out if c.phone or c.id_number or c.row.username])
    for c in out:
        if c.phone and blind_hash("phone", c.phone) in taken["phone"]:
            c.problems.append(Problem("phone_taken", "已有账号使用该手机号", "An account with this phone exists",
                                      "phone"))
        if c.id_number and blind_hash("id_number", c.id_number) in taken["id_number"]:
            c.problems.append(Problem("id_number_taken", "已有账号使用该身份证号",
                                      "An account with this ID number exists", "id_number"))
        if c.row.username and c.row.username.lower() in taken["username"]:
            c.problems.append(Problem("username_taken", "用户名已被使用", "This username is already taken",
                                      "username"))
    return out


def _check_own(c: Checked, areas: dict[str, Area], departments: dict[str, list[Department]],
               principal: Principal) -> None:
    r = c.row
    if not r.full_name or len(r.full_name) > 50:
        c.problems.append(Problem("name_required", "姓名不能为空（最多50字）",
                                  "A name is required (at most 50 characters)", "full_name"))
    if not r.phone:
        c.problems.append(Problem("phone_required", "手机号不能为空", "A phone number is required", "phone"))
    else:
        try:
            c.phone = validate_phone(r.phone)
        except ValidationFailed as exc:
            c.refuse(exc)
    if r.id_number:
        try:
            c.id_number = validate_id_number(r.id_number)
        except ValidationFailed as exc:
            c.refuse(exc)
    if r.username:
        if not USERNAME.match(r.username):
            c.problems.append(Problem("bad_username", "用户名须为3至64个字母、数字或 _.-",
                                      "A username has 3 to 64 letters, digits or _.-", "username"))
        elif r.username.lower() in RESERVED_USERNAMES:
            c.problems.append(Problem("username_reserved", "该用户名为系统保留", "This username is reserved",
                                      "username"))
    c.role = _ROLE_BY_LABEL.get(r.role)
    if c.role is None:
        labels = "、".join(zh for zh, _ in ROLE_LABELS.values())
        c.problems.append(Problem("unknown_role", f"未知角色“{r.role}”（可用：{labels}）",
                                  f"Unknown role '{r.role}'", "role"))
        return
    path = _place(c, areas, departments)
    if path is None:
        return
    try:
        check_grantable(principal, c.role, path)
    except ShiyuError as exc:
        if exc.code == "grant_exceeds_own":
            c.refuse(exc, "role")
        else:
            c.problems.append(Problem("not_allowed_here", "您无权管理该区域的账号",
                                      "You may not manage accounts there", "area_code"))


def _place(c: Checked, areas: dict[str, Area], departments: dict[str, list[Department]]) -> str | None:
    """The path the row's grant covers, with its home area set; None (and a problem) when it names no place
    the importer can see."""
    r = c.row
    if c.role in DEPARTMENT_ROLES:
        found = departments.get(r.department, []) if r.department else []
        if not r.department:
            c.problems.append(Problem("department_required", "该角色须填写部门", "This role needs a department",
                                      "department"))
        elif not found:
            c.problems.append(Problem("unknown_department", f"未知部门“{r.department}”",
                                      f"Unknown department '{r.department}'", "department"))
        elif len(found) > 1:
            c.problems.append(Problem("ambiguous_department", f"有多个部门名为“{r.department}”，请填写部门编码",
                                      f"Several departments are named '{r.department}'; use the code",
                                      "department"))
        else:
            c.department, c.home = found[0], found[0].area
            return found[0].area_path
        return None
    if not r.area_code:
        c.problems.append(Problem("area_required", "该角色须填写区域编码", "This role needs an area code", "area_code"))
        return None
    area = areas.get(r.area_code)
    if area is None:
        c.problems.append(Problem("unknown_area", f"未知区域编码“{r.area_code}”", f"Unknown area code '{r.area_code}'",
                                  "area_code"))
        return None
    c.area = c.home = area
    return area.area_path


def _areas(session: Session, codes: set[str]) -> dict[str, Area]:
    """Areas by code, as far as the importer sees them (an invisible area is as unknown as a missing one)."""
    found: dict[str, Area] = {}
    for chunk in chunks(sorted(codes)):
        found.update({a.code: a for a in session.scalars(select(Area).where(Area.code.in_(chunk)))})
    return found


def _departments(session: Session, keys: set[str]) -> dict[str, list[Department]]:
    """Departments by code and by name (a name may be shared: then the code is needed)."""
    found: dict[str, list[Department]] = {}
    for chunk in chunks(sorted(keys)):
        for d in session.scalars(select(Department).where(or_(Department.code.in_(chunk),
                                                               Department.name.in_(chunk)))):
            for key in {d.code, d.name} & set(chunk):
                found.setdefault(key, []).append(d)
    return found


def _taken(session: Session, rows: list[Checked]) -> dict[str, set[str]]:
    """Phones, ID numbers (blind indexes) and usernames already used by any account, city-wide: the answer
    says only "taken", never whose or where."""
    phones = {blind_hash("phone", c.phone) for c in rows if c.phone}
    ids = {blind_hash("id_number", c.id_number) for c in rows if c.id_number}
    names = {c.row.username.lower() for c in rows if c.row.username}
    out: dict[str, set[str]] = {"phone": set(), "id_number": set(), "username": set()}
    for column, wanted, key in ((User.phone_hash, phones, "phone"), (User.id_number_hash, ids, "id_number")):
        for chunk in chunks(sorted(wanted)):
            out[key].update(session.scalars(select(column).where(column.in_(chunk)), execution_options=UNSCOPED))
    for chunk in chunks(sorted(names)):
        out["username"].update(n.lower() for n in session.scalars(
            select(User.username).where(func.lower(User.username).in_(chunk)), execution_options=UNSCOPED))
    return out


def chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    """Lists of at most ``size`` for IN clauses (SQLite bounds the parameters of one statement)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]
