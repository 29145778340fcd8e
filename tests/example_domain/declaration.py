"""The example domain's declaration: everything the platform needs to run it."""

from pathlib import Path

from shiyu.core.domains import Domain, NavEntry
from tests.example_domain import api, models, tasks

DOMAIN = Domain(
    name="notices",
    api_routers=(api.router,),
    models=(models,),
    worker=(tasks,),
    nav=(NavEntry("notices", "/notices", "work", "home", frozenset({"notice.view"}), order=50),),
    permissions={"notice.view": "查看网格通知", "notice.post": "发布网格通知"},
    role_permissions={"grid_worker": frozenset({"notice.view", "notice.post"}),
                      "centre_leader": frozenset({"notice.view"})},
    translations=Path(__file__).parent / "i18n",
)
