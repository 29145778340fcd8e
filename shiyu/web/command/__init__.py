"""The command view (issue 4, item 1): the "one map" of an area with its cases, KPIs and live updates; its
当前态势 panel and the big screen (issue 13)."""

from shiyu.web.command import situation
from shiyu.web.command.routes import router

router.include_router(situation.router)

__all__ = ["router"]
