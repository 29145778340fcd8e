"""The integer-parameter gate (``shiyu.web.bounds``) learns each route's integer parameters once. It kept them
by ``id(route)``: a route made after another was dropped (every test makes an app) often sits at the freed
address, and was then checked with the dropped route's parameters — 36 of 200 tries when it was found."""

from __future__ import annotations

import gc

from fastapi.routing import APIRoute

from shiyu.web import bounds


def _by_case(case_id: int) -> None: ...


def _by_name(name: str, limit: int = 1) -> None: ...


def test_a_new_route_is_checked_for_its_own_integers_never_a_dropped_routes():
    wrong = 0
    for _ in range(60):
        dropped = APIRoute("/cases/{case_id}", _by_case)
        assert bounds._int_params(dropped).path == ("case_id",)
        del dropped
        gc.collect(0)
        fresh = APIRoute("/names/{name}", _by_name)
        wrong += bounds._int_params(fresh) != bounds._IntParams(path=(), query=(("limit", bounds.INT64_MAX),))
        del fresh
        gc.collect(0)
    assert wrong == 0
