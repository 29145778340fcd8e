"""The petitions' declaration: tables, API, permissions and who holds them, the navigation entry, the demo.

Petitions are sensitive: only the petition officer (信访专干) and the centres' leaders see them — not the grid
staff, not the operators, not the administrator (who sets the city's time limits only). Reveals need a
reason and are audited."""

from pathlib import Path

from shiyu.core.domains import Domain, NavEntry
from shiyu.petitions import api, demo, links, models, notices, tasks
from shiyu.petitions.models import CONFIGURE, HANDLE, REVEAL, VIEW

DOMAIN = Domain(
    name="petitions",
    api_routers=(api.router,),
    models=(models,),
    worker=(tasks, links, notices),
    nav=(NavEntry("petitions", "/petitions", "work", "users", frozenset({VIEW}), order=9),),
    permissions={
        VIEW: "查看信访事项（信访人信息脱敏）、积案和接访日",
        HANDLE: "登记、受理、交办、答复信访事项，登记接访日",
        REVEAL: "查看信访人个人信息明文（须填写事由，留痕）",
        CONFIGURE: "设置全市信访办理时限",
    },
    role_permissions={
        "petition_officer": frozenset({VIEW, HANDLE, REVEAL}),
        "centre_leader": frozenset({VIEW, REVEAL}),
        "admin": frozenset({CONFIGURE}),
    },
    translations=Path(__file__).parent / "i18n",
    demo=demo.demo,
)
