"""The data-quality dashboard: per grid and per worker, the gaps (missing phone, floating without permit,
rented without landlord), records not confirmed for 12 months, and possible duplicates (two active persons
sharing an ID number); a grid worker sees only their grids."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from shiyu.core.timeutil import utcnow
from shiyu.org.identity.models import User
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
    log_in(client, "worker_a1")
    page = client.get("/registry/quality")
    assert page.status_code == 200 and "数据质量" in page.text and "王*明" in page.text
    assert "乙社区" not in page.text and "陈明" not in page.text
