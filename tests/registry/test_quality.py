"""The data-quality dashboard: per grid and per worker, the gaps (missing phone, floating without permit,
rented without landlord), records not confirmed for 12 months, and possible duplicates (two active persons
sharing an ID number); a grid worker sees only their grids. The counts are made by ``quality.refresh`` (the
worker's periodic job) and read per view; the page says when they were made."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from shiyu.core.scoping import Principal
from shiyu.core.timeutil import utcnow
from shiyu.org.identity.models import User
from shiyu.registry import quality
from shiyu.registry.models import House, Person
from tests.factories import login, populated
from tests.registry.registry_fixtures import POINT_B1, id_number, member, registered_family
from tests.web.test_pages import log_in


def test_counts_per_grid_and_worker(client, system_session):
    w = populated(system_session)
    twin = id_number()
    a = registered_family(system_session, w, "worker_a1", "operator_a", members=[
        member("陈明", residence_type="流动"), member("林红", "配偶", phone="", id_number=twin)])
    registered_family(system_session, w, "worker_b1", "leader_b", point=POINT_B1, road="乙社区花园",
                      members=[member("赵六", id_number=twin)])
    long_ago = utcnow() - timedelta(days=400)
    system_session.execute(update(Person).where(Person.id == a["persons"][0])
                           .values(confirmed_at=long_ago, created_at=long_ago))
    system_session.execute(update(House).where(House.id == a["house"]).values(use="rented"))
    system_session.get(User, w.users["worker_b1"].id).full_name = "郑晓明"  # shown masked, as colleagues see it
    system_session.commit()
    log_in(client, "worker_a1")
    assert "尚未统计" in client.get("/registry/quality").text  # before the first count: said, not zeros
    assert quality.refresh(system_session) == 2
    system_session.commit()

    admin = client.get("/api/v1/registry/quality", headers=login(client, "admin")).json()
    rows = {r["grid_id"]: r for r in admin["grids"]}
    ga, gb = rows[w.grids["a1"].id], rows[w.grids["b1"].id]
    assert (ga["persons"], ga["no_phone"], ga["floating_no_permit"], ga["persons_stale"]) == (2, 1, 1, 1)
    assert (ga["houses"], ga["rented_no_landlord"], ga["rented_not_filed"]) == (1, 1, 1)
    assert ga["duplicates"] == 1 and gb["duplicates"] == 1 and admin["total"]["duplicates"] == 2
    assert ga["workers"] == ["王*明"] and ga["persons_complete"] == 80.0  # 2 of 10 checks fail
    assert {r["worker"] for r in admin["workers"]} == {"王*明", "郑*明"}

    mine = client.get("/api/v1/registry/quality", headers=login(client, "worker_a1")).json()
    assert [r["grid_id"] for r in mine["grids"]] == [w.grids["a1"].id]
    assert mine["grids"][0]["duplicates"] == 0  # the twin lies in a grid the worker cannot see
    page = client.get("/registry/quality")
    assert page.status_code == 200 and "数据质量" in page.text and "王*明" in page.text and "统计于" in page.text
    assert "乙社区" not in page.text and "陈明" not in page.text


def test_a_twin_counts_for_whoever_sees_both_and_the_counts_follow_the_registers(client, system_session):
    """Two persons sharing an ID number in two grids of one community (an extract imported twice, say): the
    community's operator counts both as possible duplicates, the grid worker who sees one of them counts
    none (the twin is outside their grid). A person who moves out leaves the counts at the next refresh."""
    w = populated(system_session)
    a = registered_family(system_session, w, "worker_a1", "operator_a", members=[member("陈明")])
    b = registered_family(system_session, w, "operator_a", "leader_a", point={"lon": 117.95, "lat": 24.45},
                          road="甲社区二区", members=[member("陈明")])
    first = system_session.get(Person, a["persons"][0])
    system_session.execute(update(Person).where(Person.id == b["persons"][0])
                           .values(id_number_hash=first.id_number_hash))
    system_session.commit()
    quality.refresh(system_session)
    system_session.commit()
    community = client.get("/api/v1/registry/quality", headers=login(client, "operator_a")).json()
    assert community["total"]["duplicates"] == 2 and community["computed_at"]
    worker = client.get("/api/v1/registry/quality", headers=login(client, "worker_a1")).json()
    assert worker["total"]["duplicates"] == 0 and worker["total"]["persons"] == 1
    system_session.execute(update(Person).where(Person.id == b["persons"][0]).values(status="moved_out"))
    system_session.commit()
    assert client.get("/api/v1/registry/quality", headers=login(client, "operator_a")).json()["total"][
        "duplicates"] == 2  # until the next count
    quality.refresh(system_session)
    system_session.commit()
    after = client.get("/api/v1/registry/quality", headers=login(client, "operator_a")).json()
    assert after["total"]["duplicates"] == 0 and after["total"]["persons"] == 1


def test_two_counts_at_once_both_succeed(factory, system_session, db_url):
    """Two workers' quarter-hour ticks at the same moment: the second waits for the first and replaces its rows
    (before, on PostgreSQL, it failed on the primary key)."""
    import threading

    from shiyu.registry.models import QualityGrid

    w = populated(system_session)
    registered_family(system_session, w, "worker_a1", "operator_a", members=[member("陈明")])
    system_session.commit()
    first = factory()
    first.info["principal"] = Principal.system("test")
    assert quality.refresh(first) == 1  # not committed yet: the second count must wait or write beside it
    errors: list[BaseException] = []

    def second() -> None:
        with factory() as s:
            s.info["principal"] = Principal.system("test")
            try:
                quality.refresh(s)
                s.commit()
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

    other = threading.Thread(target=second)
    other.start()
    other.join(timeout=1 if db_url.startswith("postgresql") else 0.1)
    first.commit()
    first.close()
    other.join(timeout=30)
    assert not other.is_alive() and not errors
    with factory() as s:
        s.info["principal"] = Principal.system("test")
        assert len(s.scalars(select(QualityGrid)).all()) == 1
