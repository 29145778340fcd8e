"""Who may change city-wide reference data (calendar, categories, routing rules).

Such data changes every district's work, so holding the edit permission over a district or a community
is not enough: the grant must cover a whole city (a top-level area, path ``/<city code>/``).
"""

from __future__ import annotations

from shiyu.core.errors import Forbidden
from shiyu.core.scoping import Principal


def require_citywide(principal: Principal, permission: str) -> None:
    if principal.is_system:
        return
    if not any(path.count("/") == 2 for path in principal.paths_with(permission)):
        raise Forbidden(detail={"permission": permission, "scope": "city"})
