"""The key persons' declaration. The strictest access in the platform (docs/adr/0010): the centre leaders
see and manage the records of their area and approve grade changes; everybody else sees a record only while
named on its team (grid worker, police officer, cadre), and then records visits and reports lost contact.
No other role — operators, analysts, administrators, citizens — holds any key-person permission."""

from pathlib import Path

from shiyu.core.domains import Domain, NavEntry
from shiyu.keypersons import api, items, models, referrals, tasks, todo
from shiyu.keypersons.demo import demo

_LEADER = frozenset({models.VIEW, models.MANAGE, models.APPROVE, models.REVEAL, models.VISIT})
_TEAM = frozenset({models.VISIT})

DOMAIN = Domain(
    name="keypersons",
    api_routers=(api.router,),
    models=(models,),
    worker=(tasks, referrals),
    nav=(NavEntry("keypersons", "/keypersons", "work", "users", frozenset({models.VIEW, models.VISIT}), order=9),
         NavEntry("keypersons_dashboard", "/keypersons/dashboard", "work", "tree", frozenset({models.VIEW}),
                  order=10),
         NavEntry("keypersons_visits", "/keypersons/visits", "work", "check", _TEAM, order=4)),
    permissions={
        models.VIEW: "查看本辖区重点人员记录（个人信息脱敏，逐次留痕）",
        models.MANAGE: "列管、核实、解除重点人员，指定责任人，办理移交",
        models.APPROVE: "审批重点人员等级调整（不能审批本人提出的申请）",
        models.REVEAL: "查看重点人员个人信息明文（须填写事由，留痕）",
        models.VISIT: "作为责任人走访所负责的重点人员、报告失联",
    },
    role_permissions={"centre_leader": _LEADER, "grid_worker": _TEAM, "grid_leader": _TEAM, "police": _TEAM},
    translations=Path(__file__).parent / "i18n",
    configure=items.configure,
    demo=demo,
    todo=(todo.visits,),
)

