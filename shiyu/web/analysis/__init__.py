"""Analysis pages (分析研判): the hot issues of the caller's area (Shiyu issue 5, item 4); 统计分析 and the
cases behind any number (issue 13)."""

from shiyu.web.analysis import drill, statistics
from shiyu.web.analysis.routes import router

router.include_router(statistics.router)
router.include_router(drill.router)

__all__ = ["router"]
