"""Indicators against hand-computed values on twelve cases of March 2026, period boundaries in Asia/Shanghai,
the composite score with default and custom weights, scope through the API, trend, ranking and drill-down."""

from __future__ import annotations

from datetime import date

import pytest

from shiyu.cases.indicators import facts, service, weights
from shiyu.cases.indicators.definitions import DEFAULT_WEIGHTS, Period
from shiyu.core.errors import NotFound, ValidationFailed
from shiyu.core.scoping import Principal
from tests.cases.indicator_fixtures import SH, indicator_world, march_cases  # noqa: F401
from tests.factories import add_user, login

MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}
# (numerator, denominator) per indicator for the twelve March cases, worked out by hand from march_cases.
CITY = {
    "reported": (12, None), "registered": (9, None), "registration_rate": (9, 10), "dispatch_accuracy": (6, 7),
    "on_time_handling_rate": (5, 6), "closure_rate": (5, 7), "on_time_closure_rate": (4, 7), "rework_rate": (1, 6),
    "extension_rate": (1, 7), "overdue": (3, 9), "satisfaction_rate": (3, 4),
}
# Community A: without c12 (grid b1: registered, dispatched, handled, closed on time, rated satisfied).
COMMUNITY_A = CITY | {
    "reported": (11, None), "registered": (8, None), "registration_rate": (8, 9), "dispatch_accuracy": (5, 6),
    "on_time_handling_rate": (4, 5), "closure_rate": (4, 6), "on_time_closure_rate": (3, 6), "rework_rate": (1, 5),
    "extension_rate": (1, 6), "overdue": (3, 8), "satisfaction_rate": (2, 3),
}
# Department a: c6 (handling, handle overdue), c7, c8, c9 (closed), c11 (to verify, accept overdue).
DEPARTMENT_A = {
    "reported": (5, None), "registered": (5, None), "registration_rate": (5, 5), "dispatch_accuracy": (5, 5),
    "on_time_handling_rate": (3, 4), "closure_rate": (3, 5), "on_time_closure_rate": (2, 5), "rework_rate": (1, 4),
    "extension_rate": (1, 5), "overdue": (3, 5), "satisfaction_rate": (2, 3),
}


def default_score(expected: dict[str, tuple[int, int | None]]) -> float:
    lower_is_better = {"rework_rate", "extension_rate", "overdue"}
    total = 0.0
    for name, weight in DEFAULT_WEIGHTS.items():
        n, d = expected[name]
        assert d
        total += weight * (1 - n / d if name in lower_is_better else n / d)
    return round(100 * total / sum(DEFAULT_WEIGHTS.values()), 2)


@pytest.fixture
def world(system_session, factory):
    w = indicator_world(system_session)
    w.extra["cases"] = march_cases(system_session, w)
    facts.rebuild(factory, SH, date(2026, 2, 1), date(2026, 4, 30))
    return w


def figures_of(out: dict) -> dict[str, tuple[int, int | None]]:
    return {f["name"]: (f["numerator"], f["denominator"]) for f in out["figures"]}


def test_city_figures_match_the_hand_computation(system_session, world):
    q = service.resolve(system_session, Principal.system(), SH, **MARCH)
    out = service.overview(system_session, q, "zh")
    assert figures_of(out) == CITY
    rates = {f["name"]: f["rate"] for f in out["figures"]}
    assert rates["closure_rate"] == pytest.approx(5 / 7) and rates["reported"] is None
    assert out["score"] == pytest.approx(default_score(CITY), abs=0.01)
    assert service.raw_totals(system_session, q) == service.totals(system_session, q)


@pytest.mark.parametrize("filters, expected", [("community_a", COMMUNITY_A), ("department_a", DEPARTMENT_A)])
def test_area_and_department_figures(system_session, world, filters, expected):
    kw = {"area_id": world.community_a.id} if filters == "community_a" else {"department_id": world.departments["a"].id}
    q = service.resolve(system_session, Principal.system(), SH, **MARCH, **kw)
    assert figures_of(service.overview(system_session, q, "en")) == expected
    assert service.raw_totals(system_session, q) == service.totals(system_session, q)


def test_category_filter_takes_a_major_class_with_its_minor_classes(system_session, world):
    noise = service.resolve(system_session, Principal.system(), SH, **MARCH, category_id=world.extra["noise"].id)
    assert service.totals(system_session, noise)["reported"] == 2  # c9, c12
    major = service.resolve(system_session, Principal.system(), SH, **MARCH, category_id=world.extra["major"].id)
    assert service.totals(system_session, major)["reported"] == 12


def test_period_boundaries_are_local_days_in_shanghai(system_session, world):
    def reported(start: date, end: date) -> int:
        q = service.resolve(system_session, Principal.system(), SH, start=start, end=end)
        assert service.raw_totals(system_session, q)["reported"] == service.totals(system_session, q)["reported"]
        return service.totals(system_session, q)["reported"]

    assert reported(date(2026, 3, 31), date(2026, 3, 31)) == 1  # 23:30 local on the 31st (15:30 UTC)
    assert reported(date(2026, 4, 1), date(2026, 4, 1)) == 1  # 00:10 local on the 1st (16:10 UTC on the 31st)
    assert reported(date(2026, 2, 28), date(2026, 2, 28)) == 1
    assert Period(date(2026, 3, 31), date(2026, 3, 31)).bounds(SH)[0].isoformat() == "2026-03-30T16:00:00+00:00"


def test_period_is_validated():
    with pytest.raises(ValidationFailed):
        Period(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ValidationFailed):
        Period(date(2025, 1, 1), date(2026, 3, 1))


def test_composite_score_with_custom_weights(system_session, world):
    q = service.resolve(system_session, Principal.system(), SH, **MARCH)
    weights.replace(system_session, Principal.system(), {name: 0 for name in DEFAULT_WEIGHTS}
                    | {"satisfaction_rate": 3, "closure_rate": 1})
    system_session.commit()
    assert service.overview(system_session, q, "zh")["score"] == pytest.approx(round(100 * (3 * 3 / 4 + 5 / 7) / 4, 2))
    with pytest.raises(ValidationFailed):
        weights.replace(system_session, Principal.system(), {"satisfaction_rate": 0, "closure_rate": 0})
    with pytest.raises(ValidationFailed):
        weights.replace(system_session, Principal.system(), {"reported": 5})


def test_trend_by_month_and_week(system_session, world):
    q = service.resolve(system_session, Principal.system(), SH, start=date(2026, 2, 15), end=date(2026, 4, 15))
    months = service.trend(system_session, q, service.Bucket.MONTH)
    assert [(p["start"], p["end"], p["values"]["reported"]) for p in months] == [
        (date(2026, 2, 15), date(2026, 2, 28), 1), (date(2026, 3, 1), date(2026, 3, 31), 12),
        (date(2026, 4, 1), date(2026, 4, 15), 1)]
    assert months[1]["values"]["closure_rate"] == pytest.approx(5 / 7)
    weeks = service.trend(system_session, q, service.Bucket.WEEK)
    assert weeks[0]["start"] == date(2026, 2, 15) and weeks[1]["start"] == date(2026, 2, 16)  # Mondays
    assert sum(p["values"]["reported"] for p in weeks) == 14


def test_ranking_by_community_and_department(system_session, world):
    q = service.resolve(system_session, Principal.system(), SH, **MARCH)
    ranked = service.ranking(system_session, Principal.system(), q, service.RankLevel.COMMUNITY)
    assert [(r["rank"], r["code"]) for r in ranked] == [(1, world.community_b.code), (2, world.community_a.code)]
    assert ranked[1]["score"] == pytest.approx(default_score(COMMUNITY_A), abs=0.01)
    departments = service.ranking(system_session, Principal.system(), q, service.RankLevel.DEPARTMENT)
    assert {r["id"] for r in departments} == {world.departments["a"].id, world.departments["b"].id}


def test_unknown_filters_answer_404(system_session, world):
    for kw in ({"area_id": 999999}, {"department_id": 999999}, {"category_id": 999999}):
        with pytest.raises(NotFound):
            service.resolve(system_session, Principal.system(), SH, **MARCH, **kw)


# -- through the API, with scope ------------------------------------------------------------------------


def _get(client, who: str, path: str, **params):
    return client.get(path, params={"start": "2026-03-01", "end": "2026-03-31", **params}, headers=login(client, who))


def test_community_a_cannot_get_community_b(client, world):
    r = _get(client, "leader_a", "/api/v1/indicators", area_id=world.community_b.id)
    assert r.status_code == 404, r.text
    r = _get(client, "leader_a", "/api/v1/indicators", area_id=world.grids["b1"].id)
    assert r.status_code == 404
    r = _get(client, "leader_a", "/api/v1/indicators", department_id=world.departments["b"].id)
    assert r.status_code == 404
    own = _get(client, "leader_a", "/api/v1/indicators", area_id=world.community_a.id)
    assert own.status_code == 200 and figures_of(own.json()) == COMMUNITY_A
    whole = _get(client, "leader_a", "/api/v1/indicators")  # no area: everything they may see, i.e. A
    assert figures_of(whole.json()) == COMMUNITY_A


def test_department_staff_see_their_department(client, world):
    r = _get(client, "handler_a", "/api/v1/indicators")
    assert r.status_code == 200 and figures_of(r.json()) == DEPARTMENT_A
    assert _get(client, "handler_a", "/api/v1/indicators", department_id=world.departments["b"].id).status_code == 404
    assert _get(client, "handler_a", "/api/v1/indicators", area_id=world.community_a.id).status_code == 404


def test_drill_down_lists_exactly_the_counted_cases(client, world):
    cases = world.extra["cases"]
    out = _get(client, "leader_a", "/api/v1/indicators", area_id=world.community_a.id).json()
    closure = next(f for f in out["figures"] if f["name"] == "closure_rate")
    h = login(client, "leader_a")
    numerator = client.get(closure["cases_url"], headers=h).json()
    assert {c["id"] for c in numerator["items"]} == {cases[k].id for k in ("c7", "c8", "c9", "c10")}
    denominator = client.get(closure["denominator_cases_url"], headers=h).json()
    assert denominator["total"] == closure["denominator"] == 6
    reported = next(f for f in out["figures"] if f["name"] == "reported")
    assert reported["denominator_cases_url"] is None
    assert client.get(reported["cases_url"], headers=h).json()["total"] == 11
    assert client.get("/api/v1/indicators/nonsense/cases", headers=h).status_code == 404


def test_trend_and_ranking_endpoints(client, world):
    trend = _get(client, "admin", "/api/v1/indicators/trend", bucket="month").json()
    assert [p["values"]["reported"] for p in trend["points"]] == [12]
    ranking = _get(client, "leader_a", "/api/v1/indicators/ranking", level="community").json()
    assert [r["code"] for r in ranking["items"]] == [world.community_a.code]  # B is not theirs to see
    everyone = _get(client, "admin", "/api/v1/indicators/ranking", level="community").json()
    assert len(everyone["items"]) == 2


def test_weights_need_the_configure_permission_over_the_city(client, world, system_session):
    add_user(system_session, "admin_a", world.community_a, [("admin", world.community_a)])
    system_session.commit()
    body = {"weights": {"satisfaction_rate": 50}}
    for who in ("leader_a", "admin_a"):
        assert client.put("/api/v1/indicators/weights", json=body, headers=login(client, who)).status_code == 403
    r = client.put("/api/v1/indicators/weights", json=body, headers=login(client, "admin"))
    assert r.status_code == 200 and r.json()["weights"]["satisfaction_rate"] == 50
    assert client.get("/api/v1/indicators/weights", headers=login(client, "leader_a")).json()["weights"][
        "satisfaction_rate"] == 50
