"""The register pages: the browser down to a house, the person profile (masked, audited reveal), the review
queue and the new-family form; another grid's house or person is a 404 page."""

from __future__ import annotations

import re

from tests.factories import populated
from tests.registry.registry_fixtures import POINT_B1, member, registered_family
from tests.web.test_pages import hx, log_in


def _world(system_session):
    w = populated(system_session)
    a = registered_family(system_session, w, "worker_a1", "operator_a")
    b = registered_family(system_session, w, "worker_b1", "leader_b", point=POINT_B1, road="乙社区花园")
    system_session.commit()
    return w, a, b


def test_browse_from_the_grid_to_a_resident_and_reveal(client, system_session):
    w, a, b = _world(system_session)
    csrf = log_in(client, "worker_a1")
    grid = client.get(f"/registry?area={w.grids['a1'].id}")
    assert grid.status_code == 200 and "幸福小区 3栋 2单元 501" in grid.text
    house = client.get(f"/registry/houses/{a['house']}")
    assert house.status_code == 200 and "张*" in house.text and "张伟" not in house.text
    person = client.get(f"/registry/persons/{a['persons'][0]}")
    assert person.status_code == 200 and "3502" in person.text and "公安备注" not in person.text
    revealed = client.post(f"/registry/persons/{a['persons'][0]}/reveal",
                           data={"field": "name", "reason": "入户核实身份"}, headers=hx(csrf))
    assert revealed.status_code == 200 and "张伟" in revealed.text
    for path in (f"/registry/houses/{b['house']}", f"/registry/persons/{b['persons'][0]}"):
        refused = client.get(path)
        assert refused.status_code == 404 and "乙社区花园" not in refused.text
    assert "乙社区" not in client.get("/registry").text


def test_a_family_through_the_pages(client, system_session):
    w = populated(system_session)
    csrf = log_in(client, "worker_a1")
    form = client.get("/registry/changes/new")
    assert form.status_code == 200 and "甲社区第一网格" in form.text and "乙社区" not in form.text
    head, spouse = member("陈明"), member("林红", "配偶")
    data = {"csrf_token": csrf, "grid_id": str(w.grids["a1"].id), "road": "和平里", "building_no": "2",
            "unit_no": "1", "room_no": "302", "use": "rented",
            "m0_name": head["name"], "m0_id_number": head["id_number"], "m0_relation": "户主",
            "m0_residence_type": "floating", "m1_name": spouse["name"], "m1_id_number": "350203198001010010",
            "m1_relation": "配偶", "m1_residence_type": "registered"}
    bad = client.post("/registry/changes/new", data=data)
    assert bad.status_code == 422 and "校验位" in bad.text
    data["m1_id_number"] = spouse["id_number"]
    sent = client.post("/registry/changes/new", data=data, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    queue = client.get("/registry/changes?status=submitted")
    assert "陈*" in queue.text and "陈明" not in queue.text
    change_id = re.search(r'id="change-(\d+)"', queue.text).group(1)
    client.cookies.clear()
    csrf = log_in(client, "operator_a")
    for verb in ("review", "accept"):
        r = client.post(f"/registry/changes/{change_id}/{verb}", data={"csrf_token": csrf}, follow_redirects=False)
        assert r.status_code == 303, r.text
    assert "陈*" in client.get("/registry/changes?status=accepted").text
