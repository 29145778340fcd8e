"""The field app's 采集 page: only the worker's grids and residents (masked), the read audited; a move-out
sent from it (as the queue sends it, with a client key) is one change record however often it is resent."""

from __future__ import annotations

from tests.factories import login, populated
from tests.registry.registry_fixtures import POINT_B1, registered_family
from tests.web.test_pages import log_in


def test_the_register_page_and_a_resent_move_out(client, system_session):
    w = populated(system_session)
    a = registered_family(system_session, w, "worker_a1", "operator_a")
    registered_family(system_session, w, "worker_b1", "leader_b", point=POINT_B1, road="乙社区花园")
    system_session.commit()
    log_in(client, "worker_a1")
    page = client.get("/field/register")
    assert page.status_code == 200
    assert f'<option value="{w.grids["a1"].id}">' in page.text and f'value="{w.grids["b1"].id}"' not in page.text
    assert "张*" in page.text and "张伟" not in page.text and "乙社区花园" not in page.text
    assert 'data-tab="register"' in page.text and "data-id-number" in page.text
    h = login(client, "worker_a1")
    body = {"entity": "person", "action": "move_out", "target_id": a["persons"][0], "data": {"on": "2026-11-30"},
            "client_key": "field-registry-0123456789abcdef01234567"}
    first = client.post("/api/v1/registry/changes", json=body, headers=h)
    again = client.post("/api/v1/registry/changes", json=body, headers=h)
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    log_in(client, "leader_b")  # a centre leader: no field app
    assert client.get("/field/register").status_code == 403
