"""Run the platform with the example domain added — one more entry in the domain list, nothing else — and
walk what the declaration promises: its API is mounted and scoped, its table exists, its permissions reach
the roles, its navigation entry and catalogue texts are there, its periodic job is on the worker's queue.

Run in a process of its own by tests/test_domains.py (``python -m tests.example_domain.walk``): prints one
line per check and exits non-zero on the first that fails.
"""

from __future__ import annotations

import base64
import secrets
import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from shiyu import domains
from shiyu.app import create_app
from shiyu.core.config import Settings
from shiyu.core.db import Base, make_engine, make_session_factory
from shiyu.core.jobs import build_queue
from shiyu.core.scoping import Principal
from shiyu.org.identity.service import principal_for
from shiyu.web import nav
from shiyu.web.i18n import translate
from tests.example_domain.declaration import DOMAIN as NOTICES
from tests.factories import login, populated

WITH_EXAMPLE = (*domains.DOMAINS, NOTICES)


def check(what: str, ok: bool) -> None:
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        sys.exit(1)


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="shiyu-example-"))
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    settings = Settings(database_url=f"sqlite:///{tmp}/example.db", storage_dir=str(tmp / "files"),
                        secret_key=secrets.token_urlsafe(40), pii_keys=f"k1:{key}", password_time_cost=1,
                        password_memory_kib=1024, cookie_secure=False, redis_url="")
    app = create_app(settings, with_domains=WITH_EXAMPLE)  # installs and configures the domains
    engine = make_engine(settings.database_url)
    Base.metadata.create_all(engine)
    check("its table is in the schema", "example_notice" in Base.metadata.tables)
    factory = make_session_factory(engine)
    with factory() as s:
        s.info["principal"] = Principal.system("example")
        world = populated(s)
        grid = world.grids["a1"]
        worker = principal_for(world.users["worker_a1"])
    with TestClient(app) as client:
        a1, b1, leader = login(client, "worker_a1"), login(client, "worker_b1"), login(client, "leader_a")
        posted = client.post("/api/v1/notices", json={"area_id": grid.id, "title": "周六停水"}, headers=a1)
        check("its API is mounted and a grid worker may post (role permissions)", posted.status_code == 201)
        mine = client.get("/api/v1/notices", headers=a1).json()
        check("the poster sees the notice", [n["title"] for n in mine] == ["周六停水"])
        check("another grid's worker does not (scoped)", client.get("/api/v1/notices", headers=b1).json() == [])
        check("the leader above sees it", len(client.get("/api/v1/notices", headers=leader).json()) == 1)
        refused = client.post("/api/v1/notices", json={"area_id": grid.id, "title": "x"}, headers=leader)
        check("the leader may not post (no notice.post)", refused.status_code == 403)
        check("its routes are in the OpenAPI document", "/api/v1/notices" in app.openapi()["paths"])
    keys = [e.key for section in nav.entries_for(worker).values() for e in section]
    check("its navigation entry is shown to whom it concerns", "notices" in keys)
    check("its catalogue texts are merged in", translate("zh", "nav.notices") == "网格通知"
          and translate("en", "nav.notices") == "Notices")
    check("its permissions are declared once", domains.permissions(WITH_EXAMPLE)["notice.post"] == "发布网格通知")
    queue = build_queue(settings, configure=lambda s: domains.configure(s, WITH_EXAMPLE))
    name = "tests.example_domain.tasks.expire_notices"
    check("its periodic job is on the worker's queue", name in queue.tasks)
    from tests.example_domain.tasks import expire_notices

    check("and runs", expire_notices(queue.context()) == 1 and expire_notices(queue.context()) == 0)
    app.state.engine.dispose()
    engine.dispose()


if __name__ == "__main__":
    main()
