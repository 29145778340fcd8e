"""The command view (issue 4, item 1): the "one map" of an area with its cases, KPIs and live updates."""

from shiyu.web.command.routes import router

__all__ = ["router"]
