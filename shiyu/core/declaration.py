"""The platform's own part: the audit log, the outbox and its administration."""

from shiyu.core import audit, outbox, outbox_api
from shiyu.core.domains import Domain

DOMAIN = Domain(
    name="platform",
    api_routers=(outbox_api.router,),
    models=(audit, outbox),
    permissions={
        "audit.view": "查看审计日志",
        "outbox.manage": "查看、重投和丢弃滞留的事件",
        "pii.reveal": "说明理由后查看完整的个人信息（留痕）",
    },
)
