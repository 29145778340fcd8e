"""Key-person pages: the register, a person's timeline, 我的走访, the centre's dashboard."""

from shiyu.web.keypersons.routes import router

__all__ = ["router"]
