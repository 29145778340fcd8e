"""Patrols: grid staff check in on their rounds and send presence heartbeats; leaders see them."""

from shiyu.core.domains import Domain
from shiyu.patrol import api as patrol_api
from shiyu.patrol import models as patrol_models

DOMAIN = Domain(
    name="patrol",
    api_routers=(patrol_api.router,),
    models=(patrol_models,),
    permissions={
        "patrol.report": "巡查签到和在岗心跳",
        "patrol.view": "查看巡查签到",
        "presence.view": "查看在岗时长",
        "presence.edit": "写入他人的在岗记录（无人持有：在岗记录只由本人的心跳写入）",
    },
)
