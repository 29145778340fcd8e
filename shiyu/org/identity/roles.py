"""Roles and the permissions each one carries.

A grant gives one role over an area subtree (or, for department roles, over a department). The
permission names are ``<object>.<verb>``; the scope layer asks for ``*.view`` on reads and ``*.edit`` (or a
sharper verb) on writes. Roles are code, not data, because every permission check in the code refers to
them; which users hold them is data (grants).
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    GRID_WORKER = "grid_worker"  # 网格员
    GRID_LEADER = "grid_leader"  # 网格长
    GRID_INSTRUCTOR = "grid_instructor"  # 网格指导员
    CENTRE_OPERATOR = "centre_operator"  # 综治中心操作员 / 调度员
    CENTRE_LEADER = "centre_leader"  # 综治中心领导
    DEPARTMENT_HANDLER = "department_handler"  # 职能部门联络员 / 处置人员
    HOTLINE_OPERATOR = "hotline_operator"  # 12345 话务员
    MEDIATOR = "mediator"  # 调解员
    LEGAL_ADVISER = "legal_adviser"  # 法律顾问
    ANALYST = "analyst"  # 分析研判人员
    AUDITOR = "auditor"  # 审计员
    ADMIN = "admin"  # 系统管理员
    CITIZEN = "citizen"  # 群众


ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.GRID_WORKER: ("网格员", "Grid worker"),
    Role.GRID_LEADER: ("网格长", "Grid leader"),
    Role.GRID_INSTRUCTOR: ("网格指导员", "Grid instructor"),
    Role.CENTRE_OPERATOR: ("中心操作员", "Centre operator"),
    Role.CENTRE_LEADER: ("中心领导", "Centre leader"),
    Role.DEPARTMENT_HANDLER: ("部门处置人员", "Department handler"),
    Role.HOTLINE_OPERATOR: ("12345话务员", "Hotline operator"),
    Role.MEDIATOR: ("调解员", "Mediator"),
    Role.LEGAL_ADVISER: ("法律顾问", "Legal adviser"),
    Role.ANALYST: ("分析员", "Analyst"),
    Role.AUDITOR: ("审计员", "Auditor"),
    Role.ADMIN: ("系统管理员", "Administrator"),
    Role.CITIZEN: ("群众", "Citizen"),
}

# Roles granted over a department rather than an area subtree.
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HANDLER})

_VIEW_BASE = frozenset({"area.view", "centre.view", "department.view", "user.view"})

PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.GRID_WORKER: _VIEW_BASE,
    Role.GRID_LEADER: _VIEW_BASE,
    Role.GRID_INSTRUCTOR: _VIEW_BASE,
    Role.CENTRE_OPERATOR: _VIEW_BASE | {"pii.reveal"},
    Role.CENTRE_LEADER: _VIEW_BASE | {"pii.reveal", "area.propose", "area.approve", "user.manage"},
    Role.DEPARTMENT_HANDLER: frozenset({"department.view"}),
    Role.HOTLINE_OPERATOR: _VIEW_BASE,
    Role.MEDIATOR: _VIEW_BASE,
    Role.LEGAL_ADVISER: _VIEW_BASE,
    Role.ANALYST: frozenset({"area.view", "centre.view", "department.view"}),
    Role.AUDITOR: _VIEW_BASE | {"audit.view"},
    Role.ADMIN: _VIEW_BASE
    | {
        "pii.reveal",
        "area.edit",
        "area.propose",
        "area.approve",
        "area.import",
        "centre.edit",
        "department.edit",
        "user.manage",
        "audit.view",
        "category.edit",
        "calendar.edit",
        "routing.edit",
    },
    Role.CITIZEN: frozenset(),
}


def permissions_of(role: str) -> frozenset[str]:
    try:
        return PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
