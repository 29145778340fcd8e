"""The petition pages (``shiyu.petitions``): the desk with its queues and indicators, the registration form,
a petition's page with the timeline and the actions, the backlog board and the reception days."""

from shiyu.web.petitions.routes import router

__all__ = ["router"]
