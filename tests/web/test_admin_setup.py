"""The administrator's setup pages through TestClient (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.web.test_pages import hx, log_in
from tests.web.test_pages import world  # noqa: F401  (the fixture)


def test_a_form_without_a_picked_area_says_so_in_the_readers_language(client, world):
    csrf = log_in(client, "admin")
    data = {"username": "no_area", "password": "Longenough1", "home_area_id": ""}
    r = client.post("/admin/users/new", data=data, headers=hx(csrf))
    assert r.status_code == 422 and 'id="err-home_area_id">请从列表中选择区域<' in r.text
    r = client.post("/admin/users/new?lang=en", data=data, headers=hx(csrf))
    assert 'id="err-home_area_id">Choose an area from the list<' in r.text
    r = client.post("/admin/users/new?lang=zh", data=data | {"home_area_id": str(world.grids["a1"].id), "username": "ab"},
                    headers=hx(csrf))
    assert r.status_code == 422 and 'id="err-username">至少 3 个字<' in r.text
