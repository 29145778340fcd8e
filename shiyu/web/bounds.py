"""Integer path and query parameters held to what the database can store (security review S8, S9 a), for
every route at once: a route added tomorrow is covered without anyone remembering it.

An integer path parameter past PostgreSQL's ``INTEGER`` range cannot name any row: 404 ``not_found``, as
for any id that does not exist. An integer query parameter out of range — past 2³¹−1 for an id
(``…_id``), past 2⁶³−1 for anything else (offsets) — is 422 ``invalid_input``. Without this, PostgreSQL
answers "integer out of range" and SQLite raises OverflowError, both a 500.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from shiyu.core.bounds import INT32_MAX, INT64_MAX
from shiyu.core.errors import NotFound
from shiyu.web.limits import InvalidInput


def _is_int(annotation: Any) -> bool:
    """``int``, ``int | None``, ``list[int]``, ``Annotated[int, …]``."""
    if annotation is int:
        return True
    return any(_is_int(arg) for arg in typing.get_args(annotation) if arg is not type(None))


def _query_params(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_params(sub)


def _outside(raw: str, limit: int) -> bool:
    try:
        value = int(raw)
    except ValueError:
        return False  # not an integer: FastAPI's own validation answers
    return not -limit - 1 <= value <= limit


@dataclass(frozen=True)
class _IntParams:
    path: tuple[str, ...]
    query: tuple[tuple[str, int], ...]  # (name, largest allowed)


# Kept on the route object itself, not in a dict by ``id(route)``: an app made after another was dropped (every
# test makes one) may get a route at a freed route's address, and an id-keyed entry then answered the old route's
# parameters. (A route cannot be a dict key: it compares by value and is unhashable.)
_ATTRIBUTE = "_shiyu_int_params"


def _int_params(route: APIRoute) -> _IntParams:
    known: _IntParams | None = getattr(route, _ATTRIBUTE, None)
    if known is None:
        known = _find_int_params(route)
        setattr(route, _ATTRIBUTE, known)
    return known


def _find_int_params(route: APIRoute) -> _IntParams:
    return _IntParams(
        tuple(p.alias for p in route.dependant.path_params if _is_int(p.field_info.annotation)),
        tuple((p.alias, INT32_MAX if p.alias == "id" or p.alias.endswith("_id") else INT64_MAX)
              for p in _query_params(route.dependant) if _is_int(p.field_info.annotation)),
    )


async def integers_in_range(request: Request) -> None:
    """An app-wide dependency: it runs before each route's own dependencies and its handler."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    wanted = _int_params(route)
    if any(_outside(str(request.path_params.get(name, "0")), INT32_MAX) for name in wanted.path):
        raise NotFound()
    for name, limit in wanted.query:
        if any(_outside(raw, limit) for raw in request.query_params.getlist(name)):
            raise InvalidInput()
