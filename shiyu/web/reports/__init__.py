"""The reports page (周报/月报): export a weekly or monthly report of an area the leader holds, and download
the reports the weekly job filed (``shiyu.reports``)."""

from shiyu.web.reports.routes import router

__all__ = ["router"]
