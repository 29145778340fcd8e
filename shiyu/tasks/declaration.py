"""The task engine's declaration: tables, the warning job, permissions and who holds them.

Grid staff work the items of their grids; the centres propose, assign and review; the centre leaders admit
types proposed at their own level; departments propose the work they want the grids to do (事项准入)."""

from pathlib import Path

from shiyu.core.domains import Domain, NavEntry
from shiyu.tasks import api, demo, jobs, models, service

_VIEW = frozenset({"task.view"})
_WORK = _VIEW | {"task.work"}
# The centres may work an item too (a check done by phone), and so may grant the grid staff's roles (no escalation).
_CENTRE = _WORK | {"task.assign", "task.review", "task.propose"}

DOMAIN = Domain(
    name="tasks",
    api_routers=(api.router,),
    models=(models,),
    worker=(jobs,),
    nav=(NavEntry("tasks", "/tasks", "work", "check", frozenset({"task.assign", "task.review"}), order=9),
         NavEntry("task_types", "/tasks/types", "admin", "tree", frozenset({"task.admit", "task.propose"}), order=35)),
    permissions={
        "task.view": "查看本辖区的任务和事项清单",
        "task.work": "办理本网格的任务（接单、填报、无法完成）",
        "task.assign": "向辖区网格派发任务",
        "task.review": "审核销号或退回网格上报的任务结果",
        "task.admit": "审批同级部门的事项准入申请",
        "task.propose": "以部门名义申请事项准入",
    },
    role_permissions={
        "grid_worker": _WORK,
        "grid_leader": _WORK,
        "grid_instructor": _VIEW,
        "centre_operator": _CENTRE,
        "centre_leader": _CENTRE | {"task.admit"},
        "department_handler": frozenset({"task.propose"}),
        "analyst": _VIEW,
        # The administrator sees and admits city-level types; departments' staff or their centres propose.
        "admin": _VIEW | {"task.assign", "task.review", "task.admit"},
    },
    translations=Path(__file__).parent / "i18n",
    demo=demo.build,
    todo=(service.todo,),
)
