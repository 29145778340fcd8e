"""The registers on the one map: buildings, units and components as points under the area looked at, in the
caller's scope, without personal data; the layer switches only for roles that see the registers."""

from __future__ import annotations

from shiyu.core.scoping import Principal
from shiyu.registry.models import Address, Unit
from tests.factories import populated
from tests.registry.registry_fixtures import POINT_B1, registered_family
from tests.web.test_pages import log_in


def test_points_in_scope_without_personal_data(client, system_session):
    w = populated(system_session)
    a = registered_family(system_session, w, "worker_a1", "operator_a")
    registered_family(system_session, w, "worker_b1", "leader_b", point=POINT_B1, road="乙社区花园")
    system_session.info["principal"] = Principal.system("test")
    address = system_session.query(Address).first()
    system_session.add(Unit(name="甲社区便利店", credit_code=None, grid_id=w.grids["a1"].id,
                            area_path=w.grids["a1"].area_path, address_id=address.id, legal_rep_name="王老板"))
    system_session.commit()
    log_in(client, "leader_a")
    r = client.get(f"/registry/map.geojson?area={w.community_a.id}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    features = r.json()["features"]
    assert {f["properties"]["layer"] for f in features} == {"building", "unit"}
    building = next(f for f in features if f["properties"]["layer"] == "building")
    assert building["properties"]["houses"] == 1 and building["geometry"]["type"] == "Point"
    assert "张伟" not in r.text and "王老板" not in r.text and "乙社区" not in r.text
    assert client.get(f"/registry/map.geojson?area={w.community_b.id}").status_code == 404
    assert 'data-registry-layer="building"' in client.get("/command").text
    log_in(client, "auditor")  # the command view, not the registers
    assert client.get(f"/registry/map.geojson?area={w.community_a.id}").status_code == 403
    command = client.get("/command")
    assert command.status_code == 200 and "data-registry-layer" not in command.text
    assert a["house"]
