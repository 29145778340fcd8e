from tests.factories import login, populated


def test_login_and_me(client, system_session):
    populated(system_session)
    h = login(client, "leader_a")
    r = client.get("/api/v1/auth/me", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["username"] == "leader_a"
    assert body["full_name"] == "张*丰"
    assert body["phone"] == "138****5678"


def test_users_list_is_scoped(client, system_session):
    populated(system_session)
    h = login(client, "leader_a")
    names = {u["username"] for u in client.get("/api/v1/users", headers=h).json()["items"]}
    assert "leader_b" not in names and "worker_b1" not in names
    assert {"leader_a", "worker_a1", "operator_a"} <= names
