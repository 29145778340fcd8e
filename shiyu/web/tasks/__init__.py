"""The task engine's pages (``shiyu.tasks``): the admitted list (propose, admit or refuse), the assignment
wizard, campaign progress by area with drill-down and review, and the work items of the field app's tab."""

from shiyu.web.tasks.routes import router

__all__ = ["router"]
