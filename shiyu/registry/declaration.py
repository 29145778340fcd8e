"""The registers' declaration: tables, API, import commands, permissions and who holds them.

Grid staff see their grids' registers (masked) and submit changes; the centres review and accept them
(acceptance is the only write); the police alone see the police-only fields; reveals need a reason."""

from pathlib import Path

from shiyu.cases.intake.hooks import register_component_resolver
from shiyu.core.domains import Domain, NavEntry
from shiyu.registry import api, cli, components, models, quality, stale
from shiyu.registry.demo import demo

_VIEW = frozenset({"registry.view"})
_COLLECT = _VIEW | {"registry.collect", "registry.reveal"}
# The centres collect too (a change phoned in), and so may grant the grid staff's roles (no escalation).
_REVIEW = _COLLECT | {"registry.review", "registry.edit"}

DOMAIN = Domain(
    name="registry",
    api_routers=(api.router,),
    models=(models,),
    worker=(stale, quality),
    install=lambda: register_component_resolver(components.resolve),
    commands=(cli,),
    nav=(NavEntry("registry", "/registry", "work", "building", _VIEW, order=7),
         NavEntry("registry_changes", "/registry/changes", "work", "check",
                  frozenset({"registry.collect", "registry.review"}), order=8),
         NavEntry("registry_quality", "/registry/quality", "work", "eye", _VIEW, order=9)),
    permissions={
        "registry.view": "查看人地物事组织基础信息（个人信息脱敏）",
        "registry.collect": "采集并提交基础信息变更",
        "registry.review": "审核基础信息变更、合并重复人员",
        "registry.edit": "写入基础信息（审核通过的变更、批量导入）",
        "registry.reveal": "查看实有人口个人信息明文（须填写事由，留痕）",
        "registry.police_view": "查看公安专用字段",
        "registry.import": "批量导入实有人口、房屋、单位",
    },
    role_permissions={
        "grid_worker": _COLLECT,
        "grid_leader": _COLLECT,
        "grid_instructor": _VIEW,
        "centre_operator": _REVIEW,
        "centre_leader": _REVIEW,
        "analyst": _VIEW,
        "admin": _REVIEW | {"registry.import"},
        "police": _COLLECT | {"registry.police_view"},
    },
    translations=Path(__file__).parent / "i18n",
    demo=demo,
)
