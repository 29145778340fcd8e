"""The disputes domain's declaration: tables, API, permissions and who holds them, navigation, demo data.

Grid staff register disputes they find (排查) and follow up; the centres accept, assign, refer, escalate and
close; mediators mediate the disputes of their area and write the papers; legal advisers answer the grid's
questions; the centre leader keeps the pool of organisations and mediators (docs/disputes.md)."""

from pathlib import Path

from shiyu.core.domains import Domain, NavEntry
from shiyu.disputes import api, demo, from_petition, models, notices, tasks

_VIEW = frozenset({models.VIEW})
_GRID = _VIEW | {models.REPORT}
_CENTRE = _GRID | {models.REGISTER, models.REVEAL}

DOMAIN = Domain(
    name="disputes",
    api_routers=(api.router,),
    models=(models,),
    nav=(NavEntry("disputes", "/disputes", "work", "users", frozenset({models.REGISTER, models.REPORT}), order=9),
         NavEntry("disputes_workbench", "/disputes/workbench", "work", "calendar", frozenset({models.MEDIATE}),
                  order=10),
         NavEntry("disputes_advice", "/disputes/advice", "work", "check", frozenset({models.ADVISE}), order=11),
         NavEntry("disputes_pool", "/disputes/pool", "admin", "users", frozenset({models.MANAGE}), order=25)),
    permissions={
        models.VIEW: "查看矛盾纠纷（当事人信息脱敏）",
        models.REPORT: "登记排查发现的矛盾纠纷、回访、向法律顾问提问",
        models.REGISTER: "受理、指派、分流、上报、结案矛盾纠纷",
        models.MEDIATE: "调解矛盾纠纷：记录调解、达成协议、生成文书",
        models.ADVISE: "答复网格提出的法律问题",
        models.REVEAL: "查看当事人信息明文、生成载有当事人信息的文书（须填写事由，留痕）",
        models.MANAGE: "管理调解组织和调解员",
    },
    role_permissions={
        "grid_worker": _GRID,
        "grid_leader": _GRID,
        "grid_instructor": _VIEW,
        "centre_operator": _CENTRE,
        "centre_leader": _CENTRE | {models.MANAGE},
        "mediator": _VIEW | {models.MEDIATE, models.REVEAL},
        "legal_adviser": _VIEW | {models.ADVISE},
        "analyst": _VIEW,
        "admin": _VIEW | {models.MANAGE},
    },
    translations=Path(__file__).parent / "i18n",
    demo=demo.demo,
    worker=(from_petition, notices, tasks),
)
