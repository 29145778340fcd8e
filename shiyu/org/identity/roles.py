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
    POLICE = "police"  # 社区民警: the registers' police-only fields (shiyu.registry)
    PETITION_OFFICER = "petition_officer"  # 信访专干: registers and follows petitions (shiyu.petitions)


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
    Role.POLICE: ("社区民警", "Community police officer"),
    Role.PETITION_OFFICER: ("信访专干", "Petition officer"),
}

# Roles granted over a department rather than an area subtree.
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_HANDLER})

_VIEW_BASE = frozenset({"area.view", "centre.view", "department.view", "user.view"})
_CASE_VIEW = frozenset({"case.view", "indicator.view"})
_OPERATOR = _VIEW_BASE | _CASE_VIEW | {
    "pii.reveal", "case.report", "case.register", "case.dispatch", "case.close", "case.evaluate",
}
# Patrols (shiyu.patrol): grid staff check in and send presence heartbeats; leaders above them see the
# check-ins and the online minutes of the people of their area.
_PATROL = frozenset({"patrol.report", "patrol.view"})

# Where a case permission applies (exactly at the case's current centre, over its area, through a
# department) is the workflow table's business (shiyu.cases.workflow.table); a role only says what its holder may
# do somewhere. Department handlers have no case.view / indicator.view: their grant carries the department's
# area path, and area visibility would show them every case there. They see the cases assigned to their
# department, and their department's figures, through the extra scopes of those models instead.
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.GRID_WORKER: _VIEW_BASE | _CASE_VIEW | _PATROL | {"case.report", "case.verify"},
    Role.GRID_LEADER: _VIEW_BASE | _CASE_VIEW | _PATROL | {"case.report", "case.verify", "presence.view"},
    Role.GRID_INSTRUCTOR: _VIEW_BASE | _CASE_VIEW | {"patrol.view", "presence.view"},
    Role.CENTRE_OPERATOR: _OPERATOR | {"patrol.view"},
    Role.CENTRE_LEADER: _OPERATOR
    | {"area.propose", "area.approve", "user.manage", "case.supervise", "case.approve", "patrol.view",
       "presence.view", "hot_issue.manage"},
    Role.DEPARTMENT_HANDLER: frozenset(
        {"department.view", "case.report", "case.handle", "indicator.view_department"}
    ),
    Role.HOTLINE_OPERATOR: _VIEW_BASE | {"case.view", "case.report", "case.evaluate"},
    Role.MEDIATOR: _VIEW_BASE | {"case.view"},
    Role.LEGAL_ADVISER: _VIEW_BASE | {"case.view"},
    # hot_issue.manage: confirm, split or dismiss the hot issues of the area (shiyu.triage.hot.hot_cases).
    Role.ANALYST: frozenset({"area.view", "centre.view", "department.view", "hot_issue.manage"}) | _CASE_VIEW,
    Role.AUDITOR: _VIEW_BASE | _CASE_VIEW | {"audit.view"},
    Role.ADMIN: _VIEW_BASE
    | _CASE_VIEW
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
        "indicator.configure",
        "api_client.manage",
        "grant.any",
        "patrol.view",
        "presence.view",
        "triage.manage",
        "outbox.manage",
    },
    Role.CITIZEN: frozenset(),
    Role.POLICE: _VIEW_BASE,
    Role.PETITION_OFFICER: _VIEW_BASE,  # the petitions' own permissions: shiyu.petitions.declaration
}

# Who may grant a role (besides holding ``user.manage`` there): an admin (``grant.any``) any role in its
# subtree; anyone else only roles whose non-delegable permissions they hold themselves, so nobody can hand
# out power they do not have. Seeing things and the everyday steps of the case loop are delegable: a centre
# leader appoints grid workers and operators without having to be a grid worker.
DELEGABLE = frozenset(
    {"case.report", "case.verify", "case.register", "case.dispatch", "case.handle", "case.close",
     "case.evaluate", "indicator.view_department", "patrol.report"}
)


def needs_to_hold(role: Role) -> frozenset[str]:
    """The permissions a granter must hold over the place to grant ``role`` (without ``grant.any``)."""
    return frozenset(
        p for p in PERMISSIONS[role]
        if p not in DELEGABLE and (not p.endswith(".view") or p == "audit.view")  # reading the audit log is power
    )


def extend(role: str, permissions: frozenset[str]) -> None:
    """Give ``role`` more permissions: a domain declares its own (``Domain.role_permissions``) instead of
    editing the table above. Idempotent."""
    PERMISSIONS[Role(role)] = PERMISSIONS[Role(role)] | permissions


def permissions_of(role: str) -> frozenset[str]:
    try:
        return PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
