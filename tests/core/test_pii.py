"""Personal data: encryption at rest, masking, blind-index search, key rotation, audited reveal."""

import base64
import secrets

import pytest
from sqlalchemy import select, text

from shiyu.core import pii
from shiyu.core.audit import AuditEntry
from shiyu.core.rotation import rotate_all
from shiyu.core.scoping import Principal
from shiyu.org.identity.models import User
from tests.factories import login, populated


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def test_round_trip_and_ciphertext_at_rest(system_session, factory):
    w = populated(system_session)
    raw = system_session.execute(
        text("SELECT full_name, phone FROM user_account WHERE id = :i"), {"i": w.users["leader_a"].id}
    ).one()
    assert "张三丰" not in raw[0] and "13812345678" not in raw[1]
    assert raw[0].startswith("k1:") and raw[0] != raw[1]
    with factory() as s:
        s.info["principal"] = Principal.system()
        u = s.get(User, w.users["leader_a"].id)
        assert (u.full_name, u.phone) == ("张三丰", "13812345678")


def test_same_value_encrypts_differently_but_hashes_equal(settings):
    ring = pii.keyring()
    assert ring.encrypt("13812345678") != ring.encrypt("13812345678")
    assert pii.blind_hash("phone", "138 1234 5678") == pii.blind_hash("phone", "+8613812345678")


@pytest.mark.parametrize(
    "kind, value, masked",
    [
        ("name", "张三", "张*"),
        ("name", "张三丰", "张*丰"),
        ("name", "欧阳娜娜", "欧**娜"),
        ("id_number", "350203199001011234", "3502**********1234"),
        ("phone", "13812345678", "138****5678"),
        ("address", "思明区湖滨南路100号3单元", "思明区湖滨南****"),
    ],
)
def test_masking(kind, value, masked):
    assert pii.mask(kind, value) == masked


def test_search_by_keyed_hash_through_api(client, system_session):
    populated(system_session)
    h = login(client, "admin")
    r = client.get("/api/v1/users", params={"phone": "138-1234-5678"}, headers=h)
    assert [u["username"] for u in r.json()["items"]] == ["leader_a"]
    assert r.json()["items"][0]["phone"] == "138****5678"


def test_key_rotation(system_session, factory, settings):
    w = populated(system_session)
    uid = w.users["leader_a"].id
    pii.configure(f"k2:{_key()},{settings.pii_keys}", None, settings.secret_key)
    result = rotate_all(factory)
    assert result["user_account"] >= 3
    stored = system_session.execute(text("SELECT phone FROM user_account WHERE id = :i"), {"i": uid}).scalar_one()
    assert stored.startswith("k2:")
    assert rotate_all(factory)["user_account"] == 0  # nothing left under the old key
    only_new = pii.keyring()
    pii.configure(f"k2:{base64.b64encode(only_new.keys['k2']).decode()}", None, settings.secret_key)
    with factory() as s:
        s.info["principal"] = Principal.system()
        assert s.get(User, uid).phone == "13812345678"


def test_unknown_key_id_is_a_clear_error(system_session, settings):
    populated(system_session)
    pii.configure(f"k9:{_key()}", None, settings.secret_key)
    with pytest.raises(KeyError, match="k1"):
        system_session.execute(select(User.phone)).all()


def test_reveal_needs_permission_reason_and_is_audited(client, system_session, factory):
    w = populated(system_session)
    target = w.users["worker_a1"].id
    worker = login(client, "worker_b1")
    assert client.post(f"/api/v1/users/{target}/reveal", json={"field": "phone", "reason": "核实身份信息"},
                       headers=worker).status_code == 404
    leader = login(client, "leader_a")
    r = client.post(f"/api/v1/users/{target}/reveal", json={"field": "phone", "reason": "短"}, headers=leader)
    assert r.status_code == 422
    r = client.post(f"/api/v1/users/{target}/reveal", json={"field": "phone", "reason": "回访核实联系方式"},
                    headers=leader)
    assert r.status_code == 200 and r.json()["value"] == "13700001111"
    leader_b = login(client, "leader_b")
    assert client.post(f"/api/v1/users/{target}/reveal", json={"field": "phone", "reason": "回访核实联系方式"},
                       headers=leader_b).status_code == 404
    with factory() as s:
        s.info["principal"] = Principal.system()
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "reveal")).all()
    assert len(entries) == 1
    assert entries[0].actor_name == "leader_a" and entries[0].reason == "回访核实联系方式"
    assert entries[0].object_id == str(target) and entries[0].after == {"field": "phone"}


def test_reveal_denied_without_pii_permission(client, system_session):
    w = populated(system_session)
    h = login(client, "worker_a1")
    r = client.post(f"/api/v1/users/{w.users['worker_a1'].id}/reveal",
                    json={"field": "phone", "reason": "查看本人信息"}, headers=h)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
